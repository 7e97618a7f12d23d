// @ts-check
// The options page's status line: the worker's `status` reply on load, then `registration` events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension } from './harness.mjs';

test('the status line renders the registration state and follows registration events', async (t) => {
  const ext = await launchExtension('options-status');
  t.after(() => ext.close());
  const page = await ext.options();
  const line = page.locator('#status');

  await page.locator('#status[data-state="unconfigured"]').waitFor({ timeout: 5000 });
  assert.equal(await line.innerText(), 'Not configured: enter your SIP account below.');

  const worker = ext.worker();
  assert.ok(worker);
  /** @param {object} event */
  const broadcast = (event) => worker.evaluate((e) => chrome.runtime.sendMessage(e).catch(() => undefined), event);
  /** @type {[object, string][]} */
  const cases = [
    [{ registration: { state: 'connecting' }, connection: { state: 'connecting' } }, 'Connecting…'],
    [{ registration: { state: 'registering' }, connection: { state: 'open' } }, 'Registering…'],
    [{ registration: { state: 'registered', expiresIn: 300 }, connection: { state: 'open' } }, 'Registered (expires in 300 s)'],
    [{ registration: { state: 'auth-failed', reason: '403 Forbidden' }, connection: { state: 'open' } }, 'Authentication failed: check the username and password — 403 Forbidden'],
    [{ registration: { state: 'unreachable' }, connection: { state: 'closed', retryIn: 8 } }, 'Server unreachable, retrying in 8 s'],
    [{ registration: { state: 'unreachable', reason: 'WebSocket closed (code 1006)' }, connection: { state: 'waiting', retryIn: 2.4 } }, 'Server unreachable, retrying in 2 s — WebSocket closed (code 1006)'],
    [{ registration: { state: 'unregistered' }, connection: { state: 'closed' } }, 'Not registered'],
  ];
  for (const [event, text] of cases) {
    await broadcast({ ferrophone: 1, event: 'registration', ...event });
    await line.filter({ hasText: text }).waitFor({ timeout: 3000 });
    assert.equal(await line.innerText(), text);
  }
  await ext.screenshot(page, 'status');
});
