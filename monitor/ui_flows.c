/*
 * The TUI's mirror of the flow table: struct flow -> struct view_conn, done
 * incrementally (only flows whose last packet time moved, only the segment
 * log entries appended since the last frame) so a frame over ten thousand
 * idle connections costs a walk, not a rebuild.
 */
#include "monitor/ui_flows.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/sniff.h"

/* Payload closer than this in time is drawn as one data span. */
#define UI_FLOWS_DATA_MERGE_NS 200000ULL
/*
 * The pid lookup is retried on a few frames, then given up until the
 * client's payload grows: with deferred accept a worker takes a
 * connection (and writes it to the scoreboard) only when its first
 * request arrives, which a browser's pre-opened connection may do seconds
 * after its handshake.
 */
#define UI_FLOWS_PID_TRIES 8
#define UI_FLOWS_PID_LOOKUPS                                                                       \
    1024 /* per sync: bounds the work when thousands of flows appear at once */

struct ui_flows_rec {
    struct view_conn c;
    struct flow *f;     /* the flow it mirrors */
    uint64_t synced_ts; /* f->last_ts_ns at the last sync, 0 = never */
    uint64_t log_total; /* segment log entries seen (n + skipped) */
    uint64_t fin_ts[2]; /* first FIN per direction */
    uint64_t http_done; /* transactions copied with their final status */
    uint8_t pid_tries;
    uint64_t pid_bytes; /* bytes_c2s at the last round of tries */
};

struct ui_flows {
    /* &rec->c of each record in creation order, rebuilt by each sync. */
    struct view_conn **conns;
    size_t n, cap;
    ui_flows_pid_fn pid_fn;
    void *pid_ctx;
};

static struct ui_flows_rec *ui_flows_rec_of(const struct view_conn *c)
{
    return (struct ui_flows_rec *)((char *)(uintptr_t)c - offsetof(struct ui_flows_rec, c));
}

struct ui_flows *ui_flows_new(ui_flows_pid_fn pid_fn, void *pid_ctx)
{
    struct ui_flows *u = calloc(1, sizeof(*u));

    if (u) {
        u->pid_fn = pid_fn;
        u->pid_ctx = pid_ctx;
    }
    return u;
}

void ui_flows_free(struct ui_flows *u)
{
    if (!u)
        return;
    /* Flows may already be gone: their user pointers are not touched. */
    for (size_t i = 0; i < u->n; i++)
        free(ui_flows_rec_of(u->conns[i]));
    free(u->conns);
    free(u);
}

/* Records are freed on the next sync: the view may still hold pointers this frame. */
void ui_flows_forget(struct ui_flows *u, struct flow *f)
{
    struct ui_flows_rec *r = f->user;

    (void)u;
    if (r && r->f == f)
        r->f = NULL;
    f->user = NULL;
}

static void ui_flows_rec_update(struct ui_flows_rec *r, struct flow *f);

static void ui_flows_rec_init(struct ui_flows_rec *r, struct flow *f);

/* The record mirroring f, made on first sight; NULL when out of memory. */
static struct ui_flows_rec *ui_flows_rec_get(struct flow *f)
{
    struct ui_flows_rec *r = f->user;

    if (r && r->f == f)
        return r;
    r = malloc(sizeof(*r));
    if (r) {
        ui_flows_rec_init(r, f);
        f->user = r;
    }
    return r;
}

/*
 * A replay read at full speed can open, close and retire a flow between two
 * frames: then its record is made here, while the HTTP state still exists.
 */
void ui_flows_retire(struct ui_flows *u, struct flow *f)
{
    struct ui_flows_rec *r = ui_flows_rec_get(f);

    (void)u;
    if (r)
        ui_flows_rec_update(r, f);
}

enum view_tcp_state ui_flows_state_from_tcp(enum flow_tcp_state s)
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

static int ui_flows_state_final(uint8_t s)
{
    return s == FLOW_TCPS_TIME_WAIT || s == FLOW_TCPS_CLOSED;
}

