// @ts-check
// Ferrophone's benchmark: one Node run, the same SIP corpus through SIP.js, JsSIP and the
// shipped Ferrophone wasm (extension/pkg, as built by ./build.sh), in the same V8.
//
//   ./build.sh && node bench/run.mjs            full run (about a minute)
//   BENCH_QUICK=1 node bench/run.mjs            fewer iterations (a smoke test of the bench)
//   BENCH_PKG=/some/pkg node bench/run.mjs      another wasm-bindgen output (to compare builds)
//
// Paths measured (see docs/BENCH.md for what each one includes):
//   parse   the 10 messages of bench/corpus through each parser (ns per message, corpus mean)
//   ua      an OPTIONS request fed to a connected user agent until it writes its 200
//   memory  wasm linear memory before and after 2,000 call cycles (INVITE → 200 → ACK → BYE → 200)
// Every figure is the median of several timed runs after a warm-up. Not a test: nothing fails.

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 7;
/** Messages per timed run (parse: per corpus message; UA: OPTIONS requests). */
const N = QUICK ? 300 : 3000;
const CYCLES = 2000;

const require = createRequire(import.meta.url);
const corpusDir = join(ROOT, 'bench', 'corpus');
const corpus = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.sip'))
  .sort()
  .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(corpusDir, f))) }));
const decoder = new TextDecoder();
const texts = corpus.map((m) => decoder.decode(m.bytes));
const optionsIndex = corpus.findIndex((m) => m.name.includes('options'));
const inviteIndex = corpus.findIndex((m) => m.name.includes('invite.sip'));

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Yield to the event loop (lets pending timers of the JS stacks run between timed runs). */
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Operations per timed chunk: the event loop runs between chunks (JsSIP clears its
 * transactions from timers), and only the chunks themselves are timed. */
const CHUNK = 100;

/**
 * Time `fn(n)` (which must do `n` operations): warm-up (N operations, so that V8 has tiered the
 * wasm up), then RUNS timed runs of N operations in
 * chunks of CHUNK; median and fastest run, ns/op.
 * @param {(n: number) => unknown} fn
 */
async function measure(fn) {
  for (let done = 0; done < N; done += CHUNK) {
    fn(CHUNK);
    await tick();
  }
  const samples = [];
  for (let r = 0; r < RUNS; r++) {
    let total = 0n;
    for (let done = 0; done < N; done += CHUNK) {
      const t0 = process.hrtime.bigint();
      fn(CHUNK);
      total += process.hrtime.bigint() - t0;
      await tick();
    }
    samples.push(Number(total) / N);
  }
  return { median: median(samples), min: Math.min(...samples) };
}

/**
 * ns per message over the whole corpus: each message parsed n times, time divided by 10 n.
 * @param {(i: number, n: number) => void} parseOne   parse message i, n times
 */
async function measureCorpus(parseOne) {
  return measure((n) => {
    const per = Math.max(1, Math.round(n / corpus.length));
    for (let i = 0; i < corpus.length; i++) parseOne(i, per);
  });
}

/** Give a request a fresh branch and Call-ID (8 hex digits at the end of each). */
let stampCounter = 0;
/** @param {string} text */
function restamp(text) {
  const n = (stampCounter++ >>> 0).toString(16).padStart(8, '0');
  return text
    .replace(/(branch=[^;\r]*)[0-9a-zA-Z.]{8}(?=[;\r])/, `$1${n}`)
    .replace(/(Call-ID: [^\r]*)[0-9a-zA-Z-]{8}(?=\r)/, `$1${n}`);
}

// ------------------------------------------------------------------------------- Ferrophone
const pkg = process.env.BENCH_PKG || join(ROOT, 'extension', 'pkg');
const glue = await import(join(pkg, 'ferrophone_web.js'));
const wasmExports = glue.initSync({ module: readFileSync(join(pkg, 'ferrophone_web_bg.wasm')) });
/** @type {WebAssembly.Memory} */
const memory = wasmExports.memory;

// ------------------------------------------------------------------------------------ JsSIP
const JsSIP = require('jssip');
const JsSIPParser = require('jssip/lib/Parser');
JsSIP.debug.disable();

/** A fake JsSIP socket: what the UA writes is captured, what we feed is "received". */
class FakeSocket {
  constructor() {
    this.via_transport = 'WSS';
    this.url = 'wss://sip.example.com/ws';
    this.sip_uri = 'sip:sip.example.com;transport=ws';
    /** @type {string[]} */
    this.sent = [];
    this.connected = false;
    /** @type {() => void} */
    this.onconnect = () => {};
    /** @type {(e: unknown) => void} */
    this.ondisconnect = () => {};
    /** @type {(data: string) => void} */
    this.ondata = () => {};
  }
  connect() {
    this.connected = true;
    queueMicrotask(() => this.onconnect());
  }
  disconnect() {
    this.connected = false;
  }
  /** @param {string} msg */
  send(msg) {
    this.sent.push(msg);
    return true;
  }
  isConnected() {
    return this.connected;
  }
  isConnecting() {
    return false;
  }
}

const socket = new FakeSocket();
const jssipUa = new JsSIP.UA({
  sockets: [socket],
  uri: 'sip:alice@example.com',
  password: 'bench',
  register: false,
  contact_uri: 'sip:k8d2j3h4@df7jal23ls0d.invalid;transport=ws',
  session_timers: false,
});
jssipUa.start();
await tick();
if (!socket.connected) throw new Error('JsSIP UA did not connect to the fake socket');

