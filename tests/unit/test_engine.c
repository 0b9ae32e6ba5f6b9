/* Tests for monitor/engine.c, ladder.c and output.c: frames in, events,
 * counters, ladder rows, JSON and selectors out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"
#include "monitor/ladder.h"
#include "monitor/output.h"

/* Raw IPv4 + TCP frame (LINKTYPE_RAW) from the client (dir 0) or server. */
static size_t frame(uint8_t *b, int from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                    const char *payload)
{
    size_t plen = payload ? strlen(payload) : 0, tot = 20 + 20 + plen;
    memset(b, 0, 40);
    b[0] = 0x45;
    b[2] = (uint8_t)(tot >> 8);
    b[3] = (uint8_t)tot;
    b[8] = 64;
    b[9] = 6;
    uint8_t c[4] = { 192, 168, 1, 10 }, s[4] = { 192, 168, 1, 1 };
    memcpy(b + 12, from_server ? s : c, 4);
    memcpy(b + 16, from_server ? c : s, 4);
    uint16_t cp = 50000, sp = 8080;
    uint16_t src = from_server ? sp : cp, dst = from_server ? cp : sp;
    uint8_t *t = b + 20;
    t[0] = (uint8_t)(src >> 8);
    t[1] = (uint8_t)src;
    t[2] = (uint8_t)(dst >> 8);
    t[3] = (uint8_t)dst;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = 0xff;
    t[15] = 0xff;
    if (plen)
        memcpy(t + 20, payload, plen);
    return tot;
}

struct rec {
    char names[512];
};

static void on_event(void *ctx, const struct engine_event *ev)
{
    struct rec *r = ctx;
    size_t n = strlen(r->names);
    snprintf(r->names + n, sizeof(r->names) - n, "%s%s", n ? " " : "", engine_event_name(ev->type));
    if (ev->type == ENGINE_EV_RESPONSE) {
        n = strlen(r->names);
        snprintf(r->names + n, sizeof(r->names) - n, "=%d", ev->txn->status);
    }
}

/* A whole HTTP exchange: handshake, GET, 200, client closes. */
static void run_exchange(struct engine *e)
{
    uint8_t b[256];
    const uint32_t C = 100, S = 9000;
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    uint64_t t = 1000000000ULL;
    size_t n;
#define FEED(...)                                                                                  \
    do {                                                                                           \
        n = frame(b, __VA_ARGS__);                                                                 \
        engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n, t);                     \
        t += 1000000;                                                                              \
    } while (0)
    FEED(0, FLOW_TH_SYN, C, 0, NULL);
    FEED(1, FLOW_TH_SYN | FLOW_TH_ACK, S, C + 1, NULL);
    FEED(0, FLOW_TH_ACK, C + 1, S + 1, NULL);
    FEED(0, FLOW_TH_PSH | FLOW_TH_ACK, C + 1, S + 1, req);
    uint32_t c2 = C + 1 + (uint32_t)strlen(req);
    FEED(1, FLOW_TH_PSH | FLOW_TH_ACK, S + 1, c2, resp);
    uint32_t s2 = S + 1 + (uint32_t)strlen(resp);
    FEED(0, FLOW_TH_FIN | FLOW_TH_ACK, c2, s2, NULL);
    FEED(1, FLOW_TH_FIN | FLOW_TH_ACK, s2, c2 + 1, NULL);
    FEED(0, FLOW_TH_ACK, c2 + 1, s2 + 1, NULL);
#undef FEED
    /* Junk: a truncated frame and a UDP datagram. */
    uint8_t junk[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17 };
    engine_packet(e, DECODE_LINKTYPE_RAW, junk, 10, 28, t);
    engine_packet(e, DECODE_LINKTYPE_RAW, junk, 28, 28, t);
}

