/*
 * Tests for monitor/view_status.c and the status runs of view_conn.c: every
 * request's status shows on its waterfall row, compressed when the
 * requests do not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/view.h"

#define T0 1700000000000000000ULL
#define MS 1000000ULL

static struct view_conn conn;

/* A keep-alive connection whose requests (uri[i], status[i]) were all answered. */
static void keepalive(int n, const char *const *uri, const int *status)
{
    memset(&conn, 0, sizeof(conn));
    conn.family = 4;
    conn.caddr[0] = 127;
    conn.caddr[3] = 1;
    conn.saddr[0] = 127;
    conn.saddr[3] = 1;
    conn.cport = 40000;
    conn.sport = 8080;
    conn.cstate = conn.sstate = VIEW_ST_ESTABLISHED;
    conn.rtt_ns = -1;
    conn.first_ns = conn.last_ns = T0;
    for (int i = 0; i < n; i++) {
        struct view_req *r = view_conn_add_req(&conn, "GET", uri[i], T0 + (uint64_t)i * MS);
        if (r) {
            r->status = status[i];
            r->resp_ns = T0 + (uint64_t)i * MS + MS / 2;
        }
        view_conn_add_status(&conn, status[i]);
    }
}

/* The connection's row at w columns (ASCII glyphs, or UTF-8 ones). */
static const char *row(int w, int utf8)
{
    static char line[1024];
    static struct view_screen scr;
    struct view_state vs;
    struct view_stats st = { .iface = "x", .filter = "", .now_ns = T0 + 20 * MS, .origin_ns = T0 };
    const struct view_conn *p = &conn;

    view_state_init(&vs, utf8 ? &view_glyphs_utf8 : &view_glyphs_ascii);
    assert_int_equal(view_screen_resize(&scr, w, 24), 0);
    view_render(&vs, &p, 1, &st, NULL, 0, &scr);
    view_screen_line(&scr, 2, line, sizeof(line));
    view_state_free(&vs);
    view_screen_free(&scr);
    return line;
}

#define HAS(w, utf8, text)                                                                         \
    do {                                                                                           \
        const char *l_ = row(w, utf8);                                                             \
        if (strstr(l_, text) == NULL)                                                              \
            fail_msg("%d columns: '%s' lacks '%s'", w, l_, text);                                  \
    } while (0)

static void test_runs(void **state)
{
    static const int st[] = { 200, 200, 404, 200, 304, 304, 304 };
    static const char *const u[] = { "/", "/", "/", "/", "/", "/", "/" };

    (void)state;
    keepalive(7, u, st);
    assert_int_equal(conn.nruns, 4);
    assert_int_equal(conn.run[0].status, 200);
    assert_int_equal(conn.run[0].count, 2);
    assert_int_equal(conn.run[1].status, 404);
    assert_int_equal(conn.run[3].status, 304);
    assert_int_equal(conn.run[3].count, 3);
    /* Requests beyond the kept ones still leave their status. */
    assert_int_equal(conn.nreq, VIEW_REQ_MAX);
    assert_int_equal(conn.nreq_total, 7);
}

