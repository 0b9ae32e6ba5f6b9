/* The time-sequence graph's data from a flow's segment log (see tsg.h). */
#include "monitor/tsg.h"

#include <stdlib.h>
#include <string.h>

void tsg_init(struct tsg *g)
{
    memset(g, 0, sizeof(*g));
}

void tsg_free(struct tsg *g)
{
    free(g->seg);
    free(g->ack);
    free(g->sack);
    tsg_init(g);
}

void tsg_range(const struct tsg *g, struct tsg_range *r)
{
    uint64_t hi = g->hi > g->lo ? g->hi : g->lo + 1, lo = g->lo;
    uint64_t t1 = g->t_end_ns > g->t0_ns ? g->t_end_ns : g->t1_ns;

    if (lo <= (hi - lo) / 10)
        lo = 0;
    r->t0_ns = g->t0_ns;
    r->t1_ns = t1 > g->t0_ns ? t1 : g->t0_ns + 1000000; /* one instant: a millisecond wide */
    r->lo = (double)lo;
    r->hi = (double)lo + (double)(hi - lo) * 1.03;
}

enum flow_dir_id tsg_busier_dir(const struct flow *f)
{
    return f->d[FLOW_C2S].bytes > f->d[FLOW_S2C].bytes ? FLOW_C2S : FLOW_S2C;
}

/* Room for n entries in each array (a segment adds at most one data segment or one ACK plus
 * FLOW_SEG_SACK_MAX blocks). 0, or -1 when out of memory. */
static int tsg_reserve(struct tsg *g, size_t n)
{
    struct tsg_seg *s;
    struct tsg_ack *a;
    struct tsg_sack *k;

    if (n <= g->cap)
        return 0;
    s = realloc(g->seg, n * sizeof(*s));
    if (s != NULL)
        g->seg = s;
    a = realloc(g->ack, n * sizeof(*a));
    if (a != NULL)
        g->ack = a;
    k = realloc(g->sack, n * FLOW_SEG_SACK_MAX * sizeof(*k));
    if (k != NULL)
        g->sack = k;
    if (s == NULL || a == NULL || k == NULL)
        return -1;
    g->cap = n;
    return 0;
}

/* v (a 32-bit relative number) unwrapped to the 64-bit value nearest *last; updates *last. */
static uint64_t tsg_unwrap(uint64_t *last, uint32_t v)
{
    uint64_t x = (*last & ~(uint64_t)0xffffffffu) | v;

    if (x + 0x80000000u < *last)
        x += (uint64_t)1 << 32;
    else if (x > *last + 0x80000000u && x >= ((uint64_t)1 << 32))
        x -= (uint64_t)1 << 32;
    *last = x;
    return x;
}

/* Widens the sequence range to hold [a, b]. */
static void tsg_span(struct tsg *g, int *any, uint64_t a, uint64_t b)
{
    if (!*any || a < g->lo)
        g->lo = a;
    if (!*any || b > g->hi)
        g->hi = b;
    *any = 1;
}

/* Where the unwrapping of each sequence space stands. */
struct tsg_walk {
    uint64_t data_last, ack_last;
    int any;
};

/* An ACK of the graphed data, with its window and SACK blocks. */
static void tsg_add_ack(struct tsg *g, struct tsg_walk *w, const struct flow_seg *e)
{
    struct tsg_ack *a = &g->ack[g->nack++];

    a->t_ns = e->ts_ns;
    a->ack = tsg_unwrap(&w->ack_last, e->rel_ack);
    a->win_end = a->ack + e->win;
    a->dupack = (e->marks & FLOW_SEG_DUP_ACK) != 0;
    if (g->nack == 1 || a->ack != a[-1].ack || a->win_end != a[-1].win_end || e->nsack)
        g->t_end_ns = e->ts_ns;
    tsg_span(g, &w->any, a->ack, a->ack);
    if (a->win_end > g->win_hi)
        g->win_hi = a->win_end;
    for (uint8_t i = 0; i < e->nsack && i < FLOW_SEG_SACK_MAX; i++) {
        uint64_t at = a->ack;
        struct tsg_sack *k = &g->sack[g->nsack++];
        k->t_ns = e->ts_ns;
        k->left = tsg_unwrap(&at, e->sack[i][0]);
        k->right = tsg_unwrap(&at, e->sack[i][1]);
        if (k->right < k->left) /* a block no receiver sends: drawn as its left edge */
            k->right = k->left;
        tsg_span(g, &w->any, k->left, k->right);
    }
}

int tsg_build(struct tsg *g, const struct flow *f)
{
    uint32_t n = flow_seglog_count(f), gap = flow_seglog_gap_index(f);
    struct tsg_walk w = { 0 };

    g->nseg = g->nack = g->nsack = 0;
    g->lo = g->hi = g->win_hi = 0;
    g->retrans = 0;
    g->dir = (uint8_t)tsg_busier_dir(f);
    g->bytes = f->d[g->dir].bytes;
    g->t0_ns = f->first_ts_ns;
    g->t1_ns = f->first_ts_ns;
    g->not_kept = f->log.skipped;
    g->gap_t0 = g->gap_t1 = 0;
    g->t_end_ns = g->fin_t_ns = g->fin_seq = 0;
    if (tsg_reserve(g, n) < 0) {
        g->nseg = g->nack = g->nsack = 0;
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct flow_seg *e = flow_seglog_get(f, i);
        if (e->ts_ns > g->t1_ns)
            g->t1_ns = e->ts_ns;
        if (g->not_kept && i == gap && i > 0) {
            g->gap_t0 = flow_seglog_get(f, i - 1)->ts_ns;
            g->gap_t1 = e->ts_ns;
        }
        if (e->dir == g->dir && (e->flags & FLOW_TH_FIN) && !(e->flags & FLOW_TH_RST)) {
            g->fin_t_ns = e->ts_ns;
            g->fin_seq = tsg_unwrap(&w.data_last, e->rel_seq + e->len);
            g->t_end_ns = e->ts_ns;
            tsg_span(g, &w.any, g->fin_seq, g->fin_seq);
        }
        if (e->dir == g->dir && e->len > 0) {
            struct tsg_seg *s = &g->seg[g->nseg++];
            s->t_ns = e->ts_ns;
            s->seq = tsg_unwrap(&w.data_last, e->rel_seq + ((e->flags & FLOW_TH_SYN) ? 1u : 0u));
            s->end = s->seq + e->len;
            s->retrans = (e->marks & FLOW_SEG_RETRANS) != 0;
            g->retrans += s->retrans;
            g->t_end_ns = e->ts_ns;
            tsg_span(g, &w.any, s->seq, s->end);
        } else if (e->dir != g->dir && (e->flags & (FLOW_TH_ACK | FLOW_TH_RST)) == FLOW_TH_ACK &&
                   e->rel_ack != 0) {
            tsg_add_ack(g, &w, e);
        }
    }
    return 0;
}
