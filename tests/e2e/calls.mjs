// @ts-check
// Shared helpers for the call specs (tests/e2e/call-*.test.mjs, docs/CALLS-TESTING.md): a
// registered Ferrophone with a known microphone tone, the command API, the `call` events as the
// options page receives them, what the offscreen media engine reports, bob (baresip) and sipp far
// ends, bob's recordings, and the Kamailio trace of a call. Everything runs inside the namespace
// `tests/run.sh e2e` creates, with the lab started.
//
//   const phone = await startPhone(t, 'call-outgoing-bob');      // registered as alice over wss
//   const { call } = await phone.cmd('dial', { target: 'bob' });
//   await phone.waitCall(call.id, (c) => c.state === 'active');
//   await hearsTone(phone, call.id, 1000);

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile, rm, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, launchExtension, poll, sleep } from './harness.mjs';
import { LAB_DIR, SERVERS, labSh, resetAor, saveAccount, waitStatus } from './lab.mjs';
import { Bob } from '../lab/bob.mjs';

const run = promisify(execFile);

/** The browser's fake microphone: a 440 Hz tone (written by `lab.sh start`). */
export const FAKE_MIC_WAV = path.join(LAB_DIR, 'generated', 'tone440_48k.wav');
/** What the browser sends (its fake microphone) and what bob / sipp send back. */
export const MIC_HZ = 440;
export const FAR_HZ = 1000;
/** remotePeakHz within this of the expected tone counts as hearing it. */
export const TOLERANCE_HZ = 50;
export const BOB_REC_DIR = path.join(LAB_DIR, 'rec', 'bob');
export const SIPP_DIR = path.join(LAB_DIR, 'generated', 'sipp');
export const RUN_DIR = path.join(LAB_DIR, 'run');
export const SIPP_LOG_DIR = path.join(LAB_DIR, 'logs');

/**
 * @typedef {{id: string, direction: 'outgoing' | 'incoming', remote: string, remoteName?: string,
 *   state: string, autoAnswer: boolean, endReason?: string, muted: boolean}} Call
 * @typedef {{at: number, call: Call}} CallEvent
 * @typedef {{at: number, state: string, reason?: string, connection?: any}} RegEvent
 */

/**
 * Launches Chromium with the extension (fake microphone = the 440 Hz tone), records every `call`
 * and `registration` event in the options page (with Date.now()), optionally writes `settings`
 * to chrome.storage.sync first, and registers `user` (alice) over wss:// by typing the account
 * into the options page. Closes the browser after the test (after hanging up whatever call is
 * left).
 * @param {import('node:test').TestContext} t
 * @param {string} spec  artifacts folder name
 * @param {{user?: string, password?: string, server?: string, settings?: object}} [account]
 */
