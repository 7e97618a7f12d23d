// @ts-check
// Mute, checked at the far end. alice talks with bob; `mute` (command API) → bob hears silence while
// RTP keeps flowing, and the `call` events say `muted: true`; a hold/resume in between does not
// unmute (mute and hold are independent); the keyboard command Alt+Shift+M (a real key press)
// toggles it back → bob hears our 440 Hz again. What bob hears is recorded at his RTP port
// (rtp_tap.py), because baresip 1.0 stops its own recording at the first re-INVITE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { MIC_HZ, analyzeWav, connectBob, sdpAudioPort, startPhone, startRtpTap } from './calls.mjs';
import { pressAltShift } from './fixtures/headless.mjs';

test('mute by command, still muted after hold/resume, unmute by keyboard: bob hears it all', async (t) => {
  const phone = await startPhone(t, 'call-mute-bob');
  const bob = await connectBob(t);
  const tab = await phone.ext.ctx.newPage();
  await tab.goto('about:blank');
  const dialedAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, 0);
  const bobOk = (await readTrace('md5')).find((m) => m.tag === 'rcv' && m.status === 200 && m.srcPort === 5062 && /INVITE/.test(m.cseq || '') && m.time >= dialedAt - 1000);
  assert.ok(bobOk, "bob's 200 OK is in the trace");
  const tap = await startRtpTap(t, 'mute-bob', /** @type {number} */ (sdpAudioPort(bobOk)));
  const tapAt = Date.now();
  /** Waits for a `call` event after `since` that matches. */
  const eventAfter = async (/** @type {number} */ since, /** @type {(c: any) => boolean} */ match, /** @type {string} */ what) => {
    const hit = await poll(async () => (await phone.eventsOf(call.id)).find((e) => e.at >= since && match(e.call)), { timeoutMs: 5000 });
    assert.ok(hit, `${what}: ${JSON.stringify((await phone.eventsOf(call.id)).map((e) => e.call))}`);
    return hit;
  };
  await sleep(2000);

  // Mute through the command API.
  const mutedAt = Date.now();
  const reply = await phone.cmd('mute', { id: call.id });
  assert.equal(reply.call.muted, true, 'the reply says muted');
  await eventAfter(mutedAt, (c) => c.muted === true, 'a call event with muted:true');
  await sleep(1500);
  const mutedStats = await phone.stats(call.id);
  assert.equal(mutedStats.muted, true, 'the media engine has the track muted');
  assert.equal(mutedStats.localPeakHz, 0, `our microphone track is silent: ${mutedStats.localPeakHz}`);

  // Hold and resume while muted: still muted afterwards.
  const holdAt = Date.now();
  await phone.cmd('hold', { id: call.id });
  await eventAfter(holdAt, (c) => c.state === 'held', 'held');
  const resumeAt = Date.now();
  await phone.cmd('resume', { id: call.id });
  const resumed = await eventAfter(resumeAt, (c) => c.state === 'active', 'active after resume');
  assert.equal(resumed.call.muted, true, 'still muted after resume');
  await sleep(2000);

  // Unmute with the keyboard command (toggles mute of the current call).
  const keyAt = Date.now();
  await pressAltShift(phone.ext.ctx, tab, 'M');
  await eventAfter(keyAt, (c) => c.muted === false, 'a call event with muted:false after Alt+Shift+M');
  await sleep(2500);
  const unmutedStats = await phone.stats(call.id);
  assert.ok(Math.abs(unmutedStats.localPeakHz - MIC_HZ) <= 50, `our microphone carries ${MIC_HZ} Hz again: ${unmutedStats.localPeakHz}`);
  const capture = await tap.stop();

  const rel = (/** @type {number} */ at) => (at - tapAt) / 1000;
  const win = (/** @type {number} */ from, /** @type {number} */ seconds) => analyzeWav(tap.wav, MIC_HZ, ['--start', from.toFixed(2), '--seconds', seconds.toFixed(2)]);
  const talking = await win(rel(mutedAt) - 1.2, 1);
  const muted = await win(rel(mutedAt) + 0.7, rel(holdAt) - rel(mutedAt) - 0.9);
  const mutedAfterResume = await win(rel(resumeAt) + 0.7, rel(keyAt) - rel(resumeAt) - 0.9);
  const unmuted = await win(rel(keyAt) + 0.8, 1.5);
  phone.ext.note(`bob's port: ${JSON.stringify(capture.summary)}`);
  phone.ext.note(`bob heard: talking ${talking.dominant} Hz rms ${talking.rms}; muted rms ${muted.rms}; muted after resume rms ${mutedAfterResume.rms}; unmuted ${unmuted.dominant} Hz rms ${unmuted.rms}`);
  assert.ok(talking.ok, `bob hears ${MIC_HZ} Hz before the mute: ${JSON.stringify(talking)}`);
  assert.ok(muted.rms < 50, `bob hears silence while muted: ${JSON.stringify(muted)}`);
  assert.ok(mutedAfterResume.rms < 50, `bob still hears silence after hold/resume: ${JSON.stringify(mutedAfterResume)}`);
  assert.ok(unmuted.ok, `bob hears ${MIC_HZ} Hz after Alt+Shift+M: ${JSON.stringify(unmuted)}`);
  const whileMuted = capture.packets.filter((p) => p.t > rel(mutedAt) + 0.5 && p.t < rel(holdAt));
  assert.ok(whileMuted.length >= 40, `RTP keeps reaching bob while muted: ${whileMuted.length} packets`);
  assert.ok(phone.ext.lines.some((l) => l.includes('[ferrophone] keyboard command mute: ok')), 'the worker logged the keyboard command');

  await phone.cmd('hangup', { id: call.id });
  await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended' });
});
