// @ts-check
// A caller cannot take control of the phone it rings (docs/SECURITY.md, trust model). Under the
// default settings, a sipp "trunk" (port 5070, through Kamailio) calls alice with its OWN
// `Call-Info: <…>;answer-after=0` — through a proxy a caller's headers arrive unchanged — then,
// in the early dialog, sends `NOTIFY Event: talk` (BroadSoft remote answer) and a `REFER` to
// carol (a target in alice's own domain). sipp checks its side: 180, no 200 for 5 s, 403 to the
// NOTIFY, 403 to the REFER, then it cancels. The spec checks the phone's side: the call only
// ever rang (never automatic, never active), it ended `cancelled`, no other call was created,
// no INVITE left toward carol (Kamailio's trace), and the microphone was never opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrace } from './lab.mjs';
import { overWebSocket, sippExit, sippMessages, startPhone, startSipp } from './calls.mjs';

test('under the defaults a caller can neither answer its own call nor transfer us before we answer', async (t) => {
  const phone = await startPhone(t, 'security-caller-cannot-take-control');
  assert.equal((await phone.ext.storage('sync')).settings, undefined, 'no settings stored: the defaults apply');
  const startedAt = Date.now();

  const trunk = await startSipp(t, 'trunk-takes-control', 'uac_caller_takes_control.xml', [
    '127.0.0.1:5060', '-s', 'alice', '-key', 'target', 'carol@127.0.0.1', '-i', '127.0.0.1', '-p', '5070',
    '-mi', '127.0.0.1', '-mp', '32100', '-ci', '127.0.0.1', '-cp', '8891', '-m', '1',
    '-nostdin', '-timeout', '30', '-timeout_error',
  ]);
  const ringing = await phone.waitCall(null, (c) => c.direction === 'incoming' && c.state === 'ringing',
    { timeoutMs: 10000, what: "the trunk's call ringing" });
  const id = ringing.call.id;
  assert.equal(ringing.call.autoAnswer, false, "the caller's own Call-Info did not make it automatic");

  const code = await sippExit(trunk, 20000);
  assert.equal(code, 0, `sipp: 180, no 200 for 5 s, 403 to NOTIFY talk, 403 to REFER, CANCEL (${trunk.output().slice(-1500)})`);
  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'the call ended' });
  assert.equal(ended.call.endReason, 'cancelled', 'the caller cancelled it: nobody answered');

  // The phone's side of the story.
  const events = (await phone.events()).filter((e) => e.at >= startedAt);
  const states = events.filter((e) => e.call.id === id).map((e) => e.call.state);
  phone.ext.note(`states of the trunk's call: ${states.join(' → ')}`);
  assert.ok(states.every((s) => s === 'ringing' || s === 'ended'), `the call only rang: ${states.join(', ')}`);
  assert.ok(events.every((e) => e.call.id === id), 'no other call (the REFER target) was created');
  const log = await sippMessages(trunk);
  const forbidden = [...log.matchAll(/^SIP\/2\.0 403 [^\r\n]*\r?\n[\s\S]*?^CSeq: *\d+ (\w+)/gm)].map((m) => m[1]);
  phone.ext.note(`403 answers seen by the caller, by method: ${forbidden.join(', ')}`);
  assert.deepEqual(forbidden.sort(), ['NOTIFY', 'REFER']);
  assert.match(log, /^Warning: 399 ferrophone "remote control is turned off"/m, 'the NOTIFY refusal says why');
  assert.match(log, /^Warning: 399 ferrophone "a call is transferred only once it is answered"/m, 'the REFER refusal says why');

  // Nothing left toward the target, and the microphone stayed closed.
  const trace = await readTrace('md5');
  const ours = trace.filter((m) => m.tag === 'rcv' && m.method === 'INVITE' && overWebSocket(m) && m.time >= startedAt);
  assert.deepEqual(ours.map((m) => m.firstLine), [], 'Kamailio received no INVITE from us');
  assert.ok(!trace.some((m) => m.time >= startedAt && m.method === 'INVITE' && /^INVITE sip:carol@/.test(m.firstLine)),
    'no INVITE toward carol went anywhere');
  const offscreen = phone.ext.lines.filter((l) => l.includes('[offscreen]'));
  assert.ok(offscreen.some((l) => l.includes(`ring-start ${id}:`)), "the offscreen document's log is captured (it rang this call)");
  const mic = offscreen.filter((l) => l.includes('getUserMedia') || l.includes('microphone open'));
  assert.deepEqual(mic, [], 'the offscreen document never asked for the microphone');
});