export async function startPhone(t, spec, account = {}) {
  const { user = 'alice', password = 'alicepw', server = SERVERS.md5Wss } = account;
  assert.ok(existsSync(FAKE_MIC_WAV), `${FAKE_MIC_WAV} exists (lab.sh start writes it)`);
  await resetAor(user);
  const ext = await launchExtension(spec, { args: [`--use-file-for-fake-audio-capture=${FAKE_MIC_WAV}`] });
  let closed = false;
  const page = await ext.options();
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.callEvents = [];
    w.regEvents = [];
    chrome.runtime.onMessage.addListener((m) => {
      if (m && m.ferrophone === 1 && m.event === 'call') w.callEvents.push({ at: Date.now(), call: m.call });
      if (m && m.ferrophone === 1 && m.event === 'registration') {
        w.regEvents.push({ at: Date.now(), state: m.registration.state, reason: m.registration.reason, connection: m.connection });
      }
      return false;
    });
  });
  if (account.settings) {
    await page.evaluate((s) => chrome.storage.sync.set({ settings: { version: 1, ...s } }), account.settings);
  }

  const phone = {
    ext,
    page,
    user,
    /**
     * A command API request; asserts `ok` and returns the reply.
     * @param {string} cmd
     * @param {object} [args]
     */
    async cmd(cmd, args = {}) {
      const reply = await ext.send({ ferrophone: 1, cmd, ...args });
      ext.note(`${cmd} ${JSON.stringify(args)} → ${JSON.stringify(reply)}`);
      assert.ok(reply && reply.ok, `${cmd} ${JSON.stringify(args)} succeeds: ${JSON.stringify(reply)}`);
      return reply;
    },
    /** A command API request, reply as it is (no assertion). @param {string} cmd @param {object} [args] */
    raw: (cmd, args = {}) => ext.send({ ferrophone: 1, cmd, ...args }),
    /** Every `call` event the options page received so far. @returns {Promise<CallEvent[]>} */
    events: () => page.evaluate(() => /** @type {any} */ (window).callEvents.slice()),
    /** The same (the reliability specs' name for it). @returns {Promise<CallEvent[]>} */
    callEvents: () => phone.events(),
    /** Every `registration` event so far. @returns {Promise<RegEvent[]>} */
    regEvents: () => page.evaluate(() => /** @type {any} */ (window).regEvents.slice()),
    /** The `status` command's reply. @returns {Promise<any>} */
    status: () => ext.send({ ferrophone: 1, cmd: 'status' }),
    /**
     * The first `registration` event at or after `since` that matches.
     * @param {(e: RegEvent) => boolean} match
     * @param {number} since
     * @param {number} timeoutMs
     */
    async waitRegistration(match, since, timeoutMs) {
      /** @type {RegEvent[]} */
      let seen = [];
      const hit = await poll(async () => {
        seen = (await phone.regEvents()).filter((e) => e.at >= since);
        return seen.find(match);
      }, { timeoutMs, intervalMs: 50 });
      if (!hit) throw new Error(`no matching registration event within ${timeoutMs} ms; seen: ${JSON.stringify(seen.map(({ at, state, reason }) => ({ at, state, reason })))}`);
      return hit;
    },
    /** The `call` events of one call, in order. @param {string} id */
    async eventsOf(id) {
      return (await phone.events()).filter((e) => e.call.id === id);
    },
    /**
     * Waits for a `call` event (of call `id`, or of any call when `id` is null) that matches.
     * @param {string | null} id
     * @param {(c: Call) => boolean} match
     * @param {{timeoutMs?: number, what?: string}} [options]
     * @returns {Promise<CallEvent>}
     */
    async waitCall(id, match, { timeoutMs = 10000, what = 'a matching call event' } = {}) {
      /** @type {CallEvent[]} */
      let seen = [];
      const hit = await poll(async () => {
        seen = (await phone.events()).filter((e) => id === null || e.call.id === id);
        return seen.find((e) => match(e.call));
      }, { timeoutMs, intervalMs: 50 });
      if (!hit) {
        throw new Error(`no ${what} within ${timeoutMs} ms; call events: ${JSON.stringify(seen.map((e) => e.call))}`);
      }
      return hit;
    },
    /** The `calls` command's list. @returns {Promise<Call[]>} */
    async calls() {
      const reply = await ext.send({ ferrophone: 1, cmd: 'calls' });
      assert.ok(reply && reply.ok, `calls: ${JSON.stringify(reply)}`);
      return reply.calls;
    },
    /**
     * `media-stats` of a call from the offscreen document, or null when there is no document.
     * @param {string} callId
     */
    async stats(callId) {
      return offscreenRequest(ext, { type: 'media-stats', callId });
    },
    /** `media-calls` from the offscreen document, or null when there is no document. */
    async mediaCalls() {
      return offscreenRequest(ext, { type: 'media-calls' });
    },
    /** Whether the offscreen document is open now (its last recorded event is `opened`). */
    offscreenOpen() {
      const last = ext.offscreenEvents[ext.offscreenEvents.length - 1];
      return Boolean(last && last.event === 'opened');
    },
    /** Hangs up every call that has not ended (cleanup; never throws). */
    async hangupAll() {
      try {
        const reply = await ext.send({ ferrophone: 1, cmd: 'calls' });
        for (const c of (reply && reply.calls) || []) {
          await ext.send({ ferrophone: 1, cmd: 'hangup', id: c.id }).catch(() => {});
        }
      } catch {
        // the browser may already be gone
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await phone.hangupAll();
      await poll(async () => ((await ext.send({ ferrophone: 1, cmd: 'calls' }).catch(() => ({ calls: [] }))).calls || []).length === 0,
        { timeoutMs: 3000 });
      await ext.close();
    },
  };
  t.after(() => phone.close());

  await saveAccount(page, { server, username: user, password });
  await waitStatus(page, /^registered \(expires in \d+ s\)$/, 15000);
  ext.note(`${user} registered over ${server}`);
  return phone;
}

