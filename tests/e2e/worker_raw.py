#!/usr/bin/env python3
"""Raw HTTP client for the worker- end-to-end tests.

worker_raw.py PORT [--split] [--expect-eof] REQUEST...

Each REQUEST (with Python escapes: \\r\\n, \\x00) is sent on one connection:
all in a single write, or with --split one after the other, each after the
previous response was read (responses are framed by Content-Length). Prints the
bytes received, then "<EOF>" if the server closed the connection, or
"<OPEN>" if it was still open after 10 s of silence (or after the responses
with --split and no --expect-eof).
"""
import socket
import sys


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def read_response(sock, buf):
    """Read one response from sock (buf holds bytes already received)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return buf, b"", True
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if head.startswith(b"HTTP/1.1 304") or HEAD_ONLY[0]:
        length = 0
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return buf + rest, b"", True
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:], False


HEAD_ONLY = [False]


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    split = expect_eof = False
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--split":
            split = True
        elif opt == "--expect-eof":
            expect_eof = True
        else:
            sys.exit("unknown option " + opt)
    reqs = [unescape(a) for a in args]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    out = sys.stdout.buffer
    eof = False
    if split:
        pending = b""
        for r in reqs:
            sock.sendall(r)
            HEAD_ONLY[0] = r.startswith(b"HEAD ")
            resp, pending, eof = read_response(sock, pending)
            out.write(resp)
            if eof:
                break
        if not eof and not expect_eof:
            out.write(b"<OPEN>\n")
            return
        out.write(pending)
    else:
        if reqs:
            sock.sendall(b"".join(reqs))
    try:
        while not eof:
            chunk = sock.recv(65536)
            if not chunk:
                eof = True
                break
            out.write(chunk)
    except socket.timeout:
        pass
    except ConnectionResetError:
        out.write(b"<RST>\n")
        return
    out.write(b"<EOF>\n" if eof else b"<OPEN>\n")


main()
