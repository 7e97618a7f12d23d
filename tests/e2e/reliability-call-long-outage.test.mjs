// @ts-check
// Fault: the SIP server is down for longer than a call can wait (40 s; the product keeps an
// established call 30 s for its flow to come back, then ends it with `connection-lost`). alice
// (Ferrophone) is in a call with bob; Kamailio is stopped for 40 s while bob (and rtpengine) stay up.
// Expected: our call ends by itself with `connection-lost` about 30 s after the loss and the
// offscreen document closes; once Kamailio is back, nothing may stay behind — bob must not keep a
// call that we have ended (a zombie on the far end), and we must not keep one either.
// The BYE cannot go out while there is no flow: it must be sent once we are registered again
// (before main@effdd97 it was never sent and bob kept the call forever — docs/RELIABILITY.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labSh } from './lab.mjs';
import {
  FAR_HZ, connectBob, kamailioStartKeepingBob, poll, readTrace, reRegisterBob, report, saveResults, sleep, startPhone, waitTone,
} from './reliability.mjs';

const SPEC = 'reliability-call-long-outage';
const DOWN_MS = 40000;

test('a 40 s server outage during a call: our call ends with connection-lost, and no side keeps a zombie call', async (t) => {
  const phone = await startPhone(t, SPEC);
  const bob = await connectBob(t);
  const bobCalls = async () => /** @type {{raw: string, state: string}[]} */ (await bob.listCalls());
  let down = false;
  let bobNeedsRegistering = false;
  t.after(async () => {
    if (down) await kamailioStartKeepingBob();
    if (bobNeedsRegistering) {
      await bob.hangupAll().catch(() => {});
      await reRegisterBob();
    }
  });

  const bobFrom = bob.events.length;
  const dialAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  assert.ok(await waitTone(phone, call.id, FAR_HZ, 8000), 'the browser hears bob before the outage');
  const invite = (await readTrace('md5')).find((m) => m.tag === 'rcv' && m.method === 'INVITE' && /^wss? /.test(m.proto) && m.time >= dialAt - 500);
  assert.ok(invite && invite.callId);
  const sipCallId = /** @type {string} */ (invite.callId);

  const stopAt = Date.now();
  down = true;
  await labSh('kamailio-stop');
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: DOWN_MS - 2000, what: 'our call ended during the outage' });
  const endedMs = ended.at - stopAt;
  const docClosed = await poll(async () => !phone.offscreenOpen(), { timeoutMs: 5000 });
  const bobDuring = await bobCalls();
  report(SPEC, `our call ended (${ended.call.endReason}) ${endedMs} ms after Kamailio stopped; offscreen closed: ${docClosed}; bob's calls while Kamailio is still down: ${bobDuring.map((c) => c.state).join(',') || 'none'}`);
  await sleep(DOWN_MS - (Date.now() - stopAt));
  const { ready } = await kamailioStartKeepingBob();
  down = false;
  bobNeedsRegistering = true;

  const registered = await phone.waitRegistration((e) => e.state === 'registered', ready, 30000);
  // Give a late BYE (or anything else) 10 s after we are registered again.
  const bobGone = await poll(async () => (await bobCalls()).length === 0, { timeoutMs: 10000, intervalMs: 250 });
  const bobAfter = await bobCalls();
  const trace = await readTrace('md5');
  const callMsgs = trace.filter((m) => m.callId === sipCallId && m.time >= stopAt).map((m) => `+${m.time - stopAt} ms ${m.tag} ${m.proto} ${m.firstLine}`);
  const ourCalls = await phone.calls();
  const bye = trace.find((m) => m.tag === 'rcv' && m.method === 'BYE' && m.callId === sipCallId && /^wss? /.test(m.proto) && m.time >= ready);
  const byeOk = bye && trace.find((m) => m.tag === 'snd' && m.status === 200 && m.callId === sipCallId && /BYE/.test(m.cseq || '') && m.time >= bye.time);
  const workerLog = phone.ext.lines.filter((l) => l.includes('[worker]') && l.includes(call.id));
  report(SPEC, `registered ${registered.at - ready} ms after Kamailio was back; deferred BYE ${bye ? `+${bye.time - registered.at} ms after registered, answered ${Boolean(byeOk)}` : 'never sent'}; bob's calls 10 s later: ${bobAfter.map((c) => c.raw).join(' / ') || 'none'}; our calls: ${ourCalls.length}; call messages since the stop: ${callMsgs.join(' | ') || 'none'}`);
  await saveResults(SPEC, {
    downMs: DOWN_MS, endReason: ended.call.endReason, endedAfterStopMs: endedMs, offscreenClosed: docClosed,
    registeredAfterReadyMs: registered.at - ready, bobCallsWhileDown: bobDuring.map((c) => c.raw),
    bobCallsAfter: bobAfter.map((c) => c.raw), bobHasNoCallAfter: bobGone, ourCallsAfter: ourCalls,
    callMessagesSinceStop: callMsgs, workerLog,
    byeAfterRegisteredMs: bye ? bye.time - registered.at : null, byeAnswered: Boolean(byeOk),
  });
  assert.equal(ended.call.endReason, 'connection-lost');
  assert.ok(endedMs >= 29000 && endedMs <= 33000, `ended about 30 s after the loss: ${endedMs} ms`);
  assert.ok(docClosed, 'the offscreen document closed with the call');
  assert.deepEqual(ourCalls, [], 'we keep no call');
  assert.ok(bye, 'our BYE reached Kamailio over the new WebSocket once we were registered again');
  assert.ok(byeOk, 'and bob\'s 200 OK to it came back');
  assert.ok(bobGone, `bob keeps no call once Kamailio is back (no zombie on the far end): ${bobAfter.map((c) => c.raw).join(' / ')}`);
});