/** @typedef {Awaited<ReturnType<typeof startPhone>>} Phone */

/**
 * Records, in the options page, every broadcast event of one kind (`transfer`, `dtmf`, ...) from
 * now on; returns a function that resolves with those received so far.
 * @param {Phone} phone
 * @param {string} kind
 * @returns {Promise<() => Promise<any[]>>}
 */
export async function recordEvents(phone, kind) {
  await phone.page.evaluate((k) => {
    const w = /** @type {any} */ (window);
    w.recorded = w.recorded || {};
    if (w.recorded[k]) return;
    w.recorded[k] = [];
    chrome.runtime.onMessage.addListener((m) => {
      if (m && m.ferrophone === 1 && m.event === k) w.recorded[k].push(m);
      return false;
    });
  }, kind);
  return () => phone.page.evaluate((k) => /** @type {any} */ (window).recorded[k].slice(), kind);
}

/**
 * A request to the offscreen document, sent from the options page. Null when no document exists
 * (nothing answers: "Receiving end does not exist").
 * @param {{send: (m: object) => Promise<any>}} ext
 * @param {object} request
 */
export async function offscreenRequest(ext, request) {
  try {
    const reply = await ext.send({ ferrophone: 1, target: 'offscreen', ...request });
    return reply === undefined ? null : reply;
  } catch (e) {
    if (/Receiving end does not exist|message port closed/i.test(String(e))) return null;
    throw e;
  }
}

/**
 * Proves the browser hears `hz` on a call: waits (up to `startMs`) for the first `media-stats`
 * whose remotePeakHz is within TOLERANCE_HZ, then samples every 500 ms for `forMs` and requires
 * every sample to be the tone and packetsReceived to grow between samples. Returns the samples.
 * @param {Phone} phone
 * @param {string} callId
 * @param {number} hz
 * @param {{forMs?: number, startMs?: number}} [options]
 */
export async function hearsTone(phone, callId, hz, { forMs = 3000, startMs = 8000 } = {}) {
  const isTone = (/** @type {number} */ f) => Math.abs(f - hz) <= TOLERANCE_HZ;
  /** @type {any} */
  let last = null;
  const first = await poll(async () => {
    last = await phone.stats(callId);
    return last && last.ok && isTone(last.remotePeakHz) ? last : null;
  }, { timeoutMs: startMs, intervalMs: 200 });
  assert.ok(first, `the browser hears ${hz} Hz within ${startMs} ms; last media-stats: ${JSON.stringify(last)}`);
  const samples = [first];
  const t0 = Date.now();
  while (Date.now() - t0 < forMs) {
    await sleep(500);
    samples.push(await phone.stats(callId));
  }
  const summary = samples.map((s) => s && `${Math.round(s.remotePeakHz)} Hz/${s.packetsReceived} pkts/level ${Number(s.remoteLevel).toFixed(3)}`);
  phone.ext.note(`media-stats of ${callId} over ${Date.now() - t0} ms: ${summary.join(', ')}`);
  for (const [i, s] of samples.entries()) {
    assert.ok(s && s.ok, `media-stats answers throughout (sample ${i}: ${JSON.stringify(s)})`);
    assert.ok(isTone(s.remotePeakHz), `sample ${i}: the browser hears ${hz} ±${TOLERANCE_HZ} Hz, not ${s.remotePeakHz} (${summary.join(', ')})`);
    if (i > 0) {
      assert.ok(s.packetsReceived > samples[i - 1].packetsReceived,
        `packetsReceived grows between samples ${i - 1} and ${i} (${summary.join(', ')})`);
    }
  }
  // 20 ms packets: 50/s; a starved machine slows things down, but a flowing stream is far above 10/s.
  const span = (samples.length - 1) * 0.5;
  const received = samples[samples.length - 1].packetsReceived - samples[0].packetsReceived;
  assert.ok(received >= 10 * span, `RTP flows: ${received} packets in ${span} s`);
  return samples;
}

