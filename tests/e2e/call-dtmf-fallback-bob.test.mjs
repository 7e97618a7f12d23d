// @ts-check
// RFC 4733 mode (the default) with a far end that answers Opus + telephone-event/8000 only (bob,
// baresip 1.0). Chromium cannot time 8 kHz telephone-events while it sends 48 kHz Opus (each
// digit would leave as end packets only, and bob would detect 1 digit of 5), so the media engine
// refuses and Ferrophone sends the digits as SIP INFO instead: the trace shows five INFO requests
// in order, answered 200, and bob's own log shows the digits 1 2 3 # * arriving, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { poll } from './harness.mjs';
import { LOG_DIR, readTrace } from './lab.mjs';
import { audioCodecs, connectBob, overWebSocket, sipBody, startPhone } from './calls.mjs';

const BOB_LOG = path.join(LOG_DIR, 'baresip-bob.log');

test('digits bob cannot get as RFC 4733 events reach him as SIP INFO', async (t) => {
  const phone = await startPhone(t, 'call-dtmf-fallback-bob');
  const bob = await connectBob(t);
  const logFrom = (await stat(BOB_LOG)).size;
  const dialedAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'bob' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await bob.waitEvent('CALL_ESTABLISHED', 5000, 0);

  // bob's answer: Opus first, telephone-event at 8 kHz only.
  const setup = await readTrace('md5');
  const answer = setup.find((m) => m.tag === 'snd' && m.status === 200 && overWebSocket(m) && /INVITE/.test(m.cseq || '') && m.time >= dialedAt - 1000);
  assert.ok(answer, 'the 200 OK relayed to us');
  const codecs = audioCodecs(sipBody(answer.text));
  phone.ext.note(`bob's answer as relayed to us: ${codecs.names.join(' ')}; ${sipBody(answer.text).match(/^a=rtpmap:\d+ telephone-event\/\d+/gm)}`);
  assert.equal(codecs.names[0], 'opus');
  assert.ok(/a=rtpmap:\d+ telephone-event\/8000/.test(sipBody(answer.text)) && !/telephone-event\/48000/.test(sipBody(answer.text)),
    'telephone-event only at 8000 Hz');

  const sentAt = Date.now();
  await phone.cmd('dtmf', { id: call.id, digits: '123#*' });
  const received = await poll(async () => {
    const text = (await readFile(BOB_LOG, 'utf8')).slice(logFrom);
    const digits = [...text.matchAll(/received DTMF: '(.)'/g)].map((m) => m[1]).join('');
    return digits.length >= 5 ? digits : null;
  }, { timeoutMs: 10000, intervalMs: 200 });
  assert.equal(received, '123#*', "bob's log: received DTMF '1' '2' '3' '#' '*' in order");
  phone.ext.note(`bob logged all five digits ${Date.now() - sentAt} ms after the command`);

  const trace = (await readTrace('md5')).filter((m) => m.time >= sentAt - 100 && m.callId === answer.callId);
  const infos = trace.filter((m) => m.tag === 'rcv' && m.method === 'INFO' && overWebSocket(m));
  assert.deepEqual(infos.map((m) => (/^Signal=(.)/m.exec(sipBody(m.text)) || [])[1]), ['1', '2', '3', '#', '*'], 'five INFO requests, in order');
  for (const m of infos) assert.match(m.text, /^Content-Type: application\/dtmf-relay\r?$/mi);
  const oks = trace.filter((m) => m.tag === 'snd' && m.status === 200 && overWebSocket(m) && /INFO/.test(m.cseq || ''));
  assert.equal(oks.length, 5, 'bob answered each with 200');
  assert.ok(phone.ext.lines.some((l) => /DTMF on the media path unavailable \(telephone-event is negotiated at 8000 Hz/.test(l)),
    'the worker logged why it used INFO');
  const stats = await phone.stats(call.id);
  assert.equal(stats.dtmfSent, '', 'nothing went out as RFC 4733 events');

  await phone.cmd('hangup', { id: call.id });
  await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended' });
});
