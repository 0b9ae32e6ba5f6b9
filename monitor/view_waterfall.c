/*
 * The waterfall page: one row per shown connection (client, worker, states,
 * requests, bytes, packets, RTT) and its time bar on the shared axis.
 */
#include "monitor/view_int.h"

#include <stdio.h>
#include <string.h>

static int view_overlaps(uint64_t s, uint64_t e, uint64_t t0, uint64_t t1)
{
    return s < t1 && e >= t0;
}

/* A mark of this kind in [t0, t1)? */
static int view_mark_in(const struct view_conn *c, uint64_t t0, uint64_t t1,
                        enum view_mark_kind kind)
{
    for (int i = 0; i < c->nmark; i++)
        if (c->mark[i].ts_ns >= t0 && c->mark[i].ts_ns < t1 && c->mark[i].kind == kind)
            return 1;
    return 0;
}

/* What a connection was doing during [t0, t1): the most telling phase wins. */
static enum view_attr view_bar_phase(const struct view_conn *c, uint64_t t0, uint64_t t1,
                                     uint64_t now)
{
    uint64_t tend = c->end_ns ? c->end_ns : (now > c->last_ns ? now : c->last_ns);

    if (t1 <= c->first_ns || t0 > tend)
        return VIEW_A_NORMAL;
    if (c->end_ns && c->end_ns >= t0 && c->end_ns < t1)
        return c->end == VIEW_END_RST ? VIEW_A_RST : VIEW_A_FIN;
    if (view_mark_in(c, t0, t1, VIEW_MARK_RETRANS))
        return VIEW_A_RETRANS;
    if (view_mark_in(c, t0, t1, VIEW_MARK_WINUPD))
        return VIEW_A_WINUPD;
    for (int i = 0; i < c->nspan; i++)
        if (view_overlaps(c->span[i].start_ns, c->span[i].end_ns, t0, t1))
            return VIEW_A_DATA;
    if (c->syn_ns && view_overlaps(c->syn_ns, c->est_ns ? c->est_ns : tend, t0, t1))
        return VIEW_A_HANDSHAKE;
    for (int i = 0; i < c->nreq; i++) {
        const struct view_req *r = &c->req[i];
        if (view_overlaps(r->req_ns, r->resp_ns ? r->resp_ns : tend, t0, t1))
            return VIEW_A_WAIT;
    }
    if (c->fin_ns && t1 > c->fin_ns)
        return VIEW_A_TEARDOWN;
    return VIEW_A_IDLE;
}

static void view_draw_bar(struct view_pen *p, const struct view_conn *c, const struct view_axis *ax,
                          const struct view_glyphs *g, uint8_t sel)
{
    for (int i = 0; i < ax->w; i++) {
        uint64_t t0 = ax->a0 + (uint64_t)i * ax->ns;
        enum view_attr a = view_bar_phase(c, t0, t0 + ax->ns, ax->now);
        p->attr = (uint8_t)(a | sel);
        view_pen_cp(p, view_phase_glyph(g, a));
    }
}

static void view_status_text(char *buf, size_t size, const struct view_req *r,
                             const struct view_glyphs *g)
{
    if (r->status > 0)
        snprintf(buf, size, "%d", r->status);
    else if (r->status < 0)
        snprintf(buf, size, "?");
    else
        snprintf(buf, size, "%s", g->ellipsis);
}

/* How one request item is drawn: with its method or not, its URI how wide. */
struct view_req_fit {
    int sep;    /* ", " before it */
    int method; /* the method is written */
    int uri_w;  /* columns for the URI */
    char uri[VIEW_URI_MAX * 2];
    char st[16];
};

/*
 * Can request i go next, avail columns left? Only if the statuses of the
 * requests after it still fit behind it, each shown at least once. A
 * repeated method is left out, and "GET" when room is short; the first
 * request gives up URI characters rather than be left out.
 */
static int view_req_fits(const struct view_conn *c, int i, int avail, const struct view_glyphs *g,
                         struct view_req_fit *f)
{
    const struct view_req *r = &c->req[i];
    struct view_status_tail t;
    int mw = view_text_width(r->method), uw, need, tailw;

