/* The waterfall as one SVG picture (see svg_waterfall.h). */
#include "monitor/svg_waterfall.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* The picture's geometry, in pixels. */
#define SVG_WATERFALL_W     1100
#define SVG_WATERFALL_X0    340  /* the time axis: left */
#define SVG_WATERFALL_X1    1090 /* right */
#define SVG_WATERFALL_TOP   48   /* the first row */
#define SVG_WATERFALL_FOOT  100  /* below the last row: the axis and the key */
#define SVG_WATERFALL_TICKS 10
#define SVG_WATERFALL_TO    "\xe2\x86\x92" /* U+2192 RIGHTWARDS ARROW */

/* Where times go. */
struct svg_waterfall_axis {
    uint64_t t0;
    double span; /* ns */
};

static double svg_waterfall_x(const struct svg_waterfall_axis *a, uint64_t t)
{
    double f = t <= a->t0 ? 0 : (double)(t - a->t0) / a->span;

    if (f > 1)
        f = 1;
    return SVG_WATERFALL_X0 + f * (SVG_WATERFALL_X1 - SVG_WATERFALL_X0);
}

/* Row height for n rows: with labels when few, thinner when many. */
static double svg_waterfall_row_h(size_t n)
{
    return n <= SVG_WATERFALL_LABELLED ? 16 : n <= 2000 ? 6 : 3;
}

/* A span of time drawn as a bar: [a, b] at least a pixel wide. */
static void svg_waterfall_bar(struct svg_buf *s, const struct svg_waterfall_axis *ax, uint64_t a,
                              uint64_t b, double y, double h, const char *cls, const char *fill)
{
    double xa = svg_waterfall_x(ax, a), xb = svg_waterfall_x(ax, b);
    char attrs[48];

    snprintf(attrs, sizeof(attrs), "fill=\"%s\"", fill);
    svg_rect(s, xa, y, xb - xa < 1 ? 1 : xb - xa, h, cls, attrs);
}

/* A span of time drawn as a line through the middle of the row. */
static void svg_waterfall_span(struct svg_buf *s, const struct svg_waterfall_axis *ax, uint64_t a,
                               uint64_t b, double mid, const char *cls, const char *attrs)
{
    if (b > a)
        svg_line(s, svg_waterfall_x(ax, a), mid, svg_waterfall_x(ax, b), mid, cls, attrs);
}

/* "#12 10.0.0.1:40000  GET /x → 200 +2" (plain text: escaped when written). */
static void svg_waterfall_label(const struct view_conn *c, char *buf, size_t n)
{
    char a[INET6_ADDRSTRLEN] = "?";
    int w;

    inet_ntop(c->family == 6 ? AF_INET6 : AF_INET, c->caddr, a, sizeof(a));
    w = snprintf(buf, n, c->family == 6 ? "#%llu [%s]:%u" : "#%llu %s:%u",
                 (unsigned long long)c->id, a, c->cport);
    if (c->nreq == 0 || w < 0 || (size_t)w >= n)
        return;
    w += snprintf(buf + w, n - (size_t)w, "  %s %s", c->req[0].method, c->req[0].uri);
    if (c->req[0].status && (size_t)w < n)
        w += snprintf(buf + w, n - (size_t)w, " " SVG_WATERFALL_TO " %d", c->req[0].status);
    if (c->nreq_total > 1 && (size_t)w < n)
        snprintf(buf + w, n - (size_t)w, " +%u", c->nreq_total - 1);
}

