// @ts-check
// The per-call media engine: one RTCPeerConnection, one microphone track and one <audio> element
// per call id. The contract (message names, shapes, error codes) is docs/MEDIA.md.
//
// Rules kept here:
// - every handler replies, with a result or an OffscreenError (never an escaped exception);
// - SDP operations of one call run one after the other (a per-call queue), while `media-close`
//   acts at once: an operation still running notices the call is gone and releases what it
//   acquired (a microphone opened for a call that was closed meanwhile is stopped at once);
// - closing stops every track the call holds and forgets the call even if something throws.

import { OffscreenError, describe, log, warn } from './util.js';
import {
  Meter,
  audioContextState,
  closeAudioContext,
  ringtoneKind,
  ringtonePlaying,
  ringtoneStart,
  ringtoneStop,
  zipTone,
  zipTonesPlayed,
} from './audio.js';

const DEFAULT_GATHERING_TIMEOUT_MS = 2000;
const MAX_GATHERING_TIMEOUT_MS = 60000;
const DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
const MIC_CONSTRAINTS = { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } };

class Call {
  /**
   * @param {string} callId
   * @param {RTCPeerConnection} pc
   */
  constructor(callId, pc) {
    this.callId = callId;
    this.pc = pc;
    /** @type {MediaStream | null} the microphone stream opened for this call */
    this.stream = null;
    /** @type {MediaStreamTrack | null} */
    this.micTrack = null;
    /** @type {RTCRtpTransceiver | null} the audio transceiver that carries our microphone */
    this.transceiver = null;
    /** @type {MediaStreamTrack | null} the remote track being played */
    this.remoteTrack = null;
    /** @type {HTMLAudioElement | null} */
    this.audio = null;
    /** @type {Meter | null} */
    this.remoteMeter = null;
    /** @type {Meter | null} */
    this.localMeter = null;
    this.muted = false;
    /** The SDP was made without the microphone (delayed automatic answer): `media-microphone` opens it. */
    this.micDeferred = false;
    this.closed = false;
    /** @type {Promise<unknown>} the tail of this call's SDP operation queue */
    this.queue = Promise.resolve();
    /** @type {Set<() => void>} wakes waits (ICE gathering) when the call is closed */
    this.onClose = new Set();
    /** @type {RTCRtpTransceiverDirection | null} direction before our pending re-offer (rollback restores it) */
    this.directionBeforeOffer = null;
    /** @type {string | null} the last answer (raw SDP) applied to our offer */
    this.appliedAnswer = null;
    /** tones the DTMF sender has played, in order (the most recent 64) */
    this.dtmfSent = '';
    this.lastConnectionState = pc.connectionState;
    /** @type {(e: Error) => void} */
    let signal = () => {};
    /** Rejects when the call is closed: every browser operation of the call races it. */
    this.whenClosed = /** @type {Promise<never>} */ (new Promise((_, reject) => (signal = reject)));
    this.whenClosed.catch(() => {});
    this.signalClosed = signal;
  }

  /** Live tracks held by this call: the microphone and the remote audio. */
  liveTracks() {
    const tracks = new Set();
    if (this.stream) for (const t of this.stream.getTracks()) tracks.add(t);
    if (this.micTrack) tracks.add(this.micTrack);
    if (!this.closed) {
      for (const t of this.pc.getTransceivers()) {
        if (t.sender.track) tracks.add(t.sender.track);
        tracks.add(t.receiver.track);
      }
    }
    if (this.remoteTrack) tracks.add(this.remoteTrack);
    return [...tracks].filter((t) => t.readyState === 'live').length;
  }
}

/** @type {Map<string, Call>} */
const calls = new Map();
/** @type {Set<string>} call ids that want the ringtone */
const ringing = new Set();
/** Every track this document has obtained or received, to prove none stays live. */
const allMicTracks = new Set();
const allRemoteTracks = new Set();

// --- requests -----------------------------------------------------------------------------------

/** @param {any} m */
function callIdOf(m) {
  const id = m.callId;
  if (typeof id !== 'string' || id === '') throw new OffscreenError('bad-request', `${m.type}: callId must be a non-empty string`);
  return id;
}

/** @param {any} m */
function callOf(m) {
  const id = callIdOf(m);
  const call = calls.get(id);
  if (!call) throw new OffscreenError('no-such-call', `${m.type}: no media for call ${id}`);
  return call;
}

/** @param {any} m */
function sdpOf(m) {
  if (typeof m.sdp !== 'string' || m.sdp.trim() === '') throw new OffscreenError('bad-sdp', `${m.type}: sdp must be a non-empty string`);
  return m.sdp;
}

/** @param {any} m */
function gatheringTimeoutOf(m) {
  const t = m.gatheringTimeoutMs;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) return DEFAULT_GATHERING_TIMEOUT_MS;
  return Math.min(t, MAX_GATHERING_TIMEOUT_MS);
}

