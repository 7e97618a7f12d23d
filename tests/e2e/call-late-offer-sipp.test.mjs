// @ts-check
// A late-offer call (RFC 3261 §13.2.1): a trusted trunk (sipp uac_late_offer.xml from 127.0.0.1:5070)
// sends alice an INVITE WITHOUT SDP. Ferrophone rings; `answer` must put the OFFER in its 200 OK
// and take the far end's ANSWER from the ACK. The call becomes active, the browser hears the
// trunk's 1 kHz PCMU tone, the trunk's BYE ends it as `remote-hangup`, and sipp's scenario passes
// (it fails if the 200 carries no SDP offer with PCMU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTrace } from './lab.mjs';
import {
  FAR_HZ, audioCodecs, hearsTone, overWebSocket, sipBody, sippExit, sippMessages, startPhone, startSipp,
} from './calls.mjs';

/** How long the trunk keeps the call up after its ACK (sipp -d). */
const TALK_MS = 8000;

test('an INVITE without SDP: we offer in the 200, the ACK answers, the call works', async (t) => {
  const phone = await startPhone(t, 'call-late-offer-sipp');

  const startedAt = Date.now();
  const trunk = await startSipp(t, 'trunk', 'uac_late_offer.xml', [
    '127.0.0.1:5060', '-s', 'alice', '-i', '127.0.0.1', '-p', '5070', '-mi', '127.0.0.1', '-mp', '32100',
    '-ci', '127.0.0.1', '-cp', '8891', '-m', '1', '-d', String(TALK_MS), '-nostdin', '-timeout', '60', '-timeout_error',
  ]);
  const ringing = await phone.waitCall(null, (c) => c.state === 'ringing' && c.direction === 'incoming',
    { timeoutMs: 10000, what: 'ringing incoming call' });
  const { id } = ringing.call;
  assert.match(ringing.call.remote, /^sip:trunk@127\.0\.0\.1/, `the caller is the trunk: ${ringing.call.remote}`);

  // The INVITE that reached us had no body.
  let trace = await readTrace('md5');
  const invite = trace.find((m) => m.tag === 'snd' && m.method === 'INVITE' && overWebSocket(m) && m.time >= startedAt - 1000);
  assert.ok(invite, 'Kamailio relayed the INVITE to us');
  assert.equal(sipBody(invite.text).trim(), '', 'the INVITE carries no SDP');

  await phone.cmd('answer', { id });
  await phone.waitCall(id, (c) => c.state === 'active', { timeoutMs: 10000, what: 'active call' });
  await hearsTone(phone, id, FAR_HZ, { forMs: 3000 });

  // Offer in our 200 OK, answer in the trunk's ACK.
  trace = await readTrace('md5');
  const ok = trace.find((m) => m.tag === 'rcv' && m.status === 200 && m.callId === invite.callId && /INVITE/.test(m.cseq || '') && overWebSocket(m));
  assert.ok(ok, 'we answered the INVITE 200 OK');
  const offer = audioCodecs(sipBody(ok.text));
  phone.ext.note(`our offer in the 200: ${offer.proto} ${offer.names.join(' ')}`);
  assert.equal(offer.proto, 'UDP/TLS/RTP/SAVPF', 'our 200 carries a WebRTC SDP offer');
  assert.ok(offer.names.includes('PCMU'), 'the offer includes PCMU');
  const ack = trace.find((m) => m.tag === 'snd' && m.method === 'ACK' && m.callId === invite.callId && overWebSocket(m));
  assert.ok(ack, 'the ACK was relayed to us');
  const answer = audioCodecs(sipBody(ack.text));
  phone.ext.note(`the answer in the ACK: ${answer.proto} ${answer.names.join(' ')}`);
  assert.deepEqual(answer.names, ['PCMU'], 'the ACK carries the PCMU answer');

  // The trunk hangs up after TALK_MS; its scenario then ends with the 200 for its BYE.
  const code = await sippExit(trunk, TALK_MS + 10000);
  assert.equal(code, 0, `the trunk's scenario passes: ${trunk.output().slice(-2000)}`);
  assert.match(await sippMessages(trunk), /^SIP\/2\.0 200 OK[\s\S]*CSeq: 2 BYE/m, 'our 200 for its BYE reached the trunk');
  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 5000, what: 'ended event' });
  assert.equal(ended.call.endReason, 'remote-hangup');
});