static void test_events_and_counters(void **state)
{
    (void)state;
    struct rec r = { "" };
    struct engine_config cfg = {
        .max_flows = 8, .seglog_cap = 64, .on_event = on_event, .event_ctx = &r
    };
    struct engine *e = engine_new(&cfg);
    run_exchange(e);
    assert_string_equal(r.names, "opened handshake request response=200 fin fin closed");
    const struct engine_counters *c = engine_get_counters(e);
    assert_int_equal(c->packets, 10);
    assert_int_equal(c->tcp, 8);
    assert_int_equal(c->truncated, 1);
    assert_int_equal(c->non_tcp, 1);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    assert_non_null(f);
    assert_int_equal(f->cport, 50000);
    assert_int_equal(flow_seglog_count(f), 8);
    assert_true(flow_seglog_get(f, 3)->marks & FLOW_SEG_HTTP_REQ);
    assert_true(flow_seglog_get(f, 4)->marks & FLOW_SEG_HTTP_RESP);
    engine_free(e);
}

static void test_ladder_rows(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 8, .seglog_cap = 64 };
    struct engine *e = engine_new(&cfg);
    run_exchange(e);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    size_t n = ladder_count(f);
    assert_int_equal(n, 8);
    struct ladder_row rows[8];
    assert_int_equal(ladder_build(f, rows, 8), 8);
    assert_string_equal(rows[0].flags, "SYN");
    assert_string_equal(rows[1].flags, "SYN,ACK");
    assert_int_equal(rows[1].dir, FLOW_S2C);
    assert_int_equal(rows[2].seq, 1);
    assert_int_equal(rows[2].ack, 1);
    assert_non_null(strstr(rows[2].note, "3-way handshake done, RTT 2.000 ms"));
    assert_non_null(strstr(rows[3].note, "GET /index.html"));
    assert_non_null(strstr(rows[4].note, "200 OK"));
    assert_non_null(strstr(rows[5].note, "FIN from client: client FIN_WAIT_1, server CLOSE_WAIT"));
    assert_non_null(strstr(rows[7].note, "client TIME_WAIT, server CLOSED"));
    char line[256];
    ladder_format_row(f, &rows[0], 100, line, sizeof(line));
    assert_non_null(strstr(line, "SYN seq=0 ack=0 len=0"));
    assert_non_null(strstr(line, "->|"));
    ladder_format_row(f, &rows[1], 100, line, sizeof(line));
    assert_non_null(strstr(line, "|<-"));
    /* Fewer rows than asked for: never writes past max. */
    assert_int_equal(ladder_build(f, rows, 3), 3);
    engine_free(e);
}

