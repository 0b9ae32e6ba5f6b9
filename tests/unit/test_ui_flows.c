/* Tests for monitor/ui_flows.c: flows and their segment logs as the waterfall's rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/sniff.h"
#include "monitor/ui_flows.h"

#define TEST_UI_FLOWS_MS 1000000ULL
#define TEST_UI_FLOWS_T0 1700000000000000000ULL

static const uint8_t test_ui_flows_cli[4] = { 127, 0, 0, 1 },
                     test_ui_flows_srv[4] = { 127, 0, 0, 2 };

static struct flow *test_ui_flows_new_flow(struct flow_table *t, uint16_t cport, uint64_t ts)
{
    enum flow_dir_id dir;
    struct flow *f = flow_table_lookup(t, 4, test_ui_flows_cli, test_ui_flows_srv, cport, 8080,
                                       FLOW_TH_SYN, 1000, ts, &dir);

    assert_non_null(f);
    assert_int_equal(dir, FLOW_C2S);
    return f;
}

/* Log a segment the way the engine would, updating the flow's counters and states. */
static void test_ui_flows_seg(struct flow *f, enum flow_dir_id dir, uint64_t ts, uint8_t flags,
                              uint32_t len, uint16_t marks, enum flow_tcp_state cs,
                              enum flow_tcp_state ss)
{
    struct flow_seg e = { 0 };

    e.ts_ns = ts;
    e.dir = (uint8_t)dir;
    e.flags = flags;
    e.len = len;
    e.marks = marks;
    e.cstate = (uint8_t)cs;
    e.sstate = (uint8_t)ss;
    flow_seglog_append(f, &e);
    f->d[dir].pkts++;
    f->d[dir].bytes += len;
    f->d[FLOW_C2S].state = cs;
    f->d[FLOW_S2C].state = ss;
    f->last_ts_ns = ts;
    if (flags & FLOW_TH_FIN)
        f->d[dir].fin_seen = 1;
    if (flags & FLOW_TH_RST) {
        f->d[dir].rst_seen = 1;
        if (f->reset_by == FLOW_BY_NONE)
            f->reset_by = (int8_t)dir;
    }
    if ((f->d[0].fin_seen && f->d[1].fin_seen) || (flags & FLOW_TH_RST))
        f->closed = 1;
}

static void test_ui_flows_handshake(struct flow *f, uint64_t t)
{
    test_ui_flows_seg(f, FLOW_C2S, t, FLOW_TH_SYN, 0, 0, FLOW_TCPS_SYN_SENT,
                      FLOW_TCPS_SYN_RECEIVED);
    test_ui_flows_seg(f, FLOW_S2C, t + TEST_UI_FLOWS_MS, FLOW_TH_SYN | FLOW_TH_ACK, 0, 0,
                      FLOW_TCPS_SYN_SENT, FLOW_TCPS_SYN_RECEIVED);
    test_ui_flows_seg(f, FLOW_C2S, t + 2 * TEST_UI_FLOWS_MS, FLOW_TH_ACK, 0,
                      FLOW_SEG_HANDSHAKE_DONE, FLOW_TCPS_ESTABLISHED, FLOW_TCPS_ESTABLISHED);
    f->syn_ts_ns = t;
    f->ack_ts_ns = t + 2 * TEST_UI_FLOWS_MS;
    f->rtt_ns = (int64_t)(2 * TEST_UI_FLOWS_MS);
    f->handshake_done = 1;
}

static void test_ui_flows_fin_close(struct flow *f, uint64_t t)
{
    test_ui_flows_seg(f, FLOW_S2C, t, FLOW_TH_FIN | FLOW_TH_ACK, 0, 0, FLOW_TCPS_CLOSE_WAIT,
                      FLOW_TCPS_FIN_WAIT_1);
    test_ui_flows_seg(f, FLOW_C2S, t + TEST_UI_FLOWS_MS, FLOW_TH_FIN | FLOW_TH_ACK, 0, 0,
                      FLOW_TCPS_LAST_ACK, FLOW_TCPS_TIME_WAIT);
    test_ui_flows_seg(f, FLOW_S2C, t + 2 * TEST_UI_FLOWS_MS, FLOW_TH_ACK, 0, 0, FLOW_TCPS_CLOSED,
                      FLOW_TCPS_TIME_WAIT);
}