/** @param {any} m @returns {RTCIceServer[]} */
function iceServersOf(m) {
  if (m.iceServers === undefined || m.iceServers === null) return [];
  if (!Array.isArray(m.iceServers)) throw new OffscreenError('bad-request', `${m.type}: iceServers must be an array`);
  return m.iceServers;
}

/**
 * The ICE servers for a new call. A TURN password never travels in a media request (every page of
 * the extension receives runtime messages): when the request says `iceCredentials: true`, the
 * full list comes from the worker's reply to `ice-servers`, which only this document receives.
 * @param {any} m
 * @returns {Promise<RTCIceServer[]>}
 */
async function iceServersFor(m) {
  const servers = iceServersOf(m);
  if (m.iceCredentials !== true) return servers;
  /** @type {any} */
  let reply;
  try {
    /** @type {import('../schema.js').Command} */
    const request = { ferrophone: 1, cmd: 'ice-servers' };
    reply = await chrome.runtime.sendMessage(request);
  } catch (e) {
    throw new OffscreenError('internal', `cannot get the TURN credentials from the worker: ${describe(e)}`);
  }
  if (!reply || reply.ok !== true || !Array.isArray(reply.iceServers)) {
    throw new OffscreenError('internal', 'the worker did not send the ICE servers');
  }
  return reply.iceServers;
}

/** @param {Call} call */
function closedError(call) {
  return new OffscreenError('no-such-call', `call ${call.callId} was closed meanwhile`);
}

/**
 * Waits for a browser operation of the call, or fails with `no-such-call` as soon as the call is
 * closed: a closed RTCPeerConnection never settles the promises of operations still running, so
 * without this a request overtaken by `media-close` would never be answered.
 * @template T
 * @param {Call} call
 * @param {Promise<T>} operation
 * @returns {Promise<T>}
 */
function guard(call, operation) {
  if (call.closed) {
    operation.catch(() => {});
    return Promise.reject(closedError(call));
  }
  return Promise.race([operation, call.whenClosed]);
}

/**
 * Runs `work` after the call's previous SDP operations.
 * @template T
 * @param {Call} call
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
function enqueue(call, work) {
  const run = call.queue.then(() => {
    if (call.closed) throw closedError(call);
    return work();
  });
  call.queue = run.catch(() => {});
  return run;
}

// --- notifications to the worker --------------------------------------------------------------

/**
 * Fire and forget: the worker may be asleep or not listen; nothing here depends on it.
 * @param {string} callId
 * @param {import('../schema.js').MediaEventKind} event
 * @param {import('../schema.js').MediaEventDetail} detail
 */
function notify(callId, event, detail) {
  log(`event ${event} for call ${callId}`, JSON.stringify(detail));
  /** @type {import('../schema.js').MediaEventCommand} */
  const message = { ferrophone: 1, cmd: 'media-event', callId, event, detail };
  try {
    chrome.runtime
      .sendMessage(message)
      .catch((e) => warn(`media-event ${event} for ${callId} not delivered: ${describe(e)}`));
  } catch (e) {
    warn(`media-event ${event} for ${callId} not sent: ${describe(e)}`);
  }
}

// --- building blocks ------------------------------------------------------------------------------

/**
 * @param {string} callId
 * @param {RTCIceServer[]} iceServers
 */
function createCall(callId, iceServers) {
  /** @type {RTCPeerConnection} */
  let pc;
  try {
    // 'balanced', not 'max-bundle': there is one audio section, so BUNDLE gains nothing, and SIP
    // media gateways (rtpengine, Asterisk, FreeSWITCH) often answer without a BUNDLE group, which
    // Chrome refuses under 'max-bundle' ("Answer cannot remove m= section ... from BUNDLE group").
    pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'balanced', rtcpMuxPolicy: 'require' });
  } catch (e) {
    throw new OffscreenError('bad-request', `cannot create the peer connection: ${describe(e)}`);
  }
  const call = new Call(callId, pc);
  calls.set(callId, call);
  pc.addEventListener('connectionstatechange', () => {
    if (call.closed) return;
    const state = pc.connectionState;
    if (state === call.lastConnectionState) return;
    call.lastConnectionState = state;
    log(`call ${callId}: connection ${state} (ice ${pc.iceConnectionState})`);
    if (state === 'connected') notify(callId, 'connected', { iceState: pc.iceConnectionState });
    else if (state === 'failed') {
      const ice = pc.iceConnectionState === 'failed';
      notify(callId, 'failed', {
        reason: ice ? 'ice-failed' : 'dtls-failed',
        message: ice ? 'no ICE candidate pair works (network, firewall, TURN?)' : 'the DTLS handshake failed or was closed',
        iceState: pc.iceConnectionState,
      });
    }
  });
  pc.addEventListener('track', (e) => {
    if (call.closed || e.track.kind !== 'audio') return;
    if (call.transceiver && e.transceiver !== call.transceiver) return;
    playRemote(call, e.track);
  });
  log(`call ${callId}: peer connection created (${iceServers.length} ICE server(s))`);
  return call;
}

