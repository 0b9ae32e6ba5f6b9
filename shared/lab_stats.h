/*
 * The lab wire's counters: written by the forwarder process (one writer)
 * into shared memory, read by labd status and labmon. The record starts
 * with a seqlock counter, so sb_write_begin/sb_write_end and sb_read of
 * shared/scoreboard.h guard it like the scoreboard's own records.
 */
#ifndef LABD_LAB_STATS_H
#define LABD_LAB_STATS_H

#include <stdint.h>

#define LAB_STATS_NDIR 2 /* [0] host to labd (c2s), [1] labd to host (s2c) */

struct lab_stats_dir {
    uint64_t frames;      /* frames that entered the wire this way */
    uint64_t forwarded;   /* passed on (at once or after their delay) */
    uint64_t bytes;       /* bytes of the frames passed on */
    uint64_t delayed;     /* held back by --lab-rtt or the --lab-rate queue */
    uint64_t lost;        /* dropped by --lab-loss */
    uint64_t ruled;       /* dropped by --lab-drop */
    uint64_t queue_drops; /* the --lab-rate queue, or the wire's own buffer, was full */
    uint64_t oversize;    /* longer than an MTU 1500 frame: not carried */
    uint64_t overruns;    /* dropped by the kernel before the wire read them (socket buffer) */
    uint64_t tx_errors;   /* the kernel refused to send them on */
};

struct lab_stats {
    uint32_t seq;     /* seqlock: odd while the wire writes */
    int32_t wire_pid; /* 0 before the wire runs */
    uint64_t seed;    /* the loss seed in use (a random one when --lab-seed was not given) */
    struct lab_stats_dir dir[LAB_STATS_NDIR];
};

#endif