// ----------------------------------------------------------------------------------- SIP.js
const { Parser: SipjsParser } = await import('sip.js/lib/core/messages/parser.js');
const { LoggerFactory } = await import('sip.js/lib/core/log/logger-factory.js');
const sipjsLogger = new LoggerFactory().getLogger('bench');

// ------------------------------------------------------------------------- sanity checks
for (let i = 0; i < corpus.length; i++) {
  const name = corpus[i].name;
  if (!glue.bench_parse(corpus[i].bytes, 1)) throw new Error(`Ferrophone refused ${name}`);
  if (!JsSIPParser.parseMessage(texts[i], jssipUa)) throw new Error(`JsSIP refused ${name}`);
  if (!SipjsParser.parseMessage(texts[i], sipjsLogger)) throw new Error(`SIP.js refused ${name}`);
}
const optionsText = texts[optionsIndex];
socket.sent.length = 0;
socket.ondata(restamp(optionsText));
if (!socket.sent[0]?.startsWith('SIP/2.0 200')) throw new Error(`JsSIP answered: ${socket.sent[0]}`);
if (!glue.bench_ua_options(corpus[optionsIndex].bytes, 1)) throw new Error('Ferrophone UA sent nothing');

// ------------------------------------------------------------------------------ the runs
/** @type {{ impl: string, path: string, ns: { median: number, min: number } }[]} */
const rows = [];

rows.push({
  impl: 'JsSIP 3.13.8',
  path: 'parse (Parser.parseMessage)',
  ns: await measureCorpus((i, n) => {
    for (let k = 0; k < n; k++) JsSIPParser.parseMessage(texts[i], jssipUa);
  }),
});
rows.push({
  impl: 'SIP.js 0.21.2',
  path: 'parse (Parser.parseMessage)',
  ns: await measureCorpus((i, n) => {
    for (let k = 0; k < n; k++) SipjsParser.parseMessage(texts[i], sipjsLogger);
  }),
});
rows.push({
  impl: 'Ferrophone wasm',
  path: 'parse (loop inside wasm)',
  ns: await measureCorpus((i, n) => glue.bench_parse(corpus[i].bytes, n)),
});
rows.push({
  impl: 'Ferrophone wasm',
  path: 'parse (one JS→wasm call each)',
  ns: await measureCorpus((i, n) => {
    for (let k = 0; k < n; k++) glue.bench_parse(corpus[i].bytes, 1);
  }),
});

rows.push({
  impl: 'JsSIP 3.13.8',
  path: 'UA OPTIONS → 200',
  ns: await measure((n) => {
    for (let k = 0; k < n; k++) {
      socket.sent.length = 0;
      socket.ondata(restamp(optionsText));
    }
  }),
});
const optionsBytes = corpus[optionsIndex].bytes;
rows.push({
  impl: 'Ferrophone wasm',
  path: 'UA OPTIONS → 200 (loop inside wasm)',
  ns: await measure((n) => glue.bench_ua_options(optionsBytes, n)),
});
rows.push({
  impl: 'Ferrophone wasm',
  path: 'UA OPTIONS → 200 (one JS→wasm call each)',
  ns: await measure((n) => {
    for (let k = 0; k < n; k++) glue.bench_ua_options(optionsBytes, 1);
  }),
});

// ------------------------------------------------------------------------------ report
/** @param {string} path */
const jssipFor = (path) => rows.find((r) => r.impl.startsWith('JsSIP') && r.path.split(' (')[0] === path.split(' (')[0]);
const pad = (/** @type {string} */ s, /** @type {number} */ w) => s.padEnd(w);
console.log(
  `Node ${process.version}, ${RUNS} runs × ${N} messages; median (and fastest) run; ` +
    `vs JsSIP = JsSIP's median / this median (> 1: faster than JsSIP)`,
);
console.log(`${pad('implementation', 17)} ${pad('path', 42)} ${'ns/msg'.padStart(9)} ${'(min)'.padStart(9)} ${'vs JsSIP'.padStart(9)}`);
for (const r of rows) {
  const ref = jssipFor(r.path.startsWith('UA') ? 'UA OPTIONS → 200' : 'parse');
  const ratio = ref ? (ref.ns.median / r.ns.median).toFixed(2) + '×' : '';
  const ns = (/** @type {number} */ x) => Math.round(x).toString().padStart(9);
  console.log(`${pad(r.impl, 17)} ${pad(r.path, 42)} ${ns(r.ns.median)} ${ns(r.ns.min)} ${ratio.padStart(9)}`);
}

const inviteBytes = corpus[inviteIndex].bytes;
const before = memory.buffer.byteLength;
const t0 = process.hrtime.bigint();
const ok = glue.bench_call_cycles(inviteBytes, CYCLES);
const t1 = process.hrtime.bigint();
const after = memory.buffer.byteLength;
const again = glue.bench_call_cycles(inviteBytes, CYCLES);
const after2 = memory.buffer.byteLength;
console.log(
  `wasm memory: ${before} bytes before, ${after} after ${CYCLES} call cycles (${ok} ended cleanly, ` +
    `${Math.round(Number(t1 - t0) / CYCLES / 1000)} µs/cycle), ${after2} after ${CYCLES} more (${again} clean)`,
);
jssipUa.stop();