/** Opens the microphone for the call (one getUserMedia per call). @param {Call} call */
async function openMicrophone(call) {
  /** @type {MediaStream} */
  let stream;
  // The epoch time is logged so tests can compare it with the 200 OK on the wire (PRIVACY.md:
  // the microphone opens only when a call is answered or dialled).
  log(`call ${call.callId}: getUserMedia requested at ${Date.now()}`);
  const request = navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
  // A microphone that arrives after the call was closed is released at once.
  request.then(
    (s) => {
      if (call.closed && call.stream !== s) s.getTracks().forEach((t) => t.stop());
    },
    () => {},
  );
  try {
    stream = await guard(call, request);
  } catch (e) {
    if (e instanceof OffscreenError) throw e;
    throw new OffscreenError('microphone-unavailable', describe(e));
  }
  const stopAll = () => stream.getTracks().forEach((t) => t.stop());
  if (call.closed) {
    stopAll();
    throw closedError(call);
  }
  const [track] = stream.getAudioTracks();
  if (!track) {
    stopAll();
    throw new OffscreenError('microphone-unavailable', 'getUserMedia returned no audio track');
  }
  call.stream = stream;
  call.micTrack = track;
  applyMicrophone(call);
  for (const t of stream.getTracks()) allMicTracks.add(t);
  track.addEventListener('ended', () => {
    if (call.closed) return;
    warn(`call ${call.callId}: microphone track ended unexpectedly`);
    notify(call.callId, 'track-ended', { reason: 'microphone-ended', label: track.label });
  });
  try {
    call.localMeter = new Meter(track);
  } catch (e) {
    warn(`call ${call.callId}: no local meter: ${describe(e)}`);
  }
  log(`call ${call.callId}: microphone open (${track.label})`);
}

/**
 * Whether the far end hears our microphone: not when the user muted the call, and not while we
 * hold it (our offer says `sendonly` or `inactive`: Chromium would otherwise keep sending the
 * microphone to the held party). Either way the track stays in place and sends silence, so RTP
 * keeps flowing (NAT bindings and the relay's media timeout stay alive).
 * @param {Call} call
 */
function applyMicrophone(call) {
  const t = call.transceiver;
  const holding = Boolean(t && !isStopped(t) && (t.direction === 'sendonly' || t.direction === 'inactive'));
  const enabled = !call.muted && !holding;
  if (call.micTrack) call.micTrack.enabled = enabled;
  const sent = t && t.sender.track;
  if (sent) sent.enabled = enabled;
}

/**
 * Makes `transceiver` the call's audio transceiver, sending our microphone.
 * @param {Call} call
 * @param {RTCRtpTransceiver} transceiver
 */
async function useTransceiver(call, transceiver) {
  if (call.transceiver === transceiver) return;
  call.transceiver = transceiver;
  if (call.micTrack && transceiver.sender.track !== call.micTrack) {
    await guard(call, transceiver.sender.replaceTrack(call.micTrack));
    if (call.stream) transceiver.sender.setStreams(call.stream);
  }
  if (transceiver.direction === 'recvonly' || transceiver.direction === 'inactive') transceiver.direction = 'sendrecv';
  applyMicrophone(call);
  const dtmf = transceiver.sender.dtmf;
  if (dtmf) {
    dtmf.addEventListener('tonechange', (e) => {
      const tone = /** @type {RTCDTMFToneChangeEvent} */ (e).tone;
      if (tone) call.dtmfSent = (call.dtmfSent + tone).slice(-64);
    });
  }
  playRemote(call, transceiver.receiver.track);
}

/**
 * Plays the remote track in an <audio> element (the remote audio is silent unless played) and
 * measures it with an analyser.
 * @param {Call} call
 * @param {MediaStreamTrack} track
 */
function playRemote(call, track) {
  if (call.remoteTrack === track) return;
  call.remoteTrack = track;
  allRemoteTracks.add(track);
  if (!call.audio) {
    call.audio = document.createElement('audio');
    call.audio.autoplay = true;
    call.audio.dataset.callId = call.callId;
    document.body.append(call.audio);
  }
  call.audio.srcObject = new MediaStream([track]);
  const audio = call.audio;
  audio.play().catch((e) => {
    if (!call.closed) warn(`call ${call.callId}: remote audio does not play: ${describe(e)}`);
  });
  if (call.remoteMeter) call.remoteMeter.disconnect();
  try {
    call.remoteMeter = new Meter(track);
  } catch (e) {
    call.remoteMeter = null;
    warn(`call ${call.callId}: no remote meter: ${describe(e)}`);
  }
}

/**
 * After a remote offer: refuses what an audio phone does not take (video, extra audio streams)
 * and attaches our microphone to the offered audio stream.
 * @param {Call} call
 */
