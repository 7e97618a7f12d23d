// @ts-check
// Fault: the SIP server restarts in the middle of a call. alice (Ferrophone, fake microphone
// 440 Hz) calls bob (baresip, answers by itself, sends 1 kHz); while the call is active,
// `lab.sh kamailio-stop`, 2 s, `kamailio-start`. rtpengine (a separate process) keeps relaying the
// media; the WebSocket, the registration and Kamailio's state are gone.
//
// The product (docs/ARCHITECTURE.md) keeps established calls through a WebSocket drop and refreshes
// the dialog with a re-INVITE over the new flow once registered again, or ends them after 30 s with
// `connection-lost`. This spec records which of the two clean outcomes happens, with evidence, and
// fails on anything else (a zombie: a call listed on one side only, or a media document alive
// without a call):
//   continued — re-INVITE from us over the new WebSocket in Kamailio's trace, 200 OK from bob,
//               our call still `active`, bob still has it, packetsReceived keeps growing and the
//               browser still hears 1 kHz after the restart, and rtpengine keeps receiving our RTP
//               (and relaying it to bob) after the restart — bob's own recording stops at the
//               first re-INVITE (docs/LAB.md pitfall 13), so it proves the 440 Hz before the restart;
//   ended     — our call `ended` (reason recorded), bob has no call, the offscreen document closed.
//
// First test — bob stays up through the restart: `lab.sh kamailio-start` normally re-creates bob's
// user agent to register it again (baresip 1.0 has no "register now"), and deleting a user agent
// hangs up its calls — that is the lab, not the far end of a proxy restart. So while Kamailio starts
// again, bob's pidfile is set aside (lab.sh then does not touch bob); bob is re-registered by a
// plain stop/start at the end, after the call. Second test — lab.sh as it is: bob's user agent is
// re-created, so bob hangs up while our flow is down; that must end cleanly too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labSh } from './lab.mjs';
import { Bob } from '../lab/bob.mjs';
import {
  FAR_HZ, MIC_HZ, TOLERANCE_HZ, analyzeWav, bobRecordings, connectBob, kamailioStart, kamailioStartKeepingBob, findBobRecording,
  poll, readTrace, reRegisterBob, report, rtpengineQuery, saveResults, sleep, startPhone, waitTone,
} from './reliability.mjs';



/**
 * @param {import('node:test').TestContext} t
 * @param {string} SPEC
 * @param {boolean} keepBob  set bob's pidfile aside during kamailio-start (bob keeps the call)
 */
