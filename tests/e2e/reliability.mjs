// @ts-check
// Helpers for the fault-injection specs (tests/e2e/reliability-*.test.mjs, docs/RELIABILITY.md):
// a registered Ferrophone whose options page records every `registration` and `call` event with
// its time, bob and sipp far ends, the offscreen media engine's counters, the Kamailio side of
// things (bindings, trace, TCP sockets) and the measured numbers written to a JSON artifact.
//
//   const phone = await startPhone(t, 'reliability-x', { settings: { keepaliveInterval: 10 } });
//   const ready = await kamailioStart();               // when Kamailio listened again (ms epoch)
//   const ev = await phone.waitRegistration((e) => e.state === 'registered', ready - 1000, 30000);
//   await saveResults('reliability-x', { ... });      // tests/artifacts/reliability/reliability-x.json
//
// Everything runs inside the namespace `tests/run.sh e2e` creates, with the lab started.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ARTIFACTS, poll, sleep } from './harness.mjs';
import { contacts, diagnostics, labSh, readTrace } from './lab.mjs';
import {
  BOB_REC_DIR, FAKE_MIC_WAV, FAR_HZ, MIC_HZ, RUN_DIR, SIPP_DIR, TOLERANCE_HZ, analyzeWav, bobRecordings, connectBob,
  findBobRecording, offscreenRequest, startPhone as startCallsPhone, startSipp,
} from './calls.mjs';

// Shared with the call specs (one definition each, in calls.mjs).
export {
  BOB_REC_DIR, FAKE_MIC_WAV, FAR_HZ, MIC_HZ, RUN_DIR, SIPP_DIR, TOLERANCE_HZ, analyzeWav, bobRecordings, connectBob,
  findBobRecording, offscreenRequest, startSipp,
};

const run = promisify(execFile);

/** The browser's fake microphone: a 440 Hz tone (written by `lab.sh start`). */
export const RESULTS_DIR = path.join(ARTIFACTS, 'reliability');
export const REGISTERED = /^registered \(expires in \d+ s\)$/;

/** @param {number[]} xs */
export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Prints a line for the test log (node --test shows `# …` lines) and returns it.
 * @param {string} spec
 * @param {string} text
 */
export function report(spec, text) {
  const line = `${spec}: ${text}`;
  console.log(line);
  return line;
}

/**
 * Writes the measured numbers of one run to tests/artifacts/reliability/<name>.json (the harness
 * clears tests/artifacts/<spec>/ at every launch, so results live in their own folder). Each run
 * is also appended to <name>.runs.jsonl, so repeated runs can be compared.
 * @param {string} name
 * @param {object} results
 */
export async function saveResults(name, results) {
  await mkdir(RESULTS_DIR, { recursive: true });
  const record = { spec: name, finishedAt: new Date().toISOString(), ...results };
  await writeFile(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  await appendFile(path.join(RESULTS_DIR, `${name}.runs.jsonl`), `${JSON.stringify(record)}\n`);
}

/**
 * `lab.sh kamailio-start`, returning when Kamailio was listening again: the time the command
 * started plus the elapsed time lab.sh prints once its udp/ws/wss ports listen and its control
 * socket exists (lab.sh then also re-registers bob, which takes another ≈ 0.5 s before it returns).
 */
export async function kamailioStart() {
  const before = Date.now();
  const out = await labSh('kamailio-start');
  const m = /kamailio started, listening .* \((\d+)\.(\d{3})s\)/.exec(out);
  assert.ok(m, `lab.sh says when Kamailio listened: ${out}`);
  return { ready: before + Number(m[1]) * 1000 + Number(m[2]), returned: Date.now(), output: out };
}

/**
 * The server-side TCP sockets of established connections to a listening port (here: Kamailio's
 * wss 8443), from `ss -tni`: peer port, bytes/segments received, ms since the last receive.
 * @param {number} port
 */
export async function serverSockets(port = 8443) {
  const { stdout } = await run('ss', ['-Htni', 'state', 'established', `( sport = :${port} )`]);
  const lines = stdout.split('\n');
  /** @type {{peer: string, peerPort: number, bytesReceived: number, segsIn: number, lastRcvMs: number, raw: string}[]} */
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^\s*\d+\s+\d+\s+(\S+):(\d+)\s+(\S+):(\d+)/.exec(lines[i]);
    if (!head) continue;
    const info = lines[i + 1] && !/^\s*\d+\s+\d+\s+\S+:\d+/.test(lines[i + 1]) ? lines[i + 1] : lines[i];
    const num = (/** @type {string} */ key) => {
      const m = new RegExp(`\\b${key}:(\\d+)`).exec(info);
      return m ? Number(m[1]) : NaN;
    };
    out.push({
      peer: head[3], peerPort: Number(head[4]), bytesReceived: num('bytes_received'), segsIn: num('segs_in'),
      lastRcvMs: num('lastrcv'), raw: `${lines[i].trim()} ${info === lines[i] ? '' : info.trim()}`.trim(),
    });
  }
  return out;
}