/* Fold one logged segment into the record: data spans, marks, FIN/RST times. */
static void ui_flows_rec_segment(struct ui_flows_rec *r, const struct flow_seg *e)
{
    struct view_conn *c = &r->c;

    if (e->len)
        view_conn_add_data(c, e->ts_ns, UI_FLOWS_DATA_MERGE_NS);
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
    if (c->end == VIEW_END_OPEN && r->fin_ts[0] && r->fin_ts[1] &&
        ui_flows_state_final(e->cstate) && ui_flows_state_final(e->sstate)) {
        c->end = VIEW_END_FIN;
        c->end_ns = e->ts_ns;
    }
}

static void ui_flows_rec_log(struct ui_flows_rec *r, const struct flow *f)
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
            ui_flows_rec_segment(r, e);
    }
    r->log_total = total;
}

static void ui_flows_rec_http(struct ui_flows_rec *r, const struct flow *f)
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
        if ((t->status || t->unknown_response) && abs == r->http_done) {
            r->http_done = abs + 1;
            view_conn_add_status(c, t->status ? t->status : -1);
        }
    }
}

static void ui_flows_rec_counters(struct ui_flows_rec *r, const struct flow *f)
{
    struct view_conn *c = &r->c;

    c->cstate = (uint8_t)ui_flows_state_from_tcp(f->d[FLOW_C2S].state);
    c->sstate = (uint8_t)ui_flows_state_from_tcp(f->d[FLOW_S2C].state);
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
    if (f->closed && c->end == VIEW_END_OPEN && ui_flows_state_final(f->d[0].state) &&
        ui_flows_state_final(f->d[1].state)) {
        c->end = VIEW_END_FIN;
        c->end_ns = f->last_ts_ns;
    }
}

static void ui_flows_rec_init(struct ui_flows_rec *r, struct flow *f)
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

static void ui_flows_rec_update(struct ui_flows_rec *r, struct flow *f)
{
    ui_flows_rec_log(r, f);
    ui_flows_rec_counters(r, f);
    ui_flows_rec_http(r, f);
    r->synced_ts = f->last_ts_ns;
}

void ui_flows_conn_from_flow(struct view_conn *c, const struct flow *f)
{
    struct ui_flows_rec r;

    ui_flows_rec_init(&r, (struct flow *)f);
    ui_flows_rec_update(&r, (struct flow *)f);
    *c = r.c;
}

/* Room for n rows; the caller fills them anew, so nothing is copied. Returns 0 or -1. */
static int ui_flows_reserve(struct ui_flows *u, size_t n)
{
    size_t cap = u->cap ? u->cap : 256;

    if (n <= u->cap)
        return 0;
    while (cap < n)
        cap *= 2;
    free(u->conns);
    u->conns = malloc(cap * sizeof(*u->conns));
    u->cap = u->conns ? cap : 0;
    return u->conns ? 0 : -1;
}

size_t ui_flows_sync(struct ui_flows *u, struct flow_table *t)
{
    size_t k = 0;
    int budget = UI_FLOWS_PID_LOOKUPS;

    /* Records of evicted flows go first; the rest are rebuilt in creation order. */
    for (size_t i = 0; i < u->n; i++) {
        struct ui_flows_rec *r = ui_flows_rec_of(u->conns[i]);
        if (!r->f)
            free(r);
    }
    u->n = 0;
    if (ui_flows_reserve(u, flow_table_count(t)) < 0)
        return 0;
    for (struct flow *f = flow_table_next(t, NULL); f && k < u->cap; f = flow_table_next(t, f)) {
        struct ui_flows_rec *r = ui_flows_rec_get(f);
        if (!r)
            break;
        if (r->synced_ts != f->last_ts_ns || !r->synced_ts)
            ui_flows_rec_update(r, f);
        if (!r->c.pid && r->pid_bytes != r->c.bytes_c2s) {
            r->pid_bytes = r->c.bytes_c2s;
            r->pid_tries = 0;
        }
        if (!r->c.pid && u->pid_fn && r->pid_tries < UI_FLOWS_PID_TRIES && budget > 0) {
            budget--;
            r->pid_tries++;
            r->c.pid = u->pid_fn(u->pid_ctx, r->c.family, r->c.caddr, r->c.cport, r->c.first_ns);
        }
        u->conns[k++] = &r->c;
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
        if (u->conns[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < u->n && u->conns[lo]->id == id)
        return ui_flows_rec_of(u->conns[lo])->f;
    return NULL;
}
