/*
 * The statuses of the requests a waterfall row has no room to list: "+2:
 * 200 404" after the requests shown, compressed as far as needed (runs,
 * then each status once, most telling first), so that no 304 or 404 hides
 * behind a bare count.
 */
#include "monitor/view_int.h"

#include <stdio.h>
#include <string.h>

uint8_t view_status_attr(int status)
{
    if (status < 0 || status >= 400)
        return VIEW_A_ERROR;
    if (status >= 300)
        return VIEW_A_REDIRECT;
    return VIEW_A_OK;
}

/* How telling an answer is: lost first, then errors, redirects, the rest. */
static int view_status_rank(int status)
{
    if (status < 0)
        return 0;
    if (status >= 500)
        return 1;
    if (status >= 400)
        return 2;
    if (status >= 300)
        return 3;
    return 4;
}

/* The runs of the requests from the k-th on (the first k answers skipped). */
static void view_status_after(const struct view_conn *c, int k, struct view_status_tail *t)
{
    long skip = k;

    t->n = 0;
    for (int i = 0; i < c->nruns; i++) {
        long n = c->run[i].count;
        if (skip >= n) {
            skip -= n;
            continue;
        }
        t->item[t->n].status = c->run[i].status;
        t->item[t->n].count = (uint16_t)(n - skip);
        t->n++;
        skip = 0;
    }
}

/* Each status once with its total, most telling first (stable within a rank). */
static void view_status_merge(struct view_status_tail *t)
{
    struct view_status_run m[VIEW_RUNS_MAX];
    int n = 0;

    for (int i = 0; i < t->n; i++) {
        int j = 0;
        while (j < n && m[j].status != t->item[i].status)
            j++;
        if (j == n)
            m[n++] = t->item[i];
        else
            m[j].count = (uint16_t)(m[j].count + t->item[i].count);
    }
    for (int rank = 0, out = 0; rank <= 4; rank++)
        for (int i = 0; i < n; i++)
            if (view_status_rank(m[i].status) == rank)
                t->item[out++] = m[i];
    t->n = n;
}

/* One item's text: "404", "304×3", "?" for a lost answer. */
static void view_status_item(const struct view_status_tail *t, int i, const struct view_glyphs *g,
                             char *buf, size_t n)
{
    const struct view_status_run *r = &t->item[i];
    int w = r->status > 0 ? snprintf(buf, n, "%d", r->status) : snprintf(buf, n, "?");

    if (t->counts && r->count > 1 && w > 0 && (size_t)w < n)
        snprintf(buf + w, n - (size_t)w, "%s%u", g->times, r->count);
}

int view_status_tail_width(const struct view_status_tail *t, const struct view_glyphs *g)
{
    char buf[32];
    int w;

    if (t->left <= 0)
        return 0;
    w = snprintf(buf, sizeof(buf), "+%d%s", t->left, t->n || t->pending ? ":" : "");
    for (int i = 0; i < t->n; i++) {
        view_status_item(t, i, g, buf, sizeof(buf));
        w += 1 + view_text_width(buf);
    }
    if (t->pending || t->cut)
        w += 1 + g->ellipsis_w;
    return w;
}

void view_status_tail(const struct view_conn *c, int k, int room, const struct view_glyphs *g,
                      struct view_status_tail *t)
{
    int answered = 0;

    memset(t, 0, sizeof(*t));
    t->left = (int)c->nreq_total - k;
    if (t->left <= 0) {
        t->left = 0;
        return;
    }
    view_status_after(c, k, t);
    for (int i = 0; i < t->n; i++)
        answered += t->item[i].count;
    t->pending = answered < t->left;
    t->counts = 1;
    /* In order, runs counted; else each status once, counted; else uncounted. */
    if (view_status_tail_width(t, g) <= room)
        return;
    view_status_merge(t);
    if (view_status_tail_width(t, g) <= room)
        return;
    t->counts = 0;
    /* Then the least telling go first, the cut marked. */
    while (t->n > 0 && view_status_tail_width(t, g) > room) {
        t->n--;
        t->cut = 1;
    }
}

void view_status_tail_draw(struct view_pen *p, const struct view_status_tail *t,
                           const struct view_glyphs *g, uint8_t base)
{
    char buf[32];

    if (t->left <= 0)
        return;
    p->attr = base;
    snprintf(buf, sizeof(buf), "+%d%s", t->left, t->n || t->pending ? ":" : "");
    view_pen_str(p, buf);
    for (int i = 0; i < t->n; i++) {
        view_status_item(t, i, g, buf, sizeof(buf));
        p->attr = base;
        view_pen_cp(p, ' ');
        p->attr = (uint8_t)(view_status_attr(t->item[i].status) | (base & VIEW_A_SELECTED));
        view_pen_str(p, buf);
    }
    p->attr = base;
    if (t->pending || t->cut) {
        view_pen_cp(p, ' ');
        view_pen_str(p, g->ellipsis);
    }
}
