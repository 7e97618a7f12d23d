// @ts-check
// Registered as alice, the person changes the username to dave on the options page and saves —
// no extension reload: the worker un-registers alice first (REGISTER with Expires: 0, answered
// 200), then registers dave. The registrar ends with no binding for alice and exactly one, ours,
// for dave — with a new device identity (+sip.instance), so the two accounts cannot be linked
// (docs/SECURITY.md); the status line says "registered" again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension, poll } from './harness.mjs';
import {
  SERVERS, contacts, diagnostics, readTrace, recordStatusLines, registersOf, resetAor, saveAccount, waitStatus,
} from './lab.mjs';

const REGISTERED = /^registered \(expires in \d+ s\)$/;

test('changing the account on the options page moves the registration from alice to dave', async (t) => {
  await resetAor('alice');
  await resetAor('dave');
  const ext = await launchExtension('registration-account-change');
  t.after(() => ext.close());
  const page = await ext.options();

  await saveAccount(page, { server: SERVERS.md5Wss, username: 'alice', password: 'alicepw' });
  await waitStatus(page, REGISTERED, 15000);
  const { ua } = await diagnostics(ext);
  const instance = `<urn:uuid:${ua.instanceId}>`;
  const [alice, ...extra] = await contacts('alice');
  assert.equal(extra.length, 0, 'one binding for alice');
  assert.equal(alice.instance, instance);

  // Mark the running worker: after the change it must be the same one (no reload, no restart).
  const worker = ext.worker();
  assert.ok(worker);
  await worker.evaluate(() => { /** @type {any} */ (globalThis).accountChangeMarker = 'before'; });
  const statusLines = await recordStatusLines(page);

  const changed = Date.now();
  await saveAccount(page, { username: 'dave', password: 'davepw' });
  const dave = await poll(async () => {
    const b = await contacts('dave');
    return b.length > 0 ? b : null;
  }, { timeoutMs: 15000 });
  assert.ok(dave, 'dave gets registered');
  await waitStatus(page, REGISTERED, 5000);
  ext.note(`dave registered ${Date.now() - changed} ms after Save; status lines ${JSON.stringify(await statusLines())}`);
  await ext.screenshot(page, 'registered-as-dave');

  assert.equal(ext.worker(), worker, 'the same service worker');
  assert.equal(await worker.evaluate(() => /** @type {any} */ (globalThis).accountChangeMarker), 'before', 'the worker was not restarted');
  const diag = await diagnostics(ext);
  assert.equal(diag.account.username, 'dave');
  assert.notEqual(diag.ua.instanceId, ua.instanceId, 'a new instance id for the new account');

  assert.equal(dave.length, 1, 'exactly one binding for dave');
  assert.equal(dave[0].instance, `<urn:uuid:${diag.ua.instanceId}>`, "dave's binding is ours, with the new instance");
  assert.notEqual(dave[0].callId, alice.callId, 'and a new REGISTER Call-ID');
  assert.deepEqual(await contacts('alice'), [], "alice's binding is gone");

  // The server saw alice un-registered by us (not merely replaced or left to expire).
  const trace = await readTrace('md5');
  const aliceRegisters = registersOf(trace, alice.callId);
  ext.note(`alice's REGISTERs: ${aliceRegisters.map((r) => `CSeq ${r.request.cseq} Expires ${r.request.headers('expires')[0]} → ${r.response?.firstLine}`).join(', ')}`);
  const removals = aliceRegisters.filter((r) => r.request.headers('expires')[0] === '0');
  assert.ok(removals.length >= 1, 'a REGISTER for alice with Expires: 0');
  const removal = removals[removals.length - 1];
  assert.ok(removal.request.time >= changed - 1000, 'sent after the change');
  assert.match(removal.request.headers('to')[0], /<sip:alice@127\.0\.0\.1>/);
  assert.ok(removal.request.headers('contact')[0].includes(instance), "removing our own contact, under alice's identity");
  assert.equal(removal.response?.status, 200, 'and the registrar accepted it');
  const [daveFirst] = registersOf(trace, dave[0].callId);
  assert.ok(daveFirst && removal.response && daveFirst.request.time >= removal.response.time,
    'alice was removed before dave was registered');
  const seen = await statusLines();
  assert.ok(!seen.some((s) => /^(authentication failed|server unreachable)/.test(s || '')), 'no failure shown on the way');
});
