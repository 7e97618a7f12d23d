// @ts-check
// A dial from a LINK asks first (docs/HEADLESS.md, issue 12): a link's visible text can hide any
// address (a premium number, an attacker's URI), so "Call this number with Ferrophone" on a link
// shows the REAL target in a notification ("Call <target>?", buttons Call / Cancel) and sends no
// INVITE until "Call" is pressed. "Cancel", closing the notification, and letting it expire (30 s)
// never dial — not even when "Call" is pressed afterwards; nor does a confirmation left on screen
// by a worker Chrome stopped (the next worker clears it).
//
// How it is driven: headless Chromium has no notification centre to click in, so the spec fires
// the real `chrome.notifications.onButtonClicked` / `onClosed` events inside the worker with their
// `dispatch` method (as headless-context-menu does for the menu): every listener sw.js registered
// runs exactly as for a person's click. There is no test-only route in the product: the only way
// to the dial is the notification's button event, which web pages and other extensions cannot
// fire. What Chrome shows is read back with `chrome.notifications.getAll()`; "no INVITE" is read
// from the extension's own SIP trace (the diagnostics reply) and from the call events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { diagnostics } from './lab.mjs';
import { pressAltShift, recordCallEvents, registeredAlice, waitCallEvent } from './fixtures/headless.mjs';

/**
 * The calls we placed, by the Call-IDs of the INVITEs in the extension's own SIP trace (a call's
 * INVITE repeated with credentials after a 407 is the same call).
 * @param {any} diag
 */
const invitesIn = (diag) => [...new Set(((diag.ua && diag.ua.trace) || [])
  .filter((/** @type {{direction: string, text: string}} */ e) => e.direction === 'out' && e.text.startsWith('INVITE '))
  .map((/** @type {{text: string}} */ e) => (/^(?:Call-ID|i):\s*(\S+)/im.exec(e.text) || [])[1]))];

