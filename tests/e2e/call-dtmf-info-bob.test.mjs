// @ts-check
// DTMF by SIP INFO, end to end. The user picks "As SIP INFO messages" under "Keypad digits (DTMF)"
// on the options page and presses Apply; the running worker takes the setting without a reload.
// alice dials bob (baresip); `dtmf {id, digits: '123#*'}` sends five INFO requests over the
// WebSocket, one per digit and one at a time, each `Content-Type: application/dtmf-relay` with
// `Signal=1` … `Signal=*`, each answered 200 by bob (Kamailio's trace), and bob's log says
// `call: received DTMF: '1'` … `'*'` in that order. Nothing goes the RFC 4733 way: the offscreen
// document's DTMF sender played no tone for the call (`media-stats` dtmfSent is empty) and bob
// logged no telephone-event. Digit strings with other characters are refused by the command API
// with `invalid-digits` and send nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { poll, sleep } from './harness.mjs';
import { LOG_DIR, diagnostics, readTrace } from './lab.mjs';
import { connectBob, overWebSocket, sipBody, startPhone } from './calls.mjs';

/** @typedef {import('./lab.mjs').TracedMessage} TracedMessage */

const DIGITS = '123#*';
/** Refused by the command API; each would have sent something before its bad character. */
const INVALID = ['12x', '1,2', '4 E'];
/** When five RFC 4733 tones would have been played, had they been sent: 5 × (100 + 70) ms, and some. */
const RFC4733_PLAYED_MS = 1500;
const BOB_LOG = path.join(LOG_DIR, 'baresip-bob.log');
/** bob's UDP port (tests/lab/baresip/bob/config.in `sip_listen`). */
const BOB_PORT = 5062;

/** The size of a file now (0 when it does not exist). @param {string} file */
const sizeOf = (file) => stat(file).then((s) => s.size, () => 0);

/** What was written to a file after byte `from`. @param {string} file @param {number} from */
const readFrom = async (file, from) => (await readFile(file)).subarray(from).toString('utf8');

/** The digits in bob's "call: received DTMF: 'X' (duration=…)" lines (SIP INFO at baresip). @param {string} log */
const infoDigitsIn = (log) => [...log.matchAll(/call: received DTMF: '(.)'/g)].map((m) => m[1]);

/** bob's "received event: 'X' (end=…)" lines: RFC 4733 telephone-events it received. @param {string} log */
const telephoneEventsIn = (log) => [...log.matchAll(/received event: '(.)'/g)].map((m) => m[1]);

/** The `Signal=` of an application/dtmf-relay body. @param {string} body */
const signalOf = (body) => (/^Signal=\s*(\S+)\s*$/im.exec(body) || [])[1];