async function restartDuringCall(t, SPEC, keepBob) {
  const phone = await startPhone(t, SPEC);
  let bob = await connectBob(t);
  let bobNeedsRegistering = false;
  t.after(async () => {
    if (bobNeedsRegistering) await reRegisterBob(); // bob registered again for later specs
  });

  const bobFrom = bob.events.length;
  const recBefore = bobRecordings();
  const dialAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  const before = await waitTone(phone, call.id, FAR_HZ, 8000);
  assert.ok(before, 'the browser hears bob\'s 1 kHz before the restart');
  const traceBefore = await readTrace('md5');
  const invite = traceBefore.find((m) => m.tag === 'rcv' && m.method === 'INVITE' && /^wss? /.test(m.proto) && m.time >= dialAt - 500);
  assert.ok(invite && invite.callId, 'our INVITE is in the trace');
  const sipCallId = /** @type {string} */ (invite.callId);
  const ourTag = (/;tag=([^;>\s]+)/.exec(invite.headers('from')[0] || '') || [])[1];
  const rtpBefore = await rtpengineQuery(sipCallId);

  // The restart, bob left alone.
  const stopAt = Date.now();
  await labSh('kamailio-stop');
  await sleep(2000);
  const started = keepBob ? await kamailioStartKeepingBob() : await kamailioStart();
  bobNeedsRegistering = keepBob;
  if (!keepBob) {
    // lab.sh's `uadel` also closes every ctrl_tcp client connection of bob's: connect again.
    bob = await Bob.connect();
    const again = bob;
    t.after(() => again.close());
  }
  const { ready } = started;
  phone.ext.note(`Kamailio stopped at ${stopAt}, listening again at ${ready}`);

  // Watch both sides until the product has decided (re-INVITE answered, or the call ended), at
  // most the 30 s recovery limit + 10 s.
  /** @type {any[]} */
  const timeline = [];
  let outcome = '';
  /** @type {any} */
  let reinvite = null;
  /** @type {any} */
  let reinviteOk = null;
  const deadline = stopAt + 42000;
  while (Date.now() < deadline) {
    const trace = await readTrace('md5');
    reinvite = trace.find((m) => m.tag === 'rcv' && m.method === 'INVITE' && m.callId === sipCallId && m.time >= ready);
    reinviteOk = reinvite && trace.find((m) => m.tag === 'rcv' && m.status === 200 && m.callId === sipCallId && m.cseq === reinvite.cseq);
    const ours = (await phone.calls()).find((c) => c.id === call.id);
    const ended = (await phone.callEvents()).find((e) => e.call.id === call.id && e.call.state === 'ended');
    const bobs = await bob.listCalls();
    timeline.push({ atMs: Date.now() - stopAt, ours: ours ? ours.state : 'none', bob: bobs.map((/** @type {any} */ c) => c.state).join(',') || 'none', offscreen: phone.offscreenOpen() });
    if (ended) { outcome = 'ended'; break; }
    if (reinviteOk && ours && ours.state === 'active') { outcome = 'continued'; break; }
    await sleep(500);
  }
  const registeredAgain = (await phone.regEvents()).find((e) => e.state === 'registered' && e.at >= ready);
  const trace = await readTrace('md5');
  const callMsgs = trace.filter((m) => m.callId === sipCallId && m.time >= stopAt)
    .map((m) => `+${m.time - stopAt} ms ${m.tag} ${m.proto} ${m.firstLine}`);
  report(SPEC, `outcome: ${outcome || 'undecided'}; registered again ${registeredAgain ? registeredAgain.at - ready : '-'} ms after Kamailio listened; call messages since the stop: ${callMsgs.join(' | ')}`);

  /** @type {Record<string, any>} */
  const evidence = {
    outcome, stopToReadyMs: ready - stopAt, registeredAfterReadyMs: registeredAgain ? registeredAgain.at - ready : null,
    bobKeptHisCall: keepBob, callMessagesSinceStop: callMsgs, timeline, ourTag, rtpengineBefore: rtpBefore.packetsByTag,
  };
  if (outcome === 'continued') {
    evidence.reinviteAfterReadyMs = reinvite.time - ready;
    evidence.reinvite200AfterReadyMs = reinviteOk.time - ready;
    assert.match(reinvite.proto, /^wss? /, 're-INVITE came over the new WebSocket');
    // Audio both ways after the refresh.
    const s1 = await phone.stats(call.id);
    await sleep(3000);
    const s2 = await phone.stats(call.id);
    const heard = await waitTone(phone, call.id, FAR_HZ, 5000);
    const rtp1 = await rtpengineQuery(sipCallId);
    await sleep(2000);
    const rtp2 = await rtpengineQuery(sipCallId);
    const fromUs = [rtp1.packetsByTag[ourTag], rtp2.packetsByTag[ourTag]];
    const bobTag = Object.keys(rtp2.packetsByTag).find((tag) => tag !== ourTag);
    const fromBob = bobTag ? [rtp1.packetsByTag[bobTag], rtp2.packetsByTag[bobTag]] : [];
    Object.assign(evidence, {
      packetsReceivedBefore: before.packetsReceived, packetsReceivedAfter: [s1.packetsReceived, s2.packetsReceived],
      packetsSentAfter: [s1.packetsSent, s2.packetsSent], remotePeakHzAfter: heard ? heard.remotePeakHz : (s2 && s2.remotePeakHz),
      connectionStateAfter: s2.connectionState, rtpengineFromUsAfter: fromUs, rtpengineFromBobAfter: fromBob,
    });
    report(SPEC, `continued: re-INVITE +${evidence.reinviteAfterReadyMs} ms, 200 OK +${evidence.reinvite200AfterReadyMs} ms after Kamailio listened; browser packetsReceived ${before.packetsReceived} → ${s1.packetsReceived} → ${s2.packetsReceived} (3 s); remote peak ${evidence.remotePeakHzAfter} Hz; packetsSent ${s1.packetsSent} → ${s2.packetsSent}; rtpengine packets from us (relayed to bob) ${fromUs.join(' → ')}, from bob ${fromBob.join(' → ')} (2 s)`);
    await saveResults(SPEC, evidence);
    assert.ok(reinviteOk, 'bob answered the re-INVITE 200');
    assert.ok(s2.packetsReceived > s1.packetsReceived + 50, 'RTP keeps arriving in the browser after the restart');
    assert.ok(heard && Math.abs(heard.remotePeakHz - FAR_HZ) <= TOLERANCE_HZ, `the browser hears bob's 1 kHz after the restart: ${JSON.stringify(heard)}`);
    assert.ok(s2.packetsSent > s1.packetsSent + 50, 'we keep sending RTP');
    assert.ok(fromUs[1] > fromUs[0] + 50, `rtpengine keeps receiving our RTP for bob after the restart: ${fromUs.join(' → ')}`);
    assert.equal((await bob.listCalls()).length, 1, 'bob still has the call');
    // Then an ordinary hangup still works end to end.
    const bobFrom2 = bob.events.length;
    await phone.cmd('hangup', { id: call.id });
    await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended after hangup' });
    await bob.waitEvent('CALL_CLOSED', 5000, bobFrom2);
    const wav = await findBobRecording(recBefore);
    const analysis = wav ? await analyzeWav(wav, MIC_HZ) : { ok: false, error: 'no recording' };
    evidence.bobRecordingBeforeReinvite = analysis;
    await saveResults(SPEC, evidence);
    report(SPEC, `bob's recording (up to the re-INVITE, pitfall 13): ${JSON.stringify(analysis)}`);
    assert.ok(analysis.ok, `bob heard our ${MIC_HZ} Hz: ${JSON.stringify(analysis)}`);
  } else if (outcome === 'ended') {
    const endedEv = (await phone.callEvents()).find((e) => e.call.id === call.id && e.call.state === 'ended');
    assert.ok(endedEv);
    const bobGone = await poll(async () => (await bob.listCalls()).length === 0, { timeoutMs: 5000 });
    const docClosed = await poll(async () => !phone.offscreenOpen(), { timeoutMs: 5000 });
    Object.assign(evidence, {
      endReason: endedEv.call.endReason, endedAfterStopMs: endedEv.at - stopAt, bobHasNoCall: bobGone,
      offscreenClosed: docClosed, bye: trace.find((m) => m.method === 'BYE' && m.callId === sipCallId && m.time >= stopAt)?.firstLine || null,
    });
    report(SPEC, `ended: reason ${evidence.endReason} ${evidence.endedAfterStopMs} ms after the stop; bob has no call: ${bobGone}; offscreen closed: ${docClosed}; BYE: ${evidence.bye}`);
    await saveResults(SPEC, evidence);
    assert.ok(bobGone, 'bob has no call left');
    assert.ok(docClosed, 'the offscreen document is closed');
    assert.deepEqual(await phone.calls(), [], 'our call list is empty');
  } else {
    await saveResults(SPEC, evidence);
    assert.fail(`neither clean outcome within 42 s of the stop: ${JSON.stringify(timeline.slice(-5))}`);
  }
  // Never a zombie: no call on either side, no media document, once it is over.
  assert.ok(await poll(async () => (await bob.listCalls()).length === 0, { timeoutMs: 5000 }), 'bob has no call at the end');
  assert.ok(await poll(async () => !phone.offscreenOpen(), { timeoutMs: 5000 }), 'no offscreen document at the end');
}

test('a Kamailio restart during a call (bob stays up) ends in a clean outcome: the call continues or both sides end it', async (t) => {
  await restartDuringCall(t, 'reliability-call-reconnect', true);
});

// The same restart with lab.sh's own kamailio-start, which re-creates bob's user agent: bob hangs
// up (BYE) while our WebSocket is down, so the BYE cannot reach us. Still no zombie allowed.
test('a far end that hangs up while our flow is down (lab.sh re-creates bob) still ends in a clean outcome', async (t) => {
  await restartDuringCall(t, 'reliability-call-reconnect-bob-hangs-up', false);
});