async function adoptOfferedTransceivers(call) {
  const live = call.pc.getTransceivers().filter((t) => !isStopped(t) && t.mid !== null);
  let audio = call.transceiver && live.includes(call.transceiver) ? call.transceiver : null;
  for (const t of live) {
    if (t === audio) continue;
    if (t.receiver.track.kind === 'audio' && !audio) {
      audio = t;
      continue;
    }
    if (t.receiver.track.kind !== 'audio') {
      try {
        t.stop(); // the answer rejects it (port 0)
      } catch (e) {
        warn(`call ${call.callId}: cannot reject a ${t.receiver.track.kind} stream: ${describe(e)}`);
      }
    } else if (t.direction !== 'inactive') {
      t.direction = 'inactive'; // a second audio stream: accepted, unused
    }
  }
  if (!audio) throw new OffscreenError('bad-sdp', 'the offer has no usable audio stream');
  await useTransceiver(call, audio);
}

/** @param {RTCRtpTransceiver} t */
function isStopped(t) {
  return t.currentDirection === 'stopped' || /** @type {any} */ (t).stopped === true;
}

/** @param {string | undefined} sdp */
function iceUfrag(sdp) {
  const m = sdp ? /^a=ice-ufrag:(\S+)/m.exec(sdp) : null;
  return m ? m[1] : null;
}

/**
 * setLocalDescription, then waits until ICE gathering is complete (or a null candidate) or
 * `timeoutMs` passes. A gathering that started anew (first description, ICE restart) must report
 * its own completion; an unchanged one that is already complete returns at once.
 * @param {Call} call
 * @param {RTCSessionDescriptionInit} description
 * @param {number} timeoutMs
 * @returns {Promise<{gathering: 'complete' | 'timeout', ms: number}>}
 */
async function setLocalAndGather(call, description, timeoutMs) {
  const { pc } = call;
  const before = iceUfrag(pc.localDescription ? pc.localDescription.sdp : undefined);
  const started = performance.now();
  let done = false;
  /** @type {() => void} */
  let wake = () => {};
  const onState = () => {
    if (pc.iceGatheringState === 'complete') {
      done = true;
      wake();
    }
  };
  /** @param {RTCPeerConnectionIceEvent} e */
  const onCandidate = (e) => {
    if (!e.candidate) {
      done = true;
      wake();
    }
  };
  pc.addEventListener('icegatheringstatechange', onState);
  pc.addEventListener('icecandidate', onCandidate);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {(() => void) | undefined} */
  let onClose;
  try {
    await guard(call, pc.setLocalDescription(description));
    const after = iceUfrag(pc.localDescription ? pc.localDescription.sdp : undefined);
    const fresh = before === null || before !== after;
    if (!fresh && pc.iceGatheringState === 'complete') done = true;
    if (!done) {
      await new Promise((resolve) => {
        wake = () => resolve(undefined);
        onClose = wake;
        call.onClose.add(onClose);
        timer = setTimeout(wake, timeoutMs);
      });
    }
    if (call.closed) throw closedError(call);
  } finally {
    pc.removeEventListener('icegatheringstatechange', onState);
    pc.removeEventListener('icecandidate', onCandidate);
    if (timer !== undefined) clearTimeout(timer);
    if (onClose) call.onClose.delete(onClose);
  }
  return { gathering: done ? 'complete' : 'timeout', ms: Math.round(performance.now() - started) };
}

/** The local SDP to reply with (it holds the candidates gathered so far). @param {Call} call */
function localSdp(call) {
  const d = call.pc.localDescription;
  if (!d) throw new OffscreenError('internal', 'no local description after setLocalDescription');
  return d.sdp;
}

/**
 * Stops every track of the call, closes its peer connection, removes its <audio> element and
 * forgets it; never throws.
 * @param {Call} call
 * @param {string} why
 */
function destroy(call, why) {
  if (call.closed) return;
  call.closed = true;
  try {
    call.signalClosed(closedError(call));
    for (const wake of call.onClose) wake();
    call.onClose.clear();
    /** @type {Set<MediaStreamTrack>} */
    const tracks = new Set();
    if (call.stream) call.stream.getTracks().forEach((t) => tracks.add(t));
    if (call.micTrack) tracks.add(call.micTrack);
    if (call.remoteTrack) tracks.add(call.remoteTrack);
    try {
      for (const t of call.pc.getTransceivers()) {
        if (t.sender.track) tracks.add(t.sender.track);
        tracks.add(t.receiver.track);
      }
    } catch (e) {
      warn(`call ${call.callId}: transceivers: ${describe(e)}`);
    }
    for (const t of tracks) {
      try {
        t.stop();
      } catch (e) {
        warn(`call ${call.callId}: track stop: ${describe(e)}`);
      }
    }
    for (const meter of [call.remoteMeter, call.localMeter]) if (meter) meter.disconnect();
    if (call.audio) {
      try {
        call.audio.pause();
        call.audio.srcObject = null;
        call.audio.remove();
      } catch (e) {
        warn(`call ${call.callId}: audio element: ${describe(e)}`);
      }
    }
    try {
      call.pc.close();
    } catch (e) {
      warn(`call ${call.callId}: close: ${describe(e)}`);
    }
  } finally {
    if (calls.get(call.callId) === call) calls.delete(call.callId);
    log(`call ${call.callId}: closed (${why})`);
    releaseAudioIfIdle();
  }
}

