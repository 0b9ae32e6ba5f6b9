/* The time-sequence graph as an SVG figure (see svg_tsg.h). */
#include "monitor/svg_tsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/svg_ladder.h"

/* The figure's geometry, in pixels. */
#define SVG_TSG_W      960
#define SVG_TSG_H      580
#define SVG_TSG_X0     96             /* plot area: left */
#define SVG_TSG_X1     930            /* right */
#define SVG_TSG_Y0     64             /* top */
#define SVG_TSG_Y1     470            /* bottom */
#define SVG_TSG_CAP    2              /* half the width of a bar's end caps */
#define SVG_TSG_TICKS  8              /* about this many ticks per axis */
#define SVG_TSG_LEGEND 548            /* the key's baseline */
#define SVG_TSG_TO     "\xe2\x86\x92" /* U+2192 RIGHTWARDS ARROW */

/* Data coordinates to pixels. */
struct svg_tsg_map {
    uint64_t t0;
    double t_span; /* ns */
    double lo, v_span;
    struct svg_unit tu, vu; /* axis units */
};

static double svg_tsg_x(const struct svg_tsg_map *m, uint64_t t)
{
    return SVG_TSG_X0 + (double)(t - m->t0) / m->t_span * (SVG_TSG_X1 - SVG_TSG_X0);
}

static double svg_tsg_y(const struct svg_tsg_map *m, uint64_t v)
{
    return SVG_TSG_Y1 - ((double)v - m->lo) / m->v_span * (SVG_TSG_Y1 - SVG_TSG_Y0);
}

static void svg_tsg_map_init(struct svg_tsg_map *m, const struct tsg *g)
{
    struct tsg_range r;

    tsg_range(g, &r);
    m->t0 = r.t0_ns;
    m->t_span = (double)(r.t1_ns - r.t0_ns);
    m->lo = r.lo;
    m->v_span = r.hi - r.lo;
    svg_unit_choose(SVG_SECONDS, m->t_span / 1e9, &m->tu);
    svg_unit_choose(SVG_BYTES, r.hi, &m->vu);
}

/* A bar over [a, b] at x: a vertical line with caps at both ends (tcptrace's I-beam). */
static void svg_tsg_ibeam(struct svg_buf *s, double x, double ya, double yb, const char *cls)
{
    svg_printf(s,
               "<path class=\"%s\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fH%.1f\" "
               "stroke=\"#333\" stroke-width=\"1.2\" fill=\"none\"/>\n",
               cls, x - SVG_TSG_CAP, ya, x + SVG_TSG_CAP, x, ya, yb, x - SVG_TSG_CAP, yb,
               x + SVG_TSG_CAP);
}

/* The retransmission marker: an open circle on top of the bar. */
static void svg_tsg_rtx_mark(struct svg_buf *s, double x, double y)
{
    svg_printf(s,
               "<circle class=\"rtx\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#ffffff\" "
               "stroke=\"#333\"/>\n",
               x, y - 5);
}

/* A SACK block: a hollow box over its range, beside the ACK that carried it. */
static void svg_tsg_sack_box(struct svg_buf *s, double x, double ya, double yb)
{
    svg_printf(s,
               "<rect class=\"sack\" x=\"%.1f\" y=\"%.1f\" width=\"4\" height=\"%.1f\" "
               "fill=\"none\" stroke=\"#333\"/>\n",
               x + 1, yb, ya - yb > 1 ? ya - yb : 1);
}

/* Per pixel column, the lowest and highest sequence drawn (merging past SVG_TSG_DETAIL_MAX). */
struct svg_tsg_bin {
    double ya, yb; /* bottom and top in pixels (ya >= yb) */
    int used;
};

static void svg_tsg_bin_add(struct svg_tsg_bin *bins, double x, double ya, double yb)
{
    int col = (int)(x - SVG_TSG_X0);
    struct svg_tsg_bin *b;

    if (col < 0 || col > SVG_TSG_X1 - SVG_TSG_X0)
        return; /* beyond the time axis: clipped anyway */
    b = &bins[col];

    if (!b->used || ya > b->ya)
        b->ya = ya;
    if (!b->used || yb < b->yb)
        b->yb = yb;
    b->used = 1;
}

