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

/* Joins run j into run i (i < j, the same status) and closes up the gap. */
static void view_conn_join_runs(struct view_conn *c, int i, int j)
{
    uint32_t n = (uint32_t)c->run[i].count + c->run[j].count;

    c->run[i].count = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    memmove(&c->run[j], &c->run[j + 1], (size_t)(c->nruns - j - 1) * sizeof(c->run[0]));
    c->nruns--;
}

/*
 * A status joins the last run when it is the same. When all runs are used,
 * the two oldest runs of one status become one (the order of the oldest
 * answers blurs, every count stays), neighbours that came to match too.
 * Only when every run holds another status does the new one take the place
 * of the newest 2xx run (or of the last run), whose count is then lost.
 */
void view_conn_add_status(struct view_conn *c, int status)
{
    struct view_status_run *r = c->nruns ? &c->run[c->nruns - 1] : NULL;
    int i, j;

    if (r && r->status == status && r->count < UINT16_MAX) {
        r->count++;
        return;
    }
    for (i = 0; c->nruns == VIEW_RUNS_MAX && i < c->nruns; i++)
        for (j = i + 1; j < c->nruns; j++)
            if (c->run[j].status == c->run[i].status) {
                view_conn_join_runs(c, i, j);
                if (j < c->nruns && j > 0 && c->run[j - 1].status == c->run[j].status)
                    view_conn_join_runs(c, j - 1, j);
                i = j = VIEW_RUNS_MAX; /* done */
            }
    if (c->nruns < VIEW_RUNS_MAX) {
        c->run[c->nruns++] = (struct view_status_run){ (int16_t)status, 1 };
        return;
    }
    for (i = VIEW_RUNS_MAX - 1; i >= 0 && (c->run[i].status < 200 || c->run[i].status > 299); i--)
        ;
    c->run[i >= 0 ? i : VIEW_RUNS_MAX - 1] = (struct view_status_run){ (int16_t)status, 1 };
}
