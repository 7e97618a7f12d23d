// @ts-check
// Hold and resume, checked at both ends. alice calls bob and talks; `hold` sends a re-INVITE with
// a=sendonly (bob answers a=recvonly): bob stops hearing alice (our microphone is silenced while we
// hold) and stops sending (the browser's packetsReceived stands still); `resume` sends a=sendrecv
// and both directions come back. What bob hears is recorded at bob's RTP port (rtp_tap.py decodes
// what arrives there by arrival time) because baresip 1.0 stops its own recording at the first
// re-INVITE (docs/LAB.md pitfall 13): the recording is 440 Hz, then silence for the hold, then
// 440 Hz again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { readTrace } from './lab.mjs';
import {
  FAR_HZ, MIC_HZ, analyzeWav, connectBob, hearsTone, overWebSocket, sdpAudioPort, sipBody, startPhone, startRtpTap,
} from './calls.mjs';

/** The a=sendrecv|sendonly|recvonly|inactive of an SDP (session or media level), or ''. @param {string} sdp */
const directionOf = (sdp) => (/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(sdp) || [])[1] || '';

test('hold and resume: media stops and comes back at both ends', async (t) => {
  const phone = await startPhone(t, 'call-hold-resume-bob');
  const bob = await connectBob(t);
  const bobFrom = bob.events.length;
  const dialedAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);

  // bob's audio port, from his 200 OK; record what arrives there from now on.
  const setup = await readTrace('md5');
  const bobOk = setup.find((m) => m.tag === 'rcv' && m.status === 200 && m.srcPort === 5062 && /INVITE/.test(m.cseq || '') && m.time >= dialedAt - 1000);
  assert.ok(bobOk, "bob's 200 OK is in the trace");
  const bobPort = /** @type {number} */ (sdpAudioPort(bobOk));
  assert.ok(bobPort > 0, `bob's SDP names his audio port: ${bobPort}`);
  const tap = await startRtpTap(t, 'hold-resume-bob', bobPort);
  const tapAt = Date.now();

  // Talking: the browser hears bob.
  await hearsTone(phone, call.id, FAR_HZ, { forMs: 2000 });

  // Hold.
  const holdAt = Date.now();
  await phone.cmd('hold', { id: call.id });
  await phone.waitCall(call.id, (c) => c.state === 'held', { timeoutMs: 5000, what: 'held' });
  await sleep(1000); // the re-INVITE transaction is over; in-flight packets are gone
  const heldStart = await phone.stats(call.id);
  await sleep(3000);
  const heldEnd = await phone.stats(call.id);
  phone.ext.note(`held: packetsReceived ${heldStart.packetsReceived} → ${heldEnd.packetsReceived}, remote level ${heldEnd.remoteLevel}, local mic peak ${heldEnd.localPeakHz} Hz`);
  assert.ok(heldEnd.packetsReceived - heldStart.packetsReceived <= 5,
    `bob sends nothing while held: ${heldStart.packetsReceived} → ${heldEnd.packetsReceived} packets in 3 s`);
  assert.ok(heldEnd.packetsSent - heldStart.packetsSent >= 100, `our RTP keeps flowing (silence) while held: ${heldStart.packetsSent} → ${heldEnd.packetsSent}`);
  assert.deepEqual((await phone.calls()).map((c) => [c.id, c.state]), [[call.id, 'held']], 'calls says held');

  // Resume.
  const resumeAt = Date.now();
  await phone.cmd('resume', { id: call.id });
  const activeAgain = await poll(async () => (await phone.eventsOf(call.id)).find((e) => e.at >= resumeAt && e.call.state === 'active'),
    { timeoutMs: 5000 });
  assert.ok(activeAgain, `an active event after resume: ${JSON.stringify(await phone.eventsOf(call.id))}`);
  await hearsTone(phone, call.id, FAR_HZ, { forMs: 3000 });
  const capture = await tap.stop();
  const resumedFor = Date.now() - resumeAt;

  // The signalling: sendonly → recvonly, then sendrecv → sendrecv, over the WebSocket and to bob.
  const trace = (await readTrace('md5')).filter((m) => m.callId === bobOk.callId && m.time >= holdAt - 100);
  const reinvites = trace.filter((m) => m.tag === 'rcv' && m.method === 'INVITE' && overWebSocket(m));
  assert.deepEqual(reinvites.map((m) => directionOf(sipBody(m.text))), ['sendonly', 'sendrecv'], 'our re-INVITEs: hold, then resume');
  const bobAnswers = trace.filter((m) => m.tag === 'rcv' && m.status === 200 && m.srcPort === 5062 && /INVITE/.test(m.cseq || ''));
  assert.deepEqual(bobAnswers.map((m) => directionOf(sipBody(m.text))), ['recvonly', 'sendrecv'], "bob's answers");

  // What bob heard, second by second (times relative to the capture).
  const rel = (/** @type {number} */ at) => (at - tapAt) / 1000;
  const window = async (/** @type {number} */ from, /** @type {number} */ seconds) => analyzeWav(tap.wav, MIC_HZ, ['--start', from.toFixed(2), '--seconds', String(seconds)]);
  const before = await window(rel(holdAt) - 1.5, 1);
  const held = await window(rel(holdAt) + 1, Math.max(1, rel(resumeAt) - rel(holdAt) - 1.5));
  const resumed = await window(rel(resumeAt) + 1, Math.min(2, resumedFor / 1000 - 1.5));
  phone.ext.note(`bob's port ${bobPort}: ${JSON.stringify(capture.summary)}`);
  phone.ext.note(`bob heard: before hold ${before.dominant} Hz rms ${before.rms}; held rms ${held.rms}; after resume ${resumed.dominant} Hz rms ${resumed.rms}`);
  assert.ok(before.ok, `bob hears our ${MIC_HZ} Hz before the hold: ${JSON.stringify(before)}`);
  assert.ok(held.rms < 50, `bob hears silence while held (rms ${held.rms}): ${JSON.stringify(held)}`);
  assert.ok(resumed.ok, `bob hears our ${MIC_HZ} Hz again after resume: ${JSON.stringify(resumed)}`);
  // Packets kept arriving at bob during the hold (silence, not a dead stream).
  const duringHold = capture.packets.filter((p) => p.t > rel(holdAt) + 1 && p.t < rel(resumeAt) - 0.5);
  assert.ok(duringHold.length >= 50, `RTP (silence) reaches bob during the hold: ${duringHold.length} packets`);

  await phone.cmd('hangup', { id: call.id });
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended' });
  assert.equal(ended.call.endReason, 'local-hangup');
});
