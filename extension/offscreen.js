// @ts-check
// Ferrophone's offscreen document: the media side of calls. The worker creates it (reasons
// USER_MEDIA, WEB_RTC, AUDIO_PLAYBACK) while a call needs media and closes it afterwards.
// It knows getUserMedia, SDP and WebRTC; it never knows SIP. Only chrome.runtime is available here.
//
// Requests: `{ferrophone: 1, target: 'offscreen', type: '<name>', ...}` from the worker; each
// `type` has one handler below, which resolves to the reply `{ok: true, ...}` or throws a
// OffscreenError that becomes `{ok: false, error: {code, message}}`. Per-call WebRTC (one
// RTCPeerConnection per call id) is added as further handlers in the same table.

class OffscreenError extends Error {
  /**
   * @param {string} code  kebab-case, as in the command API
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** @param {unknown} e */
function describe(e) {
  const err = /** @type {any} */ (e);
  const name = err && err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${name}${String((err && err.message) || err)}`;
}

/** Opens the microphone, reports what it got, and releases it at once. */
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

/** @type {Record<string, (request: any) => Promise<object>>} */
const handlers = {
  'mic-probe': micProbe,
};

chrome.runtime.onMessage.addListener((m, _sender, sendResponse) => {
  if (!m || typeof m !== 'object' || m.target !== 'offscreen') return false;
  const handler = Object.hasOwn(handlers, m.type) ? handlers[m.type] : undefined;
  if (!handler) {
    sendResponse({ ok: false, error: { code: 'unknown-type', message: `offscreen: unknown request type ${JSON.stringify(m.type)}` } });
    return false;
  }
  handler(m).then(sendResponse, (e) => {
    const code = e instanceof OffscreenError ? e.code : 'internal';
    sendResponse({ ok: false, error: { code, message: describe(e) } });
  });
  return true; // the reply is asynchronous
});
