#!/usr/bin/env python3
"""Checks of labmon's figures (SVG ladders, time-sequence graphs, HTML reports).

    labmon_figures.py ladder SVG JSON [MAX]   the ladder against --json's numbers
    labmon_figures.py same SVG LADDER_TXT     the ladder against --ladder's text
    labmon_figures.py tsg SVG JSON            the graph against --json's numbers
    labmon_figures.py hostile-pcap OUT        a capture whose requests and
                                              answers carry markup, quotes,
                                              ampersands, invalid UTF-8 and NUL
    labmon_figures.py keepalive-pcap OUT      one keep-alive connection: 200, 200, 404
    labmon_figures.py hostile FILE...         the files (SVGs or an HTML report of
                                              that capture) show them as text
    labmon_figures.py report HTML [CONNS]     the report is one self-contained
                                              page, linked both ways, its figures XML
    labmon_figures.py png FILE                a screenshot that is not blank

JSON is labmon's --json line of the connection. Each check prints what it
compared and exits non-zero on the first difference.
"""
import html.parser
import json
import re
import struct
import sys
import zlib
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def expect(what, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))
    print("ok %s = %r" % (what, got))


def classes(el):
    return set(el.get("class", "").split())


def svg_root(path):
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        fail("%s is not well-formed XML: %s" % (path, e))


def ladder(path, jpath, max_rows=0):
    root = svg_root(path)
    conn = json.load(open(jpath))
    pkts = [g for g in root.iter(NS + "g") if "pkt" in classes(g)]
    total = conn["pkts_c2s"] + conn["pkts_s2c"]
    if max_rows and total > max_rows:
        expect("packets drawn (--svg-max)", len(pkts), max_rows)
        gaps = [t.text for t in root.iter(NS + "text") if "gap" in classes(t)]
        expect("elision note", gaps, ["\u22ef %d packets not drawn (--svg-max %d) \u22ef"
                                      % (total - max_rows, max_rows)])
        return
    expect("one pkt element per packet", len(pkts), total)
    for d, key in (("c2s", "pkts_c2s"), ("s2c", "pkts_s2c")):
        expect("%s packets" % d, sum(1 for g in pkts if d in classes(g)), conn[key])
    for d, key in (("c2s", "bytes_c2s"), ("s2c", "bytes_s2c")):
        expect("%s payload (sum of data-len)" % d,
               sum(int(g.get("data-len")) for g in pkts if d in classes(g)), conn[key])
    expect("retransmissions", sum(1 for g in pkts if "retrans" in classes(g)),
           conn["retransmissions"])
    expect("duplicate ACKs", sum(1 for g in pkts if "dupack" in classes(g)), conn["dup_acks"])
    expect("window updates", sum(1 for g in pkts if "winupd" in classes(g)),
           conn["window_updates"])
    expect("SYN packets", sum(1 for g in pkts if "syn" in classes(g)),
           sum(1 for g in pkts if "SYN" in g.get("data-flags")))
    expect("data packets", sum(1 for g in pkts if "data" in classes(g)),
           sum(1 for g in pkts if int(g.get("data-len")) > 0))
    # The label of each arrow says the numbers of its data- attributes.
    for g in pkts:
        lbl = [t for t in g.iter(NS + "text") if "lbl" in classes(t)][0].text
        want = "%s seq=%s ack=%s len=%s win=%s" % (g.get("data-flags") or "-", g.get("data-seq"),
                                                   g.get("data-ack"), g.get("data-len"),
                                                   g.get("data-win"))
        if lbl != want:
            fail("label %r, data attributes say %r" % (lbl, want))
    print("ok labels match the data- attributes")
    caption = [t.text for t in root.iter(NS + "text") if "caption" in classes(t)][0]
    if conn["rtt_ms"] is not None and ("RTT %.3f ms" % conn["rtt_ms"]) not in caption:
        fail("caption %r lacks the RTT %.3f ms" % (caption, conn["rtt_ms"]))
    print("ok caption")


def same_as_text(path, tpath):
    """Each packet's time, label and note are those of the text ladder (--ladder)."""
    root = svg_root(path)
    pkts = [g for g in root.iter(NS + "g") if "pkt" in classes(g)]
    rows = []
    for line in open(tpath, encoding="utf-8", errors="replace"):
        m = re.match(r"^ *(\d+\.\d{6})  \|.*?([A-Z,]*) seq=(\d+) ack=(\d+) len=(\d+) win=(\d+)"
                     r".*?\|  ?(.*)$", line.rstrip("\n"))
        if m:
            rows.append(m.groups())
    expect("packets in the text ladder", len(rows), len(pkts))
    for g, (t, flags, seq, ack, ln, win, note) in zip(pkts, rows):
        got = (g.get("data-t"), g.get("data-flags"), g.get("data-seq"), g.get("data-ack"),
               g.get("data-len"), g.get("data-win"))
        if got != (t, flags, seq, ack, ln, win):
            fail("packet %s: %r, the text ladder says %r" % (g.get("data-n"), got,
                                                           (t, flags, seq, ack, ln, win)))
        shown = "".join(x.text or "" for x in g.iter(NS + "text") if "note" in classes(x))
        if note.strip() and not shown.startswith(note.strip()[:60]):
            fail("packet %s: note %r, the text ladder says %r" % (g.get("data-n"), shown, note))
    print("ok times, labels and notes are --ladder's")


