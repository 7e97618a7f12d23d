// @ts-check
// Being transferred (RFC 3515 REFER, RFC 3892 Referred-By, RFC 5589 §6 from the transferee's
// side): a trusted sipp trunk (uac_refer.xml, port 5070) calls alice and is answered
// automatically (Call-Info answer-after=0), then sends an in-dialog REFER to bob
// (`Refer-To: <sip:bob@127.0.0.1>`, `Referred-By`). Ferrophone accepts it (202), dials bob by
// itself with the Referred-By header, NOTIFYs the trunk of the progress (message/sipfrag, the last
// one "SIP/2.0 200") and hangs up the trunk's call once bob answered. sipp checks its side and exits
// 0 only if all of that happened. The spec checks the rest the way a person would: the new call
// to bob is active and has audio both ways (the browser hears bob's 1 kHz, bob's recording holds
// our 440 Hz), bob's INVITE carries Referred-By, the old call ended as `transferred`, and the
// `call` and `transfer` events tell the story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { sipHeader as header } from './fixtures/headless.mjs';
import {
  FAR_HZ, MIC_HZ, analyzeWav, bobEventsSince, bobRecordings, connectBob, hearsTone, newBobRecording, overWebSocket, sippExit,
  recordEvents, sippMessages, startPhone, startSipp,
  freshBobAfter,
} from './calls.mjs';

/** How long the trunk talks to alice before it transfers her (sipp -d). */
const BEFORE_REFER_MS = 3000;


