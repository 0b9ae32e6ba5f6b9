/* Parsing and describing the --lab options; no I/O, so every error path is unit-tested. */
#include "shared/lab_opts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct lab_opts_key lab_opts_keys[] = {
    { "lab", "on|off",
      "listen in a private network namespace behind a real Ethernet link (veth, MTU 1500)" },
    { "lab-net", "CIDR",
      "the link's /30: host .1, labd .2 (default: the first free /30 of 198.18.0.0/15)" },
    { "lab-rtt", "MS", "add MS to the round trip on the lab link, half each way" },
    { "lab-loss", "PCT", "lose PCT % of the frames each way (e.g. 1 or 0.5)" },
    { "lab-seed", "N", "the same losses every run (default: a new seed each start)" },
    { "lab-rate", "RATE", "a bottleneck each way with a bounded queue (e.g. 10mbit, 500kbit)" },
    { "lab-drop", "SPEC",
      "drop chosen segments of each new connection: syn, c2s:N, s2c:N, s2c:N-M (e.g. "
      "s2c:5,c2s:3)" },
};
const int lab_opts_nkeys = (int)(sizeof(lab_opts_keys) / sizeof(lab_opts_keys[0]));

void lab_opts_init(struct lab_opts *o)
{
    memset(o, 0, sizeof(*o));
}

/*
 * A non-negative decimal with at most `places` digits after the point, as
 * an integer scaled by 10^places, at most max. *end gets the first byte
 * after the number. -1 when there is no number or it is out of range.
 */
static int lab_opts_decimal(const char *s, int places, uint64_t max, uint64_t *out,
                            const char **end)
{
    uint64_t v = 0;
    int digits = 0, frac = -1;

    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (!isdigit((unsigned char)*s))
            break;
        if (frac >= 0 && ++frac > places)
            return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        digits++;
    }
    if (digits == 0)
        return -1;
    for (int i = frac < 0 ? 0 : frac; i < places; i++) {
        if (v > UINT64_MAX / 10)
            return -1;
        v *= 10;
    }
    if (v > max)
        return -1;
    *out = v;
    *end = s;
    return 0;
}

int lab_opts_parse_net(const char *s, uint32_t *net, char *err, size_t errlen)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    struct in_addr in;
    uint32_t a;

    if (alen == 0 || alen >= sizeof(addr))
        goto bad;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, &in) != 1)
        goto bad;
    if (slash) {
        char *e;
        long plen;

        if (!isdigit((unsigned char)slash[1]))
            goto bad;
        plen = strtol(slash + 1, &e, 10);
        if (*e != '\0' || plen < 0 || plen > 32)
            goto bad;
        if (plen != 30) {
            snprintf(err, errlen,
                     "lab-net: '%s' is a /%ld; the lab link is a /30 (host .1, labd .2), "
                     "e.g. 198.18.0.4/30",
                     s, plen);
            return -1;
        }
    }
    a = ntohl(in.s_addr);
    if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 16) == 0xa9fe || (a >> 28) >= 0xe) {
        snprintf(err, errlen,
                 "lab-net: %s is not a unicast network for a link (loopback, link-local, "
                 "multicast and reserved are out); use one in 198.18.0.0/15",
                 addr);
        return -1;
    }
    if (a & 3u) {
        struct in_addr first = { htonl(a & ~3u) };
        char fs[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &first, fs, sizeof(fs));
        snprintf(err, errlen, "lab-net: %s/30 does not start a /30 (%s/30 does)", addr, fs);
        return -1;
    }
    *net = a;
    return 0;
bad:
    snprintf(err, errlen, "lab-net: '%s' is not an IPv4 network (e.g. 198.18.0.4/30)", s);
    return -1;
}

int lab_opts_parse_rtt(const char *s, uint32_t *us, char *err, size_t errlen)
{
    const char *end;
    uint64_t v;

    if (lab_opts_decimal(s, 3, UINT64_MAX, &v, &end) < 0 ||
        (*end != '\0' && strcasecmp(end, "ms") != 0)) {
        snprintf(err, errlen, "lab-rtt: '%s' is not a number of milliseconds (e.g. 40)", s);
        return -1;
    }
    if (v > LAB_OPTS_RTT_MAX_US) {
        snprintf(err, errlen, "lab-rtt: '%s' is more than the %u ms allowed", s,
                 LAB_OPTS_RTT_MAX_US / 1000);
        return -1;
    }
    *us = (uint32_t)v;
    return 0;
}

