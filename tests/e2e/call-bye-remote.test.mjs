// @ts-check
// An established call that the far end ends: alice dials bob, they talk (the browser hears bob's
// tone), bob hangs up — Ferrophone gets the BYE, answers 200, the call ends with `remote-hangup`
// and the offscreen document (microphone, peer connection) closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { FAR_HZ, connectBob, hearsTone, startPhone, overWebSocket } from './calls.mjs';

test('the far end hangs up an established call: remote-hangup, media closed', async (t) => {
  const phone = await startPhone(t, 'call-bye-remote');
  const bob = await connectBob(t);
  const bobFrom = bob.events.length;

  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  await hearsTone(phone, call.id, FAR_HZ, { forMs: 1000 });
  const media = await phone.mediaCalls();
  assert.equal(media.liveMicrophoneTracks, 1, 'the microphone is open during the call');

  const byeAt = Date.now();
  assert.ok((await bob.hangup()).ok, 'bob hangs up');
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'remote-hangup');
  phone.ext.note(`ended ${ended.at - byeAt} ms after bob's hangup`);
  assert.deepEqual(await phone.calls(), []);
  const hangup = await phone.raw('hangup', { id: call.id });
  assert.equal(hangup.ok, false, `hanging up the ended call is refused: ${JSON.stringify(hangup)}`);

  const docClosed = await poll(async () => phone.ext.offscreenEvents.find((e) => e.event === 'closed' && e.at >= byeAt),
    { timeoutMs: 5000 });
  assert.ok(docClosed, `the offscreen document closes: ${JSON.stringify(phone.ext.offscreenEvents)}`);
  phone.ext.note(`offscreen document closed ${docClosed.at - byeAt} ms after bob's hangup`);

  // bob's BYE reached us and we answered it 200; we sent no BYE of our own.
  const trace = await readTrace('md5');
  const bye = trace.find((m) => m.tag === 'snd' && m.method === 'BYE' && overWebSocket(m) && m.time >= byeAt - 1000);
  assert.ok(bye, 'Kamailio forwarded bob\'s BYE to us over wss');
  assert.ok(trace.some((m) => m.tag === 'rcv' && m.status === 200 && m.callId === bye.callId && /BYE/.test(m.cseq || '') && overWebSocket(m)),
    'we answered the BYE 200');
  assert.ok(!trace.some((m) => m.tag === 'rcv' && m.method === 'BYE' && m.callId === bye.callId && overWebSocket(m)),
    'we sent no BYE of our own');
  assert.ok(await poll(async () => (await bob.listCalls()).length === 0, { timeoutMs: 3000 }), 'bob has no call left');
});
