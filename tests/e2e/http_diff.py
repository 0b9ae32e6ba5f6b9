#!/usr/bin/env python3
"""Differential HTTP test: the same raw requests to labd and to nginx.

    http_diff.py mkroot DIR                 build the shared document root
    http_diff.py nginx-conf DIR PORT ROOT   write DIR/nginx.conf for that root
    http_diff.py compare LABD_PORT NGINX_PORT [--self]

compare sends every request in REQUESTS to both servers (one connection per
request, "Connection: close") and compares what must agree: status,
Content-Length, Content-Range, Content-Type, ETag presence, Accept-Ranges,
Last-Modified, Location and a hash of the body (multipart boundaries
replaced by a fixed token). A request whose answers differ fails, unless the
difference is listed in DEVIATIONS with a reason - and then the listed
difference must be exactly what is seen, so the list cannot go stale.
--self compares nginx with itself (a check of the harness).
Standard library only.
"""
import hashlib
import os
import random
import re
import socket
import sys

MTIME = 1700000000  # Tue, 14 Nov 2023 22:13:20 GMT: fixed, so dates below are stable
LM = "Tue, 14 Nov 2023 22:13:20 GMT"
LM_BEFORE = "Tue, 14 Nov 2023 22:13:19 GMT"
LM_AFTER = "Tue, 14 Nov 2023 22:13:21 GMT"
LM_850 = "Tuesday, 14-Nov-23 22:13:20 GMT"
LM_ASC = "Tue Nov 14 22:13:20 2023"
CN = "\u97f3\u4e50.mp3"  # "music.mp3" in Chinese
CN_ENC = "".join("%%%02X" % b for b in CN.encode())

FILES = {
    "index.html": b"<!DOCTYPE html>\n<title>diff</title>\n" + b"<p>hello</p>\n" * 200,
    "style.css": b"body { color: #333; }\n" * 50,
    "app.js": b"console.log('labd');\n" * 40,
    "data.json": b'{"a": 1, "b": [1, 2, 3]}\n',
    "notes.txt": b"plain text\n" * 300,
    "feed.xml": b"<?xml version='1.0'?><feed/>\n",
    "icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "empty.txt": b"",
    "one.txt": b"x",
    "noext": b"no extension here\n",
    "blob.unknownext": b"\x00\x01\x02" * 100,
    "a b.txt": b"space in the name\n",
    "a+b.txt": b"plus in the name\n",
    "pct%name.txt": b"percent in the name\n",
    "back\\slash.txt": b"backslash in the name\n",
    "sub/index.html": b"<p>sub index</p>\n",
    "sub/page.html": b"<p>sub page</p>\n",
    "noindex/file.txt": b"no index.html beside me\n",
    ".hidden": b"dotfile\n",
    ".git/config": b"[core]\n",
    ".well-known/security.txt": b"Contact: mailto:x@example.org\n",
}
RANDOM_FILES = {  # name: size, filled with seeded random bytes
    "pic.png": 30000,
    "photo.jpg": 20000,
    "favicon.ico": 1150,
    "font.woff2": 9000,
    "mod.wasm": 4000,
    "doc.pdf": 12000,
    "song.mp3": 300000,
    "cn/" + CN: 100000,
    "big.bin": 1 << 20,
}


def mkroot(root):
    rnd = random.Random(42)
    items = list(FILES.items()) + [(n, bytes(rnd.getrandbits(8) for _ in range(s)))
                                   for n, s in RANDOM_FILES.items()]
    for name, data in items:
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (MTIME, MTIME))


NGINX_CONF = """\
# Written by tests/e2e/http_diff.py: nginx set up the way labd behaves by design.
worker_processes 1;
user root;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    server_tokens off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # labd's text types carry charset=utf-8
    charset utf-8;
    charset_types text/css text/plain text/xml application/javascript;
    # RFC 9110 semantics (nginx's default "exact" wants equality)
    if_modified_since before;
    max_ranges 16;
    absolute_redirect off;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
        # the usual idiom; labd refuses dotfiles the same way
        location ~ /\\.(?!well-known/) {{ deny all; }}
    }}
}}
"""


def nginx_conf(d, port, root):
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(dir=d, port=port, root=root))


def H(**kw):
    return kw