/**
 * Samples `media-stats` of a call every `intervalMs` in the background, for long calls whose audio
 * must keep flowing through signalling events (session refreshes, re-INVITEs). `stop()` ends the
 * sampling and resolves with every sample, each with `at` = Date.now() when it was taken.
 * `check(hz, from, to)` asserts that every sample taken in [from, to] heard `hz` ±TOLERANCE_HZ
 * and that packetsReceived grew between consecutive ones; it returns those samples.
 * @param {Phone} phone
 * @param {string} callId
 * @param {number} [intervalMs]
 */
export function recordMediaStats(phone, callId, intervalMs = 1000) {
  /** @type {any[]} */
  const samples = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await phone.stats(callId).catch((e) => ({ ok: false, error: String(e) }));
      samples.push({ at: Date.now(), ...(s || { ok: false, error: 'no offscreen document' }) });
      await sleep(intervalMs);
    }
  })();
  const isTone = (/** @type {number} */ f, /** @type {number} */ hz) => Math.abs(f - hz) <= TOLERANCE_HZ;
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      return samples;
    },
    /** @param {number} hz @param {number} from @param {number} to  Date.now() times */
    check(hz, from, to) {
      const window = samples.filter((s) => s.at >= from && s.at <= to);
      const summary = window.map((s) => `+${((s.at - from) / 1000).toFixed(1)}s ${s.ok ? `${Math.round(s.remotePeakHz)} Hz/${s.packetsReceived}` : 'no stats'}`);
      assert.ok(window.length >= Math.floor((to - from) / intervalMs) - 2,
        `media-stats sampled throughout: ${window.length} samples in ${to - from} ms`);
      for (const [i, s] of window.entries()) {
        assert.ok(s.ok, `media-stats answers at +${s.at - from} ms: ${JSON.stringify(s)}`);
        assert.ok(isTone(s.remotePeakHz, hz), `the browser hears ${hz} Hz at +${s.at - from} ms, not ${s.remotePeakHz} (${summary.join(', ')})`);
        if (i > 0) {
          assert.ok(s.packetsReceived > window[i - 1].packetsReceived,
            `packetsReceived grows up to +${s.at - from} ms (${summary.join(', ')})`);
        }
      }
      return window;
    },
  };
}

// ------------------------------------------------------------------------------------------------
// bob (baresip)

/**
 * Connects to bob's control socket, makes sure bob has no call, and closes the connection (after
 * hanging up whatever is left) when the test ends.
 * @param {import('node:test').TestContext} t
 */
export async function connectBob(t) {
  const bob = await Bob.connect();
  t.after(async () => {
    try {
      await bob.hangupAll();
    } catch {
      // bob's control connection may be gone (e.g. after the lab re-created bob)
    } finally {
      bob.close();
    }
  });
  assert.ok(await bob.hangupAll(), 'bob starts without a call');
  return bob;
}

/**
 * bob dials alice; resolves with the `call` event of the incoming call ringing at `phone` once bob
 * also reports CALL_RINGING (a 180 reached him).
 * @param {Phone} phone
 * @param {any} bob  a Bob from connectBob
 */
