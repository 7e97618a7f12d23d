// @ts-check
// Fault: the offscreen document (microphone, RTCPeerConnection, playback) disappears in the middle
// of a call — closed here from the worker with chrome.offscreen.closeDocument(), as a crash or
// Chrome's own clean-up would. Without media the call is dead air, so the worker's 2 s watchdog
// must end it cleanly: a `call` event `ended`, a BYE to bob (bob has no call left), nothing left in
// `calls`. A new dial to bob afterwards must recreate the document and connect with audio both
// ways (the browser hears bob's 1 kHz; bob's recording of the new call holds our 440 Hz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FAR_HZ, MIC_HZ, analyzeWav, bobRecordings, connectBob, findBobRecording, poll, readTrace, report, saveResults, sleep, startPhone, waitTone,
} from './reliability.mjs';

const SPEC = 'reliability-offscreen-loss';

test('losing the offscreen document ends the call cleanly, and the next call recreates it with audio', async (t) => {
  const phone = await startPhone(t, SPEC);
  const bob = await connectBob(t);

  const bobFrom = bob.events.length;
  const dialAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  assert.ok(await waitTone(phone, call.id, FAR_HZ, 8000), 'the browser hears bob before the fault');
  const invite = (await readTrace('md5')).find((m) => m.tag === 'rcv' && m.method === 'INVITE' && /^wss? /.test(m.proto) && m.time >= dialAt - 500);
  assert.ok(invite, 'our INVITE is in the trace');

  // The fault.
  const worker = phone.ext.worker();
  assert.ok(worker, 'the service worker is there');
  const openedBefore = phone.ext.offscreenEvents.filter((e) => e.event === 'opened').length;
  const closedAt = Date.now();
  await worker.evaluate(() => chrome.offscreen.closeDocument());
  const docGone = await poll(async () => phone.ext.offscreenEvents.find((e) => e.event === 'closed' && e.at >= closedAt - 100), { timeoutMs: 3000 });
  assert.ok(docGone, 'the offscreen document is closed');

  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 8000, what: 'ended event after the document vanished' });
  const endedMs = ended.at - closedAt;
  const bobClosed = await bob.waitEvent('CALL_CLOSED', 5000, bobFrom).catch(() => null);
  const bobGone = await poll(async () => (await bob.listCalls()).length === 0, { timeoutMs: 3000 });
  const trace = await readTrace('md5');
  const bye = trace.find((m) => m.tag === 'rcv' && m.method === 'BYE' && m.callId === invite.callId && /^wss? /.test(m.proto) && m.time >= closedAt);
  const byeOk = bye && trace.find((m) => m.tag === 'snd' && m.status === 200 && m.callId === invite.callId && /BYE/.test(m.cseq || '') && m.time >= bye.time);
  const calls = await phone.calls();
  const stateAfter = phone.offscreenOpen();
  const logLines = phone.ext.lines.filter((l) => l.includes('[worker]') && /offscreen|media document|watchdog/i.test(l) && Date.parse(l.slice(0, 24)) >= closedAt);
  report(SPEC, `document closed → call ended (${ended.call.endReason}) in ${endedMs} ms; BYE at Kamailio +${bye ? bye.time - closedAt : '-'} ms (200: ${Boolean(byeOk)}); bob CALL_CLOSED: ${bobClosed ? bobClosed.param || 'yes' : 'no'}; bob has no call: ${bobGone}; offscreen open after: ${stateAfter}`);

  assert.ok(bye, 'we sent BYE to bob over the WebSocket');
  assert.ok(byeOk, 'bob\'s 200 OK to the BYE came back');
  assert.ok(bobGone, 'bob has no call left');
  assert.deepEqual(calls, [], 'our call list is empty');
  assert.ok(endedMs <= 5000, `ended within a few seconds (watchdog 2 s): ${endedMs} ms`);

  // A new call: the document comes back, audio both ways.
  const recBefore = bobRecordings();
  const bobFrom2 = bob.events.length;
  const dial2At = Date.now();
  const { call: call2 } = await phone.cmd('dial', { target: 'bob' });
  const active2 = await phone.waitCall(call2.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'second call active' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom2);
  const reopened = phone.ext.offscreenEvents.filter((e) => e.event === 'opened').length > openedBefore;
  const heard = await waitTone(phone, call2.id, FAR_HZ, 8000);
  await sleep(3000); // three seconds of conversation, so bob's recording has something to analyse
  const s = await phone.stats(call2.id);
  await phone.cmd('hangup', { id: call2.id });
  await phone.waitCall(call2.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'second call ended' });
  const wav = await findBobRecording(recBefore);
  const analysis = wav ? await analyzeWav(wav, MIC_HZ) : { ok: false, error: 'no recording' };
  report(SPEC, `new call: active ${active2.at - dial2At} ms after dial; document recreated: ${reopened}; browser hears ${heard ? Math.round(heard.remotePeakHz) : '-'} Hz (${s && s.packetsReceived} packets); bob's recording: ${JSON.stringify(analysis)}`);
  await saveResults(SPEC, {
    endReason: ended.call.endReason, docClosedToEndedMs: endedMs, byeAfterCloseMs: bye ? bye.time - closedAt : null,
    bye200: Boolean(byeOk), bobHasNoCall: bobGone, workerLogLines: logLines,
    secondCall: { activeAfterDialMs: active2.at - dial2At, documentRecreated: reopened, remotePeakHz: heard && heard.remotePeakHz,
      packetsReceived: s && s.packetsReceived, localPeakHz: s && s.localPeakHz, bobRecording: analysis },
  });
  assert.ok(reopened, 'the offscreen document was created again');
  assert.ok(heard, 'the browser hears bob\'s 1 kHz on the new call');
  assert.ok(s && heard && s.packetsReceived > heard.packetsReceived + 100, `RTP keeps arriving on the new call: ${heard && heard.packetsReceived} → ${s && s.packetsReceived}`);
  assert.ok(analysis.ok, `bob's recording of the new call is our ${MIC_HZ} Hz: ${JSON.stringify(analysis)}`);
});
