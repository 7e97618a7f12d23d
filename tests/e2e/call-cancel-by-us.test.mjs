// @ts-check
// alice calls carol, a far end that rings and never answers (sipp uas_cancel.xml, registered as
// carol), and hangs up while it rings: Ferrophone sends CANCEL, carol answers 200 (CANCEL) and
// 487 (INVITE), gets the ACK — sipp's scenario completes (exit status 0) — and our call ends with
// `cancelled`, leaving no call and no media document behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { registerSippPhone, sippExit, sippMessages, startPhone, startSipp, overWebSocket } from './calls.mjs';

test('hanging up while the far end rings sends CANCEL and ends the call as cancelled', async (t) => {
  await registerSippPhone('carol', 5064, 8889);
  const carol = await startSipp(t, 'carol', 'uas_ring_cancel.xml', [
    '-s', 'carol', '-i', '127.0.0.1', '-p', '5064', '-ci', '127.0.0.1', '-cp', '8890',
    '-m', '1', '-nostdin', '-timeout', '30', '-timeout_error',
  ]);
  const phone = await startPhone(t, 'call-cancel-by-us');

  const { call } = await phone.cmd('dial', { target: 'carol' });
  await phone.waitCall(call.id, (c) => c.state === 'ringing', { timeoutMs: 10000, what: 'ringing (180 from carol)' });
  assert.equal(carol.exitCode(), undefined, `carol is still ringing (sipp runs): ${carol.output().slice(-1000)}`);

  const hungUpAt = Date.now();
  await phone.cmd('hangup', { id: call.id });
  const code = await sippExit(carol, 10000);
  const messages = await sippMessages(carol);
  phone.ext.note(`sipp carol exited with ${code}; messages:\n${messages}`);
  assert.equal(code, 0, `carol's scenario (INVITE → 180, CANCEL → 200 + 487, ACK) completes: ${carol.output().slice(-2000)}`);
  assert.match(messages, /^CANCEL sip:/m, 'carol received a CANCEL');
  assert.match(messages, /^SIP\/2\.0 487 Request Terminated/m, 'carol sent 487');
  assert.match(messages, /^ACK sip:/m, 'carol received the ACK for the 487');

  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'cancelled');
  assert.deepEqual(await phone.calls(), []);

  // The CANCEL came from us over wss; we got the 487 and our ACK for it reached Kamailio.
  const trace = await readTrace('md5');
  const cancel = trace.find((m) => m.tag === 'rcv' && m.method === 'CANCEL' && overWebSocket(m) && m.time >= hungUpAt - 1000);
  assert.ok(cancel, 'Kamailio received our CANCEL over wss');
  const ours = trace.filter((m) => m.callId === cancel.callId);
  phone.ext.note(`trace of ${cancel.callId}:\n${ours.map((m) => `${m.tag} ${m.proto} ${m.srcPort}->${m.dstPort} ${m.firstLine}`).join('\n')}`);
  assert.ok(ours.some((m) => m.tag === 'snd' && m.status === 487 && overWebSocket(m)), 'the 487 was relayed to us');
  assert.ok(ours.some((m) => m.tag === 'rcv' && m.method === 'ACK' && overWebSocket(m)), 'we ACKed the 487');
  assert.ok(!ours.some((m) => m.status === 200 && /INVITE/.test(m.cseq || '')), 'no 200 OK for the INVITE anywhere');

  const docClosed = await poll(async () => phone.ext.offscreenEvents.find((e) => e.event === 'closed' && e.at >= hungUpAt),
    { timeoutMs: 5000 });
  assert.ok(docClosed, `the offscreen document closes: ${JSON.stringify(phone.ext.offscreenEvents)}`);
});