static int32_t test_ui_flows_pid_calls;
static int test_ui_flows_late_accept; /* the worker has taken port 5003's connection */

static int32_t test_ui_flows_fake_pid(void *ctx, int family, const uint8_t *addr, uint16_t port,
                                      uint64_t when_ns)
{
    (void)ctx;
    (void)when_ns;
    test_ui_flows_pid_calls++;
    assert_int_equal(family, 4);
    assert_memory_equal(addr, test_ui_flows_cli, 4);
    if (port == 5003)
        return test_ui_flows_late_accept ? 4243 : 0;
    return port == 5001 ? 4242 : 0;
}

static void test_ui_flows_rows_from_flows(void **state)
{
    struct flow_table *t = flow_table_new(16, 64);
    struct ui_flows *u = ui_flows_new(test_ui_flows_fake_pid, NULL);
    const struct view_conn *const *cs;
    struct flow *a, *b;
    size_t n;

    (void)state;
    a = test_ui_flows_new_flow(t, 5001, TEST_UI_FLOWS_T0);
    test_ui_flows_handshake(a, TEST_UI_FLOWS_T0);
    test_ui_flows_seg(a, FLOW_C2S, TEST_UI_FLOWS_T0 + 3 * TEST_UI_FLOWS_MS,
                      FLOW_TH_PSH | FLOW_TH_ACK, 300, 0, FLOW_TCPS_ESTABLISHED,
                      FLOW_TCPS_ESTABLISHED);
    test_ui_flows_seg(a, FLOW_S2C, TEST_UI_FLOWS_T0 + 5 * TEST_UI_FLOWS_MS, FLOW_TH_ACK, 60000, 0,
                      FLOW_TCPS_ESTABLISHED, FLOW_TCPS_ESTABLISHED);
    test_ui_flows_seg(a, FLOW_S2C, TEST_UI_FLOWS_T0 + 5 * TEST_UI_FLOWS_MS + 100000, FLOW_TH_ACK,
                      60000, FLOW_SEG_RETRANS, FLOW_TCPS_ESTABLISHED, FLOW_TCPS_ESTABLISHED);
    test_ui_flows_seg(a, FLOW_C2S, TEST_UI_FLOWS_T0 + 9 * TEST_UI_FLOWS_MS, FLOW_TH_ACK, 0,
                      FLOW_SEG_WIN_UPDATE, FLOW_TCPS_ESTABLISHED, FLOW_TCPS_ESTABLISHED);
    b = test_ui_flows_new_flow(t, 5002, TEST_UI_FLOWS_T0 + TEST_UI_FLOWS_MS);
    test_ui_flows_handshake(b, TEST_UI_FLOWS_T0 + TEST_UI_FLOWS_MS);

    assert_int_equal(ui_flows_sync(u, t), 2);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(n, 2);
    assert_int_equal(cs[0]->cport, 5001);
    assert_int_equal(cs[1]->cport, 5002);
    assert_int_equal(cs[0]->pid, 4242);
    assert_int_equal(cs[1]->pid, 0);
    assert_int_equal(cs[0]->cstate, VIEW_ST_ESTABLISHED);
    assert_int_equal(cs[0]->bytes_c2s, 300);
    assert_int_equal(cs[0]->bytes_s2c, 120000);
    assert_int_equal(cs[0]->pkts_c2s, 4);
    assert_int_equal(cs[0]->pkts_s2c, 3);
    assert_int_equal(cs[0]->rtt_ns, 2 * TEST_UI_FLOWS_MS);
    assert_int_equal(cs[0]->syn_ns, TEST_UI_FLOWS_T0);
    assert_int_equal(cs[0]->est_ns, TEST_UI_FLOWS_T0 + 2 * TEST_UI_FLOWS_MS);
    assert_int_equal(cs[0]->end, VIEW_END_OPEN);
    /* Payload at 3 ms, then at 5 and 5.1 ms (merged): two spans. */
    assert_int_equal(cs[0]->nspan, 2);
    assert_int_equal(cs[0]->span[1].start_ns, TEST_UI_FLOWS_T0 + 5 * TEST_UI_FLOWS_MS);
    assert_int_equal(cs[0]->span[1].end_ns, TEST_UI_FLOWS_T0 + 5 * TEST_UI_FLOWS_MS + 100000);
    assert_int_equal(cs[0]->nmark, 2);
    assert_int_equal(cs[0]->mark[0].kind, VIEW_MARK_RETRANS);
    assert_int_equal(cs[0]->mark[1].kind, VIEW_MARK_WINUPD);

    /* Later: a FIN close on a, a reset on b. Only the new log entries are folded in. */
    test_ui_flows_fin_close(a, TEST_UI_FLOWS_T0 + 20 * TEST_UI_FLOWS_MS);
    test_ui_flows_seg(b, FLOW_C2S, TEST_UI_FLOWS_T0 + 30 * TEST_UI_FLOWS_MS,
                      FLOW_TH_RST | FLOW_TH_ACK, 0, 0, FLOW_TCPS_CLOSED, FLOW_TCPS_CLOSED);
    ui_flows_sync(u, t);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(cs[0]->nspan, 2);
    assert_int_equal(cs[0]->nmark, 2);
    assert_int_equal(cs[0]->fin_ns, TEST_UI_FLOWS_T0 + 20 * TEST_UI_FLOWS_MS);
    assert_int_equal(cs[0]->end, VIEW_END_FIN);
    assert_int_equal(cs[0]->end_ns,
                     TEST_UI_FLOWS_T0 + 22 * TEST_UI_FLOWS_MS); /* the ACK of the second FIN */
    assert_int_equal(cs[0]->cstate, VIEW_ST_CLOSED);
    assert_int_equal(cs[0]->sstate, VIEW_ST_TIME_WAIT);
    assert_int_equal(cs[1]->end, VIEW_END_RST);
    assert_int_equal(cs[1]->end_ns, TEST_UI_FLOWS_T0 + 30 * TEST_UI_FLOWS_MS);
    assert_int_equal(cs[1]->reset_by, 'c');
    /* The incremental records equal records built from scratch (the pid aside: a lookup). */
    for (size_t i = 0; i < n; i++) {
        struct view_conn ref;
        ui_flows_conn_from_flow(&ref, i ? b : a);
        ref.pid = cs[i]->pid;
        assert_memory_equal(&ref, cs[i], sizeof(ref));
    }
    /* The lookup of an unknown client is retried a bounded number of times. */
    test_ui_flows_pid_calls = 0;
    for (int i = 0; i < 50; i++)
        ui_flows_sync(u, t);
    assert_true(test_ui_flows_pid_calls < 10);
    assert_ptr_equal(ui_flows_flow(u, a->id), a);
    assert_ptr_equal(ui_flows_flow(u, b->id), b);
    assert_null(ui_flows_flow(u, 999));

    ui_flows_free(u);
    flow_table_free(t);
}

