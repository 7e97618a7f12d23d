// @ts-check
// Helpers for the browser specs that run against the SIP lab (tests/lab, docs/LAB.md): the
// registrar's bindings, the servers' SIP traces, fault injection, and the options page used the
// way a person uses it. Everything here runs inside the namespace `tests/run.sh e2e` creates, where
// the lab is already started.
//
//   import { contacts, resetAor, readTrace, saveAccount, statusText } from './lab.mjs';
//   await resetAor('alice');
//   await saveAccount(page, { server: 'wss://127.0.0.1:8443', username: 'alice', password: 'alicepw' });
//   const [binding] = await contacts('alice');        // { instance: '<urn:uuid:…>', callId, … }
//   const registers = (await readTrace('md5')).filter((m) => m.method === 'REGISTER' && m.callId === binding.callId);

import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, poll } from './harness.mjs';

/** @typedef {import('playwright-core').Page} Page */

export const LAB_DIR = path.join(REPO_ROOT, 'tests', 'lab');
export const TRACE_DIR = path.join(LAB_DIR, 'trace');
export const LOG_DIR = path.join(LAB_DIR, 'logs');

/** The lab's servers (docs/LAB.md). Both Kamailio instances share users and realm 127.0.0.1. */
export const SERVERS = {
  md5Wss: 'wss://127.0.0.1:8443',
  md5Ws: 'ws://127.0.0.1:8080',
  shaWss: 'wss://127.0.0.1:8444',
  shaWs: 'ws://127.0.0.1:8081',
};

const run = promisify(execFile);

/**
 * Runs a lab script and returns its standard output (throws with stdout/stderr on failure).
 * @param {string} script  file in tests/lab
 * @param {string[]} args
 * @param {number} [timeoutMs]
 */
async function labScript(script, args, timeoutMs = 30000) {
  try {
    const { stdout } = await run(path.join(LAB_DIR, script), args, { timeout: timeoutMs, cwd: REPO_ROOT });
    return stdout;
  } catch (e) {
    const err = /** @type {any} */ (e);
    throw new Error(`${script} ${args.join(' ')} failed (${err.code}): ${err.stdout || ''}${err.stderr || ''}`);
  }
}

/**
 * `tests/lab/lab.sh <command>`, e.g. labSh('kamailio-stop'), labSh('kamailio-start', 'sha').
 * @param {...string} args
 */
export const labSh = (...args) => labScript('lab.sh', args, 60000);

/**
 * kamcmd against the MD5 instance, or the SHA-256 one when the first argument is 'sha'.
 * @param {...string} args
 */
export const kamcmd = (...args) => labScript('kamcmd.sh', args);

/**
 * @typedef {{contact: string, instance: string, regId: string, received: string, expires: string,
 *   callId: string, cseq: string, tcpconnId: string, line: string}} Binding
 */

/**
 * The live bindings of an AoR, from `tests/lab/contacts.sh` (one per line).
 * @param {string} user
 * @param {{sha?: boolean}} [options]  the SHA-256 instance instead of the MD5 one
 * @returns {Promise<Binding[]>}
 */
export async function contacts(user, { sha = false } = {}) {
  const out = await labScript('contacts.sh', sha ? [user, 'sha'] : [user]);
  return out.split('\n').filter(Boolean).map((line) => {
    /** @type {Record<string, string>} */
    const f = {};
    for (const part of line.split(' ')) {
      const eq = part.indexOf('=');
      if (eq > 0) f[part.slice(0, eq)] = part.slice(eq + 1);
    }
    return {
      contact: f.contact, instance: f.instance, regId: f['reg-id'], received: f.received, expires: f.expires,
      callId: f['call-id'], cseq: f.cseq, tcpconnId: f['tcpconn-id'], line,
    };
  });
}

/**
 * Removes every binding of `user` on both instances, so a spec starts from an empty AoR whatever
 * earlier specs left behind (a closed browser leaves its binding until it expires).
 * @param {string} user
 */
export async function resetAor(user) {
  for (const sha of [[], ['sha']]) {
    try {
      await kamcmd(...sha, 'ul.rm', 'location', user);
    } catch (e) {
      if (!/not found|404/i.test(String(e))) throw e; // "AOR not found" is fine
    }
  }
}

