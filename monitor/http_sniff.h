/*
 * HTTP sniffing: follows the two byte streams of one TCP connection and
 * extracts every request line and status line, matched request <-> response.
 * Pure: bytes, sequence numbers and timestamps in; transactions out.
 */
#ifndef LABMON_HTTP_SNIFF_H
#define LABMON_HTTP_SNIFF_H

#include <stdint.h>
#include <stddef.h>

enum http_dir { HTTP_C2S = 0, HTTP_S2C = 1 };

/* Fixed capacities: longer values are truncated and flagged, never overflow. */
#define HTTP_METHOD_MAX 16
#define HTTP_URI_MAX    256
#define HTTP_VALUE_MAX  96

/* One request and (once seen) its response. Strings are NUL-terminated. */
struct http_txn {
    char method[HTTP_METHOD_MAX];
    char uri[HTTP_URI_MAX];
    char version[10];           /* "HTTP/1.1" */
    char range[HTTP_VALUE_MAX]; /* request's Range header, "" if none */
    int status;                 /* 0 until a response is seen */
    char reason[32];
    int64_t content_length; /* response Content-Length, -1 if absent */
    char content_range[HTTP_VALUE_MAX];
    char content_type[HTTP_VALUE_MAX];
    uint64_t req_ts_ns;  /* time of the segment holding the request line */
    uint64_t resp_ts_ns; /* time of the segment holding the status line, 0 if none */
    uint8_t uri_truncated;
    uint8_t unknown_response; /* response lost to a gap: status not known */
};

/*
 * Callbacks so the engine can emit events as they happen. Either may be NULL.
 * The txn pointer is valid only during the call (the ring may overwrite it).
 */
struct http_sniff_cb {
    void (*on_request)(void *ctx, const struct http_txn *txn);
    void (*on_response)(void *ctx, const struct http_txn *txn);
    void *ctx;
    /* Nonzero: the callbacks only need to know that a request or response
     * was seen and get txn == NULL (saves expanding the transaction). */
    int no_txn;
};

/* Per-connection state. Allocated only for connections that carry payload. */
struct http_sniff;

struct http_sniff *http_sniff_new(void);
void http_sniff_free(struct http_sniff *s);

/*
 * Feed one TCP segment's payload in one direction. seq is the absolute TCP
 * sequence number of data[0]; the sniffer tracks the next expected seq per
 * direction itself: retransmitted bytes are skipped, a gap (seq beyond what
 * is expected) makes the direction "unknown" until it can resynchronise on
 * a message start. Never reads past data + len.
 */
void http_sniff_segment(struct http_sniff *s, enum http_dir dir, uint32_t seq, const uint8_t *data,
                        size_t len, uint64_t ts_ns, const struct http_sniff_cb *cb);

/*
 * Transactions seen so far, oldest first (bounded; older ones are counted, not kept).
 * http_sniff_get()'s result is valid until the next call on the same sniffer
 * (transactions are stored compactly and expanded on demand); use
 * http_sniff_get_copy() to keep one. A transaction whose method is "" is a
 * response whose request was not seen (capture started late, or requests
 * lost to a gap); unknown_response marks a request whose response was lost.
 */
size_t http_sniff_count(const struct http_sniff *s);
const struct http_txn *http_sniff_get(const struct http_sniff *s, size_t i);
/* Copies transaction i into *out: 0, or -1 if i is out of range. */
int http_sniff_get_copy(const struct http_sniff *s, size_t i, struct http_txn *out);
/* Transactions dropped because the per-connection ring was full. */
uint64_t http_sniff_dropped(const struct http_sniff *s);
/* Whether the stream in dir was desynchronised at least once. */
int http_sniff_had_gap(const struct http_sniff *s, enum http_dir dir);
/* Bytes one sniffer occupies at most (for memory accounting; under 9 KiB). */
size_t http_sniff_size(void);

#endif
