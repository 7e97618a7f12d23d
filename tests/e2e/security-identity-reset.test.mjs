// @ts-check
// The device identity belongs to one account (docs/SECURITY.md, PRIVACY.md): after "Forget
// everything" and a new account, the registrar sees a new `+sip.instance`, a new contact host and
// a new REGISTER Call-ID, so the two registrations cannot be linked to one browser. The user types
// alice's account, it registers; "Forget everything" un-registers it (the registrar lists nothing);
// the user types the account again; it registers with a fresh identity, and what the extension
// keeps in chrome.storage.local is the new identity, not the old one written back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension, poll } from './harness.mjs';
import { SERVERS, contacts, diagnostics, registerCallIds, resetAor, saveAccount, waitStatus } from './lab.mjs';

const REGISTERED = /^registered \(expires in \d+ s\)/;

test('forget everything, then an account: a new +sip.instance, contact and Call-ID at the registrar', async (t) => {
  await resetAor('alice');
  const ext = await launchExtension('security-identity-reset');
  t.after(() => ext.close());
  const page = await ext.options();
  const account = { server: SERVERS.md5Wss, username: 'alice', password: 'alicepw' };

  await saveAccount(page, account);
  await waitStatus(page, REGISTERED);
  const [before] = await contacts('alice');
  assert.ok(before && before.instance, `one binding with an instance: ${JSON.stringify(before)}`);
  const firstCallIds = registerCallIds(await diagnostics(ext));
  const storedBefore = (await ext.storage('local')).identity;
  assert.ok(storedBefore, 'the identity is kept in chrome.storage.local');

  await page.getByRole('button', { name: 'Forget everything…' }).click();
  await page.getByRole('button', { name: 'Yes, forget everything' }).click();
  await page.locator('#forget-result').filter({ hasText: 'Everything was deleted' }).waitFor();
  const unbound = await poll(async () => ((await contacts('alice')).length === 0 ? true : undefined), { timeoutMs: 8000 });
  assert.ok(unbound, 'forgetting un-registered the old contact');
  const gone = await poll(async () => ((await ext.storage('local')).identity === undefined ? true : undefined), { timeoutMs: 3000 });
  assert.ok(gone, 'the stored identity is deleted and not written back');

  await page.reload();
  await saveAccount(page, account);
  await waitStatus(page, REGISTERED);
  const after = await contacts('alice');
  assert.equal(after.length, 1, `exactly one binding: ${after.map((b) => b.line).join(' | ')}`);
  const contactHost = (/** @type {string} */ c) => (/@([^;>:]+)/.exec(c) || [])[1];
  ext.note(`instance before ${before.instance} (${contactHost(before.contact)}), after ${after[0].instance} (${contactHost(after[0].contact)})`);
  assert.notEqual(after[0].instance, before.instance, 'a new +sip.instance');
  assert.notEqual(contactHost(after[0].contact), contactHost(before.contact), 'a new contact host');
  assert.notEqual(after[0].callId, before.callId, 'a new REGISTER Call-ID');
  const diag = await diagnostics(ext);
  const newCallIds = registerCallIds(diag).filter((id) => !firstCallIds.includes(id));
  assert.ok(newCallIds.includes(after[0].callId), 'the registrar holds the new Call-ID');
  const storedAfter = await poll(async () => (await ext.storage('local')).identity, { timeoutMs: 3000 });
  assert.ok(storedAfter, 'the new identity is stored');
  assert.notEqual(storedAfter.instanceId, storedBefore.instanceId, 'what is stored is the new identity');
  assert.equal(`<urn:uuid:${storedAfter.instanceId}>`.replace(/[<>"]/g, ''), after[0].instance.replace(/[<>"]/g, ''));
});