/**
 * @typedef {import('./calls.mjs').Call} Call
 * @typedef {import('./calls.mjs').CallEvent} CallEvent
 * @typedef {import('./calls.mjs').RegEvent} RegEvent
 */

/**
 * The call specs' phone (calls.mjs `startPhone`: alice registered over wss, `call` and
 * `registration` events recorded with their time, optional `settings` written first), plus the
 * registration's instance id from `diagnostics`.
 * @param {import('node:test').TestContext} t
 * @param {string} spec
 * @param {{settings?: object, server?: string}} [options]
 */
export async function startPhone(t, spec, options = {}) {
  const phone = await startCallsPhone(t, spec, options);
  const diag = await diagnostics(phone.ext);
  phone.ext.note(`alice registered; instance ${diag.ua.instanceId}`);
  return Object.assign(phone, { instanceId: /** @type {string} */ (diag.ua.instanceId) });
}

/** @typedef {Awaited<ReturnType<typeof startPhone>>} Phone */

/**
 * Waits until the browser hears `hz` (media-stats remotePeakHz) with packetsReceived growing;
 * returns the first matching sample, or null.
 * @param {Phone} phone
 * @param {string} callId
 * @param {number} hz
 * @param {number} timeoutMs
 */
export async function waitTone(phone, callId, hz, timeoutMs) {
  /** @type {any} */
  let prev = null;
  return poll(async () => {
    const s = await phone.stats(callId);
    const ok = s && s.ok && Math.abs(s.remotePeakHz - hz) <= TOLERANCE_HZ && prev && s.packetsReceived > prev.packetsReceived;
    if (s && s.ok) prev = s;
    return ok ? s : null;
  }, { timeoutMs, intervalMs: 300 });
}

/**
 * The REGISTERs Kamailio received with this Call-ID after `since`, each with its final answer.
 * @param {string} callId
 * @param {number} since
 */
export async function registersSince(callId, since) {
  const trace = await readTrace('md5');
  return trace
    .filter((m) => m.tag === 'rcv' && m.method === 'REGISTER' && m.callId === callId && m.time >= since)
    .map((request) => ({
      request,
      response: trace.find((r) => r.tag === 'snd' && r.status !== undefined && r.status >= 200
        && r.callId === callId && r.cseq === request.cseq && r.time >= request.time),
    }));
}

/**
 * A Playwright-free view of the worker's console (`[ferrophone] …` lines) from the harness log.
 * @param {{lines: string[]}} ext
 * @param {RegExp} re
 */
export const workerLines = (ext, re) => ext.lines.filter((l) => l.includes('[worker]') && re.test(l));



// ------------------------------------------------------------------------------------------------
// Kamailio frozen (SIGSTOP): the keep-alive must declare the flow dead

/**
 * One freeze trial on a registered phone: waits until the flow has carried at least one CRLF
 * ping/pong (the pong timeout only applies once the server has ponged), `kamailio-pause`, measures
 * the time until the worker leaves `registered` (and finds its "keep-alive pong missing" log
 * line), leaves Kamailio frozen `holdMs` longer, `kamailio-resume`, measures the time until
 * `registered` again, and checks the registrar has exactly one binding, ours.
 * @param {Phone} phone
 * @param {number} keepaliveS  the keep-alive interval in force
 * @param {{holdMs?: number}} [options]
 */
