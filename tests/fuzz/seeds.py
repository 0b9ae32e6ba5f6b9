#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, written under OUTDIR/<target>/.

Sources: the C string literals of the unit tests (tests/unit/test_<module>.c)
and the TCP streams of every capture under tests/pcaps/ (pcap and pcapng;
Ethernet with VLAN tags, Linux cooked v1/v2, NULL/loopback, raw IP).
Usage: seeds.py OUTDIR [TARGET...]
"""
import hashlib
import os
import re
import struct
import sys

MAX_SEED = 65536


def write(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data[:MAX_SEED])


# ---- C string literals ----

LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
ESC = {'n': 10, 'r': 13, 't': 9, '0': 0, '\\': 92, '"': 34, "'": 39, 'a': 7,
       'b': 8, 'f': 12, 'v': 11, '?': 63}


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != '\\':
            out += c.encode()
            i += 1
            continue
        n = s[i + 1]
        if n == 'x':
            m = re.match(r'[0-9a-fA-F]+', s[i + 2:])
            out.append(int(m.group(0), 16) & 0xff)
            i += 2 + len(m.group(0))
        elif n in '01234567':
            m = re.match(r'[0-7]{1,3}', s[i + 1:])
            out.append(int(m.group(0), 8) & 0xff)
            i += 1 + len(m.group(0))
        else:
            out.append(ESC.get(n, ord(n)))
            i += 2
    return bytes(out)


def literals_by_function(path):
    """Each test function's string literals (adjacent ones joined), in order."""
    try:
        src = open(path, encoding='utf-8', errors='replace').read()
    except OSError:
        return []
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    groups = []
    for body in re.split(r'\n(?=static |int main)', src):
        lits, last_end, cur = [], None, None
        for m in LIT.finditer(body):
            if cur is not None and body[last_end:m.start()].strip() == '':
                cur += m.group(1)
            else:
                if cur is not None:
                    lits.append(unescape(cur))
                cur = m.group(1)
            last_end = m.end()
        if cur is not None:
            lits.append(unescape(cur))
        if lits:
            groups.append(lits)
    return groups


# ---- captures ----

def ip_tcp(pkt):
    """(src, dst, sport, dport, seq, flags, payload) of a TCP packet, or None."""
    if len(pkt) < 1:
        return None
    v = pkt[0] >> 4
    if v == 4 and len(pkt) >= 20:
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack('>H', pkt[2:4])[0]
        if pkt[9] != 6 or ihl < 20 or struct.unpack('>H', pkt[6:8])[0] & 0x1fff:
            return None
        pkt, src, dst = pkt[ihl:max(total, ihl)] if total else pkt[ihl:], pkt[12:16], pkt[16:20]
    elif v == 6 and len(pkt) >= 40:
        nxt, src, dst = pkt[6], pkt[8:24], pkt[24:40]
        plen = struct.unpack('>H', pkt[4:6])[0]
        pkt = pkt[40:40 + plen] if plen else pkt[40:]
        while nxt in (0, 43, 44, 60) and len(pkt) >= 8:
            if nxt == 44:
                if struct.unpack('>H', pkt[2:4])[0] & 0xfff8:
                    return None
                nxt, pkt = pkt[0], pkt[8:]
            else:
                nxt, pkt = pkt[0], pkt[(pkt[1] + 1) * 8:]
        if nxt != 6:
            return None
    else:
        return None
    if len(pkt) < 20:
        return None
    sport, dport, seq = struct.unpack('>HHI', pkt[0:8])
    off = (pkt[12] >> 4) * 4
    if off < 20:
        return None
    return src, dst, sport, dport, seq, pkt[13], pkt[off:]


def link_to_ip(linktype, pkt):
    if linktype == 1:  # Ethernet, VLAN tags skipped
        if len(pkt) < 14:
            return None
        et, i = struct.unpack('>H', pkt[12:14])[0], 14
        while et in (0x8100, 0x88a8, 0x9100) and len(pkt) >= i + 4:
            et, i = struct.unpack('>H', pkt[i + 2:i + 4])[0], i + 4
        return pkt[i:] if et in (0x0800, 0x86dd) else None
    if linktype == 113:
        return pkt[16:]
    if linktype == 276:
        return pkt[20:]
    if linktype in (0, 108):
        return pkt[4:]
    if linktype in (101, 12, 14, 228, 229):
        return pkt
    return None


