// @ts-check
// WebAudio in the offscreen document: one shared AudioContext (created on first use, closed
// again when no call and no ringtone needs it), level/frequency meters on media streams, and
// the ringtone.

import { log, warn, describe } from './util.js';

/** @type {AudioContext | null} */
let ctx = null;

/** The shared AudioContext, created (and resumed) on first use. */
export function audioContext() {
  if (!ctx || ctx.state === 'closed') {
    ctx = new AudioContext();
    const created = ctx;
    log(`audio context created (${created.sampleRate} Hz, ${created.state})`);
    if (created.state === 'suspended') {
      created.resume().then(
        () => log(`audio context ${created.state}`),
        (e) => warn(`audio context cannot start: ${describe(e)}`),
      );
    }
  }
  return ctx;
}

/** `running`, `suspended`, `closed`, or `none` when no context exists now. */
export function audioContextState() {
  return ctx ? ctx.state : 'none';
}

/** Closes the shared context; the next user creates a new one. */
export function closeAudioContext() {
  const old = ctx;
  ctx = null;
  if (old && old.state !== 'closed') {
    old.close().then(
      () => log('audio context closed (idle)'),
      (e) => warn(`audio context close: ${describe(e)}`),
    );
  }
}

/** Below this RMS (≈ −60 dBFS) a stream counts as silent: its peak frequency is reported as 0. */
export const SILENCE_RMS = 0.001;

/**
 * An AnalyserNode on one audio track. The analyser keeps the most recent `fftSize` samples
 * (32768: ≈ 0.68 s at 48 kHz), so `measure()` answers at once about the last ~0.7 s of audio.
 * Not connected to the speakers: the node only listens.
 */
export class Meter {
  /** @param {MediaStreamTrack} track  an audio track (local microphone or remote) */
  constructor(track) {
    const ac = audioContext();
    this.context = ac;
    this.source = ac.createMediaStreamSource(new MediaStream([track]));
    this.analyser = ac.createAnalyser();
    this.analyser.fftSize = 32768;
    this.analyser.smoothingTimeConstant = 0;
    this.source.connect(this.analyser);
    this.time = new Float32Array(this.analyser.fftSize);
    this.freq = new Float32Array(this.analyser.frequencyBinCount);
  }

  /**
   * The RMS level (linear, full scale = 1) and the dominant frequency (Hz, 0 when silent) of the
   * last `fftSize` samples.
   * @returns {{peakHz: number, level: number}}
   */
  measure() {
    if (this.context.state !== 'running') return { peakHz: 0, level: 0 };
    this.analyser.getFloatTimeDomainData(this.time);
    let sum = 0;
    for (let i = 0; i < this.time.length; i++) sum += this.time[i] * this.time[i];
    const level = Math.sqrt(sum / this.time.length);
    if (!(level >= SILENCE_RMS)) return { peakHz: 0, level: round(level, 5) };

    this.analyser.getFloatFrequencyData(this.freq);
    const binHz = this.context.sampleRate / this.analyser.fftSize;
    const first = Math.max(1, Math.floor(20 / binHz)); // ignore DC and sub-audio
    let best = first;
    for (let i = first + 1; i < this.freq.length - 1; i++) if (this.freq[i] > this.freq[best]) best = i;
    // Parabolic interpolation on the dB values around the peak bin.
    let offset = 0;
    if (best > 0 && best < this.freq.length - 1) {
      const a = this.freq[best - 1];
      const b = this.freq[best];
      const c = this.freq[best + 1];
      const d = a - 2 * b + c;
      if (Number.isFinite(d) && d !== 0) offset = Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / d));
    }
    return { peakHz: round((best + offset) * binHz, 1), level: round(level, 5) };
  }

  disconnect() {
    try {
      this.source.disconnect();
      this.analyser.disconnect();
    } catch (_) {
      // already disconnected, or the context is closed
    }
  }
}

/** @param {number} x @param {number} digits */
function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// --- ringtone -------------------------------------------------------------------------------------

/**
 * The tones for an incoming call. `ring`: US ringing, 440 Hz + 480 Hz, 2 s on, 4 s off, looped.
 * `waiting`: the call-waiting tone, played instead while another call is in conversation (a full
 * ringtone over a conversation would drown it): two short 440 Hz beeps every 10 s, quieter.
 * @typedef {'ring' | 'waiting'} RingKind
 * @type {Record<RingKind, {frequencies: number[], bursts: [number, number][], period: number, gain: number}>}
 */