# (name, method, target, extra header lines, options). Placeholders {etag} and
# {lm} are replaced by that server's own ETag and Last-Modified for the target
# (fetched with a HEAD first), since the ETag formats differ on purpose.
REQUESTS = [
    # Plain files and types.
    ("get-root", "GET", "/", [], {}),
    ("get-index", "GET", "/index.html", [], {}),
    ("head-index", "HEAD", "/index.html", [], {}),
    ("get-css", "GET", "/style.css", [], {}),
    ("get-js", "GET", "/app.js", [], {}),
    ("get-json", "GET", "/data.json", [], {}),
    ("get-txt", "GET", "/notes.txt", [], {}),
    ("get-xml", "GET", "/feed.xml", [], {}),
    ("get-svg", "GET", "/icon.svg", [], {}),
    ("get-png", "GET", "/pic.png", [], {}),
    ("get-jpg", "GET", "/photo.jpg", [], {}),
    ("get-ico", "GET", "/favicon.ico", [], {}),
    ("get-woff2", "GET", "/font.woff2", [], {}),
    ("get-wasm", "GET", "/mod.wasm", [], {}),
    ("get-pdf", "GET", "/doc.pdf", [], {}),
    ("get-mp3", "GET", "/song.mp3", [], {}),
    ("head-mp3", "HEAD", "/song.mp3", [], {}),
    ("get-big", "GET", "/big.bin", [], {}),
    ("get-empty", "GET", "/empty.txt", [], {}),
    ("get-noext", "GET", "/noext", [], {}),
    ("get-unknown-ext", "GET", "/blob.unknownext", [], {}),
    ("get-cn-encoded", "GET", "/cn/" + CN_ENC, [], {}),
    ("get-cn-lower-hex", "GET", "/cn/" + CN_ENC.lower(), [], {}),
    ("get-space", "GET", "/a%20b.txt", [], {}),
    ("get-plus", "GET", "/a+b.txt", [], {}),
    ("get-pct", "GET", "/pct%25name.txt", [], {}),
    ("get-backslash", "GET", "/back%5Cslash.txt", [], {}),
    ("get-query", "GET", "/index.html?v=1&x=/../", [], {}),
    ("get-encoded-char", "GET", "/%69ndex.html", [], {}),
    ("http10", "GET", "/notes.txt", [], {"version": "HTTP/1.0"}),
    # Directories.
    ("dir-no-slash", "GET", "/sub", [], {}),
    ("dir-no-slash-query", "GET", "/sub?a=b", [], {}),
    ("dir-slash", "GET", "/sub/", [], {}),
    ("dir-page", "GET", "/sub/page.html", [], {}),
    ("dir-no-index", "GET", "/noindex/", [], {}),
    ("dir-cn-no-slash", "GET", "/cn", [], {}),
    # Not found.
    ("404", "GET", "/nope.html", [], {}),
    ("404-dir", "GET", "/nope/", [], {}),
    ("404-file-as-dir", "GET", "/index.html/x", [], {}),
    ("head-404", "HEAD", "/nope.html", [], {}),
    # Path normalisation and hostile paths.
    ("dot-seg", "GET", "/./index.html", [], {}),
    ("double-slash", "GET", "//index.html", [], {}),
    ("dotdot-inside", "GET", "/sub/../index.html", [], {}),
    ("enc-dotdot-inside", "GET", "/sub/%2e%2e/index.html", [], {}),
    ("enc-slash", "GET", "/sub%2fpage.html", [], {}),
    ("dotdot-escape", "GET", "/../index.html", [], {}),
    ("enc-dotdot-escape", "GET", "/%2e%2e/%2e%2e/etc/passwd", [], {}),
    ("deep-escape", "GET", "/sub/../../etc/passwd", [], {}),
    ("nul", "GET", "/index.html%00.txt", [], {}),
    ("bad-escape", "GET", "/%zz", [], {}),
    ("overlong-utf8", "GET", "/%c0%ae%c0%ae/etc/passwd", [], {}),
    ("dotfile", "GET", "/.hidden", [], {}),
    ("dot-dir", "GET", "/.git/config", [], {}),
    ("enc-dotfile", "GET", "/%2ehidden", [], {}),
    ("well-known", "GET", "/.well-known/security.txt", [], {}),
    # Ranges.
    ("range-first", "GET", "/song.mp3", ["Range: bytes=0-0"], {}),
    ("range-safari", "GET", "/song.mp3", ["Range: bytes=0-1"], {}),
    ("range-chromium", "GET", "/song.mp3", ["Range: bytes=0-"], {}),
    ("range-mid", "GET", "/song.mp3", ["Range: bytes=1000-1999"], {}),
    ("range-open", "GET", "/song.mp3", ["Range: bytes=299000-"], {}),
    ("range-suffix", "GET", "/song.mp3", ["Range: bytes=-500"], {}),
    ("range-suffix-big", "GET", "/notes.txt", ["Range: bytes=-100000"], {}),
    ("range-past-end", "GET", "/notes.txt", ["Range: bytes=3000-99999"], {}),
    ("range-case", "GET", "/notes.txt", ["Range: BYTES=0-9"], {}),
    ("range-spaces", "GET", "/notes.txt", ["Range: bytes= 0-9"], {}),
    ("range-head", "HEAD", "/song.mp3", ["Range: bytes=0-99"], {}),
    ("range-cn", "GET", "/cn/" + CN_ENC, ["Range: bytes=500-"], {}),
    ("multi-2", "GET", "/notes.txt", ["Range: bytes=0-9,20-29"], {}),
    ("multi-3-suffix", "GET", "/song.mp3", ["Range: bytes=0-99,5000-5999,-10"], {}),
    ("multi-html", "GET", "/index.html", ["Range: bytes=0-4,10-14"], {}),
    ("multi-one-unsat", "GET", "/notes.txt", ["Range: bytes=0-9,9999-"], {}),
    ("unsat", "GET", "/notes.txt", ["Range: bytes=5000-"], {}),
    ("unsat-multi", "GET", "/notes.txt", ["Range: bytes=5000-,6000-7000"], {}),
    ("unsat-suffix0", "GET", "/notes.txt", ["Range: bytes=-0"], {}),
    ("overlap-sum", "GET", "/notes.txt", ["Range: bytes=0-,0-"], {}),
    ("overlap-sum-2", "GET", "/notes.txt", ["Range: bytes=0-2000,1000-2999"], {}),
    ("too-many", "GET", "/song.mp3",
     ["Range: bytes=" + ",".join("%d-%d" % (i * 10, i * 10) for i in range(17))], {}),
    ("max-ranges-ok", "GET", "/song.mp3",
     ["Range: bytes=" + ",".join("%d-%d" % (i * 10, i * 10) for i in range(16))], {}),
    ("range-empty-file", "GET", "/empty.txt", ["Range: bytes=0-"], {}),
    ("range-one-byte-file", "GET", "/one.txt", ["Range: bytes=-1"], {}),
    ("range-not-bytes", "GET", "/notes.txt", ["Range: items=0-9"], {}),
    ("range-malformed", "GET", "/notes.txt", ["Range: bytes=abc"], {}),
    ("range-reversed", "GET", "/notes.txt", ["Range: bytes=9-0"], {}),
    # If-Range.
    ("if-range-etag", "GET", "/song.mp3", ["Range: bytes=0-99", "If-Range: {etag}"], {}),
    ("if-range-date", "GET", "/song.mp3", ["Range: bytes=0-99", "If-Range: {lm}"], {}),
    ("if-range-old-date", "GET", "/song.mp3", ["Range: bytes=0-99", "If-Range: " + LM_BEFORE],
     {}),
    ("if-range-weak", "GET", "/song.mp3", ["Range: bytes=0-99", "If-Range: W/{etag}"], {}),
    ("if-range-other", "GET", "/song.mp3", ["Range: bytes=0-99", 'If-Range: "nope"'], {}),
    # Conditionals.
    ("inm", "GET", "/index.html", ["If-None-Match: {etag}"], {}),
    ("inm-head", "HEAD", "/index.html", ["If-None-Match: {etag}"], {}),
    ("inm-weak", "GET", "/index.html", ["If-None-Match: W/{etag}"], {}),
    ("inm-list", "GET", "/index.html", ['If-None-Match: "a", {etag}, "b"'], {}),
    ("inm-star", "GET", "/index.html", ["If-None-Match: *"], {}),
    ("inm-other", "GET", "/index.html", ['If-None-Match: "other"'], {}),
    ("ims-equal", "GET", "/index.html", ["If-Modified-Since: " + LM], {}),
    ("ims-850", "GET", "/index.html", ["If-Modified-Since: " + LM_850], {}),
    ("ims-asctime", "GET", "/index.html", ["If-Modified-Since: " + LM_ASC], {}),
    ("ims-later", "GET", "/index.html", ["If-Modified-Since: " + LM_AFTER], {}),
    ("ims-earlier", "GET", "/index.html", ["If-Modified-Since: " + LM_BEFORE], {}),
    ("ims-invalid", "GET", "/index.html", ["If-Modified-Since: yesterday"], {}),
    ("inm-other-ims-equal", "GET", "/index.html",
     ['If-None-Match: "other"', "If-Modified-Since: " + LM], {}),
    ("ims-with-range", "GET", "/song.mp3", ["If-Modified-Since: " + LM, "Range: bytes=0-9"], {}),
    ("im-match", "GET", "/index.html", ["If-Match: {etag}"], {}),
    ("im-star", "GET", "/index.html", ["If-Match: *"], {}),
    ("im-other", "GET", "/index.html", ['If-Match: "other"'], {}),
    ("ius-equal", "GET", "/index.html", ["If-Unmodified-Since: " + LM], {}),
    ("ius-earlier", "GET", "/index.html", ["If-Unmodified-Since: " + LM_BEFORE], {}),
    ("im-other-inm", "GET", "/index.html", ['If-Match: "other"', "If-None-Match: {etag}"], {}),
    # Methods and protocol.
    ("post", "POST", "/index.html", ["Content-Length: 0"], {}),
    ("delete", "DELETE", "/index.html", [], {}),
    ("put", "PUT", "/index.html", ["Content-Length: 0"], {}),
    ("options", "OPTIONS", "/index.html", [], {}),
    ("unknown-method", "BREW", "/index.html", [], {}),
    ("no-host", "GET", "/index.html", [], {"no_host": True}),
    ("http2-version", "GET", "/index.html", [], {"version": "HTTP/2.0"}),
    ("absolute-form", "GET", "http://127.0.0.1/index.html", [], {}),
    ("http12-version", "GET", "/index.html", [], {"version": "HTTP/1.2"}),
    ("absolute-userinfo", "GET", "http://u:p@127.0.0.1/index.html", [], {}),
    ("fragment", "GET", "/index.html#top", [], {}),
    ("host-ipv6", "GET", "/index.html", [], {"host": "[::1]:8080"}),
    ("host-space", "GET", "/index.html", [], {"host": "a b"}),
    ("host-slash", "GET", "/index.html", [], {"host": "127.0.0.1/evil"}),
    ("host-dotdot", "GET", "/index.html", [], {"host": "../../etc"}),
    ("host-userinfo", "GET", "/index.html", [], {"host": "u@127.0.0.1"}),
    ("host-bad-port", "GET", "/index.html", [], {"host": "127.0.0.1:abc"}),
    ("host-empty", "GET", "/index.html", [], {"host": ""}),
]