export async function bobCallsAlice(phone, bob) {
  const from = bob.events.length;
  const dial = await bob.dial('sip:alice@127.0.0.1');
  assert.ok(dial.ok, `bob dials alice: ${JSON.stringify(dial)}`);
  const ringing = await phone.waitCall(null, (c) => c.state === 'ringing' && c.direction === 'incoming',
    { timeoutMs: 10000, what: "bob's call ringing" });
  assert.match(ringing.call.remote, /^sip:bob@127\.0\.0\.1/, `the caller is bob: ${ringing.call.remote}`);
  await bob.waitEvent('CALL_RINGING', 5000, from);
  return ringing;
}

/**
 * Gives the specs after this one a fresh bob (`lab.sh bob-restart`) when this test ends: baresip
 * 1.0 keeps state from transfers that has crashed it minutes later (see docs/CALLS-TESTING.md).
 * @param {import('node:test').TestContext} t
 */
export function freshBobAfter(t) {
  t.after(async () => {
    await labSh('bob-restart');
  });
}

/**
 * bob's calls from `listcalls` ([] when none).
 * @param {Bob} bob
 * @returns {Promise<{line: number, state: string, peer: string, raw: string}[]>}
 */
export const bobCalls = (bob) => bob.listCalls();

/** The recordings in tests/lab/rec/bob now (file names). */
export function bobRecordings() {
  if (!existsSync(BOB_REC_DIR)) return [];
  return readdirSync(BOB_REC_DIR).filter((n) => n.endsWith('.wav')).sort();
}

/**
 * Waits for the new `*-dec.wav` (what bob heard) not in `before`, and for it to be complete
 * (baresip writes the header's sizes when the call closes: the size stops changing).
 * @param {string[]} before  bobRecordings() before the call
 * @param {number} [timeoutMs]
 */
export async function newBobRecording(before, timeoutMs = 8000) {
  const file = await findBobRecording(before, timeoutMs);
  assert.ok(file, `bob recorded the call (a new *-dec.wav in ${BOB_REC_DIR}; files: ${bobRecordings().join(', ')})`);
  return file;
}

/**
 * The same as newBobRecording, but null when no new recording appears (for specs that save their
 * evidence before they assert).
 * @param {string[]} before
 * @param {number} [timeoutMs]
 * @returns {Promise<string | null>}
 */
export async function findBobRecording(before, timeoutMs = 8000) {
  const fresh = () => bobRecordings().filter((n) => n.endsWith('-dec.wav') && !before.includes(n));
  const found = await poll(async () => fresh().length > 0, { timeoutMs });
  if (!found) return null;
  const file = path.join(BOB_REC_DIR, fresh()[0]);
  let size = -1;
  await poll(async () => {
    const now = statSync(file).size;
    const stable = now === size && now > 44;
    size = now;
    return stable;
  }, { timeoutMs, intervalMs: 300 });
  return file;
}

/**
 * `analyze_wav.py --expect hz --json` on a file: resolves with its analysis; `ok` is the exit status.
 * @param {string} file
 * @param {number} hz
 * @param {string[]} [extra]  e.g. ['--start', '1', '--seconds', '2']
 */
export async function analyzeWav(file, hz, extra = []) {
  const script = path.join(LAB_DIR, 'analyze_wav.py');
  try {
    const { stdout } = await run('/usr/bin/python3', [script, '--expect', String(hz), '--json', ...extra, file]);
    return { ok: true, ...JSON.parse(stdout.trim().split('\n').pop() || '{}') };
  } catch (e) {
    const err = /** @type {any} */ (e);
    let parsed = {};
    try {
      parsed = JSON.parse(String(err.stdout || '').trim().split('\n').pop() || '{}');
    } catch {
      parsed = { output: String(err.stdout || ''), error: String(err.stderr || err.message) };
    }
    return { ok: false, ...parsed };
  }
}

/**
 * baresip's events since index `since` of bob.events: {type, param, peeruri, ...}.
 * @param {Bob} bob
 * @param {number} since
 * @returns {{type: string, param?: string, peeruri?: string}[]}
 */
export const bobEventsSince = (bob, since) => bob.events.slice(since);

// ------------------------------------------------------------------------------------------------
// sipp