static void test_json_and_selectors(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 8 };
    struct engine *e = engine_new(&cfg);
    run_exchange(e);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    output_flow_json(m, f);
    fclose(m);
    assert_non_null(strstr(buf, "\"client\":\"192.168.1.10:50000\""));
    assert_non_null(strstr(buf, "\"state\":\"SF\""));
    /* The server never sent a pure ACK: no 'a' (Zeek records packet kinds). */
    assert_non_null(strstr(buf, "\"history\":\"ShADdFf\""));
    assert_non_null(strstr(buf, "\"closed_by\":\"client\""));
    assert_non_null(strstr(buf, "\"rtt_ms\":2.000000"));
    assert_non_null(strstr(buf, "\"method\":\"GET\",\"uri\":\"/index.html\""));
    assert_non_null(strstr(buf, "\"status\":200"));
    assert_non_null(strstr(buf, "\"content_length\":5"));
    free(buf);

    assert_int_equal(output_selector_match("0", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match("1", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match(":50000", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match(":8080", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match(":8081", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match("192.168.1.10:50000", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match("192.168.1.1:8080", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match("192.168.1.1:50000", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match("[::1]:8080", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match("x:1", f), OUTPUT_MATCH_BAD);
    assert_int_equal(output_selector_match(":99999", f), OUTPUT_MATCH_BAD);
    assert_int_equal(output_selector_match("", f), OUTPUT_MATCH_BAD);
    engine_free(e);
}

static void test_json_string_escaping(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    output_json_string(m, "a\"b\\c\n\x01\xe4\xb8\xad");
    fclose(m);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001\xe4\xb8\xad\"");
    free(buf);
}

/* Numbers at digit-count boundaries, fixed-point stamps, escaped and plain strings. */
static void test_json_numbers_and_strings(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 1024 };
    struct engine *e = engine_new(&cfg);
    run_exchange(e);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    f->d[FLOW_C2S].bytes = UINT64_MAX;
    f->d[FLOW_S2C].bytes = 10000000000000000000ULL;
    f->d[FLOW_C2S].pkts = 99;
    f->d[FLOW_S2C].pkts = 100;
    f->first_ts_ns = 1000000001ULL;
    f->last_ts_ns = 1000000001ULL + 9876543210ULL;
    snprintf(f->history, sizeof(f->history), "Sh\"\\\x01z");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    output_flow_json(m, f);
    fclose(m);
    assert_non_null(strstr(buf, "\"pkts_c2s\":99,\"pkts_s2c\":100,"));
    assert_non_null(strstr(buf, "\"bytes_c2s\":18446744073709551615,"));
    assert_non_null(strstr(buf, "\"bytes_s2c\":10000000000000000000,"));
    assert_non_null(strstr(buf, "\"first_ts\":1.000000001,\"last_ts\":10.876543211,"));
    assert_non_null(strstr(buf, "\"duration\":9.876543210,"));
    assert_non_null(strstr(buf, "\"history\":\"Sh\\\"\\\\\\u0001z\","));
    assert_non_null(
        strstr(buf, "\"uri\":\"/index.html\",\"version\":\"HTTP/1.1\",\"range\":null,"));
    assert_non_null(strstr(buf, "\"reason\":\"OK\","));
    free(buf);
    engine_free(e);
}

static int evicted;

static void count_evict(void *ctx, struct flow *f)
{
    (void)ctx;
    (void)f;
    evicted++;
}

static void test_retire_keeps_record(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 1024,
                                 .retire_closed_ns = 1000000,
                                 .on_retire = count_evict };
    struct engine *e = engine_new(&cfg);
    evicted = 0;
    run_exchange(e);
    /* Retirement runs every 256 segments: push enough unrelated traffic. */
    uint8_t b[64];
    for (uint32_t i = 0; i < 300; i++) {
        size_t n = frame(b, 0, FLOW_TH_SYN, i, 0, NULL);
        b[20] = 0x10; /* another client port: 4096+ */
        b[21] = (uint8_t)i;
        engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n,
                      1009000000ULL + i * 1000ULL);
    }
    assert_int_equal(evicted, 1);
    /* A late duplicate of the last ACK still finds the retired record. */
    uint64_t created = flow_table_created(engine_flows(e));
    size_t n = frame(b, 0, FLOW_TH_ACK, 100 + 1 + 37 + 1, 9000 + 1 + 43 + 1, NULL);
    engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n, 1009500000ULL);
    assert_int_equal(flow_table_created(engine_flows(e)), created);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    assert_true(f->retired);
    assert_int_equal(f->d[FLOW_C2S].pkts, 6);
    assert_int_equal(flow_table_evicted(engine_flows(e)), 0);
    /* Long after, a new connection takes the retired record's slot. */
    n = frame(b, 0, FLOW_TH_SYN, 1, 0, NULL);
    b[20] = 0x30;
    engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n, 2000000000ULL);
    assert_int_equal(flow_table_evicted(engine_flows(e)), 1);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_and_counters),
        cmocka_unit_test(test_ladder_rows),
        cmocka_unit_test(test_json_and_selectors),
        cmocka_unit_test(test_json_string_escaping),
        cmocka_unit_test(test_json_numbers_and_strings),
        cmocka_unit_test(test_retire_keeps_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