/**
 * The tone incoming calls need now: none when nothing rings; the call-waiting tone when another
 * call is in conversation (it has a microphone and does not ring); the ringtone otherwise.
 */
function updateRingtone() {
  if (ringing.size === 0) {
    ringtoneStop();
    return;
  }
  const talking = [...calls.values()].some((c) => !c.closed && !ringing.has(c.callId) && c.micTrack !== null);
  ringtoneStart(talking ? 'waiting' : 'ring');
}

function releaseAudioIfIdle() {
  updateRingtone();
  if (calls.size === 0 && ringing.size === 0) closeAudioContext();
}

// --- handlers -------------------------------------------------------------------------------------

/**
 * `media-offer {callId, iceServers, gatheringTimeoutMs}` → `{ok, sdp}`: a new call that we offer.
 * @param {import('../schema.js').MediaOffer} m
 */
async function mediaOffer(m) {
  const callId = callIdOf(m);
  if (calls.has(callId)) throw new OffscreenError('bad-request', `media-offer: call ${callId} already has media (use media-reoffer)`);
  const call = createCall(callId, await iceServersFor(m));
  call.micDeferred = m.microphone === false;
  try {
    return await enqueue(call, async () => {
      /** @type {RTCRtpTransceiver | undefined} */
      let transceiver;
      if (call.micDeferred) {
        // A sendrecv audio stream without a track: the microphone is attached by media-microphone.
        transceiver = call.pc.addTransceiver('audio', { direction: 'sendrecv' });
      } else {
        await openMicrophone(call);
        if (call.closed || !call.micTrack || !call.stream) throw closedError(call);
        const sender = call.pc.addTrack(call.micTrack, call.stream);
        transceiver = call.pc.getTransceivers().find((t) => t.sender === sender);
      }
      if (!transceiver) throw new OffscreenError('internal', 'addTrack created no transceiver');
      await useTransceiver(call, transceiver);
      const offer = await guard(call, call.pc.createOffer());
      const g = await setLocalAndGather(call, offer, gatheringTimeoutOf(m));
      log(`call ${callId}: offer ready (gathering ${g.gathering}, ${g.ms} ms)`);
      return { ok: true, sdp: localSdp(call) };
    });
  } catch (e) {
    destroy(call, 'media-offer failed');
    throw e;
  }
}

/**
 * `media-answer {callId, sdp, iceServers, gatheringTimeoutMs}` → `{ok, sdp}`: answers a remote
 * offer, for a new call or (re-INVITE/UPDATE) an existing one.
 * @param {import('../schema.js').MediaAnswer} m
 */
async function mediaAnswer(m) {
  const callId = callIdOf(m);
  const sdp = sdpOf(m);
  let call = calls.get(callId);
  const isNew = !call;
  if (!call) {
    call = createCall(callId, await iceServersFor(m));
    call.micDeferred = m.microphone === false;
  }
  const c = call;
  try {
    return await enqueue(c, async () => {
      const hadLocalOffer = c.pc.signalingState === 'have-local-offer';
      try {
        await guard(c, c.pc.setRemoteDescription({ type: 'offer', sdp }));
      } catch (e) {
        if (e instanceof OffscreenError) throw e;
        throw new OffscreenError('bad-sdp', describe(e));
      }
      if (c.closed) throw closedError(c);
      if (hadLocalOffer) {
        // Glare: the remote offer rolled our pending offer back; so is the direction it set.
        if (c.transceiver && c.directionBeforeOffer !== null && !isStopped(c.transceiver)) c.transceiver.direction = c.directionBeforeOffer;
        c.directionBeforeOffer = null;
        applyMicrophone(c);
      }
      try {
        if (!c.micTrack && !c.micDeferred) await openMicrophone(c);
        await adoptOfferedTransceivers(c);
        /** @type {RTCSessionDescriptionInit} */
        let answer;
        try {
          answer = await guard(c, c.pc.createAnswer());
        } catch (e) {
          if (e instanceof OffscreenError) throw e;
          throw new OffscreenError('bad-sdp', `cannot answer this offer: ${describe(e)}`);
        }
        const g = await setLocalAndGather(c, answer, gatheringTimeoutOf(m));
        log(`call ${callId}: answer ready (${isNew ? 'new call' : 're-offer'}, gathering ${g.gathering}, ${g.ms} ms)`);
        return { ok: true, sdp: localSdp(c) };
      } catch (e) {
        // An existing call keeps its previous session: undo the remote offer.
        if (!isNew && !c.closed && c.pc.signalingState === 'have-remote-offer') {
          await rollbackAndRepair(c).catch((r) => warn(`call ${callId}: rollback: ${describe(r)}`));
        }
        throw e;
      }
    });
  } catch (e) {
    if (isNew) destroy(c, 'media-answer failed');
    throw e;
  }
}

/**
 * `media-remote {callId, sdp, final}` → `{ok}`: the far end's answer to our offer (`final:false`:
 * provisional, 183 early media).
 * @param {import('../schema.js').MediaRemote} m
 */
