// @ts-check
// Every automatic answer is visible and audible (issue 12, DESIGN.md "Trust model"): a call the
// phone answers without a user action raises a notification naming the caller (display name and
// URI) and the offscreen document plays the zip tone (two short beeps). A call the user answers
// gets neither.
//
// What Chrome shows: chrome.notifications.getAll() lists ids only, so the options of each
// notification are recorded on their way into Chrome by wrapping chrome.notifications.create in
// the worker (the wasm glue looks it up at every call); getAll() proves Chrome shows it. The tone:
// the offscreen document's `tone-zip` request log and its `media-calls` counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { recordCallEvents, registeredAlice, startSipp } from './fixtures/headless.mjs';

test('an automatically answered call is announced: notification naming the caller + zip tone', async (t) => {
  const { ext, page } = await registeredAlice('security-auto-answer-announced');
  t.after(() => ext.close());
  // Honour the server's auto-answer requests (the default policy is "never").
  await page.evaluate(() => chrome.storage.sync.set({ settings: { version: 1, autoAnswer: 'headers' } }));
  await sleep(500);
  const callEvents = await recordCallEvents(page);
  const worker = ext.worker();
  assert.ok(worker);
  await worker.evaluate(() => {
    const g = /** @type {any} */ (globalThis);
    g.createdNotifications = {};
    const create = chrome.notifications.create.bind(chrome.notifications);
    /** @type {any} */ (chrome.notifications).create = (/** @type {string} */ id, /** @type {any} */ options) => {
      g.createdNotifications[id] = options;
      return create(id, options);
    };
  });
  /** @returns {Promise<Record<string, any>>} */
  const created = () => worker.evaluate(() => /** @type {any} */ (globalThis).createdNotifications);
  /** @param {number} from */
  const incoming = async (from) => {
    const id = await poll(async () => (await callEvents()).slice(from).find((e) => e.call.direction === 'incoming')?.call.id, { timeoutMs: 5000 });
    assert.ok(id, 'the incoming call appeared');
    return id;
  };
  /** @param {string} callId */
  const zipRequested = (callId) => ext.lines.some((l) => l.includes('[offscreen]') && l.includes(`tone-zip ${callId}: ok`));

  for (const delay of [0, 1]) {
    await t.test(`answer-after=${delay}: notification + zip tone`, async () => {
      const from = (await callEvents()).length;
      const running = startSipp({
        scenario: 'uac_autoanswer_named.xml', name: `named-${delay}`, artifacts: ext.artifacts, note: ext.note, durationMs: 2500,
        keys: { aa_header: `Call-Info: <sip:127.0.0.1>;answer-after=${delay}`, aa_header2: 'X-Lab: announced' },
      });
      const callId = await incoming(from);
      await poll(async () => (await callEvents()).some((e) => e.call.id === callId && e.call.state === 'active'), { timeoutMs: 5000 });
      const notificationId = `ferrophone-auto-answer-${callId}`;
      const shown = await poll(async () => notificationId in (await worker.evaluate(() => chrome.notifications.getAll())), { timeoutMs: 3000 });
      assert.ok(shown, 'Chrome shows the notification (getAll)');
      const options = (await created())[notificationId];
      ext.note(`notification: ${JSON.stringify(options)}`);
      assert.equal(options.title, 'Call answered automatically');
      assert.match(options.message, /"Front Door" <sip:trunk@127\.0\.0\.1(:\d+)?>/, 'it names the caller: display name and URI');
      // The zip tone reached the offscreen document and played, during the call.
      const played = await poll(async () => {
        const r = await ext.send({ ferrophone: 1, target: 'offscreen', type: 'media-calls' }).catch(() => undefined);
        return r && r.ok && r.zipTones > 0 ? r : undefined;
      }, { timeoutMs: 3000 });
      assert.ok(played, 'media-calls: the zip tone played');
      assert.ok(zipRequested(callId), `tone-zip ${callId} reached the offscreen document`);
      const run = await running;
      assert.equal(run.code, 0, `sipp completed the call (${run.stderr.slice(-500)})`);
    });
  }

  await t.test('a call the user answers is not announced', async () => {
    const from = (await callEvents()).length;
    const running = startSipp({ scenario: 'uac_ring_until_bye.xml', name: 'by-hand', artifacts: ext.artifacts, note: ext.note, timeoutS: 30 });
    const callId = await incoming(from);
    await sleep(500);
    const reply = await ext.send({ ferrophone: 1, cmd: 'answer', id: callId });
    assert.ok(reply.ok, JSON.stringify(reply));
    await poll(async () => (await callEvents()).some((e) => e.call.id === callId && e.call.state === 'active'), { timeoutMs: 5000 });
    await sleep(1000);
    assert.ok(!(`ferrophone-auto-answer-${callId}` in (await created())), 'no auto-answer notification');
    assert.ok(!zipRequested(callId), 'no zip tone');
    await ext.send({ ferrophone: 1, cmd: 'hangup', id: callId });
    const run = await running;
    assert.equal(run.code, 0, `sipp: answered, then our BYE (${run.stderr.slice(-500)})`);
  });
});
