// @ts-check
// Ferrophone calls bob: alice (registered over wss) dials "bob", bob (baresip) answers by itself.
// Two-way audio, checked like a person would: the browser hears bob's 1 kHz tone for seconds while
// RTP keeps arriving, and bob's recording of the call holds our 440 Hz microphone tone. Hanging up
// sends BYE, bob has no call left, our call ends with `local-hangup`, and the offscreen document
// (microphone, peer connection) closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import {
  FAR_HZ, MIC_HZ, TOLERANCE_HZ, analyzeWav, bobRecordings, connectBob, hearsTone, newBobRecording, overWebSocket, startPhone,
} from './calls.mjs';

test('alice dials bob: two-way audio, hangup ends everything', async (t) => {
  const phone = await startPhone(t, 'call-outgoing-bob');
  const bob = await connectBob(t);
  const recordingsBefore = bobRecordings();
  const bobFrom = bob.events.length;

  const dialedAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  assert.equal(call.direction, 'outgoing');
  assert.match(call.remote, /^sip:bob@127\.0\.0\.1/, 'bare "bob" is completed with the account domain');
  const active = await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  phone.ext.note(`active ${active.at - dialedAt} ms after dial`);
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  const bobSide = await bob.listCalls();
  assert.equal(bobSide.length, 1, `bob has exactly one call: ${JSON.stringify(bobSide)}`);
  assert.equal(bobSide[0].state, 'ESTABLISHED');
  assert.deepEqual((await phone.calls()).map((c) => [c.id, c.state]), [[call.id, 'active']], 'calls lists our active call');

  // The browser hears bob for ≥ 3 s, and sends our microphone's tone.
  const samples = await hearsTone(phone, call.id, FAR_HZ, { forMs: 3000 });
  const last = samples[samples.length - 1];
  assert.ok(Math.abs(last.localPeakHz - MIC_HZ) <= TOLERANCE_HZ, `our microphone track carries ${MIC_HZ} Hz: ${last.localPeakHz}`);
  assert.ok(last.packetsSent > 100, `we send RTP: ${last.packetsSent} packets`);
  assert.equal(last.connectionState, 'connected');
  const media = await phone.mediaCalls();
  assert.equal(media.liveMicrophoneTracks, 1, `one live microphone track during the call: ${JSON.stringify(media)}`);

  // Hang up.
  const hungUpAt = Date.now();
  await phone.cmd('hangup', { id: call.id });
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'local-hangup');
  const closed = await bob.waitEvent('CALL_CLOSED', 5000, bobFrom);
  phone.ext.note(`bob: ${JSON.stringify(closed)}`);
  assert.ok(await poll(async () => (await bob.listCalls()).length === 0, { timeoutMs: 3000 }), 'bob has no call left');
  assert.deepEqual(await phone.calls(), [], 'our call list is empty');

  // The offscreen document (the microphone and the peer connection with it) is gone.
  const docClosed = await poll(async () => phone.ext.offscreenEvents.find((e) => e.event === 'closed' && e.at >= hungUpAt),
    { timeoutMs: 5000 });
  assert.ok(docClosed, `the offscreen document closes after hangup: ${JSON.stringify(phone.ext.offscreenEvents)}`);
  phone.ext.note(`offscreen document closed ${docClosed.at - hungUpAt} ms after hangup`);
  assert.equal(await phone.mediaCalls(), null, 'no media document answers any more');

  // The server saw our BYE and bob's 200 OK for it.
  const trace = await readTrace('md5');
  const bye = trace.find((m) => m.tag === 'rcv' && m.method === 'BYE' && overWebSocket(m) && m.time >= hungUpAt - 1000);
  assert.ok(bye, 'Kamailio received our BYE over wss');
  assert.ok(trace.find((m) => m.tag === 'snd' && m.status === 200 && m.callId === bye.callId && /BYE/.test(m.cseq || '')),
    'and relayed a 200 OK for it back to us');

  // What bob heard: our 440 Hz.
  const wav = await newBobRecording(recordingsBefore);
  const analysis = await analyzeWav(wav, MIC_HZ);
  phone.ext.note(`bob's recording: ${JSON.stringify(analysis)}`);
  assert.ok(analysis.ok, `bob's recording ${wav} has dominant ${MIC_HZ} Hz: ${JSON.stringify(analysis)}`);
});
