#!/usr/bin/env python3
"""Draw Ferrophone's toolbar/store icons (16, 32, 48, 128 px) as PNG with nothing but the stdlib.

The picture is a white telephone handset on a rounded square. Each pixel is supersampled (SS x SS
points tested against the shapes) so the edges are anti-aliased at every size. The PNGs are
committed; run this script again only to change the design:  python3 make_icons.py
"""
import math
import os
import struct
import zlib

SIZES = (16, 32, 48, 128)
SS = 6  # supersampling per axis
BACKGROUND = (0xB4, 0x3C, 0x12)  # rust orange: "ferro"
FOREGROUND = (0xFF, 0xFF, 0xFF)


def in_rounded_square(x, y, radius=0.22, margin=0.02):
    lo, hi = margin, 1.0 - margin
    if not (lo <= x <= hi and lo <= y <= hi):
        return False
    cx = min(max(x, lo + radius), hi - radius)
    cy = min(max(y, lo + radius), hi - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2


def dist_to_segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    t = min(max(t, 0.0), 1.0)
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


# Handset: an arc bowing toward the lower left, with a thicker capsule at each end (ear and mouth
# pieces) pointing back toward the arc's centre. Image coordinates: y grows downward.
CX, CY, R = 0.575, 0.425, 0.30
A0, A1 = math.radians(62), math.radians(208)
ARC_HALF = 0.062
CAP_RADIUS = 0.085
CAP_LENGTH = 0.10


def _cap(angle):
    ex, ey = CX + R * math.cos(angle), CY + R * math.sin(angle)
    ix, iy = CX + (R - CAP_LENGTH) * math.cos(angle), CY + (R - CAP_LENGTH) * math.sin(angle)
    return ex, ey, ix, iy


CAPS = (_cap(A0), _cap(A1))


def in_handset(x, y):
    d = math.hypot(x - CX, y - CY)
    a = math.atan2(y - CY, x - CX) % (2 * math.pi)
    if A0 <= a <= A1 and abs(d - R) <= ARC_HALF:
        return True
    return any(dist_to_segment(x, y, *cap) <= CAP_RADIUS for cap in CAPS)


def render(size):
    rows = []
    for py in range(size):
        row = bytearray([0])  # PNG filter type 0 (None) for this scanline
        for px in range(size):
            bg = fg = 0
            for sy in range(SS):
                for sx in range(SS):
                    x = (px + (sx + 0.5) / SS) / size
                    y = (py + (sy + 0.5) / SS) / size
                    if in_rounded_square(x, y):
                        if in_handset(x, y):
                            fg += 1
                        else:
                            bg += 1
            n = SS * SS
            alpha = (bg + fg) / n
            if alpha == 0:
                row += bytes(4)
                continue
            w = fg / (bg + fg)
            rgb = [round(b * (1 - w) + f * w) for b, f in zip(BACKGROUND, FOREGROUND)]
            row += bytes(rgb + [round(alpha * 255)])
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for size in SIZES:
        path = os.path.join(here, f"icon{size}.png")
        with open(path, "wb") as f:
            f.write(render(size))
        print(f"wrote {os.path.basename(path)}")


if __name__ == "__main__":
    main()
