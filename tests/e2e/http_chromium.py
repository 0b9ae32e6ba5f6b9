#!/usr/bin/env python3
"""Drive a headless Chromium over the DevTools protocol (stdlib only).

    http_chromium.py DEBUG_PORT URL

Opens URL in the browser's first page, plays the page's <audio> until it has
advanced a second, then reloads the page and plays again. Prints one line per
step; exits non-zero when a step fails or times out (everything is bounded).
"""
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request

DEADLINE = time.monotonic() + 90


def left():
    return max(0.5, DEADLINE - time.monotonic())


class WebSocket:
    """The client half of RFC 6455, enough for DevTools: text frames only."""

    def __init__(self, url):
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=left())
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        self.f = self.sock.makefile("rb")
        status = self.f.readline()
        if b" 101 " not in status:
            raise RuntimeError("websocket handshake: %r" % status)
        while self.f.readline() not in (b"\r\n", b""):
            pass

    def send(self, text):
        data = text.encode()
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        b = self.f.read(n)
        if len(b) != n:
            raise RuntimeError("websocket closed")
        return b

    def recv(self):
        payload = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            op = b0 & 0x0F
            if op == 8:
                raise RuntimeError("websocket closed by the browser")
            if op in (9, 10):  # ping/pong: not used by DevTools
                continue
            payload += data
            if b0 & 0x80:
                return payload.decode()


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.sock.settimeout(left())
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg["method"])

    def wait_event(self, name):
        self.ws.sock.settimeout(left())
        while name not in self.events:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg["method"])
        self.events.remove(name)

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("js: %s" % r["exceptionDetails"].get("exception", {})
                               .get("description", r["exceptionDetails"]))
        return r["result"].get("value")


PLAY = """
new Promise((resolve, reject) => {
    const a = document.querySelector('audio');
    if (!a) { reject('no <audio> on the page'); return; }
    const t0 = Date.now();
    a.play().catch(e => reject('play(): ' + e));
    const check = () => {
        if (a.currentTime > 1) resolve('played to ' + a.currentTime.toFixed(2) + ' s of '
                                       + a.currentSrc);
        else if (a.error) reject('media error ' + a.error.code);
        else if (Date.now() - t0 > 20000) reject('no progress: currentTime ' + a.currentTime
                                                 + ', readyState ' + a.readyState);
        else setTimeout(check, 100);
    };
    check();
})
"""


def main():
    dport, url = int(sys.argv[1]), sys.argv[2]
    targets = None
    while targets is None:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % dport,
                                        timeout=2) as r:
                targets = [t for t in json.load(r) if t.get("type") == "page"]
        except OSError:
            if time.monotonic() > DEADLINE - 60:
                raise
            time.sleep(0.2)
    if not targets:
        raise RuntimeError("no page target")
    page = Page(WebSocket(targets[0]["webSocketDebuggerUrl"]))
    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    page.wait_event("Page.loadEventFired")
    print("loaded", url)
    print(page.js(PLAY))
    page.js("document.querySelector('audio').pause(), 'paused'")
    page.call("Page.reload")
    page.wait_event("Page.loadEventFired")
    print("reloaded")
    print(page.js(PLAY))
    return 0


if __name__ == "__main__":
    sys.exit(main())
