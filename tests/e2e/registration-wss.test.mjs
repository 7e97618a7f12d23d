// @ts-check
// A person types an account into the options page and Ferrophone registers over secure WebSocket
// (wss://127.0.0.1:8443, the lab's MD5 Kamailio): the status line says "registered (expires in N s)"
// and counts down, the registrar holds exactly one binding and it carries the extension's own
// +sip.instance, and the server's trace shows our REGISTER answered a 401 with an MD5 digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension, sleep } from './harness.mjs';
import {
  SERVERS, contacts, diagnostics, digestParam, readTrace, registersOf, resetAor, saveAccount, statusText, waitStatus,
} from './lab.mjs';

const REGISTERED = /^registered \(expires in (\d+) s\)$/;

test('an account typed into the options page registers over wss:// with MD5 digest', async (t) => {
  await resetAor('alice');
  const ext = await launchExtension('registration-wss');
  t.after(() => ext.close());
  const page = await ext.options();

  await waitStatus(page, /^not configured$/, 5000);
  await ext.screenshot(page, 'not-configured');

  const saved = Date.now();
  await saveAccount(page, { server: SERVERS.md5Wss, username: 'alice', password: 'alicepw' });
  const shown = await waitStatus(page, REGISTERED, 15000);
  ext.note(`status line "${shown}" ${Date.now() - saved} ms after Save`);
  await ext.screenshot(page, 'registered');

  // The number counts down live: the worker reports expiresIn once, the page ticks it.
  const first = Number(REGISTERED.exec(shown)?.[1]);
  assert.ok(first > 60 && first <= 3600, `a plausible expiry (${first} s; the lab grants 60…3600)`);
  await sleep(2300);
  const later = Number(REGISTERED.exec(await statusText(page))?.[1]);
  assert.ok(later <= first - 2 && later >= first - 3, `the expiry counts down each second: ${first} s, then ${later} s 2.3 s later`);

  // The registrar: exactly one binding for alice, and it is this extension's.
  const diag = await diagnostics(ext);
  const instanceId = diag.ua.instanceId;
  assert.match(instanceId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID v4 instance id');
  const bindings = await contacts('alice');
  ext.note(`contacts.sh alice:\n${bindings.map((b) => b.line).join('\n')}`);
  assert.equal(bindings.length, 1, 'exactly one contact for alice');
  assert.equal(bindings[0].instance, `<urn:uuid:${instanceId}>`, 'the contact carries our +sip.instance');
  assert.equal(bindings[0].regId, '1');
  assert.ok(Number(bindings[0].expires) > 0);

  // The server's view of it: over wss, challenged with MD5, answered with an MD5 digest, 200 OK.
  const registers = registersOf(await readTrace('md5'), bindings[0].callId);
  ext.note(`REGISTERs with Call-ID ${bindings[0].callId}: ${registers.map((r) => `${r.request.cseq} → ${r.response?.firstLine}`).join(', ')}`);
  assert.equal(registers.length, 2, 'one REGISTER, one answer to the challenge');
  const [challenged, answered] = registers;
  assert.equal(challenged.request.proto, 'wss ipv4', 'the REGISTER came over the secure WebSocket');
  assert.equal(challenged.request.headers('authorization').length, 0, 'the first REGISTER carries no credentials');
  assert.equal(challenged.response?.status, 401);
  assert.equal(digestParam(challenged.response?.headers('www-authenticate')[0], 'algorithm'), 'MD5');
  const authorization = answered.request.headers('authorization')[0];
  assert.equal(digestParam(authorization, 'algorithm'), 'MD5', `our Authorization says algorithm=MD5: ${authorization}`);
  assert.match(digestParam(authorization, 'response') || '', /^[0-9a-f]{32}$/, 'an MD5 digest (32 hex digits)');
  assert.equal(digestParam(authorization, 'username'), 'alice');
  assert.equal(answered.response?.status, 200);
});
