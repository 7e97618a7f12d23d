// @ts-check
// The password never leaves chrome.storage: a lab user gets a unique canary password created at
// run time, a person types it into the options page, Ferrophone registers with it (so it was the
// real password), the connection test and the background microphone test run too — and then the
// canary is searched for everywhere it could leak: every console line of the worker, the options
// page and the offscreen document; every runtime message between the contexts and every reply
// (recorded in the options page and in the worker); the diagnostics reply; the options page's DOM
// after a reload; and every Kamailio trace (all SIP in and out) and log file. It must be nowhere.
// A digest of it is a secret too: the user also calls carol, a callee that asks for credentials
// for realm "evil.example" (sipp uas_challenge_foreign_realm.xml), and every digest `response=`
// computed with the canary, in every trace, must be for the registrar's realm only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchExtension, poll } from './harness.mjs';
import { registerSippPhone, startSipp } from './calls.mjs';
import { recordMessages, recordedMessages } from './fixtures/messages.mjs';
import { SERVERS, contacts, diagnostics, kamcmd, labFiles, resetAor, saveAccount, waitStatus } from './lab.mjs';

const USER = 'frank'; // not a stock lab user: it exists only while this spec runs


test('the password appears in no log, no message, no page and no server trace', async (t) => {
  const canary = `canary-${randomUUID()}`;
  await resetAor(USER);
  await kamcmd('htable.sets', 'users', USER, canary);
  t.after(async () => {
    await kamcmd('htable.delete', 'users', USER).catch(() => {});
    await resetAor(USER).catch(() => {});
  });

  const ext = await launchExtension('privacy-canary');
  t.after(() => ext.close());
  const page = await ext.options();
  const worker = ext.worker();
  assert.ok(worker);
  await recordMessages(page);
  await recordMessages(worker);

  // Use it like a person: type the account, save, test the connection and the microphone.
  await saveAccount(page, { server: SERVERS.md5Wss, username: USER, password: canary });
  await waitStatus(page, /^registered \(expires in \d+ s\)$/, 15000);
  const { ua } = await diagnostics(ext);
  const bindings = await contacts(USER);
  assert.equal(bindings.length, 1, 'registered with the canary: it was the real password');
  assert.equal(bindings[0].instance, `<urn:uuid:${ua.instanceId}>`);

  await page.getByRole('button', { name: 'Test connection' }).click();
  const connection = page.locator('#test-connection-result');
  await connection.filter({ hasText: /^Server answered SIP/ }).waitFor({ timeout: 10000 });
  assert.match(await connection.innerText(), /^Server answered SIP: 200 Keepalive in \d+ ms$/);
  await ext.screenshot(page, 'test-connection');

  await page.getByRole('button', { name: 'Test microphone in the background' }).click();
  const mic = page.locator('#test-mic-result');
  await mic.filter({ hasText: /^(Works|Failed)/ }).waitFor({ timeout: 15000 });
  assert.match(await mic.innerText(), /^Works in the background: 1 audio track/);

  // A call to a callee that fishes for a digest with its own realm.
  await registerSippPhone('carol', 5064, 8889);
  await startSipp(t, 'carol-canary', 'uas_challenge_foreign_realm.xml', [
    '-s', 'carol', '-i', '127.0.0.1', '-p', '5064', '-ci', '127.0.0.1', '-cp', '8890', '-m', '1',
    '-nostdin', '-timeout', '30', '-timeout_error',
  ]);
  const dialed = await page.evaluate(() => chrome.runtime.sendMessage({ ferrophone: 1, cmd: 'dial', target: 'carol' }));
  assert.equal(dialed.ok, true, JSON.stringify(dialed));
  const ended = await poll(async () => {
    const r = await page.evaluate(() => chrome.runtime.sendMessage({ ferrophone: 1, cmd: 'calls' }));
    return (r.calls || []).length === 0 ? r : undefined;
  }, { timeoutMs: 10000 });
  assert.ok(ended, 'the call to carol ended');

  // What the contexts said to each other (diagnostics last: its reply is recorded too).
  const diag = await page.evaluate(() => chrome.runtime.sendMessage({ ferrophone: 1, cmd: 'diagnostics' }));
  assert.equal(diag.ok, true);
  assert.equal(diag.account.username, USER);
  assert.equal(diag.account.passwordStored, true);
  const messages = [...await recordedMessages(page), ...await recordedMessages(worker)];
  const kinds = (/** @type {string} */ k) => messages.filter((m) => m.startsWith(`{"kind":"${k}"`)).length;
  ext.note(`recorded ${messages.length} runtime messages/replies (${kinds('sent')} sent, ${kinds('received')} received, ${kinds('reply')} replies)`);
  // The recorders saw the traffic they should have: the options page's commands, the worker's
  // registration broadcasts, the worker asking the offscreen document for the microphone.
  assert.ok(messages.some((m) => m.includes('"cmd":"test-connection"')), 'recorded the connection test');
  assert.ok(messages.some((m) => m.includes('"event":"registration"')), 'recorded registration events');
  assert.ok(messages.some((m) => m.includes('"kind":"sent"') && m.includes('"type":"media-')), 'recorded the worker talking to the offscreen document');
  assert.ok(messages.some((m) => m.includes('"passwordStored":true')), 'recorded the diagnostics reply');

  // The page after a reload: markup and every field's value.
  await page.reload();
  await waitStatus(page, /^registered/, 5000);
  const dom = await page.content();
  const values = await page.evaluate(() => [...document.querySelectorAll('input')].map((i) => `${i.id}=${i.value}`).join('\n'));
  assert.match(values, new RegExp(`username=${USER}`), 'the form shows the saved account');

  // The server side: every SIP message in and out of both Kamailios, and every lab log.
  const files = await labFiles();
  const traces = files.filter((f) => f.file.endsWith('.data'));
  assert.ok(traces.some((f) => f.text.includes(`username="${USER}"`)), 'the traces hold our digest REGISTER');

  // Every digest computed with the canary, wherever it was seen: the registrar's realm only.
  const registrarRealms = new Set(traces.flatMap((f) => [...f.text.matchAll(/^WWW-Authenticate: *Digest [^\r\n]*realm="([^"]*)"/gm)].map((m) => m[1])));
  const digests = traces.flatMap((f) => [...f.text.matchAll(/^(?:Proxy-)?Authorization: *Digest ([^\r\n]*)/gim)].map((m) => m[1]))
    .filter((v) => v.includes(`username="${USER}"`) && /response="/.test(v));
  const digestRealms = [...new Set(digests.map((v) => (/realm="([^"]*)"/.exec(v) || [])[1]))];
  ext.note(`digests computed with the canary: ${digests.length}, realms ${digestRealms.join(', ')}; the registrar challenged with ${[...registrarRealms].join(', ')}`);
  assert.ok(digests.length >= 2, 'the REGISTER and the INVITE were authenticated');
  assert.ok(traces.some((f) => /realm="evil\.example"/.test(f.text)), 'the foreign challenge did reach us');
  assert.deepEqual(digestRealms.filter((r) => !registrarRealms.has(r)), [], "no digest for a realm the registrar did not use");
  const uaTrace = JSON.stringify(diag.ua.trace);
  assert.ok(!/response="[0-9a-f]{16,}"/.test(uaTrace), 'the diagnostic SIP trace masks digest responses');

  /** @type {[string, string][]} */
  const haystacks = [
    ['console output (worker, options page, offscreen document)', ext.lines.join('\n')],
    ['runtime messages and replies', messages.join('\n')],
    ['diagnostics reply', JSON.stringify(diag)],
    ['options page DOM after reload', `${dom}\n${values}`],
    ...files.map((f) => /** @type {[string, string]} */ ([f.file, f.text])),
  ];
  ext.note(`searched ${haystacks.length} places: ${haystacks.map(([name, text]) => `${name.replace(/^.*\/tests\/lab\//, '')} (${text.length} chars)`).join(', ')}`);
  const leaks = haystacks.filter(([, text]) => text.includes(canary)).map(([name]) => name);
  assert.deepEqual(leaks, [], 'the password appears nowhere');
});
