#!/usr/bin/env python3
"""Draw the bundled site's pictures with the standard library only.

    draw-images.py WWW_DIR   writes WWW_DIR/img/profile.png, WWW_DIR/favicon.ico

Shapes are drawn as signed distance fields, so edges are anti-aliased without
supersampling; PNG rows are filtered and zlib-compressed like any encoder
would. The output is a pure function of this file: no clock, no randomness.
"""
import math
import os
import struct
import sys
import zlib


# ---------------------------------------------------------------- shapes
# Each shape is (bbox, sdf) where sdf(x, y) is the signed distance in pixels
# (negative inside). bbox = (x0, y0, x1, y1) limits the work per shape.

def ellipse(cx, cy, rx, ry):
    def sdf(x, y):
        k = math.hypot((x - cx) / rx, (y - cy) / ry)
        return (k - 1.0) * min(rx, ry)
    return (cx - rx - 2, cy - ry - 2, cx + rx + 2, cy + ry + 2), sdf


def circle(cx, cy, r):
    return ellipse(cx, cy, r, r)


def ring(cx, cy, r, width):
    def sdf(x, y):
        return abs(math.hypot(x - cx, y - cy) - r) - width / 2
    e = r + width
    return (cx - e - 2, cy - e - 2, cx + e + 2, cy + e + 2), sdf


def segment(ax, ay, bx, by, width):
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy

    def sdf(x, y):
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / ll))
        return math.hypot(x - ax - t * dx, y - ay - t * dy) - width / 2
    w = width + 2
    return (min(ax, bx) - w, min(ay, by) - w, max(ax, bx) + w, max(ay, by) + w), sdf


def arc_below(cx, cy, r, width, min_y):
    """The part of a ring below min_y (a smile)."""
    _, ring_sdf = ring(cx, cy, r, width)

    def sdf(x, y):
        return max(ring_sdf(x, y), min_y - y)
    e = r + width
    return (cx - e - 2, min_y - 2, cx + e + 2, cy + e + 2), sdf


def rounded_rect(x0, y0, x1, y1, radius):
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2 - radius, (y1 - y0) / 2 - radius

    def sdf(x, y):
        qx, qy = abs(x - cx) - hx, abs(y - cy) - hy
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - radius
    return (x0 - 2, y0 - 2, x1 + 2, y1 + 2), sdf


class Canvas:
    def __init__(self, w, h, fill):
        self.w, self.h = w, h
        self.px = [[list(fill(x, y)) for x in range(w)] for y in range(h)]

    def draw(self, shape, rgb, opacity=1.0):
        (x0, y0, x1, y1), sdf = shape
        for y in range(max(0, int(y0)), min(self.h, int(y1) + 1)):
            row = self.px[y]
            for x in range(max(0, int(x0)), min(self.w, int(x1) + 1)):
                # Sample at the pixel centre; coverage from the distance.
                a = 0.5 - sdf(x + 0.5, y + 0.5)
                if a <= 0.0:
                    continue
                a = min(a, 1.0) * opacity
                p = row[x]
                if len(p) == 3:
                    for i in range(3):
                        p[i] += (rgb[i] - p[i]) * a
                    continue
                # RGBA: source-over, so edges on transparency keep their colour.
                pa = p[3] / 255.0
                na = a + pa * (1.0 - a)
                for i in range(3):
                    p[i] = (rgb[i] * a + p[i] * pa * (1.0 - a)) / na
                p[3] = na * 255.0


# ---------------------------------------------------------------- encoders

