// @ts-check
// RFC 4028 session timer, the far end refreshes and stops: a trusted trunk (sipp
// uac_session_timer_expiry.xml from 127.0.0.1:5070) calls alice with an automatic-answer request,
// `Supported: timer`, `Session-Expires: 90;refresher=uac`. Our 200 must say
// `Session-Expires: 90;refresher=uac` and `Require: timer`; then the trunk never refreshes. We must
// not refresh in its place, and must hang up ourselves before the session expires: a BYE 60 s after
// the 200 (§10: 90 - min(32, 90/3)), with `Reason: SIP;cause=408`, and the call ends with
// endReason `session-expired`. The browser hears the trunk's 1 kHz tone until then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sipHeader as header } from './fixtures/headless.mjs';
import { TOLERANCE_S, timerTrunkCall, trunkMessages } from './fixtures/session-timer.mjs';
import { FAR_HZ, sippExit, startPhone } from './calls.mjs';

/** RFC 4028 §10: the session expires at 90 s; we give up min(32, 90/3) = 30 s before that. */
const EXPECTED_BYE_S = 60;


test('session timer: the far end is the refresher and goes silent; we hang up 60 s after the 200', async (t) => {
  // The trunk's INVITE asks for an automatic answer: server control is on for this test.
  const phone = await startPhone(t, 'call-session-timer-expiry', { settings: { autoAnswer: 'headers' } });
  const { trunk, active, id, media } = await timerTrunkCall(t, phone, 'uac_session_timer_expiry.xml', { name: 'trunk-st-expiry' });

  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 90000, what: 'the end of the call' });
  await media.stop();
  const code = await sippExit(trunk, 10000);
  const messages = await trunkMessages(phone, trunk);
  assert.equal(code, 0, `the trunk's scenario passes (sipp checked the 200's timer, no refresh from us, our BYE and its Reason): ${trunk.output().slice(-3000)}`);
  assert.equal(ended.call.endReason, 'session-expired', 'the call event says why it ended');

  const ok = messages.find((m) => m.dir === 'received' && m.status === 200 && m.cseq === '1 INVITE');
  assert.ok(ok, 'the INVITE was answered 200');
  assert.equal(header(ok.text, 'Session-Expires'), '90;refresher=uac', 'the trunk refreshes, every 90 s');
  assert.match(header(ok.text, 'Require') || '', /\btimer\b/, 'a UAS leaving the refreshes to the UAC requires the extension');
  assert.ok(!messages.some((m) => m.dir === 'received' && (m.method === 'INVITE' || m.method === 'UPDATE')),
    'we did not refresh in the trunk\'s place');

  const bye = messages.find((m) => m.dir === 'received' && m.method === 'BYE');
  assert.ok(bye, 'we hung up with a BYE');
  const byeAfterS = (bye.time - ok.time) / 1000;
  phone.ext.note(`our BYE reached the trunk ${byeAfterS.toFixed(3)} s after our 200 (expected ${EXPECTED_BYE_S} s); Reason: ${header(bye.text, 'Reason')}`);
  console.log(`session expiry: our BYE arrived ${byeAfterS.toFixed(3)} s after our 200 (RFC 4028: 90 - min(32, 30) = 60 s)`);
  assert.ok(Math.abs(byeAfterS - EXPECTED_BYE_S) <= TOLERANCE_S,
    `the BYE came ${byeAfterS.toFixed(1)} s after the 200; expected ${EXPECTED_BYE_S} ±${TOLERANCE_S} s`);
  assert.match(header(bye.text, 'Reason') || '', /^SIP\s*;\s*cause=408\b/, 'the BYE says why (RFC 3326)');

  // The audio flowed until we hung up.
  const heard = media.check(FAR_HZ, active.at + 1000, bye.time - 1000);
  phone.ext.note(`${heard.length} media samples from the answer to the BYE; packets ${heard[0].packetsReceived} → ${heard[heard.length - 1].packetsReceived}`);
});
