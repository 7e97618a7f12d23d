// @ts-check
// RFC 4028 session timer, we refresh by UPDATE: a trusted trunk (sipp uac_session_timer_update.xml
// from 127.0.0.1:5070) calls alice with an automatic-answer request, `Session-Expires:
// 90;refresher=uas` and an `Allow` that lists UPDATE. Our 200 must say `Session-Expires:
// 90;refresher=uas` and `Require: timer`; our refresh is an UPDATE without SDP (RFC 3311: the
// session itself is not touched) at half the interval, 45 s after the 200; the trunk then refreshes
// once with an UPDATE of its own, and our 200 carries the timer. The browser hears the trunk's
// 1 kHz tone all along until the trunk's BYE (`remote-hangup`). The re-INVITE variant, for a trunk
// that does not allow UPDATE, is call-session-timer-refresh.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sipHeader as header } from './fixtures/headless.mjs';
import { assertRefreshTime, timerTrunkCall, trunkMessages } from './fixtures/session-timer.mjs';
import { FAR_HZ, sippExit, startPhone } from './calls.mjs';

/** How long the trunk keeps the call after its own refresh (sipp -d). */
const AFTER_PEER_REFRESH_MS = 6000;

test('session timer: a trunk that allows UPDATE is refreshed by UPDATE without SDP at 45 s', async (t) => {
  // The trunk's INVITE asks for an automatic answer: server control is on for this test.
  const phone = await startPhone(t, 'call-session-timer-update', { settings: { autoAnswer: 'headers' } });
  const { trunk, active, id, media } = await timerTrunkCall(t, phone, 'uac_session_timer_update.xml',
    { name: 'trunk-st-update', durationMs: AFTER_PEER_REFRESH_MS });

  const code = await sippExit(trunk, 95000);
  await media.stop();
  const messages = await trunkMessages(phone, trunk);
  assert.equal(code, 0, `the trunk's scenario passes (sipp checked the 200's timer, our UPDATE 40-50 s after it, our answer to its UPDATE): ${trunk.output().slice(-3000)}`);

  const ok = messages.find((m) => m.dir === 'received' && m.status === 200 && m.cseq === '1 INVITE');
  assert.ok(ok, 'the INVITE was answered 200');
  assert.equal(header(ok.text, 'Session-Expires'), '90;refresher=uas');
  assert.match(header(ok.text, 'Require') || '', /\btimer\b/);

  const refresh = messages.find((m) => m.dir === 'received' && m.method === 'UPDATE');
  assert.ok(refresh, 'we refreshed the session with an UPDATE (the trunk allows it)');
  assert.ok(!messages.some((m) => m.dir === 'received' && m.method === 'INVITE'), 'no re-INVITE');
  assertRefreshTime(phone, ok, refresh, 'UPDATE');
  assert.equal(header(refresh.text, 'Session-Expires'), '90;refresher=uac');
  assert.equal(header(refresh.text, 'Content-Type'), undefined, 'the refresh UPDATE carries no SDP');

  const peerRefreshOk = messages.find((m) => m.dir === 'received' && m.status === 200 && m.cseq === '2 UPDATE');
  assert.ok(peerRefreshOk, 'we answered the trunk\'s UPDATE with 200');
  assert.equal(header(peerRefreshOk.text, 'Session-Expires'), '90;refresher=uas', 'we stay the refresher');
  const peerRefresh = messages.find((m) => m.dir === 'sent' && m.method === 'UPDATE');
  const bye = messages.find((m) => m.dir === 'sent' && m.method === 'BYE');
  assert.ok(peerRefresh && bye, 'the trunk refreshed, then hung up');

  // The audio flowed from the answer to the trunk's BYE, across both refreshes.
  const heard = media.check(FAR_HZ, active.at + 1000, bye.time - 500);
  const around = (/** @type {number} */ at) => heard.filter((s) => Math.abs(s.at - at) <= 3000).length;
  assert.ok(around(refresh.time) >= 4 && around(peerRefresh.time) >= 4, 'samples on both sides of each refresh');
  phone.ext.note(`${heard.length} media samples from the answer to the BYE; packets ${heard[0].packetsReceived} → ${heard[heard.length - 1].packetsReceived}`);
  assert.ok(!phone.ext.lines.some((l) => l.includes('[offscreen]') && /re-offer|remote (offer|answer) applied/.test(l)),
    'the refreshes never renegotiated the media');

  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'remote-hangup');
  assert.ok(ended.at >= bye.time - 50, 'the call ended with the trunk\'s BYE, not before');
});