def packets(path):
    """(linktype, bytes) of each packet of a pcap or pcapng file."""
    data = open(path, 'rb').read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '<' if magic[0] in (0xd4, 0x4d) else '>'
        linktype = struct.unpack(e + 'I', data[20:24])[0] & 0xffff
        i = 24
        while i + 16 <= len(data):
            caplen = struct.unpack(e + 'I', data[i + 8:i + 12])[0]
            yield linktype, data[i + 16:i + 16 + caplen]
            i += 16 + caplen
    elif magic == b'\x0a\x0d\x0d\x0a':
        e, i, links = '<', 0, []
        while i + 12 <= len(data):
            if data[i:i + 4] == b'\x0a\x0d\x0d\x0a':
                e = '<' if data[i + 8:i + 12] == b'\x4d\x3c\x2b\x1a' else '>'
                links = []
            btype, blen = struct.unpack(e + 'II', data[i:i + 8])
            if blen < 12:
                return
            body = data[i + 8:i + blen - 4]
            if btype == 1 and len(body) >= 2:
                links.append(struct.unpack(e + 'H', body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                ifc, caplen = struct.unpack(e + 'I', body[:4])[0], struct.unpack(e + 'I', body[12:16])[0]
                if ifc < len(links):
                    yield links[ifc], body[20:20 + caplen]
            elif btype == 3 and links and len(body) >= 4:
                yield links[0], body[4:]
            i += blen


def streams(path):
    """Per TCP connection: a list of (dir, seq, payload), dir 0 = client."""
    conns = {}
    for linktype, pkt in packets(path):
        ip = link_to_ip(linktype, pkt)
        t = ip_tcp(ip) if ip is not None else None
        if t is None:
            continue
        src, dst, sport, dport, seq, flags, payload = t
        a, b = (src, sport), (dst, dport)
        key = (min(a, b), max(a, b))
        c = conns.setdefault(key, {'client': None, 'segs': []})
        if flags & 0x02 and not flags & 0x10 and c['client'] is None:
            c['client'] = a
        if payload:
            c['segs'].append((a, seq, payload))
    out = []
    for key, c in conns.items():
        client = c['client']
        if client is None:  # no SYN: the side with the higher port is the client
            client = key[0] if key[0][1] > key[1][1] else key[1]
        out.append([(0 if a == client else 1, seq, p) for a, seq, p in c['segs']])
    return out


def sniff_seed(segs, init=None):
    """Encode segments in fuzz_sniff's record format."""
    nxt = list(init) if init else [segs_first(segs, 0), segs_first(segs, 1)]
    out = bytearray(struct.pack('<II', nxt[0], nxt[1]))
    for d, seq, p in segs:
        p = p[:65535]
        delta = (seq - nxt[d]) & 0xffffffff
        if delta == 0:
            out += bytes([d]) + struct.pack('<H', len(p))
        elif delta < 0x10000:
            out += bytes([d | 4]) + struct.pack('<HH', delta, len(p))
        elif 0x100000000 - delta < 0x10000:
            out += bytes([d | 2]) + struct.pack('<HH', 0x100000000 - delta, len(p))
        else:
            out += bytes([d | 6]) + struct.pack('<IH', seq, len(p))
        out += p
        if len(out) > MAX_SEED:
            break
        if ((seq + len(p) - nxt[d]) & 0xffffffff) < 0x80000000:
            nxt[d] = (seq + len(p)) & 0xffffffff
    return bytes(out)


def line_seeds(outdir, text):
    """fuzz_sniff_line inputs for the first line of text: whole, and cut in small pieces."""
    line = text.split(b'\n', 1)[0][:512] + b'\n'
    request = 0 if line.startswith(b'HTTP/') else 1
    write(outdir, 'sniff_line', bytes([request, 0]) + line)
    write(outdir, 'sniff_line', bytes([request, 4, 1, 3, 5, 2]) + line)


def segs_first(segs, d):
    for dd, seq, _ in segs:
        if dd == d:
            return seq
    return 0


def header_values(stream, name):
    for line in stream.split(b'\r\n'):
        if line.lower().startswith(name + b':'):
            yield line[len(name) + 1:].strip()


def figures_seed(segs, c2s):
    """fuzz_figures.c's input: the two HTTP streams, a name, a segment log like the capture's."""
    s2c = b''.join(p for d, _, p in sorted((s for s in segs if s[0] == 1),
                                           key=lambda s: s[1]))[:2048]
    out = bytearray(b'\x0c\x08')
    for chunk in (c2s[:2048], s2c, b'capture <&> "\xff.pcap'):
        out += struct.pack('<H', len(chunk)) + chunk
    for d, seq, p in segs[:64]:
        out += struct.pack('<HBBHHII', 100, d | 0x10, 0x18 if p else 0x10, 0, len(p), seq, 0)
    return bytes(out)


# Link types in the order of fuzz_decode.c's and fuzz_engine.c's tables.
DECODE_DLTS = [1, 113, 276, 0, 108, 101, 12, 14, 228, 229]
ENGINE_DLTS = [1, 113, 276, 0, 101, 108]


def main():
    outdir = sys.argv[1]
    want = set(sys.argv[2:])
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    use = lambda t: not want or t in want
    unit = lambda m: literals_by_function(os.path.join(root, 'tests', 'unit', 'test_%s.c' % m))

    if use('sniff'):
        for lits in unit('sniff'):
            segs, seq = [], [1000, 0xfffffff0]
            for lit in lits:
                d = 1 if lit.startswith(b'HTTP/') else 0
                segs.append((d, seq[d], lit))
                seq[d] = (seq[d] + len(lit)) & 0xffffffff
            write(outdir, 'sniff', sniff_seed(segs, (1000, 0xfffffff0)))
    if use('sniff_line'):
        for lits in unit('sniff') + unit('sniff_line'):
            for lit in lits:
                line_seeds(outdir, lit)
    if use('http_parse'):
        for lits in unit('http_parse'):
            for lit in lits:
                write(outdir, 'http_parse', b'\x01' + lit)
                write(outdir, 'http_parse', b'\x40' + lit)
    if use('range'):
        for lits in unit('range'):
            for lit in lits:
                write(outdir, 'range', struct.pack('<Q', 10000 | 1 << 63) + b'\x10' + lit)
    if use('cond'):
        for lits in unit('cond'):
            for lit in lits:
                for slot in range(4):
                    write(outdir, 'cond', struct.pack('<Q', 1600000000) + b'\n' * slot + lit)
    if use('path'):
        for lits in unit('path'):
            for lit in lits:
                write(outdir, 'path', lit)

    if use('engine'):
        # Whole connections, synthesised: handshake, the unit tests' exchanges, close.
        for lits in unit('sniff'):
            recs = bytearray(b'\x80\x4f')

            def seg(d, flags, payload=b'', synopts=0):
                recs.extend(bytes([d | synopts << 4 | 0x20, flags]) + b'\0\0\0\0\xff\xff\x01'
                            + struct.pack('<H', len(payload)) + payload)
            seg(0, 0x02, synopts=1)
            seg(1, 0x12, synopts=1)
            seg(0, 0x10)
            for lit in lits:
                seg(1 if lit.startswith(b'HTTP/') else 0, 0x18, lit)
            seg(0, 0x11)
            seg(1, 0x11)
            seg(0, 0x10)
            write(outdir, 'engine', bytes(recs))

    pcaps = []
    for dirpath, _, files in os.walk(os.path.join(root, 'tests', 'pcaps')):
        pcaps += [os.path.join(dirpath, f) for f in files if '.pcap' in f]
    for path in sorted(pcaps):
        if use('pcapfile'):
            with open(path, 'rb') as f:
                write(outdir, 'pcapfile', f.read(MAX_SEED))
        try:
            conns = streams(path)
        except (struct.error, IndexError, OSError):
            continue
        frames = list(packets(path))
        if use('decode'):
            for linktype, pkt in frames[:40]:
                if linktype in DECODE_DLTS:
                    write(outdir, 'decode', bytes([DECODE_DLTS.index(linktype), 0]) + pkt)
        if use('engine') and frames and frames[0][0] in ENGINE_DLTS:
            recs = bytearray(bytes([ENGINE_DLTS.index(frames[0][0]), 0x4f]))
            for linktype, pkt in frames:
                if len(recs) + len(pkt) > MAX_SEED:
                    break
                recs += struct.pack('<HB', len(pkt), 1) + pkt
            write(outdir, 'engine', bytes(recs))
        for segs in conns:
            if not segs:
                continue
            if use('sniff'):
                write(outdir, 'sniff', sniff_seed(segs))
            if use('sniff_line'):
                for d, _, p in segs[:4]:
                    line_seeds(outdir, p)
            c2s = b''.join(p for d, _, p in sorted((s for s in segs if s[0] == 0),
                                                    key=lambda s: s[1]))[:8192]
            if not re.match(rb'[A-Z]{3,10} ', c2s):
                continue
            if use('http_parse'):
                write(outdir, 'http_parse', b'\x40' + c2s[:4096])
            if use('figures'):
                write(outdir, 'figures', figures_seed(segs, c2s))
            for v in header_values(c2s, b'range'):
                if use('range'):
                    write(outdir, 'range', struct.pack('<Q', 7416366 | 1 << 63) + b'\x10' + v)
            for name, slot in ((b'if-none-match', 1), (b'if-modified-since', 2)):
                for v in header_values(c2s, name):
                    if use('cond'):
                        write(outdir, 'cond', struct.pack('<Q', 1600000000) + b'\n' * slot + v)
            if use('path'):
                for m in re.finditer(rb'^[A-Z]+ (\S+) HTTP', c2s, re.M):
                    write(outdir, 'path', m.group(1))


if __name__ == '__main__':
    main()
