/*
 * The graph page: the selected connection's time-sequence graph (tsg.h) in
 * the terminal, in Unicode braille dots (2x4 a cell), or in plain ASCII
 * letters under an ASCII locale or without colour, where only the letter
 * can tell the marks apart.
 */
#include "monitor/view_int.h"

#include <stdio.h>
#include <string.h>

#include "monitor/svg.h"
#include "monitor/tsg.h"

#define VIEW_GRAPH_LABEL_W 9 /* the sequence axis' labels, left of the plot */

/* What a dot belongs to, the more telling last: it wins a cell. */
enum view_graph_kind {
    VIEW_GRAPH_WIN = 1, /* the advertised window's right edge */
    VIEW_GRAPH_ACK,     /* the ACK line */
    VIEW_GRAPH_SACK,    /* a SACK block */
    VIEW_GRAPH_DATA,    /* a data segment */
    VIEW_GRAPH_RTX,     /* a retransmitted segment */
    VIEW_GRAPH_KINDS
};

/* Per kind: its attribute, its ASCII letter and what the key calls it. */
static const struct {
    uint8_t attr;
    char ascii;
    const char *what;
} view_graph_kinds[VIEW_GRAPH_KINDS] = {
    [VIEW_GRAPH_WIN] = { VIEW_A_WINUPD, '.', "window" },
    [VIEW_GRAPH_ACK] = { VIEW_A_HANDSHAKE, '-', "ACK" },
    [VIEW_GRAPH_SACK] = { VIEW_A_TEARDOWN, 'S', "SACK" },
    [VIEW_GRAPH_DATA] = { VIEW_A_DATA, '|', "data" },
    [VIEW_GRAPH_RTX] = { VIEW_A_RETRANS, 'R', "retransmission" },
};

/* The plot: its cells on the screen, and how data coordinates become dots. */
struct view_graph_plot {
    struct view_screen *s;
    int x0, y0, w, h; /* in cells */
    int braille;      /* 2x4 dots a cell; else one letter a cell */
    uint64_t t0;
    double t_span, lo, v_span;
};

static int view_graph_rank(uint8_t attr)
{
    for (int k = VIEW_GRAPH_KINDS - 1; k > 0; k--)
        if (view_graph_kinds[k].attr == attr)
            return k;
    return 0;
}

/* One dot (dx, dy in dots from the plot's top left) of kind k. */
static void view_graph_dot(struct view_graph_plot *p, int dx, int dy, enum view_graph_kind k)
{
    static const uint8_t bits[2][4] = { { 0x01, 0x02, 0x04, 0x40 }, { 0x08, 0x10, 0x20, 0x80 } };
    int cw = p->braille ? 2 : 1, ch = p->braille ? 4 : 1;
    struct view_cell *c;

    if (dx < 0 || dy < 0 || dx >= p->w * cw || dy >= p->h * ch)
        return;
    c = &p->s->cell[(size_t)(p->y0 + dy / ch) * p->s->w + p->x0 + dx / cw];
    if (p->braille)
        c->ch = (c->ch >= 0x2800 && c->ch <= 0x28ff ? c->ch : 0x2800) | bits[dx % 2][dy % 4];
    if ((int)k >= view_graph_rank(c->attr)) {
        c->attr = view_graph_kinds[k].attr;
        if (!p->braille)
            c->ch = (uint32_t)view_graph_kinds[k].ascii;
    }
}

static int view_graph_dx(const struct view_graph_plot *p, uint64_t t)
{
    double f = t <= p->t0 ? 0 : (double)(t - p->t0) / p->t_span;

    return (int)(f * (p->w * (p->braille ? 2 : 1) - 1) + 0.5);
}

/* A sequence number's dot row; beyond the plot (a window far above) gives -1. */
static int view_graph_dy(const struct view_graph_plot *p, uint64_t v)
{
    int rows = p->h * (p->braille ? 4 : 1);
    double f = ((double)v - p->lo) / p->v_span;

    if (f > 1.0001 || f < 0)
        return -1;
    return (int)((1 - f) * (rows - 1) + 0.5);
}