/* Data segments: one bar each, or merged per pixel column (normal and retransmitted apart). */
static int svg_tsg_segments(struct svg_buf *s, const struct tsg *g, const struct svg_tsg_map *m)
{
    size_t cols = SVG_TSG_X1 - SVG_TSG_X0 + 1;
    struct svg_tsg_bin *bins;

    if (g->nseg <= SVG_TSG_DETAIL_MAX) {
        for (size_t i = 0; i < g->nseg; i++) {
            const struct tsg_seg *e = &g->seg[i];
            double x = svg_tsg_x(m, e->t_ns), yb = svg_tsg_y(m, e->end);
            svg_tsg_ibeam(s, x, svg_tsg_y(m, e->seq), yb, e->retrans ? "seg retrans" : "seg");
            if (e->retrans)
                svg_tsg_rtx_mark(s, x, yb);
        }
        return 0;
    }
    bins = calloc(2 * cols, sizeof(*bins));
    if (bins == NULL)
        return -1;
    for (size_t i = 0; i < g->nseg; i++) {
        const struct tsg_seg *e = &g->seg[i];
        svg_tsg_bin_add(bins + (e->retrans ? cols : 0), svg_tsg_x(m, e->t_ns), svg_tsg_y(m, e->seq),
                        svg_tsg_y(m, e->end));
    }
    for (size_t c = 0; c < 2 * cols; c++) {
        if (!bins[c].used)
            continue;
        svg_tsg_ibeam(s, SVG_TSG_X0 + (double)(c % cols), bins[c].ya, bins[c].yb,
                      c >= cols ? "seg retrans" : "seg");
        if (c >= cols)
            svg_tsg_rtx_mark(s, SVG_TSG_X0 + (double)(c % cols), bins[c].yb);
    }
    free(bins);
    return 0;
}

/* SACK blocks, one box each or merged per pixel column. */
static int svg_tsg_sacks(struct svg_buf *s, const struct tsg *g, const struct svg_tsg_map *m)
{
    size_t cols = SVG_TSG_X1 - SVG_TSG_X0 + 1;
    struct svg_tsg_bin *bins;

    if (g->nsack <= SVG_TSG_DETAIL_MAX) {
        for (size_t i = 0; i < g->nsack; i++)
            svg_tsg_sack_box(s, svg_tsg_x(m, g->sack[i].t_ns), svg_tsg_y(m, g->sack[i].left),
                             svg_tsg_y(m, g->sack[i].right));
        return 0;
    }
    bins = calloc(cols, sizeof(*bins));
    if (bins == NULL)
        return -1;
    for (size_t i = 0; i < g->nsack; i++)
        svg_tsg_bin_add(bins, svg_tsg_x(m, g->sack[i].t_ns), svg_tsg_y(m, g->sack[i].left),
                        svg_tsg_y(m, g->sack[i].right));
    for (size_t c = 0; c < cols; c++)
        if (bins[c].used)
            svg_tsg_sack_box(s, SVG_TSG_X0 + (double)c, bins[c].ya, bins[c].yb);
    free(bins);
    return 0;
}

/* How the ACK line (win 0) and the window line (win 1) are drawn: their class and style. */
static void svg_tsg_step_style(struct svg_buf *s, int win)
{
    svg_printf(s, "\" class=\"%s\" fill=\"none\" stroke=\"#333\" stroke-width=\"%s\"%s/>\n",
               win ? "winline" : "ackline", win ? "1" : "1.5",
               win ? " stroke-dasharray=\"5 3\"" : "");
}

/* A step of the ACK or window line, for the key. */
static void svg_tsg_step_key(struct svg_buf *s, double x, double y, int win)
{
    svg_printf(s, "<path d=\"M%.1f %.1fH%.1fV%.1fH%.1f", x, y, x + 12, y - 8, x + 24);
    svg_tsg_step_style(s, win);
}

/*
 * A step line through the ACKs: the acknowledged number (win 0) or the
 * window's right edge (win 1). Within one pixel column only the level at
 * its end is drawn, so the path has at most a step per column.
 */
static void svg_tsg_steps(struct svg_buf *s, const struct tsg *g, const struct svg_tsg_map *m,
                          int win)
{
    int last_col = 0, pending = 0;
    double cur = 0;

    if (g->nack == 0)
        return;
    svg_raw(s, "<path d=\"");
    for (size_t i = 0; i < g->nack; i++) {
        double x = svg_tsg_x(m, g->ack[i].t_ns);
        double y = svg_tsg_y(m, win ? g->ack[i].win_end : g->ack[i].ack);
        int col = (int)x;
        if (i == 0) {
            svg_printf(s, "M%.1f %.1f", x, y);
        } else if (col == last_col) {
            pending = 1;
        } else {
            if (pending)
                svg_printf(s, "V%.1f", cur);
            svg_printf(s, "H%.1fV%.1f", x, y);
            pending = 0;
        }
        last_col = col;
        cur = y;
    }
    if (pending)
        svg_printf(s, "V%.1f", cur);
    svg_printf(s, "H%d", SVG_TSG_X1);
    svg_tsg_step_style(s, win);
}

