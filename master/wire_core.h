/*
 * The decisions of the lab wire, a pure core: given a frame, its direction
 * and the time, whether it is carried and when it comes out (--lab-rtt,
 * --lab-rate), or dropped (--lab-loss, --lab-drop, a full queue). No I/O and
 * no clock; master/lab_wire.c moves the frames.
 *
 * Random loss is a function of the seed and of what the frame is. The byte
 * stream of each direction of a connection the wire saw open is cut in
 * blocks of one full segment (the MSS the receiver announced, less the
 * timestamp option); a data segment carrying the start of a block is judged
 * by that block, a resent one also by how many were resent before it. A
 * piece of a block cut short by the sender, carrying no block start, is
 * never lost at random: where a sender cuts depends on timing, so its loss
 * would not come again. Other segments of such a connection are judged by
 * their flags, offsets and repeats, anything else by a seeded stream per
 * direction. So a second run with the same seed loses the same data, even
 * when the ACKs are timed differently and the sender cut segments short.
 */
#ifndef LABD_WIRE_CORE_H
#define LABD_WIRE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/lab_opts.h"
#include "shared/lab_stats.h"

#define WIRE_CORE_FLOWS     1024     /* connections followed for --lab-drop and the loss key */
#define WIRE_CORE_PROBE     8        /* slots looked at per lookup before the oldest is reused */
#define WIRE_CORE_FRAME_MAX 1518     /* MTU 1500 + Ethernet header + one VLAN tag */
#define WIRE_CORE_FRAMING   24       /* preamble and SFD 8, FCS 4, gap 12: a line's extra bytes */
#define WIRE_CORE_QUEUE_NS  50000000 /* the --lab-rate queue holds this long of sending ... */
#define WIRE_CORE_QUEUE_MIN 16       /* ... or this many full frames, whichever is more */
#define WIRE_CORE_BLOCK     1448     /* loss block without an MSS option: 1500 - 40 - 12 */

enum wire_core_verdict {
    WIRE_CORE_PASS,       /* carry it; it comes out at *release_ns */
    WIRE_CORE_LOST,       /* --lab-loss */
    WIRE_CORE_RULED,      /* --lab-drop */
    WIRE_CORE_QUEUE_FULL, /* the rate queue, or the shell's hold, is full */
    WIRE_CORE_OVERSIZE,   /* longer than WIRE_CORE_FRAME_MAX */
};

/* One direction of a followed connection. */
struct wire_core_half {
    uint32_t isn;     /* sequence number of this direction's SYN */
    uint32_t max_end; /* highest seq + len of data seen */
    uint32_t segs;    /* data segments with new bytes so far */
    uint32_t retx;    /* data segments with no new byte (retransmissions) */
    uint32_t last_seq, last_ack;
    uint32_t repeat; /* earlier segments without data identical to the last one */
    uint32_t block;  /* the loss block of this direction's data: a full segment */
    uint8_t last_flags;
    uint8_t have_isn;
    uint8_t have_end;
    uint8_t pad;
};

struct wire_core_flow {
    uint8_t used;
    uint8_t v6;
    uint16_t cport, sport; /* client (host side) and server (labd side) ports */
    uint8_t caddr[16], saddr[16];
    uint64_t stamp; /* last use, for reusing the oldest slot */
    struct wire_core_half half[LAB_OPTS_NDIR];
};

struct wire_core_way {
    int64_t tx_free_ns;      /* the bottleneck has sent everything given to it by then */
    int64_t last_release_ns; /* releases never go backwards */
    uint32_t held;           /* frames passed but not yet sent by the shell */
    uint64_t rng;            /* the loss stream for frames without a key */
};

struct wire_core {
    struct lab_opts knobs;
    uint64_t seed;
    int64_t delay_ns; /* each way: half the added round trip */
    int64_t queue_ns; /* longest backlog of the rate queue, as sending time */
    uint32_t hold_max;
    uint64_t stamp;
    struct wire_core_way way[LAB_OPTS_NDIR];
    struct lab_stats_dir counts[LAB_OPTS_NDIR];
    struct wire_core_flow flows[WIRE_CORE_FLOWS];
};

/* What the core made of a frame, for a trace of the drops. */
struct wire_core_note {
    int tcp;          /* a TCP segment (IPv4 or IPv6) */
    int tracked;      /* of a connection the wire saw open */
    uint8_t flags;    /* TCP flags */
    uint32_t rel_seq; /* tracked: offset in its direction's byte stream (SYN = 0) */
    int64_t block;    /* tracked data: the loss block starting in it, -1 when none does */
    uint32_t payload; /* TCP payload bytes */
    uint32_t nth;     /* tracked data with new bytes: its number in this direction, else 0 */
    int retx;         /* tracked data without a new byte */
};

/*
 * Set up for the knobs of o with this loss seed; the shell can hold at
 * most hold_max frames per direction. w is large (put it in static or
 * heap memory).
 */
void wire_core_init(struct wire_core *w, const struct lab_opts *o, uint64_t seed,
                    uint32_t hold_max);

/*
 * A frame of len bytes entered the wire going dir (LAB_OPTS_C2S from the
 * host) at now_ns. On WIRE_CORE_PASS *release_ns says when it comes out
 * (now_ns when nothing holds it); releases of a direction never decrease,
 * so the shell keeps one FIFO per direction. note (may be NULL) says what
 * the frame was. Counts go to w->counts.
 */
enum wire_core_verdict wire_core_frame(struct wire_core *w, enum lab_opts_dir dir,
                                       const uint8_t *frame, size_t len, int64_t now_ns,
                                       int64_t *release_ns, struct wire_core_note *note);

/* The shell sent n frames it held for dir. */
void wire_core_sent(struct wire_core *w, enum lab_opts_dir dir, uint32_t n);

#endif
