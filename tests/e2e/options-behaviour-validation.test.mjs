// @ts-check
// The behaviour form and the save-config command it shares with the account form, used as a
// person would: the worker checks what was typed with the core's rules and answers per field
// (code and message); the page shows each message next to its field and stores nothing; a valid
// form is merged into `settings`; an empty TURN password keeps the stored one. The typed
// passwords reach the worker through chrome.storage.session, never in a runtime message, and are
// gone from it after each save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchExtension } from './harness.mjs';
import { recordMessages, recordedMessages } from './fixtures/messages.mjs';

/** @typedef {import('playwright-core').Page} Page */

const FIELDS = ['autoAnswerDelayMs', 'trustedRealms', 'iceUrls', 'iceUsername', 'iceCredential', 'iceGatheringTimeoutMs', 'maxCalls', 'allowedExtensions'];

/**
 * Types the values (by element id), presses Apply; returns the message next to the button.
 * @param {Page} page
 * @param {Record<string, string>} values
 */
async function apply(page, values) {
  for (const [id, value] of Object.entries(values)) await page.locator(`#${id}`).fill(value);
  await page.locator('#behaviour-result').evaluate((el) => { el.textContent = ''; });
  await page.getByRole('button', { name: 'Apply' }).click();
  const result = page.locator('#behaviour-result');
  await result.filter({ hasText: /\S/ }).waitFor({ timeout: 5000 });
  return result.innerText();
}

/** @param {Page} page @returns {Promise<Record<string, {text: string, code: string}>>} */
async function shownErrors(page) {
  /** @type {Record<string, {text: string, code: string}>} */
  const errors = {};
  for (const field of FIELDS) {
    const el = page.locator(`#${field}-error`);
    if (await el.isVisible()) errors[field] = { text: await el.innerText(), code: (await el.getAttribute('data-code')) || '' };
  }
  return errors;
}

test('the worker checks the behaviour form field by field and the page shows its answer', async (t) => {
  const ext = await launchExtension('options-behaviour-validation');
  t.after(() => ext.close());
  const page = await ext.options();
  await recordMessages(page);
  const turnCanary = `turn-canary-${randomUUID()}`;
  const sipCanary = `canary-${randomUUID()}`;

  // --- refused: every field at once, nothing stored ----------------------------------------------
  const before = await ext.storage('sync');
  const result = await apply(page, {
    autoAnswerDelayMs: '60001', maxCalls: '9', iceGatheringTimeoutMs: 'soon',
    iceUrls: 'stun:ok.example\nhttp://bad.example\nturn:relay.example:3478', iceUsername: '', iceCredential: '',
    allowedExtensions: 'not-an-id', trustedRealms: 'say "hi"',
  });
  assert.equal(result, 'Not applied: correct the fields marked above.');
  const errors = await shownErrors(page);
  assert.deepEqual(Object.fromEntries(Object.entries(errors).map(([f, e]) => [f, e.code])), {
    autoAnswerDelayMs: 'number-range', maxCalls: 'number-range', iceGatheringTimeoutMs: 'number-range',
    iceUrls: 'ice-url', iceUsername: 'ice-username-missing', iceCredential: 'ice-credential-missing',
    allowedExtensions: 'extension-id', trustedRealms: 'realm-invalid',
  });
  assert.equal(errors.maxCalls.text, 'Enter a whole number of calls from 1 to 8.');
  assert.match(errors.iceUrls.text, /^Not a STUN or TURN address: line 2 \("http:\/\/bad\.example"\)\./);
  assert.equal(errors.iceCredential.text, 'A TURN server needs a password.');
  for (const field of Object.keys(errors)) {
    assert.equal(await page.locator(`#${field}`).getAttribute('aria-invalid'), 'true', `${field} is marked invalid`);
  }
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'autoAnswerDelayMs', 'the first refused field has the focus');
  assert.deepEqual(await ext.storage('sync'), before, 'nothing was stored');
  await ext.screenshot(page, 'refused');

  // --- valid: stored, merged into what was there, the TURN password kept when left empty ---------
  const recorded = await recordedMessages(page); // a reload ends the recorder: keep what it saw
  await page.evaluate(() => chrome.storage.sync.set({ settings: { version: 1, registerExpires: 300, futureField: 'kept' } }));
  await page.reload();
  await page.locator('html[data-loaded="true"]').waitFor({ state: 'attached' });
  await recordMessages(page);
  assert.equal(await page.locator('#maxCalls').inputValue(), '4', 'a number not stored shows its default');
  assert.equal(await apply(page, {
    autoAnswerDelayMs: '500', maxCalls: '2', iceGatheringTimeoutMs: '',
    iceUrls: 'stun:ok.example\nturn:relay.example:3478', iceUsername: 'fpturn', iceCredential: turnCanary,
    allowedExtensions: '', trustedRealms: 'pbx.example\npbx.example',
  }), 'Applied.');
  assert.deepEqual(await shownErrors(page), {});
  assert.deepEqual((await ext.storage('sync')).settings, {
    version: 1, registerExpires: 300, futureField: 'kept',
    autoAnswer: 'never', autoAnswerDelayMs: 500, dtmfMode: 'rfc4733', iceGatheringTimeoutMs: 2000, maxCalls: 2,
    iceServers: [{ urls: ['stun:ok.example'] }, { urls: ['turn:relay.example:3478'], username: 'fpturn', credential: turnCanary }],
    allowedExtensions: [], transferTargets: 'domain', trustedRealms: ['pbx.example'],
  });
  assert.equal(await page.locator('#iceCredential').inputValue(), '', 'the TURN password field is emptied');
  assert.match(await page.locator('#iceCredential').getAttribute('placeholder') || '', /saved/);
  assert.equal(await apply(page, { maxCalls: '3' }), 'Applied.');
  const { settings } = await ext.storage('sync');
  assert.equal(settings.maxCalls, 3);
  assert.equal(settings.iceServers[1].credential, turnCanary, 'an empty TURN password field keeps the stored one');

  // --- the command itself: per-field codes and messages; the account form's fields too ---------
  await page.evaluate((pw) => chrome.storage.session.set({ pendingPassword: pw }), sipCanary);
  const reply = await page.evaluate(() => chrome.runtime.sendMessage({
    ferrophone: 1, cmd: 'save-config', account: { server: 'https://sip.example.com/', username: 'front desk' },
  }));
  assert.deepEqual(reply, {
    ok: false, error: { code: 'invalid-config', message: 'correct the fields marked' },
    fields: {
      server: { code: 'server-scheme', message: 'The address must start with wss:// (SIP over secure WebSocket), not https://.' },
      username: { code: 'username-spaces', message: 'The username cannot contain spaces.' },
    },
  });
  assert.deepEqual(await page.evaluate(() => chrome.storage.session.get(null)), {}, 'the typed secrets are taken out of session storage, even when refused');
  assert.equal((await ext.storage('sync')).account, undefined);
  assert.deepEqual(await ext.send({ ferrophone: 1, cmd: 'save-config' }),
    { ok: false, error: { code: 'bad-request', message: 'save-config needs account or behaviour' } });

  // The typed passwords were in no runtime message or reply.
  const messages = [...recorded, ...await recordedMessages(page)].join('\n');
  assert.ok(messages.includes('"cmd":"save-config"'), 'the save-config messages were recorded');
  assert.ok(!messages.includes(turnCanary), 'the TURN password is in no runtime message');
  assert.ok(!messages.includes(sipCanary), 'the SIP password is in no runtime message');
  assert.ok(!ext.lines.some((l) => l.includes(turnCanary) || l.includes(sipCanary)), 'nor in any console line');
});
