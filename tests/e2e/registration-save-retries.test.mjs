// @ts-check
// After "authentication failed", the person gets the password fixed on the server and presses
// Save again without changing anything (README, Troubleshooting): Ferrophone tries again at once
// and registers. (An unchanged account is no storage change, so the page asks the worker to
// register.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchExtension } from './harness.mjs';
import { SERVERS, contacts, diagnostics, kamcmd, resetAor, saveAccount, waitStatus } from './lab.mjs';

const USER = 'grace'; // not a stock lab user: the spec creates it on the server half-way

test('pressing Save again after an authentication failure retries the registration', async (t) => {
  const password = `pw-${randomUUID()}`;
  await resetAor(USER);
  t.after(async () => {
    await kamcmd('htable.delete', 'users', USER).catch(() => {});
    await resetAor(USER).catch(() => {});
  });
  const ext = await launchExtension('registration-save-retries');
  t.after(() => ext.close());
  const page = await ext.options();

  await saveAccount(page, { server: SERVERS.md5Wss, username: USER, password });
  await waitStatus(page, /^authentication failed/, 15000);
  await kamcmd('htable.sets', 'users', USER, password); // the administrator fixes the account

  await saveAccount(page, {}); // nothing changed on the page
  const shown = await waitStatus(page, /^registered \(expires in \d+ s\)$/, 10000);
  ext.note(`status line after pressing Save again: ${shown}`);
  const { ua } = await diagnostics(ext);
  const bindings = await contacts(USER);
  assert.equal(bindings.length, 1, `exactly one contact for ${USER}`);
  assert.equal(bindings[0].instance, `<urn:uuid:${ua.instanceId}>`);
});
