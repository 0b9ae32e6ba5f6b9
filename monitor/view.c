/*
 * labmon's view model, one frame: connections + view state -> a screen of
 * cells (the header and footer lines here, the pages in view_waterfall.c,
 * view_ladder.c and view_keys.c). Everything is pure so that the pages can
 * be tested as text, and benchmarked, without a terminal.
 */
#include "monitor/view_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void view_state_init(struct view_state *vs, const struct view_glyphs *g)
{
    memset(vs, 0, sizeof(*vs));
    vs->glyphs = g ? g : &view_glyphs_ascii;
    vs->zoom = VIEW_ZOOM_DEFAULT;
    vs->follow = 1;
    vs->sel = -1;
}

void view_state_free(struct view_state *vs)
{
    free(vs->sort_items); /* one block with order_id and order (view_sort.c) */
    vs->order = NULL;
    vs->order_id = NULL;
    vs->sort_items = NULL;
    vs->cap = 0;
}

/* A piece of the header line; the least important give way on narrow screens. */
struct view_header_seg {
    char text[160];
    uint8_t attr;
    int prio; /* lower survives longer */
};

#define VIEW_HEADER_SEGS 12

struct view_header {
    struct view_header_seg seg[VIEW_HEADER_SEGS];
    int n;
};

static void view_header_add(struct view_header *h, int prio, uint8_t attr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void view_header_add(struct view_header *h, int prio, uint8_t attr, const char *fmt, ...)
{
    struct view_header_seg *seg = &h->seg[h->n++];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(seg->text, sizeof(seg->text), fmt, ap);
    va_end(ap);
    seg->attr = attr;
    seg->prio = prio;
}

/* "12 conns: 3 EST 1 TW 7 fin 1 rst": open connections by client state, closed by how. */
static void view_header_counts(char *buf, size_t size, const struct view_conn *const *conns,
                               size_t n)
{
    unsigned counts[VIEW_ST_COUNT] = { 0 };
    unsigned nfin = 0, nrst = 0;
    int len;

    for (size_t i = 0; i < n; i++) {
        const struct view_conn *c = conns[i];
        if (c->end == VIEW_END_FIN)
            nfin++;
        else if (c->end == VIEW_END_RST)
            nrst++;
        else
            counts[c->cstate < VIEW_ST_COUNT ? c->cstate : 0]++;
    }
    len = snprintf(buf, size, "%zu conn%s%s", n, n == 1 ? "" : "s", n ? ":" : "");
    for (int i = 0; i < VIEW_ST_COUNT && len < (int)size; i++)
        if (counts[i])
            len += snprintf(buf + len, size - (size_t)len, " %u %s", counts[i],
                            view_state_code((enum view_tcp_state)i, 0));
    if (nfin && len < (int)size)
        len += snprintf(buf + len, size - (size_t)len, " %u fin", nfin);
    if (nrst && len < (int)size)
        snprintf(buf + len, size - (size_t)len, " %u rst", nrst);
}

/* Drop the least important segments until the rest fits in w columns. */
static void view_header_fit(struct view_header *h, int w)
{
    int total = 0;

    for (int i = 0; i < h->n; i++)
        total += view_text_width(h->seg[i].text) + (i ? 2 : 0);
    for (int prio = 7; total > w && prio > 0; prio--) {
        for (int i = h->n - 1; i >= 0 && total > w; i--) {
            if (h->seg[i].prio == prio && h->seg[i].text[0]) {
                total -= view_text_width(h->seg[i].text) + 2;
                h->seg[i].text[0] = '\0';
            }
        }
    }
}

static void view_draw_header(struct view_screen *s, const struct view_state *vs,
                             const struct view_conn *const *conns, size_t n,
                             const struct view_stats *st)
{
    struct view_header h = { .n = 0 };
    struct view_pen p = { s, 0, 0, s->w, VIEW_A_HEADER };
    char buf[160];

    view_screen_line_attr(s, 0, VIEW_A_HEADER);
    view_header_add(&h, 0, VIEW_A_HEADER, "labmon");
    view_header_add(&h, 1, VIEW_A_HEADER, "%s%s%s", st->live ? "LIVE" : "REPLAY",
                    !st->live && st->reading ? " reading..." : "", vs->paused ? " PAUSED" : "");
    view_header_add(&h, 3, VIEW_A_HEADER, "%s%s%s", st->iface ? st->iface : "?",
                    st->filter && *st->filter ? ": " : "", st->filter ? st->filter : "");
    view_header_add(&h, 0, st->drops ? VIEW_A_WARN : VIEW_A_HEADER, "pkts %llu drops %llu",
                    (unsigned long long)st->pkts, (unsigned long long)st->drops);
    if (st->labd_running)
        view_header_add(&h, 2, VIEW_A_HEADER, "labd %d :%u x%d", st->labd_pid, st->labd_port,
                        st->labd_workers);
    else if (st->live)
        view_header_add(&h, 2, VIEW_A_WARN, "labd not running");
    /* On a lab link what the wire did matters more than the filter and the states. */
    if (st->lab && *st->lab)
        view_header_add(&h, 2, VIEW_A_HEADER, "%s", st->lab);
    if (st->wire && *st->wire)
        view_header_add(&h, 2, VIEW_A_HEADER, "%s", st->wire);
    view_header_counts(buf, sizeof(buf), conns, n);
    view_header_add(&h, 4, VIEW_A_HEADER, "%s", buf);
    view_format_bytes(buf, sizeof(buf), (uint64_t)(st->bytes_per_s > 0 ? st->bytes_per_s : 0));
    view_header_add(&h, 6, VIEW_A_HEADER, "%sB/s", buf);
    if (st->writing)
        view_header_add(&h, 5, VIEW_A_WARN, "writing %s", st->writing);
    if (st->note)
        view_header_add(&h, 7, VIEW_A_WARN, "%s", st->note);

    view_header_fit(&h, s->w);
    for (int i = 0; i < h.n; i++) {
        if (!h.seg[i].text[0])
            continue;
        if (p.x > 0)
            view_pen_str(&p, "  ");
        p.attr = h.seg[i].attr;
        view_pen_str(&p, h.seg[i].text);
        p.attr = VIEW_A_HEADER;
    }
}

static void view_draw_footer(struct view_screen *s, const struct view_state *vs, size_t ntotal)
{
    struct view_pen p = { s, s->h - 1, 0, s->w, VIEW_A_FOOTER };
    char buf[256];

    view_screen_line_attr(s, s->h - 1, VIEW_A_FOOTER);
    if (vs->editing) {
        view_pen_str(&p, "filter: ");
        view_pen_str(&p, vs->edit);
        view_pen_cp(&p, '_');
        view_pen_str(&p, "   (Enter apply, Esc cancel; port N, addr A, state S, status N, text)");
        return;
    }
    if (vs->msg[0]) {
        p.attr = VIEW_A_WARN;
        view_pen_str(&p, vs->msg);
        return;
    }
    if (vs->mode == VIEW_LADDER) {
        view_pen_str(&p, "Esc back  Up/Dn PgUp/PgDn scroll  Home/End  g graph  e export  p pause  "
                         "w write  ? help  q quit");
        return;
    }
    if (vs->mode == VIEW_GRAPH) {
        view_pen_str(&p, "Esc/g ladder  e export SVG+HTML  p pause  w write  ? help  q quit");
        return;
    }
    if (vs->filter_text[0]) {
        snprintf(buf, sizeof(buf), "[%s: %zu/%zu]  ", vs->filter_text, vs->nshown, ntotal);
        p.attr = VIEW_A_WARN;
        view_pen_str(&p, buf);
        p.attr = VIEW_A_FOOTER;
    }
    /* The most helpful hint line that fits. */
    for (int v = 0; v < 3; v++) {
        const char *pause = vs->paused ? "resume" : "pause";
        if (v == 0)
            snprintf(buf, sizeof(buf),
                     "q quit  Enter ladder  / filter  s sort:%s  +/- zoom  p %s  c clear  "
                     "w write  e export  ? help",
                     view_sort_name(vs->sort), pause);
        else if (v == 1)
            snprintf(buf, sizeof(buf),
                     "q quit Enter ladder / filter s sort +/- zoom p %s c clear w write e export "
                     "? help",
                     pause);
        else
            snprintf(buf, sizeof(buf), "q quit Enter ladder / filter s sort +/- zoom p %s ? help",
                     pause);
        if (p.x + view_text_width(buf) <= s->w)
            break;
    }
    view_pen_str(&p, buf);
}

void view_render(struct view_state *vs, const struct view_conn *const *conns, size_t n,
                 const struct view_stats *st, const struct view_ladder_line *ladder, size_t nladder,
                 struct view_screen *scr)
{
    int rows;

    view_screen_clear(scr);
    if (scr->w < 20 || scr->h < 4) {
        struct view_pen p = { scr, 0, 0, scr->w, VIEW_A_WARN };
        view_pen_str(&p, "labmon: terminal too small");
        return;
    }
    if (vs->mode == VIEW_HELP) {
        view_help_draw(scr, vs);
        return;
    }
    rows = scr->h - 3;
    vs->page_rows = rows;
    view_sort_rows(vs, conns, n);
    view_sort_place_selection(vs, rows);
    if ((vs->mode == VIEW_LADDER || vs->mode == VIEW_GRAPH) && vs->sel < 0)
        vs->mode = VIEW_WATERFALL;

    view_draw_header(scr, vs, conns, n, st);
    view_draw_footer(scr, vs, n);
    if (vs->mode == VIEW_LADDER)
        view_ladder_draw(scr, vs, conns[vs->order[vs->sel]], ladder, nladder);
    else if (vs->mode == VIEW_GRAPH)
        view_graph_draw(scr, vs, conns[vs->order[vs->sel]], vs->graph);
    else
        view_waterfall_draw(scr, vs, conns, n, st);
}