def tsg(path, jpath):
    root = svg_root(path)
    conn = json.load(open(jpath))
    graph = [g for g in root.iter(NS + "g") if "graph" in classes(g)][0]
    d = graph.get("data-dir")
    busier = "c2s" if conn["bytes_c2s"] > conn["bytes_s2c"] else "s2c"
    expect("direction graphed", d, busier)
    expect("retransmissions graphed", int(graph.get("data-retrans")), conn[d]["retransmissions"])
    segs = [p for p in root.iter(NS + "path") if "seg" in classes(p)]
    rtx = [c for c in root.iter(NS + "circle") if "rtx" in classes(c)]
    n = int(graph.get("data-segments"))
    # The key draws one bar of each kind too.
    expect("bars drawn", len(segs), n + 2)
    expect("retransmission marks", len(rtx), int(graph.get("data-retrans")) + 1)
    sacks = [r for r in root.iter(NS + "rect") if "sack" in classes(r)]
    expect("SACK boxes", len(sacks), int(graph.get("data-sacks")) + 1)
    for t in root.iter(NS + "text"):
        if "axis" in classes(t) and not re.search(r"\((bytes|kB|MB|s|ms|\u00b5s)\)$", t.text):
            fail("axis title without a unit: %r" % t.text)
    print("ok axes have units")


def pcap_frame(out, ts, src, dst, sport, dport, seq, ack, flags, payload=b""):
    ip_len = 20 + 20 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0, 64, 6, 0, bytes(src), bytes(dst))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    frame = ip + tcp + payload
    out.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame)))
    out.write(frame)


# (request line target, Range, status line) of each hostile exchange.
HOSTILE = [
    (b"/<script>console.error(1)</script>", b"bytes=0-1<b>", b"200 <i>OK</i> & \"more\""),
    (b"/q?a=1&b=\"2\"&c='3'", b"bytes=\"0-1\"", b"404 Not 'Found'"),
    (b"/bad\xff\xfe\xc3(utf8", b"bytes=0-\xc3", b"206 Partial\xc0\xbc"),
    (b"/nul%00</title><svg/onload=console.error(7)>", b"bytes=0-\x01\x1b[31m\x00<i>",
     b"500 Bad\tTab"),
]


def connection(out, t, cp, exchanges):
    """One connection: handshake, each (request, response) in turn, FIN close."""
    c, s = [10, 9, 8, 7], [10, 9, 8, 1]
    A, S, F, P = 0x10, 0x02, 0x01, 0x08
    cs, ss = 1001, 5001
    pcap_frame(out, t, c, s, cp, 80, cs - 1, 0, S)
    pcap_frame(out, t + 0.001, s, c, 80, cp, ss - 1, cs, S | A)
    pcap_frame(out, t + 0.002, c, s, cp, 80, cs, ss, A)
    for req, resp in exchanges:
        t += 0.003
        pcap_frame(out, t, c, s, cp, 80, cs, ss, P | A, req)
        cs += len(req)
        pcap_frame(out, t + 0.001, s, c, 80, cp, ss, cs, P | A, resp)
        ss += len(resp)
        pcap_frame(out, t + 0.002, c, s, cp, 80, cs, ss, A)
    pcap_frame(out, t + 0.005, c, s, cp, 80, cs, ss, F | A)
    pcap_frame(out, t + 0.006, s, c, 80, cp, ss, cs + 1, F | A)
    pcap_frame(out, t + 0.007, c, s, cp, 80, cs + 1, ss + 1, A)


def pcap_open(path):
    out = open(path, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 228))  # LINKTYPE_IPV4
    return out


def hostile_pcap(path):
    """One connection per exchange."""
    with pcap_open(path) as out:
        for i, (uri, rng, status) in enumerate(HOSTILE):
            req = b"GET " + uri + b" HTTP/1.1\r\nHost: x\r\nRange: " + rng + b"\r\n\r\n"
            resp = b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\nContent-Range: " + rng + \
                b"\r\n\r\nhi"
            connection(out, 1700000000.0 + i, 40000 + i, [(req, resp)])


def keepalive_pcap(path):
    """A keep-alive connection answered 200, 200, 404 (the waterfall must show the 404)."""
    ex = []
    for uri, status in ((b"/index.html", b"200 OK"), (b"/index.html", b"200 OK"),
                        (b"/missing.html", b"404 Not Found")):
        ex.append((b"GET " + uri + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                   b"HTTP/1.1 " + status + b"\r\nContent-Length: 5\r\n\r\nhello"))
    with pcap_open(path) as out:
        connection(out, 1700000000.0, 40000, ex)


