/* Tests for monitor/engine.c: frames in, events, counters and the records' lifetime out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"
#include "tests/unit/lib_exchange.h"

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

static void test_events_and_counters(void **state)
{
    (void)state;
    struct rec r = { "" };
    struct engine_config cfg = {
        .max_flows = 8, .seglog_cap = 64, .on_event = on_event, .event_ctx = &r
    };
    struct engine *e = engine_new(&cfg);
    lib_exchange_run(e);
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
    lib_exchange_run(e);
    /* Retirement runs every 256 segments: push enough unrelated traffic. */
    uint8_t b[64];
    for (uint32_t i = 0; i < 300; i++) {
        size_t n = lib_exchange_frame(b, 0, FLOW_TH_SYN, i, 0, NULL);
        b[20] = 0x10; /* another client port: 4096+ */
        b[21] = (uint8_t)i;
        engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n,
                      1009000000ULL + i * 1000ULL);
    }
    assert_int_equal(evicted, 1);
    /* A late duplicate of the last ACK still finds the retired record. */
    uint64_t created = flow_table_created(engine_flows(e));
    size_t n = lib_exchange_frame(b, 0, FLOW_TH_ACK, 100 + 1 + 37 + 1, 9000 + 1 + 43 + 1, NULL);
    engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n, 1009500000ULL);
    assert_int_equal(flow_table_created(engine_flows(e)), created);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    assert_true(f->retired);
    assert_int_equal(f->d[FLOW_C2S].pkts, 6);
    assert_int_equal(flow_table_evicted(engine_flows(e)), 0);
    /* Long after, a new connection takes the retired record's slot. */
    n = lib_exchange_frame(b, 0, FLOW_TH_SYN, 1, 0, NULL);
    b[20] = 0x30;
    engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n, 2000000000ULL);
    assert_int_equal(flow_table_evicted(engine_flows(e)), 1);
    engine_free(e);
}

/* SACK blocks reach the segment log relative to the acknowledged side's ISN, three at most. */
static void test_seglog_sack(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 4, .seglog_cap = 16 };
    struct engine *e = engine_new(&cfg);
    const uint32_t C = 0xfffffff0u, S = 5000; /* the client's numbers wrap */
    struct decode_seg d = lib_exchange_seg(0, FLOW_TH_SYN, C, 0, 1);

    engine_segment(e, &d);
    d = lib_exchange_seg(1, FLOW_TH_SYN | FLOW_TH_ACK, S, C + 1, 2);
    engine_segment(e, &d);
    d = lib_exchange_seg(0, FLOW_TH_ACK, C + 1, S + 1, 3);
    d.opts.present = DECODE_OPT_SACK;
    d.opts.nsack = 4;
    for (uint32_t i = 0; i < 4; i++) {
        d.opts.sack[i][0] = S + 1 + 1000 * (i + 1);
        d.opts.sack[i][1] = S + 1 + 1000 * (i + 1) + 500;
    }
    engine_segment(e, &d);
    /* A server segment: its blocks acknowledge the client's wrapped numbers. */
    d = lib_exchange_seg(1, FLOW_TH_ACK, S + 1, C + 1, 4);
    d.opts.present = DECODE_OPT_SACK;
    d.opts.nsack = 1;
    d.opts.sack[0][0] = C + 101;
    d.opts.sack[0][1] = C + 201;
    engine_segment(e, &d);
    /* Without the ACK flag the blocks mean nothing. */
    d = lib_exchange_seg(1, FLOW_TH_RST, S + 1, 0, 5);
    d.opts.present = DECODE_OPT_SACK;
    d.opts.nsack = 1;
    engine_segment(e, &d);

    struct flow *f = flow_table_next(engine_flows(e), NULL);
    assert_int_equal(flow_seglog_count(f), 5);
    assert_int_equal(flow_seglog_get(f, 0)->nsack, 0);
    const struct flow_seg *a = flow_seglog_get(f, 2);
    assert_int_equal(a->nsack, FLOW_SEG_SACK_MAX);
    for (uint32_t i = 0; i < FLOW_SEG_SACK_MAX; i++) {
        assert_int_equal(a->sack[i][0], 1 + 1000 * (i + 1));
        assert_int_equal(a->sack[i][1], 1 + 1000 * (i + 1) + 500);
    }
    a = flow_seglog_get(f, 3);
    assert_int_equal(a->nsack, 1);
    assert_int_equal(a->sack[0][0], 101);
    assert_int_equal(a->sack[0][1], 201);
    assert_int_equal(flow_seglog_get(f, 4)->nsack, 0);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_and_counters),
        cmocka_unit_test(test_retire_keeps_record),
        cmocka_unit_test(test_seglog_sack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