def png_bytes(canvas):
    """Encode an RGB canvas as an 8-bit truecolor PNG."""
    w, h = canvas.w, canvas.h
    raw = bytearray()
    prev = bytes(w * 3)
    for row in canvas.px:
        cur = bytes(max(0, min(255, int(round(c)))) for p in row for c in p[:3])
        # Pick the filter with the smallest sum of absolute values, the
        # heuristic the PNG specification recommends.
        sub = bytes((cur[i] - (cur[i - 3] if i >= 3 else 0)) & 255 for i in range(len(cur)))
        up = bytes((cur[i] - prev[i]) & 255 for i in range(len(cur)))
        best = min(((0, cur), (1, sub), (2, up)),
                   key=lambda f: sum(b if b < 128 else 256 - b for b in f[1]))
        raw.append(best[0])
        raw += best[1]
        prev = cur

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def ico_bytes(canvases):
    """Encode RGBA canvases as a Windows icon with 32-bit BMP images."""
    images = []
    for c in canvases:
        w, h = c.w, c.h
        info = struct.pack("<IiiHHIIiiII", 40, w, 2 * h, 1, 32, 0, 0, 0, 0, 0, 0)
        pixels = bytearray()
        mask = bytearray()
        mask_stride = ((w + 31) // 32) * 4
        for row in reversed(c.px):  # BMP rows go bottom-up
            m = bytearray(mask_stride)
            for x, p in enumerate(row):
                r, g, b, a = (max(0, min(255, int(round(v)))) for v in p)
                pixels += bytes((b, g, r, a))
                if a == 0:
                    m[x // 8] |= 0x80 >> (x % 8)
            mask += m
        images.append((w, h, info + bytes(pixels) + bytes(mask)))
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for w, h, data in images:
        out += struct.pack("<BBBBHHII", w % 256, h % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    for _, _, data in images:
        out += data
    return out


# ---------------------------------------------------------------- pictures

def lerp(a, b, t):
    return tuple(a[i] + (b[i] - a[i]) * t for i in range(len(a)))


def profile(size=320):
    s = size / 320.0
    top, bottom = (28, 58, 104), (64, 146, 156)

    def background(x, y):
        base = lerp(top, bottom, y / (size - 1))
        # A soft light behind the head.
        glow = max(0.0, 1.0 - math.hypot(x - 160 * s, y - 140 * s) / (150 * s))
        return lerp(base, (255, 255, 255), 0.18 * glow * glow)
    c = Canvas(size, size, background)

    # A small network in the background: nodes and links.
    nodes = [(34, 48), (92, 26), (70, 98), (254, 40), (296, 92), (236, 110),
             (28, 196), (292, 208)]
    links = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (2, 6), (5, 7)]
    for a, b in links:
        (ax, ay), (bx, by) = nodes[a], nodes[b]
        c.draw(segment(ax * s, ay * s, bx * s, by * s, 1.6 * s), (220, 240, 255), 0.35)
    for x, y in nodes:
        c.draw(circle(x * s, y * s, 4.5 * s), (230, 245, 255), 0.7)

    hair, skin, shirt = (70, 44, 34), (240, 196, 162), (226, 112, 58)
    c.draw(ellipse(160 * s, 356 * s, 124 * s, 116 * s), shirt)           # shoulders
    c.draw(ellipse(160 * s, 248 * s, 30 * s, 16 * s), (204, 92, 44))     # collar shade
    c.draw(rounded_rect(138 * s, 186 * s, 182 * s, 250 * s, 18 * s), (222, 172, 138))  # neck
    c.draw(ellipse(160 * s, 150 * s, 74 * s, 86 * s), hair)              # hair behind
    c.draw(ellipse(160 * s, 156 * s, 58 * s, 68 * s), skin)              # face
    c.draw(ellipse(160 * s, 98 * s, 62 * s, 30 * s), hair)               # fringe
    for ex in (137, 183):
        c.draw(circle(ex * s, 156 * s, 4.8 * s), (40, 30, 30))           # eyes
        c.draw(ring(ex * s, 156 * s, 15 * s, 3 * s), (50, 50, 60))       # glasses
        c.draw(circle(ex * s, 178 * s, 9 * s), (235, 130, 130), 0.25)    # cheeks
    c.draw(segment(152 * s, 154 * s, 168 * s, 154 * s, 3 * s), (50, 50, 60))
    c.draw(arc_below(160 * s, 170 * s, 22 * s, 3.2 * s, 184 * s), (150, 60, 60))  # smile
    return c


def icon(size):
    c = Canvas(size, size, lambda x, y: (0, 0, 0, 0))
    s = size / 32.0
    c.draw(rounded_rect(1 * s, 1 * s, 31 * s, 31 * s, 7 * s), (32, 96, 140))
    # Three bars of a sound level meter: the site's audio.
    for x, h in ((10, 9), (16, 14), (22, 6)):
        c.draw(rounded_rect((x - 2.2) * s, (16 - h * 0.9) * s,
                            (x + 2.2) * s, (16 + h * 0.9) * s, 2.2 * s),
               (255, 255, 255))
    return c


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: draw-images.py WWW_DIR")
    www = sys.argv[1]
    os.makedirs(os.path.join(www, "img"), exist_ok=True)
    with open(os.path.join(www, "img", "profile.png"), "wb") as f:
        f.write(png_bytes(profile()))
    with open(os.path.join(www, "favicon.ico"), "wb") as f:
        f.write(ico_bytes([icon(16), icon(32), icon(48)]))


if __name__ == "__main__":
    main()
