/*
 * The --lab options: labd behind a private Ethernet link (--lab, --lab-net)
 * and the knobs of the wire on that link (--lab-rtt, --lab-loss, --lab-seed,
 * --lab-rate, --lab-drop). Pure: text in, values or one error line out.
 */
#ifndef LABD_LAB_OPTS_H
#define LABD_LAB_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define LAB_OPTS_RANGE        0xc6120000u /* 198.18.0.0/15, RFC 2544's lab networks */
#define LAB_OPTS_RANGE_PLEN   15
#define LAB_OPTS_AUTO_TRIES   64        /* /30s of the range tried when --lab-net is not given */
#define LAB_OPTS_RTT_MAX_US   60000000u /* a minute */
#define LAB_OPTS_LOSS_ONE     1000000u  /* loss is counted in parts per million */
#define LAB_OPTS_RATE_MIN_BPS 8000ull   /* a 1514-byte frame every 1.5 s */
#define LAB_OPTS_RATE_MAX_BPS 100000000000ull
#define LAB_OPTS_DROP_MAX     32 /* --lab-drop rules per direction */
#define LAB_OPTS_NTH_MAX      10000000u
#define LAB_OPTS_IFNAME_MAX   16   /* IFNAMSIZ */
#define LAB_OPTS_NUM_MAX      32   /* a number as lab_opts_fixed or lab_opts_rate_text writes it */
#define LAB_OPTS_MTU          1500 /* of every interface of the lab link */

/* Directions on the link: from the host (the client) to labd, and back. */
enum lab_opts_dir {
    LAB_OPTS_C2S = 0,
    LAB_OPTS_S2C = 1,
    LAB_OPTS_NDIR = 2,
};

/* --lab-drop: deterministic drops. */
struct lab_opts_drops {
    int syn;                                        /* drop the first SYN of every connection */
    uint32_t n[LAB_OPTS_NDIR];                      /* rules in nth[dir] */
    uint32_t nth[LAB_OPTS_NDIR][LAB_OPTS_DROP_MAX]; /* 1-based, ascending, distinct */
};

struct lab_opts {
    int on;            /* --lab / "lab on" */
    uint32_t net;      /* network address of the /30, host order; 0: the first free of the range */
    int wire;          /* a knob was given (even at 0): the forwarder sits in the link */
    uint32_t rtt_us;   /* added to the round trip, half each way */
    uint32_t loss_ppm; /* random loss each way, per million frames */
    uint64_t seed;     /* for the losses; meaningful when seed_given */
    int seed_given;
    uint64_t rate_bps; /* bottleneck each way in bits/s (Ethernet framing counted); 0 none */
    struct lab_opts_drops drops;
};

/* One configuration key of the lab, in the spelling of the file and the command line. */
struct lab_opts_key {
    const char *name; /* "lab-rtt" */
    const char *arg;  /* "MS" */
    const char *help; /* one line for --help */
};
extern const struct lab_opts_key lab_opts_keys[];
extern const int lab_opts_nkeys;

/* The index in lab_opts_keys of key ('_' taken for '-'), or -1: not a lab key. */
int lab_opts_find(const char *key);

/* Lab off, no knobs. */
void lab_opts_init(struct lab_opts *o);

/*
 * Set one key of lab_opts_keys ("lab" on|off, "lab-net", "lab-rtt", ...;
 * '_' is taken for '-') from its text. Returns 0, or -1 with one line in
 * err ("lab-rtt: '4O' is not a number of milliseconds (e.g. 40)").
 */
int lab_opts_set(struct lab_opts *o, const char *key, const char *value, char *err, size_t errlen);

/* The value parsers behind lab_opts_set: 0, or -1 with one line in err. */
int lab_opts_parse_net(const char *s, uint32_t *net, char *err, size_t errlen);
int lab_opts_parse_rtt(const char *s, uint32_t *us, char *err, size_t errlen);
int lab_opts_parse_loss(const char *s, uint32_t *ppm, char *err, size_t errlen);
int lab_opts_parse_seed(const char *s, uint64_t *seed, char *err, size_t errlen);
int lab_opts_parse_rate(const char *s, uint64_t *bps, char *err, size_t errlen);
int lab_opts_parse_drop(const char *s, struct lab_opts_drops *d, char *err, size_t errlen);

/*
 * After every key is set: knobs without --lab are an error, so is a seed
 * without loss. Returns 0, or -1 with one line in err.
 */
int lab_opts_check(const struct lab_opts *o, char *err, size_t errlen);

/*
 * Whether the /30 starting at net touches the network of an address addr/plen
 * already on the machine (host order).
 */
int lab_opts_overlaps(uint32_t net, uint32_t addr, int plen);

/*
 * The host-side interface name of the /30 at net: "labdN" for the Nth /30
 * of 198.18.0.0/15, "labd-HEX" elsewhere. One name per network, so two labd
 * instances that want the same /30 collide on the name, atomically.
 */
void lab_opts_ifname(uint32_t net, char out[LAB_OPTS_IFNAME_MAX]);

/* "rtt +40 ms, loss 1 %" and the other knobs set, for labd status and logs. */
void lab_opts_describe(const struct lab_opts *o, char *out, size_t n);

/* v scaled by 10^places as a decimal without trailing zeros: 15000, 4 -> "1.5". */
void lab_opts_fixed(uint64_t v, int places, char out[LAB_OPTS_NUM_MAX]);

/* A rate in the largest unit that keeps it at 1 or more: 1500000 -> "1.5mbit". */
void lab_opts_rate_text(uint64_t bps, char out[LAB_OPTS_NUM_MAX]);

/* Two settings need the same link (reload keeps it): on, the /30, with or without a wire. */
int lab_opts_same_link(const struct lab_opts *a, const struct lab_opts *b);

/* Two settings give the wire the same knobs (reload need not restart it). */
int lab_opts_same_knobs(const struct lab_opts *a, const struct lab_opts *b);

#endif
