/*
 * Builders for the bounded lists of a struct view_conn (data spans, marks,
 * requests): they merge or drop, never overflow.
 */
#include "monitor/view.h"

#include <stdio.h>
#include <string.h>

/*
 * Record payload at ts: extend the last span when the gap is small, else
 * open a new one; when full, merge the two spans closest in time so that the
 * list stays bounded and still covers every byte's time.
 */
void view_conn_add_data(struct view_conn *c, uint64_t ts_ns, uint64_t merge_gap_ns)
{
    struct view_span *last = c->nspan ? &c->span[c->nspan - 1] : NULL;

    if (last && ts_ns >= last->start_ns && ts_ns <= last->end_ns + merge_gap_ns) {
        if (ts_ns > last->end_ns)
            last->end_ns = ts_ns;
        return;
    }
    if (last && ts_ns < last->start_ns) { /* out of order: widen the last span */
        last->start_ns = ts_ns;
        return;
    }
    if (c->nspan == VIEW_SPAN_MAX) {
        int best = 0;
        uint64_t best_gap = UINT64_MAX;
        for (int i = 0; i + 1 < c->nspan; i++) {
            uint64_t gap = c->span[i + 1].start_ns - c->span[i].end_ns;
            if (gap < best_gap) {
                best_gap = gap;
                best = i;
            }
        }
        c->span[best].end_ns = c->span[best + 1].end_ns;
        memmove(&c->span[best + 1], &c->span[best + 2],
                (size_t)(c->nspan - best - 2) * sizeof(c->span[0]));
        c->nspan--;
    }
    c->span[c->nspan].start_ns = ts_ns;
    c->span[c->nspan].end_ns = ts_ns;
    c->nspan++;
}

/* Marks beyond the capacity replace the newest one: the bar keeps the first and the latest. */
void view_conn_add_mark(struct view_conn *c, uint64_t ts_ns, enum view_mark_kind kind)
{
    int i = c->nmark < VIEW_MARK_MAX ? c->nmark++ : VIEW_MARK_MAX - 1;

    c->mark[i].ts_ns = ts_ns;
    c->mark[i].kind = (uint8_t)kind;
}

/* Requests beyond the capacity are only counted. */
struct view_req *view_conn_add_req(struct view_conn *c, const char *method, const char *uri,
                                   uint64_t req_ns)
{
    struct view_req *r;

    c->nreq_total++;
    if (c->nreq >= VIEW_REQ_MAX)
        return NULL;
    r = &c->req[c->nreq++];
    memset(r, 0, sizeof(*r));
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->uri, sizeof(r->uri), "%s", uri);
    r->req_ns = req_ns;
    return r;
}
