/*
 * The ladder page: a title line for the selected connection, then its
 * sequence-diagram lines (made by the UI, see ui_ladder.h), scrolled.
 */
#include "monitor/view_int.h"

#include <stdio.h>

/* The title: both endpoints, both states, the RTT and the labd worker. */
static void view_ladder_title(struct view_screen *s, const struct view_state *vs,
                              const struct view_conn *c)
{
    struct view_pen p = { s, 1, 0, s->w, VIEW_A_TITLE };
    char buf[256], cl[80], sv[80], rtt[16];

    view_screen_line_attr(s, 1, VIEW_A_TITLE);
    view_format_addr(cl, sizeof(cl), c->family, c->caddr, c->cport);
    view_format_addr(sv, sizeof(sv), c->family, c->saddr, c->sport);
    view_format_rtt(rtt, sizeof(rtt), c->rtt_ns);
    snprintf(buf, sizeof(buf), "LADDER %s %s %s  %s/%s  rtt %s", cl, vs->glyphs->arrow, sv,
             view_state_full(c->cstate), view_state_full(c->sstate), rtt);
    view_pen_str(&p, buf);
    if (c->pid > 0) {
        snprintf(buf, sizeof(buf), "  worker %d", c->pid);
        view_pen_str(&p, buf);
    }
}

void view_ladder_draw(struct view_screen *s, struct view_state *vs, const struct view_conn *c,
                      const struct view_ladder_line *lines, size_t nlines)
{
    struct view_pen p;
    int rows = s->h - 3;

    view_ladder_title(s, vs, c);
    if (rows < 1)
        rows = 1;
    vs->page_rows = rows;
    vs->nladder = (int)nlines;
    if (vs->ladder_follow || vs->ladder_top > (int)nlines - rows)
        vs->ladder_top = (int)nlines - rows;
    if (vs->ladder_top < 0)
        vs->ladder_top = 0;
    for (int i = 0; i < rows && (size_t)(vs->ladder_top + i) < nlines; i++) {
        const struct view_ladder_line *ln = &lines[vs->ladder_top + i];
        p = (struct view_pen){ s, 2 + i, 0, s->w, ln->attr };
        view_pen_str(&p, ln->text);
    }
    if (nlines == 0) {
        p = (struct view_pen){ s, 2, 1, s->w, VIEW_A_DIM };
        view_pen_str(&p, "(no segments kept for this connection)");
    }
}
