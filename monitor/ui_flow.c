/*
 * The TUI's mirror of the flow table: struct flow -> struct view_conn, done
 * incrementally (only flows whose last packet time moved, only the segment
 * log entries appended since the last frame) so a frame over ten thousand
 * idle connections costs a walk, not a rebuild.
 */
#include "monitor/ui_flow.h"

#include <stdlib.h>
#include <string.h>

#include "monitor/sniff.h"

/* Payload closer than this in time is drawn as one data span. */
#define DATA_MERGE_NS 200000ULL
/* The pid lookup is retried on a few frames, then given up. */
#define PID_TRIES   8
#define PID_LOOKUPS 1024 /* per sync: bounds the work when thousands of flows appear at once */

struct ui_rec {
    struct view_conn c;
    struct flow *f;     /* the flow it mirrors */
    uint64_t synced_ts; /* f->last_ts_ns at the last sync, 0 = never */
    uint64_t log_total; /* segment log entries seen (n + skipped) */
    uint64_t fin_ts[2]; /* first FIN per direction */
    uint64_t http_done; /* transactions copied with their final status */
    uint8_t pid_tries;
};

struct ui_flows {
    struct ui_rec **recs; /* creation order, rebuilt by each sync */
    const struct view_conn **conns;
    size_t n, cap;
    ui_pid_fn pid_fn;
    void *pid_ctx;
};

struct ui_flows *ui_flows_new(void)
{
    return calloc(1, sizeof(struct ui_flows));
}

void ui_flows_free(struct ui_flows *u)
{
    if (!u)
        return;
    /* Flows may already be gone: their user pointers are not touched. */
    for (size_t i = 0; i < u->n; i++)
        free(u->recs[i]);
    free(u->recs);
    free(u->conns);
    free(u);
}

void ui_flows_set_pid_lookup(struct ui_flows *u, ui_pid_fn fn, void *ctx)
{
    u->pid_fn = fn;
    u->pid_ctx = ctx;
}

/* Records are freed on the next sync: the view may still hold pointers this frame. */
void ui_flows_forget(struct ui_flows *u, struct flow *f)
{
    struct ui_rec *r = f->user;

    (void)u;
    if (r && r->f == f)
        r->f = NULL;
    f->user = NULL;
}

static void rec_update(struct ui_rec *r, struct flow *f);

static void rec_init(struct ui_rec *r, struct flow *f);

/*
 * A replay read at full speed can open, close and retire a flow between two
 * frames: then its record is made here, while the HTTP state still exists.
 */
void ui_flows_retire(struct ui_flows *u, struct flow *f)
{
    struct ui_rec *r = f->user;

    (void)u;
    if (!r || r->f != f) {
        r = malloc(sizeof(*r));
        if (!r)
            return;
        rec_init(r, f);
        f->user = r;
    }
    rec_update(r, f);
}

enum view_tcp_state ui_state_from_tcp(enum flow_tcp_state s)
{
    switch (s) {
    case FLOW_TCPS_SYN_SENT:
        return VIEW_ST_SYN_SENT;
    case FLOW_TCPS_SYN_RECEIVED:
        return VIEW_ST_SYN_RECEIVED;
    case FLOW_TCPS_ESTABLISHED:
        return VIEW_ST_ESTABLISHED;
    case FLOW_TCPS_FIN_WAIT_1:
        return VIEW_ST_FIN_WAIT_1;
    case FLOW_TCPS_FIN_WAIT_2:
        return VIEW_ST_FIN_WAIT_2;
    case FLOW_TCPS_CLOSING:
        return VIEW_ST_CLOSING;
    case FLOW_TCPS_TIME_WAIT:
        return VIEW_ST_TIME_WAIT;
    case FLOW_TCPS_CLOSE_WAIT:
        return VIEW_ST_CLOSE_WAIT;
    case FLOW_TCPS_LAST_ACK:
        return VIEW_ST_LAST_ACK;
    case FLOW_TCPS_CLOSED:
        return VIEW_ST_CLOSED;
    default:
        return VIEW_ST_NONE;
    }
}

static int state_final(uint8_t s)
{
    return s == FLOW_TCPS_TIME_WAIT || s == FLOW_TCPS_CLOSED;
}

