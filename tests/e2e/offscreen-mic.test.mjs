// @ts-check
// `mic-test`: the worker opens the offscreen document, which opens the microphone and reports it;
// the document is closed again afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension, poll } from './harness.mjs';

test('mic-test opens the microphone in the offscreen document, then closes the document', async (t) => {
  const ext = await launchExtension('offscreen-mic');
  t.after(() => ext.close());

  const reply = await ext.send({ ferrophone: 1, cmd: 'mic-test' });
  ext.note(`mic-test reply: ${JSON.stringify(reply)}`);
  assert.equal(reply.ok, true, `mic-test failed: ${JSON.stringify(reply)}`);
  assert.equal(reply.audioTracks, 1);
  assert.equal(typeof reply.label, 'string');

  const opened = ext.offscreenEvents.filter((e) => e.event === 'opened');
  assert.equal(opened.length, 1, `one offscreen document was opened: ${JSON.stringify(ext.offscreenEvents)}`);
  assert.ok(opened[0].url.endsWith('/extension/offscreen.html'));

  const closed = await poll(async () => ext.offscreenEvents.some((e) => e.event === 'closed'), { timeoutMs: 5000 });
  assert.ok(closed, 'the offscreen document was closed after the test');
  const worker = ext.worker();
  assert.ok(worker, 'the worker is running');
  const contexts = await worker.evaluate(() =>
    chrome.runtime.getContexts({ contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT] }),
  );
  assert.deepEqual(contexts, [], 'no offscreen document remains');

  // The options page's button runs the same test and says what it found.
  const page = await ext.options();
  await page.getByRole('button', { name: 'Test microphone in the background' }).click();
  const result = page.locator('#test-mic-result');
  await result.filter({ hasText: /Works|Failed/ }).waitFor({ timeout: 10000 });
  await ext.screenshot(page, 'button');
  assert.equal(await result.innerText(), 'Works in the background: 1 audio track (Fake Default Audio Input).');
  const events = await poll(async () => ext.offscreenEvents.length === 4 && ext.offscreenEvents, { timeoutMs: 5000 });
  assert.deepEqual(events && events.map((e) => e.event), ['opened', 'closed', 'opened', 'closed']);
});