static void test_runs_full(void **state)
{
    int total = 0;

    (void)state;
    memset(&conn, 0, sizeof(conn));
    /* Alternating answers fill the runs; then the oldest runs of one status join. */
    for (int i = 0; i < 20; i++)
        view_conn_add_status(&conn, i % 2 ? 304 : 200);
    assert_int_equal(conn.nruns, VIEW_RUNS_MAX);
    for (int i = 0; i < conn.nruns; i++)
        total += conn.run[i].count;
    assert_int_equal(total, 20); /* every answer counted */
    assert_int_equal(conn.run[VIEW_RUNS_MAX - 1].status, 304);
    assert_int_equal(conn.run[VIEW_RUNS_MAX - 1].count, 1);
    for (int i = 0; i + 1 < conn.nruns; i++)
        assert_true(conn.run[i].status != conn.run[i + 1].status);
    /* A new status still gets its own run. */
    view_conn_add_status(&conn, 404);
    assert_int_equal(conn.run[conn.nruns - 1].status, 404);
    /* Eight different statuses, then a ninth: it takes the newest 2xx run's place. */
    memset(&conn, 0, sizeof(conn));
    for (int i = 0; i < VIEW_RUNS_MAX; i++)
        view_conn_add_status(&conn, i == 2 ? 204 : 300 + i);
    view_conn_add_status(&conn, 500);
    assert_int_equal(conn.run[2].status, 500);
    /* Without any 2xx run, the last one's. */
    memset(&conn, 0, sizeof(conn));
    for (int i = 0; i < VIEW_RUNS_MAX; i++)
        view_conn_add_status(&conn, 300 + i);
    view_conn_add_status(&conn, 500);
    assert_int_equal(conn.run[VIEW_RUNS_MAX - 1].status, 500);
    /* A run counts to its limit, then a new run goes on. */
    memset(&conn, 0, sizeof(conn));
    for (int i = 0; i < 70000; i++)
        view_conn_add_status(&conn, 200);
    assert_int_equal(conn.nruns, 2);
    assert_int_equal(conn.run[0].count, UINT16_MAX);
}

/* The case: at 132 columns the 404 of 200, 200, 404 is on the row. */
static void test_404_at_132(void **state)
{
    static const int st[] = { 200, 200, 404 };
    static const char *const u[] = { "/index.html", "/index.html", "/missing.html" };

    (void)state;
    keepalive(3, u, st);
    HAS(132, 1, "GET /index.html \xe2\x86\x92 200");
    HAS(132, 1, "404");
    HAS(132, 0, "404");
    /* The column is at most 60 wide: two in full, then the third's status. */
    HAS(250, 0, "GET /index.html -> 200, /index.html -> 200 +1: 404");
    /* 80 columns: the first request, then the others' statuses. */
    HAS(80, 0, "+2: 200 404");
}

static void test_compression_levels(void **state)
{
    static const int st[] = { 200, 304, 200, 304, 200, 304, 200, 304, 200, 404, 200, 200 };
    static const char *const u[] = { "/a", "/b", "/a", "/b", "/a", "/b",
                                     "/a", "/b", "/a", "/c", "/a", "/a" };

    (void)state;
    keepalive(12, u, st);
    /* In order with counts where there is room... */
    static const int few[] = { 200, 304, 304, 404, 200 };
    keepalive(5, u, few);
    HAS(200, 0, "GET /a -> 200, /b -> 304, /a -> 304, /b -> 404, /a -> 200");
    HAS(140, 0, "GET /a -> 200, /b -> 304 +3: 304 404 200");
    HAS(100, 0, "/a -> 200 +4: 404 304 200");
    keepalive(12, u, st);
    /* ...else each status once, most telling first, with counts... */
    HAS(100, 0, "404 304x4 200x");
    /* ...else without counts; the least telling go first. */
    HAS(80, 0, ": 404 304");
    HAS(80, 1, ": 404 304");
    /* A waiting request shows as "..". */
    view_conn_add_req(&conn, "GET", "/slow", T0 + 15 * MS);
    HAS(100, 0, "..");
    assert_non_null(strstr(row(100, 0), "404"));
}

static void test_tail_widths(void **state)
{
    static const int st[] = { 200, 404, -1 };
    static const char *const u[] = { "/", "/", "/" };

    (void)state;
    keepalive(3, u, st);
    /* A lost answer is "?", and counts as an error. */
    HAS(80, 0, "?");
    /* Rows built by hand without runs still count what does not fit. */
    memset(conn.run, 0, sizeof(conn.run));
    conn.nruns = 0;
    for (int i = 0; i < 30; i++)
        view_conn_add_req(&conn, "GET", "/", T0);
    HAS(80, 0, "+");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs),        cmocka_unit_test(test_runs_full),
        cmocka_unit_test(test_404_at_132),  cmocka_unit_test(test_compression_levels),
        cmocka_unit_test(test_tail_widths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