/**
 * @typedef {{name: string, pid: number, output: () => string, exited: Promise<number | null>,
 *   exitCode: () => number | null | undefined, kill: () => Promise<void>, messages: () => Promise<string>}} Sipp
 */

/**
 * Starts sipp in the background with a rendered scenario from tests/lab/generated/sipp. Its pid
 * goes to tests/lab/run/sipp-<name>.pid (so `lab.sh stop` ends it if the test does not), its
 * messages to tests/lab/logs/sipp-<name>.msg. Killed by its pid when the test ends.
 * @param {import('node:test').TestContext} t
 * @param {string} name  e.g. 'carol'
 * @param {string} scenario  file in generated/sipp, e.g. 'uas_cancel.xml'
 * @param {string[]} args  the rest of sipp's command line (without -sf / -trace_msg)
 * @returns {Promise<Sipp>}
 */
export async function startSipp(t, name, scenario, args) {
  const scenarioFile = path.join(SIPP_DIR, scenario);
  assert.ok(existsSync(scenarioFile), `${scenarioFile} exists (lab.sh start renders tests/lab/sipp/*.xml)`);
  const msgFile = path.join(SIPP_LOG_DIR, `sipp-${name}.msg`);
  await rm(msgFile, { force: true });
  const argv = ['-sf', scenarioFile, ...args, '-trace_msg', '-message_file', msgFile];
  const child = spawn('sipp', argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  /** @type {number | null | undefined} */
  let code;
  const exited = new Promise((resolve) => {
    child.on('exit', (c, signal) => {
      code = c === null ? null : c;
      out += signal ? `\n[sipp killed by ${signal}]` : '';
      resolve(code);
    });
    child.on('error', (e) => { out += `\n[spawn error ${e.message}]`; code = null; resolve(null); });
  });
  const pid = /** @type {number} */ (child.pid);
  const pidFile = path.join(RUN_DIR, `sipp-${name}.pid`);
  await writeFile(pidFile, `${pid}\n`);
  const kill = async () => {
    if (code === undefined) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      const gone = await within(exited.then(() => true), 3000);
      if (!gone) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } await exited; }
    }
    await rm(pidFile, { force: true });
  };
  t.after(kill);
  return { name, pid, output: () => out, exited, exitCode: () => code, kill, messages: () => readFile(msgFile, 'utf8').catch(() => '') };
}

/**
 * Runs a sipp scenario to its end (foreground) and returns {code, output}.
 * @param {string} scenario
 * @param {string[]} args
 * @param {number} [timeoutMs]
 */