async function mediaRemote(m) {
  const call = callOf(m);
  const sdp = sdpOf(m);
  const type = m.final === false ? 'pranswer' : 'answer';
  return enqueue(call, async () => {
    const state = call.pc.signalingState;
    if (state === 'stable') {
      // A retransmitted answer changes nothing; a different one (a second fork) cannot be applied.
      if (type === 'answer' && call.appliedAnswer === sdp) return { ok: true };
      throw new OffscreenError(
        'bad-sdp',
        `cannot apply this ${type}: no offer of ours is pending (signaling state stable)` +
          (call.appliedAnswer !== null ? '; a different answer was already applied (forked call?)' : ''),
      );
    }
    if (state !== 'have-local-offer' && state !== 'have-remote-pranswer') {
      throw new OffscreenError('bad-sdp', `cannot apply an ${type} in signaling state ${state}`);
    }
    try {
      await guard(call, call.pc.setRemoteDescription({ type, sdp }));
    } catch (e) {
      if (e instanceof OffscreenError) throw e;
      throw new OffscreenError('bad-sdp', describe(e));
    }
    if (type === 'answer') {
      call.appliedAnswer = sdp;
      call.directionBeforeOffer = null;
    }
    log(`call ${call.callId}: remote ${type} applied`);
    return { ok: true };
  });
}

/**
 * `media-reoffer {callId, direction, iceRestart, gatheringTimeoutMs}` → `{ok, sdp}`: a new offer
 * on an existing call (hold = sendonly, resume = sendrecv, ICE restart).
 * @param {import('../schema.js').MediaReoffer} m
 */
async function mediaReoffer(m) {
  const call = callOf(m);
  const direction = m.direction === undefined ? 'sendrecv' : m.direction;
  if (!DIRECTIONS.includes(direction)) throw new OffscreenError('bad-request', `media-reoffer: direction must be one of ${DIRECTIONS.join(', ')}`);
  return enqueue(call, async () => {
    const t = call.transceiver;
    if (!t || isStopped(t)) throw new OffscreenError('internal', `call ${call.callId} has no audio transceiver`);
    const previous = t.direction;
    if (call.directionBeforeOffer === null) call.directionBeforeOffer = previous;
    try {
      t.direction = /** @type {RTCRtpTransceiverDirection} */ (direction);
      applyMicrophone(call);
      const offer = await guard(call, call.pc.createOffer({ iceRestart: m.iceRestart === true }));
      const g = await setLocalAndGather(call, offer, gatheringTimeoutOf(m));
      log(`call ${call.callId}: re-offer ${direction}${m.iceRestart === true ? ' with ICE restart' : ''} ready (gathering ${g.gathering}, ${g.ms} ms)`);
      return { ok: true, sdp: localSdp(call) };
    } catch (e) {
      if (!call.closed && call.pc.signalingState === 'stable') {
        t.direction = previous;
        call.directionBeforeOffer = null;
        applyMicrophone(call);
      }
      throw e;
    }
  });
}

/**
 * Rolls back the pending offer (ours or the far end's) and repairs what Chromium leaves behind.
 *
 * Chromium applies the direction of an offer when it is set (a pending `sendonly` offer stops
 * the playout of received audio, `inactive` also stops sending), and a rollback does not undo
 * that: the call stays silent until the next negotiation (measured on Chromium 156). So after
 * the rollback the current exchange is replayed locally — our offer + the far end's answer again,
 * or the far end's offer + our answer again — with the same ICE credentials and DTLS fingerprints:
 * nothing is sent to the far end and the connection is not disturbed.
 * @param {Call} call
 */
async function rollbackAndRepair(call) {
  const { pc } = call;
  const from = pc.signalingState;
  await guard(call, pc.setLocalDescription({ type: 'rollback' }));
  if (call.transceiver && call.directionBeforeOffer !== null && !isStopped(call.transceiver)) {
    call.transceiver.direction = call.directionBeforeOffer;
  }
  call.directionBeforeOffer = null;
  applyMicrophone(call);
  const local = pc.currentLocalDescription;
  const remote = pc.currentRemoteDescription;
  if (call.closed || !local || !remote) return; // nothing was negotiated before
  try {
    if (local.type === 'offer') {
      await guard(call, pc.setLocalDescription(await guard(call, pc.createOffer())));
      await guard(call, pc.setRemoteDescription({ type: 'answer', sdp: remote.sdp }));
    } else {
      await guard(call, pc.setRemoteDescription({ type: 'offer', sdp: remote.sdp }));
      await guard(call, pc.setLocalDescription(await guard(call, pc.createAnswer())));
    }
    log(`call ${call.callId}: rolled back from ${from}, current session re-applied`);
  } catch (e) {
    warn(`call ${call.callId}: re-applying the session after a rollback failed: ${describe(e)}`);
    if (!call.closed && pc.signalingState !== 'stable') await guard(call, pc.setLocalDescription({ type: 'rollback' })).catch(() => {});
  }
}

