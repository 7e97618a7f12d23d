// @ts-check
// The account form, used as a person would: invalid input is refused field by field and nothing is
// stored; a valid account is stored exactly in the documented shape; the password never comes
// back to the page; "device only" keeps it out of sync; the worker picks the account up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchExtension, poll } from './harness.mjs';

/** @typedef {import('playwright-core').Page} Page */

const FIELDS = {
  server: 'Server',
  username: 'Username',
  password: 'Password',
  authUsername: 'Authorization username (optional)',
  domain: 'Domain (optional)',
  displayName: 'Display name (optional)',
};

/**
 * Types the given values into the form (a missing field is left alone, '' clears it) and presses
 * Save; returns the message shown next to the button.
 * @param {Page} page
 * @param {Partial<Record<keyof FIELDS, string>>} values
 */
async function submit(page, values) {
  for (const [field, value] of Object.entries(values)) {
    await page.getByLabel(FIELDS[/** @type {keyof FIELDS} */ (field)], { exact: true }).fill(value);
  }
  await page.locator('#save-result').evaluate((el) => { el.textContent = ''; });
  await page.getByRole('button', { name: 'Save' }).click();
  const result = page.locator('#save-result');
  await result.filter({ hasText: /\S/ }).waitFor();
  return result.innerText();
}

/** @param {Page} page @returns {Promise<Record<string, string>>} field → visible error text */
async function shownErrors(page) {
  /** @type {Record<string, string>} */
  const errors = {};
  for (const field of Object.keys(FIELDS)) {
    const el = page.locator(`#${field}-error`);
    if (await el.isVisible()) errors[field] = await el.innerText();
  }
  return errors;
}

const VALID = {
  server: 'ws://127.0.0.1:9/', // loopback, nothing listens: the connection is refused
  username: '1001',
  authUsername: '',
  domain: '',
  displayName: '',
};

