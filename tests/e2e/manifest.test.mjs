// @ts-check
// The repository root loads unpacked as users load it: no install warning or manifest error, the
// documented permissions and nothing more, the omnibox keyword and keyboard shortcuts, a strict
// CSP, and icons of the declared sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchExtension } from './harness.mjs';

test('the unpacked folder loads cleanly with minimal permissions and valid icons', async (t) => {
  const ext = await launchExtension('manifest');
  t.after(() => ext.close());

  const page = await ext.ctx.newPage();
  await page.goto('chrome://extensions/');
  /** @type {any[]} */
  const infos = await page.evaluate(() =>
    new Promise((resolve) => /** @type {any} */ (chrome).developerPrivate.getExtensionsInfo({ includeDisabled: true }, resolve)),
  );
  const info = infos.find((e) => e.id === ext.extensionId);
  assert.ok(info, 'chrome://extensions lists Ferrophone');
  ext.note(`chrome://extensions: ${JSON.stringify({ installWarnings: info.installWarnings, manifestErrors: info.manifestErrors, runtimeErrors: info.runtimeErrors })}`);
  assert.deepEqual(info.installWarnings, [], 'no install warnings');
  assert.deepEqual(info.manifestErrors, [], 'no manifest errors');
  assert.deepEqual(info.runtimeErrors, [], 'no runtime errors');
  assert.equal(info.state, 'ENABLED');

  const worker = ext.worker();
  assert.ok(worker);
  const manifest = await worker.evaluate(() => chrome.runtime.getManifest());
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.name, 'Ferrophone');
  assert.equal(manifest.version, '0.1.0');
  assert.equal(manifest.minimum_chrome_version, '116');
  assert.deepEqual(manifest.background, { service_worker: 'extension/sw.js', type: 'module' });
  assert.deepEqual([...(manifest.permissions || [])].sort(), ['alarms', 'contextMenus', 'offscreen', 'storage']);
  assert.deepEqual(manifest.host_permissions, ['wss://*/*']);
  assert.deepEqual(manifest.content_security_policy, {
    extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'",
  });
  assert.deepEqual(manifest.options_ui, { page: 'extension/options.html', open_in_tab: true });
  assert.deepEqual(manifest.omnibox, { keyword: 'call' });

  // Every keyboard command got its suggested key: Chrome silently drops a suggestion that clashes
  // with one of its own shortcuts (Alt+Shift+A is Chrome's "focus inactive popup").
  const commands = await worker.evaluate(() => chrome.commands.getAll());
  ext.note(`chrome.commands.getAll(): ${JSON.stringify(commands)}`);
  assert.deepEqual(
    Object.fromEntries(commands.map((c) => [c.name, c.shortcut])),
    { answer: 'Alt+Shift+Y', hangup: 'Alt+Shift+H', mute: 'Alt+Shift+M' },
  );
  for (const c of commands) assert.ok(c.description && c.description.length > 10, `command ${c.name} has a description`);

  const options = await ext.options();
  for (const [size, file] of Object.entries(manifest.icons || {})) {
    const dims = await options.evaluate(async (url) => {
      const response = await fetch(url);
      const bitmap = await createImageBitmap(await response.blob());
      return { type: response.headers.get('content-type'), width: bitmap.width, height: bitmap.height };
    }, ext.url(file));
    assert.deepEqual(dims, { type: 'image/png', width: Number(size), height: Number(size) }, `icon ${size}`);
  }
  assert.deepEqual(Object.keys(manifest.icons || {}).sort(), ['128', '16', '32', '48']);
});