/*
 * A connection opened ahead (a browser's preconnect) reaches a worker only
 * with its first request, seconds after the handshake: the lookup given up
 * on the idle connection starts again when the client sends payload.
 */
static void test_ui_flows_pid_after_late_request(void **state)
{
    struct flow_table *t = flow_table_new(16, 64);
    struct ui_flows *u = ui_flows_new(test_ui_flows_fake_pid, NULL);
    const struct view_conn *const *cs;
    struct flow *f;
    size_t n;

    (void)state;
    test_ui_flows_late_accept = 0;
    f = test_ui_flows_new_flow(t, 5003, TEST_UI_FLOWS_T0);
    test_ui_flows_handshake(f, TEST_UI_FLOWS_T0);
    for (int i = 0; i < 50; i++)
        ui_flows_sync(u, t);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(cs[0]->pid, 0);
    test_ui_flows_late_accept = 1;
    ui_flows_sync(u, t);
    assert_int_equal(ui_flows_conns(u, &n)[0]->pid, 0); /* no new payload: still given up */
    test_ui_flows_seg(f, FLOW_C2S, TEST_UI_FLOWS_T0 + 3000 * TEST_UI_FLOWS_MS,
                      FLOW_TH_PSH | FLOW_TH_ACK, 300, 0, FLOW_TCPS_ESTABLISHED,
                      FLOW_TCPS_ESTABLISHED);
    ui_flows_sync(u, t);
    assert_int_equal(ui_flows_conns(u, &n)[0]->pid, 4243);

    ui_flows_free(u);
    flow_table_free(t);
}

