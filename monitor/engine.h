/*
 * The engine: one captured frame in -> decode -> flow table -> TCP tracking
 * -> HTTP sniffing -> events out. No I/O: the capture shell feeds frames,
 * the outputs and the TUI read the flow table and receive events.
 */
#ifndef LABMON_ENGINE_H
#define LABMON_ENGINE_H

#include <stdint.h>

#include "monitor/decode.h"
#include "monitor/flow.h"
#include "monitor/sniff.h"

enum engine_event_type {
    ENGINE_EV_OPENED = 0, /* a new connection record (first segment seen) */
    ENGINE_EV_HANDSHAKE,  /* SYN, SYN/ACK, ACK complete */
    ENGINE_EV_REQUEST,    /* an HTTP request line (txn set) */
    ENGINE_EV_RESPONSE,   /* an HTTP status line (txn set) */
    ENGINE_EV_FIN,        /* first FIN from dir */
    ENGINE_EV_RST,        /* first RST from dir */
    ENGINE_EV_CLOSED,     /* both endpoints CLOSED/TIME_WAIT: last ACK seen, or a RST */
    ENGINE_EV_COUNT
};

struct engine_event {
    enum engine_event_type type;
    struct flow *f;
    enum flow_dir_id dir;
    uint64_t ts_ns;
    const struct sniff_txn *txn; /* REQUEST / RESPONSE only; valid during the call */
};

typedef void (*engine_event_fn)(void *ctx, const struct engine_event *ev);

struct engine_config {
    uint32_t max_flows;  /* flow table bound (0 = default 65536) */
    uint32_t seglog_cap; /* segments logged per flow for the ladder (0 = none) */
    int no_http;         /* skip HTTP sniffing */
    engine_event_fn on_event;
    void *event_ctx;
    /*
     * Closed flows idle this long (capture time) are handed to on_retire
     * (report them now), then their HTTP state is freed; the record stays
     * for late segments and is evicted first. 0 = never (the TUI keeps all).
     */
    uint64_t retire_closed_ns;
    flow_evict_fn on_retire;
    void *retire_ctx;
    /* If set, called for each new flow: 0 = track it, but keep no segment
     * log and sniff no HTTP for it (e.g. --ladder wants one connection). */
    int (*select)(void *ctx, const struct flow *f);
    void *select_ctx;
    flow_evict_fn on_evict; /* called before a flow's record is reused */
    void *evict_ctx;
};

struct engine_counters {
    uint64_t packets;   /* frames handed to the engine */
    uint64_t tcp;       /* decoded TCP segments */
    uint64_t non_tcp;   /* not IP, not TCP, non-first fragments, unknown link */
    uint64_t truncated; /* capture ended inside a header */
    uint64_t malformed; /* impossible header values */
    uint64_t by_status[DECODE_STATUS_COUNT];
};

struct engine;

struct engine *engine_new(const struct engine_config *cfg);
void engine_free(struct engine *e);

/* Feed one captured frame of link type dlt, captured at ts_ns. */
void engine_packet(struct engine *e, int dlt, const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
                   uint64_t ts_ns);

/* Feed an already decoded segment (used by engine_packet and by tests). */
void engine_segment(struct engine *e, const struct decode_seg *p);

struct flow_table *engine_flows(struct engine *e);
const struct engine_counters *engine_get_counters(const struct engine *e);

const char *engine_event_name(enum engine_event_type t);

#endif