    f->sep = i ? 2 : 0;
    f->method = 1;
    view_uri_display(f->uri, sizeof(f->uri), r->uri);
    view_status_text(f->st, sizeof(f->st), r, g);
    uw = view_text_width(f->uri);
    need = f->sep + mw + 1 + uw + 1 + g->arrow_w + 1 + view_text_width(f->st);
    view_status_tail(c, i + 1, avail - need - 1, g, &t);
    tailw = t.left ? 1 + view_status_tail_width(&t, g) : 0;
    if ((i > 0 && strcmp(r->method, c->req[i - 1].method) == 0) ||
        ((need + tailw > avail || t.cut) && strcmp(r->method, "GET") == 0)) {
        need -= mw + 1;
        f->method = 0;
        view_status_tail(c, i + 1, avail - need - 1, g, &t);
        tailw = t.left ? 1 + view_status_tail_width(&t, g) : 0;
    }
    f->uri_w = uw;
    if (need + tailw <= avail && !t.cut)
        return 0;
    if (i > 0)
        return -1;
    /* The first request: its URI shrinks (to 4 columns at least) to leave the statuses room. */
    view_status_tail(c, 1, avail - (need - uw) - 4 - 1, g, &t);
    tailw = t.left ? 1 + view_status_tail_width(&t, g) : 0;
    f->uri_w = avail - (need - uw) - tailw;
    if (f->uri_w > uw)
        f->uri_w = uw;
    return f->uri_w >= 4 ? 0 : -1;
}

/* "GET /cn/Lab2.html → 304" items, oldest first, then the statuses of those that don't fit. */
static void view_draw_requests(struct view_pen *p, const struct view_conn *c, int w,
                               const struct view_glyphs *g, uint8_t base)
{
    int x0 = p->x, shown = 0;
    struct view_status_tail t;
    struct view_req_fit f;

    for (int i = 0; i < c->nreq; i++) {
        const struct view_req *r = &c->req[i];
        if (view_req_fits(c, i, w - (p->x - x0), g, &f) < 0)
            break;
        p->attr = base;
        if (f.sep)
            view_pen_str(p, ", ");
        if (f.method) {
            view_pen_str(p, r->method);
            view_pen_cp(p, ' ');
        }
        view_pen_keep_tail(p, f.uri, f.uri_w, 4, g);
        view_pen_cp(p, ' ');
        view_pen_str(p, g->arrow);
        view_pen_cp(p, ' ');
        p->attr =
            (uint8_t)((r->status ? view_status_attr(r->status) : base) | (base & VIEW_A_SELECTED));
        view_pen_str(p, f.st);
        shown++;
    }
    view_status_tail(c, shown, w - (p->x - x0) - (shown ? 1 : 0), g, &t);
    if (t.left && p->x - x0 + (shown ? 1 : 0) + view_status_tail_width(&t, g) <= w) {
        p->attr = base;
        if (shown)
            view_pen_cp(p, ' ');
        view_status_tail_draw(p, &t, g, base);
    }
}

/* Right-align text in the column at x, w wide. */
static void view_draw_cell_right(struct view_pen *p, int x, int w, const char *text)
{
    p->x = x;
    view_pen_right(p, text, w);
}

static void view_draw_row(struct view_screen *s, int y, const struct view_layout *L,
                          const struct view_conn *c, const struct view_axis *ax,
                          const struct view_glyphs *g, int selected)
{
    struct view_pen p = { s, y, 0, s->w, VIEW_A_NORMAL };
    uint8_t sel = selected ? VIEW_A_SELECTED : 0;
    uint8_t base = (uint8_t)((c->end != VIEW_END_OPEN ? VIEW_A_DIM : VIEW_A_NORMAL) | sel);
    char buf[96], a[16], b[16];

    view_screen_line_attr(s, y, base);
    p.attr = base;
    view_pen_cp(&p, selected ? '>' : ' ');

    if (L->common[0])
        snprintf(buf, sizeof(buf), ":%u", c->cport);
    else
        view_format_addr(buf, sizeof(buf), c->family, c->caddr, c->cport);
    p.x = L->client_x;
    p.end = L->client_x + L->client_w;
    view_pen_keep_tail(&p, buf, L->client_w, 0, g);
    p.end = s->w;

    if (L->pid_w) {
        if (c->pid > 0)
            snprintf(buf, sizeof(buf), "%d", c->pid);
        else
            snprintf(buf, sizeof(buf), "-");
        view_draw_cell_right(&p, L->pid_x, L->pid_w, buf);
    }

    p.x = L->state_x;
    snprintf(buf, sizeof(buf), "%s/%s", view_state_code(c->cstate, L->wide),
             view_state_code(c->sstate, L->wide));
    if (c->end == VIEW_END_RST)
        p.attr = VIEW_A_RST | sel;
    view_pen_trunc(&p, buf, L->state_w, g);
    p.attr = base;

    p.x = L->req_x;
    p.end = L->req_x + L->req_w;
    view_draw_requests(&p, c, L->req_w, g, base);
    p.end = s->w;
    p.attr = base;

    view_format_bytes(a, sizeof(a), c->bytes_c2s);
    view_format_bytes(b, sizeof(b), c->bytes_s2c);
    snprintf(buf, sizeof(buf), "%s/%s", a, b);
    view_draw_cell_right(&p, L->bytes_x, L->bytes_w, buf);

    if (L->pkts_w) { /* packets and RTT: only from 100 columns */
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(c->pkts_c2s + c->pkts_s2c));
        view_draw_cell_right(&p, L->pkts_x, L->pkts_w, buf);
        view_format_rtt(buf, sizeof(buf), c->rtt_ns);
        view_draw_cell_right(&p, L->rtt_x, L->rtt_w, buf);
    }
    p.x = L->bar_x;
    view_draw_bar(&p, c, ax, g, sel);
}

