#!/usr/bin/env python3
"""Packet for packet: labmon's ladder of every connection of a capture against
tshark's reading of the same capture (tests/e2e/lab-*.test).

    lab_tshark.py LABMON PCAP

For each segment, in order: direction, flags, relative seq and ack, payload
length, window (scaled) and the expert marks both tools set (retransmission,
fast and spurious retransmission, out-of-order, lost segment, duplicate ACK,
window update, zero window, zero-window probe, keep-alive and its ACK).
Prints one summary line, the first differences, and exits 1 on any.
"""
import json
import re
import subprocess
import sys

LADDER = re.compile(r"^\s*\d+\.\d+\s+\|(<?)-+ ([A-Z,]+) seq=(\d+) ack=(\d+) len=(\d+) win=(\d+) "
                    r"-+(>?)\|\s*(.*)$")
MARKS = [  # tshark field, labmon's note
    ("tcp.analysis.fast_retransmission", "Fast Retransmission"),
    ("tcp.analysis.spurious_retransmission", "Spurious Retransmission"),
    ("tcp.analysis.out_of_order", "Out-Of-Order"),
    ("tcp.analysis.lost_segment", "Previous segment not captured"),
    ("tcp.analysis.duplicate_ack", "Dup ACK"),
    ("tcp.analysis.window_update", "Window Update"),
    ("tcp.analysis.zero_window", "Zero Window"),
    ("tcp.analysis.zero_window_probe", "Zero Window Probe"),
    ("tcp.analysis.keep_alive", "Keep-Alive"),
    ("tcp.analysis.keep_alive_ack", "Keep-Alive ACK"),
]
FLAGS = [(0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"), (0x20, "URG"),
         (0x40, "ECE"), (0x80, "CWR")]
RETX = ("Retransmission", "Fast Retransmission", "Spurious Retransmission")


def labmon_rows(labmon, pcap, stream):
    out = subprocess.run([labmon, "-r", pcap, "--ladder", str(stream)], capture_output=True,
                         text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = LADDER.match(line)
        if not m:
            continue
        notes = [n.strip() for n in m.group(8).split(";")] if m.group(8) else []
        marks = sorted({n for _, n in MARKS if n in notes} |
                       ({"retransmitted"} if any(n in notes for n in RETX) else set()))
        rows.append(("s2c" if m.group(1) else "c2s", ",".join(sorted(m.group(2).split(","))),
                     int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)), marks))
    return rows


def tshark_rows(pcap, clients):
    fields = ["tcp.stream", "ip.src", "tcp.srcport", "tcp.flags", "tcp.seq", "tcp.ack", "tcp.len",
              "tcp.window_size", "tcp.analysis.retransmission"] + [f for f, _ in MARKS]
    cmd = ["tshark", "-r", pcap, "-Y", "tcp", "-T", "fields", "-E", "separator=/t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    by_stream = {}
    for line in out.splitlines():
        v = (line.split("\t") + [""] * len(fields))[:len(fields)]
        stream, src, sport, flags = int(v[0]), v[1], int(v[2]), int(v[3], 16)
        names = ",".join(sorted(n for bit, n in FLAGS if flags & bit))
        marks = sorted({n for (f, n), x in zip(MARKS, v[9:]) if x} |
                       ({"retransmitted"} if v[8] else set()))
        d = "c2s" if (src, sport) == clients.get(stream) else "s2c"
        by_stream.setdefault(stream, []).append(
            (d, names, int(v[4]), int(v[5]), int(v[6]), int(v[7]), marks))
    return by_stream


def main():
    labmon, pcap = sys.argv[1], sys.argv[2]
    out = subprocess.run([labmon, "-r", pcap, "--json"], capture_output=True, text=True,
                         check=True).stdout
    conns = [json.loads(l) for l in out.splitlines()]
    clients = {c["stream"]: (c["client_addr"], c["client_port"]) for c in conns}
    theirs = tshark_rows(pcap, clients)
    diffs, packets = [], 0
    for c in conns:
        ours, t = labmon_rows(labmon, pcap, c["stream"]), theirs.get(c["stream"], [])
        packets += len(ours)
        if len(ours) != len(t):
            diffs.append("stream %d: labmon %d segments, tshark %d" % (c["stream"], len(ours), len(t)))
        for i, (a, b) in enumerate(zip(ours, t)):
            if a != b:
                diffs.append("stream %d segment %d: labmon %s, tshark %s" % (c["stream"], i, a, b))
    marked = sum(1 for s in theirs.values() for r in s if r[6])
    print("# %s: %d connections, %d segments (%d with expert marks) compared with tshark, "
          "%d differences" % (pcap.rsplit("/", 1)[-1], len(conns), packets, marked, len(diffs)))
    for d in diffs[:10]:
        print("FAIL", d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
