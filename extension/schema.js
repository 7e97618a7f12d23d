// @ts-check
// The message schema, for the type checker only (nothing imports this file at run time; the
// scripts refer to it with `import('./schema.js').Name` in JSDoc). The definitions of record are
// the Rust types in crates/ua/src/api.rs; crates/ua/tests/api_schema.rs checks that every message
// name the scripts use exists there, and that every example in docs/API.md and docs/MEDIA.md
// parses into them.
//
// Routing: a message's kind key says who it is for: `cmd` the worker (the Command API), `type`
// the offscreen document (the media protocol), `event` everyone (broadcasts). There is no other
// routing field.

// --- the Command API (docs/API.md) ----------------------------------------------------------------

/**
 * A request to the worker.
 * @typedef {{ferrophone: 1, cmd: 'status' | 'calls' | 'register' | 'unregister'}
 *   | {ferrophone: 1, cmd: 'dial', target: string}
 *   | {ferrophone: 1, cmd: 'answer' | 'reject' | 'hangup' | 'hold' | 'resume' | 'mute' | 'unmute', id: string}
 *   | {ferrophone: 1, cmd: 'transfer', id: string, target: string}
 *   | {ferrophone: 1, cmd: 'transfer', id: string, replaces: string}
 *   | {ferrophone: 1, cmd: 'dtmf', id: string, digits: string}
 *   | InternalCommand} Command
 */

/**
 * Requests only this extension's own contexts may send.
 * @typedef {{ferrophone: 1, cmd: 'mic-test' | 'ice-servers' | 'diagnostics' | 'loader-info'}
 *   | {ferrophone: 1, cmd: 'test-connection', server?: string}
 *   | MediaEventCommand} InternalCommand
 */

/**
 * The offscreen document's notification about a call's media (fire and forget).
 * @typedef {{ferrophone: 1, cmd: 'media-event', callId: string, event: MediaEventKind, detail: MediaEventDetail}} MediaEventCommand
 */

/** @typedef {'connected' | 'failed' | 'track-ended'} MediaEventKind */

/**
 * @typedef {{reason?: 'ice-failed' | 'dtls-failed' | 'microphone-ended', message?: string, iceState?: string, label?: string}} MediaEventDetail
 */

/** @typedef {{code: string, message: string}} ApiError */
/** @typedef {{ok: false, error: ApiError}} ErrorReply */

/**
 * @typedef {{id: string, direction: 'outgoing' | 'incoming', remote: string, remoteName?: string,
 *   state: 'dialing' | 'ringing' | 'early' | 'active' | 'held' | 'ended', autoAnswer: boolean,
 *   endReason?: string, muted: boolean}} Call
 */

/**
 * @typedef {{state: 'unconfigured' | 'connecting' | 'registering' | 'registered' | 'auth-failed' | 'unreachable' | 'unregistered',
 *   expiresIn?: number, reason?: string}} Registration
 */

/** @typedef {{state: 'idle' | 'connecting' | 'open' | 'waiting', server?: string, retryIn?: number, failures: number}} Connection */

/** @typedef {{ok: true, registration: Registration, connection: Connection} | ErrorReply} StatusReply */
/** @typedef {{ok: true, calls: Call[]} | ErrorReply} CallsReply */
/** @typedef {{ok: true, call: Call | null} | ErrorReply} CallReply */
/** @typedef {{ok: true, iceServers: RTCIceServer[]} | ErrorReply} IceServersReply */
/** @typedef {{ok: true, audioTracks: number, label: string, sampleRate?: number} | ErrorReply} MicProbeReply */

/**
 * @typedef {{ok: true, reachable: boolean, sip?: boolean, answer?: string, connectMs?: number, ms?: number, reason?: string}
 *   | ErrorReply} ConnectionTestReply
 */

/**
 * Every event the worker broadcasts.
 * @typedef {{ferrophone: 1, event: 'registration', state: Registration['state'], expiresIn?: number, reason?: string,
 *     registration: Registration, connection: Connection}
 *   | {ferrophone: 1, event: 'call', call: Call}
 *   | {ferrophone: 1, event: 'dtmf', callId: string, digit: string}
 *   | {ferrophone: 1, event: 'transfer', callId: string, status: number, done: boolean, success: boolean, newCallId?: string}} Event
 */

// --- the media protocol (docs/MEDIA.md): worker → offscreen document ---------------------------

/**
 * The arguments of a request that may create the call's peer connection.
 * @typedef {{iceServers?: RTCIceServer[], iceCredentials?: boolean, gatheringTimeoutMs?: number, microphone?: boolean}} NewMedia
 */

/** @typedef {{ferrophone: 1, type: 'media-offer', callId: string} & NewMedia} MediaOffer */
/** @typedef {{ferrophone: 1, type: 'media-answer', callId: string, sdp: string} & NewMedia} MediaAnswer */
/** @typedef {{ferrophone: 1, type: 'media-remote', callId: string, sdp: string, final?: boolean}} MediaRemote */

/**
 * @typedef {{ferrophone: 1, type: 'media-reoffer', callId: string, direction?: RTCRtpTransceiverDirection,
 *   iceRestart?: boolean, gatheringTimeoutMs?: number}} MediaReoffer
 */

/** @typedef {{ferrophone: 1, type: 'media-mute', callId: string, muted: boolean}} MediaMute */
/** @typedef {{ferrophone: 1, type: 'media-dtmf', callId: string, digits: string, durationMs?: number, gapMs?: number}} MediaDtmf */

/**
 * A request that names only a call.
 * @template {string} T
 * @typedef {{ferrophone: 1, type: T, callId: string}} CallRequest
 */

/**
 * @typedef {CallRequest<'media-microphone'> | CallRequest<'tone-zip'> | CallRequest<'media-rollback'>
 *   | CallRequest<'media-close'> | CallRequest<'ring-start'> | CallRequest<'ring-stop'> | CallRequest<'media-stats'>} MediaCallRequest
 */

/** @typedef {{ferrophone: 1, type: 'media-calls'} | {ferrophone: 1, type: 'mic-probe'}} MediaDocumentRequest */

/**
 * Every request the offscreen document answers.
 * @typedef {MediaOffer | MediaAnswer | MediaRemote | MediaReoffer | MediaMute | MediaDtmf | MediaCallRequest | MediaDocumentRequest} MediaRequest
 */

/** @typedef {MediaRequest['type']} MediaType */

/**
 * A handler for each request type `K` (the offscreen document's dispatch table).
 * @template {MediaType} K
 * @typedef {{[T in K]: (request: Extract<MediaRequest, {type: T}>) => Promise<MediaReply>}} MediaHandlers
 */

/**
 * A handler's reply, `{ok: true, ...result}` (a failure is thrown as an OffscreenError and
 * becomes `{ok: false, error}`).
 * @typedef {{ok: boolean} & Record<string, unknown>} MediaReply
 */

export {};
