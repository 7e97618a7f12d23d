// @ts-check
// The service worker starts, loads the wasm module, and the wasm answers the command API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension } from './harness.mjs';

test('on a fresh profile the wasm in the worker answers status: unconfigured', async (t) => {
  const ext = await launchExtension('worker-wasm');
  t.after(() => ext.close());

  const reply = await ext.send({ ferrophone: 1, cmd: 'status' });
  ext.note(`status reply: ${JSON.stringify(reply)}`);
  assert.equal(reply.ok, true, `status failed: ${JSON.stringify(reply)}`);
  assert.equal(reply.registration && reply.registration.state, 'unconfigured', JSON.stringify(reply));

  const loader = await ext.send({ ferrophone: 1, target: 'worker', cmd: 'loader-info' });
  ext.note(`loader-info: ${JSON.stringify(loader)}`);
  assert.equal(loader.ok, true);
  assert.equal(typeof loader.readyMs, 'number', 'the loader reports when the wasm became ready');
  assert.ok(!ext.lines.some((l) => /\[worker\] error:/.test(l)), 'the worker logged no error');
});
