/*
 * Where things go on the screen: the zoom levels, the time axis of the bar
 * and the waterfall's columns for a given width.
 */
#include "monitor/view_int.h"

#include <stdio.h>
#include <string.h>

/* Zoom levels: 1-2-5 steps from 1 us to 100 s per column. */
static const uint64_t view_zoom_ns[] = {
    1000ULL,       2000ULL,        5000ULL,        10000ULL,       20000ULL,
    50000ULL,      100000ULL,      200000ULL,      500000ULL,      1000000ULL,
    2000000ULL,    5000000ULL,     10000000ULL,    20000000ULL,    50000000ULL,
    100000000ULL,  200000000ULL,   500000000ULL,   1000000000ULL,  2000000000ULL,
    5000000000ULL, 10000000000ULL, 20000000000ULL, 50000000000ULL, 100000000000ULL,
};
_Static_assert(sizeof(view_zoom_ns) / sizeof(view_zoom_ns[0]) == VIEW_ZOOM_COUNT,
               "VIEW_ZOOM_COUNT is the size of the zoom table");

uint64_t view_ns_per_col(const struct view_state *vs)
{
    int z = vs->zoom < 0 ? 0 : vs->zoom >= VIEW_ZOOM_COUNT ? VIEW_ZOOM_COUNT - 1 : vs->zoom;
    return view_zoom_ns[z];
}

void view_zoom_step(struct view_state *vs, int dir)
{
    if (dir < 0 ? vs->zoom > 0 : vs->zoom < VIEW_ZOOM_COUNT - 1)
        vs->zoom += dir < 0 ? -1 : 1;
}

/*
 * Columns for a w-wide screen. 80 columns keep the essentials (client,
 * worker, states, requests, bytes and the bar); packets and RTT join from
 * 100 columns; wider screens give the requests and the bar the rest.
 */
void view_layout_compute(struct view_layout *L, int w, int show_pid, int client_w)
{
    int x = 1, rest;
    int tier = w >= 140 ? 2 : w >= 100 ? 1 : 0;
    int cap = tier == 0 ? 21 : tier == 1 ? 27 : 47;

    memset(L, 0, sizeof(*L));
    L->wide = tier == 2;
    if (client_w < 6)
        client_w = 6;
    if (client_w > cap)
        client_w = cap;
    if (w < 80 && client_w > 15)
        client_w = 15;
    L->client_x = x;
    L->client_w = client_w;
    x += client_w + 1;
    if (show_pid) {
        L->pid_x = x;
        L->pid_w = 7;
        x += 8;
    }
    L->state_x = x;
    L->state_w = L->wide ? 15 : 7;
    x += L->state_w + 1;
    L->req_x = x;
    rest = w - x - 10; /* bytes column */
    if (tier >= 1)
        rest -= 14; /* packets and RTT */
    if (rest < 20)
        rest = 20;
    L->req_w = rest / 2 > 60 ? 60 : rest / 2; /* the bar takes what is left */
    x += L->req_w + 1;
    L->bytes_x = x;
    L->bytes_w = 9;
    x += 10;
    if (tier >= 1) {
        L->pkts_x = x;
        L->pkts_w = 6;
        x += 7;
        L->rtt_x = x;
        L->rtt_w = 6;
        x += 7;
    }
    L->bar_x = x;
    L->bar_w = w - x;
    if (L->bar_w < 0)
        L->bar_w = 0;
}

int view_bar_width(int w, int show_pid)
{
    struct view_layout L;

    view_layout_compute(&L, w, show_pid, 15);
    return L.bar_w;
}

void view_zoom_fit(struct view_state *vs, uint64_t first_ns, uint64_t last_ns, int w, int show_pid)
{
    int bw = view_bar_width(w, show_pid);
    uint64_t span = last_ns > first_ns ? last_ns - first_ns : 0;

    if (bw < 1)
        bw = 1;
    for (vs->zoom = 0; vs->zoom < VIEW_ZOOM_COUNT - 1; vs->zoom++)
        if (view_zoom_ns[vs->zoom] * (uint64_t)(bw - 1) >= span)
            break;
}

/*
 * Size the client column to the rows on screen. Below 100 columns, when
 * they all share one address (a browser on one host, loopback), the
 * address moves into the title and the rows show ":port".
 */
void view_layout_rows(struct view_layout *L, const struct view_state *vs,
                      const struct view_conn *const *conns, int rows, int w)
{
    char common[48] = "", buf[96];
    int same = w < 100 && vs->nshown > 0, client_w = 11;

    for (int i = 0; i < rows && (size_t)(vs->top + i) < vs->nshown; i++) {
        const struct view_conn *c = conns[vs->order[vs->top + i]];
        const struct view_conn *c0 = conns[vs->order[vs->top]];
        int cw;
        view_format_addr(buf, sizeof(buf), c->family, c->caddr, c->cport);
        cw = (int)strlen(buf);
        if (cw > client_w)
            client_w = cw;
        if (c->family != c0->family || memcmp(c->caddr, c0->caddr, 16) != 0)
            same = 0;
    }
    if (same) {
        const struct view_conn *c0 = conns[vs->order[vs->top]];
        view_format_ip(buf, sizeof(buf), c0->family, c0->caddr);
        snprintf(common, sizeof(common), c0->family == 6 ? "[%s]" : "%s", buf);
        client_w = (int)strlen(common) > 6 ? (int)strlen(common) : 6;
    }
    view_layout_compute(L, w, vs->show_pid, client_w);
    snprintf(L->common, sizeof(L->common), "%s", common);
}

/* Column boundaries on multiples of the scale, so the bar moves a cell at a time. */
void view_axis_place(struct view_axis *ax, struct view_state *vs, const struct view_stats *st,
                     int bar_w)
{
    uint64_t end;

    ax->ns = view_ns_per_col(vs);
    ax->w = bar_w;
    ax->now = st->now_ns;
    end = vs->paused ? vs->axis_end_ns : st->now_ns;
    /* Live: the column holding now is the last; paused: the stored (aligned) end. */
    end = vs->paused ? (end + ax->ns - 1) / ax->ns * ax->ns : (end / ax->ns + 1) * ax->ns;
    if (!vs->paused)
        vs->axis_end_ns = end;
    ax->a0 = end > (uint64_t)ax->w * ax->ns ? end - (uint64_t)ax->w * ax->ns : 0;
}