/* One connection's phases, as the TUI's bar draws them. */
static void svg_waterfall_conn(struct svg_buf *s, const struct svg_waterfall_axis *ax,
                               const struct view_conn *c, double y, double h)
{
    uint64_t tend = c->end_ns ? c->end_ns : c->last_ns, open = c->est_ns ? c->est_ns : c->first_ns;
    double mid = y + h / 2;

    svg_waterfall_span(s, ax, open, c->fin_ns ? c->fin_ns : tend, mid, "idle",
                       "stroke=\"#888\" stroke-width=\"1\"");
    if (c->fin_ns)
        svg_waterfall_span(s, ax, c->fin_ns, tend, mid, "closing",
                           "stroke=\"#555\" stroke-width=\"1\" stroke-dasharray=\"3 2\"");
    if (c->syn_ns)
        svg_waterfall_bar(s, ax, c->syn_ns, c->est_ns ? c->est_ns : tend, y + h / 4, h / 2, "hs",
                          "#bbbbbb");
    for (int i = 0; i < c->nreq; i++)
        svg_waterfall_span(s, ax, c->req[i].req_ns, c->req[i].resp_ns ? c->req[i].resp_ns : tend,
                           mid, "wait",
                           "stroke=\"#333\" stroke-width=\"2\" stroke-dasharray=\"1 2\"");
    for (int i = 0; i < c->nspan; i++)
        svg_waterfall_bar(s, ax, c->span[i].start_ns, c->span[i].end_ns, y + 1, h - 2, "data",
                          "#444444");
    for (int i = 0; h >= 6 && i < c->nmark; i++)
        if (c->mark[i].kind == VIEW_MARK_RETRANS)
            svg_printf(s, "<path class=\"rtx\" d=\"M%.1f %.1fl-3 -4h6z\" fill=\"#333\"/>\n",
                       svg_waterfall_x(ax, c->mark[i].ts_ns), y + 4);
    if (c->end == VIEW_END_FIN)
        svg_line(s, svg_waterfall_x(ax, c->end_ns), y, svg_waterfall_x(ax, c->end_ns), y + h, "fin",
                 "stroke=\"#333\" stroke-width=\"2\"");
    else if (c->end == VIEW_END_RST)
        svg_printf(s,
                   "<path class=\"rst\" d=\"M%.1f %.1fl%.1f %.1fm0 %.1fl%.1f %.1f\" "
                   "stroke=\"#333\" stroke-width=\"1.5\"/>\n",
                   svg_waterfall_x(ax, c->end_ns) - h / 3, y + h / 6, h * 2 / 3, h * 2 / 3,
                   -h * 2 / 3, -h * 2 / 3, h * 2 / 3);
}

/* A group of connections: the time they spread over, and what they were. */
static void svg_waterfall_group(struct svg_buf *s, const struct svg_waterfall_axis *ax,
                                const struct svg_waterfall_group *g, double y, double h,
                                char *label, size_t n)
{
    snprintf(label, n, "#%llu-%llu: %u connections, %u closed with FINs, %u reset, %u carried data",
             (unsigned long long)g->first_id, (unsigned long long)(g->first_id + g->n - 1), g->n,
             g->fin, g->rst, g->data);
    svg_waterfall_bar(s, ax, g->t0_ns, g->t1_ns, y + 1, h - 2, "group", "#999999");
}

/*
 * One row: its link, label (or tooltip) and bar. Thin rows carry their
 * label as a tooltip; every so many (mark) the first stream index shows.
 */
static void svg_waterfall_row(struct svg_buf *s, const struct svg_waterfall_axis *ax,
                              const struct svg_waterfall_row *r, double y, double h, int mark)
{
    char label[512];

    svg_raw(s, r->href ? "<a href=\"" : "<g class=\"row\">\n");
    if (r->href) {
        svg_esc_str(s, r->href, 0);
        svg_raw(s, "\" class=\"row\">\n");
    }
    if (r->conn) {
        svg_waterfall_label(r->conn, label, sizeof(label));
        svg_waterfall_conn(s, ax, r->conn, y, h);
    } else {
        svg_waterfall_group(s, ax, r->group, y, h, label, sizeof(label));
    }
    if (h >= 16) {
        svg_text(s, 8, y + h - 4, SVG_START, "lbl", label, 48);
    } else {
        if (mark)
            svg_printf(s,
                       "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"lbl\">#%llu</text>\n",
                       SVG_WATERFALL_X0 - 8, y + h,
                       (unsigned long long)(r->conn ? r->conn->id : r->group->first_id));
        svg_raw(s, "<title>");
        svg_esc_str(s, label, 0);
        svg_raw(s, "</title>\n");
    }
    svg_raw(s, r->href ? "</a>\n" : "</g>\n");
}