/**
 * @typedef {{file: string, tag: 'rcv' | 'snd', time: number, proto: string, srcPort: number,
 *   dstPort: number, text: string, firstLine: string, method?: string, status?: number,
 *   callId?: string, cseq?: string, headers: (name: string) => string[]}} TracedMessage
 */

/** @param {string} name  a file in tests/lab/trace @param {'md5' | 'sha'} instance */
const traceFileOf = (name, instance) =>
  name.endsWith('.data') && (instance === 'sha' ? /^kamailio-sha-\d/.test(name) : /^kamailio-\d/.test(name));

/**
 * Every SIP message one Kamailio instance received (`rcv`) or sent (`snd`), in order, from its
 * sipdump files (`tests/lab/trace/kamailio-*.data` or `kamailio-sha-*.data`; a restarted instance
 * starts a new file). `time` is in milliseconds since the epoch.
 * @param {'md5' | 'sha'} instance
 * @returns {Promise<TracedMessage[]>}
 */
export async function readTrace(instance) {
  const files = (await readdir(TRACE_DIR)).filter((n) => traceFileOf(n, instance)).sort();
  /** @type {TracedMessage[]} */
  const messages = [];
  for (const file of files) {
    const data = await readFile(path.join(TRACE_DIR, file), 'utf8');
    for (const record of data.split('====================\n')) {
      const sep = record.indexOf('~~~~~~~~~~~~~~~~~~~~\n');
      if (sep < 0) continue;
      /** @type {Record<string, string>} */
      const meta = {};
      for (const line of record.slice(0, sep).split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) meta[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      let text = record.slice(sep + '~~~~~~~~~~~~~~~~~~~~\n'.length);
      const end = text.lastIndexOf('||||||||||||||||||||');
      if (end >= 0) text = text.slice(0, end);
      messages.push(parseSip(text, {
        file,
        tag: meta.tag === 'snd' ? 'snd' : 'rcv',
        time: Math.round(Number(meta.time) * 1000),
        proto: meta.proto || '',
        srcPort: Number(meta.srcport),
        dstPort: Number(meta.dstport),
      }));
    }
  }
  return messages;
}

/**
 * @param {string} text  one SIP message
 * @param {{file: string, tag: 'rcv' | 'snd', time: number, proto: string, srcPort: number, dstPort: number}} meta
 * @returns {TracedMessage}
 */
function parseSip(text, meta) {
  const head = text.split(/\r?\n\r?\n/, 1)[0];
  const lines = head.split(/\r?\n/);
  const firstLine = lines[0] || '';
  /** @type {[string, string][]} */
  const headers = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1][1] += ` ${line.trim()}`; // folded line
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const compact = /** @type {Record<string, string>} */ ({ i: 'call-id', f: 'from', t: 'to', m: 'contact', v: 'via' });
  /** @param {string} name */
  const get = (name) => {
    const n = name.toLowerCase();
    return headers.filter(([h]) => h === n || compact[h] === n).map(([, v]) => v);
  };
  const status = /^SIP\/2\.0 (\d{3})/.exec(firstLine);
  const request = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(firstLine);
  return {
    ...meta,
    text,
    firstLine,
    method: request ? request[1] : undefined,
    status: status ? Number(status[1]) : undefined,
    callId: get('call-id')[0],
    cseq: get('cseq')[0],
    headers: get,
  };
}

/**
 * The REGISTER requests Kamailio received with this Call-ID, each with the final response it sent.
 * @param {TracedMessage[]} trace
 * @param {string} callId
 */
export function registersOf(trace, callId) {
  return trace
    .filter((m) => m.tag === 'rcv' && m.method === 'REGISTER' && m.callId === callId)
    .map((request) => ({
      request,
      response: trace.find((r) => r.tag === 'snd' && r.status !== undefined && r.status >= 200
        && r.callId === callId && r.cseq === request.cseq),
    }));
}

/**
 * The value of a digest parameter (`algorithm`, `response`, `username`...) in a header value.
 * @param {string | undefined} header
 * @param {string} name
 */
