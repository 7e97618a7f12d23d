// @ts-check
// A message that wakes a stopped worker, and so arrives before its wasm module is ready, is queued
// and answered, not lost.
//
// Whether the waking message is handled before the wasm is ready is a race inside Chromium (the
// module is usually ready 5-20 ms after the script runs, and the event is dispatched in the same
// window), so the test stops and wakes the worker until one instance reports an early message,
// and checks that every waking message got its answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension, poll, sleep } from './harness.mjs';

const MAX_WAKES = 25;

test('a message sent while the worker is stopped wakes it and is answered after the wasm is ready', async (t) => {
  const ext = await launchExtension('early-message');
  t.after(() => ext.close());
  const page = await ext.options();
  const cdp = await ext.ctx.newCDPSession(page);
  /** @type {Map<string, string>} versionId → runningStatus */
  const running = new Map();
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) running.set(v.versionId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');

  let early = 0;
  for (let wake = 1; wake <= MAX_WAKES && early === 0; wake++) {
    await cdp.send('ServiceWorker.stopAllWorkers');
    const stopped = await poll(
      async () => running.size > 0 && [...running.values()].every((s) => s === 'stopped'),
      { timeoutMs: 5000 },
    );
    assert.ok(stopped, `the worker did not stop (${JSON.stringify([...running])})`);
    await sleep(50);

    const reply = await page.evaluate(() => chrome.runtime.sendMessage({ ferrophone: 1, cmd: 'status' }));
    assert.equal(reply && reply.ok, true, `wake ${wake}: the waking status message got no proper answer: ${JSON.stringify(reply)}`);
    const info = await page.evaluate(() =>
      chrome.runtime.sendMessage({ ferrophone: 1, target: 'worker', cmd: 'loader-info' }),
    );
    ext.note(`wake ${wake}: status ${JSON.stringify(reply)}, loader-info ${JSON.stringify(info)}`);
    assert.equal(info.ok, true);
    early = info.earlyMessages;
  }
  assert.ok(early >= 1, `no message arrived before the wasm was ready in ${MAX_WAKES} wakes`);
});
