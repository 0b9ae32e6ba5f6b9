/* The lab link's record and the wire's counters as labd status and labmon print them. */
#include "shared/lab_stats.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void lab_stats_link_fill(struct lab_stats_link *l, uint32_t net, const char *ifname, int port,
                         const struct lab_opts *o)
{
    uint32_t seq = l->seq;

    /* The seqlock counter is the writer's, not ours to reset. */
    memset(l, 0, sizeof(*l));
    l->seq = seq;
    l->net = net;
    snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
    l->port = (uint16_t)port;
    l->mtu = LAB_OPTS_MTU;
    l->rtt_us = o->rtt_us;
    l->loss_ppm = o->loss_ppm;
    l->rate_bps = o->rate_bps;
    l->wire = (uint8_t)(o->wire != 0);
    lab_opts_describe(o, l->knobs, sizeof(l->knobs));
}

void lab_stats_url(const struct lab_stats_link *l, char *out, size_t n)
{
    struct in_addr labd = { htonl(l->net + 2) }; /* labd is .2 of the /30 */
    char a[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &labd, a, sizeof(a));
    snprintf(out, n, "http://%s:%u/", a, l->port);
}

void lab_stats_status_line(const struct lab_stats_link *l, char *out, size_t n)
{
    char url[64];

    lab_stats_url(l, url, sizeof(url));
    snprintf(out, n, "lab: %s via %.16s (MTU %u, %.128s)", url, l->ifname, l->mtu, l->knobs);
}

void lab_stats_header(const struct lab_stats_link *l, char *out, size_t n)
{
    char rtt[LAB_OPTS_NUM_MAX], loss[LAB_OPTS_NUM_MAX], rate[LAB_OPTS_NUM_MAX] = "";

    lab_opts_fixed(l->rtt_us, 3, rtt);
    lab_opts_fixed(l->loss_ppm, 4, loss);
    if (l->rate_bps)
        lab_opts_rate_text(l->rate_bps, rate);
    snprintf(out, n, "lab %.16s +%sms %s%%%s%s", l->ifname, rtt, loss, rate[0] ? " " : "", rate);
}

void lab_stats_counters_line(const struct lab_stats *s, int dir, char *out, size_t n)
{
    const struct lab_stats_dir *d = &s->dir[dir];
    int w;

    w = snprintf(out, n,
                 "%s %" PRIu64 " forwarded, %" PRIu64 " delayed, %" PRIu64 " lost, %" PRIu64
                 " dropped by rule, %" PRIu64 " queue drops",
                 dir == LAB_STATS_NDIR - 1 ? "s2c" : "c2s", d->forwarded, d->delayed, d->lost,
                 d->ruled, d->queue_drops);
    /* What should not happen is shown only when it did. */
    if (w > 0 && (size_t)w < n && (d->oversize || d->overruns || d->tx_errors))
        snprintf(out + w, n - (size_t)w,
                 ", %" PRIu64 " oversize, %" PRIu64 " overruns, %" PRIu64 " send errors",
                 d->oversize, d->overruns, d->tx_errors);
}

void lab_stats_counters_total(const struct lab_stats *s, char *out, size_t n)
{
    const struct lab_stats_dir *d = s->dir;

    snprintf(out, n,
             "wire fwd %" PRIu64 " dly %" PRIu64 " lost %" PRIu64 " rule %" PRIu64
             " qdrop %" PRIu64,
             d[0].forwarded + d[1].forwarded, d[0].delayed + d[1].delayed, d[0].lost + d[1].lost,
             d[0].ruled + d[1].ruled, d[0].queue_drops + d[1].queue_drops);
}

/* a - b, or 0 when the counter went backwards (a new wire). */
static uint64_t lab_stats_less(uint64_t a, uint64_t b)
{
    return a >= b ? a - b : 0;
}

void lab_stats_since(struct lab_stats *s, const struct lab_stats *base)
{
    for (int d = 0; d < LAB_STATS_NDIR; d++) {
        struct lab_stats_dir *x = &s->dir[d];
        const struct lab_stats_dir *b = &base->dir[d];

        x->frames = lab_stats_less(x->frames, b->frames);
        x->forwarded = lab_stats_less(x->forwarded, b->forwarded);
        x->bytes = lab_stats_less(x->bytes, b->bytes);
        x->delayed = lab_stats_less(x->delayed, b->delayed);
        x->lost = lab_stats_less(x->lost, b->lost);
        x->ruled = lab_stats_less(x->ruled, b->ruled);
        x->queue_drops = lab_stats_less(x->queue_drops, b->queue_drops);
        x->oversize = lab_stats_less(x->oversize, b->oversize);
        x->overruns = lab_stats_less(x->overruns, b->overruns);
        x->tx_errors = lab_stats_less(x->tx_errors, b->tx_errors);
    }
}
