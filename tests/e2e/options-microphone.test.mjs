// @ts-check
// "Grant microphone" on the visible options page obtains the microphone and releases it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension } from './harness.mjs';

test('Grant microphone reports the granted device', async (t) => {
  const ext = await launchExtension('options-microphone');
  t.after(() => ext.close());
  const page = await ext.options();

  await page.getByRole('button', { name: 'Grant microphone' }).click();
  const result = page.locator('#grant-mic-result');
  await result.filter({ hasText: /Granted|Denied/ }).waitFor();
  await ext.screenshot(page, 'granted');
  assert.match(await result.innerText(), /^Granted: Fake Default Audio Input\.$/);
  assert.equal(await result.getAttribute('data-kind'), 'ok');
});