int lab_opts_parse_loss(const char *s, uint32_t *ppm, char *err, size_t errlen)
{
    const char *end;
    uint64_t v;

    if (lab_opts_decimal(s, 4, UINT64_MAX, &v, &end) < 0 || (*end != '\0' && strcmp(end, "%"))) {
        snprintf(err, errlen,
                 "lab-loss: '%s' is not a percentage (0 to 100, at most 4 decimals, e.g. 1 or "
                 "0.5)",
                 s);
        return -1;
    }
    /* 4 decimals of a percentage are parts per million. */
    if (v > LAB_OPTS_LOSS_ONE) {
        snprintf(err, errlen, "lab-loss: %s is more than 100 %%", s);
        return -1;
    }
    *ppm = (uint32_t)v;
    return 0;
}

int lab_opts_parse_seed(const char *s, uint64_t *seed, char *err, size_t errlen)
{
    const char *end;
    uint64_t v;

    if (lab_opts_decimal(s, 0, UINT64_MAX, &v, &end) < 0 || *end != '\0') {
        snprintf(err, errlen, "lab-seed: '%s' is not a whole number from 0 to %llu", s,
                 (unsigned long long)UINT64_MAX);
        return -1;
    }
    *seed = v;
    return 0;
}

int lab_opts_parse_rate(const char *s, uint64_t *bps, char *err, size_t errlen)
{
    static const struct {
        const char *unit;
        uint64_t bits; /* bits per second of one unit */
    } units[] = {
        { "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
        { "bps", 8 }, { "kbps", 8000 }, { "mbps", 8000000 }, { "gbps", 8000000000 },
    };
    const char *end;
    uint64_t milli;
    unsigned __int128 v;

    if (lab_opts_decimal(s, 3, UINT64_MAX, &milli, &end) < 0)
        goto bad;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) != 0)
            continue;
        v = (unsigned __int128)milli * units[i].bits / 1000;
        if (v < LAB_OPTS_RATE_MIN_BPS || v > LAB_OPTS_RATE_MAX_BPS) {
            snprintf(err, errlen, "lab-rate: %s is outside 8kbit to 100gbit", s);
            return -1;
        }
        *bps = (uint64_t)v;
        return 0;
    }
bad:
    snprintf(err, errlen,
             "lab-rate: '%s' is not a rate with a unit (bit, kbit, mbit, gbit; bps, kbps, "
             "mbps, gbps are bytes), e.g. 10mbit",
             s);
    return -1;
}

/* Add n to the ascending, distinct list of direction dir. */
static int lab_opts_add_nth(struct lab_opts_drops *d, int dir, uint32_t n)
{
    uint32_t *l = d->nth[dir];
    uint32_t i = 0;

    while (i < d->n[dir] && l[i] < n)
        i++;
    if (i < d->n[dir] && l[i] == n)
        return 0;
    if (d->n[dir] >= LAB_OPTS_DROP_MAX)
        return -1;
    memmove(&l[i + 1], &l[i], (d->n[dir] - i) * sizeof(l[0]));
    l[i] = n;
    d->n[dir]++;
    return 0;
}

