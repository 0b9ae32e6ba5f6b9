/*
 * What labd status and labmon learn of a lab link from shared memory: the
 * link as the master built it (struct lab_stats_link, written once by the
 * master) and the wire's counters (struct lab_stats, written by the wire
 * process). One writer each; both records start with a seqlock counter, so
 * sb_write_begin/sb_write_end and sb_read of shared/scoreboard.h guard them
 * like the scoreboard's own records.
 */
#ifndef LABD_LAB_STATS_H
#define LABD_LAB_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "shared/lab_opts.h"

#define LAB_STATS_NDIR 2 /* [0] host to labd (c2s), [1] labd to host (s2c) */

#define LAB_STATS_IFNAME_MAX 16
#define LAB_STATS_KNOBS_MAX  128

/* "lab: http://198.18.0.2:8080/ via labd0 (MTU 1500, rtt +40 ms, loss 1 %)" comes from here. */
struct lab_stats_link {
    uint32_t seq;
    uint32_t net;                      /* the /30, host order: host .1, labd .2 */
    char ifname[LAB_STATS_IFNAME_MAX]; /* the host's end, where labmon captures */
    uint16_t port;                     /* labd's port on the link */
    uint16_t mtu;                      /* 1500 */
    uint32_t rtt_us;                   /* the knobs, for labmon's header "lab labd0 +40ms 1%" */
    uint32_t loss_ppm;
    uint64_t rate_bps;
    uint8_t wire; /* 1: the wire process forwards; 0: a bridge, no counters */
    uint8_t pad[7];
    char knobs[LAB_STATS_KNOBS_MAX]; /* lab_opts_describe(): "rtt +40 ms, loss 1 %, ..." */
};

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

/* The link record for the /30 at net, host end ifname, labd's port and the knobs of o. */
void lab_stats_link_fill(struct lab_stats_link *l, uint32_t net, const char *ifname, int port,
                         const struct lab_opts *o);

/* labd's address on the link as a URL: "http://198.18.0.2:8080/". */
void lab_stats_url(const struct lab_stats_link *l, char *out, size_t n);

/* labd status: "lab: http://198.18.0.2:8080/ via labd0 (MTU 1500, rtt +40 ms, loss 1 %)". */
void lab_stats_status_line(const struct lab_stats_link *l, char *out, size_t n);

/* labmon's header: "lab labd0 +40ms 1%" (and " 10mbit" with a rate). */
void lab_stats_header(const struct lab_stats_link *l, char *out, size_t n);

/*
 * One direction of the wire's counters: "c2s 1731 forwarded, 1731 delayed,
 * 0 lost, 0 dropped by rule, 0 queue drops" (overruns and the like only
 * when not zero).
 */
void lab_stats_counters_line(const struct lab_stats *s, int dir, char *out, size_t n);

/* s's counters less those of base (never below zero): what the wire did since base. */
void lab_stats_since(struct lab_stats *s, const struct lab_stats *base);

/*
 * labmon's header, short to fit beside the rest: both directions added up,
 * "wire fwd 4207 dly 4207 lost 28 rule 1 qdrop 0" (forwarded, delayed, lost,
 * dropped by rule, dropped by a full queue).
 */
void lab_stats_counters_total(const struct lab_stats *s, char *out, size_t n);

#endif
