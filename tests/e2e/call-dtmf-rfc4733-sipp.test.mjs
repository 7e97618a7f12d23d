// @ts-check
// DTMF both ways with a sipp "trunk" (uac_dtmf.xml), in the default mode (RFC 4733 on the media
// path). The trunk calls alice (auto-answered), offering PCMU + telephone-event/8000, and sends one
// SIP INFO digit → Ferrophone reports it as a `dtmf` event. `dtmf {digits: '123#*'}` → the
// browser's RTCDTMFSender sends RFC 4733 events; rtp_tap.py records the trunk's media port and
// decodes them: five events, in order, each a proper sequence (a start packet with the marker bit,
// updates, three end packets) of about the requested 100 ms — what a far end needs to detect them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, sleep } from './harness.mjs';
import { readTrace } from './lab.mjs';
import { overWebSocket, recordEvents, sippExit, sippMessages, startPhone, startRtpTap, startSipp } from './calls.mjs';

const TRUNK_MEDIA_PORT = 32100;

test('RFC 4733 digits reach the far end; its SIP INFO digit is reported', async (t) => {
  // The trunk's INVITE asks for an automatic answer: server control is on for this test.
  const phone = await startPhone(t, 'call-dtmf-rfc4733-sipp', { settings: { autoAnswer: 'headers' } });
  const dtmfEvents = await recordEvents(phone, 'dtmf');
  const tap = await startRtpTap(t, 'dtmf-rfc4733-trunk', TRUNK_MEDIA_PORT);
  const trunk = await startSipp(t, 'trunk', 'uac_dtmf.xml', [
    '127.0.0.1:5060', '-s', 'alice', '-i', '127.0.0.1', '-p', '5070', '-mi', '127.0.0.1', '-mp', String(TRUNK_MEDIA_PORT),
    '-ci', '127.0.0.1', '-cp', '8891', '-m', '1', '-d', '6000', '-nostdin', '-timeout', '40', '-timeout_error',
  ]);
  const active = await phone.waitCall(null, (c) => c.direction === 'incoming' && c.state === 'active', { timeoutMs: 15000, what: 'the auto-answered call' });
  const id = active.call.id;

  // The trunk's INFO digit arrives as a `dtmf` event.
  const info = await poll(async () => (await dtmfEvents()).find((e) => e.callId === id),
    { timeoutMs: 5000 });
  assert.ok(info, 'a dtmf event for the INFO digit');
  assert.equal(info.digit, '5', `the INFO said Signal=5: ${JSON.stringify(info)}`);

  // Our digits, on the media path.
  const sentAt = Date.now();
  await phone.cmd('dtmf', { id, digits: '123#*' });
  const played = await poll(async () => {
    const s = await phone.stats(id);
    return s && s.dtmfSent === '123#*' ? s : null;
  }, { timeoutMs: 5000, intervalMs: 100 });
  assert.ok(played, 'the DTMF sender played 1 2 3 # *');
  phone.ext.note(`dtmfSent after ${Date.now() - sentAt} ms`);
  await sleep(500); // the last event's end packets
  const capture = await tap.stop();

  /** @type {Map<number, any[]>} RTP timestamp → the packets of one event */
  const byTs = new Map();
  for (const p of capture.packets.filter((x) => x.event !== undefined)) {
    if (!byTs.has(p.ts)) byTs.set(p.ts, []);
    /** @type {any[]} */ (byTs.get(p.ts)).push(p);
  }
  const events = [...byTs.values()].map((ps) => ({
    digit: ps[0].event,
    pt: ps[0].pt,
    packets: ps.length,
    startMarker: ps[0].m === true && ps[0].end === false,
    ends: ps.filter((p) => p.end).length,
    durationMs: Math.max(...ps.map((p) => p.duration)) / 8,
  }));
  phone.ext.note(`telephone-events at the trunk: ${JSON.stringify(events)}`);
  assert.equal(events.map((e) => e.digit).join(''), '123#*', 'the trunk received 1 2 3 # * in order');
  for (const e of events) {
    assert.equal(e.pt, 101, `${e.digit}: sent with the negotiated telephone-event payload type`);
    assert.ok(e.startMarker, `${e.digit}: the event starts with a marker packet (not end packets only): ${JSON.stringify(e)}`);
    assert.ok(e.ends >= 1, `${e.digit}: the event has end packets`);
    assert.ok(e.durationMs >= 60 && e.durationMs <= 200, `${e.digit}: lasts about 100 ms: ${e.durationMs} ms`);
  }

  // The trunk hangs up; its scenario (INFO answered 200, BYE answered 200) completed.
  const ended = await phone.waitCall(id, (c) => c.state === 'ended', { timeoutMs: 15000, what: 'the end of the call' });
  assert.equal(ended.call.endReason, 'remote-hangup');
  assert.equal(await sippExit(trunk, 10000), 0, `the trunk's scenario completes: ${trunk.output().slice(-1500)}`);
  assert.match(await sippMessages(trunk), /^SIP\/2\.0 200 OK[\s\S]*CSeq: 2 INFO/m, 'we answered its INFO with 200');
  const trace = await readTrace('md5');
  assert.ok(!trace.some((m) => m.tag === 'rcv' && m.method === 'INFO' && overWebSocket(m) && m.time >= sentAt),
    'in RFC 4733 mode no INFO goes out from us');
});
