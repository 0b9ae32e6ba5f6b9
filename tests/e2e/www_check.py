#!/usr/bin/env python3
"""Check that a site folder (the bundled www/) is complete and consistent.

    www_check.py WWW_DIR     prints one line per problem; exit 1 if any

No server is involved: every local href/src of every page must resolve to a
file (after percent-decoding as UTF-8), and the media must be what their
names say: the MP3 a walkable MPEG-1 Layer III stream of a few MB, its
Chinese-named copy byte-identical, the favicon an ICO, the picture a PNG
whose chunks all pass their CRC. Standard library only.
"""
import html.parser
import os
import posixpath
import re
import struct
import sys
import urllib.parse
import zlib

MB = 1000 * 1000
MP3_MIN, MP3_MAX = 3 * MB, 6 * MB
SITE_MAX = 8 * MB
CN_AUDIO_REF = "%E5%AE%9E%E9%AA%8C%E4%BA%8C.mp3"  # 实验二.mp3

REQUIRED = [
    "index.html", "style.css", "favicon.ico", "img/profile.png",
    "audio/intro.mp3", "cn/Lab2.html", "cn/实验二.mp3",
    ".tools/make-media.sh", ".tools/draw-images.py",
]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


# ---------------------------------------------------------------- HTML

class Page(html.parser.HTMLParser):
    """Collects the tags of one page and checks that elements nest."""

    def __init__(self, name):
        super().__init__(convert_charrefs=True)
        self.name = name
        self.tags = []        # (tag, attrs dict) in document order
        self.stack = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            open_tag = self.stack[-1] if self.stack else "nothing"
            problem(self.name, f"</{tag}> closes <{open_tag}> (line {self.getpos()[0]})")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **want):
        return [a for t, a in self.tags
                if t == tag and all(a.get(k) == v for k, v in want.items())]