export function digestParam(header, name) {
  const m = new RegExp(`[\\s,]${name}=("([^"]*)"|[^\\s,]+)`, 'i').exec(` ${header || ''}`);
  return m ? (m[2] !== undefined ? m[2] : m[1]) : undefined;
}

/**
 * Every file of the lab's trace and log directories, as text (for canary searches).
 * @returns {Promise<{file: string, text: string}[]>}
 */
export async function labFiles() {
  const out = [];
  for (const dir of [TRACE_DIR, LOG_DIR]) {
    for (const name of (await readdir(dir)).sort()) {
      out.push({ file: path.join(dir, name), text: await readFile(path.join(dir, name), 'latin1') });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// The options page, used like a person uses it.

/**
 * Types an account into the options page and presses Save; resolves once the page says it saved.
 * Fields not given are left as they are.
 * @param {Page} page
 * @param {{server?: string, username?: string, password?: string}} account
 */
export async function saveAccount(page, account) {
  // The page fills the form from storage after load (also after a reload): wait, or that would
  // overwrite what is typed here.
  await page.locator('html[data-loaded="true"]').waitFor({ state: 'attached', timeout: 10000 });
  if (account.server !== undefined) await page.getByLabel('Server', { exact: true }).fill(account.server);
  if (account.username !== undefined) await page.getByLabel('Username', { exact: true }).fill(account.username);
  if (account.password !== undefined) await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.locator('#save-result').evaluate((el) => { el.textContent = ''; });
  await page.getByRole('button', { name: 'Save' }).click();
  const result = page.locator('#save-result');
  await result.filter({ hasText: /\S/ }).waitFor({ timeout: 5000 });
  const text = await result.innerText();
  if (!text.startsWith('Saved.')) throw new Error(`the options page did not save the account: ${text}`);
}

/** @param {Page} page  the status line's text as shown */
export const statusText = (page) => page.locator('#status').innerText();

/**
 * Waits until the status line matches `re`; returns its text (throws with the last text seen).
 * @param {Page} page
 * @param {RegExp} re
 * @param {number} [timeoutMs]
 */
export async function waitStatus(page, re, timeoutMs = 15000) {
  let last = '';
  const hit = await poll(async () => {
    last = await statusText(page);
    return re.test(last);
  }, { timeoutMs, intervalMs: 100 });
  if (!hit) throw new Error(`the status line never matched ${re} within ${timeoutMs} ms; it shows ${JSON.stringify(last)}`);
  return last;
}

/**
 * Records every text the status line shows from now on (a MutationObserver in the page, so
 * states that last a few milliseconds are seen too). Returns a function that reads the list.
 * @param {Page} page
 * @returns {Promise<() => Promise<string[]>>}
 */
export async function recordStatusLines(page) {
  await page.evaluate(() => {
    const el = /** @type {HTMLElement} */ (document.getElementById('status'));
    const w = /** @type {any} */ (window);
    w.statusLines = [el.textContent];
    new MutationObserver(() => {
      if (w.statusLines[w.statusLines.length - 1] !== el.textContent) w.statusLines.push(el.textContent);
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });
  return () => page.evaluate(() => /** @type {string[]} */ (/** @type {any} */ (window).statusLines.slice()));
}

/**
 * The worker's `diagnostics` reply (account without password, status, ua.instanceId, SIP trace).
 * @param {{send: (m: object) => Promise<any>}} ext
 */
export async function diagnostics(ext) {
  const reply = await ext.send({ ferrophone: 1, cmd: 'diagnostics' });
  if (!reply || !reply.ok) throw new Error(`diagnostics failed: ${JSON.stringify(reply)}`);
  return reply;
}

/**
 * The Call-IDs of the REGISTERs the extension sent, from its own diagnostic trace.
 * @param {any} diag  a `diagnostics` reply
 * @returns {string[]}
 */
export function registerCallIds(diag) {
  /** @type {{direction: string, text: string}[]} */
  const trace = (diag.ua && diag.ua.trace) || [];
  const ids = new Set();
  for (const e of trace) {
    if (e.direction !== 'out' || !e.text.startsWith('REGISTER ')) continue;
    const m = /^(?:Call-ID|i):\s*(\S+)/im.exec(e.text);
    if (m) ids.add(m[1]);
  }
  return [...ids];
}
