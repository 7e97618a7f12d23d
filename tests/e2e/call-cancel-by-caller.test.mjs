// @ts-check
// bob calls alice and gives up before anyone answers: baresip sends CANCEL, Ferrophone answers
// 200 + 487, the call ends with `cancelled` (never `active`), and the ringtone stops — the
// offscreen document no longer rings for it (or is closed altogether).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { bobCallsAlice, connectBob, startPhone, overWebSocket } from './calls.mjs';

test('the caller hangs up while we ring: the call ends as cancelled and the ringing stops', async (t) => {
  const phone = await startPhone(t, 'call-cancel-by-caller');
  const bob = await connectBob(t);

  const ringing = await bobCallsAlice(phone, bob);
  const { id } = ringing.call;
  const ringtone = await poll(async () => {
    const m = await phone.mediaCalls();
    return m && m.ringtone && m.ringing.includes(id) ? m : null;
  }, { timeoutMs: 5000 });
  assert.ok(ringtone, 'the ringtone plays while the call rings');

  // bob gives up: baresip CANCELs its INVITE.
  const cancelledAt = Date.now();
  assert.ok((await bob.hangup()).ok, 'bob hangs up');
  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'cancelled');
  assert.ok(!(await phone.eventsOf(id)).some((e) => e.call.state === 'active'), 'the call was never active');
  assert.deepEqual(await phone.calls(), []);
  phone.ext.note(`ended ${ended.at - cancelledAt} ms after bob's hangup`);

  // The ringing stops: the document no longer rings for this call, or it is gone.
  /** @type {any} */
  let media = null;
  const silent = await poll(async () => {
    media = await phone.mediaCalls();
    return media === null || (!media.ringtone && !media.ringing.includes(id));
  }, { timeoutMs: 3000 });
  assert.ok(silent, `the ringtone stops: ${JSON.stringify(media)}`);
  const docClosed = await poll(async () => phone.ext.offscreenEvents.find((e) => e.event === 'closed' && e.at >= cancelledAt),
    { timeoutMs: 5000 });
  assert.ok(docClosed, `the offscreen document closes: ${JSON.stringify(phone.ext.offscreenEvents)}`);

  // On the wire: bob's CANCEL reached us, we answered it 200 and the INVITE 487.
  assert.ok(await poll(async () => (await bob.listCalls()).length === 0, { timeoutMs: 3000 }), 'bob has no call left');
  const trace = await readTrace('md5');
  const cancel = trace.find((m) => m.tag === 'snd' && m.method === 'CANCEL' && overWebSocket(m) && m.time >= cancelledAt - 1000);
  assert.ok(cancel, 'Kamailio forwarded a CANCEL to us over wss');
  const ours = trace.filter((m) => m.callId === cancel.callId && m.tag === 'rcv' && overWebSocket(m));
  phone.ext.note(`from us for ${cancel.callId}: ${ours.map((m) => m.firstLine).join(' | ')}`);
  assert.ok(ours.some((m) => m.status === 200 && /CANCEL/.test(m.cseq || '')), 'we answered the CANCEL 200');
  assert.ok(ours.some((m) => m.status === 487 && /INVITE/.test(m.cseq || '')), 'we answered the INVITE 487');
  assert.ok(!ours.some((m) => m.status === 200 && /INVITE/.test(m.cseq || '')), 'we never answered the INVITE 200');
});