export async function runSipp(scenario, args, timeoutMs = 20000) {
  const scenarioFile = path.join(SIPP_DIR, scenario);
  try {
    const { stdout, stderr } = await run('sipp', ['-sf', scenarioFile, ...args], { cwd: REPO_ROOT, timeout: timeoutMs });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = /** @type {any} */ (e);
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout || ''}${err.stderr || ''}${err.message}` };
  }
}

/**
 * Registers a sipp phone as `user` from 127.0.0.1:`port` (register.xml, digest on the MD5
 * instance, binding 3600 s) and asserts it worked.
 * @param {string} user
 * @param {number} port
 * @param {number} controlPort
 */
export async function registerSippPhone(user, port, controlPort) {
  await resetAor(user);
  const r = await runSipp('register.xml', [
    '127.0.0.1:5060', '-s', user, '-au', user, '-ap', `${user}pw`, '-i', '127.0.0.1', '-p', String(port),
    '-ci', '127.0.0.1', '-cp', String(controlPort), '-m', '1', '-nostdin', '-timeout', '10', '-timeout_error',
  ]);
  assert.equal(r.code, 0, `sipp registers ${user} from port ${port}: ${r.output.slice(-2000)}`);
}

/**
 * Waits for a background sipp to exit (at most `timeoutMs`); returns its exit code (undefined if
 * it is still running).
 * @param {Sipp} sipp
 * @param {number} timeoutMs
 */
export async function sippExit(sipp, timeoutMs) {
  return within(sipp.exited, timeoutMs);
}

/**
 * `promise`'s value, or undefined when it takes longer than `ms` (the timer is cleared, so it
 * does not keep node's event loop alive after the test).
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T | undefined>}
 */
export function within(promise, ms) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The messages sipp exchanged (its -message_file), '' when none. @param {Sipp} sipp */
export async function sippMessages(sipp) {
  try {
    return await readFile(path.join(SIPP_LOG_DIR, `sipp-${sipp.name}.msg`), 'utf8');
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------------------------------------
// SDP in traces

/** The body of a SIP message (after the blank line). @param {string} text */
export const sipBody = (text) => {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? text.slice(m.index + m[0].length) : '';
};

/**
 * The payload types of the audio m-line of an SDP, and their rtpmap names.
 * @param {string} sdp
 * @returns {{port: number | undefined, proto: string | undefined, payloads: string[], names: string[]}}
 */
export function audioCodecs(sdp) {
  const m = /^m=audio (\d+) (\S+) ([\d ]+)\r?$/m.exec(sdp);
  if (!m) return { port: undefined, proto: undefined, payloads: [], names: [] };
  const payloads = m[3].trim().split(/\s+/);
  const names = payloads.map((pt) => {
    const r = new RegExp(`^a=rtpmap:${pt} ([^/\\s]+)`, 'm').exec(sdp);
    return r ? r[1] : ({ 0: 'PCMU', 8: 'PCMA', 9: 'G722' })[/** @type {0 | 8 | 9} */ (Number(pt))] || `pt${pt}`;
  });
  return { port: Number(m[1]), proto: m[2], payloads, names };
}

/**
 * Whether a traced message travelled over the browser's WebSocket. Kamailio's sipdump labels what
 * it receives on the wss listener `wss ipv4`, but requests it sends out on that same connection
 * `ws ipv4`.
 * @param {{proto: string}} m
 */
export const overWebSocket = (m) => /^wss? /.test(m.proto);

// ------------------------------------------------------------------------------------------------
// A far end's ear (tests/lab/rtp_tap.py)

/**
 * The audio port of the far end's SDP in a traced message (its `m=audio` line).
 * @param {{text: string}} m
 */
export const sdpAudioPort = (m) => audioCodecs(sipBody(m.text)).port;

/**
 * Records the RTP that arrives at UDP `port` on the loopback interface (tests/lab/rtp_tap.py):
 * every packet (payload type, sequence, RFC 4733 events) and, decoded, what a listener at that
 * port heard, placed at its arrival time (time without packets is silence). `stop()` ends the
 * capture and resolves with `{summary, packets, wav}`. Stopped by pid when the test ends.
 * @param {import('node:test').TestContext} t
 * @param {string} name  artifacts name (tests/lab/rec/tap-<name>.{json,wav})
 * @param {number} port
 */
export async function startRtpTap(t, name, port) {
  const json = path.join(LAB_DIR, 'rec', `tap-${name}.json`);
  const wav = path.join(LAB_DIR, 'rec', `tap-${name}.wav`);
  await rm(json, { force: true });
  await rm(wav, { force: true });
  const child = spawn('/usr/bin/python3', [path.join(LAB_DIR, 'rtp_tap.py'), '--port', String(port), '--json', json, '--wav', wav],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await poll(async () => out.includes('listening') || child.exitCode !== null, { timeoutMs: 5000, intervalMs: 50 });
  assert.ok(listening && child.exitCode === null, `rtp_tap listens on port ${port}: ${out}`);
  let stopped = false;
  /** @returns {Promise<{summary: any, packets: any[], wav: string}>} */
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      child.kill('SIGTERM');
    }
    const code = await within(exited, 20000);
    assert.equal(code, 0, `rtp_tap exits 0: ${out}`);
    const data = JSON.parse(await readFile(json, 'utf8'));
    return { ...data, wav };
  };
  t.after(async () => {
    if (!stopped && child.exitCode === null) child.kill('SIGKILL');
  });
  return { stop, wav, output: () => out };
}
