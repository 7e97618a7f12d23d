// @ts-check
// bob calls alice and alice refuses: `reject` answers 486 Busy Here — bob's baresip reports the
// call closed with "486 Busy Here" — and our call ends with `rejected`, never `active`, leaving no
// call and no media document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { bobCallsAlice, bobEventsSince, connectBob, overWebSocket, startPhone } from './calls.mjs';

test('reject answers 486 Busy Here and ends the call as rejected', async (t) => {
  const phone = await startPhone(t, 'call-reject');
  const bob = await connectBob(t);
  const bobFrom = bob.events.length;

  const ringing = await bobCallsAlice(phone, bob);
  const { id } = ringing.call;

  const rejectedAt = Date.now();
  await phone.cmd('reject', { id });
  const closed = await bob.waitEvent('CALL_CLOSED', 5000, bobFrom);
  phone.ext.note(`bob: ${JSON.stringify(closed)}`);
  assert.match(String(closed.param), /486|Busy Here/, `bob's call closed with 486 Busy Here: ${JSON.stringify(closed)}`);
  assert.ok(!bobEventsSince(bob, bobFrom).some((e) => e.type === 'CALL_ESTABLISHED'), 'bob never got connected');

  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'rejected');
  assert.ok(!(await phone.eventsOf(id)).some((e) => e.call.state === 'active'), 'the call was never active');
  assert.deepEqual(await phone.calls(), []);
  const reject = await phone.raw('reject', { id });
  assert.equal(reject.ok, false, `a second reject is refused: ${JSON.stringify(reject)}`);

  // On the wire: our final answer was 486 and it was relayed to bob.
  const trace = await readTrace('md5');
  const busy = trace.find((m) => m.tag === 'rcv' && m.status === 486 && overWebSocket(m) && m.time >= rejectedAt - 1000);
  assert.ok(busy, 'Kamailio received our 486 over wss');
  assert.equal(busy.firstLine, 'SIP/2.0 486 Busy Here');
  assert.ok(trace.some((m) => m.tag === 'snd' && m.status === 486 && m.callId === busy.callId && m.dstPort === 5062),
    'and relayed it to bob');

  const docClosed = await poll(async () => phone.ext.offscreenEvents.find((e) => e.event === 'closed' && e.at >= rejectedAt),
    { timeoutMs: 5000 });
  assert.ok(docClosed, `the offscreen document (ringtone) closes: ${JSON.stringify(phone.ext.offscreenEvents)}`);
});