export const RINGTONES = {
  ring: { frequencies: [440, 480], bursts: [[0, 2]], period: 6, gain: 0.25 },
  waiting: { frequencies: [440], bursts: [[0, 0.3], [0.5, 0.8]], period: 10, gain: 0.12 },
};

/**
 * The zip tone: two short 880 Hz beeps (100 ms, 100 ms apart), played once when a call was
 * answered automatically, as desk phones do: the user hears that the line is open.
 */
export const ZIP_TONE = { frequencies: [880], bursts: /** @type {[number, number][]} */ ([[0, 0.1], [0.2, 0.3]]), period: 0.35, gain: 0.2 };

/** @type {{source: AudioBufferSourceNode, gain: GainNode, context: AudioContext, kind: RingKind} | null} */
let ring = null;
/** @type {Map<string, AudioBuffer>} one cycle of each cadence per sample rate */
const cycles = new Map();

/** @param {AudioContext} ac @param {RingKind | 'zip'} kind */
function ringCycle(ac, kind) {
  const key = `${kind}/${ac.sampleRate}`;
  const cached = cycles.get(key);
  if (cached) return cached;
  const tone = kind === 'zip' ? ZIP_TONE : RINGTONES[kind];
  const rate = ac.sampleRate;
  const buffer = ac.createBuffer(1, Math.round(tone.period * rate), rate);
  const data = buffer.getChannelData(0);
  const fade = Math.round(0.01 * rate); // 10 ms ramps: no clicks at the edges of a burst
  for (const [from, to] of tone.bursts) {
    const start = Math.round(from * rate);
    const on = Math.round((to - from) * rate);
    for (let i = 0; i < on; i++) {
      const t = i / rate;
      const envelope = Math.min(1, i / fade, (on - i) / fade);
      const sum = tone.frequencies.reduce((s, f) => s + Math.sin(2 * Math.PI * f * t), 0);
      data[start + i] = (envelope * sum) / tone.frequencies.length;
    }
  }
  cycles.set(key, buffer);
  return buffer;
}

/**
 * Plays the `kind` tone (there is one tone at most: another kind playing is replaced).
 * @param {RingKind} [kind]
 */
export function ringtoneStart(kind = 'ring') {
  if (ring && ring.context.state !== 'closed') {
    if (ring.kind === kind) return;
    ringtoneStop();
  }
  const ac = audioContext();
  const source = ac.createBufferSource();
  source.buffer = ringCycle(ac, kind);
  source.loop = true;
  const gain = ac.createGain();
  gain.gain.value = RINGTONES[kind].gain;
  source.connect(gain).connect(ac.destination);
  source.start();
  ring = { source, gain, context: ac, kind };
  log(`${kind === 'ring' ? 'ringtone' : 'call-waiting tone'} on (audio context ${ac.state})`);
}

/** Which tone plays now, or null. @returns {RingKind | null} */
export function ringtoneKind() {
  return ring !== null && ring.context.state !== 'closed' ? ring.kind : null;
}

export function ringtoneStop() {
  if (!ring) return;
  const { source, gain } = ring;
  ring = null;
  try {
    source.stop();
  } catch (_) {
    // never started or already stopped
  }
  source.disconnect();
  gain.disconnect();
  log('ringtone off');
}

export function ringtonePlaying() {
  return ring !== null && ring.context.state !== 'closed';
}

/** How many zip tones this document has started (diagnostics, `media-calls`). */
let zipTones = 0;

/** Plays the zip tone once, over whatever else plays (it lasts 0.3 s). */
export function zipTone() {
  const ac = audioContext();
  const source = ac.createBufferSource();
  source.buffer = ringCycle(ac, 'zip');
  const gain = ac.createGain();
  gain.gain.value = ZIP_TONE.gain;
  source.connect(gain).connect(ac.destination);
  source.addEventListener('ended', () => {
    source.disconnect();
    gain.disconnect();
  });
  source.start();
  zipTones += 1;
  log(`zip tone (audio context ${ac.state})`);
}

export function zipTonesPlayed() {
  return zipTones;
}
