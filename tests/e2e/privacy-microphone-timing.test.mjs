// @ts-check
// PRIVACY.md "The microphone": it opens only when a call is answered (or dialled) — never while a
// call rings, never during the delay of an automatic answer. Measured, not inferred: the offscreen
// document logs the wall-clock time of every getUserMedia call (`getUserMedia requested at <ms>`),
// and the worker's own SIP trace (diagnostics) holds the time the 200 OK left; sipp's message trace
// holds when the INVITE was sent and the 200 received.
//
// 1. A trunk INVITE with `Call-Info: ;answer-after=2` (policy "headers", set explicitly): the
//    answer SDP is prepared at once without the microphone, the 200 leaves 2 s later (±300 ms at
//    sipp, as headless-auto-answer), and getUserMedia comes only after the 200 left; the trunk's
//    media port (rtp_tap) then hears our 440 Hz: the microphone attached late is really sent.
// 2. The same for an INVITE without SDP (late offer, answer-after=1): our offer in the 200 is made
//    without the microphone, which opens after the 200.
// 3. A call that rings for 3 s and is cancelled: no getUserMedia at all.
// 4. A call that rings and is answered by the user (`answer` command) after 1.5 s: no getUserMedia
//    before the command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { diagnostics } from './lab.mjs';
import { recordCallEvents, registeredAlice, sipHeader, startSipp, sipp } from './fixtures/headless.mjs';
import { MIC_HZ, analyzeWav, startRtpTap } from './calls.mjs';

const TOLERANCE_MS = 300;

