/*
 * libFuzzer target: the sniff module (monitor/sniff.c, sniff_line.c,
 * sniff_store.c) fed a sequence of TCP segments.
 *
 * Input: 8 bytes of initial sequence numbers (client, server, little-endian),
 * then records: flags byte, [seq field], 2-byte length, payload.
 *   flags bit 0: direction (0 client -> server, 1 server -> client)
 *   flags bits 1-2: 0 next expected seq; 1 next minus a 2-byte delta
 *                   (retransmission); 2 next plus a 2-byte delta (gap);
 *                   3 an absolute 4-byte seq
 *   flags bit 3: same timestamp as the previous record
 * A short record takes what is left. Checks the outputs' own invariants,
 * and, while neither direction lost sync (a desynchronised stream resyncs
 * only at segment boundaries, so there splitting legitimately differs), that
 * a second sniffer fed the same segments one byte at a time agrees on every
 * transaction: lines parsed in place equal lines assembled piecewise (the
 * start-line grammar's own fast path is checked by fuzz_sniff_line.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_txn(const struct sniff_txn *t)
{
    if (strnlen(t->method, sizeof(t->method)) >= sizeof(t->method) ||
        strnlen(t->uri, sizeof(t->uri)) >= sizeof(t->uri) ||
        strnlen(t->version, sizeof(t->version)) >= sizeof(t->version) ||
        strnlen(t->range, sizeof(t->range)) >= sizeof(t->range) ||
        strnlen(t->reason, sizeof(t->reason)) >= sizeof(t->reason) ||
        strnlen(t->content_range, sizeof(t->content_range)) >= sizeof(t->content_range) ||
        strnlen(t->content_type, sizeof(t->content_type)) >= sizeof(t->content_type))
        abort(); /* a string without its terminator */
    if (t->status != 0 && (t->status < 100 || t->status > 599))
        abort();
    if (t->content_length < -1)
        abort();
    if (t->method[0] == '\0' && t->status == 0)
        abort(); /* a transaction with neither a request nor a response */
}

static void on_txn(void *ctx, const struct sniff_txn *t)
{
    (void)ctx;
    check_txn(t);
}

static void same_txn(const struct sniff_txn *a, const struct sniff_txn *b)
{
    if (strcmp(a->method, b->method) != 0 || strcmp(a->uri, b->uri) != 0 ||
        strcmp(a->version, b->version) != 0 || strcmp(a->range, b->range) != 0 ||
        a->status != b->status || strcmp(a->reason, b->reason) != 0 ||
        a->content_length != b->content_length || strcmp(a->content_range, b->content_range) != 0 ||
        strcmp(a->content_type, b->content_type) != 0 || a->req_ts_ns != b->req_ts_ns ||
        a->resp_ts_ns != b->resp_ts_ns || a->uri_truncated != b->uri_truncated ||
        a->unknown_response != b->unknown_response)
        abort(); /* split feeding changed a transaction */
}

static uint32_t le(const uint8_t *p, size_t n)
{
    uint32_t v = 0;

    while (n-- > 0)
        v = v << 8 | p[n];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sniff_cb cb = { on_txn, on_txn, NULL, 0 };
    struct sniff *s, *bytes;
    struct sniff_txn copy, other;
    uint32_t next[2];
    uint64_t ts = 1;
    size_t i, n, len;

    if (size < 8)
        return 0;
    next[0] = le(data, 4);
    next[1] = le(data + 4, 4);
    data += 8;
    size -= 8;
    s = sniff_new();
    bytes = sniff_new();
    if (s == NULL || bytes == NULL) {
        sniff_free(s);
        sniff_free(bytes);
        return 0;
    }
    while (size > 0) {
        uint8_t flags = data[0];
        int dir = flags & 1, mode = (flags >> 1) & 3;
        uint32_t seq = next[dir];

        data++;
        size--;
        n = mode == 3 ? 4 : mode == 0 ? 0 : 2;
        if (size < n + 2)
            break;
        if (mode == 1)
            seq -= le(data, 2);
        else if (mode == 2)
            seq += le(data, 2);
        else if (mode == 3)
            seq = le(data, 4);
        len = le(data + n, 2);
        data += n + 2;
        size -= n + 2;
        if (len > size)
            len = size;
        if (!(flags & 8))
            ts += 1000;
        sniff_segment(s, dir ? FLOW_S2C : FLOW_C2S, seq, data, len, ts, &cb);
        for (i = 0; i < len; i++)
            sniff_segment(bytes, dir ? FLOW_S2C : FLOW_C2S, seq + (uint32_t)i, data + i, 1, ts,
                          NULL);
        if (seq + (uint32_t)len - next[dir] < 0x80000000u)
            next[dir] = seq + (uint32_t)len;
        data += len;
        size -= len;
    }
    n = sniff_count(s);
    for (i = 0; i < n; i++) {
        check_txn(sniff_get(s, i));
        if (sniff_get_copy(s, i, &copy) != 0)
            abort();
    }
    if (sniff_get(s, n) != NULL || n > 64)
        abort();
    if (!sniff_had_gap(s, FLOW_C2S) && !sniff_had_gap(s, FLOW_S2C)) {
        if (sniff_count(bytes) != n)
            abort();
        for (i = 0; i < n; i++) {
            if (sniff_get_copy(s, i, &copy) != 0 || sniff_get_copy(bytes, i, &other) != 0)
                abort();
            same_txn(&copy, &other);
        }
    }
    sniff_free(s);
    sniff_free(bytes);
    return 0;
}