test('DTMF as SIP INFO: picked on the options page, 1 2 3 # * reach bob as five INFO requests', async (t) => {
  const bobLogFrom = await sizeOf(BOB_LOG);
  const phone = await startPhone(t, 'call-dtmf-info-bob');
  const { page, ext } = phone;
  const bob = await connectBob(t);

  // The options page: in the audio by default; the user picks SIP INFO and applies.
  const inAudio = page.getByLabel('In the audio (RFC 4733)');
  const asInfo = page.getByLabel('As SIP INFO messages');
  const group = page.getByRole('group', { name: 'Keypad digits (DTMF)' });
  assert.equal(await group.count(), 1, 'the choice is one labelled group');
  assert.match(await group.getAttribute('aria-describedby') || '', /\S/, 'the group has a hint');
  assert.equal(await inAudio.isChecked(), true, 'RFC 4733 is the default');
  assert.equal(await asInfo.isChecked(), false);
  await asInfo.check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#behaviour-result').filter({ hasText: 'Applied.' }).waitFor({ timeout: 5000 });
  const { settings } = await ext.storage('sync');
  assert.equal(settings.dtmfMode, 'info', `stored: ${JSON.stringify(settings)}`);
  assert.equal(settings.autoAnswer, 'never', 'the other behaviour fields are stored beside it (the default shown)');
  assert.equal(await asInfo.isChecked(), true, 'the page shows the applied choice');
  // The running worker reloads its settings on the storage change (no extension reload).
  const workerMode = await poll(async () => {
    const mode = (await diagnostics(ext)).settings.dtmfMode;
    return mode === 'info' ? mode : undefined;
  }, { timeoutMs: 3000 });
  assert.equal(workerMode, 'info', 'the worker uses dtmfMode "info" (diagnostics)');

  // alice calls bob.
  const bobFrom = bob.events.length;
  const dialedAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  const invite = (await readTrace('md5')).find((m) => m.tag === 'rcv' && m.method === 'INVITE' && overWebSocket(m)
    && m.time >= dialedAt - 1000 && /^INVITE sip:bob@/.test(m.firstLine));
  assert.ok(invite, 'Kamailio received our INVITE to bob over the WebSocket');
  const sipCallId = invite.callId;

  /** Our INFO requests on this call as Kamailio received them, in order. */
  const ourInfos = async () => (await readTrace('md5'))
    .filter((m) => m.tag === 'rcv' && m.method === 'INFO' && m.callId === sipCallId);

  // Invalid digit strings: a clean error, the call goes on, nothing is sent.
  for (const digits of INVALID) {
    const reply = await phone.raw('dtmf', { id: call.id, digits });
    ext.note(`dtmf ${JSON.stringify(digits)} → ${JSON.stringify(reply)}`);
    assert.equal(reply && reply.ok, false, `dtmf ${JSON.stringify(digits)} is refused: ${JSON.stringify(reply)}`);
    assert.equal(reply.error.code, 'invalid-digits', `the error code: ${JSON.stringify(reply)}`);
    assert.match(reply.error.message, /is not a DTMF digit: use 0-9, \*, #, A-D/, 'the message says what digits are');
  }
  assert.deepEqual((await phone.calls()).map((c) => [c.id, c.state]), [[call.id, 'active']], 'the call is still active');
  await sleep(1500); // an INFO would be in the trace by now (they take ~10 ms here)
  assert.deepEqual((await ourInfos()).map((m) => m.firstLine), [], 'no INFO was sent for the refused strings');

  // The five digits.
  const sentAt = Date.now();
  await phone.cmd('dtmf', { id: call.id, digits: DIGITS });
  /** @type {{request: TracedMessage, fromBob: TracedMessage | undefined, toUs: TracedMessage | undefined}[]} */
  let exchanges = [];
  await poll(async () => {
    const trace = await readTrace('md5');
    exchanges = trace
      .filter((m) => m.tag === 'rcv' && m.method === 'INFO' && m.callId === sipCallId)
      .map((request) => {
        const answers = (/** @type {TracedMessage} */ r) => r.status !== undefined && r.callId === sipCallId && r.cseq === request.cseq;
        return {
          request,
          fromBob: trace.find((r) => r.tag === 'rcv' && answers(r) && r.srcPort === BOB_PORT),
          toUs: trace.find((r) => r.tag === 'snd' && answers(r) && overWebSocket(r)),
        };
      });
    return exchanges.length >= DIGITS.length && exchanges.every((e) => e.toUs);
  }, { timeoutMs: 8000 });
  ext.note(`INFO exchanges: ${exchanges.map((e) => `${e.request.cseq} ${signalOf(sipBody(e.request.text))} → `
    + `bob ${e.fromBob && e.fromBob.status} at +${e.fromBob && e.fromBob.time - sentAt} ms, relayed ${e.toUs && e.toUs.status}`).join('; ')}`);
  assert.equal(exchanges.length, DIGITS.length, `five INFO requests, one per digit: ${exchanges.map((e) => e.request.cseq).join(', ')}`);
  for (const [i, { request, fromBob, toUs }] of exchanges.entries()) {
    const digit = DIGITS[i];
    assert.ok(overWebSocket(request), `INFO ${i + 1} came from us over the WebSocket (${request.proto})`);
    assert.deepEqual(request.headers('content-type'), ['application/dtmf-relay'], `INFO ${i + 1}'s Content-Type`);
    assert.equal(signalOf(sipBody(request.text)), digit, `INFO ${i + 1} carries Signal=${digit}: ${JSON.stringify(sipBody(request.text))}`);
    assert.ok(fromBob, `bob answered INFO ${i + 1} (${request.cseq})`);
    assert.equal(fromBob.status, 200, `bob's answer to INFO ${i + 1}: ${fromBob.firstLine}`);
    assert.ok(toUs && toUs.status === 200, `the 200 for INFO ${i + 1} was relayed to us`);
    const previous = i > 0 ? exchanges[i - 1].toUs : undefined;
    if (previous) {
      // One at a time: the next digit leaves only once the previous one was answered (order kept).
      assert.ok(request.time >= previous.time,
        `INFO ${i + 1} was sent after the 200 for INFO ${i} was relayed to us (${request.time} ≥ ${previous.time})`);
    }
  }

  // bob's side: his log, only what was written during this test. By now RFC 4733 tones would
  // have played too (5 × (100 ms tone + 70 ms gap) in the offscreen document).
  await sleep(Math.max(0, sentAt + RFC4733_PLAYED_MS - Date.now()));
  /** @type {string[]} */
  let heard = [];
  let bobLog = '';
  await poll(async () => {
    bobLog = await readFrom(BOB_LOG, bobLogFrom);
    heard = infoDigitsIn(bobLog);
    return heard.length >= DIGITS.length;
  }, { timeoutMs: 5000 });
  ext.note(`bob's log, DTMF lines: ${bobLog.split(/\r?\n|\r/).filter((l) => /DTMF|received event/.test(l)).join(' | ')}`);
  assert.deepEqual(heard, [...DIGITS], `bob's log has received DTMF '1' '2' '3' '#' '*' in that order`);

  // Nothing went the RFC 4733 way.
  const stats = await phone.stats(call.id);
  assert.ok(stats && stats.ok, `media-stats answers: ${JSON.stringify(stats)}`);
  assert.equal(stats.dtmfSent, '', 'the offscreen DTMF sender played no tone for this call');
  assert.deepEqual(telephoneEventsIn(bobLog), [], 'bob received no RFC 4733 telephone-event');

  // Hang up.
  await phone.cmd('hangup', { id: call.id });
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'local-hangup');
  assert.equal((await ourInfos()).length, DIGITS.length, 'no other INFO was sent during the call');
});
