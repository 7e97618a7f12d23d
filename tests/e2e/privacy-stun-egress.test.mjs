// @ts-check
// PRIVACY.md "Network connections" 3: no STUN/TURN server is contacted unless the user configured
// one — seen at the network namespace, not inferred from the configuration.
//
// The browser suite's namespace has only loopback, where a packet for any other address is refused
// before it exists (ENETUNREACH) and nothing could be counted. So this spec gives the namespace a
// way out for the duration of the test: a veth pair with a default route (its far end leads
// nowhere), and iptables counters on everything leaving through it: STUN-looking UDP (the RFC 5389
// magic cookie 0x2112A442 at offset 4 of the UDP payload, whatever the port), all UDP, all TCP;
// a raw-socket capture on the far end (fixtures/egress_capture.py) lists every packet that left.
// Then a real call (a sipp trunk, automatically answered: ICE gathering runs in the offscreen
// document) with the default settings: zero STUN packets leave. Then the user names a STUN server
// (198.51.100.7:3478, a documentation address reached through the veth) and the same call sends
// STUN to it: the counter is not blind. Everything is removed afterwards.
//
// It refuses to run outside a private network namespace (more than `lo` visible): it must never
// touch a real machine's network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { poll, sleep } from './harness.mjs';
import { recordCallEvents, registeredAlice, sipp } from './fixtures/headless.mjs';

const DEV = 'fpegress0';
const PEER = 'fpegress1';
const STUN_SERVER = '198.51.100.7';
const RULES = [
  ['-p', 'udp', '-m', 'u32', '--u32', '0>>22&0x3C@12=0x2112A442', '-m', 'comment', '--comment', 'fp-egress-stun'],
  ['-p', 'udp', '-m', 'comment', '--comment', 'fp-egress-udp'],
  ['-p', 'tcp', '-m', 'comment', '--comment', 'fp-egress-tcp'],
];

/**
 * Chromium itself (not the extension) looks up its Google service hosts (accounts, updates,
 * optimization guide) even with --disable-background-networking; in the namespace the lookups go
 * nowhere. They are the browser's, listed in the notes, and not counted against Ferrophone.
 * @param {string} packet  a capture line
 */
const isBrowserDns = (packet) => /:53 \d+ stun=0 dns=[\w.-]+\.(google|googleapis)\.com$/.test(packet);

/** @param {string} cmd @param {string[]} args */
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The packet counters of our rules, by comment. @returns {Record<string, number>} */
function counters() {
  /** @type {Record<string, number>} */
  const out = {};
  for (const line of run('iptables', ['-L', 'OUTPUT', '-v', '-x', '-n']).split('\n')) {
    const m = /^\s*(\d+)\s+\d+\s.*\/\* (fp-egress-\w+) \*\//.exec(line);
    if (m) out[m[2]] = Number(m[1]);
  }
  return out;
}

function cleanUp() {
  for (const r of RULES) {
    try { run('iptables', ['-D', 'OUTPUT', '-o', DEV, ...r]); } catch (_) { /* not there */ }
  }
  try { run('ip', ['link', 'del', DEV]); } catch (_) { /* not there */ }
}

