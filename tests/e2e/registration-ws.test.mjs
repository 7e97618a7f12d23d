// @ts-check
// The same as registration-wss, over plain WebSocket to this computer (ws://127.0.0.1:8080, which
// the options page accepts for loopback only): the status line says "registered (expires in N s)",
// the registrar holds exactly one binding with the extension's +sip.instance, and the server's trace
// shows the REGISTERs arrived over ws (not wss) with an MD5 digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension } from './harness.mjs';
import {
  SERVERS, contacts, diagnostics, digestParam, readTrace, registersOf, resetAor, saveAccount, waitStatus,
} from './lab.mjs';

test('an account typed into the options page registers over ws:// to loopback', async (t) => {
  await resetAor('alice');
  const ext = await launchExtension('registration-ws');
  t.after(() => ext.close());
  const page = await ext.options();
  await waitStatus(page, /^not configured$/, 5000);

  const saved = Date.now();
  await saveAccount(page, { server: SERVERS.md5Ws, username: 'alice', password: 'alicepw' });
  const shown = await waitStatus(page, /^registered \(expires in \d+ s\)$/, 15000);
  ext.note(`status line "${shown}" ${Date.now() - saved} ms after Save`);
  await ext.screenshot(page, 'registered');

  const { ua } = await diagnostics(ext);
  const bindings = await contacts('alice');
  ext.note(`contacts.sh alice:\n${bindings.map((b) => b.line).join('\n')}`);
  assert.equal(bindings.length, 1, 'exactly one contact for alice');
  assert.equal(bindings[0].instance, `<urn:uuid:${ua.instanceId}>`, 'the contact carries our +sip.instance');
  assert.match(bindings[0].received, /^sip:127\.0\.0\.1:\d+;transport=ws$/, 'bound to our WebSocket connection');

  const registers = registersOf(await readTrace('md5'), bindings[0].callId);
  ext.note(`REGISTERs with Call-ID ${bindings[0].callId}: ${registers.map((r) => `${r.request.proto} ${r.request.cseq} → ${r.response?.firstLine}`).join(', ')}`);
  assert.equal(registers.length, 2, 'one REGISTER, one answer to the challenge');
  for (const { request } of registers) {
    assert.equal(request.proto, 'ws ipv4', 'the REGISTER came over the plain WebSocket');
    assert.equal(request.dstPort, 8080);
    assert.match(request.headers('via')[0], /^SIP\/2\.0\/WS [a-z0-9]+\.invalid;/, 'Via names the WS transport (RFC 7118)');
  }
  assert.equal(registers[0].response?.status, 401);
  assert.equal(digestParam(registers[1].request.headers('authorization')[0], 'algorithm'), 'MD5');
  assert.equal(registers[1].response?.status, 200);
});
