// @ts-check
// The context menu (docs/HEADLESS.md): "Call this number with Ferrophone" on a sip: link asks
// first (a notification naming the target; security-link-dial-confirm covers it in depth) and
// dials bob (the lab's baresip phone answers by itself) once its "Call" button is pressed; "Call
// “bob” with Ferrophone" on a selection dials at once; a web link is refused. A keyboard command
// (Alt+Shift+H) hangs each call up.
//
// How the menu is driven: headless Chromium cannot pick an item of its native context menu (the
// DevTools protocol reaches the page, not the menu), so the spec (1) checks that sw.js created
// both items in Chrome (contextMenus.update on an id fails for an item that does not exist), and
// (2) fires the real `chrome.contextMenus.onClicked` event object from inside the worker with its
// `dispatch` method and the same OnClickData Chrome builds for a click on a link or a selection:
// every listener sw.js registered runs, as when a person clicks the item — no test hook in the
// product. (That Chrome shows the link item on tel:/sip:/sips:/callto: links only was checked in a
// real, headed menu: see docs/HEADLESS.md.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { pressAltShift, recordCallEvents, registeredAlice, waitCallEvent } from './fixtures/headless.mjs';

test('context menu: a sip: link and a selection dial bob; a web link is refused', async (t) => {
  const { ext, page } = await registeredAlice('headless-context-menu');
  t.after(() => ext.close());
  const callEvents = await recordCallEvents(page);
  const worker = ext.worker();
  assert.ok(worker);

  // Both items exist in Chrome's menu registry (created by sw.js when the extension was installed).
  for (const id of ['ferrophone-call-selection', 'ferrophone-call-link']) {
    /** @type {string} */
    const error = await worker.evaluate((itemId) => new Promise((resolve) => {
      chrome.contextMenus.update(itemId, {}, () => resolve(chrome.runtime.lastError ? String(chrome.runtime.lastError.message) : ''));
    }), id);
    assert.equal(error, '', `context menu item ${id} exists`);
  }
  /** @type {string} */
  const missing = await worker.evaluate(() => new Promise((resolve) => {
    chrome.contextMenus.update('no-such-item', {}, () => resolve(chrome.runtime.lastError ? String(chrome.runtime.lastError.message) : ''));
  }));
  assert.match(String(missing), /cannot find|not found/i, 'the existence check can fail');
  assert.ok(!ext.lines.some((l) => /context menu item .* not created/.test(l)), 'no item was refused by Chrome');

  const tab = await ext.ctx.newPage();
  await tab.setContent('<p>Call <a href="sip:bob@127.0.0.1">bob</a> or <a href="https://example.com/">the web</a>.</p>');
  /**
   * Fires onClicked as Chrome does for a click on the item (OnClickData).
   * @param {Record<string, unknown>} info
   */
  const click = (info) => worker.evaluate((data) => {
    /** @type {any} */ (chrome.contextMenus.onClicked).dispatch(
      { editable: false, frameId: 0, pageUrl: 'about:blank', ...data },
      undefined,
    );
  }, info);

  // A web link is not a phone number: nothing is dialled.
  await click({ menuItemId: 'ferrophone-call-link', linkUrl: 'https://example.com/' });
  await sleep(300);
  assert.equal((await callEvents()).length, 0, 'no call for a web link');
  assert.ok(ext.lines.some((l) => /\[ferrophone\] context menu dial: /.test(l) && !/: ok$/.test(l)), 'the refusal is logged');

  // "Call this number with Ferrophone" on the sip: link: a confirmation first, then "Call" (the
  // notification's button event, fired in the worker like the menu click above).
  await click({ menuItemId: 'ferrophone-call-link', linkUrl: 'sip:bob@127.0.0.1' });
  /** @type {[string, any] | undefined} */
  const confirmation = await poll(async () => Object.entries(await worker.evaluate(() => chrome.notifications.getAll()))
    .find(([id]) => id.startsWith('ferrophone-confirm-')), { timeoutMs: 5000 });
  assert.ok(confirmation, 'the link dial asks for confirmation');
  await sleep(500);
  assert.equal((await callEvents()).length, 0, 'nothing dialled before Call');
  await worker.evaluate((id) => {
    /** @type {any} */ (chrome.notifications.onButtonClicked).dispatch(id, 0);
  }, confirmation[0]);
  const viaLink = await waitCallEvent(callEvents, (e) => e.call.direction === 'outgoing', 'the call from the link', 5000);
  assert.equal(viaLink.call.remote, 'sip:bob@127.0.0.1');
  await waitCallEvent(callEvents, (e) => e.call.id === viaLink.call.id && e.call.state === 'active', 'bob answering', 15000);
  await pressAltShift(ext.ctx, tab, 'H');
  const first = await waitCallEvent(callEvents, (e) => e.call.id === viaLink.call.id && e.call.state === 'ended', 'the hang-up', 5000);
  assert.equal(first.call.endReason, 'local-hangup');

  // "Call “bob” with Ferrophone" on selected text.
  await click({ menuItemId: 'ferrophone-call-selection', selectionText: 'bob' });
  const viaSelection = await waitCallEvent(callEvents, (e) => e.call.direction === 'outgoing' && e.call.id !== viaLink.call.id, 'the call from the selection', 5000);
  assert.equal(viaSelection.call.remote, 'sip:bob@127.0.0.1');
  await waitCallEvent(callEvents, (e) => e.call.id === viaSelection.call.id && e.call.state === 'active', 'bob answering again', 15000);
  await pressAltShift(ext.ctx, tab, 'H');
  const second = await waitCallEvent(callEvents, (e) => e.call.id === viaSelection.call.id && e.call.state === 'ended', 'the second hang-up', 5000);
  assert.equal(second.call.endReason, 'local-hangup');
  assert.equal(ext.lines.filter((l) => l.includes('[ferrophone] context menu dial: ok')).length, 1, 'the selection dialled at once');
  assert.equal(ext.lines.filter((l) => /\[ferrophone\] link dial \S+: confirmed, dial: ok/.test(l)).length, 1, 'the link dialled after Call');
});