/* Many new flows at once: the scoreboard is asked a bounded number of times per frame. */
static void test_ui_flows_pid_lookup_budget(void **state)
{
    struct flow_table *t = flow_table_new(2100, 16);
    struct ui_flows *u = ui_flows_new(test_ui_flows_fake_pid, NULL);

    (void)state;
    for (int i = 0; i < 2000; i++)
        test_ui_flows_handshake(test_ui_flows_new_flow(t, (uint16_t)(9000 + i), TEST_UI_FLOWS_T0),
                                TEST_UI_FLOWS_T0);
    test_ui_flows_pid_calls = 0;
    ui_flows_sync(u, t);
    assert_int_equal(test_ui_flows_pid_calls, 1024);
    ui_flows_sync(u, t);
    assert_int_equal(test_ui_flows_pid_calls, 2048);
    ui_flows_free(u);
    flow_table_free(t);
}

static struct ui_flows *test_ui_flows_evict_u;

static void test_ui_flows_on_evict(void *ctx, struct flow *f)
{
    (void)ctx;
    ui_flows_forget(test_ui_flows_evict_u, f);
}

static void test_ui_flows_eviction(void **state)
{
    struct flow_table *t = flow_table_new(4, 16);
    struct ui_flows *u = ui_flows_new(NULL, NULL);
    const struct view_conn *const *cs;
    size_t n;

    (void)state;
    test_ui_flows_evict_u = u;
    flow_table_set_evict_cb(t, test_ui_flows_on_evict, NULL);
    for (int i = 0; i < 4; i++)
        test_ui_flows_handshake(
            test_ui_flows_new_flow(t, (uint16_t)(6000 + i),
                                   TEST_UI_FLOWS_T0 + (uint64_t)i * TEST_UI_FLOWS_MS),
            TEST_UI_FLOWS_T0 + (uint64_t)i * TEST_UI_FLOWS_MS);
    assert_int_equal(ui_flows_sync(u, t), 4);
    /* Two more flows evict the two oldest; their rows go with them. */
    for (int i = 4; i < 6; i++)
        test_ui_flows_handshake(
            test_ui_flows_new_flow(t, (uint16_t)(6000 + i),
                                   TEST_UI_FLOWS_T0 + (uint64_t)i * TEST_UI_FLOWS_MS),
            TEST_UI_FLOWS_T0 + (uint64_t)i * TEST_UI_FLOWS_MS);
    assert_int_equal(ui_flows_sync(u, t), 4);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(cs[0]->cport, 6002);
    assert_int_equal(cs[3]->cport, 6005);
    assert_int_equal(cs[3]->bytes_c2s, 0);
    assert_null(ui_flows_flow(u, 0));
    ui_flows_free(u);
    flow_table_free(t);
}

static void test_ui_flows_feed(struct sniff *s, enum flow_dir_id d, uint32_t *seq, const char *text,
                               uint64_t ts)
{
    sniff_segment(s, d, *seq, (const uint8_t *)text, strlen(text), ts, NULL);
    *seq += (uint32_t)strlen(text);
}

