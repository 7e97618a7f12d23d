// @ts-check
// alice calls carol, a PCMU-only phone (sipp uas_answer.xml: answers with `m=audio … RTP/AVP 0`
// and streams a 1 kHz u-law tone). We offer Opus first, carol can only take PCMU: the call
// connects with PCMU — the 200 OK's SDP relayed to us offers payload type 0 only — and the browser
// hears the 1 kHz tone. Hanging up sends BYE; carol's scenario completes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrace } from './lab.mjs';
import {
  FAR_HZ, audioCodecs, hearsTone, overWebSocket, registerSippPhone, sipBody, sippExit, sippMessages, startPhone, startSipp,
} from './calls.mjs';

test('a PCMU-only far end: the call negotiates PCMU and the browser hears its tone', async (t) => {
  await registerSippPhone('carol', 5064, 8889);
  const carol = await startSipp(t, 'carol', 'uas_answer.xml', [
    '-s', 'carol', '-i', '127.0.0.1', '-p', '5064', '-mi', '127.0.0.1', '-mp', '32000',
    '-ci', '127.0.0.1', '-cp', '8890', '-m', '1', '-nostdin', '-timeout', '60', '-timeout_error',
  ]);
  const phone = await startPhone(t, 'call-pcmu-sipp');

  const dialedAt = Date.now();
  const { call } = await phone.cmd('dial', { target: 'carol' });
  await phone.waitCall(call.id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await hearsTone(phone, call.id, FAR_HZ, { forMs: 3000 });

  // The negotiation, as Kamailio saw it.
  const trace = await readTrace('md5');
  const invite = trace.filter((m) => m.tag === 'rcv' && m.method === 'INVITE' && overWebSocket(m) && m.time >= dialedAt - 1000).pop();
  assert.ok(invite, 'our INVITE reached Kamailio');
  const offered = audioCodecs(sipBody(invite.text));
  phone.ext.note(`we offered ${offered.proto} ${offered.names.join(' ')}`);
  assert.equal(offered.names[0], 'opus', 'we prefer Opus');
  assert.ok(offered.names.includes('PCMU'), 'and offer PCMU too');
  const fromCarol = trace.find((m) => m.tag === 'rcv' && m.status === 200 && m.callId === invite.callId && m.srcPort === 5064);
  assert.ok(fromCarol, 'carol answered 200 OK');
  assert.deepEqual(audioCodecs(sipBody(fromCarol.text)).names, ['PCMU'], 'carol answered with PCMU only');
  const toUs = trace.find((m) => m.tag === 'snd' && m.status === 200 && m.callId === invite.callId && overWebSocket(m));
  assert.ok(toUs, 'the 200 OK was relayed to us');
  const answer = audioCodecs(sipBody(toUs.text));
  phone.ext.note(`answer relayed to us: ${answer.proto} ${answer.payloads.join(' ')} (${answer.names.join(' ')})`);
  assert.equal(answer.proto, 'UDP/TLS/RTP/SAVPF', 'rtpengine turned it into WebRTC media');
  assert.deepEqual(answer.names, ['PCMU'], 'the answer we applied has PCMU only (payload type 0)');
  assert.deepEqual(answer.payloads, ['0']);

  await phone.cmd('hangup', { id: call.id });
  const ended = await phone.waitCall(call.id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'local-hangup');
  const code = await sippExit(carol, 10000);
  assert.equal(code, 0, `carol's scenario (INVITE → 180/200, ACK, BYE → 200) completes: ${carol.output().slice(-2000)}`);
  assert.match(await sippMessages(carol), /^BYE sip:/m, 'carol received our BYE');
});
