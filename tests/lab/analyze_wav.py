#!/usr/bin/python3
"""Which tone is in a WAV file? python3 standard library only.

Run it with /usr/bin/python3 (a pyenv shim may not be the Debian interpreter, pitfall 9).

    /usr/bin/python3 tests/lab/analyze_wav.py [--start S] [--seconds N] [--expect HZ] [--json] FILE...

For each file: sample rate, channels, duration, RMS, a zero-crossing frequency estimate and the
Goertzel power at candidate frequencies (440, 1000 Hz and --expect), measured over N seconds
(default 1) starting at S seconds (default: 25 % into the file). The dominant candidate is reported.
With --expect HZ the exit status is 0 only if, for every file, HZ is the dominant candidate and
the signal is not silence (RMS > 100); otherwise 1.  16-bit PCM WAV only (what baresip writes).
"""
import argparse
import array
import json
import math
import sys
import wave


def goertzel(x, sr, f):
    k = 2 * math.cos(2 * math.pi * f / sr)
    s1 = s2 = 0.0
    for v in x:
        s = v + k * s1 - s2
        s2 = s1
        s1 = s
    return (s2 * s2 + s1 * s1 - k * s1 * s2) / max(1, len(x))


def analyze(path, start, seconds, candidates):
    with wave.open(path) as w:
        sr, ch, n, width = w.getframerate(), w.getnchannels(), w.getnframes(), w.getsampwidth()
        if width != 2:
            raise ValueError(f"{path}: {8 * width}-bit samples, only 16-bit PCM is supported")
        a = array.array('h', w.readframes(n))
    if sys.byteorder == 'big':
        a.byteswap()
    a = a[::ch]                                   # first channel
    s0 = int((start if start is not None else n / sr / 4) * sr)
    seg = a[s0:s0 + int(seconds * sr)]
    rms = math.sqrt(sum(v * v for v in seg) / max(1, len(seg)))
    zc = (sum(1 for i in range(1, len(seg)) if (seg[i - 1] < 0) != (seg[i] < 0)) / 2 / (len(seg) / sr)) if len(seg) > 1 else 0
    powers = {f: goertzel(seg, sr, f) if len(seg) > 100 else 0.0 for f in candidates}
    dominant = max(powers, key=powers.get) if any(powers.values()) else None
    return {"file": path, "rate": sr, "channels": ch, "duration": round(n / sr, 2),
            "segment_start": round(s0 / sr, 2), "segment_seconds": round(len(seg) / sr, 2),
            "rms": round(rms), "zero_cross_hz": round(zc), "powers": {str(k): v for k, v in powers.items()},
            "dominant": dominant}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('files', nargs='+')
    ap.add_argument('--start', type=float, default=None, help='segment start in seconds (default 25%% into the file)')
    ap.add_argument('--seconds', type=float, default=1.0, help='segment length in seconds (default 1)')
    ap.add_argument('--expect', type=float, default=None, help='exit 1 unless this frequency dominates')
    ap.add_argument('--json', action='store_true', help='one JSON object per file')
    args = ap.parse_args()
    cands = [440.0, 1000.0]
    if args.expect is not None and args.expect not in cands:
        cands.append(args.expect)
    ok = True
    for p in args.files:
        try:
            r = analyze(p, args.start, args.seconds, cands)
        except (OSError, EOFError, ValueError, wave.Error) as e:
            print(f"{p}: ERROR {e}")
            ok = False
            continue
        good = r["dominant"] is not None and r["rms"] > 100 and (args.expect is None or r["dominant"] == args.expect)
        ok = ok and good
        if args.json:
            print(json.dumps(r))
        else:
            pw = " ".join(f"P{k.rstrip('0').rstrip('.')}={v:.3g}" for k, v in r["powers"].items())
            dom = f"{r['dominant']:g} Hz" if r["dominant"] is not None else "none"
            print(f"{p}: {r['rate']} Hz x{r['channels']}, {r['duration']}s, rms={r['rms']}, "
                  f"zero-cross-freq~{r['zero_cross_hz']} Hz, {pw} -> dominant {dom}"
                  + ("" if args.expect is None else (" OK" if good else f" (expected {args.expect:g} Hz) FAIL")))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