/**
 * `media-rollback {callId}` → `{ok}`: withdraws our pending offer (491 glare). The audio
 * direction goes back to what it was before that offer.
 * @param {import('../schema.js').MediaCallRequest} m
 */
async function mediaRollback(m) {
  const call = callOf(m);
  return enqueue(call, async () => {
    const state = call.pc.signalingState;
    if (state === 'stable') return { ok: true }; // nothing pending
    try {
      await rollbackAndRepair(call);
    } catch (e) {
      if (e instanceof OffscreenError) throw e;
      throw new OffscreenError('internal', `rollback in signaling state ${state}: ${describe(e)}`);
    }
    return { ok: true };
  });
}

/** `media-close {callId}` → `{ok}`; idempotent. @param {import('../schema.js').MediaCallRequest} m */
async function mediaClose(m) {
  const callId = callIdOf(m);
  ringing.delete(callId);
  const call = calls.get(callId);
  if (call) destroy(call, 'media-close');
  else releaseAudioIfIdle();
  return { ok: true };
}

/** `media-mute {callId, muted}` → `{ok}`. @param {import('../schema.js').MediaMute} m */
async function mediaMute(m) {
  const call = callOf(m);
  if (typeof m.muted !== 'boolean') throw new OffscreenError('bad-request', 'media-mute: muted must be true or false');
  call.muted = m.muted;
  applyMicrophone(call);
  log(`call ${call.callId}: ${m.muted ? 'muted' : 'unmuted'}`);
  return { ok: true };
}

/** `media-dtmf {callId, digits, durationMs?, gapMs?}` → `{ok}` (RFC 4733 on the RTP path). @param {import('../schema.js').MediaDtmf} m */
async function mediaDtmf(m) {
  const call = callOf(m);
  const digits = m.digits;
  if (typeof digits !== 'string' || !/^[0-9A-Da-d#*,]+$/.test(digits)) {
    throw new OffscreenError('bad-request', 'media-dtmf: digits must be a non-empty string of 0-9 A-D # * ,');
  }
  const dtmf = call.transceiver ? call.transceiver.sender.dtmf : null;
  if (!dtmf || !dtmf.canInsertDTMF) {
    throw new OffscreenError('dtmf-unavailable', 'this call cannot send DTMF on the media path now (no telephone-event, or not sending)');
  }
  const mismatch = dtmfClockMismatch(/** @type {RTCRtpTransceiver} */ (call.transceiver).sender);
  if (mismatch) throw new OffscreenError('dtmf-unavailable', mismatch);
  const duration = typeof m.durationMs === 'number' ? m.durationMs : 100;
  const gap = typeof m.gapMs === 'number' ? m.gapMs : 70;
  try {
    // Appended to what is still queued, so digits sent one by one are all played.
    dtmf.insertDTMF(dtmf.toneBuffer + digits, duration, gap);
  } catch (e) {
    throw new OffscreenError('dtmf-unavailable', describe(e));
  }
  log(`call ${call.callId}: DTMF queued (${digits.length} tone(s))`);
  return { ok: true };
}

/**
 * Why RFC 4733 events would come out broken on this sender, or ''. Chromium times telephone-events
 * with the clock of the audio codec it sends: with Opus (48 kHz) and only telephone-event/8000
 * negotiated (what many far ends answer, baresip 1.0 for one), each digit goes out as three end
 * packets at once and no start packet, which receivers that wait for the start miss (measured on
 * Chromium 156 against baresip: 1 digit of 5 detected). The worker then sends the digits as SIP
 * INFO instead.
 * @param {RTCRtpSender} sender
 */
function dtmfClockMismatch(sender) {
  const codecs = sender.getParameters().codecs || [];
  const isEvent = (/** @type {{mimeType: string}} */ c) => /telephone-event$/i.test(c.mimeType);
  const audio = codecs.find((c) => !isEvent(c) && !/\/(CN|red|rtx)$/i.test(c.mimeType));
  const events = codecs.filter(isEvent);
  if (!audio || events.length === 0) return '';
  if (events.some((e) => e.clockRate === audio.clockRate)) return '';
  return `telephone-event is negotiated at ${events.map((e) => e.clockRate).join('/')} Hz but the audio codec ${audio.mimeType} runs at ${audio.clockRate} Hz: RFC 4733 timing would be wrong`;
}

/**
 * `media-microphone {callId}` → `{ok}`: the 200 of a call prepared without the microphone went
 * out: open it now and send it on the call's audio stream (replaceTrack: no renegotiation).
 * @param {import('../schema.js').MediaCallRequest} m
 */
async function mediaMicrophone(m) {
  const call = callOf(m);
  return enqueue(call, async () => {
    if (call.micTrack) return { ok: true };
    await openMicrophone(call);
    call.micDeferred = false;
    const t = call.transceiver;
    if (call.closed || !call.micTrack) throw closedError(call);
    if (t && !isStopped(t)) await guard(call, t.sender.replaceTrack(call.micTrack));
    applyMicrophone(call);
    updateRingtone();
    return { ok: true };
  });
}

/** `tone-zip {callId}` → `{ok}`: the call was answered automatically; play the zip tone. @param {import('../schema.js').MediaCallRequest} m */
async function toneZip(m) {
  callIdOf(m);
  zipTone();
  return { ok: true };
}

/** `ring-start {callId}` → `{ok}`: one ringtone at most, whatever the number of ringing calls. @param {import('../schema.js').MediaCallRequest} m */
async function ringStart(m) {
  const callId = callIdOf(m);
  ringing.add(callId);
  updateRingtone();
  return { ok: true };
}

/** `ring-stop {callId}` → `{ok}`: the ringtone stops when no call rings any more. @param {import('../schema.js').MediaCallRequest} m */
async function ringStop(m) {
  const callId = callIdOf(m);
  ringing.delete(callId);
  releaseAudioIfIdle();
  return { ok: true };
}

/** `media-stats {callId}` → counters, states and the measured audio of both directions. @param {import('../schema.js').MediaCallRequest} m */
async function mediaStats(m) {
  const call = callOf(m);
  const report = await guard(call, call.pc.getStats());
  let packetsSent = 0;
  let packetsReceived = 0;
  let bytesReceived = 0;
  /** @type {number | undefined} */
  let jitter;
  /** @type {number | undefined} */
  let roundTripTime;
  /** @type {number | undefined} */
  let pairRtt;
  /** @type {string | undefined} */
  let selectedPair;
  report.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'audio') packetsSent += s.packetsSent || 0;
    else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      packetsReceived += s.packetsReceived || 0;
      bytesReceived += s.bytesReceived || 0;
      if (typeof s.jitter === 'number') jitter = s.jitter;
    } else if (s.type === 'remote-inbound-rtp' && s.kind === 'audio' && typeof s.roundTripTime === 'number') {
      roundTripTime = s.roundTripTime;
    } else if (s.type === 'transport' && s.selectedCandidatePairId) selectedPair = s.selectedCandidatePairId;
  });
  if (selectedPair) {
    const pair = report.get(selectedPair);
    if (pair && typeof pair.currentRoundTripTime === 'number') pairRtt = pair.currentRoundTripTime;
  }
  const remote = call.remoteMeter ? call.remoteMeter.measure() : { peakHz: 0, level: 0 };
  const local = call.localMeter ? call.localMeter.measure() : { peakHz: 0, level: 0 };
  /** @type {import('../schema.js').MediaReply} */
  const reply = {
    ok: true,
    packetsSent,
    packetsReceived,
    bytesReceived,
    iceState: call.pc.iceConnectionState,
    connectionState: call.pc.connectionState,
    signalingState: call.pc.signalingState,
    remotePeakHz: remote.peakHz,
    remoteLevel: remote.level,
    localPeakHz: local.peakHz,
    localLevel: local.level,
    muted: call.muted,
    dtmfSent: call.dtmfSent,
  };
  if (jitter !== undefined) reply.jitter = jitter;
  if (roundTripTime === undefined) roundTripTime = pairRtt;
  if (roundTripTime !== undefined) reply.roundTripTime = roundTripTime;
  return reply;
}

