/*
 * libFuzzer target: the whole labmon engine (decode, flow table, TCP state
 * tracking, HTTP sniffer) fed a sequence of packets.
 *
 * Byte 0: bit 7 set = synthesised segments, else raw frames of link type
 * (byte 0 % 6). Byte 1: flow table bound (1-16) and segment log size.
 * Raw records: 2-byte length, 1-byte time step, frame.
 * Synthesised records (IPv4 or IPv6 between a client and a server, four
 * client ports): 1 byte (bit 0 direction, bits 1-2 connection, bit 3 IPv6,
 * bit 4 SYN options, bit 5 fixed seq/ack), 1 byte TCP flags, 2+2 bytes seq
 * and ack deltas (relative to what each side sent so far), 2 bytes window,
 * 1 byte time step, 2 bytes payload length, payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int raw_dlts[] = {
    DECODE_DLT_EN10MB, DECODE_DLT_SLL,      DECODE_DLT_SLL2,
    DECODE_DLT_NULL,   DECODE_LINKTYPE_RAW, DECODE_DLT_LOOP,
};

static void check_txn(const struct sniff_txn *t)
{
    if (t == NULL || strnlen(t->uri, sizeof(t->uri)) == sizeof(t->uri) ||
        strnlen(t->method, sizeof(t->method)) == sizeof(t->method) ||
        strnlen(t->content_type, sizeof(t->content_type)) == sizeof(t->content_type))
        abort();
}

static void on_event(void *ctx, const struct engine_event *ev)
{
    (void)ctx;
    if (ev->type >= ENGINE_EV_COUNT || engine_event_name(ev->type) == NULL || ev->f == NULL)
        abort();
    if (ev->type == ENGINE_EV_REQUEST || ev->type == ENGINE_EV_RESPONSE)
        check_txn(ev->txn);
}

static uint32_t get(const uint8_t *p, int n)
{
    uint32_t v = 0;

    while (n-- > 0)
        v = v << 8 | p[n];
    return v;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

/* Builds an IPv4 or IPv6 + TCP frame (DLT raw) and returns its length. */
static size_t build(uint8_t *buf, int v6, int to_server, uint16_t cport, uint8_t flags,
                    uint32_t seq, uint32_t ack, uint16_t win, int synopts, const uint8_t *pl,
                    size_t plen)
{
    static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                    0, 1, 0,    0,    0, 0, 1, 3,  3, 7 };
    size_t ip = v6 ? 40 : 20, thl = 20 + (synopts ? sizeof(opts) : 0);
    uint8_t *t = buf + ip;
    uint16_t sport = to_server ? cport : 8080, dport = to_server ? 8080 : cport;

    memset(buf, 0, ip + thl);
    if (v6) {
        buf[0] = 0x60;
        put16(buf + 4, (uint32_t)(thl + plen));
        buf[6] = 6;
        buf[7] = 64;
        buf[23] = to_server ? 1 : 2;
        buf[39] = to_server ? 2 : 1;
    } else {
        buf[0] = 0x45;
        put16(buf + 2, (uint32_t)(ip + thl + plen));
        buf[8] = 64;
        buf[9] = 6;
        buf[12] = buf[16] = 127;
        buf[15] = to_server ? 1 : 2;
        buf[19] = to_server ? 2 : 1;
    }
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = flags;
    put16(t + 14, win);
    if (synopts)
        memcpy(t + 20, opts, sizeof(opts));
    memcpy(t + thl, pl, plen);
    return ip + thl + plen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[65536 + 128];
    struct engine_config cfg;
    struct engine *e;
    struct flow *f;
    uint64_t ts = 1000000000;
    uint32_t next[4][2], n, count = 0;
    int synth, dlt;
    size_t i;

    if (size < 2)
        return 0;
    synth = data[0] & 0x80;
    dlt = raw_dlts[data[0] % (sizeof(raw_dlts) / sizeof(raw_dlts[0]))];
    memset(&cfg, 0, sizeof(cfg));
    cfg.max_flows = 1 + (data[1] & 15);
    cfg.seglog_cap = data[1] >> 4;
    cfg.on_event = on_event;
    data += 2;
    size -= 2;
    e = engine_new(&cfg);
    if (e == NULL)
        return 0;
    for (i = 0; i < 4; i++) {
        next[i][0] = 1000u + 0x10000000u * (uint32_t)i;
        next[i][1] = 0xfffff000u - 0x10000000u * (uint32_t)i;
    }
    while (size > 0) {
        if (!synth) {
            if (size < 3)
                break;
            n = get(data, 2);
            ts += data[2] * 1000000ull;
            data += 3;
            size -= 3;
            if (n > size)
                n = (uint32_t)size;
            memcpy(frame, data, n); /* exact length: reads past it are caught */
            engine_packet(e, dlt, frame, n, n, ts);
        } else {
            int d, c, fixed;
            uint32_t seq, ack;
            size_t len;

            if (size < 11)
                break;
            d = data[0] & 1;
            c = (data[0] >> 1) & 3;
            fixed = data[0] & 0x20;
            seq = next[c][d] + (fixed ? 0 : (uint32_t)(int16_t)get(data + 2, 2));
            ack = next[c][!d] + (fixed ? 0 : (uint32_t)(int16_t)get(data + 4, 2));
            ts += data[8] * 100000ull;
            len = get(data + 9, 2);
            if (len > size - 11)
                len = size - 11;
            if (len > 65000)
                len = 65000;
            n = (uint32_t)build(frame, data[0] & 8, !d, (uint16_t)(40000 + c), data[1], seq, ack,
                                (uint16_t)get(data + 6, 2), data[0] & 16, data + 11, len);
            engine_packet(e, DECODE_LINKTYPE_RAW, frame, n, n, ts);
            if (seq + (uint32_t)len + ((data[1] & 3) ? 1 : 0) - next[c][d] < 0x80000000u)
                next[c][d] = seq + (uint32_t)len + ((data[1] & 3) ? 1 : 0);
            data += 11 + len;
            size -= 11 + len;
            continue;
        }
        data += n;
        size -= n;
    }
    for (f = flow_table_next(engine_flows(e), NULL); f != NULL;
         f = flow_table_next(engine_flows(e), f)) {
        if (++count > cfg.max_flows || f->history_len >= sizeof(f->history) ||
            strlen(f->history) != f->history_len)
            abort();
        if (f->http != NULL)
            for (i = 0; i < sniff_count(f->http); i++)
                check_txn(sniff_get(f->http, i));
        if (getenv("FUZZ_VERBOSE") != NULL) /* to see what a seed exercises */
            fprintf(stderr, "flow %s %s txns %zu\n", f->history,
                    flow_tcp_state_name(f->d[FLOW_C2S].state), f->http ? sniff_count(f->http) : 0);
    }
    if (flow_table_count(engine_flows(e)) != count)
        abort();
    engine_free(e);
    return 0;
}
