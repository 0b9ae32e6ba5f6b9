#!/usr/bin/env python3
"""Loopback traffic for labmon's live tests (standard library only).

  server PORT DIR          HTTP/1.0 file server on 127.0.0.1:PORT (foreground)
  zerowin PORT PATH        GET PATH with a tiny receive buffer, stall, then read all
  midstream PORT FLAG      GET /a, print "ready", wait for file FLAG, GET /b, close
  many PORT N              N sequential short connections (GET /small), bounded
  get PORT PATH LPORT      one GET from local port LPORT (port reuse)
"""
import http.server
import os
import socket
import sys
import time


def request(sock, path):
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())


def read_all(sock):
    n = 0
    while True:
        b = sock.recv(65536)
        if not b:
            return n
        n += len(b)


def read_response(sock):
    """Read one Content-Length response on a keep-alive connection."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = sock.recv(4096)
        if not b:
            raise SystemExit("connection closed in headers")
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    deadline = time.time() + 60
    if cmd == "server":
        os.chdir(sys.argv[3])
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        srv.serve_forever()
    elif cmd == "zerowin":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.connect(("127.0.0.1", port))
        request(s, sys.argv[3])
        time.sleep(1.5)  # do not read: the window closes
        # Then read with a normal buffer (a 2 KB window would crawl).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.settimeout(20)
        read_response(s)
        s.close()
    elif cmd == "midstream":
        s = socket.create_connection(("127.0.0.1", port))
        request(s, "/a")
        read_response(s)
        print("ready", flush=True)
        while not os.path.exists(sys.argv[3]):
            if time.time() > deadline:
                raise SystemExit("flag never appeared")
            time.sleep(0.05)
        request(s, "/b")
        read_response(s)
        s.close()
    elif cmd == "many":
        for _ in range(int(sys.argv[3])):
            if time.time() > deadline:
                raise SystemExit("too slow")
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            read_all(s)
            s.close()
    elif cmd == "get":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[4])))
        s.connect(("127.0.0.1", port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   % sys.argv[3]).encode())
        read_all(s)
        s.close()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
