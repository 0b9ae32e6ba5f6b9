/* Tests for monitor/flow.c: lookup both ways, port reuse, eviction order, segment log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "monitor/flow.h"

static const uint8_t ip_c[4] = { 10, 0, 0, 1 };
static const uint8_t ip_s[4] = { 10, 0, 0, 2 };

static void test_both_directions_one_record(void **state)
{
    (void)state;
    struct flow_table *t = flow_table_new(8, 0);
    enum flow_dir_id dir;
    struct flow *f = flow_table_lookup(t, 4, ip_c, ip_s, 40000, 80, FLOW_TH_SYN, 100, 1, &dir);
    assert_non_null(f);
    assert_int_equal(dir, FLOW_C2S);
    assert_int_equal(f->cport, 40000);
    assert_int_equal(f->sport, 80);
    struct flow *g =
        flow_table_lookup(t, 4, ip_s, ip_c, 80, 40000, FLOW_TH_SYN | FLOW_TH_ACK, 500, 2, &dir);
    assert_ptr_equal(f, g);
    assert_int_equal(dir, FLOW_S2C);
    assert_int_equal(flow_table_count(t), 1);
    assert_ptr_equal(flow_table_find(t, 4, ip_s, ip_c, 80, 40000), f);
    assert_null(flow_table_find(t, 4, ip_s, ip_c, 81, 40000));
    flow_table_free(t);
}

static void test_client_heuristics(void **state)
{
    (void)state;
    struct flow_table *t = flow_table_new(8, 0);
    enum flow_dir_id dir;
    /* SYN/ACK first: its receiver is the client. */
    struct flow *f =
        flow_table_lookup(t, 4, ip_s, ip_c, 80, 40000, FLOW_TH_SYN | FLOW_TH_ACK, 1, 1, &dir);
    assert_int_equal(dir, FLOW_S2C);
    assert_int_equal(f->cport, 40000);
    /* Mid-stream data from the server side: lower port is the server. */
    f = flow_table_lookup(t, 4, ip_s, ip_c, 443, 50000, FLOW_TH_ACK, 1, 1, &dir);
    assert_int_equal(dir, FLOW_S2C);
    assert_int_equal(f->sport, 443);
    assert_int_equal(f->client_by_syn, 0);
    flow_table_free(t);
}

static void test_port_reuse_new_isn(void **state)
{
    (void)state;
    struct flow_table *t = flow_table_new(8, 0);
    enum flow_dir_id dir;
    struct flow *f = flow_table_lookup(t, 4, ip_c, ip_s, 40000, 80, FLOW_TH_SYN, 100, 1, &dir);
    f->d[FLOW_C2S].isn = 100;
    f->d[FLOW_C2S].isn_known = 1;
    /* Retransmitted SYN (same ISN): same record. */
    assert_ptr_equal(flow_table_lookup(t, 4, ip_c, ip_s, 40000, 80, FLOW_TH_SYN, 100, 2, &dir), f);
    /* New ISN: a new record with the next stream index. */
    struct flow *g = flow_table_lookup(t, 4, ip_c, ip_s, 40000, 80, FLOW_TH_SYN, 9999, 3, &dir);
    assert_ptr_not_equal(f, g);
    assert_int_equal(g->id, 1);
    assert_int_equal(flow_table_count(t), 2);
    /* Later packets find the new one. */
    assert_ptr_equal(flow_table_lookup(t, 4, ip_s, ip_c, 80, 40000, FLOW_TH_ACK, 0, 4, &dir), g);
    /* Creation order iteration. */
    assert_ptr_equal(flow_table_next(t, NULL), f);
    assert_ptr_equal(flow_table_next(t, f), g);
    assert_null(flow_table_next(t, g));
    flow_table_free(t);
}

static int evicted_port;

static void on_evict(void *ctx, struct flow *f)
{
    (void)ctx;
    evicted_port = f->cport;
}

static void test_eviction_closed_first_then_idle(void **state)
{
    (void)state;
    struct flow_table *t = flow_table_new(3, 0);
    flow_table_set_evict_cb(t, on_evict, NULL);
    enum flow_dir_id dir;
    struct flow *a = flow_table_lookup(t, 4, ip_c, ip_s, 1001, 80, FLOW_TH_SYN, 1, 1, &dir);
    struct flow *b = flow_table_lookup(t, 4, ip_c, ip_s, 1002, 80, FLOW_TH_SYN, 1, 2, &dir);
    struct flow *c = flow_table_lookup(t, 4, ip_c, ip_s, 1003, 80, FLOW_TH_SYN, 1, 3, &dir);
    (void)a;
    /* b closes: it goes first even though a is idle longer. */
    b->closed = 1;
    flow_table_touch(t, b);
    flow_table_touch(t, c);
    flow_table_lookup(t, 4, ip_c, ip_s, 1004, 80, FLOW_TH_SYN, 1, 4, &dir);
    assert_int_equal(evicted_port, 1002);
    /* Now no closed flow: the one idle longest (a) goes. */
    flow_table_lookup(t, 4, ip_c, ip_s, 1005, 80, FLOW_TH_SYN, 1, 5, &dir);
    assert_int_equal(evicted_port, 1001);
    assert_int_equal(flow_table_count(t), 3);
    assert_int_equal(flow_table_evicted(t), 2);
    assert_null(flow_table_find(t, 4, ip_c, ip_s, 1001, 80));
    /* A flood of SYNs never grows the table. */
    for (int p = 2000; p < 3000; p++)
        flow_table_lookup(t, 4, ip_c, ip_s, (uint16_t)p, 80, FLOW_TH_SYN, 1, (uint64_t)p, &dir);
    assert_int_equal(flow_table_count(t), 3);
    assert_int_equal(flow_table_created(t), 1005);
    flow_table_free(t);
}

static void test_seglog_keeps_head_and_tail(void **state)
{
    (void)state;
    struct flow_table *t = flow_table_new(1, 8);
    enum flow_dir_id dir;
    struct flow *f = flow_table_lookup(t, 4, ip_c, ip_s, 1001, 80, FLOW_TH_SYN, 1, 1, &dir);
    for (uint32_t i = 0; i < 20; i++) {
        struct flow_seg e = { .ts_ns = i, .len = i };
        flow_seglog_append(f, &e);
    }
    assert_int_equal(flow_seglog_count(f), 8);
    assert_int_equal(flow_seglog_gap_index(f), 4);
    assert_int_equal(f->log.skipped, 12);
    uint32_t want[8] = { 0, 1, 2, 3, 16, 17, 18, 19 };
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(flow_seglog_get(f, i)->len, want[i]);
    assert_null(flow_seglog_get(f, 8));
    flow_table_free(t);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(flow_tcp_state_name(FLOW_TCPS_TIME_WAIT), "TIME_WAIT");
    assert_string_equal(flow_tcp_state_name(FLOW_TCPS_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_directions_one_record),
        cmocka_unit_test(test_client_heuristics),
        cmocka_unit_test(test_port_reuse_new_isn),
        cmocka_unit_test(test_eviction_closed_first_then_idle),
        cmocka_unit_test(test_seglog_keeps_head_and_tail),
        cmocka_unit_test(test_state_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
