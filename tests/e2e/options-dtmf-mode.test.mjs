// @ts-check
// The DTMF mode on the options page ("Keypad digits (DTMF)" in Behaviour), used as a person would:
// it shows what is stored when the page opens (a value written elsewhere, e.g. by Chrome sync,
// included), it is chosen with the keyboard like any radio group, and Apply stores `dtmfMode`
// merged into `settings`, keeping the fields the page does not show. An unknown stored value shows
// the default, as the worker treats it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension, poll } from './harness.mjs';

/** @typedef {import('playwright-core').Page} Page */

const IN_AUDIO = 'In the audio (RFC 4733)';
const AS_INFO = 'As SIP INFO messages';

/**
 * Which choice the page shows, once it has loaded the stored settings.
 * @param {Page} page
 * @returns {Promise<string[]>}  the labels of the checked options
 */
async function shown(page) {
  /** @type {string[]} */
  const checked = [];
  for (const label of [IN_AUDIO, AS_INFO]) if (await page.getByLabel(label).isChecked()) checked.push(label);
  return checked;
}

/** Reopens the page and waits until the behaviour form shows `expected`. @param {Page} page @param {string} expected */
async function reopenShows(page, expected) {
  await page.reload();
  const ok = await poll(async () => (await shown(page)).join() === expected, { timeoutMs: 3000 });
  assert.ok(ok, `after opening, the page shows ${JSON.stringify(expected)}, not ${JSON.stringify(await shown(page))}`);
}

/** Presses Apply; returns the message shown next to it. @param {Page} page */
async function apply(page) {
  await page.locator('#behaviour-result').evaluate((el) => { el.textContent = ''; });
  await page.getByRole('button', { name: 'Apply' }).click();
  const result = page.locator('#behaviour-result');
  await result.filter({ hasText: /\S/ }).waitFor({ timeout: 5000 });
  return result.innerText();
}

test('the DTMF mode is shown from storage, chosen with the keyboard and applied into settings', async (t) => {
  const ext = await launchExtension('options-dtmf-mode');
  t.after(() => ext.close());
  const page = await ext.options();

  // Nothing stored: the default, with its hint attached to the group.
  assert.deepEqual(await shown(page), [IN_AUDIO], 'RFC 4733 by default');
  const group = page.getByRole('group', { name: 'Keypad digits (DTMF)' });
  const hintId = await group.getAttribute('aria-describedby');
  assert.ok(hintId, 'the group is described by a hint');
  const hint = await page.locator(`#${hintId}`).innerText();
  assert.match(hint, /telephone-event/, `the hint says when to pick SIP INFO: ${hint}`);
  assert.match(hint, /lost/, 'including digits lost on the way');

  // Settings written elsewhere (another device, through sync): the page shows them when opened.
  const elsewhere = { version: 1, dtmfMode: 'info', registerExpires: 300, keepaliveInterval: 20, autoAnswer: 'always' };
  await page.evaluate((s) => chrome.storage.sync.set({ settings: s }), elsewhere);
  await reopenShows(page, AS_INFO);
  assert.equal(await page.getByLabel('Always answer automatically (kiosk, intercom)').isChecked(), true);

  // Back to RFC 4733 with the keyboard (arrow keys move within a radio group), then Apply.
  await page.getByLabel(AS_INFO).focus();
  await page.keyboard.press('ArrowUp');
  assert.deepEqual(await shown(page), [IN_AUDIO], 'ArrowUp selects "In the audio"');
  assert.equal(await apply(page), 'Applied.');
  const stored = (await ext.storage('sync')).settings;
  assert.equal(stored.dtmfMode, 'rfc4733', `stored: ${JSON.stringify(stored)}`);
  assert.equal(stored.registerExpires, 300, 'a field the page does not show is kept');
  assert.equal(stored.keepaliveInterval, 20, 'a field the page does not show is kept');
  assert.equal(stored.autoAnswer, 'always', 'the other behaviour fields are kept as shown');
  await reopenShows(page, IN_AUDIO);

  // And to SIP INFO again: stored, and shown after reopening.
  await page.getByLabel(AS_INFO).check();
  assert.equal(await apply(page), 'Applied.');
  assert.equal((await ext.storage('sync')).settings.dtmfMode, 'info');
  await reopenShows(page, AS_INFO);
  await ext.screenshot(page, 'info');

  // A value neither mode knows: the default is shown (the worker uses RFC 4733 for it too), and
  // Apply stores a valid mode.
  await page.evaluate(() => chrome.storage.sync.set({ settings: { version: 1, dtmfMode: 'inband' } }));
  await reopenShows(page, IN_AUDIO);
  const worker = await poll(async () => {
    const reply = await ext.send({ ferrophone: 1, cmd: 'diagnostics' });
    return reply && reply.ok && reply.settings.dtmfMode === 'rfc4733' ? reply.settings : undefined;
  }, { timeoutMs: 3000 });
  assert.ok(worker, 'the worker reads "inband" as rfc4733 too');
  assert.equal(await apply(page), 'Applied.');
  assert.equal((await ext.storage('sync')).settings.dtmfMode, 'rfc4733');
});