/* One axis: its line, ticks with labels and grid lines, and its title with the unit. */
static void svg_tsg_axis(struct svg_buf *s, int vertical, double lo, double hi,
                         const struct svg_unit *u, const char *what)
{
    struct svg_ticks t;
    char label[48], title[96];

    svg_ticks_choose(lo / u->size, hi / u->size, SVG_TSG_TICKS, &t);
    for (int i = 0; i < t.n; i++) {
        double f = hi > lo ? (t.v[i] * u->size - lo) / (hi - lo) : 0;
        svg_tick_label(&t, t.v[i], label, sizeof(label));
        if (vertical) {
            double y = SVG_TSG_Y1 - f * (SVG_TSG_Y1 - SVG_TSG_Y0);
            svg_line(s, SVG_TSG_X0, y, SVG_TSG_X1, y, "grid", "stroke=\"#e0e0e0\"");
            svg_line(s, SVG_TSG_X0 - 5, y, SVG_TSG_X0, y, NULL, "stroke=\"#333\"");
            svg_text(s, SVG_TSG_X0 - 8, y + 4, SVG_END, "tick", label, 0);
        } else {
            double x = SVG_TSG_X0 + f * (SVG_TSG_X1 - SVG_TSG_X0);
            svg_line(s, x, SVG_TSG_Y0, x, SVG_TSG_Y1, "grid", "stroke=\"#e0e0e0\"");
            svg_line(s, x, SVG_TSG_Y1, x, SVG_TSG_Y1 + 5, NULL, "stroke=\"#333\"");
            svg_text(s, x, SVG_TSG_Y1 + 18, SVG_MIDDLE, "tick", label, 0);
        }
    }
    snprintf(title, sizeof(title), "%s (%s)", what, u->name);
    if (vertical) {
        svg_printf(s,
                   "<text transform=\"translate(20 %d) rotate(-90)\" text-anchor=\"middle\" "
                   "class=\"axis\">",
                   (SVG_TSG_Y0 + SVG_TSG_Y1) / 2);
        svg_esc_str(s, title, 0);
        svg_raw(s, "</text>\n");
    } else {
        svg_text(s, (SVG_TSG_X0 + SVG_TSG_X1) / 2.0, SVG_TSG_Y1 + 38, SVG_MIDDLE, "axis", title, 0);
    }
}

/* The key to the marks, drawn as the graph draws them. */
static void svg_tsg_legend(struct svg_buf *s)
{
    double y = SVG_TSG_LEGEND, x = SVG_TSG_X0;

    svg_tsg_ibeam(s, x, y + 4, y - 10, "seg");
    svg_text(s, x + 8, y, SVG_START, "key", "data segment (its bytes)", 0);
    x += 190;
    svg_tsg_ibeam(s, x, y + 4, y - 6, "seg retrans");
    svg_tsg_rtx_mark(s, x, y - 6);
    svg_text(s, x + 8, y, SVG_START, "key", "retransmission", 0);
    x += 130;
    svg_tsg_step_key(s, x, y, 0);
    svg_text(s, x + 30, y, SVG_START, "key", "ACK", 0);
    x += 70;
    svg_tsg_step_key(s, x, y, 1);
    svg_text(s, x + 30, y, SVG_START, "key", "advertised window edge", 0);
    x += 200;
    svg_tsg_sack_box(s, x, y + 4, y - 10);
    svg_text(s, x + 10, y, SVG_START, "key", "SACK block", 0);
}

/* Title and caption: the connection, the direction graphed, what it holds. */
static void svg_tsg_head(struct svg_buf *s, const struct flow *f, const struct tsg *g)
{
    char title[640], buf[256];

    svg_ladder_title(f, title, sizeof(title));
    svg_text(s, 8, 18, SVG_START, "title", title, 150);
    snprintf(buf, sizeof(buf),
             "time-sequence graph of the %s" SVG_TSG_TO "%s data: %llu bytes, %zu segments "
             "drawn, %u retransmitted, %zu SACK blocks; the %s's ACKs and window",
             g->dir == FLOW_C2S ? "client" : "server", g->dir == FLOW_C2S ? "server" : "client",
             (unsigned long long)g->bytes, g->nseg, g->retrans, g->nsack,
             g->dir == FLOW_C2S ? "server" : "client");
    svg_text(s, 8, 36, SVG_START, "caption", buf, 0);
    if (g->t_end_ns > g->t0_ns && g->t_end_ns < g->t1_ns) {
        snprintf(
            buf, sizeof(buf),
            "the graph ends at the last change; later packets, up to %.6f s, add nothing to it",
            (double)(g->t1_ns - g->t0_ns) / 1e9);
        svg_text(s, 8, 52, SVG_START, "caption", buf, 0);
    }
}

