// @ts-check
// RFC 4028 session timer, we refresh: a trusted trunk (sipp uac_session_timer_refresh.xml from
// 127.0.0.1:5070) calls alice with an automatic-answer request. Its first INVITE asks for
// Session-Expires: 30 and must get 422 with Min-SE: 90; the retry asks for 90 s with refresher=uas,
// and our 200 must say `Session-Expires: 90;refresher=uas` and `Require: timer`. The trunk does not
// allow UPDATE, so we refresh with a re-INVITE, at half the interval (45 s after the 200), with
// `Session-Expires: 90;refresher=uac` and the same SDP we sent last (unchanged: same o= line). The
// trunk then refreshes once itself (re-INVITE, unchanged SDP) and our 200 carries the timer again,
// with our SDP unchanged too.
// The browser hears the trunk's 1 kHz tone all along, through both refreshes, until the trunk's
// BYE ends the call (`remote-hangup`). sipp checks the headers itself and fails on anything
// unexpected; this spec checks the timing, our SDP as it left the browser (Kamailio's trace), the
// audio and the call events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrace } from './lab.mjs';
import { sipHeader as header } from './fixtures/headless.mjs';
import { assertRefreshTime, timerTrunkCall, trunkMessages } from './fixtures/session-timer.mjs';
import { FAR_HZ, overWebSocket, sipBody, sippExit, startPhone } from './calls.mjs';

/** How long the trunk keeps the call after its own refresh (sipp -d). */
const AFTER_PEER_REFRESH_MS = 6000;

/** The o= line of an SDP body: {user, sessId, version} (undefined when there is none). @param {string} sdp */
const origin = (sdp) => {
  const m = /^o=(\S+) (\S+) (\S+) /m.exec(sdp);
  return m ? { user: m[1], sessId: m[2], version: BigInt(m[3]) } : undefined;
};

