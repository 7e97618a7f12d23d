// @ts-check
// The offscreen document's per-call media engine (docs/MEDIA.md), in real Chromium: a loopback
// call between two call ids inside the one document. The fake microphone plays a 440 Hz tone
// (generated with sox), so each side must HEAR 440 Hz from the other (WebAudio analyser on the
// played remote stream), and RTP counters must move or stop as hold/resume/mute say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchExtension, poll, sleep } from './harness.mjs';

const TONE_HZ = 440;
const TOLERANCE_HZ = 30;
/**
 * Packets that prove audio flows in a 1–1.5 s window. Nominal is 50 packets/s (20 ms Opus); on a
 * starved 2-core machine Chromium's fake capture slows down several times, so the bar is low —
 * still far from the 0–2 packets of a direction that does not send.
 */
const FLOWING = 10;

/** @param {number} hz */
const isTone = (hz) => Math.abs(hz - TONE_HZ) <= TOLERANCE_HZ;

/** @param {string} sdp */
const ufrag = (sdp) => (/^a=ice-ufrag:(\S+)/m.exec(sdp) || [])[1];

/** @param {string} sdp  the direction attribute of the (only) audio m-section */
const direction = (sdp) => (/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(sdp) || [])[1];

/**
 * A DevTools-protocol session on the offscreen document (Playwright does not list it as a page),
 * to look into it from outside: `call(method, params)` sends a command to the document.
 * @param {import('playwright-core').BrowserContext} ctx
 * @param {string} url  the offscreen document's URL
 */
async function attachToOffscreen(ctx, url) {
  const browser = ctx.browser();
  if (!browser) throw new Error('no browser behind the context');
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const target = targetInfos.find((t) => t.url === url);
  if (!target) throw new Error(`no target for ${url}`);
  // The old, non-flat protocol, as harness.mjs does: Playwright owns the flat sessions.
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
  let nextId = 1;
  /** @type {Map<number, (m: any) => void>} */
  const pending = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    if (e.sessionId !== sessionId) return;
    const m = JSON.parse(e.message);
    const resolve = m.id !== undefined && pending.get(m.id);
    if (resolve) {
      pending.delete(m.id);
      resolve(m);
    }
  });
  return {
    /**
     * @param {string} method
     * @param {object} [params]
     * @returns {Promise<any>}
     */
    call(method, params = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
        cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
      });
    },
    detach: () => cdp.detach().catch(() => {}),
  };
}

/**
 * Runs `fn` (source text of a function) with `this` = every MediaStreamTrack alive in the
 * document's heap (found by the DevTools protocol, not by the engine's own bookkeeping).
 * @param {{call: (method: string, params?: object) => Promise<any>}} doc
 * @param {string} fn
 */
