// @ts-check
// Issue 12 (trust model), "bounded by peer": a hostile SIP server. The extension is configured,
// the way a user types it, with a WebSocket server of ours (tests/lab/hostile-ws.mjs, on
// 127.0.0.1) that answers REGISTER 200 OK, rings the phone once (a valid INVITE: the dialog the
// in-dialog attacks use), then sends 3,000 malformed and hostile messages in ~3 s: binary garbage,
// CRLF junk, truncated headers, oversize messages, a bad Content-Length, a CSeq/method mismatch,
// header lines without a colon, INVITEs with unusable SDP, unACKed INVITE storms, in-dialog
// requests for unknown dialogs, a re-INVITE flood and INFOs with 500 digits on the ringing call's
// dialog, stray responses. Then it checks:
// - every message that can be answered got exactly one final response (counted by kind: 400, 420,
//   481, 488, 491, 513, 200), never 503;
// - no call came out of junk (`call` events and `calls` only know the one ringing call), and no
//   INFO turned into more than 8 `dtmf` events;
// - the same WebSocket connection is still open (no reconnect), the phone is still registered;
// - a valid OPTIONS right after the burst gets 200.
// The numbers (sent, replies by status, time) are printed and kept in
// tests/artifacts/security-hostile-burst/burst.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launchExtension, poll } from './harness.mjs';
import { saveAccount, waitStatus } from './lab.mjs';
import { startHostileServer } from '../lab/hostile-ws.mjs';

const COUNT = 3000;
const SPREAD_MS = 3000;

/** The final status each kind of answerable message must get. */
const EXPECTED = {
  'bad-content-length': 400,
  'cseq-mismatch': 400,
  'no-colon-header': 400,
  oversize: 513,
  'bad-sdp-invite': 488,
  'unacked-invite': 420,
  'unknown-dialog-bye': 481,
  'unknown-dialog-invite': 481,
  'reinvite-flood': 491, // the call it targets is still ringing: one offer/answer at a time
  'info-digits': 200,
};

test('a hostile server bursting 3,000 malformed messages: all answered, no junk call, same flow, OPTIONS still 200', async (t) => {
  /** @type {string[]} */
  const serverLog = [];
  const srv = await startHostileServer({ log: (l) => serverLog.push(l) });
  t.after(() => srv.close());
  const ext = await launchExtension('security-hostile-burst');
  t.after(() => ext.close());
  const page = await ext.options();
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.callEvents = [];
    w.dtmfEvents = [];
    chrome.runtime.onMessage.addListener((m) => {
      if (m && m.ferrophone === 1 && m.event === 'call') w.callEvents.push(m.call);
      if (m && m.ferrophone === 1 && m.event === 'dtmf') w.dtmfEvents.push(m);
      return false;
    });
  });
  /** @returns {Promise<any[]>} */
  const callEvents = () => page.evaluate(() => /** @type {any} */ (window).callEvents.slice());
  /** @returns {Promise<number>} */
  const dtmfCount = () => page.evaluate(() => /** @type {any} */ (window).dtmfEvents.length);
  /** @returns {Promise<any>} */
  const cmd = (/** @type {string} */ name, args = {}) => ext.send({ ferrophone: 1, cmd: name, ...args });

  await saveAccount(page, { server: srv.url, username: 'alice', password: 'hostile-burst-pw' });
  await waitStatus(page, /^registered \(expires in \d+ s\)$/, 15000);
  ext.note(`registered at the hostile server ${srv.url} (${srv.registers()} REGISTER)`);
  assert.equal(srv.connections.length, 1);

  // One valid call rings: its early dialog is what the in-dialog attacks aim at.
  const carrier = await srv.ringingCall();
  const ringing = await poll(async () => (await callEvents()).find((c) => c.state === 'ringing'), { timeoutMs: 5000 });
  assert.ok(ringing, 'the valid INVITE rings');
  const carrierId = ringing.id;
  ext.note(`carrier call ${carrierId} ringing (Call-ID ${carrier.callId}, our tag ${carrier.toTag})`);

  // The burst.
  const started = Date.now();
  const burst = srv.burst({ count: COUNT, spreadMs: SPREAD_MS, dialog: carrier });
  const sent = await burst.done;
  const allAnswered = await srv.waitAnswered(20000);
  const answeredMs = Date.now() - started;
  const summary = srv.summary();
  const report = {
    sent: sent.sent,
    sentInMs: sent.ms,
    sentByKind: sent.counts,
    answerable: summary.answerable,
    allAnsweredInMs: allAnswered ? answeredMs : null,
    finalsByStatus: summary.byStatus,
    finalsByKind: summary.byKind,
    duplicateFinals: summary.extraFinals,
    dtmfEvents: await dtmfCount(),
    connections: srv.connections.length,
  };
  await writeFile(path.join(ext.artifacts, 'burst.json'), `${JSON.stringify(report, null, 2)}\n`);
  ext.note(`burst: ${JSON.stringify(report)}`);
  console.log(`# security-hostile-burst: ${report.sent} messages sent in ${report.sentInMs} ms; ${report.answerable} answerable, all answered in ${report.allAnsweredInMs} ms; finals by status ${JSON.stringify(report.finalsByStatus)}; ${report.dtmfEvents} dtmf events; ${report.connections} connection(s)`);

  // Every answerable message: exactly one final response, the right one; never 503.
  const missing = srv.unanswered().map((s) => s.kind);
  assert.deepEqual(missing, [], `answerable messages without a final response: ${missing.length}`);
  assert.equal(summary.extraFinals, 0, 'one final response per message');
  assert.equal(summary.byStatus[503], undefined, `no 503: ${JSON.stringify(summary.byStatus)}`);
  for (const [kind, code] of Object.entries(EXPECTED)) {
    assert.deepEqual(summary.byKind[kind], { [code]: sent.counts[kind] }, `${kind}: every one answered ${code}`);
  }

  // No call from junk; INFO digits bounded.
  const events = await callEvents();
  assert.deepEqual([...new Set(events.map((c) => c.id))], [carrierId], 'call events only for the one real call');
  const calls = (await cmd('calls')).calls;
  assert.deepEqual(calls.map((/** @type {any} */ c) => [c.id, c.state]), [[carrierId, 'ringing']], 'calls: only the ringing one');
  assert.ok(report.dtmfEvents <= 8 * sent.counts['info-digits'], `at most 8 digits per INFO (${report.dtmfEvents})`);

  // The same flow, still registered.
  assert.equal(srv.connections.length, 1, 'no reconnect');
  assert.ok(srv.isOpen(), 'the WebSocket is still open');
  const status = await cmd('status');
  assert.equal(status.registration.state, 'registered');
  assert.equal(status.connection.state, 'open');
  assert.equal(status.connection.failures, 0);

  // A valid OPTIONS right after the burst: 200.
  assert.equal(await srv.options(), 200, 'a valid OPTIONS after the burst gets 200');

  // Clean up the real call: rejected (486 to the server).
  assert.ok((await cmd('reject', { id: carrierId })).ok);
  ext.note(`server: ${serverLog.join('; ')}`);
});
