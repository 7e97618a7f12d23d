// @ts-check
// A wrong password: the options page says "authentication failed" and never "registered" (every
// text the status line shows is recorded), the registrar holds nothing, and the server saw exactly
// two REGISTERs from us in 15 s — the first, and one answer to the challenge — not a retry loop that
// could lock the account.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchExtension, poll, sleep } from './harness.mjs';
import {
  SERVERS, contacts, diagnostics, readTrace, recordStatusLines, registerCallIds, registersOf, resetAor, saveAccount,
  waitStatus,
} from './lab.mjs';

const WINDOW_MS = 15000;

test('a wrong password shows "authentication failed" after exactly one answered challenge', async (t) => {
  await resetAor('alice');
  const ext = await launchExtension('registration-auth-failed');
  t.after(() => ext.close());
  const page = await ext.options();
  const statusLines = await recordStatusLines(page);

  await saveAccount(page, { server: SERVERS.md5Wss, username: 'alice', password: `wrong-${randomUUID()}` });
  const shown = await waitStatus(page, /^authentication failed/, 15000);
  ext.note(`status line: ${shown}`);
  await ext.screenshot(page, 'auth-failed');

  const diag = await diagnostics(ext);
  assert.equal(diag.ua.status.registration.state, 'auth-failed');
  const callIds = registerCallIds(diag);
  assert.equal(callIds.length, 1, `our REGISTERs use one Call-ID: ${callIds}`);
  const [callId] = callIds;
  const instance = `<urn:uuid:${diag.ua.instanceId}>`;

  // Count for 15 s from our first REGISTER as the server saw it.
  const first = await poll(async () => registersOf(await readTrace('md5'), callId)[0], { timeoutMs: 5000 });
  assert.ok(first, 'the server trace has our REGISTER');
  const wait = first.request.time + WINDOW_MS - Date.now();
  ext.note(`waiting ${wait} ms, until 15 s after our first REGISTER`);
  if (wait > 0) await sleep(wait);

  const trace = await readTrace('md5');
  const registers = registersOf(trace, callId);
  ext.note(`REGISTERs with Call-ID ${callId} within 15 s: ${registers.map((r) => `CSeq ${r.request.cseq} → ${r.response?.firstLine}`).join(', ')}`);
  assert.equal(registers.length, 2, 'exactly 2 REGISTERs from us: the first and one answer to the challenge');
  assert.deepEqual(registers.map((r) => r.response?.status), [401, 401], 'both refused');
  assert.equal(registers[0].request.headers('authorization').length, 0);
  assert.equal(registers[1].request.headers('authorization').length, 1, 'the second one answered the challenge');
  const ours = trace.filter((m) => m.tag === 'rcv' && m.method === 'REGISTER' && m.text.includes(instance));
  assert.equal(ours.length, 2, 'no REGISTER from our instance under another Call-ID either');

  assert.deepEqual(await contacts('alice'), [], 'the registrar holds nothing for alice');
  const seen = await statusLines();
  ext.note(`status lines seen: ${JSON.stringify(seen)}`);
  assert.ok(!seen.some((s) => /^registered/.test(s || '')), 'the page never said "registered"');
  assert.match(seen[seen.length - 1] || '', /^authentication failed — 401 Unauthorized/, 'and still says "authentication failed" with the reason');
});