class Elements(html.parser.HTMLParser):
    """What an HTML page is made of: its elements and attributes, and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text, self.ids, self.hrefs = [], [], [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append(k)
            if k == "id":
                self.ids.add(v)
            if k == "href":
                self.hrefs.append(v)

    def handle_data(self, data):
        self.text.append(data)


def hostile(paths):
    """Each file is clean; together they show every hostile string as text."""
    text = ""
    for path in paths:
        raw = open(path, "rb").read()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            fail("%s is not valid UTF-8: %s" % (path, e))
        if b"\x00" in raw:
            fail("a NUL byte in %s" % path)
        if path.endswith(".svg"):
            svg_root(path)
        p = Elements()
        p.feed(raw.decode())
        for tag in ("script", "i", "b"):
            if tag in p.tags:
                fail("%s: the capture's <%s> became an element" % (path, tag))
        if "onload" in p.attrs:
            fail("%s: the capture's onload became an attribute" % path)
        text += "".join(p.text)
    for want in ("/<script>console.error(1)</script>", "a=1&b=\"2\"&c='3'", "404 Not 'Found'",
                 "200 <i>OK</i> & \"more\"", "/bad\\xFF\\xFE\\xC3(utf8",
                 "/nul%00</title><svg/onload=console.error(7)>", "bytes=0-1<b>",
                 "bytes=0-\\x01\\x1B[31m", "500 Bad\\x09Tab", "Partial\\xC0\\xBC"):
        if want not in text:
            fail("%r is not shown as text" % want)
    print("ok %s: markup, quotes, ampersands, invalid UTF-8 and NUL shown as text" %
          " ".join(paths))


def report(path, conns=None):
    raw = open(path, "rb").read().decode("utf-8")
    p = Elements()
    p.feed(raw)
    if re.search(r"(src|href)\s*=\s*[\"']?(https?:|//|file:)", raw):
        fail("the report loads something from outside")
    for h in p.hrefs:
        if not h.startswith("#"):
            fail("a link out of the page: %r" % h)
        if h[1:] not in p.ids:
            fail("a link to a missing anchor: %r" % h)
    # Each figure: from its <svg xmlns=...> to the last </svg> before the next figure or section.
    starts = [m.start() for m in re.finditer(r'<svg xmlns="http://www.w3.org/2000/svg"', raw)]
    figs = []
    for i, a in enumerate(starts):
        limit = starts[i + 1] if i + 1 < len(starts) else len(raw)
        for stop in ("</section>", "<h2"):
            k = raw.find(stop, a, limit)
            if k >= 0:
                limit = k
        figs.append(raw[a:raw.rfind("</svg>", a, limit) + 6])
    for f in figs:
        try:
            ET.fromstring(f)
        except ET.ParseError as e:
            fail("an inline figure is not well-formed XML: %s: %s" % (e, f[:200]))
    if not figs:
        fail("no inline figure in the report")
    rows = [i for i in p.ids if re.fullmatch(r"c\d+", i)]
    details = [i for i in p.ids if re.fullmatch(r"d\d+", i)]
    for d in details:
        if "#c" + d[1:] not in p.hrefs or "#" + d not in p.hrefs:
            fail("connection %s is not linked both ways" % d[1:])
    if conns is not None:
        expect("summary rows", len(rows), int(conns))
    print("ok %s: self-contained, %d rows, %d details linked both ways, %d figures parse" %
          (path, len(rows), len(details), len(figs)))


def png_pixels(path):
    """The RGB(A) rows of an 8-bit PNG (what Chromium's screenshots are), unfiltered."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack("!I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack("!IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                fail("%s: a PNG of another kind (depth %d, colour type %d)" % (path, depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return rows, bpp


def png_not_blank(path):
    rows, bpp = png_pixels(path)
    total = dark = 0
    for line in rows:
        for i in range(0, len(line), bpp):
            total += 1
            if line[i] + line[i + 1] + line[i + 2] < 600:
                dark += 1
    if total == 0 or dark < total // 500:
        fail("%s looks blank: %d of %d pixels drawn" % (path, dark, total))
    print("ok %s: %d of %d pixels drawn" % (path, dark, total))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "ladder":
        ladder(args[0], args[1], int(args[2]) if len(args) > 2 else 0)
    elif cmd == "same":
        same_as_text(args[0], args[1])
    elif cmd == "tsg":
        tsg(args[0], args[1])
    elif cmd == "hostile-pcap":
        hostile_pcap(args[0])
    elif cmd == "keepalive-pcap":
        keepalive_pcap(args[0])
    elif cmd == "hostile":
        hostile(args)
    elif cmd == "png":
        png_not_blank(args[0])
    elif cmd == "report":
        report(args[0], args[1] if len(args) > 1 else None)
    else:
        fail("unknown command %s" % cmd)


if __name__ == "__main__":
    main()