/* The graphed direction's FIN: a tick and its name at its sequence number. */
static void svg_tsg_fin(struct svg_buf *s, const struct tsg *g, const struct svg_tsg_map *m)
{
    double x, y;

    if (!g->fin_t_ns)
        return;
    x = svg_tsg_x(m, g->fin_t_ns);
    y = svg_tsg_y(m, g->fin_seq);
    svg_printf(s,
               "<path class=\"fin\" d=\"M%.1f %.1fH%.1f\" stroke=\"#333\" stroke-width=\"2\"/>\n",
               x - 4, y, x + 4);
    svg_text(s, x - 6, y + 4, SVG_END, "fin", "FIN", 0);
}

/* The log's dropped middle, shaded, with its count. */
static void svg_tsg_not_kept(struct svg_buf *s, const struct tsg *g, const struct svg_tsg_map *m)
{
    char buf[96];
    double xa, xb;

    if (!g->not_kept || g->gap_t1 <= g->gap_t0)
        return;
    xa = svg_tsg_x(m, g->gap_t0);
    xb = svg_tsg_x(m, g->gap_t1);
    svg_rect(s, xa, SVG_TSG_Y0, xb - xa, SVG_TSG_Y1 - SVG_TSG_Y0, "notkept", "fill=\"#eeeeee\"");
    snprintf(buf, sizeof(buf), "%llu segments not kept", (unsigned long long)g->not_kept);
    svg_text(s, (xa + xb) / 2, SVG_TSG_Y0 + 14, SVG_MIDDLE, "gap", buf, 0);
}

int svg_tsg_write(struct svg_buf *s, const struct flow *f, const struct tsg *g,
                  const struct svg_fig *o)
{
    struct svg_tsg_map m;
    char title[640];
    int rc = 0;

    svg_tsg_map_init(&m, g);
    svg_ladder_title(f, title, sizeof(title));
    svg_doc_open(s, o, SVG_TSG_W, SVG_TSG_H, "tsg", title);
    svg_printf(s,
               "<g class=\"graph\" data-dir=\"%s\" data-segments=\"%zu\" "
               "data-retrans=\"%u\" data-sacks=\"%zu\" data-acks=\"%zu\"></g>\n",
               g->dir == FLOW_C2S ? "c2s" : "s2c", g->nseg, g->retrans, g->nsack, g->nack);
    svg_tsg_head(s, f, g);
    svg_tsg_not_kept(s, g, &m);
    svg_tsg_axis(s, 0, 0, m.t_span / 1e9, &m.tu, "time since the first packet");
    svg_tsg_axis(s, 1, m.lo, m.lo + m.v_span, &m.vu, "relative sequence number");
    svg_rect(s, SVG_TSG_X0, SVG_TSG_Y0, SVG_TSG_X1 - SVG_TSG_X0, SVG_TSG_Y1 - SVG_TSG_Y0, "frame",
             "fill=\"none\" stroke=\"#333\"");
    if (g->nseg == 0 && g->nack == 0)
        svg_text(s, (SVG_TSG_X0 + SVG_TSG_X1) / 2.0, (SVG_TSG_Y0 + SVG_TSG_Y1) / 2.0, SVG_MIDDLE,
                 "gap", "no data and no ACKs in the segments kept", 0);
    /* A nested viewport clips the lines to the plot (the window runs far above the data). */
    svg_printf(s,
               "<svg x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" viewBox=\"%d %d %d %d\" "
               "overflow=\"hidden\">\n",
               SVG_TSG_X0, SVG_TSG_Y0 - 10, SVG_TSG_X1 - SVG_TSG_X0 + 1,
               SVG_TSG_Y1 - SVG_TSG_Y0 + 11, SVG_TSG_X0, SVG_TSG_Y0 - 10,
               SVG_TSG_X1 - SVG_TSG_X0 + 1, SVG_TSG_Y1 - SVG_TSG_Y0 + 11);
    svg_tsg_steps(s, g, &m, 1);
    svg_tsg_steps(s, g, &m, 0);
    if (svg_tsg_sacks(s, g, &m) < 0 || svg_tsg_segments(s, g, &m) < 0)
        rc = -1;
    svg_tsg_fin(s, g, &m);
    svg_raw(s, "</svg>\n");
    svg_tsg_legend(s);
    svg_doc_close(s);
    if (rc < 0)
        s->failed = 1;
    return s->failed ? -1 : 0;
}
