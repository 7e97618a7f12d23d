// @ts-check
// The repository root loads unpacked as users load it: no install warning or manifest error, the
// documented permissions and nothing more (and the install prompt's exact warnings), the omnibox keyword and keyboard shortcuts, a strict
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
  // The permission set, exactly (PRIVACY.md "Permissions, and why"). No host permission: the
  // worker's WebSocket to the SIP server (and the connection test's) needs none — registration
  // over wss:// and ws:// works without it (registration-wss/-ws, privacy-canary).
  assert.deepEqual([...(manifest.permissions || [])].sort(), ['alarms', 'contextMenus', 'notifications', 'offscreen', 'storage']);
  assert.equal(manifest.host_permissions, undefined, 'no host permissions');
  assert.equal(manifest.optional_host_permissions, undefined, 'no optional host permissions');
  assert.equal(manifest.optional_permissions, undefined, 'no optional permissions');
  assert.equal(manifest.content_scripts, undefined, 'no content scripts');
  assert.equal(manifest.externally_connectable, undefined, 'web pages cannot message the extension');
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
  // What the install prompt lists (PRIVACY.md quotes it): Chrome's own warnings for this manifest.
  /** @param {object} m */
  const warningsFor = (m) => options.evaluate((text) => chrome.management.getPermissionWarningsByManifest(text), JSON.stringify(m));
  const warnings = await warningsFor(manifest);
  ext.note(`install prompt warnings: ${JSON.stringify(warnings)}`);
  assert.deepEqual(warnings, ['Display notifications']);
  // The check can fail: the host permission Ferrophone used to ask for adds a warning of its own.
  const withHosts = await warningsFor({ ...manifest, host_permissions: ['wss://*/*'] });
  ext.note(`with host_permissions wss://*/*: ${JSON.stringify(withHosts)}`);
  assert.ok(withHosts.length > warnings.length, `wss://*/* would add a warning: ${JSON.stringify(withHosts)}`);
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
