// @ts-check
// Ferrophone's offscreen document: the media side of calls. The worker creates it (reasons
// USER_MEDIA, WEB_RTC, AUDIO_PLAYBACK) while a call needs media and closes it afterwards.
// It knows getUserMedia, SDP and WebRTC; it never knows SIP. Only chrome.runtime is available here.
//
// Requests: `{ferrophone: 1, type: '<name>', ...}` from the worker (the schema:
// extension/schema.js, crates/ua/src/api.rs); each `type` has one handler below, which resolves to the reply `{ok: true, ...}` or throws an
// OffscreenError that becomes `{ok: false, error: {code, message}}`. The per-call WebRTC engine
// (one RTCPeerConnection per call id, ringtone, stats) is extension/media/calls.js; the whole
// contract is docs/MEDIA.md.

import { OffscreenError, describe, log, warn } from './media/util.js';
import { mediaHandlers } from './media/calls.js';

/**
 * Opens the microphone, reports what it got, and releases it at once.
 * @returns {Promise<import('./schema.js').MediaReply>}
 */
async function micProbe() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    throw new OffscreenError('microphone-unavailable', describe(e));
  }
  try {
    const tracks = stream.getAudioTracks();
    const [track] = tracks;
    /** @type {{ok: true, audioTracks: number, label: string, sampleRate?: number}} */
    const reply = { ok: true, audioTracks: tracks.length, label: track ? track.label : '' };
    const sampleRate = track && track.getSettings().sampleRate;
    if (typeof sampleRate === 'number') reply.sampleRate = sampleRate;
    return reply;
  } finally {
    for (const t of stream.getTracks()) t.stop();
  }
}

/**
 * One handler per media request type (tsc checks that none is missing).
 * @type {import('./schema.js').MediaHandlers<import('./schema.js').MediaType>}
 */
const handlers = {
  'mic-probe': micProbe,
  ...mediaHandlers,
};

chrome.runtime.onMessage.addListener((m, _sender, sendResponse) => {
  // Only media requests are ours: `{ferrophone: 1, type}`. A Command API message (`cmd`, for the
  // worker) or an event (`event`) never is.
  if (!m || typeof m !== 'object' || m.ferrophone !== 1 || typeof m.type !== 'string' || 'cmd' in m) return false;
  /** @type {((request: any) => Promise<object>) | undefined} */
  const handler = Object.hasOwn(handlers, m.type) ? handlers[/** @type {import('./schema.js').MediaType} */ (m.type)] : undefined;
  if (!handler) {
    sendResponse({ ok: false, error: { code: 'unknown-type', message: `offscreen: unknown request type ${JSON.stringify(m.type)}` } });
    return false;
  }
  const started = performance.now();
  const quiet = m.type === 'media-stats' || m.type === 'media-calls';
  // Even a handler that throws synchronously ends in a reply.
  Promise.resolve()
    .then(() => handler(m))
    .then(
      (reply) => {
        if (!quiet) log(`${m.type} ${m.callId ?? ''}: ok (${Math.round(performance.now() - started)} ms)`);
        sendResponse(reply);
      },
      (e) => {
        const code = e instanceof OffscreenError ? e.code : 'internal';
        const message = describe(e);
        warn(`${m.type} ${m.callId ?? ''}: ${code}: ${message.slice(0, 200)}`);
        sendResponse({ ok: false, error: { code, message } });
      },
    );
  return true; // the reply is asynchronous
});

self.addEventListener('unhandledrejection', (e) => warn(`unhandled rejection: ${describe(e.reason)}`));
log('ready');
