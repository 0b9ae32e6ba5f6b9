#!/usr/bin/env python3
"""Run a command with its stderr (and, with --both, its stdout) on a pseudo-terminal.

    labmon_pty.py [--both] OUT CMD...

What the command writes to the terminal goes to our stdout; its stdout goes
to OUT (unless --both). Exits with the command's status.
"""
import os
import pty
import select
import subprocess
import sys


def main():
    args = sys.argv[1:]
    both = args[0] == "--both"
    if both:
        args = args[1:]
    out, cmd = args[0], args[1:]
    master, slave = pty.openpty()
    with open(out, "wb") as f:
        p = subprocess.Popen(cmd, stdout=slave if both else f,
                             stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the last writer closed the terminal
                break
            if not data:
                break
            seen += data
        elif p.poll() is not None:
            break
    rc = p.wait()
    sys.stdout.buffer.write(seen)
    return rc


if __name__ == "__main__":
    sys.exit(main())