/* One item of a drop list: "syn", "c2s:N", "s2c:N" or "s2c:N-M". */
static int lab_opts_drop_item(const char *item, size_t len, struct lab_opts_drops *d, char *err,
                              size_t errlen)
{
    char buf[64];
    const char *end;
    uint64_t lo, hi;
    int dir;

    if (len == 0 || len >= sizeof(buf))
        goto bad;
    memcpy(buf, item, len);
    buf[len] = '\0';
    if (strcasecmp(buf, "syn") == 0) {
        d->syn = 1;
        return 0;
    }
    if (strncasecmp(buf, "c2s:", 4) == 0)
        dir = LAB_OPTS_C2S;
    else if (strncasecmp(buf, "s2c:", 4) == 0)
        dir = LAB_OPTS_S2C;
    else
        goto bad;
    if (lab_opts_decimal(buf + 4, 0, LAB_OPTS_NTH_MAX, &lo, &end) < 0 || lo == 0)
        goto bad;
    hi = lo;
    if (*end == '-' && (lab_opts_decimal(end + 1, 0, LAB_OPTS_NTH_MAX, &hi, &end) < 0 || hi < lo))
        goto bad;
    if (*end != '\0')
        goto bad;
    for (uint64_t n = lo; n <= hi; n++) {
        if (lab_opts_add_nth(d, dir, (uint32_t)n) < 0) {
            snprintf(err, errlen, "lab-drop: more than %d segments to drop %s", LAB_OPTS_DROP_MAX,
                     dir == LAB_OPTS_C2S ? "c2s" : "s2c");
            return -1;
        }
    }
    return 0;
bad:
    snprintf(err, errlen,
             "lab-drop: '%.*s' is not syn, c2s:N, s2c:N or s2c:N-M with N from 1 (e.g. "
             "s2c:5,s2c:6,c2s:3)",
             (int)(len < 64 ? len : 64), item);
    return -1;
}

int lab_opts_parse_drop(const char *s, struct lab_opts_drops *d, char *err, size_t errlen)
{
    struct lab_opts_drops nd;
    const char *p = s;

    memset(&nd, 0, sizeof(nd));
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (lab_opts_drop_item(p, len, &nd, err, errlen) < 0)
            return -1;
        if (!comma)
            break;
        p = comma + 1;
    }
    *d = nd;
    return 0;
}

/* Key names compare with '_' taken for '-'. */
static int lab_opts_key_is(const char *key, const char *name)
{
    for (; *key && *name; key++, name++) {
        if ((*key == '_' ? '-' : *key) != *name)
            return 0;
    }
    return *key == '\0' && *name == '\0';
}

int lab_opts_find(const char *key)
{
    for (int i = 0; i < lab_opts_nkeys; i++) {
        if (lab_opts_key_is(key, lab_opts_keys[i].name))
            return i;
    }
    return -1;
}

int lab_opts_set(struct lab_opts *o, const char *key, const char *value, char *err, size_t errlen)
{
    int rc;

    if (lab_opts_key_is(key, "lab")) {
        if (strcasecmp(value, "on") == 0) {
            o->on = 1;
        } else if (strcasecmp(value, "off") == 0) {
            o->on = 0;
        } else {
            snprintf(err, errlen, "lab: '%s' is not on or off", value);
            return -1;
        }
        return 0;
    }
    if (lab_opts_key_is(key, "lab-net"))
        return lab_opts_parse_net(value, &o->net, err, errlen);
    if (lab_opts_key_is(key, "lab-rtt"))
        rc = lab_opts_parse_rtt(value, &o->rtt_us, err, errlen);
    else if (lab_opts_key_is(key, "lab-loss"))
        rc = lab_opts_parse_loss(value, &o->loss_ppm, err, errlen);
    else if (lab_opts_key_is(key, "lab-seed"))
        rc = lab_opts_parse_seed(value, &o->seed, err, errlen);
    else if (lab_opts_key_is(key, "lab-rate"))
        rc = lab_opts_parse_rate(value, &o->rate_bps, err, errlen);
    else if (lab_opts_key_is(key, "lab-drop"))
        rc = lab_opts_parse_drop(value, &o->drops, err, errlen);
    else {
        snprintf(err, errlen, "unknown option %s", key);
        return -1;
    }
    if (rc == 0) {
        o->wire = 1;
        if (lab_opts_key_is(key, "lab-seed"))
            o->seed_given = 1;
    }
    return rc;
}

int lab_opts_check(const struct lab_opts *o, char *err, size_t errlen)
{
    if (!o->on && (o->wire || o->net != 0)) {
        snprintf(err, errlen, "the lab-* options act on the lab link: add --lab (config: lab on)");
        return -1;
    }
    return 0;
}

int lab_opts_overlaps(uint32_t net, uint32_t addr, int plen)
{
    uint32_t mask;

    if (plen <= 0)
        return 1;
    /* Two aligned blocks overlap when they agree on the shorter prefix. */
    if (plen > 30)
        plen = 30;
    mask = ~0u << (32 - plen);
    return (net & mask) == (addr & mask);
}