export async function freezeTrial(phone, keepaliveS, { holdMs = 3000 } = {}) {
  const regs = (await phone.regEvents()).filter((e) => e.state === 'registered');
  const lastRegistered = regs.length ? regs[regs.length - 1].at : Date.now();
  // The first CRLF ping goes out keepaliveS after the WebSocket opened; give its pong 2 s.
  await sleep(Math.max(0, lastRegistered + keepaliveS * 1000 + 2000 - Date.now()));
  const pausedAt = Date.now();
  await labSh('kamailio-pause');
  let frozen = true;
  try {
    const dead = await phone.waitRegistration((e) => e.state !== 'registered', pausedAt, 2 * keepaliveS * 1000 + 15000);
    const detectMs = dead.at - pausedAt;
    const logged = await poll(async () => workerLines(phone.ext, /keep-alive pong missing/)
      .find((l) => Date.parse(l.slice(0, 24)) >= pausedAt), { timeoutMs: 2000 });
    await sleep(holdMs);
    const resumedAt = Date.now();
    await labSh('kamailio-resume');
    frozen = false;
    const back = await phone.waitRegistration((e) => e.state === 'registered', resumedAt, 60000);
    const resumeMs = back.at - resumedAt;
    const between = (await phone.regEvents()).filter((e) => e.at >= pausedAt && e.at <= back.at)
      .map((e) => `+${e.at - pausedAt} ms ${e.state}${e.reason ? ` (${e.reason})` : ''}`);
    const bindings = await contacts('alice');
    return {
      keepaliveS, detectMs, deadState: `${dead.state}: ${dead.reason || ''}`, logLine: logged || null,
      frozenForMs: resumedAt - pausedAt, resumeMs, statesSincePause: between, contacts: bindings.map((b) => b.line),
      oneBindingOurs: bindings.length === 1 && bindings[0].instance === `<urn:uuid:${phone.instanceId}>`,
    };
  } finally {
    if (frozen) await labSh('kamailio-resume');
  }
}


// ------------------------------------------------------------------------------------------------
// rtpengine's ng control protocol (bencode over UDP 127.0.0.1:2223): packet counters per call leg

/**
 * Decodes one bencoded value from `buf` at `pos`. Byte strings come back as utf8/latin1 strings.
 * @param {Buffer} buf
 * @param {number} [pos]
 * @returns {[any, number]}
 */
export function bdecode(buf, pos = 0) {
  const c = String.fromCharCode(buf[pos]);
  if (c === 'i') {
    const end = buf.indexOf(0x65, pos);
    return [Number(buf.subarray(pos + 1, end).toString('latin1')), end + 1];
  }
  if (c === 'l' || c === 'd') {
    const items = [];
    let p = pos + 1;
    while (buf[p] !== 0x65) {
      const [v, next] = bdecode(buf, p);
      items.push(v);
      p = next;
    }
    if (c === 'l') return [items, p + 1];
    /** @type {Record<string, any>} */
    const obj = {};
    for (let i = 0; i < items.length; i += 2) obj[items[i]] = items[i + 1];
    return [obj, p + 1];
  }
  const colon = buf.indexOf(0x3a, pos);
  const len = Number(buf.subarray(pos, colon).toString('latin1'));
  return [buf.subarray(colon + 1, colon + 1 + len).toString('utf8'), colon + 1 + len];
}

/** @param {Record<string, string>} obj  a flat dict of strings */
const bencodeDict = (obj) => `d${Object.keys(obj).sort().map((k) => `${Buffer.byteLength(k)}:${k}${Buffer.byteLength(obj[k])}:${obj[k]}`).join('')}e`;

/**
 * rtpengine `query` for a call: packets received on each leg, by tag (the From/To tag of that
 * side). The packets rtpengine received from one side are what it relays to the other.
 * @param {string} callId
 * @returns {Promise<{result: string, packetsByTag: Record<string, number>, raw: any}>}
 */
