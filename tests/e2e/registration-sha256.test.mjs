// @ts-check
// Against the SHA-256 Kamailio (wss://127.0.0.1:8444, RFC 8760 digest), the extension registers:
// the status line says "registered (expires in N s)", that instance's registrar holds exactly our
// binding (and the MD5 instance none), and its trace shows the challenge and our Authorization with
// algorithm=SHA-256 and a 256-bit response. (MD5 is proven by registration-wss.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension } from './harness.mjs';
import {
  SERVERS, contacts, diagnostics, digestParam, readTrace, registersOf, resetAor, saveAccount, waitStatus,
} from './lab.mjs';

test('the extension registers with a server that demands SHA-256 digest', async (t) => {
  await resetAor('alice');
  const ext = await launchExtension('registration-sha256');
  t.after(() => ext.close());
  const page = await ext.options();

  await saveAccount(page, { server: SERVERS.shaWss, username: 'alice', password: 'alicepw' });
  const shown = await waitStatus(page, /^registered \(expires in \d+ s\)$/, 15000);
  ext.note(`status line: ${shown}`);
  await ext.screenshot(page, 'registered');

  const { ua } = await diagnostics(ext);
  const bindings = await contacts('alice', { sha: true });
  ext.note(`contacts.sh alice sha:\n${bindings.map((b) => b.line).join('\n')}`);
  assert.equal(bindings.length, 1, 'exactly one contact for alice on the SHA-256 instance');
  assert.equal(bindings[0].instance, `<urn:uuid:${ua.instanceId}>`, 'the contact carries our +sip.instance');
  assert.deepEqual(await contacts('alice'), [], 'nothing on the MD5 instance');

  const registers = registersOf(await readTrace('sha'), bindings[0].callId);
  ext.note(`REGISTERs with Call-ID ${bindings[0].callId}: ${registers.map((r) => `${r.request.cseq} → ${r.response?.firstLine}`).join(', ')}`);
  assert.equal(registers.length, 2, 'one REGISTER, one answer to the challenge');
  const [challenged, answered] = registers;
  assert.equal(challenged.response?.status, 401);
  assert.equal(digestParam(challenged.response?.headers('www-authenticate')[0], 'algorithm'), 'SHA-256', 'the server offered SHA-256 only');
  const authorization = answered.request.headers('authorization')[0];
  ext.note(`our Authorization: ${authorization}`);
  assert.equal(digestParam(authorization, 'algorithm'), 'SHA-256', 'our Authorization says algorithm=SHA-256');
  assert.match(digestParam(authorization, 'response') || '', /^[0-9a-f]{64}$/, 'a SHA-256 digest (64 hex digits)');
  assert.equal(digestParam(authorization, 'qop'), 'auth');
  assert.equal(answered.response?.status, 200, 'the server accepted our SHA-256 digest');
});