static void test_ui_flows_http_requests(void **state)
{
    struct flow_table *t = flow_table_new(4, 64);
    struct ui_flows *u = ui_flows_new(NULL, NULL);
    const struct view_conn *const *cs;
    struct flow *f;
    uint32_t cseq = 1, sseq = 1;
    size_t n;

    (void)state;
    f = test_ui_flows_new_flow(t, 7000, TEST_UI_FLOWS_T0);
    test_ui_flows_handshake(f, TEST_UI_FLOWS_T0);
    f->http = sniff_new();
    test_ui_flows_feed(f->http, FLOW_C2S, &cseq, "GET /cn/Lab2.html HTTP/1.1\r\nHost: x\r\n\r\n",
                       TEST_UI_FLOWS_T0 + 3 * TEST_UI_FLOWS_MS);
    test_ui_flows_seg(f, FLOW_C2S, TEST_UI_FLOWS_T0 + 3 * TEST_UI_FLOWS_MS,
                      FLOW_TH_PSH | FLOW_TH_ACK, 40, 0, FLOW_TCPS_ESTABLISHED,
                      FLOW_TCPS_ESTABLISHED);
    ui_flows_sync(u, t);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(cs[0]->nreq, 1);
    assert_string_equal(cs[0]->req[0].uri, "/cn/Lab2.html");
    assert_int_equal(cs[0]->req[0].status, 0);
    test_ui_flows_feed(f->http, FLOW_S2C, &sseq, "HTTP/1.1 304 Not Modified\r\n\r\n",
                       TEST_UI_FLOWS_T0 + 4 * TEST_UI_FLOWS_MS);
    test_ui_flows_seg(f, FLOW_S2C, TEST_UI_FLOWS_T0 + 4 * TEST_UI_FLOWS_MS,
                      FLOW_TH_PSH | FLOW_TH_ACK, 30, 0, FLOW_TCPS_ESTABLISHED,
                      FLOW_TCPS_ESTABLISHED);
    test_ui_flows_feed(f->http, FLOW_C2S, &cseq, "GET /a.mp3 HTTP/1.1\r\nRange: bytes=0-\r\n\r\n",
                       TEST_UI_FLOWS_T0 + 5 * TEST_UI_FLOWS_MS);
    test_ui_flows_seg(f, FLOW_C2S, TEST_UI_FLOWS_T0 + 5 * TEST_UI_FLOWS_MS,
                      FLOW_TH_PSH | FLOW_TH_ACK, 40, 0, FLOW_TCPS_ESTABLISHED,
                      FLOW_TCPS_ESTABLISHED);
    ui_flows_sync(u, t);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(cs[0]->nreq, 2);
    assert_int_equal(cs[0]->nreq_total, 2);
    assert_int_equal(cs[0]->req[0].status, 304);
    assert_int_equal(cs[0]->req[0].resp_ns, TEST_UI_FLOWS_T0 + 4 * TEST_UI_FLOWS_MS);
    assert_string_equal(cs[0]->req[1].uri, "/a.mp3");
    test_ui_flows_feed(
        f->http, FLOW_S2C, &sseq,
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/10\r\nContent-Length: "
        "10\r\n\r\n0123456789",
        TEST_UI_FLOWS_T0 + 6 * TEST_UI_FLOWS_MS);
    test_ui_flows_seg(f, FLOW_S2C, TEST_UI_FLOWS_T0 + 6 * TEST_UI_FLOWS_MS,
                      FLOW_TH_PSH | FLOW_TH_ACK, 80, 0, FLOW_TCPS_ESTABLISHED,
                      FLOW_TCPS_ESTABLISHED);
    ui_flows_sync(u, t);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(cs[0]->req[1].status, 206);
    assert_int_equal(cs[0]->nreq_total, 2);
    /* Each answer also joins the status runs, once, in order. */
    assert_int_equal(cs[0]->nruns, 2);
    assert_int_equal(cs[0]->run[0].status, 304);
    assert_int_equal(cs[0]->run[0].count, 1);
    assert_int_equal(cs[0]->run[1].status, 206);
    ui_flows_sync(u, t);
    assert_int_equal(ui_flows_conns(u, &n)[0]->nruns, 2);
    sniff_free(f->http);
    f->http = NULL;

    /* Opened, served, closed and retired between two frames: the row keeps its request. */
    f = test_ui_flows_new_flow(t, 7001, TEST_UI_FLOWS_T0 + 10 * TEST_UI_FLOWS_MS);
    test_ui_flows_handshake(f, TEST_UI_FLOWS_T0 + 10 * TEST_UI_FLOWS_MS);
    f->http = sniff_new();
    cseq = sseq = 1;
    test_ui_flows_feed(f->http, FLOW_C2S, &cseq, "GET /favicon.ico HTTP/1.1\r\n\r\n",
                       TEST_UI_FLOWS_T0 + 13 * TEST_UI_FLOWS_MS);
    test_ui_flows_feed(f->http, FLOW_S2C, &sseq, "HTTP/1.1 404 Not Found\r\n\r\n",
                       TEST_UI_FLOWS_T0 + 14 * TEST_UI_FLOWS_MS);
    test_ui_flows_fin_close(f, TEST_UI_FLOWS_T0 + 15 * TEST_UI_FLOWS_MS);
    ui_flows_retire(u, f);
    sniff_free(f->http); /* what the engine does after the retire callback */
    f->http = NULL;
    ui_flows_sync(u, t);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(n, 2);
    assert_int_equal(cs[1]->cport, 7001);
    assert_int_equal(cs[1]->nreq, 1);
    assert_int_equal(cs[1]->req[0].status, 404);
    assert_int_equal(cs[1]->end, VIEW_END_FIN);
    ui_flows_free(u);
    flow_table_free(t);
}