test('no STUN leaves the namespace unless a STUN server is configured', async (t) => {
  const links = run('ip', ['-o', 'link', 'show']).split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
  if (links.some((l) => l !== 'lo' && l !== DEV && l !== PEER)) {
    t.skip(`not in the suite's private network namespace (links: ${links.join(', ')}): run it through tests/run.sh e2e`);
    return;
  }
  cleanUp();
  run('ip', ['link', 'add', DEV, 'type', 'veth', 'peer', 'name', PEER]);
  t.after(cleanUp);
  run('ip', ['addr', 'add', '10.255.0.2/24', 'dev', DEV]);
  run('ip', ['link', 'set', DEV, 'up']);
  run('ip', ['link', 'set', PEER, 'up']);
  run('ip', ['route', 'add', 'default', 'via', '10.255.0.1', 'dev', DEV]);
  // A permanent neighbour for the gateway: packets are transmitted to the far end (and captured
  // there) instead of waiting for an ARP answer that never comes.
  const peerMac = (/link\/ether ([0-9a-f:]{17})/.exec(run('ip', ['-o', 'link', 'show', PEER])) || [])[1];
  assert.ok(peerMac, `the MAC address of ${PEER}`);
  run('ip', ['neigh', 'replace', '10.255.0.1', 'lladdr', peerMac, 'dev', DEV, 'nud', 'permanent']);
  for (const r of RULES) run('iptables', ['-A', 'OUTPUT', '-o', DEV, ...r]);

  const capture = spawn('python3', [path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'egress_capture.py'), PEER], { stdio: ['ignore', 'pipe', 'pipe'] });
  /** @type {string[]} */
  const packets = [];
  let pending = '';
  capture.stdout.on('data', (d) => {
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop() || '';
    packets.push(...lines.filter((l) => l && l !== 'ready'));
  });
  t.after(() => { capture.kill('SIGTERM'); });
  await sleep(300);

  const { ext, page } = await registeredAlice('privacy-stun-egress');
  t.after(() => ext.close());
  await page.evaluate(() => chrome.storage.sync.set({ settings: { version: 1, autoAnswer: 'headers' } }));
  await sleep(500);
  const callEvents = await recordCallEvents(page);

  /** One automatically answered call with a few seconds of media. @param {string} name */
  const call = async (name) => {
    const from = (await callEvents()).length;
    const result = await sipp('uac_autoanswer.xml', {
      name, artifacts: ext.artifacts, note: ext.note, durationMs: 3000,
      keys: { aa_header: 'Call-Info: <sip:127.0.0.1>;answer-after=0', aa_header2: 'X-Lab: stun egress' },
    });
    assert.equal(result.code, 0, `sipp completed the call (${result.stderr.slice(-500)})`);
    const active = await poll(async () => (await callEvents()).slice(from).some((e) => e.call.state === 'active'), { timeoutMs: 3000 });
    assert.ok(active, 'the call was answered');
    await sleep(500);
  };

  const before = counters();
  const firstPacket = packets.length;
  await call('default-settings');
  const leftUnconfigured = packets.slice(firstPacket);
  ext.note(`packets that left during the call (default settings):\n${leftUnconfigured.join('\n') || '(none)'}`);
  assert.deepEqual(leftUnconfigured.filter((p) => p.endsWith('stun=1')), [], 'the capture saw no STUN either');
  assert.deepEqual(leftUnconfigured.filter((p) => !isBrowserDns(p)), [], 'nothing but Chromium\'s own name lookups left');
  const unconfigured = counters();
  const delta = (/** @type {Record<string, number>} */ a, /** @type {Record<string, number>} */ b) =>
    Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] || 0)]));
  const d1 = delta(before, unconfigured);
  ext.note(`egress during a call, default settings: ${JSON.stringify(d1)}`);
  console.log(`egress packets during a call with the default settings: ${JSON.stringify(d1)}`);
  assert.equal(d1['fp-egress-stun'], 0, 'no STUN packet left the namespace');

  await page.evaluate((server) => chrome.storage.sync.set({
    settings: { version: 1, autoAnswer: 'headers', iceServers: [{ urls: [`stun:${server}:3478`] }], iceGatheringTimeoutMs: 1000 },
  }), STUN_SERVER);
  await sleep(500);
  const secondPacket = packets.length;
  await call('stun-configured');
  const leftConfigured = packets.slice(secondPacket);
  ext.note(`packets that left during the call (STUN configured):\n${leftConfigured.join('\n')}`);
  assert.ok(leftConfigured.some((p) => p.includes(`-> ${STUN_SERVER}:3478 `) && p.endsWith('stun=1')), 'the capture saw STUN to the configured server');
  assert.deepEqual(leftConfigured.filter((p) => !isBrowserDns(p) && !p.includes(`-> ${STUN_SERVER}:3478 `)), [], 'only STUN to the configured server');
  const d2 = delta(unconfigured, counters());
  ext.note(`egress during a call with stun:${STUN_SERVER}:3478 configured: ${JSON.stringify(d2)}`);
  console.log(`egress packets during a call with a STUN server configured: ${JSON.stringify(d2)}`);
  assert.ok(d2['fp-egress-stun'] > 0, 'with a STUN server configured, STUN leaves: the counter sees it');
});