test('the microphone opens with the 200 OK, never while ringing or during an auto-answer delay', async (t) => {
  const { ext, page } = await registeredAlice('privacy-microphone-timing');
  t.after(() => ext.close());
  // Honour the server's auto-answer requests (the default policy is "never").
  await page.evaluate(() => chrome.storage.sync.set({ settings: { version: 1, autoAnswer: 'headers' } }));
  await sleep(500); // the worker reloads its settings on the storage change
  const callEvents = await recordCallEvents(page);

  /** @param {string} callId  wall-clock times of the offscreen document's getUserMedia calls for it */
  const micOpens = (callId) => ext.lines
    .map((l) => new RegExp(`call ${callId}: getUserMedia requested at (\\d+)`).exec(l))
    .filter((m) => m !== null)
    .map((m) => Number(/** @type {RegExpExecArray} */ (m)[1]));
  /** The only incoming call that appeared after `from` events. @param {number} from */
  const incoming = async (from) => {
    const id = await poll(async () => (await callEvents()).slice(from).find((e) => e.call.direction === 'incoming')?.call.id, { timeoutMs: 5000 });
    assert.ok(id, 'the incoming call appeared');
    return id;
  };
  /** When our 200 to the INVITE with this Call-ID left, from the worker's own SIP trace. @param {string} sipCallId */
  const okSentAt = async (sipCallId) => {
    const diag = await diagnostics(ext);
    /** @type {{at: number, direction: string, text: string}[]} */
    const trace = diag.ua.trace;
    const ok = trace.find((e) => e.direction === 'out' && e.text.startsWith('SIP/2.0 200') && / INVITE\r\n/.test(e.text)
      && sipHeader(e.text, 'Call-ID') === sipCallId);
    assert.ok(ok, `our 200 for ${sipCallId} is in the trace`);
    return ok.at;
  };

  await t.test('automatic answer after 2 s: getUserMedia only after the 200 OK, and the far end hears it', async (st) => {
    const from = (await callEvents()).length;
    // The far end's ear: the first sipp run of this file gets media port 32100 (fixtures/headless.mjs).
    const tap = await startRtpTap(st, 'microphone-timing', 32100);
    const tapStarted = Date.now();
    const run = await sipp('uac_autoanswer.xml', {
      name: 'answer-after-2', artifacts: ext.artifacts, note: ext.note, durationMs: 3000,
      keys: { aa_header: 'Call-Info: <sip:127.0.0.1>;answer-after=2', aa_header2: 'X-Lab: microphone timing' },
    });
    const heard = await tap.stop();
    assert.equal(run.code, 0, `sipp completed the call (${run.stderr.slice(-500)})`);
    assert.ok(ext.lines.some((l) => l.includes('sipp ') && l.includes(' -mp 32100 ')), 'sipp used media port 32100');
    const invite = run.messages.find((m) => m.dir === 'sent' && m.method === 'INVITE');
    const ok = run.messages.find((m) => m.dir === 'received' && m.status === 200 && /INVITE$/.test(m.cseq));
    assert.ok(invite && ok, 'the trace holds the INVITE and its 200');
    const callId = await incoming(from);
    const sent = await okSentAt(/** @type {string} */ (sipHeader(invite.text, 'Call-ID')));
    const opens = micOpens(callId);
    const summary = `INVITE sent ${new Date(invite.time).toISOString()}; 200 left the worker +${sent - Math.round(invite.time)} ms; `
      + `200 at sipp +${Math.round(ok.time - invite.time)} ms; getUserMedia ${opens.map((g) => `+${g - Math.round(invite.time)} ms`).join(', ') || 'never'} `
      + `(${opens.map((g) => `${g - sent} ms after the 200 left`).join(', ')})`;
    ext.note(summary);
    console.log(`answer-after=2: ${summary}`);
    assert.ok(Math.abs(ok.time - invite.time - 2000) <= TOLERANCE_MS, `answered ${Math.round(ok.time - invite.time)} ms after the INVITE (2000 ±${TOLERANCE_MS})`);
    assert.equal(opens.length, 1, 'one getUserMedia for the call');
    assert.ok(opens[0] >= sent, `getUserMedia (${opens[0]}) not before the 200 left (${sent})`);
    assert.ok(opens[0] - sent < 1000, 'and right after it');
    // The microphone attached after the answer really is sent: the trunk's port hears our 440 Hz.
    const from200 = (ok.time - tapStarted) / 1000 + 0.7;
    const tone = await analyzeWav(heard.wav, MIC_HZ, ['--start', from200.toFixed(2), '--seconds', '1.5']);
    ext.note(`at the trunk's media port, ${from200.toFixed(2)} s into the capture: ${JSON.stringify(tone)}; packets ${heard.packets.length}`);
    assert.ok(tone.ok, `the far end hears our ${MIC_HZ} Hz after the 200: ${JSON.stringify(tone)}`);
    // The answer SDP was prepared during the delay, without the microphone.
    const prepared = ext.lines.find((l) => l.includes(`call ${callId}: answer ready`));
    assert.ok(prepared, 'the answer was prepared in the offscreen document');
    assert.ok(Date.parse(prepared.slice(0, 24)) < sent, 'before the 200 (the 200 left on time because of it)');
  });

  await t.test('late offer, automatic answer after 1 s: our offer prepared without the microphone', async () => {
    const from = (await callEvents()).length;
    const run = await sipp('uac_late_offer_autoanswer.xml', { name: 'late-offer-after-1', artifacts: ext.artifacts, note: ext.note, durationMs: 1500 });
    assert.equal(run.code, 0, `sipp: the 200 carried a PCMU offer, ACK with the answer (${run.stderr.slice(-500)})`);
    const invite = run.messages.find((m) => m.dir === 'sent' && m.method === 'INVITE');
    const ok = run.messages.find((m) => m.dir === 'received' && m.status === 200 && /INVITE$/.test(m.cseq));
    assert.ok(invite && ok);
    const callId = await incoming(from);
    const sent = await okSentAt(/** @type {string} */ (sipHeader(invite.text, 'Call-ID')));
    const opens = micOpens(callId);
    const summary = `200 at sipp +${Math.round(ok.time - invite.time)} ms; getUserMedia ${opens.map((g) => `${g - sent} ms after the 200 left`).join(', ') || 'never'}`;
    ext.note(`late offer, answer-after=1: ${summary}`);
    assert.ok(Math.abs(ok.time - invite.time - 1000) <= TOLERANCE_MS, `answered ${Math.round(ok.time - invite.time)} ms after the INVITE (1000 ±${TOLERANCE_MS})`);
    assert.equal(opens.length, 1, 'one getUserMedia for the call');
    assert.ok(opens[0] >= sent, `getUserMedia (${opens[0]}) not before the 200 left (${sent})`);
  });

  await t.test('a call that rings and is cancelled never opens the microphone', async () => {
    const from = (await callEvents()).length;
    const run = await startSipp({
      scenario: 'uac_ring_cancel.xml', name: 'ring-cancel', artifacts: ext.artifacts, note: ext.note,
      keys: { aa_header: 'X-Lab: rings', aa_header2: 'X-Lab: microphone timing' },
    });
    assert.equal(run.code, 0, `sipp saw it ring and cancelled (${run.stderr.slice(-500)})`);
    const callId = await incoming(from);
    await poll(async () => (await callEvents()).some((e) => e.call.id === callId && e.call.state === 'ended'), { timeoutMs: 5000 });
    assert.deepEqual(micOpens(callId), [], 'no getUserMedia for a call that only rang');
  });

  await t.test('a call answered by the user opens the microphone at the answer', async () => {
    const from = (await callEvents()).length;
    const running = startSipp({
      scenario: 'uac_ring_until_bye.xml', name: 'ring-answer', artifacts: ext.artifacts, note: ext.note, timeoutS: 30,
    });
    const callId = await incoming(from);
    await sleep(1500);
    assert.deepEqual(micOpens(callId), [], 'no getUserMedia while ringing');
    const answeredAt = Date.now();
    const reply = await ext.send({ ferrophone: 1, cmd: 'answer', id: callId });
    assert.ok(reply.ok, JSON.stringify(reply));
    await poll(async () => (await callEvents()).some((e) => e.call.id === callId && e.call.state === 'active'), { timeoutMs: 5000 });
    const opens = micOpens(callId);
    ext.note(`answered by the user: getUserMedia ${opens.map((g) => g - answeredAt).join(', ')} ms after the answer command`);
    assert.equal(opens.length, 1);
    assert.ok(opens[0] >= answeredAt, 'getUserMedia after the answer command');
    await sleep(500);
    await ext.send({ ferrophone: 1, cmd: 'hangup', id: callId });
    const run = await running;
    assert.equal(run.code, 0, `sipp: answered, then our BYE (${run.stderr.slice(-500)})`);
  });
});
