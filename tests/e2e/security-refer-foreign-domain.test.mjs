// @ts-check
// The far end of an answered call cannot send us to a target outside the account's domain
// (docs/SECURITY.md, trust model). A sipp "trunk" calls alice; the user answers (`answer`); the
// trunk then sends an in-dialog `REFER` with `Refer-To: <sip:listener@evil.example>`. sipp checks
// that it gets 403 (not 202), then hangs up. The spec checks that Ferrophone placed no call: no
// outgoing call event, no INVITE from us at Kamailio, nothing toward evil.example anywhere, and
// the answered call stayed up until the trunk's BYE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrace } from './lab.mjs';
import { overWebSocket, sippExit, sippMessages, startPhone, startSipp } from './calls.mjs';

const BEFORE_REFER_MS = 1500;

test('a REFER toward a foreign domain on an answered call is refused and places no call', async (t) => {
  const phone = await startPhone(t, 'security-refer-foreign-domain');
  const startedAt = Date.now();
  const trunk = await startSipp(t, 'trunk-refer-foreign', 'uac_refer_refused.xml', [
    '127.0.0.1:5060', '-s', 'alice', '-key', 'target', 'listener@evil.example', '-i', '127.0.0.1', '-p', '5070',
    '-mi', '127.0.0.1', '-mp', '32100', '-ci', '127.0.0.1', '-cp', '8891', '-m', '1', '-d', String(BEFORE_REFER_MS),
    '-nostdin', '-timeout', '30', '-timeout_error',
  ]);
  const ringing = await phone.waitCall(null, (c) => c.direction === 'incoming' && c.state === 'ringing',
    { timeoutMs: 10000, what: "the trunk's call ringing" });
  const id = ringing.call.id;
  await phone.cmd('answer', { id });
  await phone.waitCall(id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'the call answered' });

  const code = await sippExit(trunk, 20000);
  assert.equal(code, 0, `sipp: the REFER got 403, then BYE → 200 (${trunk.output().slice(-1500)})`);
  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'the call ended' });
  assert.equal(ended.call.endReason, 'remote-hangup', 'the call stayed up until the trunk hung up');

  const log = await sippMessages(trunk);
  assert.match(log, /^SIP\/2\.0 403 [^\r\n]*\r?\n[\s\S]*?^CSeq: *2 REFER/m, 'the REFER was answered 403');
  assert.match(log, /^Warning: 399 ferrophone "transfer target outside the account's domain"/m, 'the refusal says why');
  assert.doesNotMatch(log, /^SIP\/2\.0 202 /m, 'never 202 Accepted');

  const events = (await phone.events()).filter((e) => e.at >= startedAt);
  assert.ok(events.every((e) => e.call.id === id), `no other call: ${JSON.stringify([...new Set(events.map((e) => e.call.id))])}`);
  const trace = await readTrace('md5');
  const fromUs = trace.filter((m) => m.tag === 'rcv' && overWebSocket(m) && m.method === 'INVITE' && m.time >= startedAt);
  assert.deepEqual(fromUs.map((m) => m.firstLine), [], 'Kamailio received no INVITE from us');
  assert.ok(!trace.some((m) => m.time >= startedAt && /evil\.example/.test(m.firstLine)), 'no request toward evil.example');
  phone.ext.note(`REFER → 403; calls seen: ${[...new Set(events.map((e) => e.call.id))].length}; INVITEs from us: ${fromUs.length}`);
});
