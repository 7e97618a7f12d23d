#!/usr/bin/python3
"""A far end's ear: records the RTP arriving at one UDP port on the loopback interface.

Run it with /usr/bin/python3 (pitfall 9), inside the test's network namespace (it opens an
AF_PACKET socket on `lo`, which needs CAP_NET_RAW there; `tests/run.sh e2e` runs as root of its
own namespace). python3 standard library only, plus libopus through ctypes to decode Opus.

    /usr/bin/python3 tests/lab/rtp_tap.py --port 10004 --json out.json [--wav out.wav]

Captures until SIGTERM/SIGINT (or --seconds), then writes:
  --json: {"packets": [{"t", "pt", "seq", "ts", "m", "len", "event"?...}], "summary": {...}}
          (telephone-event packets, RFC 4733, get "event", "end", "duration")
  --wav:  what a listener at that port heard, 48 kHz mono 16-bit: each Opus (or PCMU/PCMA)
          packet is decoded and placed at its ARRIVAL time since the capture started, so time
          without packets is silence — a hold shows as a gap of the length it lasted.

baresip 1.0 stops its own recording at the first re-INVITE of a call (docs/LAB.md pitfall 13), so
the hold/resume spec records bob's port with this instead.
"""
import argparse
import array
import ctypes
import ctypes.util
import json
import signal
import socket
import struct
import sys
import time
import wave

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
RATE = 48000


def parse_rtp(data):
    """Returns (pt, seq, ts, marker, payload) or None."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    cc = data[0] & 0x0F
    ext = data[0] & 0x10
    marker = bool(data[1] & 0x80)
    pt = data[1] & 0x7F
    if 72 <= pt <= 76:  # RTCP (rtcp-mux)
        return None
    seq, ts = struct.unpack('!HI', data[2:8])
    off = 12 + 4 * cc
    if ext:
        if len(data) < off + 4:
            return None
        (words,) = struct.unpack('!H', data[off + 2:off + 4])
        off += 4 + 4 * words
    payload = data[off:]
    if data[0] & 0x20 and payload:  # padding
        payload = payload[:-payload[-1]]
    return pt, seq, ts, marker, payload


def capture(port, seconds):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind(('lo', 0))
    sock.settimeout(0.2)
    stop = {'now': False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    start = time.monotonic()
    print(f'rtp_tap: listening for UDP to port {port}', flush=True)
    packets = []
    while not stop['now'] and (seconds is None or time.monotonic() - start < seconds):
        try:
            frame, addr = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if addr[2] == PACKET_OUTGOING:  # loopback shows each packet twice
            continue
        ip = frame[14:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        sport, dport = struct.unpack('!HH', ip[ihl:ihl + 4])
        if dport != port:
            continue
        rtp = parse_rtp(ip[ihl + 8:])
        if rtp:
            packets.append((time.monotonic() - start, sport) + rtp)
    return packets, time.monotonic() - start


class Opus:
    def __init__(self):
        lib = ctypes.util.find_library('opus') or 'libopus.so.0'
        self.lib = ctypes.CDLL(lib)
        self.lib.opus_decoder_create.restype = ctypes.c_void_p
        self.lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        self.lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                         ctypes.POINTER(ctypes.c_int16), ctypes.c_int, ctypes.c_int]
        err = ctypes.c_int()
        self.dec = self.lib.opus_decoder_create(RATE, 1, ctypes.byref(err))
        if err.value != 0:
            raise RuntimeError(f'opus_decoder_create: {err.value}')
        self.buf = (ctypes.c_int16 * (RATE // 10))()

    def decode(self, payload):
        n = self.lib.opus_decode(self.dec, payload, len(payload), self.buf, RATE // 10, 0)
        return array.array('h', self.buf[:n]) if n > 0 else array.array('h')


def g711(payload, alaw):
    out = array.array('h')
    for b in payload:
        b ^= 0x55 if alaw else 0xFF
        if alaw:
            seg = (b & 0x70) >> 4
            v = (b & 0x0F) << 4
            v = v + 8 if seg == 0 else (v + 0x108) << (seg - 1)
            s = v if b & 0x80 else -v
        else:
            v = (((b & 0x0F) << 3) + 0x84) << ((b & 0x70) >> 4)
            s = (0x84 - v) if b & 0x80 else (v - 0x84)
        # 8 kHz → 48 kHz by repetition (good enough to tell tones apart)
        out.extend([s] * 6)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--json', required=True)
    ap.add_argument('--wav')
    ap.add_argument('--opus-pt', type=int, default=None, help='Opus payload type (default: any dynamic PT that is not telephone-event)')
    ap.add_argument('--seconds', type=float, default=None)
    args = ap.parse_args()

    packets, duration = capture(args.port, args.seconds)
    out = []
    for t, sport, pt, seq, ts, m, payload in packets:
        rec = {'t': round(t, 4), 'sport': sport, 'pt': pt, 'seq': seq, 'ts': ts, 'm': m, 'len': len(payload)}
        if len(payload) == 4 and pt >= 96:
            # RFC 4733 telephone-event: event, E|R|volume, duration
            ev, flags, dur = struct.unpack('!BBH', payload)
            if ev <= 16:
                rec.update(event='0123456789*#ABCDF'[ev], end=bool(flags & 0x80), duration=dur)
        out.append(rec)
    by_pt = {}
    for r in out:
        by_pt[r['pt']] = by_pt.get(r['pt'], 0) + 1
    summary = {'port': args.port, 'seconds': round(duration, 3), 'packets': len(out), 'byPt': by_pt}

    if args.wav:
        samples = array.array('h', bytes(2 * int(duration * RATE + RATE)))
        opus = None
        for t, sport, pt, seq, ts, m, payload in packets:
            if pt in (0, 8):
                pcm = g711(payload, pt == 8)
            elif pt >= 96 and len(payload) != 4 and (args.opus_pt is None or pt == args.opus_pt):
                opus = opus or Opus()
                pcm = opus.decode(payload)
            else:
                continue
            at = int(t * RATE)
            end = min(len(samples), at + len(pcm))
            samples[at:end] = pcm[:end - at]
        with wave.open(args.wav, 'wb') as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(samples.tobytes())
        summary['wav'] = args.wav

    with open(args.json, 'w') as f:
        json.dump({'summary': summary, 'packets': out}, f)
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