void lab_opts_ifname(uint32_t net, char out[LAB_OPTS_IFNAME_MAX])
{
    uint32_t range_mask = ~0u << (32 - LAB_OPTS_RANGE_PLEN);

    if ((net & range_mask) == LAB_OPTS_RANGE)
        snprintf(out, LAB_OPTS_IFNAME_MAX, "labd%u", (net - LAB_OPTS_RANGE) >> 2);
    else
        snprintf(out, LAB_OPTS_IFNAME_MAX, "labd-%08x", net);
}

/* Append to out at *len, never past n. */
static void lab_opts_append(char *out, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void lab_opts_append(char *out, size_t n, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (*len >= n)
        return;
    va_start(ap, fmt);
    w = vsnprintf(out + *len, n - *len, fmt, ap);
    va_end(ap);
    if (w > 0)
        *len += (size_t)w < n - *len ? (size_t)w : n - *len;
}

void lab_opts_fixed(uint64_t v, int places, char out[LAB_OPTS_NUM_MAX])
{
    uint64_t scale = 1, frac;

    for (int i = 0; i < places; i++)
        scale *= 10;
    frac = v % scale;
    if (frac == 0) {
        snprintf(out, LAB_OPTS_NUM_MAX, "%llu", (unsigned long long)(v / scale));
        return;
    }
    while (frac % 10 == 0) {
        frac /= 10;
        places--;
    }
    snprintf(out, LAB_OPTS_NUM_MAX, "%llu.%0*llu", (unsigned long long)(v / scale), places,
             (unsigned long long)frac);
}

void lab_opts_rate_text(uint64_t bps, char out[LAB_OPTS_NUM_MAX])
{
    static const struct {
        uint64_t div;
        const char *unit;
    } u[] = { { 1000000000, "gbit" }, { 1000000, "mbit" }, { 1000, "kbit" }, { 1, "bit" } };
    size_t i = 0;

    while (i + 1 < sizeof(u) / sizeof(u[0]) && bps < u[i].div)
        i++;
    lab_opts_fixed(bps * 1000 / u[i].div, 3, out);
    snprintf(out + strlen(out), LAB_OPTS_NUM_MAX - strlen(out), "%s", u[i].unit);
}

void lab_opts_describe(const struct lab_opts *o, char *out, size_t n)
{
    char rtt[LAB_OPTS_NUM_MAX], loss[LAB_OPTS_NUM_MAX], rate[LAB_OPTS_NUM_MAX];
    size_t len = 0;

    if (n == 0)
        return;
    out[0] = '\0';
    lab_opts_fixed(o->rtt_us, 3, rtt);
    lab_opts_fixed(o->loss_ppm, 4, loss);
    lab_opts_append(out, n, &len, "rtt +%s ms, loss %s %%", rtt, loss);
    if (o->loss_ppm && o->seed_given)
        lab_opts_append(out, n, &len, " (seed %llu)", (unsigned long long)o->seed);
    if (o->rate_bps) {
        lab_opts_rate_text(o->rate_bps, rate);
        lab_opts_append(out, n, &len, ", rate %s", rate);
    }
    if (o->drops.syn || o->drops.n[LAB_OPTS_C2S] || o->drops.n[LAB_OPTS_S2C]) {
        const char *sep = "";

        lab_opts_append(out, n, &len, ", drop ");
        if (o->drops.syn) {
            lab_opts_append(out, n, &len, "syn");
            sep = ",";
        }
        for (int d = 0; d < LAB_OPTS_NDIR; d++) {
            for (uint32_t i = 0; i < o->drops.n[d]; i++) {
                lab_opts_append(out, n, &len, "%s%s:%u", sep, d == LAB_OPTS_C2S ? "c2s" : "s2c",
                                o->drops.nth[d][i]);
                sep = ",";
            }
        }
    }
}

int lab_opts_same_link(const struct lab_opts *a, const struct lab_opts *b)
{
    return a->on == b->on && a->net == b->net && a->wire == b->wire;
}

int lab_opts_same_knobs(const struct lab_opts *a, const struct lab_opts *b)
{
    return a->rtt_us == b->rtt_us && a->loss_ppm == b->loss_ppm && a->seed_given == b->seed_given &&
           (!a->seed_given || a->seed == b->seed) && a->rate_bps == b->rate_bps &&
           memcmp(&a->drops, &b->drops, sizeof(a->drops)) == 0;
}