/* A long transfer overflows the bounded segment log between two frames: nothing breaks. */
static void test_ui_flows_log_overflow(void **state)
{
    struct flow_table *t = flow_table_new(4, 16);
    struct ui_flows *u = ui_flows_new(NULL, NULL);
    const struct view_conn *const *cs;
    struct flow *f;
    size_t n;

    (void)state;
    f = test_ui_flows_new_flow(t, 8000, TEST_UI_FLOWS_T0);
    test_ui_flows_handshake(f, TEST_UI_FLOWS_T0);
    ui_flows_sync(u, t);
    for (int i = 0; i < 200; i++)
        test_ui_flows_seg(f, FLOW_S2C,
                          TEST_UI_FLOWS_T0 + 3 * TEST_UI_FLOWS_MS + (uint64_t)i * 10000,
                          FLOW_TH_ACK, 1000, 0, FLOW_TCPS_ESTABLISHED, FLOW_TCPS_ESTABLISHED);
    ui_flows_sync(u, t);
    for (int i = 0; i < 5; i++)
        test_ui_flows_seg(f, FLOW_S2C,
                          TEST_UI_FLOWS_T0 + 10 * TEST_UI_FLOWS_MS +
                              (uint64_t)i * 10 * TEST_UI_FLOWS_MS,
                          FLOW_TH_ACK, 1000, 0, FLOW_TCPS_ESTABLISHED, FLOW_TCPS_ESTABLISHED);
    test_ui_flows_fin_close(f, TEST_UI_FLOWS_T0 + 100 * TEST_UI_FLOWS_MS);
    ui_flows_sync(u, t);
    cs = ui_flows_conns(u, &n);
    assert_int_equal(cs[0]->bytes_s2c, 205000);
    assert_true(cs[0]->nspan >= 2 && cs[0]->nspan <= VIEW_SPAN_MAX);
    assert_int_equal(cs[0]->span[cs[0]->nspan - 1].end_ns,
                     TEST_UI_FLOWS_T0 + 50 * TEST_UI_FLOWS_MS);
    assert_int_equal(cs[0]->end, VIEW_END_FIN);
    assert_int_equal(cs[0]->end_ns, TEST_UI_FLOWS_T0 + 102 * TEST_UI_FLOWS_MS);
    ui_flows_free(u);
    flow_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ui_flows_rows_from_flows),
        cmocka_unit_test(test_ui_flows_pid_lookup_budget),
        cmocka_unit_test(test_ui_flows_pid_after_late_request),
        cmocka_unit_test(test_ui_flows_eviction),
        cmocka_unit_test(test_ui_flows_http_requests),
        cmocka_unit_test(test_ui_flows_log_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