static void view_graph_vline(struct view_graph_plot *p, int dx, int a, int b,
                             enum view_graph_kind k)
{
    if (a < 0 || b < 0)
        return;
    for (int y = a < b ? a : b; y <= (a < b ? b : a); y++)
        view_graph_dot(p, dx, y, k);
}

/* A step line: each point's level held until the next point, then to the plot's end. */
static void view_graph_steps(struct view_graph_plot *p, const struct tsg *g, int win)
{
    enum view_graph_kind k = win ? VIEW_GRAPH_WIN : VIEW_GRAPH_ACK;
    int end = p->w * (p->braille ? 2 : 1);

    for (size_t i = 0; i < g->nack; i++) {
        int x = view_graph_dx(p, g->ack[i].t_ns);
        int nx = i + 1 < g->nack ? view_graph_dx(p, g->ack[i + 1].t_ns) : end;
        int y = view_graph_dy(p, win ? g->ack[i].win_end : g->ack[i].ack);
        if (y < 0)
            continue;
        for (int xx = x; xx <= nx; xx++)
            view_graph_dot(p, xx, y, k);
        if (i + 1 < g->nack)
            view_graph_vline(p, nx, y,
                             view_graph_dy(p, win ? g->ack[i + 1].win_end : g->ack[i + 1].ack), k);
    }
}

static void view_graph_marks(struct view_graph_plot *p, const struct tsg *g)
{
    view_graph_steps(p, g, 1);
    view_graph_steps(p, g, 0);
    for (size_t i = 0; i < g->nsack; i++)
        view_graph_vline(p, view_graph_dx(p, g->sack[i].t_ns) + 1,
                         view_graph_dy(p, g->sack[i].left), view_graph_dy(p, g->sack[i].right),
                         VIEW_GRAPH_SACK);
    for (size_t i = 0; i < g->nseg; i++) {
        int dy = view_graph_dy(p, g->seg[i].end);
        int dy0 = view_graph_dy(p, g->seg[i].seq);
        view_graph_vline(p, view_graph_dx(p, g->seg[i].t_ns), dy0, dy < 0 ? 0 : dy,
                         g->seg[i].retrans ? VIEW_GRAPH_RTX : VIEW_GRAPH_DATA);
    }
}

/*
 * Labels: the sequence axis at the left (top, middle, bottom), the time axis
 * below, the units after the key (which ends at column key_end).
 */
static void view_graph_axes(struct view_graph_plot *p, int key_end)
{
    struct view_pen pen = { p->s, 0, 0, p->x0 - 1, VIEW_A_DIM };
    struct svg_unit vu, tu;
    struct svg_ticks t;
    char buf[48];

    svg_unit_choose(SVG_BYTES, p->lo + p->v_span, &vu);
    for (int i = 0; i < 3; i++) {
        double v = p->lo + p->v_span * (2 - i) / 2;
        snprintf(buf, sizeof(buf), "%.*f", vu.size > 1 ? 1 : 0, v / vu.size);
        pen.y = p->y0 + (p->h - 1) * i / 2;
        pen.x = 0;
        view_pen_right(&pen, buf, p->x0 - 1);
    }
    pen = (struct view_pen){ p->s, p->y0 + p->h, 0, p->s->w, VIEW_A_DIM };
    svg_unit_choose(SVG_SECONDS, p->t_span / 1e9, &tu);
    svg_ticks_choose(0, p->t_span / 1e9 / tu.size, p->w / 12 + 2, &t);
    for (int i = 0; i < t.n; i++) {
        int col = p->x0 + (int)(t.v[i] * tu.size * 1e9 / p->t_span * (p->w - 1) + 0.5);
        svg_tick_label(&t, t.v[i], buf, sizeof(buf));
        if (pen.x > col)
            continue;
        pen.x = col;
        view_pen_str(&pen, buf);
        view_pen_cp(&pen, ' ');
    }
    /* The units close the key line, in words when there is room. */
    pen = (struct view_pen){ p->s, p->y0 + p->h + 1, key_end, p->s->w, VIEW_A_DIM };
    snprintf(buf, sizeof(buf), "sequence in %s, time in %s", vu.name, tu.name);
    if (key_end + view_text_width(buf) + 1 > p->s->w)
        snprintf(buf, sizeof(buf), "%s, %s", vu.name, tu.name);
    pen.x = p->s->w - view_text_width(buf) - 1;
    if (pen.x >= key_end)
        view_pen_str(&pen, buf);
}

