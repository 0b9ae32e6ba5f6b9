/* The engine: glue from frames to connection records and events (no I/O). */
#include "monitor/engine.h"
#include "monitor/tcp_track.h"

#include <stdlib.h>
#include <string.h>

struct engine {
    struct engine_config cfg;
    struct flow_table *flows;
    struct sniff_pool *sniffs; /* every flow's sniffer comes from here */
    struct engine_counters c;
    /* Context of the segment being processed, for the HTTP callbacks. */
    struct flow *cur_flow;
    enum flow_dir_id cur_dir;
    uint16_t cur_marks;
    uint32_t since_expire;
};

static const char *const engine_event_names[ENGINE_EV_COUNT] = {
    [ENGINE_EV_OPENED] = "opened",   [ENGINE_EV_HANDSHAKE] = "handshake",
    [ENGINE_EV_REQUEST] = "request", [ENGINE_EV_RESPONSE] = "response",
    [ENGINE_EV_FIN] = "fin",         [ENGINE_EV_RST] = "rst",
    [ENGINE_EV_CLOSED] = "closed",
};

const char *engine_event_name(enum engine_event_type t)
{
    return (unsigned)t < ENGINE_EV_COUNT ? engine_event_names[t] : "?";
}

static void engine_release_flow(void *ctx, struct flow *f)
{
    (void)ctx;
    if (f->http) {
        sniff_free(f->http);
        f->http = NULL;
    }
}

struct engine *engine_new(const struct engine_config *cfg)
{
    struct engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->cfg = *cfg;
    if (!e->cfg.max_flows)
        e->cfg.max_flows = 65536;
    e->flows = flow_table_new(e->cfg.max_flows, e->cfg.seglog_cap);
    e->sniffs = sniff_pool_new();
    if (!e->flows || !e->sniffs) {
        flow_table_free(e->flows);
        sniff_pool_free(e->sniffs);
        free(e);
        return NULL;
    }
    flow_table_set_release_cb(e->flows, engine_release_flow, e);
    if (cfg->on_evict)
        flow_table_set_evict_cb(e->flows, cfg->on_evict, cfg->evict_ctx);
    return e;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    flow_table_free(e->flows); /* gives every sniffer back */
    sniff_pool_free(e->sniffs);
    free(e);
}

struct flow_table *engine_flows(struct engine *e)
{
    return e->flows;
}

const struct engine_counters *engine_get_counters(const struct engine *e)
{
    return &e->c;
}

/* A closed, idle flow: let the outputs report it, then drop its HTTP state. */
static void engine_retire_flow(void *ctx, struct flow *f)
{
    struct engine *e = ctx;
    if (e->cfg.on_retire)
        e->cfg.on_retire(e->cfg.retire_ctx, f);
    engine_release_flow(e, f);
}

static void engine_emit(struct engine *e, enum engine_event_type t, struct flow *f,
                        enum flow_dir_id dir, uint64_t ts, const struct sniff_txn *txn)
{
    if (!e->cfg.on_event)
        return;
    struct engine_event ev = { .type = t, .f = f, .dir = dir, .ts_ns = ts, .txn = txn };
    e->cfg.on_event(e->cfg.event_ctx, &ev);
}

static void engine_on_request(void *ctx, const struct sniff_txn *txn)
{
    struct engine *e = ctx;
    e->cur_marks |= FLOW_SEG_HTTP_REQ;
    if (txn)
        engine_emit(e, ENGINE_EV_REQUEST, e->cur_flow, e->cur_dir, txn->req_ts_ns, txn);
}

static void engine_on_response(void *ctx, const struct sniff_txn *txn)
{
    struct engine *e = ctx;
    e->cur_marks |= FLOW_SEG_HTTP_RESP;
    if (txn)
        engine_emit(e, ENGINE_EV_RESPONSE, e->cur_flow, e->cur_dir, txn->resp_ts_ns, txn);
}

/* The segment's SACK blocks into its log entry, relative to the ISN of the side they acknowledge.
 */
