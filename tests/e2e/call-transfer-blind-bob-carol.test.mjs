// @ts-check
// Blind transfer: alice talks with bob, then `transfer {id, target: 'carol'}`. We send REFER
// (Refer-To carol, Referred-By alice); bob (baresip) accepts it, calls carol (sipp, PCMU + 1 kHz
// tone) and reports the progress in NOTIFY sipfrag bodies, which reach the command API as
// `transfer` events (100 Trying … 200 OK, done, success). On success our call ends
// (`transferred`, BYE) and the offscreen document closes; bob and carol end up talking: bob's
// recording of his new call holds carol's 1 kHz tone, carol's sipp saw bob's INVITE and, when bob
// hangs up, his BYE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { readTrace } from './lab.mjs';
import {
  FAR_HZ, analyzeWav, bobRecordings, connectBob, hearsTone, newBobRecording, overWebSocket, registerSippPhone, sippExit,
  recordEvents, sippMessages, startPhone, startSipp,
  freshBobAfter,
} from './calls.mjs';

test('blind transfer of bob to carol: they talk, our call ends', async (t) => {
  await registerSippPhone('carol', 5064, 8889);
  const carol = await startSipp(t, 'carol', 'uas_answer.xml', [
    '-s', 'carol', '-i', '127.0.0.1', '-p', '5064', '-mi', '127.0.0.1', '-mp', '32000',
    '-ci', '127.0.0.1', '-cp', '8890', '-m', '1', '-nostdin', '-timeout', '60', '-timeout_error',
  ]);
  const phone = await startPhone(t, 'call-transfer-blind-bob-carol');
  const transferEvents = await recordEvents(phone, 'transfer');
  const bob = await connectBob(t);
  freshBobAfter(t);

  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await hearsTone(phone, call.id, FAR_HZ, { forMs: 1000 });
  const recordingsBefore = bobRecordings();

  const transferredAt = Date.now();
  const reply = await phone.cmd('transfer', { id: call.id, target: 'carol' });
  assert.equal(reply.call.id, call.id);

  // Progress, as the command API reports it.
  const done = await poll(async () => (await transferEvents()).find((e) => e.callId === call.id && e.done), { timeoutMs: 15000 });
  const progress = await transferEvents();
  phone.ext.note(`transfer events: ${JSON.stringify(progress.map((e) => [e.status, e.done, e.success]))}`);
  assert.ok(done, `the transfer finished: ${JSON.stringify(progress)}`);
  assert.equal(done.success, true, 'it succeeded');
  assert.equal(done.status, 200, 'with the sipfrag "SIP/2.0 200 OK"');
  assert.ok(progress.some((e) => !e.done && e.status < 200), 'a provisional progress event came first');
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'our call ends' });
  assert.equal(ended.call.endReason, 'transferred');
  phone.ext.note(`our call ended ${ended.at - transferredAt} ms after the transfer command`);
  assert.deepEqual(await phone.calls(), [], 'we have no call left');
  const docClosed = await poll(async () => phone.ext.offscreenEvents.find((e) => e.event === 'closed' && e.at >= transferredAt), { timeoutMs: 5000 });
  assert.ok(docClosed, 'the offscreen document (microphone) closes');

  // bob talks with carol now.
  const bobSide = await poll(async () => {
    const calls = await bob.listCalls();
    return calls.length === 1 && calls[0].state === 'ESTABLISHED' && /carol/.test(calls[0].peer) ? calls : null;
  }, { timeoutMs: 5000 });
  assert.ok(bobSide, `bob has one established call, with carol: ${JSON.stringify(await bob.listCalls())}`);
  await sleep(2500); // let them talk
  const carolInvite = (await sippMessages(carol)).split(/-{5,}/).find((m) => /^\s*INVITE sip:carol@/m.test(m));
  assert.ok(carolInvite && /^From: <sip:bob@127\.0\.0\.1>/m.test(carolInvite), "carol's INVITE came from bob");

  // The wire: our REFER, answered 202, and NOTIFYs we answered 200; our BYE to bob.
  const trace = (await readTrace('md5')).filter((m) => m.time >= transferredAt - 100);
  const refer = trace.find((m) => m.tag === 'rcv' && m.method === 'REFER' && overWebSocket(m));
  assert.ok(refer, 'we sent REFER');
  assert.match(refer.text, /^Refer-To: <sip:carol@127\.0\.0\.1>\r?$/m);
  assert.match(refer.text, /^Referred-By: <sip:alice@127\.0\.0\.1>\r?$/m);
  assert.ok(trace.some((m) => m.tag === 'snd' && m.status === 202 && m.callId === refer.callId && overWebSocket(m)), 'bob accepted it (202)');
  const notifies = trace.filter((m) => m.tag === 'snd' && m.method === 'NOTIFY' && m.callId === refer.callId && overWebSocket(m));
  assert.ok(notifies.some((m) => /SIP\/2\.0 200/.test(m.text)), 'a NOTIFY with SIP/2.0 200 reached us');
  assert.ok(trace.some((m) => m.tag === 'rcv' && m.method === 'BYE' && m.callId === refer.callId && overWebSocket(m)), 'we sent BYE to bob');

  // bob hangs up: carol's scenario ends with his BYE; bob's recording of the carol call is carol's tone.
  await bob.hangup();
  assert.equal(await sippExit(carol, 10000), 0, `carol's scenario completes (INVITE from bob, BYE): ${carol.output().slice(-1500)}`);
  const wav = await newBobRecording(recordingsBefore);
  const analysis = await analyzeWav(wav, FAR_HZ);
  phone.ext.note(`bob's recording of the call with carol: ${JSON.stringify(analysis)}`);
  assert.ok(analysis.ok, `bob heard carol's ${FAR_HZ} Hz: ${JSON.stringify(analysis)}`);
});