test('the account form validates, stores the documented shape and never shows the password', async (t) => {
  const ext = await launchExtension('options-validation');
  t.after(() => ext.close());
  const page = await ext.options();
  const canary = `canary-${randomUUID()}`;
  const canary2 = `canary-${randomUUID()}`;

  const nothingStored = async (/** @type {string} */ what) => {
    assert.deepEqual(await ext.storage('sync'), {}, `${what}: chrome.storage.sync stays empty`);
    assert.equal((await ext.storage('local')).password, undefined, `${what}: no password in storage.local`);
  };

  // --- invalid input: one message per field, nothing saved -------------------------------------
  /** @type {[string, Partial<Record<keyof FIELDS, string>>, Record<string, RegExp>][]} */
  const invalid = [
    ['empty form', { server: '', username: '', password: '' }, {
      server: /Enter your provider's WebSocket address/,
      username: /Enter your SIP username/,
      password: /Enter the password/,
    }],
    ['not a URL', { ...VALID, server: 'sip.example.com', password: canary }, { server: /not a valid URL/ }],
    ['https scheme', { ...VALID, server: 'https://sip.example.com/ws', password: canary }, { server: /must start with wss:\/\// }],
    ['ws to a remote host', { ...VALID, server: 'ws://sip.example.com/ws', password: canary }, {
      server: /ws:\/\/ is not encrypted and is only allowed to this computer/,
    }],
    ['ws to a private address', { ...VALID, server: 'ws://192.168.1.10:8080/', password: canary }, {
      server: /only allowed to this computer/,
    }],
    ['credentials in the URL', { ...VALID, server: 'wss://1001:secret@sip.example.com/', password: canary }, {
      server: /Do not put a user name or password in the address/,
    }],
    ['empty username', { ...VALID, username: '', password: canary }, { username: /Enter your SIP username/ }],
    ['username with a space', { ...VALID, username: 'front desk', password: canary }, { username: /cannot contain spaces/ }],
    ['username with a domain', { ...VALID, username: '1001@example.com', password: canary }, {
      username: /put the part after it in Domain/,
    }],
    ['domain with a double dot', { ...VALID, domain: 'example..com', password: canary }, { domain: /Enter a domain name/ }],
    ['domain as a SIP URI', { ...VALID, domain: 'sip:example.com', password: canary }, { domain: /Enter a domain name/ }],
    ['domain with a space', { ...VALID, domain: 'exa mple.com', password: canary }, { domain: /Enter a domain name/ }],
    ['no password yet', { ...VALID, password: '' }, { password: /Enter the password/ }],
  ];
  for (const [what, values, expected] of invalid) {
    const result = await submit(page, values);
    assert.match(result, /Not saved/, `${what}: the page says it did not save`);
    const errors = await shownErrors(page);
    assert.deepEqual(Object.keys(errors).sort(), Object.keys(expected).sort(), `${what}: errors shown ${JSON.stringify(errors)}`);
    for (const [field, re] of Object.entries(expected)) assert.match(errors[field], re, `${what}: ${field}`);
    for (const field of Object.keys(expected)) {
      assert.equal(await page.locator(`#${field}`).getAttribute('aria-invalid'), 'true', `${what}: ${field} is marked invalid`);
    }
    await nothingStored(what);
  }
  await ext.screenshot(page, 'invalid');

  // --- a valid account ---------------------------------------------------------------------------
  const full = { server: 'ws://127.0.0.1:9/', username: '1001', password: canary, authUsername: 'auth-1001', domain: 'example.com', displayName: 'Front Desk' };
  assert.equal(await submit(page, full), 'Saved.');
  assert.deepEqual(await shownErrors(page), {});
  const { password: _pw, ...withoutPassword } = full;
  assert.deepEqual(await ext.storage('sync'), { account: { version: 1, ...withoutPassword, password: canary } });
  assert.equal((await ext.storage('local')).password, undefined, 'a synced password is not also kept locally');
  assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the password field is emptied');

  // The worker sees the new account without a reload.
  const status = await poll(async () => {
    const reply = await ext.send({ ferrophone: 1, cmd: 'status' });
    return reply && reply.ok && reply.registration && reply.registration.state !== 'unconfigured' ? reply : null;
  }, { timeoutMs: 5000 });
  ext.note(`status after saving: ${JSON.stringify(status)}`);
  assert.ok(status, 'the worker no longer reports "unconfigured" after the account was saved');

  // After a reload the form shows the account but never the password.
  await page.reload();
  await page.locator('#save-result').waitFor({ state: 'attached' });
  for (const [field, label] of Object.entries(FIELDS)) {
    const expected = field === 'password' ? '' : full[/** @type {keyof typeof full} */ (field)];
    await poll(async () => (await page.getByLabel(label, { exact: true }).inputValue()) === expected, { timeoutMs: 2000 });
    assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), expected, `${field} after reload`);
  }
  assert.match(await page.getByLabel('Password', { exact: true }).getAttribute('placeholder') || '', /saved/);
  assert.equal(await page.getByLabel('Keep the password on this device only (not synced)').isChecked(), false);
  await ext.screenshot(page, 'saved');

  // Loopback ws:// in its other spellings, and wss:// anywhere, are accepted; an empty password keeps the stored one.
  for (const server of ['ws://localhost:9/', 'ws://[::1]:9/', 'wss://127.0.0.1:9/']) {
    assert.equal(await submit(page, { server }), 'Saved.', server);
    const { account } = await ext.storage('sync');
    assert.equal(account.server, server);
    assert.equal(account.password, canary, 'an empty password field keeps the stored password');
  }

  // --- device only: the password leaves sync; optional fields left empty are omitted --------------
  await page.getByLabel('Keep the password on this device only (not synced)').check();
  assert.match(await submit(page, { server: 'ws://127.0.0.1:9/', authUsername: '', domain: '', displayName: '' }), /^Saved\. The password stays on this device\.$/);
  assert.deepEqual(await ext.storage('sync'), { account: { version: 1, server: 'ws://127.0.0.1:9/', username: '1001' } });
  assert.equal((await ext.storage('local')).password, canary);

  // A new password while device-only replaces the local one.
  await submit(page, { password: canary2 });
  assert.equal((await ext.storage('local')).password, canary2);
  assert.equal((await ext.storage('sync')).account.password, undefined);

  // Unticking moves the password back into the synced account and out of storage.local.
  await page.reload();
  assert.equal(await page.getByLabel('Keep the password on this device only (not synced)').isChecked(), true);
  await page.getByLabel('Keep the password on this device only (not synced)').uncheck();
  assert.equal(await submit(page, {}), 'Saved.');
  assert.equal((await ext.storage('sync')).account.password, canary2);
  assert.equal((await ext.storage('local')).password, undefined);

  // --- the password never reached the DOM or any console -----------------------------------------
  await page.reload();
  await page.locator('#status').waitFor();
  const html = await page.content();
  for (const secret of [canary, canary2]) {
    assert.ok(!html.includes(secret), 'the page source never contains the password');
    assert.ok(!ext.lines.some((l) => l.includes(secret)), 'no console line contains the password');
  }
});
