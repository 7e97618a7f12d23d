// @ts-check
// BroadSoft remote answer (docs/HEADLESS.md): a call with no auto-answer header rings — 180, no
// 200 for 3 s, the ringtone plays — until the server sends an in-dialog NOTIFY with `Event: talk`
// (sipp, with the To tag and route set of our 180). Ferrophone answers the NOTIFY with 200 and
// then answers the call: the 200 to the INVITE follows the NOTIFY, and the call becomes active.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { recordCallEvents, registeredAlice, startSipp, waitCallEvent } from './fixtures/headless.mjs';

test('a ringing call is answered by NOTIFY Event: talk', async (t) => {
  const { ext, page } = await registeredAlice('headless-notify-talk', { settings: { autoAnswer: 'headers' } });
  t.after(() => ext.close());
  const callEvents = await recordCallEvents(page);

  const running = startSipp({ scenario: 'uac_notify_talk.xml', name: 'notify-talk', artifacts: ext.artifacts, note: ext.note, durationMs: 500 });
  const ringing = await waitCallEvent(callEvents, (e) => e.call.direction === 'incoming' && e.call.state === 'ringing', 'a ringing incoming call');
  assert.equal(ringing.call.autoAnswer, false, 'no automatic answer was requested');
  const ringtone = await poll(async () => {
    const r = await ext.send({ ferrophone: 1, target: 'offscreen', type: 'media-calls' }).catch(() => undefined);
    return r && r.ok && r.ringtone === true && r.ringing.includes(ringing.call.id) ? r : undefined;
  }, { timeoutMs: 2000 });
  assert.ok(ringtone, 'the ringtone plays while the call waits');

  const run = await running;
  assert.equal(run.code, 0, `sipp: 180, no 200 for 3 s, NOTIFY talk → 200, then the INVITE's 200 (${run.stderr.slice(-500)})`);
  const sent = run.messages.filter((m) => m.dir === 'sent');
  const received = run.messages.filter((m) => m.dir === 'received');
  const invite = sent.find((m) => m.method === 'INVITE');
  const notify = sent.find((m) => m.method === 'NOTIFY');
  const ringingAt = received.find((m) => m.status === 180);
  const notifyOk = received.find((m) => m.status === 200 && /NOTIFY$/.test(m.cseq));
  const inviteOk = received.find((m) => m.status === 200 && /INVITE$/.test(m.cseq));
  assert.ok(invite && notify && ringingAt && notifyOk && inviteOk, 'the trace holds INVITE, 180, NOTIFY, 200 (NOTIFY), 200 (INVITE)');
  assert.match(notify.text, /^Event: talk\r?$/m);
  assert.ok(notify.time - invite.time >= 3000, 'the call rang at least 3 s unanswered before the NOTIFY');
  assert.ok(inviteOk.time > notify.time, 'the INVITE was answered only after the NOTIFY');
  ext.note(`NOTIFY talk → 200 (NOTIFY) in ${Math.round(notifyOk.time - notify.time)} ms, → 200 (INVITE) in ${Math.round(inviteOk.time - notify.time)} ms`);
  assert.ok(inviteOk.time - notify.time < 2000, `answered ${Math.round(inviteOk.time - notify.time)} ms after the NOTIFY`);

  const id = ringing.call.id;
  await waitCallEvent(callEvents, (e) => e.call.id === id && e.call.state === 'active', 'the call becoming active');
  const ended = await waitCallEvent(callEvents, (e) => e.call.id === id && e.call.state === 'ended', 'the call ending');
  assert.equal(ended.call.endReason, 'remote-hangup', 'the caller hung up at the end');
  assert.ok(ext.lines.some((l) => l.includes(`call ${id}: remote answer (NOTIFY talk)`)), 'the worker logged the remote answer');
});