static void engine_seg_sack(const struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                            struct flow_seg *se)
{
    const struct flow_dir *peer = &f->d[dir == FLOW_C2S ? FLOW_S2C : FLOW_C2S];
    uint32_t base = peer->isn_known ? peer->isn : 0;

    if (!(p->opts.present & DECODE_OPT_SACK) || !(p->flags & FLOW_TH_ACK))
        return;
    for (uint8_t i = 0; i < p->opts.nsack && se->nsack < FLOW_SEG_SACK_MAX; i++, se->nsack++) {
        se->sack[se->nsack][0] = p->opts.sack[i][0] - base;
        se->sack[se->nsack][1] = p->opts.sack[i][1] - base;
    }
}

void engine_segment(struct engine *e, const struct decode_seg *p)
{
    enum flow_dir_id dir;
    uint64_t created = flow_table_created(e->flows);
    struct flow *f = flow_table_lookup(e->flows, p->af, p->src, p->dst, p->sport, p->dport,
                                       p->flags, p->seq, p->ts_ns, &dir);
    if (!f)
        return;
    struct tcp_track_seg si;
    tcp_track_observe(f, dir, p, &si);
    flow_table_touch(e->flows, f);
    if (flow_table_created(e->flows) != created) {
        if (e->cfg.select && !e->cfg.select(e->cfg.select_ctx, f)) {
            f->ignored = 1;
            f->log.cap = 0;
        }
        engine_emit(e, ENGINE_EV_OPENED, f, dir, p->ts_ns, NULL);
    }

    e->cur_flow = f;
    e->cur_dir = dir;
    e->cur_marks = si.marks;

    if (si.events & TCP_TRACK_EV_HANDSHAKE)
        engine_emit(e, ENGINE_EV_HANDSHAKE, f, dir, p->ts_ns, NULL);

    /* HTTP: only captured payload is handed on; RST payload is no stream data. */
    if (!e->cfg.no_http && !f->ignored && p->payload_caplen > 0 && !(p->flags & FLOW_TH_RST)) {
        if (!f->http)
            f->http = sniff_new_in(e->sniffs);
        if (f->http) {
            /* Without an event consumer only the segment marks are needed. */
            struct sniff_cb cb = { engine_on_request, engine_on_response, e,
                                   e->cfg.on_event == NULL };
            uint32_t seq = p->seq + ((p->flags & FLOW_TH_SYN) ? 1 : 0);
            sniff_segment(f->http, dir, seq, p->payload, p->payload_caplen, p->ts_ns, &cb);
        }
    }

    if (si.events & TCP_TRACK_EV_FIN)
        engine_emit(e, ENGINE_EV_FIN, f, dir, p->ts_ns, NULL);
    if (si.events & TCP_TRACK_EV_RST)
        engine_emit(e, ENGINE_EV_RST, f, dir, p->ts_ns, NULL);
    if (si.events & TCP_TRACK_EV_CLOSED)
        engine_emit(e, ENGINE_EV_CLOSED, f, dir, p->ts_ns, NULL);

    if (f->log.cap) {
        struct flow_seg se = {
            .ts_ns = p->ts_ns,
            .rel_seq = si.rel_seq,
            .rel_ack = si.rel_ack,
            .len = p->payload_len,
            .win = si.win,
            .marks = e->cur_marks,
            .flags = p->flags,
            .dir = (uint8_t)dir,
            .cstate = (uint8_t)f->d[FLOW_C2S].state,
            .sstate = (uint8_t)f->d[FLOW_S2C].state,
        };
        engine_seg_sack(f, dir, p, &se);
        flow_seglog_append(f, &se);
    }
    e->cur_flow = NULL;

    if (e->cfg.retire_closed_ns && ++e->since_expire >= 256) {
        e->since_expire = 0;
        flow_table_retire(e->flows, p->ts_ns, e->cfg.retire_closed_ns, engine_retire_flow, e);
    }
}

void engine_packet(struct engine *e, int dlt, const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
                   uint64_t ts_ns)
{
    struct decode_seg d;
    e->c.packets++;
    enum decode_status st = decode_packet(dlt, pkt, caplen, wirelen, ts_ns, &d);
    e->c.by_status[st]++;
    switch (decode_status_class(st)) {
    case DECODE_CLASS_OK:
        e->c.tcp++;
        engine_segment(e, &d);
        break;
    case DECODE_CLASS_TRUNCATED:
        e->c.truncated++;
        break;
    case DECODE_CLASS_MALFORMED:
        e->c.malformed++;
        break;
    default:
        e->c.non_tcp++;
        break;
    }
}