/* The time axis with its ticks, at y, labels above (top) or below. */
static void svg_waterfall_axis(struct svg_buf *s, const struct svg_waterfall_axis *ax, double y,
                               int top, double grid_to)
{
    struct svg_unit u;
    struct svg_ticks t;
    char label[48];

    svg_unit_choose(SVG_SECONDS, ax->span / 1e9, &u);
    svg_ticks_choose(0, ax->span / 1e9 / u.size, SVG_WATERFALL_TICKS, &t);
    svg_line(s, SVG_WATERFALL_X0, y, SVG_WATERFALL_X1, y, NULL, "stroke=\"#333\"");
    for (int i = 0; i < t.n; i++) {
        double x = SVG_WATERFALL_X0 +
                   t.v[i] * u.size * 1e9 / ax->span * (SVG_WATERFALL_X1 - SVG_WATERFALL_X0);
        svg_tick_label(&t, t.v[i], label, sizeof(label));
        if (top)
            svg_line(s, x, y, x, grid_to, "grid", "stroke=\"#e0e0e0\"");
        svg_text(s, x, top ? y - 6 : y + 14, SVG_MIDDLE, "tick", label, 0);
    }
    snprintf(label, sizeof(label), "time since the first packet (%s)", u.name);
    svg_text(s, SVG_WATERFALL_X0 - 8, top ? y - 6 : y + 14, SVG_END, "axis", label, 0);
}

/* The key to the bar, drawn as the rows draw it. */
static void svg_waterfall_key(struct svg_buf *s, double y)
{
    static const struct {
        uint64_t t;
        const char *what;
    } words[] = {
        { 4, "handshake" }, { 18, "waiting" }, { 32, "data (\xe2\x96\xbc retransmission)" },
        { 55, "idle" },     { 79, "closing" }, { 88, "FIN | or RST \xc3\x97" },
    };
    const struct svg_waterfall_axis ax = { 0, 100 };
    struct view_conn c;

    memset(&c, 0, sizeof(c));
    c.first_ns = c.syn_ns = 1;
    c.est_ns = 8;
    c.nreq = 1;
    c.req[0].req_ns = 12;
    c.req[0].resp_ns = 24;
    c.nspan = 1;
    c.span[0] = (struct view_span){ 24, 40 };
    c.fin_ns = 70;
    c.end_ns = c.last_ns = 88;
    c.end = VIEW_END_FIN;
    c.nmark = 1;
    c.mark[0] = (struct view_mark){ 32, VIEW_MARK_RETRANS };
    svg_raw(s, "<g class=\"key\" transform=\"translate(-332 0)\">\n");
    svg_waterfall_conn(s, &ax, &c, y, 16);
    svg_raw(s, "</g>\n");
    /* Under each phase of the sample: the same mapping, moved as the sample is. */
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        svg_text(s, svg_waterfall_x(&ax, words[i].t) - 332, y + 30 + 12 * (double)(i % 2),
                 SVG_MIDDLE, "key", words[i].what, 0);
}

void svg_waterfall_write(struct svg_buf *s, const struct svg_fig *o,
                         const struct svg_waterfall_row *rows, size_t n, uint64_t t0_ns,
                         uint64_t t1_ns)
{
    struct svg_waterfall_axis ax = { t0_ns, t1_ns > t0_ns ? (double)(t1_ns - t0_ns) : 1e6 };
    double h = svg_waterfall_row_h(n), bottom = SVG_WATERFALL_TOP + h * (double)n;
    char title[96];

    snprintf(title, sizeof(title), "waterfall of %zu %s", n, n == 1 ? "row" : "rows");
    svg_doc_open(s, o, SVG_WATERFALL_W, (int)(bottom + SVG_WATERFALL_FOOT), "waterfall", title);
    svg_waterfall_axis(s, &ax, SVG_WATERFALL_TOP - 8, 1, bottom);
    for (size_t i = 0; i < n; i++)
        svg_waterfall_row(s, &ax, &rows[i], SVG_WATERFALL_TOP + h * (double)i, h,
                          i % (size_t)(20 / h + 1) == 0);
    svg_waterfall_axis(s, &ax, bottom + 4, 0, bottom);
    svg_waterfall_key(s, bottom + 32);
    svg_doc_close(s);
}
