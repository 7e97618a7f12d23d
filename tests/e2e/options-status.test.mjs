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
  assert.equal(await line.innerText(), 'not configured');

  const worker = ext.worker();
  assert.ok(worker);
  /** @param {object} event */
  const broadcast = (event) => worker.evaluate((e) => chrome.runtime.sendMessage(e).catch(() => undefined), event);
  /** @type {[object, string][]} */
  const cases = [
    [{ registration: { state: 'connecting' }, connection: { state: 'connecting' } }, 'connecting…'],
    [{ registration: { state: 'registering' }, connection: { state: 'open' } }, 'registering…'],
    [{ registration: { state: 'registered', expiresIn: 300 }, connection: { state: 'open' } }, 'registered (expires in 300 s)'],
    [{ registration: { state: 'auth-failed', reason: '403 Forbidden' }, connection: { state: 'open' } }, 'authentication failed — 403 Forbidden'],
    [{ registration: { state: 'unreachable' }, connection: { state: 'closed', retryIn: 8 } }, 'server unreachable, retrying in 8 s'],
    [{ registration: { state: 'unreachable', reason: 'WebSocket closed (code 1006)' }, connection: { state: 'waiting', retryIn: 2.4 } }, 'server unreachable, retrying in 2 s'],
    [{ registration: { state: 'unregistered' }, connection: { state: 'closed' } }, 'unregistered'],
    [{ registration: { state: 'unregistered', reason: '503 Service Unavailable' }, connection: { state: 'open', retryIn: 30 } }, 'unregistered — 503 Service Unavailable'],
    [{ registration: { state: 'unconfigured', reason: 'stored account is invalid: bad server' }, connection: { state: 'idle' } }, 'not configured — stored account is invalid: bad server'],
  ];
  for (const [event, text] of cases) {
    await broadcast({ ferrophone: 1, event: 'registration', ...event });
    await line.filter({ hasText: text }).waitFor({ timeout: 3000 });
    assert.equal(await line.innerText(), text);
  }
  await ext.screenshot(page, 'status');
});