test('a REFER from the far end: we call bob with Referred-By, NOTIFY the progress, end the old call', async (t) => {
  // The trunk's INVITE asks for an automatic answer: server control is on for this test.
  const phone = await startPhone(t, 'call-transferred-by-sipp', { settings: { autoAnswer: 'headers' } });
  const transferEvents = await recordEvents(phone, 'transfer');
  const bob = await connectBob(t);
  freshBobAfter(t);
  const recordingsBefore = bobRecordings();
  const bobFrom = bob.events.length;
  const startedAt = Date.now();

  const trunk = await startSipp(t, 'trunk-refer', 'uac_refer.xml', [
    '127.0.0.1:5060', '-s', 'alice', '-key', 'target', 'bob@127.0.0.1', '-i', '127.0.0.1', '-p', '5070',
    '-mi', '127.0.0.1', '-mp', '32100', '-ci', '127.0.0.1', '-cp', '8891', '-m', '1', '-d', String(BEFORE_REFER_MS),
    '-nostdin', '-timeout', '60', '-timeout_error',
  ]);

  // The trunk's call is answered by itself.
  const first = await phone.waitCall(null, (c) => c.direction === 'incoming' && c.state === 'active',
    { timeoutMs: 10000, what: "the trunk's call, answered automatically" });
  const oldId = first.call.id;
  assert.match(first.call.remote, /^sip:trunk@127\.0\.0\.1/, `the caller is the trunk: ${first.call.remote}`);
  assert.equal(first.call.autoAnswer, true);

  // After the REFER: a new outgoing call to bob, placed by Ferrophone itself.
  const placed = await phone.waitCall(null, (c) => c.id !== oldId && c.direction === 'outgoing',
    { timeoutMs: BEFORE_REFER_MS + 10000, what: 'a new outgoing call (the transfer)' });
  const newId = placed.call.id;
  assert.match(placed.call.remote, /^sip:bob@127\.0\.0\.1/, `the new call goes to the Refer-To target: ${placed.call.remote}`);
  await phone.waitCall(newId, (c) => c.state === 'active', { timeoutMs: 15000, what: 'the call to bob active' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  const bobCalls = await bob.listCalls();
  phone.ext.note(`bob's calls: ${JSON.stringify(bobCalls)}`);
  assert.equal(bobCalls.length, 1, 'bob has one call');
  assert.match(bobCalls[0].peer, /^sip:alice@/, `bob talks to alice: ${bobCalls[0].raw}`);
  assert.equal(bobCalls[0].state, 'ESTABLISHED');

  // The old call ended because of the transfer; only the call to bob is left.
  const ended = await phone.waitCall(oldId, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'the old call ended' });
  assert.equal(ended.call.endReason, 'transferred', 'the old call ended as transferred');
  assert.deepEqual((await phone.calls()).map((c) => [c.id, c.direction, c.state]), [[newId, 'outgoing', 'active']]);

  // sipp saw 202, NOTIFYs (Event: refer, message/sipfrag) up to "SIP/2.0 200", then our BYE.
  const code = await sippExit(trunk, 10000);
  assert.equal(code, 0, `the trunk's scenario passes: ${trunk.output().slice(-2000)}`);
  const sippLog = await sippMessages(trunk);
  const frags = [...sippLog.matchAll(/^NOTIFY [\s\S]*?\r?\n\r?\n(SIP\/2\.0 \d{3}[^\r\n]*)/gm)].map((m) => m[1]);
  phone.ext.note(`sipfrags NOTIFYed to the trunk: ${frags.join(' | ')}`);
  assert.ok(frags.length >= 2, `at least NOTIFY 100 and NOTIFY 200: ${frags.join(' | ')}`);
  assert.match(frags[0], /^SIP\/2\.0 100 /, 'the first NOTIFY says 100 Trying');
  assert.match(frags[frags.length - 1], /^SIP\/2\.0 200 /, 'the last NOTIFY says 200');

  // The two-way audio of the new call.
  await hearsTone(phone, newId, FAR_HZ, { forMs: 3000 });

  // What went over the wire: the REFER and our 202, bob's INVITE with Referred-By.
  const trace = (await readTrace('md5')).filter((m) => m.time >= startedAt - 1000);
  const refer = trace.find((m) => m.tag === 'snd' && m.method === 'REFER' && overWebSocket(m));
  assert.ok(refer, 'Kamailio relayed the REFER to us');
  const accepted = trace.find((m) => m.tag === 'rcv' && m.status === 202 && m.callId === refer.callId && overWebSocket(m));
  assert.ok(accepted, 'we answered the REFER 202');
  const referredBy = header(refer.text, 'Referred-By');
  const invites = trace.filter((m) => m.tag === 'snd' && m.method === 'INVITE' && m.dstPort === 5062 && m.callId !== refer.callId);
  assert.equal(invites.length, 1, `one INVITE reached bob: ${invites.map((m) => m.callId).join(', ')}`);
  phone.ext.note(`bob's INVITE: Referred-By: ${header(invites[0].text, 'Referred-By')}`);
  assert.equal(header(invites[0].text, 'Referred-By'), referredBy, "bob's INVITE carries the REFER's Referred-By");
  const byes = trace.filter((m) => m.tag === 'rcv' && m.method === 'BYE' && m.callId === refer.callId && overWebSocket(m));
  assert.equal(byes.length, 1, 'we sent one BYE on the old call');
  const bobOk = trace.find((m) => m.tag === 'rcv' && m.srcPort === 5062 && m.status === 200 && m.callId === invites[0].callId);
  const since = (/** @type {{time: number} | undefined} */ m) => (m ? `+${m.time - refer.time} ms` : 'missing');
  phone.ext.note(`timeline from the REFER at Kamailio: our 202 ${since(accepted)}, INVITE to bob ${since(invites[0])}, `
    + `bob's 200 ${since(bobOk)}, our BYE of the old call ${since(byes[0])}`);

  // Events: the old call went active → ended/transferred; transfer progress of the old call.
  const oldStates = (await phone.eventsOf(oldId)).map((e) => e.call.state);
  assert.deepEqual(oldStates.slice(-2), ['active', 'ended'], `old call states: ${oldStates.join(' → ')}`);
  const newStates = (await phone.eventsOf(newId)).map((e) => e.call.state);
  phone.ext.note(`old call ${oldId}: ${oldStates.join(' → ')}; new call ${newId}: ${newStates.join(' → ')}`);
  const transfers = await poll(async () => {
    const ev = await transferEvents();
    return ev.some((e) => e.done) ? ev : undefined;
  }, { timeoutMs: 3000 });
  phone.ext.note(`transfer events: ${JSON.stringify(transfers)}`);
  assert.ok(transfers, 'a final transfer event arrived');
  assert.ok(transfers.every((e) => e.callId === oldId), 'the transfer events name the transferred call');
  assert.ok(transfers.every((e) => e.newCallId === newId), 'and our new call to the target (newCallId)');
  assert.deepEqual(transfers.map((e) => e.status), frags.map((f) => Number(f.split(' ')[1])),
    'one transfer event per NOTIFY, with the same status');
  assert.ok(transfers.slice(0, -1).every((e) => !e.done && !e.success), 'the provisional ones are not done');
  const last = transfers[transfers.length - 1];
  assert.deepEqual([last.status, last.done, last.success], [200, true, true], 'the last one: done, the target answered');

  // Hang up the call to bob; bob's recording of it holds our microphone's 440 Hz.
  await phone.cmd('hangup', { id: newId });
  await phone.waitCall(newId, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'the call to bob ended' });
  await bob.waitEvent('CALL_CLOSED', 5000, bobFrom);
  assert.ok(bobEventsSince(bob, bobFrom).filter((e) => e.type === 'CALL_ESTABLISHED').length === 1, 'bob had exactly one call');
  const wav = await newBobRecording(recordingsBefore);
  const analysis = await analyzeWav(wav, MIC_HZ);
  phone.ext.note(`bob's recording: ${JSON.stringify(analysis)}`);
  assert.ok(analysis.ok, `bob's recording ${wav} has dominant ${MIC_HZ} Hz: ${JSON.stringify(analysis)}`);
});
