// @ts-check
// Attended transfer between two of our calls, with a second Ferrophone as the transferee. alice
// talks with dave (another browser running Ferrophone), puts him on hold, calls bob to consult,
// then `transfer {id: <dave's call>, replaces: <bob's call>}`: REFER to dave with
// `Refer-To: <sip:bob@…?Replaces=…>`. dave's Ferrophone calls bob with the `Replaces` and
// `Referred-By` headers and reports the progress (NOTIFY sipfrag → `transfer` events at alice).
// On success alice ends both calls (bob's baresip 1.0 ignores Replaces, so it does not end the
// replaced call itself), dave's old call ends, and dave and bob end up talking: dave hears bob's
// 1 kHz, bob's recording of the new call holds dave's 440 Hz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from './harness.mjs';
import { readTrace } from './lab.mjs';
import {
  FAR_HZ, MIC_HZ, analyzeWav, bobRecordings, connectBob, hearsTone, newBobRecording, overWebSocket, recordEvents, startPhone,
  freshBobAfter,
} from './calls.mjs';

test('attended transfer: dave ends up talking with bob, alice has no call left', async (t) => {
  const alice = await startPhone(t, 'call-transfer-attended');
  const dave = await startPhone(t, 'call-transfer-attended-dave', { user: 'dave', password: 'davepw' });
  const transferEvents = await recordEvents(alice, 'transfer');
  const bob = await connectBob(t);
  freshBobAfter(t);

  // alice ↔ dave.
  const { call: toDave } = await alice.cmd('dial', { target: 'dave' });
  const ringing = await dave.waitCall(null, (c) => c.direction === 'incoming' && c.state === 'ringing', { what: 'dave rings' });
  await dave.cmd('answer', { id: ringing.call.id });
  await alice.waitCall(toDave.id, (c) => c.state === 'active', { what: 'alice–dave active' });
  await hearsTone(dave, ringing.call.id, MIC_HZ, { forMs: 1000 });
  const daveOld = ringing.call.id;

  // dave on hold; alice consults bob.
  await alice.cmd('hold', { id: toDave.id });
  await alice.waitCall(toDave.id, (c) => c.state === 'held', { what: 'dave held' });
  const { call: toBob } = await alice.cmd('dial', { target: 'bob' });
  await alice.waitCall(toBob.id, (c) => c.state === 'active', { what: 'alice–bob active' });
  await hearsTone(alice, toBob.id, FAR_HZ, { forMs: 1000 });
  const recordingsBefore = bobRecordings();

  // Transfer dave to bob, replacing alice's call with bob.
  const transferredAt = Date.now();
  await alice.cmd('transfer', { id: toDave.id, replaces: toBob.id });
  const done = await poll(async () => (await transferEvents())
    .find((e) => e.callId === toDave.id && e.done), { timeoutMs: 15000 });
  assert.ok(done, 'the transfer finished');
  assert.equal(done.success, true, `it succeeded: ${JSON.stringify(done)}`);

  // alice: both calls over.
  const endDave = await alice.waitCall(toDave.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'alice–dave ended' });
  const endBob = await alice.waitCall(toBob.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'alice–bob ended' });
  assert.equal(endDave.call.endReason, 'transferred');
  assert.equal(endBob.call.endReason, 'transferred');
  assert.deepEqual(await alice.calls(), [], 'alice has no call left');
  alice.ext.note(`both of alice's calls ended ${Math.max(endDave.at, endBob.at) - transferredAt} ms after the transfer command`);

  // dave: the old call ended, a new call to bob is active and dave hears bob.
  const daveNew = await dave.waitCall(null, (c) => c.direction === 'outgoing' && c.state === 'active', { timeoutMs: 10000, what: "dave's call to bob" });
  assert.match(daveNew.call.remote, /^sip:bob@127\.0\.0\.1/);
  const daveOldEnd = await dave.waitCall(daveOld, (c) => c.state === 'ended', { timeoutMs: 5000, what: "dave's old call ends" });
  dave.ext.note(`dave's old call ended: ${daveOldEnd.call.endReason}`);
  assert.deepEqual((await dave.calls()).map((c) => [c.id, c.state]), [[daveNew.call.id, 'active']], 'dave has just the call with bob');
  await hearsTone(dave, daveNew.call.id, FAR_HZ, { forMs: 2000 });
  const bobSide = await poll(async () => {
    const calls = await bob.listCalls();
    return calls.length === 1 && calls[0].state === 'ESTABLISHED' ? calls : null;
  }, { timeoutMs: 5000 });
  assert.ok(bobSide, `bob has exactly one call (with dave): ${JSON.stringify(await bob.listCalls())}`);

  // The wire: alice's REFER with Replaces; dave's INVITE to bob with Replaces + Referred-By.
  const trace = (await readTrace('md5')).filter((m) => m.time >= transferredAt - 100);
  const refer = trace.find((m) => m.tag === 'rcv' && m.method === 'REFER' && overWebSocket(m));
  assert.ok(refer, 'alice sent REFER');
  const referTo = (/^Refer-To: (.*?)\r?$/m.exec(refer.text) || [])[1] || '';
  alice.ext.note(`Refer-To: ${referTo}`);
  assert.match(referTo, /^<sip:bob@127\.0\.0\.1[^?>]*\?Replaces=[^>]+%3Bto-tag%3D[^>]+%3Bfrom-tag%3D[^>]+>$/);
  const toBobInvite = trace.find((m) => m.tag === 'snd' && m.method === 'INVITE' && m.dstPort === 5062 && /^Replaces: /m.test(m.text));
  assert.ok(toBobInvite, "dave's INVITE reached bob with a Replaces header");
  const replaces = (/^Replaces: (.*?)\r?$/m.exec(toBobInvite.text) || [])[1];
  const bobCallId = trace.concat(await readTrace('md5')).find((m) => m.method === 'BYE' && m.tag === 'rcv' && overWebSocket(m) && m.callId !== refer.callId);
  assert.ok(bobCallId, 'alice sent BYE on the replaced call');
  assert.ok(replaces.startsWith(`${bobCallId.callId};`), `Replaces names alice's call with bob (${bobCallId.callId}): ${replaces}`);
  assert.match(toBobInvite.text, /^Referred-By: <sip:alice@127\.0\.0\.1>\r?$/m);

  // bob hangs up; his recording of the call with dave is dave's microphone.
  await bob.hangupAll();
  const wav = await newBobRecording(recordingsBefore);
  const analysis = await analyzeWav(wav, MIC_HZ);
  alice.ext.note(`bob's recording of the call with dave: ${JSON.stringify(analysis)}`);
  assert.ok(analysis.ok, `bob heard dave's ${MIC_HZ} Hz: ${JSON.stringify(analysis)}`);
  await dave.waitCall(daveNew.call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: "dave's call with bob ends" });
});
