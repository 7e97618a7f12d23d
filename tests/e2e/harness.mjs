// @ts-check
// End-to-end harness: Debian's Chromium, headless, with the repository root loaded unpacked
// (exactly the folder a user loads), in a fresh profile that is deleted afterwards.
//
//   const ext = await launchExtension('worker-wasm');
//   t.after(() => ext.close());
//   const reply = await ext.send({ ferrophone: 1, cmd: 'status' });
//
// Everything the extension prints (worker, options page, offscreen document, page errors) goes to
// tests/artifacts/<spec>/console.log; screenshots go next to it.

import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(REPO_ROOT, 'tests', 'artifacts');
export const CHROMIUM = process.env.FERROPHONE_CHROMIUM || '/usr/bin/chromium';

/**
 * The flags the project's browser notes verified for extension + fake-media tests.
 * @param {string} [extensionDir]  the extension under test (the repository root)
 * @param {string[]} [extraDirs]  more unpacked extensions to load beside it (test fixtures)
 */
export function chromiumArgs(extensionDir = REPO_ROOT, extraDirs = []) {
  const dirs = [extensionDir, ...extraDirs].join(',');
  return [
    '--no-sandbox',
    `--disable-extensions-except=${dirs}`,
    `--load-extension=${dirs}`,
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
    '--disable-gpu',
    '--disable-quic',
    '--ignore-certificate-errors',
  ];
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns a truthy value or `timeoutMs` passes; returns the last value.
 * @template T
 * @param {() => Promise<T>} probe
 * @param {{timeoutMs?: number, intervalMs?: number}} [options]
 * @returns {Promise<T>}
 */
export async function poll(probe, { timeoutMs = 5000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!value && Date.now() < deadline) {
    await sleep(intervalMs);
    value = await probe();
  }
  return value;
}

/**
 * @typedef {import('playwright-core').BrowserContext} BrowserContext
 * @typedef {import('playwright-core').Page} Page
 * @typedef {import('playwright-core').Worker} Worker
 * @typedef {import('playwright-core').ConsoleMessage} ConsoleMessage
 */

/**
 * Launches Chromium with the extension and waits for its service worker.
 * @param {string} spec  names the artifacts folder (one per spec file)
 * @param {{args?: string[], extensions?: string[]}} [options]  extra Chromium flags; more unpacked
 *   extension folders to load beside Ferrophone (e.g. tests/e2e/fixtures/caller-extension)
 */
export async function launchExtension(spec, options = {}) {
  const artifacts = path.join(ARTIFACTS, spec);
  await rm(artifacts, { recursive: true, force: true });
  await mkdir(artifacts, { recursive: true });
  const logFile = path.join(artifacts, 'console.log');
  await writeFile(logFile, '');
  if (!existsSync(path.join(REPO_ROOT, 'extension', 'pkg', 'ferrophone_web_bg.wasm'))) {
    throw new Error('extension/pkg is missing: run ./build.sh first');
  }

  /** @type {string[]} kept in memory too, so a test can search everything that was printed */
  const lines = [];
  let writes = Promise.resolve();
  /** @param {string} source @param {string} text */
  const log = (source, text) => {
    const line = `${new Date().toISOString()} [${source}] ${text}`;
    lines.push(line);
    writes = writes.then(() => appendFile(logFile, `${line}\n`)).catch(() => {});
  };

  const profile = await mkdtemp(path.join(tmpdir(), 'ferrophone-profile-'));
  /** @type {BrowserContext} */
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...chromiumArgs(REPO_ROOT, options.extensions || []), ...(options.args || [])],
    });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }

  /** @param {ConsoleMessage} msg */
  const consoleText = (msg) => `${msg.type()}: ${msg.text()}`;

  /** @param {Worker} worker */
  const watchWorker = (worker) => {
    log('harness', `service worker up: ${worker.url()}`);
    worker.on('console', (msg) => log('worker', consoleText(msg)));
    worker.on('close', () => log('harness', `service worker closed: ${worker.url()}`));
  };
  /** @param {Page} page */
  const watchPage = (page) => {
    const name = () => pageName(page.url());
    log('harness', `page opened: ${page.url() || '(blank)'}`);
    page.on('console', (msg) => {
      if (!msg.worker()) log(name(), consoleText(msg)); // the worker's own lines are logged once, above
    });
    page.on('pageerror', (err) => log(name(), `pageerror: ${err.stack || err.message}`));
    page.on('close', () => log('harness', `page closed: ${page.url()}`));
  };
  ctx.on('serviceworker', watchWorker);
  ctx.on('page', watchPage);
  for (const page of ctx.pages()) watchPage(page);

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await ctx.close();
    } finally {
      await writes;
      await rm(profile, { recursive: true, force: true });
    }
  };

  try {
    // Ferrophone's worker (another extension loaded beside it may have one too).
    /** @param {Worker} w */
    const ours = (w) => w.url().endsWith('/extension/sw.js');
    for (const w of ctx.serviceWorkers()) watchWorker(w);
    let worker = ctx.serviceWorkers().find(ours);
    if (!worker) worker = await ctx.waitForEvent('serviceworker', { predicate: ours, timeout: 15000 });
    const extensionId = new URL(worker.url()).host;
    const base = `chrome-extension://${extensionId}`;
    const offscreen = await watchOffscreenDocuments(ctx, base, log);

    /** @type {Page | undefined} */
    let optionsPage;

    const ext = {
      ctx,
      extensionId,
      artifacts,
      logFile,
      /** Every line logged so far (console output of all contexts). */
      lines,
      /** @param {string} text */
      note: (text) => log('test', text),
      close,
      /** The current service worker (a new one after the old one was stopped). */
      worker: () => ctx.serviceWorkers().find((w) => w.url().startsWith(base)),
      /**
       * When the extension's offscreen document was opened and closed, in order, as Chromium
       * reported it (the document may live only a few milliseconds).
       */
      offscreenEvents: offscreen.events,
      /** @param {string} file  e.g. 'extension/options.html' */
      url: (file) => `${base}/${file}`,

      /** Opens (once) and returns the options page, loaded. */
      async options() {
        if (optionsPage && !optionsPage.isClosed()) return optionsPage;
        optionsPage = await ctx.newPage();
        await optionsPage.goto(ext.url('extension/options.html'));
        // The forms are filled from storage after load: typing earlier would be overwritten.
        await optionsPage.locator('html[data-loaded="true"]').waitFor({ state: 'attached', timeout: 10000 });
        return optionsPage;
      },

      /**
       * Sends a runtime message from the options page (an ordinary extension page, as the real
       * page does) and returns the reply.
       * @param {object} message
       * @returns {Promise<any>}
       */
      async send(message) {
        const page = await ext.options();
        return page.evaluate((m) => chrome.runtime.sendMessage(m), message);
      },

      /**
       * Reads a chrome.storage area through the options page.
       * @param {'sync' | 'local'} area
       * @returns {Promise<Record<string, any>>}
       */
      async storage(area) {
        const page = await ext.options();
        return page.evaluate((a) => chrome.storage[a].get(null), area);
      },

      /**
       * URLs of the extension's documents Chromium reports (pages, offscreen documents...).
       * @returns {Promise<{type: string, url: string}[]>}
       */
      async targets() {
        const page = await ext.options();
        const cdp = await ctx.newCDPSession(page);
        try {
          const { targetInfos } = await cdp.send('Target.getTargets');
          return targetInfos
            .filter((t) => t.url.startsWith(base))
            .map((t) => ({ type: t.type, url: t.url }));
        } finally {
          await cdp.detach().catch(() => {});
        }
      },

      /**
       * Saves a screenshot as tests/artifacts/<spec>/<name>.png.
       * @param {Page} page
       * @param {string} name
       */
      async screenshot(page, name) {
        const file = path.join(artifacts, `${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        return file;
      },
    };

    await worker.evaluate(() => true); // the worker's script has run: its listeners exist
    return ext;
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Playwright does not report offscreen documents (Chromium lists them as "background_page"
 * targets): this watches for them over the browser's DevTools protocol, records when they open
 * and close, and logs their console output and uncaught exceptions.
 * @param {BrowserContext} ctx
 * @param {string} base  chrome-extension://<id>
 * @param {(source: string, text: string) => void} log
 */
async function watchOffscreenDocuments(ctx, base, log) {
  /** @type {{event: 'opened' | 'closed', at: number, url: string}[]} */
  const events = [];
  const browser = ctx.browser();
  if (!browser) throw new Error('no browser behind this context: cannot watch offscreen documents');
  const cdp = await browser.newBrowserCDPSession();
  /** @type {Map<string, string>} targetId → url */
  const open = new Map();
  let nextId = 1;
  /** @param {string} sessionId @param {string} method */
  const sendTo = (sessionId, method) =>
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: nextId++, method }) });

  /** @param {{targetId: string, url: string}} info */
  const consider = async (info) => {
    if (!info.url.startsWith(`${base}/`) || !info.url.endsWith('/offscreen.html') || open.has(info.targetId)) return;
    open.set(info.targetId, info.url);
    events.push({ event: 'opened', at: Date.now(), url: info.url });
    log('harness', `offscreen document opened: ${info.url}`);
    // The old, non-flat protocol: Playwright owns the flat sessions on this connection.
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: info.targetId, flatten: false });
    await sendTo(sessionId, 'Runtime.enable');
  };
  /** @param {{targetInfo: {targetId: string, url: string}}} e */
  const onTarget = ({ targetInfo }) => {
    consider(targetInfo).catch((e) => log('harness', `could not watch ${targetInfo.url}: ${e.message}`));
  };
  cdp.on('Target.targetCreated', onTarget);
  cdp.on('Target.targetInfoChanged', onTarget);
  cdp.on('Target.targetDestroyed', ({ targetId }) => {
    const url = open.get(targetId);
    if (url === undefined) return;
    open.delete(targetId);
    events.push({ event: 'closed', at: Date.now(), url });
    log('harness', `offscreen document closed: ${url}`);
  });
  cdp.on('Target.receivedMessageFromTarget', ({ message }) => {
    const m = JSON.parse(message);
    if (m.method === 'Runtime.consoleAPICalled') {
      /** @type {{value?: unknown, description?: string}[]} */
      const args = m.params.args;
      const text = args.map((a) => (a.value !== undefined ? String(a.value) : a.description)).join(' ');
      log('offscreen', `${m.params.type}: ${text}`);
    } else if (m.method === 'Runtime.exceptionThrown') {
      const d = m.params.exceptionDetails;
      log('offscreen', `pageerror: ${(d.exception && d.exception.description) || d.text}`);
    }
  });
  await cdp.send('Target.setDiscoverTargets', { discover: true });
  return { events };
}

/** @param {string} url */
function pageName(url) {
  if (url.endsWith('/offscreen.html')) return 'offscreen';
  if (url.endsWith('/options.html')) return 'options';
  return `page ${url}`;
}
