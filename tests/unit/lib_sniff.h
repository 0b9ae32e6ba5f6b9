/*
 * What the sniff module's unit tests share (test_sniff.c, test_sniff_hostile.c):
 * a connection whose sequence numbers advance as text is "sent", and the
 * counts of what the sniffer reported. Include after <cmocka.h>.
 */
#ifndef LABD_TEST_LIB_SNIFF_H
#define LABD_TEST_LIB_SNIFF_H

#include <stdio.h>
#include <string.h>

#include "monitor/sniff.h"

/* A connection under test: sequence numbers advance as text is "sent". */
struct conn {
    struct sniff *s;
    uint32_t seq[2];
    uint64_t ts;
    int requests, responses;
    char last_req_uri[SNIFF_URI_MAX];
    int last_resp_status;
};

static inline void on_req(void *ctx, const struct sniff_txn *t)
{
    struct conn *c = ctx;

    c->requests++;
    snprintf(c->last_req_uri, sizeof(c->last_req_uri), "%s", t->uri);
}

static inline void on_resp(void *ctx, const struct sniff_txn *t)
{
    struct conn *c = ctx;

    c->responses++;
    c->last_resp_status = t->status;
}

static inline void conn_init(struct conn *c, uint32_t cseq, uint32_t sseq)
{
    memset(c, 0, sizeof(*c));
    c->s = sniff_new();
    assert_non_null(c->s);
    c->seq[FLOW_C2S] = cseq;
    c->seq[FLOW_S2C] = sseq;
    c->ts = 1000;
}

/* Sends n bytes as one segment at the current sequence number. */
static inline void send_n(struct conn *c, enum flow_dir_id dir, const void *p, size_t n)
{
    struct sniff_cb cb = { on_req, on_resp, c, 0 };

    sniff_segment(c->s, dir, c->seq[dir], p, n, c->ts, &cb);
    c->seq[dir] += (uint32_t)n;
    c->ts += 10;
}

static inline void send_s(struct conn *c, enum flow_dir_id dir, const char *text)
{
    send_n(c, dir, text, strlen(text));
}

/* Re-sends bytes at an explicit sequence number, without advancing. */
static inline void send_at(struct conn *c, enum flow_dir_id dir, uint32_t seq, const char *text)
{
    struct sniff_cb cb = { on_req, on_resp, c, 0 };

    sniff_segment(c->s, dir, seq, (const uint8_t *)text, strlen(text), c->ts, &cb);
    c->ts += 10;
}

static inline const struct sniff_txn *txn(struct conn *c, size_t i)
{
    const struct sniff_txn *t = sniff_get(c->s, i);

    assert_non_null(t);
    return t;
}

static inline void conn_free(struct conn *c)
{
    sniff_free(c->s);
}

__attribute__((unused)) static const char REQ1[] =
    "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    "User-Agent: curl/7.88\r\nAccept: */*\r\n\r\n";
__attribute__((unused)) static const char RESP1[] =
    "HTTP/1.1 200 OK\r\nServer: labd\r\nContent-Type: text/html; "
    "charset=utf-8\r\nContent-Length: 11\r\n\r\nhello world";

#endif
