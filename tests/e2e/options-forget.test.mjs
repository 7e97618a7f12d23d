// @ts-check
// "Forget everything" asks for confirmation, then deletes the account, settings and local data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension } from './harness.mjs';

test('Forget everything deletes the stored account only after confirmation', async (t) => {
  const ext = await launchExtension('options-forget');
  t.after(() => ext.close());
  const page = await ext.options();

  await page.evaluate(() => Promise.all([
    chrome.storage.sync.set({ account: { version: 1, server: 'ws://127.0.0.1:9/', username: '1001' }, settings: { version: 1 } }),
    chrome.storage.local.set({ password: 'forget-me' }),
  ]));
  await page.reload();
  assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), '1001');

  await page.getByRole('button', { name: 'Forget everything…' }).click();
  const confirm = page.getByRole('alertdialog');
  await confirm.waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'hidden' });
  assert.ok((await ext.storage('sync')).account, 'Cancel keeps the account');

  await page.getByRole('button', { name: 'Forget everything…' }).click();
  await ext.screenshot(page, 'confirm');
  await page.getByRole('button', { name: 'Yes, forget everything' }).click();
  await page.locator('#forget-result').filter({ hasText: 'Everything was deleted' }).waitFor();

  const sync = await ext.storage('sync');
  assert.equal(sync.account, undefined);
  assert.equal(sync.settings, undefined);
  assert.equal((await ext.storage('local')).password, undefined);
  assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), '', 'the form is emptied');
  assert.equal(await page.getByLabel('Server', { exact: true }).inputValue(), '');
});
