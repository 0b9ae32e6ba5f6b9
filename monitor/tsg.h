/*
 * The time-sequence graph of one connection (Stevens / tcptrace style) as
 * data: the busier direction's data segments with their sequence ranges,
 * and the other side's ACKs, advertised window edges and SACK blocks, all
 * from the flow's segment log. Pure: reads a struct flow; svg_tsg.c draws
 * it as SVG, view_graph.c in the terminal.
 */
#ifndef LABMON_TSG_H
#define LABMON_TSG_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/flow.h"

/* Sequence numbers here are relative to the sender's ISN and unwrapped past 4 GiB. */

/* One data segment: bytes [seq, end) sent at t_ns. */
struct tsg_seg {
    uint64_t t_ns;
    uint64_t seq, end;
    uint8_t retrans; /* a retransmission (Wireshark's sense, fast and spurious too) */
};

/* One ACK from the receiver: what it acknowledged and the window's right edge (no RST). */
struct tsg_ack {
    uint64_t t_ns;
    uint64_t ack, win_end; /* win_end = ack + the scaled window */
    uint8_t dupack;
};

/* One SACK block an ACK carried: bytes [left, right) received out of order. */
struct tsg_sack {
    uint64_t t_ns;
    uint64_t left, right;
};

struct tsg {
    uint8_t dir;             /* enum flow_dir_id of the data graphed: the busier direction */
    uint64_t t0_ns, t1_ns;   /* the flow's first segment, the last one kept */
    uint64_t t_end_ns;       /* the last change: data, FIN, a new ACK, window or SACK */
    uint64_t fin_t_ns;       /* the graphed direction's FIN (0: none kept) */
    uint64_t fin_seq;        /* its sequence number */
    uint64_t lo, hi;         /* the sequence range of the data and the ACKs (lo == hi: none) */
    uint64_t win_hi;         /* the highest window edge */
    uint64_t bytes;          /* payload bytes the direction sent, as counted by the flow */
    uint32_t retrans;        /* retransmissions among seg[] */
    uint64_t not_kept;       /* segments the log dropped from its middle */
    uint64_t gap_t0, gap_t1; /* the time they fell in (0, 0: none) */
    size_t nseg, nack, nsack;
    struct tsg_seg *seg;
    struct tsg_ack *ack;
    struct tsg_sack *sack;
    size_t cap; /* entries allocated in each of the three arrays */
};

void tsg_init(struct tsg *g);
/* Fills g from f's segment log (arrays reused when big enough). 0, or -1 when out of memory. */
int tsg_build(struct tsg *g, const struct flow *f);
void tsg_free(struct tsg *g);

/*
 * What a graph of g shows: time from the first segment to the last change
 * (a late RST adds nothing), sequence numbers from lo (zero when the data
 * starts near it, as from a SYN) to hi, with a little room above.
 */
struct tsg_range {
    uint64_t t0_ns, t1_ns; /* t1_ns > t0_ns */
    double lo, hi;         /* hi > lo */
};

void tsg_range(const struct tsg *g, struct tsg_range *r);

/* The direction whose data a graph of f shows: more payload bytes; the server's on a tie. */
enum flow_dir_id tsg_busier_dir(const struct flow *f);

#endif
