// @ts-check
// bob calls alice: Ferrophone rings (a `call` event `ringing`, direction incoming, the ringtone
// plays in the offscreen document) and waits for the user — 3 s later it is still ringing and bob
// is not connected. `answer` connects the call: bob's recording holds our 440 Hz, the browser
// hears bob's 1 kHz for seconds while RTP keeps arriving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import {
  FAR_HZ, MIC_HZ, TOLERANCE_HZ, analyzeWav, bobEventsSince, bobRecordings, connectBob, hearsTone, newBobRecording, startPhone,
} from './calls.mjs';

test('bob calls alice: it rings until answered, then two-way audio', async (t) => {
  const phone = await startPhone(t, 'call-incoming-bob');
  const bob = await connectBob(t);
  const recordingsBefore = bobRecordings();
  const bobFrom = bob.events.length;

  const dial = await bob.dial('sip:alice@127.0.0.1');
  assert.ok(dial.ok, `bob dials alice: ${JSON.stringify(dial)}`);
  const ringing = await phone.waitCall(null, (c) => c.state === 'ringing', { timeoutMs: 10000, what: 'ringing incoming call' });
  const { id } = ringing.call;
  assert.equal(ringing.call.direction, 'incoming');
  assert.match(ringing.call.remote, /^sip:bob@127\.0\.0\.1/, `the caller is bob: ${ringing.call.remote}`);
  assert.equal(ringing.call.autoAnswer, false, 'no auto-answer for an ordinary call');
  await bob.waitEvent('CALL_RINGING', 5000, bobFrom); // our 180 reached bob

  // The ringtone plays while the call rings.
  const ringtone = await poll(async () => {
    const m = await phone.mediaCalls();
    return m && m.ringtone && m.ringing.includes(id) ? m : null;
  }, { timeoutMs: 5000 });
  assert.ok(ringtone, 'the offscreen document plays the ringtone for this call');

  // Nobody answers by itself: 3 s later it still rings and bob is not connected.
  await sleep(3000);
  assert.deepEqual((await phone.calls()).map((c) => [c.id, c.state]), [[id, 'ringing']], 'still ringing after 3 s');
  assert.ok(!(await phone.eventsOf(id)).some((e) => e.call.state !== 'ringing'), 'no other state was reported');
  assert.ok(!bobEventsSince(bob, bobFrom).some((e) => e.type === 'CALL_ESTABLISHED'), 'bob is not connected');
  const bobRinging = await bob.listCalls();
  assert.equal(bobRinging.length, 1);
  assert.notEqual(bobRinging[0].state, 'ESTABLISHED', `bob's call is not established: ${bobRinging[0].raw}`);

  // Answer.
  await phone.cmd('answer', { id });
  await phone.waitCall(id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  const after = await phone.mediaCalls();
  assert.ok(after && !after.ringing.includes(id) && !after.ringtone, `the ringtone stops once answered: ${JSON.stringify(after)}`);

  const samples = await hearsTone(phone, id, FAR_HZ, { forMs: 3000 });
  const last = samples[samples.length - 1];
  assert.ok(Math.abs(last.localPeakHz - MIC_HZ) <= TOLERANCE_HZ, `our microphone track carries ${MIC_HZ} Hz: ${last.localPeakHz}`);
  assert.ok(last.packetsSent > 100, `we send RTP: ${last.packetsSent} packets`);

  await phone.cmd('hangup', { id });
  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'local-hangup');
  await bob.waitEvent('CALL_CLOSED', 5000, bobFrom);

  const wav = await newBobRecording(recordingsBefore);
  const analysis = await analyzeWav(wav, MIC_HZ);
  phone.ext.note(`bob's recording: ${JSON.stringify(analysis)}`);
  assert.ok(analysis.ok, `bob's recording ${wav} has dominant ${MIC_HZ} Hz: ${JSON.stringify(analysis)}`);
});