/* Fold one logged segment into the record: data spans, marks, FIN/RST times. */
static void rec_segment(struct ui_rec *r, const struct flow_seg *e)
{
    struct view_conn *c = &r->c;

    if (e->len)
        view_conn_add_data(c, e->ts_ns, DATA_MERGE_NS);
    if (e->marks & FLOW_SEG_RETRANS)
        view_conn_add_mark(c, e->ts_ns, VIEW_MARK_RETRANS);
    else if (e->marks & FLOW_SEG_WIN_UPDATE)
        view_conn_add_mark(c, e->ts_ns, VIEW_MARK_WINUPD);
    if ((e->flags & FLOW_TH_FIN) && e->dir < 2 && !r->fin_ts[e->dir]) {
        r->fin_ts[e->dir] = e->ts_ns;
        if (!c->fin_ns)
            c->fin_ns = e->ts_ns;
    }
    if ((e->flags & FLOW_TH_RST) && c->end != VIEW_END_RST) {
        c->end = VIEW_END_RST;
        c->end_ns = e->ts_ns;
    }
    /* The orderly close ends with the ACK of the second FIN. */
    if (c->end == VIEW_END_OPEN && r->fin_ts[0] && r->fin_ts[1] && state_final(e->cstate) &&
        state_final(e->sstate)) {
        c->end = VIEW_END_FIN;
        c->end_ns = e->ts_ns;
    }
}

static void rec_log(struct ui_rec *r, const struct flow *f)
{
    uint32_t n = flow_seglog_count(f);
    uint64_t total = (uint64_t)f->log.n + f->log.skipped;
    uint64_t fresh = total - r->log_total;
    uint32_t start = fresh >= n ? 0 : n - (uint32_t)fresh;

    /* The kept head of a full log was folded in before. */
    if (f->log.skipped && r->log_total >= f->log.cap / 2 && start < f->log.cap / 2)
        start = f->log.cap / 2 < n ? f->log.cap / 2 : n;
    for (uint32_t i = start; i < n; i++) {
        const struct flow_seg *e = flow_seglog_get(f, i);
        if (e)
            rec_segment(r, e);
    }
    r->log_total = total;
}

static void rec_http(struct ui_rec *r, const struct flow *f)
{
    struct view_conn *c = &r->c;
    size_t n = f->http ? sniff_count(f->http) : 0;
    uint64_t dropped = f->http ? sniff_dropped(f->http) : 0;
    size_t start = r->http_done > dropped ? (size_t)(r->http_done - dropped) : 0;

    /*
     * The sniffer keeps a ring: get(i) is transaction dropped + i overall.
     * Those before http_done have their final status already.
     */
    for (size_t i = start; i < n; i++) {
        const struct sniff_txn *t = sniff_get(f->http, i);
        uint64_t abs = dropped + i;
        struct view_req *q;
        if (!t)
            continue;
        if (abs >= c->nreq_total) {
            q = view_conn_add_req(c, t->method, t->uri, t->req_ts_ns);
            c->nreq_total = (uint32_t)(abs + 1);
        } else {
            q = abs < c->nreq ? &c->req[abs] : NULL;
        }
        if (q) {
            q->status = t->status ? t->status : t->unknown_response ? -1 : 0;
            q->resp_ns = t->resp_ts_ns;
        }
        if ((t->status || t->unknown_response) && abs == r->http_done)
            r->http_done = abs + 1;
    }
}