async function withAllTracks(doc, fn) {
  const proto = await doc.call('Runtime.evaluate', { expression: 'MediaStreamTrack.prototype' });
  const found = await doc.call('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId });
  const r = await doc.call('Runtime.callFunctionOn', { objectId: found.objects.objectId, functionDeclaration: fn, returnByValue: true });
  return r.result.value;
}

test('offscreen media engine: loopback call, hold/resume, ICE restart, DTMF, mute, ringtone, close', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferrophone-tone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const wav = path.join(dir, 'tone440.wav');
  // 48 kHz mono 16-bit, 30 s (Chromium loops the file).
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '30', 'sine', String(TONE_HZ), 'vol', '0.5']);

  const ext = await launchExtension('offscreen-webrtc', { args: [`--use-file-for-fake-audio-capture=${wav}`] });
  t.after(() => ext.close());

  /** @type {Record<string, number>} */
  const timings = {};
  /**
   * Sends a request to the offscreen document from the options page.
   * @param {string} type
   * @param {object} [args]
   * @returns {Promise<any>}
   */
  const media = async (type, args = {}) => {
    const started = Date.now();
    const reply = await ext.send({ ferrophone: 1, target: 'offscreen', type, ...args });
    const ms = Date.now() - started;
    if (type !== 'media-stats' && type !== 'media-calls') {
      const shown = reply && reply.ok ? 'ok' : JSON.stringify(reply);
      ext.note(`${type} ${JSON.stringify({ ...args, sdp: undefined })} → ${shown} (${ms} ms)`);
    }
    return Object.assign(reply || {}, { ms });
  };
  /** @param {string} callId */
  const stats = (callId) => media('media-stats', { callId });
  /** @param {any} reply @param {string} what */
  const ok = (reply, what) => assert.equal(reply.ok, true, `${what}: ${JSON.stringify(reply)}`);

  // The options page records what the document tells the worker (media events are broadcast).
  const page = await ext.options();
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.mediaEvents = [];
    chrome.runtime.onMessage.addListener((m) => {
      if (m && m.cmd === 'media-event') w.mediaEvents.push({ callId: m.callId, event: m.event, detail: m.detail });
      return false;
    });
  });
  /** @returns {Promise<{callId: string, event: string, detail: any}[]>} */
  const mediaEvents = () => page.evaluate(() => /** @type {any} */ (window).mediaEvents);

  // The worker opens the document, as it will for a call.
  const worker = ext.worker();
  assert.ok(worker, 'the worker runs');
  const createStarted = Date.now();
  await worker.evaluate(() =>
    chrome.offscreen.createDocument({
      url: 'extension/offscreen.html',
      reasons: [chrome.offscreen.Reason.USER_MEDIA, chrome.offscreen.Reason.WEB_RTC, chrome.offscreen.Reason.AUDIO_PLAYBACK],
      justification: 'test',
    }),
  );
  const ready = await poll(async () => {
    const r = await media('media-calls').catch(() => null);
    return r && r.ok ? r : null;
  }, { timeoutMs: 5000 });
  assert.ok(ready, 'the offscreen document answers media-calls');
  timings.documentReadyMs = Date.now() - createStarted;
  assert.deepEqual(ready.calls, []);

  await t.test('mic-probe still works', async () => {
    const r = await media('mic-probe');
    ok(r, 'mic-probe');
    assert.equal(r.audioTracks, 1);
  });

  let answerA = '';
  /** the SDPs of the last completed offer/answer round of A and B */
  const last = { offer: '', answer: '' };
  await t.test('loopback call A → B connects and each side hears the other\'s 440 Hz', async () => {
    const offer = await media('media-offer', { callId: 'A', iceServers: [], gatheringTimeoutMs: 2000 });
    ok(offer, 'media-offer A');
    timings.offerMs = offer.ms;
    assert.match(offer.sdp, /^a=candidate:.* typ host/m, 'the offer carries its gathered candidates');
    assert.equal(direction(offer.sdp), 'sendrecv');
    assert.ok(offer.ms < 1800, `gathering finished before the 2 s cap (${offer.ms} ms)`);

    const answer = await media('media-answer', { callId: 'B', sdp: offer.sdp, iceServers: [], gatheringTimeoutMs: 2000 });
    ok(answer, 'media-answer B');
    timings.answerMs = answer.ms;
    assert.match(answer.sdp, /^a=candidate:/m);
    assert.equal(direction(answer.sdp), 'sendrecv');
    answerA = answer.sdp;
    Object.assign(last, { offer: offer.sdp, answer: answer.sdp });

    // 183 first (early media), then the final 200 with the same SDP.
    const connectStarted = Date.now();
    ok(await media('media-remote', { callId: 'A', sdp: answer.sdp, final: false }), 'media-remote A pranswer');
    const early = await poll(async () => {
      const s = await stats('A');
      return s.connectionState === 'connected' && s;
    }, { timeoutMs: 10000 });
    assert.ok(early, 'A connects on the provisional answer');
    timings.connectedMs = Date.now() - connectStarted;
    const earlyMedia = await poll(async () => isTone((await stats('A')).remotePeakHz), { timeoutMs: 10000, intervalMs: 100 });
    assert.ok(earlyMedia, `A hears early media before the final answer: ${JSON.stringify(await stats('A'))}`);
    timings.earlyAudioMs = Date.now() - connectStarted;
    ok(await media('media-remote', { callId: 'A', sdp: answer.sdp, final: true }), 'media-remote A final');

    const heard = await poll(async () => {
      const [a, b] = await Promise.all([stats('A'), stats('B')]);
      return a.connectionState === 'connected' && b.connectionState === 'connected' && isTone(a.remotePeakHz) && isTone(b.remotePeakHz) && { a, b };
    }, { timeoutMs: 10000, intervalMs: 250 });
    const [a, b] = heard ? [heard.a, heard.b] : await Promise.all([stats('A'), stats('B')]);
    ext.note(`stats A ${JSON.stringify(a)} B ${JSON.stringify(b)}`);
    assert.ok(heard, `both sides hear ${TONE_HZ} Hz: A ${a.remotePeakHz} Hz (${a.connectionState}), B ${b.remotePeakHz} Hz (${b.connectionState})`);
    timings.audioMs = Date.now() - connectStarted;
    assert.equal(a.iceState === 'connected' || a.iceState === 'completed', true, a.iceState);
    assert.ok(isTone(a.localPeakHz), `A's own microphone is the tone (${a.localPeakHz} Hz)`);
    assert.ok(a.remoteLevel > 0.01, `A's remote level ${a.remoteLevel}`);

    await sleep(1000);
    const [a2, b2] = await Promise.all([stats('A'), stats('B')]);
    assert.ok(a2.packetsReceived - a.packetsReceived >= FLOWING, `A receives: ${a.packetsReceived} → ${a2.packetsReceived}`);
    assert.ok(b2.packetsReceived - b.packetsReceived >= FLOWING, `B receives: ${b.packetsReceived} → ${b2.packetsReceived}`);
    assert.ok(b2.bytesReceived > b.bytesReceived);
    assert.equal(typeof a2.roundTripTime, 'number', 'roundTripTime is reported');

    const events = await poll(async () => {
      const e = await mediaEvents();
      return ['A', 'B'].every((id) => e.some((x) => x.callId === id && x.event === 'connected')) && e;
    });
    assert.ok(events, `the worker is told both calls connected: ${JSON.stringify(await mediaEvents())}`);

    const calls = await media('media-calls');
    assert.deepEqual(calls.calls.map((/** @type {any} */ c) => [c.callId, c.connectionState, c.tracks]), [['A', 'connected', 2], ['B', 'connected', 2]]);
    assert.equal(calls.liveMicrophoneTracks, 2, 'one microphone track per call');
    assert.equal(calls.audioElements, 2, 'one <audio> element per call');
  });

  /**
   * One re-offer round: A offers, B answers, A applies the answer.
   * @param {object} args  direction, iceRestart
   */
  const reoffer = async (args) => {
    const offer = await media('media-reoffer', { callId: 'A', gatheringTimeoutMs: 2000, ...args });
    ok(offer, `media-reoffer ${JSON.stringify(args)}`);
    const answer = await media('media-answer', { callId: 'B', sdp: offer.sdp, iceServers: [], gatheringTimeoutMs: 2000 });
    ok(answer, 'media-answer B (re-offer)');
    ok(await media('media-remote', { callId: 'A', sdp: answer.sdp, final: true }), 'media-remote A (re-offer)');
    Object.assign(last, { offer: offer.sdp, answer: answer.sdp });
    return { offer, answer };
  };
  /** The same exchange the other way: B offers, A answers. @param {any} args */
  const reofferFromB = async (args) => {
    const offer = await media('media-reoffer', { callId: 'B', gatheringTimeoutMs: 2000, ...args });
    ok(offer, `media-reoffer B ${JSON.stringify(args)}`);
    const answer = await media('media-answer', { callId: 'A', sdp: offer.sdp, iceServers: [], gatheringTimeoutMs: 2000 });
    ok(answer, 'media-answer A (re-offer from B)');
    ok(await media('media-remote', { callId: 'B', sdp: answer.sdp, final: true }), 'media-remote B (re-offer)');
    return { offer, answer };
  };
  /** Packets received by A and B during `ms`. @param {number} ms */
  const flow = async (ms) => {
    const [a, b] = await Promise.all([stats('A'), stats('B')]);
    await sleep(ms);
    const [a2, b2] = await Promise.all([stats('A'), stats('B')]);
    return { a: a2.packetsReceived - a.packetsReceived, b: b2.packetsReceived - b.packetsReceived, aStats: a2, bStats: b2 };
  };

  await t.test('hold (A sendonly): B receives silence, A receives nothing; resume: both again', async () => {
    const held = await reoffer({ direction: 'sendonly' });
    assert.equal(direction(held.offer.sdp), 'sendonly');
    assert.equal(direction(held.answer.sdp), 'recvonly');
    await sleep(300); // packets in flight
    const f = await flow(1500);
    ext.note(`on hold: A received ${f.a}, B received ${f.b}`);
    assert.ok(f.b >= FLOWING, `B still receives A's RTP while held (${f.b} packets in 1.5 s)`);
    assert.ok(f.a <= 2, `A receives nothing while it holds (${f.a} packets in 1.5 s)`);
    const bSilent = await poll(async () => (await stats('B')).remotePeakHz === 0, { timeoutMs: 3000 });
    assert.ok(bSilent, 'B hears silence: the holder does not send its microphone to the held party');
    const silent = await poll(async () => (await stats('A')).remotePeakHz === 0, { timeoutMs: 3000 });
    assert.ok(silent, 'A hears silence while holding');

    const resumed = await reoffer({ direction: 'sendrecv' });
    assert.equal(direction(resumed.offer.sdp), 'sendrecv');
    assert.equal(direction(resumed.answer.sdp), 'sendrecv');
    await sleep(300);
    const g = await flow(1000);
    assert.ok(g.a >= FLOWING && g.b >= FLOWING, `both receive after resume (A ${g.a}, B ${g.b})`);
    const back = await poll(async () => isTone((await stats('A')).remotePeakHz), { timeoutMs: 3000 });
    assert.ok(back, 'A hears the tone again');
    const bBack = await poll(async () => isTone((await stats('B')).remotePeakHz), { timeoutMs: 3000 });
    assert.ok(bBack, 'B hears the tone again');
  });

  await t.test('both sides hold: the session is inactive; each resume restores its own direction', async () => {
    const bHolds = await reofferFromB({ direction: 'sendonly' });
    assert.deepEqual([direction(bHolds.offer.sdp), direction(bHolds.answer.sdp)], ['sendonly', 'recvonly'], 'B holds A');
    const aHolds = await reoffer({ direction: 'sendonly' });
    assert.deepEqual([direction(aHolds.offer.sdp), direction(aHolds.answer.sdp)], ['sendonly', 'inactive'], 'A holds too: B answers inactive');
    await sleep(300);
    const f = await flow(1500);
    ext.note(`both held: A received ${f.a}, B received ${f.b}`);
    assert.ok(f.a <= 2 && f.b <= 2, `no media either way while both hold (A ${f.a}, B ${f.b})`);
    const bResumes = await reofferFromB({ direction: 'sendrecv' });
    assert.deepEqual([direction(bResumes.offer.sdp), direction(bResumes.answer.sdp)], ['sendrecv', 'sendonly'], 'B resumes; A still holds');
    const aResumes = await reoffer({ direction: 'sendrecv' });
    assert.deepEqual([direction(aResumes.offer.sdp), direction(aResumes.answer.sdp)], ['sendrecv', 'sendrecv'], 'A resumes too');
    await sleep(300);
    const g = await flow(1000);
    assert.ok(g.a >= FLOWING && g.b >= FLOWING, `both receive again (A ${g.a}, B ${g.b})`);
    const tones = await poll(async () => isTone((await stats('A')).remotePeakHz) && isTone((await stats('B')).remotePeakHz), { timeoutMs: 3000 });
    assert.ok(tones, 'each hears the other\'s tone again');
  });

  await t.test('ICE restart keeps the call up with new credentials', async () => {
    const before = last.offer;
    const r = await reoffer({ direction: 'sendrecv', iceRestart: true });
    timings.iceRestartOfferMs = r.offer.ms;
    assert.notEqual(ufrag(r.offer.sdp), ufrag(before), 'new ICE ufrag in the offer');
    assert.match(r.offer.sdp, /^a=candidate:/m, 'the restarted offer carries new candidates');
    assert.ok(r.offer.ms < 1800, `restart gathering completed early (${r.offer.ms} ms)`);
    await sleep(500);
    const f = await flow(1000);
    assert.equal(f.aStats.connectionState, 'connected');
    assert.ok(f.a >= FLOWING && f.b >= FLOWING, `audio flows after the restart (A ${f.a}, B ${f.b})`);
    assert.ok(isTone(f.aStats.remotePeakHz) && isTone(f.bStats.remotePeakHz), `both hear the tone after the restart (A ${f.aStats.remotePeakHz} Hz, B ${f.bStats.remotePeakHz} Hz)`);
  });

  await t.test('glare: a pending re-offer is rolled back and the direction restored', async () => {
    // 491 on our hold: the rollback must leave a call that sounds exactly as before (Chromium
    // alone would keep the playout off after rolling back a sendonly/inactive offer).
    for (const dir of ['sendonly', 'inactive']) {
      const pending = await media('media-reoffer', { callId: 'A', direction: dir, gatheringTimeoutMs: 2000 });
      ok(pending, 'media-reoffer');
      let calls = await media('media-calls');
      assert.deepEqual(calls.calls.find((/** @type {any} */ c) => c.callId === 'A'), { callId: 'A', connectionState: 'connected', signalingState: 'have-local-offer', direction: dir, tracks: 2 });
      ok(await media('media-rollback', { callId: 'A' }), 'media-rollback');
      calls = await media('media-calls');
      const a = calls.calls.find((/** @type {any} */ c) => c.callId === 'A');
      assert.equal(a.signalingState, 'stable');
      assert.equal(a.direction, 'sendrecv');
      await sleep(700); // the analyser window holds the last ~0.7 s
      const f = await flow(1000);
      assert.ok(f.a >= FLOWING && f.b >= FLOWING, `audio still flows both ways after rolling back ${dir} (A ${f.a}, B ${f.b})`);
      assert.ok(isTone(f.aStats.remotePeakHz) && isTone(f.bStats.remotePeakHz), `both still hear the tone after rolling back ${dir} (A ${f.aStats.remotePeakHz} Hz, B ${f.bStats.remotePeakHz} Hz)`);
    }
    ok(await media('media-rollback', { callId: 'A' }), 'a rollback with nothing pending is harmless');

    // Glare resolved the other way: A's pending hold is dropped for B's offer (implicit rollback).
    ok(await media('media-reoffer', { callId: 'A', direction: 'sendonly', gatheringTimeoutMs: 2000 }), 'A offers hold');
    const offerB = await media('media-reoffer', { callId: 'B', direction: 'sendrecv', gatheringTimeoutMs: 2000 });
    ok(offerB, 'B offers');
    const answerOfA = await media('media-answer', { callId: 'A', sdp: offerB.sdp, iceServers: [], gatheringTimeoutMs: 2000 });
    ok(answerOfA, 'A answers B despite its own pending offer');
    assert.equal(direction(answerOfA.sdp), 'sendrecv', 'A\'s withdrawn hold does not leak into its answer');
    ok(await media('media-remote', { callId: 'B', sdp: answerOfA.sdp, final: true }), 'B applies the answer');
    await sleep(700);
    const f = await flow(1000);
    assert.ok(f.a >= FLOWING && f.b >= FLOWING, `audio flows both ways (A ${f.a}, B ${f.b})`);
    assert.ok(isTone(f.aStats.remotePeakHz) && isTone(f.bStats.remotePeakHz), `both hear the tone (A ${f.aStats.remotePeakHz} Hz, B ${f.bStats.remotePeakHz} Hz)`);
  });

  await t.test('answers: a retransmitted final answer is accepted, a different one (fork) is refused', async () => {
    // A fresh round where A offers, so A holds a final answer.
    const r = await reoffer({ direction: 'sendrecv' });
    const calls = await media('media-calls');
    assert.equal(calls.calls.find((/** @type {any} */ c) => c.callId === 'A').signalingState, 'stable');
    // A retransmitted 200 OK carries the answer A applied last.
    ok(await media('media-remote', { callId: 'A', sdp: r.answer.sdp, final: true }), 'the same answer again');
    // A 200 OK from another fork carries a different answer: it cannot replace the current one.
    const forked = await media('media-remote', { callId: 'A', sdp: answerA.replace(/^o=(\S+) (\d+)/m, 'o=$1 1$2'), final: true });
    assert.equal(forked.ok, false);
    assert.equal(forked.error.code, 'bad-sdp');
    const unknown = await media('media-remote', { callId: 'nope', sdp: answerA, final: true });
    assert.equal(unknown.error.code, 'no-such-call');
  });

  await t.test('DTMF goes out on the media path', async () => {
    ok(await media('media-dtmf', { callId: 'A', digits: '1234#', durationMs: 80, gapMs: 50 }), 'media-dtmf A');
    const sent = await poll(async () => (await stats('A')).dtmfSent === '1234#', { timeoutMs: 5000 });
    assert.ok(sent, `A's DTMF sender played 1234# (got ${JSON.stringify((await stats('A')).dtmfSent)})`);
    ok(await media('media-dtmf', { callId: 'B', digits: '*0' }), 'media-dtmf B');
    const bad = await media('media-dtmf', { callId: 'A', digits: 'x' });
    assert.equal(bad.error.code, 'bad-request');
  });

  await t.test('mute: the other side hears silence; unmute: the tone again', async () => {
    ok(await media('media-mute', { callId: 'A', muted: true }), 'media-mute A');
    const silent = await poll(async () => {
      const b = await stats('B');
      return b.remotePeakHz === 0 && b.remoteLevel < 0.001 && b;
    }, { timeoutMs: 5000, intervalMs: 200 });
    assert.ok(silent, `B hears silence while A is muted: ${JSON.stringify(await stats('B'))}`);
    const a = await stats('A');
    assert.equal(a.localPeakHz, 0, 'A sends silence');
    const f = await flow(1000);
    assert.ok(f.b >= FLOWING, `RTP still flows while muted (${f.b})`);
    const aHears = await stats('A');
    assert.ok(isTone(aHears.remotePeakHz), `A still hears B: ${JSON.stringify(aHears)} B: ${JSON.stringify(f.bStats)}`);
    ok(await media('media-mute', { callId: 'A', muted: false }), 'unmute A');
    const back = await poll(async () => isTone((await stats('B')).remotePeakHz), { timeoutMs: 10000, intervalMs: 200 });
    assert.ok(back, `B hears A again: B ${JSON.stringify(await stats('B'))} A ${JSON.stringify(await stats('A'))}`);
  });

  await t.test('garbage SDP is refused with bad-sdp and the document keeps working', async () => {
    const r = await media('media-answer', { callId: 'G', sdp: 'this is not sdp', iceServers: [] });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'bad-sdp');
    assert.ok(r.error.message.length > 0, 'the browser says why');
    // A garbage answer to a pending re-offer: refused by the browser's parser; rollback recovers.
    ok(await media('media-reoffer', { callId: 'A', direction: 'sendrecv', gatheringTimeoutMs: 2000 }), 'media-reoffer');
    const r2 = await media('media-remote', { callId: 'A', sdp: 'v=0\r\nnonsense\r\n', final: true });
    assert.equal(r2.ok, false);
    assert.equal(r2.error.code, 'bad-sdp');
    assert.match(r2.error.message, /setRemoteDescription|SessionDescription/, 'the browser\'s own message');
    ok(await media('media-rollback', { callId: 'A' }), 'media-rollback after the bad answer');
    const calls = await media('media-calls');
    assert.deepEqual(calls.calls.map((/** @type {any} */ c) => c.callId), ['A', 'B'], 'the failed call is forgotten');
    assert.equal(calls.liveMicrophoneTracks, 2, 'the failed call left no microphone open');
    const f = await flow(1000);
    assert.ok(f.a >= FLOWING && f.b >= FLOWING, 'the calls are unaffected');
    assert.equal((await media('media-nonsense')).error.code, 'unknown-type');
    assert.equal((await media('media-stats', {})).error.code, 'bad-request');
  });

  await t.test('ringtone: one at most, stops when no call rings; the call-waiting tone during a conversation', async () => {
    ok(await media('ring-start', { callId: 'R1' }), 'ring-start R1');
    ok(await media('ring-start', { callId: 'R2' }), 'ring-start R2');
    let calls = await media('media-calls');
    assert.deepEqual([calls.ringing, calls.ringtone, calls.audioContext], [['R1', 'R2'], true, 'running']);
    assert.equal(calls.ringtoneKind, 'waiting', 'calls A and B are in conversation: the call-waiting tone, not the ringtone');
    ok(await media('ring-stop', { callId: 'R1' }), 'ring-stop R1');
    calls = await media('media-calls');
    assert.deepEqual([calls.ringing, calls.ringtone], [['R2'], true]);
    ok(await media('media-close', { callId: 'R2' }), 'media-close of a call that only rang');
    calls = await media('media-calls');
    assert.deepEqual([calls.ringing, calls.ringtone], [[], false]);
  });

  await t.test('gathering is capped by gatheringTimeoutMs (a STUN server that never answers)', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise((resolve) => silent.bind(0, '127.0.0.1', () => resolve(undefined)));
    let requests = 0;
    silent.on('message', () => (requests += 1));
    try {
      const port = silent.address().port;
      const r = await media('media-offer', { callId: 'S', iceServers: [{ urls: `stun:127.0.0.1:${port}` }], gatheringTimeoutMs: 700 });
      ok(r, 'media-offer S');
      timings.offerWithSilentStunMs = r.ms;
      assert.ok(requests > 0, 'the configured STUN server was asked');
      assert.ok(r.ms >= 650 && r.ms < 1500, `the reply came at the cap, not before or long after (${r.ms} ms)`);
      assert.match(r.sdp, /^a=candidate:.* typ host/m, 'the host candidates gathered so far are in the offer');
    } finally {
      silent.close();
      ok(await media('media-close', { callId: 'S' }), 'media-close S');
    }
  });

  await t.test('an unexpected end of the microphone is reported to the worker', async () => {
    const doc = await attachToOffscreen(ext.ctx, ext.url('extension/offscreen.html'));
    try {
      // A real device cannot be unplugged here: fire the event the browser fires then.
      const fired = await withAllTracks(doc, `function () {
        const mics = this.filter((t) => t.readyState === 'live' && t.label === 'Fake Default Audio Input');
        for (const t of mics) t.dispatchEvent(new Event('ended'));
        return mics.length;
      }`);
      assert.equal(fired, 2, 'two microphone tracks are live (A and B)');
      const events = await poll(async () => {
        const e = (await mediaEvents()).filter((x) => x.event === 'track-ended');
        return e.length === 2 && e;
      });
      assert.ok(events, `track-ended for A and B: ${JSON.stringify(await mediaEvents())}`);
      assert.deepEqual(events.map((e) => e.callId).sort(), ['A', 'B']);
      assert.equal(events[0].detail.reason, 'microphone-ended');
    } finally {
      await doc.detach();
    }
  });

  await t.test('close releases everything: no call, no live track, no <audio>', async () => {
    const eventsBefore = (await mediaEvents()).length;
    ok(await media('ring-start', { callId: 'R3' }), 'ring-start R3 while A and B talk');
    assert.equal((await media('media-calls')).ringtoneKind, 'waiting');
    ok(await media('media-close', { callId: 'A' }), 'media-close A');
    ok(await media('media-close', { callId: 'B' }), 'media-close B');
    ok(await media('media-close', { callId: 'B' }), 'media-close is idempotent');
    assert.equal((await media('media-calls')).ringtoneKind, 'ring', 'no conversation left: R3 now rings with the full ringtone');
    ok(await media('ring-stop', { callId: 'R3' }), 'ring-stop R3');
    const calls = await media('media-calls');
    assert.deepEqual(calls.calls, []);
    assert.equal(calls.liveMicrophoneTracks, 0, 'no microphone track is live');
    assert.equal(calls.liveRemoteTracks, 0, 'no remote track is live');
    assert.equal(calls.audioElements, 0);
    assert.equal((await media('media-stats', { callId: 'A' })).error.code, 'no-such-call');
    await sleep(500);
    const events = (await mediaEvents()).slice(eventsBefore);
    assert.deepEqual(events, [], 'closing sends no event (no failure, no track-ended)');

    // A call closed while its offer is being prepared: the offer is answered (no-such-call) at
    // once and nothing stays open — whether the close lands during getUserMedia, the SDP
    // operations (a closed RTCPeerConnection never settles them) or the ICE gathering.
    /** @param {Promise<any>} reply @param {number} ms */
    const within = (reply, ms) =>
      Promise.race([reply, sleep(ms).then(() => ({ ok: false, error: { code: 'no-reply', message: `no reply within ${ms} ms` } }))]);
    for (const delayMs of [0, 5, 20, 60]) {
      const pending = media('media-offer', { callId: 'C', iceServers: [], gatheringTimeoutMs: 2000 });
      await sleep(delayMs);
      ok(await media('media-close', { callId: 'C' }), 'media-close C during its offer');
      const r = await within(pending, 3000);
      ext.note(`offer of a call closed after ${delayMs} ms: ${JSON.stringify(r)}`);
      assert.ok(r.ok || r.error.code === 'no-such-call', `the offer is answered: ${JSON.stringify(r)}`);
      ok(await media('media-close', { callId: 'C' }), 'media-close C');
    }
    const silent = dgram.createSocket('udp4');
    await new Promise((resolve) => silent.bind(0, '127.0.0.1', () => resolve(undefined)));
    try {
      const pending = media('media-offer', { callId: 'D', iceServers: [{ urls: `stun:127.0.0.1:${silent.address().port}` }], gatheringTimeoutMs: 10000 });
      await poll(async () => (await media('media-calls')).calls.some((/** @type {any} */ c) => c.callId === 'D' && c.signalingState === 'have-local-offer'));
      const closedAt = Date.now();
      ok(await media('media-close', { callId: 'D' }), 'media-close D while it gathers');
      const r = await within(pending, 3000);
      assert.equal(r.ok, false);
      assert.equal(r.error.code, 'no-such-call', JSON.stringify(r));
      assert.ok(Date.now() - closedAt < 1000, `answered at once, not after the 10 s cap (${Date.now() - closedAt} ms)`);
    } finally {
      silent.close();
    }
    const after = await poll(async () => {
      const c = await media('media-calls');
      return c.calls.length === 0 && c.liveMicrophoneTracks === 0 && c;
    });
    assert.ok(after, `nothing remains of C and D: ${JSON.stringify(await media('media-calls'))}`);

    // Seen from outside, in the document's heap: not one MediaStreamTrack is live.
    const doc = await attachToOffscreen(ext.ctx, ext.url('extension/offscreen.html'));
    try {
      const live = await withAllTracks(doc, 'function () { return this.filter((t) => t.readyState === "live").map((t) => `${t.kind} ${t.label}`); }');
      ext.note(`live MediaStreamTracks in the offscreen heap: ${JSON.stringify(live)}`);
      // (The same query found the two live microphone tracks in the track-ended step.)
      assert.deepEqual(live, [], 'no live MediaStreamTrack remains in the offscreen document');
    } finally {
      await doc.detach();
    }
  });

  ext.note(`timings ${JSON.stringify(timings)}`);
  t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
});
