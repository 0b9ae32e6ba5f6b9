/*
 * HTTP sniffing: follows the two byte streams of one TCP connection and
 * extracts every request line and status line, matched request <-> response.
 * Pure: bytes, sequence numbers and timestamps in; transactions out.
 *
 * The module is three files behind this header: sniff.c (the two streams:
 * sequence tracking, message framing, this interface), sniff_line.c (the
 * grammar of start lines and of the few header fields that matter) and
 * sniff_store.c (the bounded transaction store and request <-> response
 * matching).
 */
#ifndef LABMON_SNIFF_H
#define LABMON_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/flow.h"

/* Fixed capacities: longer values are truncated and flagged, never overflow. */
#define SNIFF_METHOD_MAX 16
#define SNIFF_URI_MAX    256
#define SNIFF_VALUE_MAX  96

/* One request and (once seen) its response. Strings are NUL-terminated. */
struct sniff_txn {
    char method[SNIFF_METHOD_MAX];
    char uri[SNIFF_URI_MAX];
    char version[10];            /* "HTTP/1.1" */
    char range[SNIFF_VALUE_MAX]; /* request's Range header, "" if none */
    int status;                  /* 0 until a response is seen */
    char reason[32];
    int64_t content_length; /* response Content-Length, -1 if absent */
    char content_range[SNIFF_VALUE_MAX];
    char content_type[SNIFF_VALUE_MAX];
    uint64_t req_ts_ns;  /* time of the segment holding the request line */
    uint64_t resp_ts_ns; /* time of the segment holding the status line, 0 if none */
    uint8_t uri_truncated;
    uint8_t unknown_response; /* response lost to a gap: status not known */
};

/*
 * Callbacks so the engine can emit events as they happen. Either may be NULL.
 * The txn pointer is valid only during the call (the ring may overwrite it).
 */
struct sniff_cb {
    void (*on_request)(void *ctx, const struct sniff_txn *txn);
    void (*on_response)(void *ctx, const struct sniff_txn *txn);
    void *ctx;
    /* Nonzero: the callbacks only need to know that a request or response
     * was seen and get txn == NULL (saves expanding the transaction). */
    int no_txn;
};

/* Per-connection state. Allocated only for connections that carry payload. */
struct sniff;

struct sniff *sniff_new(void);
void sniff_free(struct sniff *s);

/*
 * Sniffers for many short connections: made in a pool (see objpool.h), they
 * cost no page fault and no malloc each. sniff_free() gives such a sniffer
 * back to its pool; free the pool after its last sniffer.
 */
struct sniff_pool;
struct sniff_pool *sniff_pool_new(void);
void sniff_pool_free(struct sniff_pool *pool);
struct sniff *sniff_new_in(struct sniff_pool *pool);

/*
 * Feed one TCP segment's payload in direction dir (FLOW_C2S carries the
 * requests). seq is the absolute TCP sequence number of data[0]; the
 * sniffer tracks the next expected seq per direction itself: retransmitted
 * bytes are skipped, a gap (seq beyond what is expected) makes the
 * direction "unknown" until it can resynchronise on a message start. Never
 * reads past data + len.
 */
void sniff_segment(struct sniff *s, enum flow_dir_id dir, uint32_t seq, const uint8_t *data,
                   size_t len, uint64_t ts_ns, const struct sniff_cb *cb);

/*
 * Transactions seen so far, oldest first (bounded; older ones are counted, not kept).
 * sniff_get()'s result is valid until the next call on the same sniffer
 * (transactions are stored compactly and expanded on demand); use
 * sniff_get_copy() to keep one. A transaction whose method is "" is a
 * response whose request was not seen (capture started late, or requests
 * lost to a gap); unknown_response marks a request whose response was lost.
 */
size_t sniff_count(const struct sniff *s);
const struct sniff_txn *sniff_get(const struct sniff *s, size_t i);
/* Copies transaction i into *out: 0, or -1 if i is out of range. */
int sniff_get_copy(const struct sniff *s, size_t i, struct sniff_txn *out);
/* Transactions dropped because the per-connection store was full. */
uint64_t sniff_dropped(const struct sniff *s);
/* Whether the stream in dir was desynchronised at least once. */
int sniff_had_gap(const struct sniff *s, enum flow_dir_id dir);
/* Bytes one sniffer occupies at most, all buffers grown (for memory accounting). */
size_t sniff_size(void);

#endif
