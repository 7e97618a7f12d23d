// @ts-check
// The demo's browser half (tests/demo.sh runs it inside a private network namespace, with the lab
// started): Chromium with Ferrophone loaded unpacked from the repository root, exactly as a user
// loads it; the options page filled in like a person would (alice over wss://127.0.0.1:8443); the
// status line followed until "registered (expires in N s)"; a connection test; screenshots.
//
//   node tests/demo.mjs --window     a real browser window; waits for Enter or the window to close
//   node tests/demo.mjs              headless: screenshots into tests/artifacts/demo/, then exits
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { CHROMIUM, REPO_ROOT, chromiumArgs } from './e2e/harness.mjs';

const ACCOUNT = { server: 'wss://127.0.0.1:8443', username: 'alice', password: 'alicepw' };
const OUT = path.join(REPO_ROOT, 'tests', 'artifacts', 'demo');
const windowed = process.argv.includes('--window');
const say = (/** @type {string} */ text) => console.log(`demo: ${text}`);

/** @type {import('playwright-core').BrowserContext | undefined} */
let ctx;
let profile = '';
async function cleanup() {
  if (ctx) await ctx.close().catch(() => {});
  ctx = undefined;
  // Chromium may still be writing its profile when it was interrupted too: retry.
  if (profile) await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(() => {});
  profile = '';
}
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    say(`${signal}: closing the browser`);
    cleanup().finally(() => process.exit(130));
  });
}

async function main() {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  profile = await mkdtemp(path.join(tmpdir(), 'ferrophone-demo-'));
  say(`starting Chromium (${windowed ? 'window' : 'headless'}) with the extension loaded from ${REPO_ROOT}`);
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: !windowed,
    viewport: windowed ? null : { width: 1000, height: 900 },
    args: chromiumArgs(REPO_ROOT),
    handleSIGINT: false, // our handler closes the browser, deletes the profile, then exits
    handleSIGTERM: false,
  });
  let [worker] = ctx.serviceWorkers();
  if (!worker) worker = await ctx.waitForEvent('serviceworker', { timeout: 15000 });
  const extensionId = new URL(worker.url()).host;
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.goto(`chrome-extension://${extensionId}/extension/options.html`);
  const status = page.locator('#status');
  await status.filter({ hasText: /^not configured/ }).waitFor({ timeout: 10000 });
  const shots = [];
  /** @param {string} name */
  const shot = async (name) => {
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
  };
  await shot('1-not-configured');

  // Echo the status line in the terminal when its state changes (not on every countdown tick).
  const shape = (/** @type {string} */ text) => text.replace(/\d+/g, 'N');
  let last = '';
  const follow = setInterval(async () => {
    const text = await status.innerText().catch(() => last);
    if (shape(text) !== shape(last) && !/^registered \(/.test(text)) say(`status: ${text}`); // the end is reported below
    last = text;
  }, 100);

  const delay = windowed ? 60 : 0; // typed visibly in a window
  say(`typing the account into the options page: ${ACCOUNT.server}, ${ACCOUNT.username} / ${'*'.repeat(ACCOUNT.password.length)}`);
  await page.getByLabel('Server', { exact: true }).pressSequentially(ACCOUNT.server, { delay });
  await page.getByLabel('Username', { exact: true }).pressSequentially(ACCOUNT.username, { delay });
  await page.getByLabel('Password', { exact: true }).pressSequentially(ACCOUNT.password, { delay });
  await page.getByRole('button', { name: 'Save' }).click();
  const started = Date.now();
  await status.filter({ hasText: /^registered \(expires in \d+ s\)$/ }).waitFor({ timeout: 20000 });
  clearInterval(follow);
  say(`status: ${await status.innerText()} (${Date.now() - started} ms after Save)`);
  await shot('2-registered');

  await page.getByRole('button', { name: 'Test connection' }).click();
  const tested = page.locator('#test-connection-result');
  await tested.filter({ hasText: /^(Server answered|Cannot reach|The WebSocket|Not a usable|Test failed)/ }).waitFor({ timeout: 15000 });
  say(`Test connection: ${await tested.innerText()}`);
  await shot('3-test-connection');

  const contacts = execFileSync(path.join(REPO_ROOT, 'tests', 'lab', 'contacts.sh'), ['alice']).toString().trim();
  say(`the registrar's binding for alice (tests/lab/contacts.sh alice):\n  ${contacts.split('\n').join('\n  ')}`);
  say(`screenshots:\n  ${shots.join('\n  ')}`);

  if (windowed) {
    say('the options page is open in the Chromium window; the status line counts down live.');
    say('press Enter here, or close the browser window, to stop the demo');
    const rl = readline.createInterface({ input: process.stdin });
    const browser = ctx;
    await new Promise((resolve) => {
      rl.once('line', resolve);
      rl.once('close', resolve); // stdin closed
      browser.once('close', resolve);
    });
    rl.close();
  }
}

main()
  .then(async () => { await cleanup(); process.exit(0); })
  .catch(async (e) => {
    console.error(`demo: failed: ${e && e.message ? e.message : e}`);
    await cleanup();
    process.exit(1);
  });