static void view_draw_titles(struct view_screen *s, const struct view_layout *L,
                             const struct view_axis *ax, const struct view_stats *st)
{
    struct view_pen p = { s, 1, 0, s->w, VIEW_A_TITLE };
    char l[24], r[24], m[24];
    int lw, rw, mw;

    view_screen_line_attr(s, 1, VIEW_A_TITLE);
    p.x = L->client_x;
    view_pen_trunc(&p, L->common[0] ? L->common : "CLIENT", L->client_w, &view_glyphs_ascii);
    if (L->pid_w)
        view_draw_cell_right(&p, L->pid_x, L->pid_w, "PID");
    p.x = L->state_x;
    view_pen_str(&p, L->wide ? "CLIENT/SERVER" : "C/S");
    p.x = L->req_x;
    view_pen_str(&p, "REQUESTS");
    view_draw_cell_right(&p, L->bytes_x, L->bytes_w, "C>S/S>C");
    if (L->pkts_w) {
        view_draw_cell_right(&p, L->pkts_x, L->pkts_w, "PKTS");
        view_draw_cell_right(&p, L->rtt_x, L->rtt_w, "RTT");
    }
    /* Bar title: time of the first column, the scale, time of the last. */
    view_format_duration(l, sizeof(l), (int64_t)(ax->a0 - st->origin_ns));
    view_format_duration(r, sizeof(r),
                         (int64_t)(ax->a0 + (uint64_t)ax->w * ax->ns - st->origin_ns));
    view_format_duration(m, sizeof(m), (int64_t)ax->ns);
    snprintf(m + strlen(m), sizeof(m) - strlen(m), "/col");
    lw = view_text_width(l);
    rw = view_text_width(r);
    mw = view_text_width(m);
    p.x = L->bar_x;
    if (ax->w >= lw + rw + mw + 2) {
        view_pen_str(&p, l);
        p.x = L->bar_x + (ax->w - mw) / 2;
        view_pen_str(&p, m);
        p.x = L->bar_x + ax->w - rw;
        view_pen_str(&p, r);
    } else if (ax->w >= mw) {
        view_pen_str(&p, m);
    }
}

/* No row to show: why, and before the first connection of a live capture, what to open. */
static void view_waterfall_empty(struct view_screen *s, size_t n, const struct view_stats *st)
{
    struct view_pen p = { s, 2, 1, s->w, VIEW_A_DIM };

    if (n) {
        view_pen_str(&p, "(no connection matches the filter)");
        return;
    }
    view_pen_str(&p, "(waiting for connections)");
    if (!st->live || st->nurls <= 0)
        return;
    view_pen_str(&p, st->nurls > 1 ? "  open one of:" : "  open:");
    for (int i = 0; i < st->nurls && 3 + i < s->h - 1; i++) {
        p = (struct view_pen){ s, 3 + i, 3, s->w, VIEW_A_NORMAL };
        view_pen_str(&p, st->urls[i]);
    }
}

void view_waterfall_draw(struct view_screen *s, struct view_state *vs,
                         const struct view_conn *const *conns, size_t n,
                         const struct view_stats *st)
{
    struct view_layout L;
    struct view_axis ax;
    int rows = s->h - 3;

    view_layout_rows(&L, vs, conns, rows, s->w);
    view_axis_place(&ax, vs, st, L.bar_w);
    view_draw_titles(s, &L, &ax, st);
    for (int i = 0; i < rows && (size_t)(vs->top + i) < vs->nshown; i++) {
        int idx = vs->top + i;
        view_draw_row(s, 2 + i, &L, conns[vs->order[idx]], &ax, vs->glyphs, idx == vs->sel);
    }
    if (vs->nshown == 0)
        view_waterfall_empty(s, n, st);
}
