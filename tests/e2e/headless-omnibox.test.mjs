// @ts-check
// The omnibox keyword and the keyboard commands (docs/HEADLESS.md): "call bob" entered in the
// address bar dials bob (the lab's baresip phone answers by itself) and the call becomes active;
// Alt+Shift+M mutes it, Alt+Shift+H hangs it up.
//
// How the omnibox is driven: headless Chromium has no address bar that input can reach (the
// DevTools protocol delivers keys to the page, not to the browser's own text fields), so the spec
// fires the real `chrome.omnibox.onInputEntered` event object from inside the worker with its
// `dispatch` method: every listener sw.js registered on it runs, exactly as when Chrome delivers
// an accepted keyword entry — no test hook in the product. The keyboard shortcuts are real: raw key
// events reach Chrome's accelerator handling, which fires chrome.commands.onCommand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { pressAltShift, recordCallEvents, registeredAlice, waitCallEvent } from './fixtures/headless.mjs';

test('omnibox "call bob" dials bob; Alt+Shift+M mutes, Alt+Shift+H hangs up', async (t) => {
  const { ext, page } = await registeredAlice('headless-omnibox');
  t.after(() => ext.close());
  const callEvents = await recordCallEvents(page);
  const worker = ext.worker();
  assert.ok(worker);

  // Chrome registered the keyword from the manifest; sw.js listens on the omnibox's events.
  const omnibox = await worker.evaluate(() => ({
    keyword: chrome.runtime.getManifest().omnibox?.keyword,
    entered: chrome.omnibox.onInputEntered.hasListeners(),
    changed: chrome.omnibox.onInputChanged.hasListeners(),
  }));
  assert.deepEqual(omnibox, { keyword: 'call', entered: true, changed: true });

  // Typing shows a suggestion: onInputChanged answers with the default suggestion (no error).
  await worker.evaluate(() => /** @type {any} */ (chrome.omnibox.onInputChanged).dispatch('bob', () => {}));

  // Something that cannot be dialled is refused, and no call starts.
  await worker.evaluate(() => /** @type {any} */ (chrome.omnibox.onInputEntered).dispatch('  ', 'currentTab'));
  await sleep(300);
  assert.equal((await callEvents()).length, 0, 'an empty entry dials nothing');
  assert.ok(ext.lines.some((l) => /\[ferrophone\] omnibox dial: /.test(l) && !/: ok$/.test(l)), 'the refusal is logged');

  // The person accepts "call bob" in the address bar.
  await worker.evaluate(() => /** @type {any} */ (chrome.omnibox.onInputEntered).dispatch('bob', 'currentTab'));
  const dialled = await waitCallEvent(callEvents, (e) => e.call.direction === 'outgoing', 'the dialled call', 5000);
  assert.equal(dialled.call.remote, 'sip:bob@127.0.0.1', 'bob, completed with the account domain');
  const id = dialled.call.id;
  await waitCallEvent(callEvents, (e) => e.call.id === id && e.call.state === 'active', 'bob answering', 15000);
  assert.ok(ext.lines.some((l) => l.includes('[ferrophone] omnibox dial: ok')));

  // A key that is not Ferrophone's does nothing (Alt+Shift+A belongs to Chrome).
  const tab = await ext.ctx.newPage();
  await tab.goto('about:blank');
  await pressAltShift(ext.ctx, tab, 'A');
  await sleep(300);
  assert.ok(!ext.lines.some((l) => l.includes('keyboard command')), 'Alt+Shift+A is not a Ferrophone command');

  // Alt+Shift+M: mute (the call event says muted), again: unmute.
  let pressed = Date.now();
  await pressAltShift(ext.ctx, tab, 'M');
  await waitCallEvent(callEvents, (e) => e.call.id === id && e.at >= pressed && e.call.muted === true, 'the call muted', 5000);
  assert.ok(await poll(async () => ext.lines.some((l) => l.includes(`[offscreen]`) && l.includes(`call ${id}: muted`))), 'the microphone track was muted');
  pressed = Date.now();
  await pressAltShift(ext.ctx, tab, 'M');
  await waitCallEvent(callEvents, (e) => e.call.id === id && e.at >= pressed && e.call.muted === false, 'the call unmuted', 5000);

  // Alt+Shift+H: hang up.
  await pressAltShift(ext.ctx, tab, 'H');
  const ended = await waitCallEvent(callEvents, (e) => e.call.id === id && e.call.state === 'ended', 'the hang-up', 5000);
  assert.equal(ended.call.endReason, 'local-hangup');
  assert.ok(ext.lines.some((l) => l.includes('[ferrophone] keyboard command hangup: ok')));
  const calls = await ext.send({ ferrophone: 1, cmd: 'calls' });
  assert.deepEqual(calls.calls, [], 'no call left');
});
