// @ts-check
// Other extensions (docs/HEADLESS.md, docs/API.md "From another extension"): a second extension
// loaded beside Ferrophone (tests/e2e/fixtures/caller-extension, a stand-in for a CRM) sends
// `{ferrophone: 1, cmd: 'dial', target: 'bob'}` with chrome.runtime.sendMessage(FERROPHONE_ID).
// While its id is not on the allow-list it is refused with `not-allowed` and nothing is dialled;
// after a person adds its id on the options page, it can dial (bob answers, the call is active),
// ask for `status`, and hang up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT, sleep } from './harness.mjs';
import { recordCallEvents, registeredAlice, waitCallEvent } from './fixtures/headless.mjs';

const CALLER_DIR = path.join(REPO_ROOT, 'tests', 'e2e', 'fixtures', 'caller-extension');
/** Fixed by the public key in the fixture's manifest. */
const CALLER_ID = 'lmnmjhohmmdelapbalpkkagofjbdbhhn';

test('another extension is refused until it is on the allow-list, then dials, asks status, hangs up', async (t) => {
  const { ext, page } = await registeredAlice('headless-external', { extensions: [CALLER_DIR] });
  t.after(() => ext.close());
  const callEvents = await recordCallEvents(page);

  const caller = await ext.ctx.newPage();
  await caller.goto(`chrome-extension://${CALLER_ID}/caller.html?ferrophone=${ext.extensionId}`);
  assert.equal(await caller.locator('#own-id').innerText(), CALLER_ID, 'the fixture runs with its fixed id');
  /** Presses a button of the caller extension and returns the reply it shows. @param {string} name */
  const press = async (name) => {
    await caller.locator('#reply').evaluate((el) => { el.textContent = ''; });
    await caller.getByRole('button', { name, exact: true }).click();
    const reply = caller.locator('#reply');
    await reply.filter({ hasText: /^\{/ }).waitFor({ timeout: 10000 });
    const parsed = JSON.parse(await reply.innerText());
    ext.note(`caller extension "${name}" → ${JSON.stringify(parsed)}`);
    return parsed;
  };

  // Not on the allow-list (empty by default): every command is refused, nothing is dialled.
  for (const name of ['Dial', 'Status']) {
    const reply = await press(name);
    assert.equal(reply.ok, false, `${name} is refused`);
    assert.equal(reply.error.code, 'not-allowed');
    assert.match(reply.error.message, new RegExp(CALLER_ID), 'the message names the refused extension');
  }
  await sleep(300);
  assert.equal((await callEvents()).length, 0, 'nothing was dialled');
  await ext.screenshot(caller, 'refused');

  // A person adds the caller's id on the options page.
  await page.bringToFront();
  await page.getByLabel('Extensions allowed to control Ferrophone').fill(`${CALLER_ID}\n`);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#behaviour-result').filter({ hasText: 'Applied.' }).waitFor({ timeout: 5000 });
  assert.deepEqual((await ext.storage('sync')).settings.allowedExtensions, [CALLER_ID]);

  const status = await press('Status');
  assert.equal(status.ok, true, 'status is answered now');
  assert.equal(status.registration.state, 'registered');

  const dialled = await press('Dial');
  assert.equal(dialled.ok, true, 'dial is accepted');
  assert.equal(dialled.call.direction, 'outgoing');
  assert.equal(dialled.call.remote, 'sip:bob@127.0.0.1');
  await waitCallEvent(callEvents, (e) => e.call.id === dialled.call.id && e.call.state === 'active', 'bob answering', 15000);
  const calls = await press('Calls');
  assert.deepEqual(calls.calls.map((/** @type {any} */ c) => [c.id, c.state]), [[dialled.call.id, 'active']]);

  const hungUp = await press('Hang up the last dialled call');
  assert.equal(hungUp.ok, true);
  const ended = await waitCallEvent(callEvents, (e) => e.call.id === dialled.call.id && e.call.state === 'ended', 'the hang-up', 5000);
  assert.equal(ended.call.endReason, 'local-hangup');
  await ext.screenshot(caller, 'allowed');

  // Internal commands stay internal even for an allowed extension.
  await caller.evaluate((id) => chrome.runtime.sendMessage(id, { ferrophone: 1, cmd: 'diagnostics' })
    .then((r) => { /** @type {HTMLElement} */ (document.getElementById('reply')).textContent = JSON.stringify(r); }), ext.extensionId);
  const diag = JSON.parse(await caller.locator('#reply').innerText());
  assert.equal(diag.ok, false, 'diagnostics is not available to other extensions');
  assert.equal(diag.error.code, 'unknown-command');

  // Nor can it rewrite the account: save-config (the options page's command) is internal too.
  const worker = ext.worker();
  assert.ok(worker, 'the service worker runs');
  const before = await worker.evaluate(() => chrome.storage.sync.get('account'));
  await caller.evaluate((id) => chrome.runtime.sendMessage(id, {
    ferrophone: 1, cmd: 'save-config', account: { server: 'wss://evil.example/ws', username: 'mallory', deviceOnly: false },
  }).then((r) => { /** @type {HTMLElement} */ (document.getElementById('reply')).textContent = JSON.stringify(r); }), ext.extensionId);
  const saved = JSON.parse(await caller.locator('#reply').innerText());
  assert.equal(saved.ok, false, 'save-config is not available to other extensions');
  assert.equal(saved.error.code, 'unknown-command');
  assert.deepEqual(await worker.evaluate(() => chrome.storage.sync.get('account')), before, 'the account is unchanged');
});