static void rec_counters(struct ui_rec *r, const struct flow *f)
{
    struct view_conn *c = &r->c;

    c->cstate = (uint8_t)ui_state_from_tcp(f->d[FLOW_C2S].state);
    c->sstate = (uint8_t)ui_state_from_tcp(f->d[FLOW_S2C].state);
    c->bytes_c2s = f->d[FLOW_C2S].bytes;
    c->bytes_s2c = f->d[FLOW_S2C].bytes;
    c->pkts_c2s = f->d[FLOW_C2S].pkts;
    c->pkts_s2c = f->d[FLOW_S2C].pkts;
    c->rtt_ns = f->rtt_ns;
    c->last_ns = f->last_ts_ns;
    c->syn_ns = f->syn_ts_ns;
    c->est_ns = f->ack_ts_ns;
    c->reset_by = f->reset_by == FLOW_C2S ? 'c' : f->reset_by == FLOW_S2C ? 's' : 0;
    c->closed_by = f->closed_by == FLOW_C2S ? 'c' : f->closed_by == FLOW_S2C ? 's' : 0;
    /* Without a segment log (or with its middle dropped), the flags still tell. */
    if (f->reset_by != FLOW_BY_NONE && c->end != VIEW_END_RST) {
        c->end = VIEW_END_RST;
        c->end_ns = f->last_ts_ns;
    }
    if (!c->fin_ns && (f->d[0].fin_seen || f->d[1].fin_seen))
        c->fin_ns = f->last_ts_ns;
    if (f->closed && c->end == VIEW_END_OPEN && state_final(f->d[0].state) &&
        state_final(f->d[1].state)) {
        c->end = VIEW_END_FIN;
        c->end_ns = f->last_ts_ns;
    }
}

static void rec_init(struct ui_rec *r, struct flow *f)
{
    struct view_conn *c = &r->c;

    memset(r, 0, sizeof(*r));
    r->f = f;
    c->id = f->id;
    c->family = f->af == 6 ? 6 : 4;
    memcpy(c->caddr, f->client, sizeof(c->caddr));
    memcpy(c->saddr, f->server, sizeof(c->saddr));
    c->cport = f->cport;
    c->sport = f->sport;
    c->first_ns = f->first_ts_ns;
    c->rtt_ns = -1;
}

static void rec_update(struct ui_rec *r, struct flow *f)
{
    rec_log(r, f);
    rec_counters(r, f);
    rec_http(r, f);
    r->synced_ts = f->last_ts_ns;
}

void ui_conn_from_flow(struct view_conn *c, const struct flow *f)
{
    struct ui_rec r;

    rec_init(&r, (struct flow *)f);
    rec_update(&r, (struct flow *)f);
    *c = r.c;
}

static int grow(struct ui_flows *u, size_t n)
{
    size_t cap = u->cap ? u->cap : 256;
    struct ui_rec **recs;
    const struct view_conn **conns;

    if (n <= u->cap)
        return 0;
    while (cap < n)
        cap *= 2;
    recs = realloc(u->recs, cap * sizeof(*recs));
    if (!recs)
        return -1;
    u->recs = recs;
    conns = realloc(u->conns, cap * sizeof(*conns));
    if (!conns)
        return -1;
    u->conns = conns;
    u->cap = cap;
    return 0;
}

size_t ui_flows_sync(struct ui_flows *u, struct flow_table *t)
{
    size_t k = 0;
    uint32_t live = flow_table_count(t);
    int budget = PID_LOOKUPS;

    /* Records of evicted flows go first; the rest are rebuilt in creation order. */
    for (size_t i = 0; i < u->n; i++)
        if (!u->recs[i]->f)
            free(u->recs[i]);
    u->n = 0;
    if (grow(u, live) < 0)
        return 0;
    for (struct flow *f = flow_table_next(t, NULL); f && k < u->cap; f = flow_table_next(t, f)) {
        struct ui_rec *r = f->user;
        if (!r || r->f != f) {
            r = malloc(sizeof(*r));
            if (!r)
                break;
            rec_init(r, f);
            f->user = r;
        }
        if (r->synced_ts != f->last_ts_ns || !r->synced_ts)
            rec_update(r, f);
        if (!r->c.pid && u->pid_fn && r->pid_tries < PID_TRIES && budget > 0) {
            budget--;
            r->pid_tries++;
            r->c.pid = u->pid_fn(u->pid_ctx, r->c.family, r->c.caddr, r->c.cport, r->c.first_ns);
        }
        u->recs[k] = r;
        u->conns[k] = &r->c;
        k++;
    }
    u->n = k;
    return k;
}

const struct view_conn *const *ui_flows_conns(const struct ui_flows *u, size_t *n)
{
    *n = u->n;
    return (const struct view_conn *const *)u->conns;
}

struct flow *ui_flows_flow(const struct ui_flows *u, uint64_t id)
{
    size_t lo = 0, hi = u->n;

    /* Records are in creation order, and ids grow with creation. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u->recs[mid]->c.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < u->n && u->recs[lo]->c.id == id)
        return u->recs[lo]->f;
    return NULL;
}