# name -> ({field: (labd value, nginx value)}, why). Each is deliberate. When
# the status differs, only the listed fields are checked (the rest follows).
DEVIATIONS = {
    "get-js": ({"content-type": ("text/javascript; charset=utf-8",
                                 "application/javascript; charset=utf-8")},
               "RFC 9239 makes text/javascript the one JavaScript type"),
    "range-malformed": ({"status": ("200", "416"), "content-range": (None, "bytes */3300")},
                        "RFC 9110 14.2: an invalid Range header is ignored; nginx answers 416"),
    "range-reversed": ({"status": ("200", "416"), "content-range": (None, "bytes */3300")},
                       "RFC 9110 14.1.1: last < first makes the range-set invalid, so the "
                       "header is ignored; nginx drops the spec and answers 416"),
    "range-head": ({"status": ("200", "206"), "content-length": ("300000", "100"),
                    "content-range": (None, "bytes 0-99/300000"), "accept-ranges": ("bytes", None)},
                   "RFC 9110 14.2: Range is defined for GET only and ignored for HEAD, so the "
                   "whole representation's header; nginx answers HEAD with 206"),
}
# Those in the status alone, one a line: name, labd's status, nginx's, why.
STATUS_DEVIATIONS = """
dir-no-index 404 403 issue 3: a directory without index.html is 404 unless --autoindex; \
nginx says 403 (listing forbidden)
options 200 405 labd answers OPTIONS with Allow (issue 3 item 5); nginx's static module \
refuses it
unknown-method 501 405 RFC 9110 15.6.2: 501 for a method the server does not recognise; \
nginx says 405 for every method but GET/HEAD/POST
fragment 400 200 RFC 9112 3.2: a request-target has no fragment (a client never sends \
one); nginx drops it and serves the file
host-userinfo 400 200 RFC 9112 3.2: an invalid Host value (a userinfo '@' is not part of \
uri-host) gets 400; nginx accepts it
host-bad-port 400 200 RFC 9112 3.2: an invalid Host value (the port is digits only) gets \
400; nginx accepts it
host-empty 200 400 RFC 9112 3.3: an empty Host leaves the authority to a configured \
default, and labd has one site; nginx refuses it
"""
for _line in STATUS_DEVIATIONS.strip().splitlines():
    _name, _labd, _nginx, _why = _line.split(" ", 3)
    DEVIATIONS[_name] = ({"status": (_labd, _nginx)}, _why)


