// @ts-check
// Several calls at once (call waiting, the maximum number of calls). bob calls alice and she
// answers: two-way audio. A trusted sipp trunk (uac_ring_until_bye.xml, port 5070) then calls her
// WITHOUT asking for an automatic answer: the second call rings while the first stays active, and
// `calls` lists both. Answering the second puts the first on hold (our re-INVITE to bob says
// a=sendonly, bob answers a=recvonly): the browser hears the trunk's 1 kHz on the second call, the
// trunk hears alice's 440 Hz, and bob — held — hears nothing of her (an RTP tap at each far end's
// audio port decodes what arrives there). With "Maximum simultaneous calls" set to 2 on the
// options page, a third caller (sipp carol, uac_auth_busy.xml, digest-authenticated from port
// 5064) gets 486 Busy Here and no third call shows up. Hanging up the second call and resuming the
// first (a=sendrecv both ways) brings bob back: each hears the other again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { readTrace } from './lab.mjs';
import {
  FAR_HZ, MIC_HZ, analyzeWav, bobRecordings, connectBob, hearsTone, newBobRecording, overWebSocket, sdpAudioPort, sipBody, sippExit,
  sippMessages, startPhone, startRtpTap, startSipp, bobCallsAlice,
} from './calls.mjs';

/** @param {string} sdp  the direction attribute of the audio stream (sendrecv when none) */
const direction = (sdp) => (/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(sdp) || [, 'sendrecv'])[1];

/**
 * `calls` as [id, direction, state] rows sorted by id, for comparisons.
 * @param {import('./calls.mjs').Phone} phone
 */
const callRows = async (phone) => (await phone.calls()).map((c) => [c.id, c.direction, c.state]).sort();

/** @param {...[string, string, string]} rows */
const sorted = (...rows) => rows.sort();

