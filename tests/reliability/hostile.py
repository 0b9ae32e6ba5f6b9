#!/usr/bin/env python3
"""Hostile HTTP clients for labd's reliability tests (stdlib only).

Every subcommand talks to one server on loopback, is bounded in time and
connection count, prints what it saw and exits 0 when the server behaved,
1 with the reasons otherwise:

  slowloris   N connections trickling a header, while a normal client polls
  requests    garbage, oversized and smuggling requests: status and close
  traversal   a list of escaping paths: the secret must never come back
  stall       request a big file and stop reading (hold for a while)
  pipeline    pipeline requests as fast as accepted, never read a response
  flood       open N idle connections at once and hold them
  load        sequential GETs for a while; counts failures by kind
  download    one GET; optionally mutate the file after the first bytes
  fetch       N parallel downloads, each read slowly; reports lengths
"""

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import sys
import time

STATUS_RE = re.compile(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n")


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# One raw exchange: send bytes, read until the server closes or time is up.


class Exchange:
    def __init__(self):
        self.data = b""
        self.closed = False  # server closed (EOF or reset)
        self.reset = False
        self.send_error = None

    def statuses(self):
        """Status codes of every response head in the stream (bodies skipped)."""
        out, pos, d = [], 0, self.data
        while True:
            m = STATUS_RE.match(d, pos)
            if not m:
                break
            out.append(int(m.group(1)))
            end = d.find(b"\r\n\r\n", pos)
            if end < 0:
                break
            head = d[pos:end].decode("latin-1")
            pos = end + 4
            cl = re.search(r"(?im)^content-length:\s*(\d+)\s*$", head)
            if cl and int(m.group(1)) not in (204, 304) and not self.head_request:
                pos += int(cl.group(1))
        return out

    head_request = False


def exchange(host, port, payload, timeout=3.0, chunks=None, shut_wr=False):
    """Send payload (or an iterable of chunks, stopping once the server
    answers) and collect the reply until close or timeout."""
    ex = Exchange()
    s = socket.create_connection((host, port), timeout=timeout)
    deadline = time.monotonic() + timeout
    try:
        parts = [payload] if chunks is None else chunks
        for part in parts:
            try:
                s.sendall(part)
            except OSError as e:
                ex.send_error = e.errno
                break
            if chunks is not None:
                # Stop feeding as soon as the server has something to say.
                s.setblocking(False)
                try:
                    b = s.recv(65536)
                    if b:
                        ex.data += b
                        break
                    ex.closed = True
                    break
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    ex.closed = ex.reset = True
                    break
                finally:
                    s.setblocking(True)
        if shut_wr:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        while not ex.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                ex.closed = ex.reset = True
                break
            if not b:
                ex.closed = True
                break
            ex.data += b
    finally:
        s.close()
    return ex


# ---------------------------------------------------------------------------
# requests: malformed and smuggling requests.


def hostile_cases():
    """(name, payload, status, chunks, whole_page): each case has exactly one
    right status, after which the server closes; whole_page means the body
    must be the page at / exactly once (range lists that try to multiply the
    response)."""
    H = b"Host: t\r\n"
    cases = []

    def add(name, payload, status, chunks=None, whole_page=False):
        cases.append((name, payload, status, chunks, whole_page))

    rnd = random.Random(7)
    add("binary garbage", bytes(rnd.randrange(256) for _ in range(512)) + b"\r\n\r\n", 400)
    add("text garbage", b"HELLO THERE\r\n\r\n", 400)
    add("no version", b"GET /\r\n\r\n", 400)
    add("bad version", b"GET / HTTP/9.9\r\n" + H + b"\r\n", 505)
    add("lone LF flood", b"\n" * 20000, 400)
    add("NUL in request line", b"GET /ind\x00ex.html HTTP/1.1\r\n" + H + b"\r\n", 400)
    add("huge request line", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414)
    add("huge header", b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 70000 + b"\r\n\r\n", 431)
    # Header lines forever (up to 4 MB), fed until the server answers.
    endless = _chain([b"GET / HTTP/1.1\r\n" + H], (b"X-Endless: yes\r\n" * 64 for _ in range(4000)))
    add("endless header lines", None, 431, chunks=endless)
    add("header without colon", b"GET / HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n", 400)
    add("space before colon", b"GET / HTTP/1.1\r\n" + H + b"Host : t\r\n\r\n", 400)
    add("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n  folded\r\n\r\n", 400)
    add("no Host in 1.1", b"GET / HTTP/1.1\r\n\r\n", 400)
    add("two Host", b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", 400)
    # Smuggling: a second request hides in what one side takes for a body.
    # Each case: its header fields (after Host), what follows the header, and
    # the status; 501 only for one unknown coding on its own (RFC 9112 6.1).
    tail = b"GET /smuggled HTTP/1.1\r\n" + H + b"\r\n"
    te, cl, end0 = b"Transfer-Encoding:", b"Content-Length:", b"0\r\n\r\n"
    smuggling = {
        "CL + TE": (cl + b" 5\r\n" + te + b" chunked", end0, 400),
        "TE + CL": (te + b" chunked\r\n" + cl + b" 30", end0, 400),
        "CL, CL conflicting": (cl + b" 0\r\n" + cl + b" 40", b"", 400),
        "CL list": (cl + b" 0, 40", b"", 400),
        "CL negative": (cl + b" -1", b"", 400),
        "CL plus sign": (cl + b" +0", b"", 400),
        "CL hex": (cl + b" 0x10", b"", 400),
        "CL overflow": (cl + b" 184467440737095516160", b"", 400),
        "TE chunked, x": (te + b" chunked, x", end0, 400),
        "TE x": (te + b" x", b"", 501),
        "TE twice": (te + b" chunked\r\n" + te + b" x", end0, 400),
        "TE chunked not last": (te + b" chunked, identity", end0, 400),
        "TE with space before colon": (b"Transfer-Encoding : chunked", end0, 400),
        "TE vertical tab": (te + b"\x0bchunked", end0, 400),
        "bad chunk size": (te + b" chunked", b"zz\r\n\r\n", 400),
        "chunk size overflow": (te + b" chunked", b"ffffffffffffffffff\r\n\r\n", 400),
        # "Funky chunks": chunk lines end in CRLF only, and after the size
        # only BWS before a chunk-ext's ';' (RFC 9112 7.1).
        "chunk size bare LF": (te + b" chunked", b"5\nhello\r\n0\r\n\r\n", 400),
        "junk after chunk size": (te + b" chunked", b"5 x\r\nhello\r\n0\r\n\r\n", 400),
        "space after chunk size": (te + b" chunked", b"5 \r\nhello\r\n0\r\n\r\n", 400),
        "chunk-ext bare LF": (te + b" chunked", b"5;a=b\nhello\r\n0\r\n\r\n", 400),
        "chunk data bare LF": (te + b" chunked", b"5\r\nhello\n0\r\n\r\n", 400),
        "trailer bare LF": (te + b" chunked", b"0\r\nX-T: 1\n\r\n", 400),
        "last chunk bare LF": (te + b" chunked", b"0\r\n\n", 400),
    }
    for name, (fields, body, status) in smuggling.items():
        add(name, b"GET / HTTP/1.1\r\n" + H + fields + b"\r\n\r\n" + body + tail, status)
    add("TE in HTTP/1.0", b"GET / HTTP/1.0\r\n" + te + b" chunked\r\n\r\n" + end0 + tail, 400)
    # A well-formed chunk-ext, quoted string included, is read past: the page
    # once, and the request after the body (after Connection: close) unanswered.
    add("chunk-ext with quoted string", b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n" + te +
        b" chunked\r\n\r\n" + b'5 ;a="b c";d\r\nhello\r\n0\r\n\r\n' + tail, 200, whole_page=True)
    # RFC 9112 3.2: an invalid Host value is 400; RFC 9110 4.2.4: userinfo in
    # the target is an error; a fragment is never sent; HTTP/2.0 is not a
    # version we speak (505) but HTTP/1.2 is served as 1.1 (RFC 9110 2.5).
    # Each followed by a second request that must not be answered.
    for host in (b"a b", b"127.0.0.1/evil", b"../../etc", b"u@127.0.0.1", b"127.0.0.1:abc"):
        add("Host: " + host.decode(), b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n" + tail, 400)
    add("userinfo in target", b"GET http://u:p@127.0.0.1/ HTTP/1.1\r\n" + H + b"\r\n" + tail, 400)
    add("fragment in target", b"GET /index.html#top HTTP/1.1\r\n" + H + b"\r\n" + tail, 400)
    add("HTTP/2.0 request line", b"GET / HTTP/2.0\r\n" + H + b"\r\n" + tail, 505)
    add("HTTP/1.2 served as 1.1", b"GET / HTTP/1.2\r\n" + H + b"Connection: close\r\n\r\n" + tail,
        200, whole_page=True)
    # Expect: 100-continue on a request refused from its header: the final
    # status at once, never 100 first (RFC 9110 10.1.1), then the close.
    expect = b"Expect: 100-continue\r\n\r\n"
    add("Expect, method refused", b"POST / HTTP/1.1\r\n" + H + cl + b" 5\r\n" + expect, 405)
    add("Expect, body too large", b"POST / HTTP/1.1\r\n" + H + cl + b" 99999999999\r\n" + expect,
        413)
    add("Expect, chunked, refused", b"PUT / HTTP/1.1\r\n" + H + te + b" chunked\r\n" + expect,
        405)
    add("Expect, no such file", b"GET /nope HTTP/1.1\r\n" + H + cl + b" 5\r\n" + expect, 404)
    # Range lists meant to multiply the response (CVE-2011-3192 style): the
    # page once, as a plain 200 (more than --max-ranges, or adding up to more
    # than the file), or as a 206 of all of it (an end past the file is cut
    # to the file, however many digits it has).
    close = b"Connection: close\r\n"
    add("2000 overlapping ranges", b"GET / HTTP/1.1\r\n" + H + close + b"Range: bytes=" +
        b",".join([b"0-"] * 2000) + b"\r\n\r\n", 200, whole_page=True)
    add("2000 one-byte ranges", b"GET / HTTP/1.1\r\n" + H + close + b"Range: bytes=" +
        b",".join([b"0-0"] * 2000) + b"\r\n\r\n", 200, whole_page=True)
    add("range overflow", b"GET / HTTP/1.1\r\n" + H + close +
        b"Range: bytes=0-99999999999999999999999\r\n\r\n", 206, whole_page=True)
    # Invalid UTF-8 and encodings in the path: a well-formed escape of bytes
    # that name no file is a 404 (the bytes are looked up as they are); a bad
    # escape or a NUL is a 400.
    for p, status in ((b"/\xff\xfe", 404), (b"/%ff%fe", 404), (b"/%c0%ae%c0%ae/", 404),
                      (b"/%ed%a0%80", 404), (b"/%e5%ae", 404), (b"/%", 400), (b"/%zz", 400),
                      (b"/%00", 400), (b"/index.html%00.txt", 400)):
        add("path " + p.decode("latin-1"), b"GET " + p + b" HTTP/1.1\r\n" + H +
            b"Connection: close\r\n\r\n", status)
    return cases


def _body(data):
    return data.partition(b"\r\n\r\n")[2]


def cmd_requests(a):
    bad = []
    page = exchange(a.host, a.port, b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                    timeout=a.timeout)
    if page.statuses() != [200]:
        return _report([f"GET / for reference: {page.statuses()}"])
    page = _body(page.data)
    for name, payload, want, chunks, whole_page in hostile_cases():
        ex = exchange(a.host, a.port, payload, timeout=a.timeout, chunks=chunks)
        st = ex.statuses()
        what = "closed" if ex.closed else "open"
        if ex.reset:
            what = "reset"
        log(f"{name:32s} -> {st} {what} {len(ex.data)} bytes")
        if st != [want]:
            bad.append(f"{name}: responses {st}, want exactly one {want}")
        if not ex.closed:
            bad.append(f"{name}: connection still open after {a.timeout}s")
        if whole_page and _body(ex.data) != page:
            bad.append(f"{name}: a body of {len(_body(ex.data))} bytes, not the page once "
                       f"({len(page)} bytes)")
        if b"/smuggled" in ex.data:
            bad.append(f"{name}: the smuggled request was answered")
    return _report(bad)


def _chain(first, rest):
    for x in first:
        yield x
    for x in rest:
        yield x


def _report(bad):
    for b in bad:
        log("BAD: " + b)
    return 1 if bad else 0


# ---------------------------------------------------------------------------
# traversal: none of these may return the secret or /etc content.


def traversal_paths(secret_name, abs_secret):
    s = secret_name.encode()
    ups = [b"..", b"%2e%2e", b"%2E%2E", b".%2e", b"%2e.", b"%252e%252e", b"%c0%ae%c0%ae",
           b"%e0%80%ae%e0%80%ae", b"%uff0e%uff0e", b"..%00", b"....", b"...", b".. "]
    seps = [b"/", b"%2f", b"%2F", b"%5c", b"\\", b"%252f", b"//", b"/./", b"%c0%af"]
    paths = []
    for up in ups:
        for sep in seps:
            paths.append(b"/" + up + sep + s)
            paths.append(b"/" + (up + sep) * 6 + s)
            paths.append(b"/a/" + up + sep + up + sep + s)
    paths += [
        b"../" + s, b".." + b"/" + s, b"/" + s + b"/../../" + s, b"/./../" + s,
        b"//../" + s, b"/a/b/../../../" + s, b"/index.html/../../" + s,
        b"/%00/../" + s, b"/index.html%00/../../" + s, b"/..;/" + s, b"/.%00./" + s,
        b"http://t/../" + s, b"http://t/%2e%2e/" + s, b"//" + abs_secret.lstrip(b"/"),
        b"/" + abs_secret.lstrip(b"/"), b"/%2f" + abs_secret.lstrip(b"/"),
        b"/../../../../../../../../etc/passwd", b"/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        b"/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", b"//etc/passwd", b"/%2fetc/passwd",
        b"/etc_link/passwd", b"/etc_link/../" + s, b"/etc_link/%2e%2e/" + s,
        b"/secret_link", b"/dir_link/" + s, b"/etc_link", b"/etc_link/",
        b"/sub/../../" + s, b"/sub/%2e%2e/%2e%2e/" + s, b"/sub/..%2f..%2f" + s,
        b"/index.html/..", b"/.", b"/..", b"/%2e", b"/%2e%2e", b"/.../",
    ]
    return paths


def cmd_traversal(a):
    secret = open(a.secret, "rb").read().strip()
    name = os.path.basename(a.secret)
    paths = traversal_paths(name, os.path.abspath(a.secret).encode())
    counts, bad = {}, []
    for p in paths:
        for method in (b"GET", b"HEAD"):
            req = method + b" " + p + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            ex = exchange(a.host, a.port, req, timeout=a.timeout)
            ex.head_request = method == b"HEAD"
            st = ex.statuses()
            for x in st:
                counts[x] = counts.get(x, 0) + 1
            shown = p.decode("latin-1")
            if secret in ex.data:
                bad.append(f"{method.decode()} {shown}: the secret was served")
            if b"root:x:0:0" in ex.data or b"root:*:0:0" in ex.data:
                bad.append(f"{method.decode()} {shown}: /etc/passwd was served")
            if len(st) != 1:
                bad.append(f"{method.decode()} {shown}: {len(st)} responses")
            elif st[0] == 200 and a.verbose:
                log(f"200 for {shown} (a file inside the root)")
    log(f"{len(paths)} paths x GET/HEAD, statuses: {dict(sorted(counts.items()))}")
    return _report(bad)


# ---------------------------------------------------------------------------
# stall: a client that asks for a big file and then stops reading.


def cmd_stall(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((a.host, a.port))
    s.sendall(f"GET {a.path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    got = s.recv(4096)
    log(f"stall: got {len(got)} bytes, now reading nothing for up to {a.hold}s")
    _ready_then_hold(a)
    s.close()
    return 0


def _ready_then_hold(a):
    """Touch a.ready (when given) for the test to go on, then keep what is
    open for a.hold seconds."""
    if a.ready:
        open(a.ready, "w").close()
    time.sleep(a.hold)


# ---------------------------------------------------------------------------
# pipeline: requests pipelined as fast as the server takes them, no reading.


def cmd_pipeline(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((a.host, a.port))
    s.setblocking(False)
    buf = f"GET {a.path} HTTP/1.1\r\nHost: t\r\n\r\n".encode() * 1000
    off = sent = 0
    end = time.monotonic() + a.fill
    blocked = None
    why = "time"
    while time.monotonic() < end and sent < a.max_bytes:
        try:
            n = s.send(buf[off:])
            sent += n
            off = (off + n) % len(buf)
            blocked = None
        except BlockingIOError:
            blocked = blocked or time.monotonic()
            if time.monotonic() - blocked > 1.0:
                why = "server stopped reading"
                break
            time.sleep(0.02)
        except OSError as e:
            why = f"send failed: {e.strerror}"
            break
    else:
        if sent >= a.max_bytes:
            why = "limit"
    log(f"pipeline: sent {sent} bytes ({sent // (len(buf) // 1000)} requests), stopped: {why}")
    _ready_then_hold(a)
    s.close()
    return 0


# ---------------------------------------------------------------------------
# flood: many idle connections at once.


def cmd_flood(a):
    socks, refused, other = [], 0, 0
    for _ in range(a.conns):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        except ConnectionRefusedError:
            refused += 1
            s.close()
            continue
        except OSError:
            other += 1
            s.close()
            continue
        socks.append(s)
    # Let the handshakes finish (or not: a full backlog leaves SYNs unanswered).
    time.sleep(0.5)
    if a.send:
        for s in socks:
            try:
                s.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            except OSError:
                pass
    log(f"flood: {len(socks)} connections open, {refused} refused, {other} other errors")
    _ready_then_hold(a)
    seen = [_closed_by_peer(s) for s in socks]
    closed = sum(1 for c, _ in seen if c)
    spoke = sum(1 for _, n in seen if n)
    for s in socks:
        s.close()
    log(f"flood: {closed} of {len(socks)} were closed by the server while held, "
        f"{spoke} got bytes")
    bad = []
    if a.expect_closed and closed != len(socks):
        bad.append(f"{len(socks) - closed} connections still open after {a.hold}s")
    if a.expect_silent and spoke:
        bad.append(f"{spoke} connections that sent nothing got an answer")
    return _report(bad)


def _closed_by_peer(s):
    """(closed, nbytes): whether the peer closed or reset s, and how many
    bytes it sent before."""
    s.setblocking(False)
    n = 0
    try:
        while True:
            b = s.recv(65536)
            if b == b"":
                return True, n
            n += len(b)
    except (BlockingIOError, InterruptedError):
        return False, n
    except OSError:
        return True, n


# ---------------------------------------------------------------------------
# load: sequential requests; failures counted by kind.


def one_get(host, port, path, timeout):
    """One GET with Connection: close. Returns (status or error name, seconds)."""
    t0 = time.monotonic()
    try:
        ex = exchange(host, port, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                      .encode(), timeout=timeout)
    except ConnectionRefusedError:
        return "refused", time.monotonic() - t0
    except socket.timeout:
        return "timeout", time.monotonic() - t0
    except OSError as e:
        return f"error:{e.errno}", time.monotonic() - t0
    st = ex.statuses()
    dt = time.monotonic() - t0
    if ex.reset:
        return "reset", dt
    if not ex.closed:
        return "timeout", dt
    if len(st) != 1:
        return "empty" if not st else "multiple", dt
    head_end = ex.data.find(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", ex.data[:head_end])
    if m and len(ex.data) - head_end - 4 != int(m.group(1)):
        return "short", dt
    return st[0], dt


def cmd_load(a):
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    results, lat = {}, []
    end = time.monotonic() + a.duration
    n = 0
    while not stop and time.monotonic() < end and n < a.max:
        r, dt = one_get(a.host, a.port, a.path, a.timeout)
        results[r] = results.get(r, 0) + 1
        lat.append(dt)
        n += 1
        if a.ready and n == 1:
            open(a.ready, "w").close()
    ok = results.get(200, 0)
    log(f"load: {n} requests, results {results}")
    if lat:
        lat.sort()
        log("load: latency ms min %.2f median %.2f p99 %.2f max %.2f" %
            (lat[0] * 1e3, statistics.median(lat) * 1e3,
             lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3, lat[-1] * 1e3))
    if a.summary:
        with open(a.summary, "w") as f:
            f.write(" ".join(f"{k}={v}" for k, v in sorted(results.items(), key=str)) + "\n")
    return 0 if ok == n and n > 0 else 1


# ---------------------------------------------------------------------------
# download / fetch: big-file transfers, optionally disturbed.


def read_response(s, timeout, rate=0, on_progress=None):
    """Read one response; returns (status, content_length, body_bytes, how_it_ended)."""
    buf = b""
    deadline = time.monotonic() + timeout
    s.settimeout(timeout)
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            return None, None, 0, "eof-in-head"
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = STATUS_RE.match(head + b"\r\n")
    status = int(m.group(1)) if m else None
    cl = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    cl = int(cl.group(1)) if cl else None
    got = len(rest)
    t0 = time.monotonic()
    while cl is None or got < cl:
        left = deadline - time.monotonic()
        if left <= 0:
            return status, cl, got, "timeout"
        s.settimeout(left)
        try:
            b = s.recv(65536 if not rate else min(65536, max(1024, rate // 20)))
        except socket.timeout:
            return status, cl, got, "timeout"
        except ConnectionResetError:
            return status, cl, got, "reset"
        if not b:
            return status, cl, got, "eof"
        got += len(b)
        if on_progress:
            on_progress(got)
        if rate:
            ahead = got / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    return status, cl, got, "complete"


def cmd_download(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.connect((a.host, a.port))
    s.sendall(f"GET {a.path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    done = False

    def mutate(got):
        nonlocal done
        if done or got < a.after:
            return
        done = True
        if a.mutate == "truncate":
            os.truncate(a.file, a.truncate_to)
        elif a.mutate == "replace":
            tmp = a.file + ".new"
            with open(tmp, "wb") as f:
                f.write(b"new content\n")
            os.rename(tmp, a.file)
        elif a.mutate == "extend":
            with open(a.file, "ab") as f:
                f.write(b"x" * 1000000)
        log(f"download: {a.mutate} done after {got} body bytes")

    status, cl, got, how = read_response(s, a.timeout, rate=a.rate,
                                         on_progress=mutate if a.mutate else None)
    s.close()
    log(f"download: status {status} content-length {cl} received {got} ended {how}")
    print(f"{status} {cl} {got} {how}", file=open(a.out, "w") if a.out else sys.stdout)
    return 0


def cmd_fetch(a):
    """N parallel slow downloads; one line per download in --out."""
    pids, outs = [], []
    for i in range(a.n):
        out = f"{a.out}.{i}"
        outs.append(out)
        pid = os.fork()
        if pid == 0:
            rc = 1
            try:
                s = socket.create_connection((a.host, a.port), timeout=a.timeout)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                s.sendall(f"GET {a.path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                          .encode())
                first = [True]

                def progress(got):
                    if first[0] and a.ready:
                        first[0] = False
                        open(f"{a.ready}.{i}", "w").close()

                r = read_response(s, a.timeout, rate=a.rate, on_progress=progress)
                with open(out, "w") as f:
                    f.write("%s %s %s %s\n" % r)
                rc = 0
            except Exception as e:  # reported in the output file
                with open(out, "w") as f:
                    f.write(f"None None 0 error:{type(e).__name__}\n")
            os._exit(rc)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    for o in outs:
        log("fetch: " + open(o).read().strip())
    return 0


# ---------------------------------------------------------------------------
# slowloris: N trickling connections and one honest client, asyncio.


async def slow_conn(host, port, interval, end, stats):
    """Trickle one header byte per interval; reconnect when the server closes.
    Every connection has sent a byte before the server can time it out, so
    each one the server closes must have been answered 408 first."""
    req = b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Slow: " + b"z" * 4096
    first = True
    while time.monotonic() < end:
        try:
            r, w = await asyncio.open_connection(host, port)
        except OSError:
            stats["connect_failed"] += 1
            await asyncio.sleep(interval)
            continue
        born = time.monotonic()
        stats["open"] += 1
        stats["opened"] += 1
        if first:
            stats["first_round"] += 1
            first = False
        i = 0
        try:
            while time.monotonic() < end:
                w.write(req[i:i + 1])
                i = (i + 1) % len(req)
                await w.drain()
                try:
                    b = await asyncio.wait_for(r.read(4096), timeout=interval)
                except asyncio.TimeoutError:
                    continue
                if b:
                    # Read what the server says (a 408) until it closes.
                    answer = b
                    while b:
                        b = await asyncio.wait_for(r.read(4096), timeout=5)
                        answer += b
                    stats["answered"] += 1
                    if STATUS_RE.match(answer) and STATUS_RE.match(answer).group(1) == b"408":
                        stats["got_408"] += 1
                    else:
                        stats["other_answer"] += 1
                        stats["first_other"] = stats["first_other"] or answer[:60]
                else:
                    stats["closed_silently"] += 1
                break
            else:
                age = time.monotonic() - born
                stats["max_age_at_end"] = max(stats["max_age_at_end"], age)
                stats["open"] -= 1
                w.close()
                return
        except (ConnectionError, OSError, asyncio.TimeoutError) as e:
            stats["errors"] += 1
            stats["first_error"] = stats["first_error"] or repr(e)
        stats["open"] -= 1
        stats["closed_by_server"] += 1
        stats["max_lifetime"] = max(stats["max_lifetime"], time.monotonic() - born)
        w.close()


async def honest(host, port, end, path, results, lat, period):
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=10)
            w.write(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            data = await asyncio.wait_for(r.read(), timeout=10)
            w.close()
            m = STATUS_RE.match(data)
            key = int(m.group(1)) if m else "empty"
        except asyncio.TimeoutError:
            key = "timeout"
        except OSError as e:
            key = f"error:{e.errno}"
        dt = time.monotonic() - t0
        results[key] = results.get(key, 0) + 1
        lat.append(dt)
        await asyncio.sleep(max(0.0, period - dt))


async def slowloris_main(a):
    stats = {k: 0 for k in ("open", "opened", "first_round", "connect_failed",
                            "closed_by_server", "answered", "got_408", "other_answer",
                            "closed_silently", "errors", "max_lifetime", "max_age_at_end")}
    stats["first_other"] = stats["first_error"] = None
    end = time.monotonic() + a.duration
    tasks = []
    for i in range(a.conns):
        tasks.append(asyncio.create_task(slow_conn(a.host, a.port, a.interval, end, stats)))
        if i % 100 == 99:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    peak = stats["open"]
    results, lat = {}, []
    await honest(a.host, a.port, end, a.path, results, lat, a.period)
    await asyncio.gather(*tasks)
    for k in ("max_lifetime", "max_age_at_end"):
        stats[k] = round(stats[k], 1)
    log(f"slowloris: {a.conns} slow clients, {peak} connections open after ramp-up; {stats}")
    log(f"honest client: {sum(results.values())} requests, results {results}")
    if lat:
        lat.sort()
        log("honest client latency ms: min %.1f median %.1f max %.1f" %
            (lat[0] * 1e3, statistics.median(lat) * 1e3, lat[-1] * 1e3))
    bad = []
    if not results or set(results) != {200}:
        bad.append(f"honest client saw {results}")
    if stats["first_round"] < a.conns:
        bad.append(f"only {stats['first_round']} of {a.conns} slow clients could connect")
    if a.max_age:
        if stats["closed_by_server"] < a.conns:
            bad.append(f"the server closed only {stats['closed_by_server']} slow connections")
        if max(stats["max_lifetime"], stats["max_age_at_end"]) > a.max_age:
            bad.append(f"a slow connection lived longer than {a.max_age}s")
        if stats["got_408"] != stats["closed_by_server"]:
            bad.append(f"{stats['closed_by_server']} slow connections closed by the server, "
                       f"only {stats['got_408']} of them after a 408")
    return _report(bad)


def cmd_slowloris(a):
    return asyncio.run(slowloris_main(a))


# ---------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--timeout", type=float, default=3.0)
    sub = p.add_subparsers(dest="cmd", required=True)

    sp = sub.add_parser("slowloris")
    sp.add_argument("port", type=int)
    sp.add_argument("--conns", type=int, default=1000)
    sp.add_argument("--interval", type=float, default=3.0)
    sp.add_argument("--duration", type=float, default=20.0)
    sp.add_argument("--period", type=float, default=0.2)
    sp.add_argument("--path", default="/")
    sp.add_argument("--max-age", type=float, default=0,
                    help="fail if a slow connection lives longer than this (0: no check)")

    sp = sub.add_parser("requests")
    sp.add_argument("port", type=int)

    sp = sub.add_parser("traversal")
    sp.add_argument("port", type=int)
    sp.add_argument("secret")
    sp.add_argument("-v", "--verbose", action="store_true")

    sp = sub.add_parser("stall")
    sp.add_argument("port", type=int)
    sp.add_argument("path")
    sp.add_argument("--hold", type=float, default=10)
    sp.add_argument("--ready", help="touch this file once the response has started")

    sp = sub.add_parser("pipeline")
    sp.add_argument("port", type=int)
    sp.add_argument("--path", default="/")
    sp.add_argument("--fill", type=float, default=10, help="seconds to keep sending at most")
    sp.add_argument("--max-bytes", type=int, default=256 << 20)
    sp.add_argument("--hold", type=float, default=10)
    sp.add_argument("--ready")

    sp = sub.add_parser("flood")
    sp.add_argument("port", type=int)
    sp.add_argument("--conns", type=int, default=500)
    sp.add_argument("--hold", type=float, default=3)
    sp.add_argument("--send", action="store_true", help="send a request on each")
    sp.add_argument("--ready", help="touch this file once the flood is up")
    sp.add_argument("--expect-closed", action="store_true",
                    help="fail unless the server closed every connection while held")
    sp.add_argument("--expect-silent", action="store_true",
                    help="fail if the server sent anything on a connection that sent nothing")

    sp = sub.add_parser("load")
    sp.add_argument("port", type=int)
    sp.add_argument("--path", default="/")
    sp.add_argument("--duration", type=float, default=5)
    sp.add_argument("--max", type=int, default=100000)
    sp.add_argument("--ready")
    sp.add_argument("--summary")

    sp = sub.add_parser("download")
    sp.add_argument("port", type=int)
    sp.add_argument("path")
    sp.add_argument("--file", help="the file on disk behind path (for --mutate)")
    sp.add_argument("--mutate", choices=("truncate", "replace", "extend"))
    sp.add_argument("--after", type=int, default=1 << 20)
    sp.add_argument("--truncate-to", type=int, default=0)
    sp.add_argument("--rate", type=int, default=0, help="bytes per second (0: as fast as possible)")
    sp.add_argument("--out")

    sp = sub.add_parser("fetch")
    sp.add_argument("port", type=int)
    sp.add_argument("path")
    sp.add_argument("-n", type=int, default=4)
    sp.add_argument("--rate", type=int, default=0)
    sp.add_argument("--out", required=True)
    sp.add_argument("--ready")

    a = p.parse_args()
    sys.exit({"slowloris": cmd_slowloris, "requests": cmd_requests, "traversal": cmd_traversal,
              "stall": cmd_stall, "pipeline": cmd_pipeline, "flood": cmd_flood, "load": cmd_load,
              "download": cmd_download, "fetch": cmd_fetch}[a.cmd](a))


if __name__ == "__main__":
    main()