def read_all(sock):
    chunks = []
    while True:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def exchange(port, raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(raw)
        data = read_all(s)
    finally:
        s.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0] if lines else "")
    status = m.group(1) if m else "(none: %r)" % data[:40]
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs.setdefault(k.strip().lower(), v.strip())
    return status, hdrs, body


def build(method, target, extra, opts, subst):
    version = opts.get("version", "HTTP/1.1")
    lines = ["%s %s %s" % (method, target, version)]
    if not opts.get("no_host"):
        lines.append("Host: " + opts.get("host", "127.0.0.1"))
    lines.append("Connection: close")
    for h in extra:
        for k, v in subst.items():
            h = h.replace("{%s}" % k, v)
        lines.append(h)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def validators(port, target):
    _, h, _ = exchange(port, build("HEAD", target, [], {}, {}))
    return {"etag": h.get("etag", '"none"'), "lm": h.get("last-modified", "none")}


def summary(status, h, body, method):
    """The fields that must agree, with what legitimately varies normalised away."""
    ok = status in ("200", "206", "304")
    ctype = h.get("content-type")
    boundary = None
    if ctype and ctype.startswith("multipart/byteranges"):
        m = re.search(r"boundary=(\S+)", ctype)
        boundary = m.group(1) if m else None
        ctype = "multipart/byteranges; boundary=<b>"
    s = {
        "status": status,
        "content-range": h.get("content-range"),
        "location": h.get("location"),
    }
    if ok:
        s["content-type"] = ctype if status != "304" else None
        s["content-length"] = h.get("content-length") if status != "304" else None
        s["etag"] = "present" if "etag" in h else None
        s["last-modified"] = h.get("last-modified")
        s["accept-ranges"] = h.get("accept-ranges") if status == "200" else None
        if method != "HEAD" and status != "304":
            if s["content-length"] != str(len(body)):
                s["content-length"] = "%s but %d bytes came" % (s["content-length"], len(body))
            if boundary:
                # Boundaries differ in length; compare the framing without them.
                body = body.replace(boundary.encode(), b"<b>")
                s["content-length"] = "%d without boundaries" % len(body)
            s["body"] = hashlib.sha256(body).hexdigest()[:16]
        elif body:
            s["body"] = "unexpected %d bytes" % len(body)
    return s