/* The key: each mark as it is drawn, and what it is. Returns the column after it. */
static int view_graph_key(struct view_graph_plot *p, int y)
{
    struct view_pen pen = { p->s, y, 1, p->s->w, VIEW_A_NORMAL };

    for (int k = VIEW_GRAPH_KINDS - 1; k > 0; k--) {
        pen.attr = view_graph_kinds[k].attr;
        view_pen_cp(&pen, p->braille ? (k >= VIEW_GRAPH_SACK ? 0x2847 : 0x2824)
                                     : (uint32_t)view_graph_kinds[k].ascii);
        pen.attr = VIEW_A_NORMAL;
        view_pen_cp(&pen, ' ');
        view_pen_str(&pen, view_graph_kinds[k].what);
        view_pen_str(&pen, "   ");
    }
    return pen.x;
}

/* The title: the connection, the direction graphed and what the graph holds. */
static void view_graph_title(struct view_screen *s, const struct view_state *vs,
                             const struct view_conn *c, const struct tsg *g)
{
    struct view_pen p = { s, 1, 0, s->w, VIEW_A_TITLE };
    char buf[320], cl[80], sv[80], bytes[16];

    view_screen_line_attr(s, 1, VIEW_A_TITLE);
    view_format_addr(cl, sizeof(cl), c->family, c->caddr, c->cport);
    view_format_addr(sv, sizeof(sv), c->family, c->saddr, c->sport);
    view_format_bytes(bytes, sizeof(bytes), g ? g->bytes : 0);
    snprintf(buf, sizeof(buf),
             "GRAPH %s %s %s  %s data: %sB, %zu segments, %u retransmitted, %zu SACK", cl,
             vs->glyphs->arrow, sv, g && g->dir == FLOW_C2S ? "client's" : "server's", bytes,
             g ? g->nseg : 0, g ? g->retrans : 0, g ? g->nsack : 0);
    view_pen_str(&p, buf);
    if (g && g->not_kept) {
        snprintf(buf, sizeof(buf), "  (%llu segments not kept)", (unsigned long long)g->not_kept);
        view_pen_str(&p, buf);
    }
}

void view_graph_draw(struct view_screen *s, struct view_state *vs, const struct view_conn *c,
                     const struct tsg *g)
{
    struct view_graph_plot p = { s, VIEW_GRAPH_LABEL_W, 2, s->w - VIEW_GRAPH_LABEL_W - 1,
                                 s->h - 5 };
    struct view_pen pen = { s, 2, 1, s->w, VIEW_A_DIM };
    struct tsg_range r;

    view_graph_title(s, vs, c, g);
    if (g == NULL || (g->nseg == 0 && g->nack == 0)) {
        view_pen_str(&pen, "(no data and no ACKs in the segments kept for this connection)");
        return;
    }
    if (p.w < 16 || p.h < 3) {
        view_pen_str(&pen, "(the terminal is too small for the graph)");
        return;
    }
    p.braille = vs->glyphs != &view_glyphs_ascii && !vs->mono;
    tsg_range(g, &r);
    p.t0 = r.t0_ns;
    p.t_span = (double)(r.t1_ns - r.t0_ns);
    p.lo = r.lo;
    p.v_span = r.hi - r.lo;
    view_graph_marks(&p, g);
    view_graph_axes(&p, view_graph_key(&p, p.y0 + p.h + 1));
}