test('call waiting: a second call rings, answering it holds the first; the limit answers 486; resume', async (t) => {
  const phone = await startPhone(t, 'call-waiting');
  const bob = await connectBob(t);
  const recordingsBefore = bobRecordings();
  const bobFrom = bob.events.length;
  const startedAt = Date.now();

  // 1. bob calls alice; she answers: two-way audio.
  const first = await bobCallsAlice(phone, bob);
  const bobId = first.call.id;
  assert.match(first.call.remote, /^sip:bob@127\.0\.0\.1/);
  await phone.cmd('answer', { id: bobId });
  await phone.waitCall(bobId, (c) => c.state === 'active', { timeoutMs: 10000, what: "bob's call active" });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, bobFrom);
  await hearsTone(phone, bobId, FAR_HZ, { forMs: 2000 });
  assert.deepEqual(await callRows(phone), [[bobId, 'incoming', 'active']]);
  // bob's ear: the RTP that reaches bob's audio port from now on.
  const bobInvite = (await readTrace('md5')).find((m) => m.time >= startedAt - 1000 && m.tag === 'rcv' && m.method === 'INVITE' && m.srcPort === 5062);
  assert.ok(bobInvite, "bob's INVITE is in the trace");
  const bobPort = sdpAudioPort(bobInvite);
  assert.ok(bobPort, `bob's audio port: ${bobPort}`);
  const tap = await startRtpTap(t, 'call-waiting-bob', Number(bobPort));
  const tapAt = Date.now();

  // 2. The trunk calls: the second call rings, the first stays active.
  const trunk = await startSipp(t, 'trunk-waiting', 'uac_ring_until_bye.xml', [
    '127.0.0.1:5060', '-s', 'alice', '-i', '127.0.0.1', '-p', '5070', '-mi', '127.0.0.1', '-mp', '32100',
    '-ci', '127.0.0.1', '-cp', '8891', '-m', '1', '-nostdin', '-timeout', '120', '-timeout_error',
  ]);
  const second = await phone.waitCall(null, (c) => c.id !== bobId && c.direction === 'incoming' && c.state === 'ringing',
    { timeoutMs: 10000, what: "the trunk's call ringing" });
  const trunkId = second.call.id;
  assert.match(second.call.remote, /^sip:trunk@127\.0\.0\.1/, `the caller is the trunk: ${second.call.remote}`);
  assert.equal(second.call.autoAnswer, false, 'no automatic answer was asked for');
  await sleep(2000);
  assert.deepEqual(await callRows(phone), sorted([bobId, 'incoming', 'active'], [trunkId, 'incoming', 'ringing']),
    'two calls: bob active, the trunk still ringing 2 s later');
  assert.deepEqual((await phone.eventsOf(bobId)).map((e) => e.call.state), ['ringing', 'active'],
    "the ringing second call did not touch bob's call");
  assert.equal(trunk.exitCode(), undefined, 'the trunk is still waiting for an answer');
  assert.doesNotMatch(await sippMessages(trunk), /^SIP\/2\.0 200 /m, 'no 200 reached the trunk while it rang');

  // 3. Answer the second call: the first goes on hold, the second is active with the trunk's tone.
  const trunkTap = await startRtpTap(t, 'call-waiting-trunk', 32100); // the trunk's ear (its -mp)
  const trunkTapAt = Date.now();
  const holdAt = Date.now();
  await phone.cmd('answer', { id: trunkId });
  await phone.waitCall(trunkId, (c) => c.state === 'active', { timeoutMs: 10000, what: "the trunk's call active" });
  const trunkActiveAt = Date.now();
  await phone.waitCall(bobId, (c) => c.state === 'held', { timeoutMs: 10000, what: "bob's call held" });
  assert.deepEqual(await callRows(phone), sorted([bobId, 'incoming', 'held'], [trunkId, 'incoming', 'active']));
  const heldAt = Date.now();
  await hearsTone(phone, trunkId, FAR_HZ, { forMs: 3000 });

  // 4. At most 2 calls: a third caller is refused with 486 and never shows up.
  await phone.page.getByLabel('Maximum simultaneous calls').fill('2');
  await phone.page.getByRole('button', { name: 'Apply' }).click();
  await phone.page.locator('#behaviour-result').filter({ hasText: 'Applied.' }).waitFor({ timeout: 5000 });
  assert.equal((await phone.ext.storage('sync')).settings.maxCalls, 2, 'maxCalls 2 is saved');
  const applied = await poll(async () => (await phone.cmd('diagnostics')).settings?.maxCalls === 2, { timeoutMs: 5000 });
  assert.ok(applied, 'the worker uses maxCalls 2 (diagnostics)');
  const eventsBeforeCarol = (await phone.events()).length;
  const carolAt = Date.now();
  const carol = await startSipp(t, 'carol-busy', 'uac_auth_busy.xml', [
    '127.0.0.1:5060', '-s', 'alice', '-key', 'caller', 'carol', '-au', 'carol', '-ap', 'carolpw', '-i', '127.0.0.1', '-p', '5064',
    '-mi', '127.0.0.1', '-mp', '32200', '-ci', '127.0.0.1', '-cp', '8892', '-m', '1', '-nostdin', '-timeout', '15', '-timeout_error',
  ]);
  const carolCode = await sippExit(carol, 20000);
  assert.equal(carolCode, 0, `carol: 407, then 486 and nothing else (${carol.output().slice(-1500)})`);
  await sleep(500);
  const late = (await phone.events()).slice(eventsBeforeCarol).filter((e) => e.call.id !== bobId && e.call.id !== trunkId);
  assert.deepEqual(late.map((e) => e.call), [], 'no call event for a third call');
  assert.deepEqual(await callRows(phone), sorted([bobId, 'incoming', 'held'], [trunkId, 'incoming', 'active']),
    'still the same two calls');
  let trace = (await readTrace('md5')).filter((m) => m.time >= carolAt - 1000);
  const carolInvite = trace.find((m) => m.tag === 'snd' && m.method === 'INVITE' && overWebSocket(m) && /carol/.test(m.headers('from')[0] || ''));
  assert.ok(carolInvite, "Kamailio relayed carol's authenticated INVITE to us");
  const busy = trace.find((m) => m.tag === 'rcv' && m.callId === carolInvite.callId && overWebSocket(m) && (m.status || 0) >= 200);
  assert.equal(busy?.status, 486, `we answered carol's INVITE 486 Busy Here: ${busy?.firstLine}`);

  // The trunk heard alice while bob was held.
  const trunkHeard = await trunkTap.stop();
  const trunkAudio = await analyzeWav(trunkHeard.wav, MIC_HZ, ['--start', String((trunkActiveAt - trunkTapAt + 500) / 1000), '--seconds', '2']);
  phone.ext.note(`the trunk heard: ${JSON.stringify(trunkHeard.summary)}; rms ${trunkAudio.rms}, dominant ${trunkAudio.dominant} Hz`);
  assert.ok(trunkAudio.ok, `the trunk hears alice's ${MIC_HZ} Hz on the second call: ${JSON.stringify(trunkAudio)}`);

  // 5. Hang up the second call, resume the first: bob is heard again.
  await phone.cmd('hangup', { id: trunkId });
  const ended = await phone.waitCall(trunkId, (c) => c.state === 'ended', { timeoutMs: 5000, what: "the trunk's call ended" });
  assert.equal(ended.call.endReason, 'local-hangup');
  assert.equal(await sippExit(trunk, 10000), 0, `the trunk got our BYE and its scenario passes: ${trunk.output().slice(-1500)}`);
  assert.deepEqual(await callRows(phone), [[bobId, 'incoming', 'held']], 'bob is left, still held');
  const resumeAt = Date.now();
  await phone.cmd('resume', { id: bobId });
  await poll(async () => (await callRows(phone))[0]?.[2] === 'active', { timeoutMs: 10000 });
  const resumedAt = Date.now();
  assert.deepEqual(await callRows(phone), [[bobId, 'incoming', 'active']], "bob's call is active again");
  await hearsTone(phone, bobId, FAR_HZ, { forMs: 3000 });

  // What bob heard: alice (440 Hz) before the hold, nothing of her while held — she was talking
  // to the trunk —, alice again after the resume.
  const heard = await tap.stop();
  /** @param {string} what @param {number} from  ms since the tap started @param {number} seconds */
  const bobHeard = async (what, from, seconds) => {
    const a = await analyzeWav(heard.wav, MIC_HZ, ['--start', String(from / 1000), '--seconds', String(seconds)]);
    const packets = heard.packets.filter((/** @type {{t: number}} */ p) => p.t * 1000 >= from && p.t * 1000 < from + seconds * 1000).length;
    phone.ext.note(`bob heard ${what} (${from}+${seconds * 1000} ms, ${packets} packets): rms ${a.rms}, dominant ${a.dominant} Hz`);
    return a;
  };
  const beforeHold = await bobHeard('before the hold', 300, 1);
  const whileHeld = await bobHeard('while held', heldAt - tapAt + 500, 2);
  const afterResume = await bobHeard('after the resume', resumedAt - tapAt + 500, 1.5);
  assert.ok(beforeHold.ok, `bob hears alice's ${MIC_HZ} Hz before the hold: ${JSON.stringify(beforeHold)}`);
  assert.ok(afterResume.ok, `bob hears alice's ${MIC_HZ} Hz again after the resume: ${JSON.stringify(afterResume)}`);
  assert.ok(whileHeld.rms < beforeHold.rms / 20,
    `bob, held, does not hear alice (rms ${whileHeld.rms} while held, ${beforeHold.rms} before): ${JSON.stringify(whileHeld)}`);
  const bobStates = (await phone.eventsOf(bobId)).map((e) => e.call.state);
  phone.ext.note(`bob's call: ${bobStates.join(' → ')}; trunk's call: ${(await phone.eventsOf(trunkId)).map((e) => e.call.state).join(' → ')}`);
  assert.deepEqual(bobStates, ['ringing', 'active', 'held', 'active']);

  // The hold and the resume on the wire: our re-INVITEs to bob and bob's answers.
  trace = (await readTrace('md5')).filter((m) => m.time >= startedAt - 1000);
  const reinvites = trace.filter((m) => m.tag === 'rcv' && m.method === 'INVITE' && m.callId === bobInvite.callId && overWebSocket(m));
  assert.equal(reinvites.length, 2, `two re-INVITEs from us to bob: ${reinvites.map((m) => m.cseq).join(', ')}`);
  /** bob's 200 to a re-INVITE, as bob sent it. @param {import('./lab.mjs').TracedMessage} m */
  const bobAnswer = (m) => trace.find((r) => r.tag === 'rcv' && r.srcPort === 5062 && r.status === 200 && r.callId === m.callId && r.cseq === m.cseq);
  const [hold, resume] = reinvites;
  const holdOk = bobAnswer(hold);
  const resumeOk = bobAnswer(resume);
  assert.ok(holdOk && resumeOk, "bob answered both re-INVITEs 200");
  const dirs = [hold, holdOk, resume, resumeOk].map((m) => direction(sipBody(m.text)));
  phone.ext.note(`re-INVITE directions (ours → bob's): hold ${dirs[0]} → ${dirs[1]}, resume ${dirs[2]} → ${dirs[3]}`);
  assert.deepEqual(dirs, ['sendonly', 'recvonly', 'sendrecv', 'sendrecv']);
  assert.ok(hold.time >= holdAt && resume.time >= resumeAt, 'the hold follows the answer of the second call, the resume our command');

  // bob's recording (it stops at the first re-INVITE, docs/LAB.md pitfall 13) holds our 440 Hz.
  await phone.cmd('hangup', { id: bobId });
  await phone.waitCall(bobId, (c) => c.state === 'ended', { timeoutMs: 5000, what: "bob's call ended" });
  await bob.waitEvent('CALL_CLOSED', 5000, bobFrom);
  const wav = await newBobRecording(recordingsBefore);
  const analysis = await analyzeWav(wav, MIC_HZ);
  phone.ext.note(`bob's recording: ${JSON.stringify(analysis)}`);
  assert.ok(analysis.ok, `bob's recording ${wav} has dominant ${MIC_HZ} Hz: ${JSON.stringify(analysis)}`);
  assert.deepEqual(await phone.calls(), [], 'no call left');
});
