// @ts-check
// A callee cannot obtain a digest of the user's password for a realm of its choosing
// (docs/SECURITY.md, trust model). carol (sipp, registered through Kamailio) answers alice's INVITE
// with `407 Proxy-Authenticate: Digest realm="evil.example"`. Kamailio's own challenge (realm
// 127.0.0.1, the registrar's) is answered as usual; carol's is not: no INVITE with credentials for
// evil.example leaves the browser, carol sees no second INVITE (sipp waits 3 s for one and fails if
// it comes), and the call ends with `endReason: "untrusted-realm"`, logged with the realm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrace } from './lab.mjs';
import { overWebSocket, registerSippPhone, sippExit, sippMessages, startPhone, startSipp } from './calls.mjs';

test('a 407 for a foreign realm gets no credentials; the call ends untrusted-realm', async (t) => {
  await registerSippPhone('carol', 5064, 8889);
  const carol = await startSipp(t, 'carol-fishing', 'uas_challenge_foreign_realm.xml', [
    '-s', 'carol', '-i', '127.0.0.1', '-p', '5064', '-ci', '127.0.0.1', '-cp', '8890', '-m', '1',
    '-nostdin', '-timeout', '30', '-timeout_error', '-trace_err', '-error_file', 'tests/lab/logs/sipp-carol-fishing.err',
  ]);
  const phone = await startPhone(t, 'security-digest-foreign-realm');
  const dialedAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'carol' });
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 10000, what: 'the call ended' });
  assert.equal(ended.call.endReason, 'untrusted-realm');
  const code = await sippExit(carol, 10000);
  assert.equal(code, 0, `carol saw one INVITE, sent 407, got the ACK and no second INVITE (${carol.output().slice(-1500)})`);
  const carolLog = await sippMessages(carol);
  assert.equal([...carolLog.matchAll(/^INVITE sip:/gm)].length, 1, 'carol received exactly one INVITE');
  assert.doesNotMatch(carolLog, /^(Proxy-)?Authorization:/im, 'no credentials of any kind reached carol');

  const trace = await readTrace('md5');
  const ours = trace.filter((m) => m.tag === 'rcv' && overWebSocket(m) && m.method === 'INVITE' && m.time >= dialedAt - 1000);
  const realms = ours.map((m) => /realm="([^"]*)"/.exec(m.headers('proxy-authorization')[0] || '')?.[1] || '(none)');
  phone.ext.note(`our INVITEs at Kamailio, by Proxy-Authorization realm: ${realms.join(', ')}`);
  assert.deepEqual(realms, ['(none)', '127.0.0.1'], "the first INVITE, then the answer to the registrar's challenge; nothing for evil.example");
  const relayed = trace.find((m) => m.tag === 'snd' && overWebSocket(m) && m.status === 407 && /evil\.example/.test(m.text));
  assert.ok(relayed, "carol's 407 for evil.example reached us (so the refusal was ours)");
  assert.ok(!trace.some((m) => /^Proxy-Authorization:[^\r\n]*realm="evil\.example"/im.test(m.text)), 'no digest for evil.example anywhere');
  assert.ok(phone.ext.lines.some((l) => l.includes('not a trusted realm') && l.includes('evil.example')), 'the refusal is logged with the realm');
});