def compare(labd_port, nginx_port, self_check):
    failures = 0
    deviations_seen = 0
    for name, method, target, extra, opts in REQUESTS:
        got = {}
        for who, port in (("labd", labd_port), ("nginx", nginx_port)):
            subst = validators(port, target) if any("{" in e for e in extra) else {}
            status, h, body = exchange(port, build(method, target, extra, opts, subst))
            got[who] = summary(status, h, body, method)
        keys = sorted(set(got["labd"]) | set(got["nginx"]))
        diff = {k: (got["labd"].get(k), got["nginx"].get(k)) for k in keys
                if got["labd"].get(k) != got["nginx"].get(k)}
        want, why = DEVIATIONS.get(name, ({}, None)) if not self_check else ({}, None)
        if "status" in want and diff.get("status") == want["status"]:
            # Another status brings other headers: only the listed fields must match.
            diff = {k: v for k, v in diff.items() if k in want}
        if diff == want:
            if diff:
                deviations_seen += 1
                print("ok   %-22s %s (deliberate: %s)" % (name, got["labd"]["status"], why))
            else:
                print("ok   %-22s %s" % (name, got["labd"]["status"]))
            continue
        failures += 1
        print("FAIL %-22s %s %s" % (name, method, target[:60]))
        for k in keys:
            a, b = got["labd"].get(k), got["nginx"].get(k)
            mark = "  " if a == b else "!="
            print("       %s %-15s labd=%r nginx=%r" % (mark, k, a, b))
        if want:
            print("       listed deviation: %r" % (want,))
    print("%d requests, %d deliberate deviations, %d failures"
          % (len(REQUESTS), deviations_seen, failures))
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "mkroot":
        mkroot(argv[2])
        return 0
    if len(argv) == 5 and argv[1] == "nginx-conf":
        nginx_conf(argv[2], int(argv[3]), argv[4])
        return 0
    if len(argv) >= 4 and argv[1] == "compare":
        return compare(int(argv[2]), int(argv[3]), "--self" in argv)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