test('session timer: 422 for 30 s, then 90 s refreshed by our re-INVITE at 45 s; the call keeps its audio', async (t) => {
  // The trunk's INVITE asks for an automatic answer: server control is on for this test.
  const phone = await startPhone(t, 'call-session-timer-refresh', { settings: { autoAnswer: 'headers' } });
  const startedAt = Date.now();
  const { trunk, active, id, media } = await timerTrunkCall(t, phone, 'uac_session_timer_refresh.xml',
    { name: 'trunk-st-refresh', durationMs: AFTER_PEER_REFRESH_MS });

  const code = await sippExit(trunk, 95000);
  const samples = await media.stop();
  const messages = await trunkMessages(phone, trunk);
  assert.equal(code, 0, `the trunk's scenario passes (sipp checked 422/Min-SE, the 200's timer, our refresh, our answer to its refresh): ${trunk.output().slice(-3000)}`);

  // 1. 422 with Min-SE: 90 to Session-Expires: 30.
  const tooBrief = messages.find((m) => m.dir === 'received' && m.status === 422);
  assert.ok(tooBrief, 'the first INVITE was refused with 422');
  assert.equal(header(tooBrief.text, 'Min-SE'), '90', 'the 422 names our minimum, 90 s');

  // 2. The 200 to the retry: 90 s, we refresh, the extension is required.
  const ok = messages.find((m) => m.dir === 'received' && m.status === 200 && m.cseq === '2 INVITE');
  assert.ok(ok, 'the retried INVITE was answered 200');
  assert.equal(header(ok.text, 'Session-Expires'), '90;refresher=uas');
  assert.match(header(ok.text, 'Require') || '', /\btimer\b/);

  // 3. Our refresh: a re-INVITE 45 s after the 200.
  const refresh = messages.find((m) => m.dir === 'received' && m.method === 'INVITE');
  assert.ok(refresh, 'we refreshed the session with a re-INVITE (the trunk does not allow UPDATE)');
  assert.ok(!messages.some((m) => m.dir === 'received' && m.method === 'UPDATE'), 'no UPDATE to a trunk that does not allow it');
  assertRefreshTime(phone, ok, refresh, 're-INVITE');
  assert.equal(header(refresh.text, 'Session-Expires'), '90;refresher=uac', 'our refresh keeps 90 s and says we refresh');

  // Our SDP as it left the browser (Kamailio received it over the WebSocket): the refresh offers
  // the session we already have, unchanged (RFC 3264 §8: same o= version means identical SDP).
  const trace = await readTrace('md5');
  const fromUs = trace.filter((m) => m.tag === 'rcv' && overWebSocket(m) && m.time >= startedAt - 1000);
  const ourOk = fromUs.find((m) => m.status === 200 && /^2 INVITE$/.test(m.cseq || ''));
  const ourRefresh = fromUs.find((m) => m.method === 'INVITE' && m.callId === ourOk?.callId);
  assert.ok(ourOk && ourRefresh, 'Kamailio saw our 200 and our re-INVITE');
  const before = origin(sipBody(ourOk.text));
  const after = origin(sipBody(ourRefresh.text));
  assert.ok(before && after, 'both carry SDP');
  phone.ext.note(`o= of our 200: ${before.user} ${before.sessId} ${before.version}; of our refresh: ${after.user} ${after.sessId} ${after.version}`);
  assert.deepEqual([after.user, after.sessId], [before.user, before.sessId], 'same session (o= user and id)');
  assert.equal(after.version, before.version, 'the refresh does not change the session: same o= version');
  assert.equal(sipBody(ourRefresh.text), sipBody(ourOk.text), 'same version, identical SDP (RFC 3264 §8)');
  assert.ok(!phone.ext.lines.some((l) => l.includes('[offscreen]') && /: re-offer \w+ ready|remote answer applied/.test(l)),
    'the browser made no new offer and applied no answer for our refresh');

  // 4. The trunk's refresh: our 200 carries the timer (we stay the refresher).
  const peerRefreshOk = messages.find((m) => m.dir === 'received' && m.status === 200 && m.cseq === '3 INVITE');
  assert.ok(peerRefreshOk, 'we answered the trunk\'s refresh with 200');
  assert.equal(header(peerRefreshOk.text, 'Session-Expires'), '90;refresher=uas');
  // Its SDP was unchanged (same o= version), and so is our answer: the session we already had,
  // byte for byte, although the browser answered it anew.
  const ourRefreshAnswer = fromUs.find((m) => m.status === 200 && m.callId === ourOk.callId && /^3 INVITE$/.test(m.cseq || ''));
  assert.ok(ourRefreshAnswer, 'Kamailio saw our 200 to the trunk\'s refresh');
  assert.equal(sipBody(ourRefreshAnswer.text), sipBody(ourOk.text), 'an unchanged offer gets our unchanged answer (RFC 3264 §8)');
  const peerRefresh = messages.find((m) => m.dir === 'sent' && m.method === 'INVITE' && m.cseq === '3 INVITE');
  const bye = messages.find((m) => m.dir === 'sent' && m.method === 'BYE');
  assert.ok(peerRefresh && bye, 'the trunk refreshed, then hung up');

  // The audio flowed from the answer to the trunk's BYE, across both refreshes.
  const heard = media.check(FAR_HZ, active.at + 1000, bye.time - 500);
  const around = (/** @type {number} */ at) => heard.filter((s) => Math.abs(s.at - at) <= 3000).length;
  assert.ok(around(refresh.time) >= 4 && around(peerRefresh.time) >= 4, 'samples on both sides of each refresh');
  phone.ext.note(`${heard.length} media samples from the answer to the BYE, ${samples.length} in all; packets ${heard[0].packetsReceived} → ${heard[heard.length - 1].packetsReceived}`);

  // The call ended by the trunk's BYE, not before.
  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'remote-hangup');
  assert.ok(ended.at >= bye.time - 50, 'the call ended with the trunk\'s BYE, not before');
  const states = (await phone.eventsOf(id)).map((e) => e.call.state);
  assert.equal(states.filter((s) => s === 'ended').length, 1, `one end: ${states.join(' → ')}`);
});