export async function rtpengineQuery(callId) {
  const sock = dgram.createSocket('udp4');
  const cookie = `rel${Date.now()}`;
  try {
    const reply = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('rtpengine did not answer the ng query')), 3000);
      sock.on('message', (msg) => { clearTimeout(timer); resolve(msg); });
      sock.send(Buffer.from(`${cookie} ${bencodeDict({ command: 'query', 'call-id': callId })}`), 2223, '127.0.0.1');
    });
    const buf = /** @type {Buffer} */ (reply);
    const [raw] = bdecode(buf, buf.indexOf(0x20) + 1);
    /** @type {Record<string, number>} */
    const packetsByTag = {};
    for (const [tag, leg] of Object.entries(raw.tags || {})) {
      let n = 0;
      for (const media of leg.medias || []) {
        for (const stream of media.streams || []) n += (stream.stats && stream.stats.packets) || 0;
      }
      packetsByTag[tag] = n;
    }
    return { result: raw.result, packetsByTag, raw };
  } finally {
    sock.close();
  }
}


/**
 * `lab.sh kamailio-start` without touching bob: lab.sh re-creates bob's user agent after starting
 * Kamailio (to register it again), which hangs up bob's calls and closes every ctrl_tcp client of
 * bob's. For a far end that stays up through a proxy restart, bob's pidfile is set aside while
 * lab.sh runs (lab.sh then leaves bob alone). bob is NOT registered afterwards: call
 * `reRegisterBob()` once bob's calls are over.
 */
export async function kamailioStartKeepingBob() {
  const pid = path.join(RUN_DIR, 'baresip-bob.pid');
  await rename(pid, `${pid}.aside`);
  try {
    return await kamailioStart();
  } finally {
    await rename(`${pid}.aside`, pid);
  }
}

/** bob registered again (a plain Kamailio stop/start, which re-creates bob's user agent). */
export async function reRegisterBob() {
  await labSh('kamailio-stop');
  await labSh('kamailio-start');
}
export { readTrace, diagnostics, poll, sleep };

/**
 * The freeze specs (reliability-kamailio-freeze*.test.mjs): `trials` freezes of Kamailio with the
 * keep-alive interval `keepaliveS` (null: nothing stored, the default 25 s applies); each must be
 * detected within two intervals (+1 s timer slack), name the keep-alive, log the missing pong, and
 * end with exactly one binding, ours. Results go to the spec's JSON artifact.
 * @param {import('node:test').TestContext} t
 * @param {{spec: string, keepaliveS: number | null, trials: number}} options
 */
export async function freezeSpec(t, { spec, keepaliveS, trials: count }) {
  const interval = keepaliveS === null ? 25 : keepaliveS;
  const phone = await startPhone(t, spec, keepaliveS === null ? {} : { settings: { keepaliveInterval: keepaliveS } });
  const settings = (await phone.ext.storage('sync')).settings;
  if (keepaliveS === null) assert.equal(settings, undefined, 'no settings stored: the defaults (keep-alive 25 s) apply');
  else assert.equal(settings.keepaliveInterval, keepaliveS);
  /** @type {any[]} */
  const trials = [];
  for (let i = 1; i <= count; i++) {
    const r = await freezeTrial(phone, interval);
    trials.push({ trial: i, ...r });
    phone.ext.note(`trial ${JSON.stringify(r)}`);
    report(spec, `keep-alive ${interval} s, trial ${i}: flow declared dead ${r.detectMs} ms after the freeze (${r.deadState}); registered ${r.resumeMs} ms after resume; states: ${r.statesSincePause.join(' | ')}`);
    assert.ok(r.detectMs <= 2 * interval * 1000 + 1000, `trial ${i}: detected within two keep-alive intervals (+1 s timer slack): ${r.detectMs} ms`);
    assert.match(r.deadState, /keep-alive/, `trial ${i}: the reason names the keep-alive`);
    assert.ok(r.logLine, `trial ${i}: the worker logged "keep-alive pong missing"`);
    assert.ok(r.oneBindingOurs, `trial ${i}: exactly one binding, ours: ${JSON.stringify(r.contacts)}`);
  }
  await saveResults(spec, { keepaliveS: interval, trials, medianDetectMs: median(trials.map((x) => x.detectMs)), medianResumeMs: median(trials.map((x) => x.resumeMs)) });
}