test('a link dial shows the real target and dials only after "Call"', async (t) => {
  const { ext, page } = await registeredAlice('security-link-dial-confirm');
  t.after(() => ext.close());
  const callEvents = await recordCallEvents(page);
  const worker = ext.worker();
  assert.ok(worker);
  const invites = async () => invitesIn(await diagnostics(ext));

  /** Fires contextMenus.onClicked as Chrome does for a click on the link item. @param {string} linkUrl */
  const clickLink = (linkUrl) => worker.evaluate((url) => {
    /** @type {any} */ (chrome.contextMenus.onClicked).dispatch(
      { menuItemId: 'ferrophone-call-link', linkUrl: url, editable: false, frameId: 0, pageUrl: 'https://attacker.example/page' },
      undefined,
    );
  }, linkUrl);
  // chrome.notifications.getAll() lists only ids: what each notification says is recorded on its
  // way into Chrome by wrapping chrome.notifications.create in the worker (the wasm glue looks
  // the function up at every call).
  await worker.evaluate(() => {
    const g = /** @type {any} */ (globalThis);
    g.createdNotifications = {};
    const create = chrome.notifications.create.bind(chrome.notifications);
    /** @type {any} */ (chrome.notifications).create = (/** @type {string} */ id, /** @type {any} */ options) => {
      g.createdNotifications[id] = options;
      return create(id, options);
    };
  });
  /** @returns {Promise<Record<string, any>>} the notifications Chrome shows for us now, by id */
  const shown = () => worker.evaluate(() => chrome.notifications.getAll());
  /** Waits for a new confirmation notification; returns [id, options]. @param {Set<string>} known */
  const newConfirmation = async (known) => {
    const id = await poll(async () => Object.keys(await shown()).find((n) => n.startsWith('ferrophone-confirm-') && !known.has(n)), { timeoutMs: 5000 });
    assert.ok(id, 'a confirmation notification appeared');
    known.add(id);
    /** @type {any} */
    const options = await worker.evaluate((n) => /** @type {any} */ (globalThis).createdNotifications[n], id);
    return /** @type {[string, any]} */ ([id, options]);
  };
  /** @param {string} id @param {number} index  0 = Call, 1 = Cancel */
  const press = (id, index) => worker.evaluate(([nid, i]) => {
    /** @type {any} */ (chrome.notifications.onButtonClicked).dispatch(nid, i);
  }, /** @type {[string, number]} */ ([id, index]));
  const known = new Set();

  // 1. A link whose text says "Support" but whose href is a premium number: nothing is dialled,
  //    the notification names the real number; Cancel → never dialled.
  const tab = await ext.ctx.newPage();
  await tab.setContent('<p><a href="tel:+1-900-555-0100">Call Support (free)</a></p>');
  await clickLink('tel:+1-900-555-0100');
  const [premiumId, premium] = await newConfirmation(known);
  ext.note(`confirmation shown: ${JSON.stringify(premium)}`);
  assert.equal(premium.title, 'Call sip:+19005550100@127.0.0.1;user=phone?', 'the title names the real target');
  assert.deepEqual(premium.buttons.map((/** @type {{title: string}} */ b) => b.title), ['Call', 'Cancel']);
  assert.match(premium.message, /attacker\.example/, 'it says which site the link came from');
  assert.equal(premium.requireInteraction, true, 'it stays until answered');
  await sleep(2000);
  assert.equal((await callEvents()).length, 0, 'no call while the confirmation waits');
  assert.deepEqual(await invites(), [], 'no INVITE while the confirmation waits');
  await press(premiumId, 1);
  await poll(async () => !(premiumId in (await shown())), { timeoutMs: 3000 });
  assert.ok(!(premiumId in (await shown())), 'Cancel removes the notification');
  await press(premiumId, 0); // a late "Call" on the cancelled confirmation
  await sleep(1500);
  assert.equal((await callEvents()).length, 0, 'Cancel: no call, even when Call is pressed afterwards');
  assert.deepEqual(await invites(), [], 'Cancel: no INVITE ever');
  assert.ok(ext.lines.some((l) => l.includes(`link dial ${premiumId}: cancelled by the user`)));

  // A link whose address is too long to show in full is refused outright.
  await clickLink(`sip:${'support-'.repeat(12)}@attacker.example`);
  await sleep(1000);
  assert.ok(ext.lines.some((l) => /context menu dial: this link's address is longer than 100 characters/.test(l)), 'a too long target is refused');
  assert.equal(Object.keys(await shown()).filter((n) => n.startsWith('ferrophone-confirm-') && !known.has(n)).length, 0, 'no confirmation for it');

  // 2. Closing the notification (the ✕) cancels too.
  await clickLink('sip:bob@127.0.0.1');
  const [closedId] = await newConfirmation(known);
  await worker.evaluate((nid) => {
    /** @type {any} */ (chrome.notifications.onClosed).dispatch(nid, true);
  }, closedId);
  await press(closedId, 0);
  await sleep(1500);
  assert.equal((await callEvents()).length, 0, 'closed: no call');
  assert.deepEqual(await invites(), [], 'closed: no INVITE');

  // 3. sip:bob link → no INVITE until Call; Call → bob is dialled and answers.
  await clickLink('sip:bob@127.0.0.1');
  const [bobId, bobNote] = await newConfirmation(known);
  assert.equal(bobNote.title, 'Call sip:bob@127.0.0.1?');
  await sleep(2000);
  assert.deepEqual(await invites(), [], 'no INVITE before Call');
  const before = Date.now();
  await press(bobId, 0);
  const call = await waitCallEvent(callEvents, (e) => e.call.direction === 'outgoing', 'the confirmed call', 5000);
  ext.note(`Call pressed → call event after ${call.at - before} ms`);
  assert.equal(call.call.remote, 'sip:bob@127.0.0.1');
  await waitCallEvent(callEvents, (e) => e.call.id === call.call.id && e.call.state === 'active', 'bob answering', 15000);
  assert.equal((await invites()).length, 1, 'exactly one call (INVITE), after Call');
  assert.ok(!(bobId in (await shown())), 'the confirmation is gone once used');
  await pressAltShift(ext.ctx, tab, 'H');
  await waitCallEvent(callEvents, (e) => e.call.id === call.call.id && e.call.state === 'ended', 'the hang-up', 5000);

  // 4. An unanswered confirmation expires after 30 s and never dials, even if Call comes later.
  const calls = (await callEvents()).length;
  await clickLink('sip:bob@127.0.0.1');
  const [lateId] = await newConfirmation(known);
  const gone = await poll(async () => !(lateId in (await shown())), { timeoutMs: 35000, intervalMs: 500 });
  assert.ok(gone, 'the confirmation disappeared by itself within 35 s');
  assert.ok(ext.lines.some((l) => l.includes(`link dial ${lateId}: not confirmed within 30 s`)));
  await press(lateId, 0);
  await sleep(1500);
  assert.equal((await callEvents()).length, calls, 'expired: no call');
  assert.equal((await invites()).length, 1, 'expired: no INVITE');

  // 5. Chrome stops the worker while a confirmation waits: its timer and its memory are gone. The
  //    worker that starts next clears the orphaned notification, and "Call" on it dials nothing.
  await clickLink('sip:bob@127.0.0.1');
  const [orphanId] = await newConfirmation(known);
  const cdp = await ext.ctx.newCDPSession(page);
  /** @type {Map<string, string>} versionId → runningStatus */
  const running = new Map();
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) running.set(v.versionId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  const stopped = await poll(async () => running.size > 0 && [...running.values()].every((st) => st === 'stopped'), { timeoutMs: 5000 });
  assert.ok(stopped, 'the worker stopped');
  const pageShown = () => page.evaluate(() => chrome.notifications.getAll());
  assert.ok(orphanId in (await pageShown()), 'the confirmation is still on screen after the worker stopped');
  const woke = await page.evaluate(() => chrome.runtime.sendMessage({ ferrophone: 1, cmd: 'status' }));
  assert.equal(woke.ok, true, 'a message wakes the worker');
  const cleared = await poll(async () => !(orphanId in (await pageShown())), { timeoutMs: 5000 });
  assert.ok(cleared, 'the new worker cleared the orphaned confirmation');
  const newWorker = await poll(async () => ext.worker(), { timeoutMs: 5000 });
  assert.ok(newWorker);
  await newWorker.evaluate((nid) => {
    /** @type {any} */ (chrome.notifications.onButtonClicked).dispatch(nid, 0);
  }, orphanId);
  await sleep(1500);
  assert.equal((await callEvents()).length, calls, 'orphaned: no call');
  assert.ok(ext.lines.some((l) => l.includes(`link dial ${orphanId}: unknown or expired, not dialled`)));
  await cdp.detach().catch(() => {});
});