def resolve(root, page_rel, ref):
    """Map a local reference to a path under root, or return a problem."""
    if any(ord(ch) > 126 or ch in " \t\"<>\\" for ch in ref):
        return None, "not percent-encoded"
    path = ref.split("#", 1)[0].split("?", 1)[0]
    try:
        path = urllib.parse.unquote(path, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None, "percent-encoding is not UTF-8"
    if "\0" in path:
        return None, "contains NUL"
    base = "" if path.startswith("/") else posixpath.dirname(page_rel)
    joined = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
    if joined == ".." or joined.startswith("../"):
        return None, "points outside the site"
    if any(part.startswith(".") for part in joined.split("/") if part != "."):
        return None, "points at a dotfile (not served)"
    target = os.path.join(root, joined)
    if os.path.isdir(target):
        if not path.endswith("/") and path != "":
            return None, "is a directory without a trailing slash"
        target = os.path.join(target, "index.html")
    if not os.path.isfile(target):
        return None, f"no such file {joined}"
    return target, None


def check_page(root, rel):
    name = rel
    raw = open(os.path.join(root, rel), "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        problem(name, f"not UTF-8 ({e})")
        return None
    if not re.match(r"\s*<!DOCTYPE html>", text, re.I):
        problem(name, "does not start with <!DOCTYPE html>")
    if not re.search(r'<meta\s+charset="?utf-8"?\s*/?>', text[:1024], re.I):
        problem(name, 'no <meta charset="utf-8"> in the first 1024 bytes')
    page = Page(name)
    page.feed(text)
    page.close()
    if page.stack:
        problem(name, f"unclosed elements: {' '.join(page.stack)}")
    if not page.find("html") or not page.find("html")[0].get("lang"):
        problem(name, "<html> has no lang attribute")
    if not page.find("title"):
        problem(name, "no <title>")
    if not [a for a in page.find("link") if "icon" in (a.get("rel") or "").split()]:
        problem(name, "no favicon <link rel=icon>")
    for tag, attrs in page.tags:
        for attr in ("href", "src"):
            ref = attrs.get(attr)
            if ref is None:
                continue
            if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", ref) or ref.startswith(("//", "#")):
                continue
            _, err = resolve(root, rel, ref)
            if err:
                problem(name, f'<{tag} {attr}="{ref}"> {err}')
    return page


def check_index(root, page, png_size):
    name = "index.html"
    text = " ".join(page.text)
    for needle in ("Ada Student", "ada@example.edu", "+1 555 0100"):
        if needle not in text:
            problem(name, f"profile lacks {needle!r}")
    audio = page.find("audio", src="audio/intro.mp3")
    if not audio or "controls" not in audio[0] or audio[0].get("preload") != "metadata":
        problem(name, 'no <audio controls preload="metadata" src="audio/intro.mp3">')
    imgs = page.find("img", src="img/profile.png")
    if not imgs:
        problem(name, 'no <img src="img/profile.png">')
    else:
        img = imgs[0]
        if not img.get("alt"):
            problem(name, "profile image has no alt text")
        if png_size and (img.get("width"), img.get("height")) != tuple(map(str, png_size)):
            problem(name, f"img width/height {img.get('width')}x{img.get('height')}"
                          f" differ from the PNG's {png_size[0]}x{png_size[1]}")
    if not page.find("a", href="cn/Lab2.html"):
        problem(name, 'no link to the second page cn/Lab2.html')
    if not [a for a in page.find("link") if a.get("rel") == "stylesheet"]:
        problem(name, "no stylesheet")


def check_lab2(root, page):
    name = "cn/Lab2.html"
    if not page.find("audio", src=CN_AUDIO_REF):
        problem(name, f'no <audio src="{CN_AUDIO_REF}"> (实验二.mp3, percent-encoded)')
    back = [a for a in page.find("a")
            if resolve(root, name, a.get("href", ""))[0] ==
            os.path.join(root, "index.html")]
    if not back:
        problem(name, "no link back to the profile page")


# ---------------------------------------------------------------- media

MPEG1_L3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
MPEG1_RATES = [44100, 48000, 32000]


def check_mp3(path, name):
    data = open(path, "rb").read()
    if not MP3_MIN <= len(data) <= MP3_MAX:
        problem(name, f"size {len(data)} bytes, want {MP3_MIN}..{MP3_MAX}")
    pos = 0
    if data[:3] == b"ID3":
        if len(data) < 10 or data[3] not in (2, 3, 4) or any(b & 0x80 for b in data[6:10]):
            problem(name, "malformed ID3v2 header")
            return
        size = 0
        for b in data[6:10]:
            size = size << 7 | b
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    end = len(data) - (128 if data[-128:-125] == b"TAG" else 0)
    frames, rates, kbps_sum = 0, set(), 0
    while pos + 4 <= end:
        h = struct.unpack(">I", data[pos:pos + 4])[0]
        sync, version, layer = h >> 21, (h >> 19) & 3, (h >> 17) & 3
        br_idx, sr_idx, pad = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
        if sync != 0x7FF or version != 3 or layer != 1 or br_idx in (0, 15) or sr_idx == 3:
            problem(name, f"no MPEG-1 Layer III frame header at byte {pos} "
                          f"(frame {frames}): {data[pos:pos + 4].hex()}")
            return
        kbps, rate = MPEG1_L3_KBPS[br_idx], MPEG1_RATES[sr_idx]
        pos += 144 * kbps * 1000 // rate + pad
        frames += 1
        rates.add(rate)
        kbps_sum += kbps
    if pos != end:
        problem(name, f"last frame overruns the file by {pos - end} bytes")
    if frames == 0:
        problem(name, "no MPEG audio frames")
        return
    if len(rates) != 1:
        problem(name, f"sample rate changes between frames: {sorted(rates)}")
    secs = frames * 1152 / min(rates)
    if not 120 <= secs <= 360:
        problem(name, f"{frames} frames = {secs:.0f} s, want 2 to 6 minutes")
    print(f"# {name}: {len(data)} bytes, {frames} frames, {secs:.1f} s, "
          f"{kbps_sum / frames:.0f} kbit/s average")


def check_png(path, name):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        problem(name, "no PNG signature")
        return None
    pos, chunks, idat = 8, [], b""
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if pos + 12 + length > len(data):
            problem(name, f"chunk {kind!r} at byte {pos} runs past the end")
            return None
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            problem(name, f"chunk {kind!r} at byte {pos}: bad CRC")
            return None
        chunks.append(kind)
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    if not chunks or chunks[0] != b"IHDR" or chunks[-1] != b"IEND" or b"IDAT" not in chunks:
        problem(name, f"chunk order {chunks} is not IHDR ... IDAT ... IEND")
        return None
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype)
    if channels is None or depth != 8:
        problem(name, f"unexpected colour type {ctype} / depth {depth}")
        return None
    try:
        pixels = zlib.decompress(idat)
    except zlib.error as e:
        problem(name, f"IDAT does not inflate: {e}")
        return None
    if len(pixels) != h * (1 + w * channels):
        problem(name, f"image data is {len(pixels)} bytes, want {h * (1 + w * channels)}")
    if not (64 <= w <= 2048 and 64 <= h <= 2048):
        problem(name, f"odd size {w}x{h}")
    print(f"# {name}: PNG {w}x{h}, {len(data)} bytes")
    return (w, h)


def check_ico(path, name):
    data = open(path, "rb").read()
    if len(data) < 6:
        problem(name, "too short for an ICO")
        return
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    if reserved != 0 or kind != 1 or not 1 <= count <= 32 or len(data) < 6 + 16 * count:
        problem(name, "no ICO header (0, 1, count)")
        return
    sizes = []
    for i in range(count):
        w, h, _, _, _, bpp, size, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i:22 + 16 * i])
        w, h = w or 256, h or 256
        img = data[offset:offset + size]
        if offset < 6 + 16 * count or len(img) != size:
            problem(name, f"image {i} ({w}x{h}) lies outside the file")
            continue
        if img[:8] == b"\x89PNG\r\n\x1a\n":
            sizes.append((w, h))
            continue
        if len(img) < 40:
            problem(name, f"image {i} is neither PNG nor BMP")
            continue
        hsize, bw, bh, planes, bits = struct.unpack("<IiiHH", img[:16])
        need = h * ((w * bits + 31) // 32) * 4 + h * ((w + 31) // 32) * 4
        if hsize != 40 or bw != w or bh != 2 * h or bits not in (1, 4, 8, 24, 32):
            problem(name, f"image {i}: bad BITMAPINFOHEADER")
        elif len(img) < 40 + need:
            problem(name, f"image {i}: {len(img)} bytes, a {w}x{h}x{bits} icon needs {40 + need}")
        else:
            sizes.append((w, h))
    if (16, 16) not in sizes:
        problem(name, f"no 16x16 image (has {sizes})")
    print(f"# {name}: ICO with {count} images {sizes}")


# ---------------------------------------------------------------- site

def main():
    if len(sys.argv) != 2:
        sys.exit("usage: www_check.py WWW_DIR")
    root = os.path.abspath(sys.argv[1])
    for rel in REQUIRED:
        if not os.path.isfile(os.path.join(root, rel)):
            problem(rel, "missing")
    total, pages = 0, []
    for d, dirs, files in os.walk(root):
        for f in dirs + files:
            p = os.path.join(d, f)
            if os.path.islink(p):
                problem(os.path.relpath(p, root), "is a symlink (a server may refuse it)")
            elif os.path.isfile(p):
                total += os.path.getsize(p)
                if f.endswith(".html") and "/." not in p[len(root):]:
                    pages.append(os.path.relpath(p, root))
    if total > SITE_MAX:
        problem("www", f"{total} bytes in all, want at most {SITE_MAX}")
    if problems:  # the rest assumes the files exist
        return
    if not os.access(os.path.join(root, ".tools/make-media.sh"), os.X_OK):
        problem(".tools/make-media.sh", "not executable")

    png_size = check_png(os.path.join(root, "img/profile.png"), "img/profile.png")
    check_ico(os.path.join(root, "favicon.ico"), "favicon.ico")
    check_mp3(os.path.join(root, "audio/intro.mp3"), "audio/intro.mp3")
    a = open(os.path.join(root, "audio/intro.mp3"), "rb").read()
    if open(os.path.join(root, "cn/实验二.mp3"), "rb").read() != a:
        problem("cn/实验二.mp3", "differs from audio/intro.mp3")

    parsed = {rel: check_page(root, rel) for rel in sorted(pages)}
    if parsed.get("index.html"):
        check_index(root, parsed["index.html"], png_size)
    if parsed.get("cn/Lab2.html"):
        check_lab2(root, parsed["cn/Lab2.html"])
    print(f"# {len(pages)} pages, {total} bytes in all")


if __name__ == "__main__":
    main()
    for p in problems:
        print(f"www-site: {p}")
    sys.exit(1 if problems else 0)
