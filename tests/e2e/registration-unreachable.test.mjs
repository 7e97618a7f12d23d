// @ts-check
// The server is down when the account is saved: the options page says "server unreachable,
// retrying in N s" (N counting down), "Test connection" says it cannot reach the server, and the
// worker keeps trying (connection.failures grows). Once Kamailio is back, the extension registers
// by itself at its next scheduled attempt (the time from "Kamailio ready" to "registered" is logged),
// with exactly one binding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension, poll } from './harness.mjs';
import { SERVERS, contacts, diagnostics, labSh, resetAor, saveAccount, waitStatus } from './lab.mjs';

const UNREACHABLE = /^server unreachable, retrying in (\d+) s$/;

test('an unreachable server is retried with backoff and registered as soon as it is back', async (t) => {
  await resetAor('alice');
  await labSh('kamailio-stop');
  t.after(() => labSh('kamailio-start')); // whatever happens, later specs get their server back
  const ext = await launchExtension('registration-unreachable');
  t.after(() => ext.close());
  const page = await ext.options();

  await saveAccount(page, { server: SERVERS.md5Wss, username: 'alice', password: 'alicepw' });
  const shown = await waitStatus(page, UNREACHABLE, 15000);
  ext.note(`status line: ${shown}`);
  await ext.screenshot(page, 'unreachable');

  /** @returns {Promise<any>} */
  const status = () => ext.send({ ferrophone: 1, cmd: 'status' });
  /** @type {number[]} */
  const failures = [];
  const retried = await poll(async () => {
    const s = await status();
    if (failures[failures.length - 1] !== s.connection.failures) failures.push(s.connection.failures);
    assert.equal(s.registration.state === 'registered', false, 'never registered while the server is down');
    return s.connection.failures >= 2 && failures.length >= 2 ? s : null; // seen it grow at least once
  }, { timeoutMs: 20000, intervalMs: 50 });
  ext.note(`connection.failures seen while the server was down: ${failures.join(', ')}`);
  assert.ok(retried, `the worker keeps retrying (failures seen: ${failures.join(', ')})`);
  assert.ok(failures.length >= 2 && failures.every((n, i) => i === 0 || n > failures[i - 1]), 'failures grows');
  assert.equal(retried.registration.state, 'unreachable');
  assert.match(retried.registration.reason, /WebSocket closed \(code 1006\)/);

  // While it is down, the connection test says so in words.
  await page.getByRole('button', { name: 'Test connection' }).click();
  const result = page.locator('#test-connection-result');
  await result.filter({ hasText: /^Cannot reach the server/ }).waitFor({ timeout: 10000 });
  assert.equal(await result.innerText(), 'Cannot reach the server: WebSocket closed (code 1006)');
  await ext.screenshot(page, 'test-connection-unreachable');

  // The countdown on the page follows the worker's retryIn.
  const line = await waitStatus(page, UNREACHABLE, 5000);
  assert.ok(Number(UNREACHABLE.exec(line)?.[1]) <= 30, 'the retry delay is capped at 30 s');

  // Kamailio comes back: registered at the next attempt.
  const before = Date.now();
  const out = await labSh('kamailio-start');
  const startedIn = /kamailio started, listening .* \((\d+)\.(\d{3})s\)/.exec(out);
  assert.ok(startedIn, `lab.sh says when Kamailio listened: ${out}`);
  const ready = before + Number(startedIn[1]) * 1000 + Number(startedIn[2]);
  const pending = await status();
  ext.note(`Kamailio ready; the worker's next attempt is due in ${pending.connection.retryIn} s (state ${pending.connection.state})`);
  const bound = ((pending.connection.retryIn ?? 0) + 3) * 1000;
  await waitStatus(page, /^registered \(expires in \d+ s\)$/, bound + 5000);
  const tookMs = Date.now() - ready;
  ext.note(`registered ${tookMs} ms after Kamailio was ready`);
  console.log(`# registration-unreachable: registered ${tookMs} ms after Kamailio was ready (next attempt was due in ${pending.connection.retryIn} s)`);
  assert.ok(tookMs <= bound, `registered at the scheduled retry (${tookMs} ms, allowed ${bound} ms)`);
  await ext.screenshot(page, 'registered-after-outage');

  const { ua } = await diagnostics(ext);
  const bindings = await contacts('alice');
  assert.equal(bindings.length, 1, 'exactly one contact for alice');
  assert.equal(bindings[0].instance, `<urn:uuid:${ua.instanceId}>`);
  const after = await status();
  assert.equal(after.connection.failures, 0, 'the failure count resets once registered');
});