/** `media-calls {}` → the calls this document holds, and what is playing (diagnostics). */
async function mediaCalls() {
  const list = [...calls.values()].map((c) => ({
    callId: c.callId,
    connectionState: c.pc.connectionState,
    signalingState: c.pc.signalingState,
    direction: c.transceiver ? c.transceiver.direction : null,
    tracks: c.liveTracks(),
  }));
  const live = (/** @type {Set<MediaStreamTrack>} */ set) => {
    for (const t of set) if (t.readyState !== 'live') set.delete(t);
    return set.size;
  };
  return {
    ok: true,
    calls: list,
    ringing: [...ringing],
    ringtone: ringtonePlaying(),
    ringtoneKind: ringtoneKind(),
    zipTones: zipTonesPlayed(),
    audioContext: audioContextState(),
    liveMicrophoneTracks: live(allMicTracks),
    liveRemoteTracks: live(allRemoteTracks),
    audioElements: document.querySelectorAll('audio').length,
  };
}

/**
 * The per-call handlers, by request type: one for every media request but `mic-probe` (in
 * offscreen.js).
 * @type {import('../schema.js').MediaHandlers<Exclude<import('../schema.js').MediaType, 'mic-probe'>>}
 */
export const mediaHandlers = {
  'media-offer': mediaOffer,
  'media-answer': mediaAnswer,
  'media-remote': mediaRemote,
  'media-reoffer': mediaReoffer,
  'media-rollback': mediaRollback,
  'media-close': mediaClose,
  'media-mute': mediaMute,
  'media-dtmf': mediaDtmf,
  'media-microphone': mediaMicrophone,
  'tone-zip': toneZip,
  'ring-start': ringStart,
  'ring-stop': ringStop,
  'media-stats': mediaStats,
  'media-calls': mediaCalls,
};
