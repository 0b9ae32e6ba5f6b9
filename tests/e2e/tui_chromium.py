#!/usr/bin/env python3
"""Drive headless Chromium over the DevTools protocol (--remote-debugging-pipe,
so no third-party modules): load a page, play its <audio>, reload the page,
play again, then close the browser. Prints what happened, one line per step.

usage: tui_chromium.py CHROMIUM URL PROFILE_DIR [LINGER_SECONDS]
LINGER_SECONDS: stay open that long before closing (e.g. 7, to let labd's
5 s keep-alive timeout close the idle connections first).
"""
import json
import os
import subprocess
import sys
import time

chromium, url, profile = sys.argv[1:4]
linger = float(sys.argv[4]) if len(sys.argv) > 4 else 0
DEADLINE = time.time() + 60 + linger


class Browser:
    def __init__(self):
        # Chromium reads commands on fd 3 and writes replies on fd 4, NUL-separated.
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds():  # in the child, before exec: the pipe ends become fds 3 and 4
            a, b = os.dup(to_r), os.dup(from_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + profile, "--autoplay-policy=no-user-gesture-required",
            "--remote-debugging-pipe", "about:blank",
        ]
        self.proc = subprocess.Popen([chromium] + flags, preexec_fn=fds, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.session = None

    def _read_message(self):
        while b"\0" not in self.buf:
            if time.time() > DEADLINE:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_r, 65536)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=True, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})

    def attach(self):
        for _ in range(100):
            pages = [t for t in self.call("Target.getTargets", session=False)["targetInfos"]
                     if t["type"] == "page"]
            if pages:
                r = self.call("Target.attachToTarget", session=False,
                              targetId=pages[0]["targetId"], flatten=True)
                self.session = r["sessionId"]
                return
            time.sleep(0.1)
        raise RuntimeError("no page target")

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        return r.get("result", {}).get("value")

    def wait_loaded(self, href):
        while time.time() < DEADLINE:
            state = self.evaluate("document.readyState + ' ' + location.href")
            if state == "complete " + href:
                return
            time.sleep(0.1)
        raise TimeoutError("page did not load")


b = Browser()
try:
    b.attach()
    b.call("Page.enable")
    b.call("Page.navigate", url=url)
    b.wait_loaded(url)
    print("loaded", b.evaluate("document.title"))
    play = ("document.querySelector('audio').play()"
            ".then(() => 'playing', e => 'play failed: ' + e.name)")
    print("audio", b.evaluate(play))
    time.sleep(3)
    print("position", b.evaluate("document.querySelector('audio').currentTime > 0"))
    b.evaluate("location.reload(); 'reloading'")
    time.sleep(0.5)
    b.wait_loaded(url)
    print("reloaded", b.evaluate("performance.getEntriesByType('navigation')[0].type"))
    print("audio", b.evaluate(play))
    time.sleep(2 + linger)
    b.call("Browser.close", session=False)
    b.proc.wait(timeout=20)
    print("closed", b.proc.returncode)
finally:
    if b.proc.poll() is None:
        b.proc.kill()
        b.proc.wait()
