/*
 * Tests for the view model (monitor/view.h, monitor/view*.c): the waterfall,
 * ladder and help pages as text and attributes, the filter language, the
 * keys and the formats.
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

#define TEST_VIEW_MS 1000000ULL
#define TEST_VIEW_T0 1700000000000000000ULL /* an arbitrary capture time */

static struct view_conn test_view_conns[64];
static const struct view_conn *test_view_ptrs[64];
static size_t test_view_nconns;

static struct view_conn *test_view_add_conn(uint16_t cport, uint64_t first_ns)
{
    struct view_conn *c = &test_view_conns[test_view_nconns];

    memset(c, 0, sizeof(*c));
    c->id = test_view_nconns;
    c->family = 4;
    c->caddr[0] = 127;
    c->caddr[3] = 1;
    c->saddr[0] = 127;
    c->saddr[3] = 1;
    c->cport = cport;
    c->sport = 8080;
    c->cstate = c->sstate = VIEW_ST_ESTABLISHED;
    c->rtt_ns = -1;
    c->first_ns = c->last_ns = first_ns;
    test_view_ptrs[test_view_nconns] = c;
    test_view_nconns++;
    return c;
}

/* A full HTTP exchange: handshake, one request, data, FIN close. */
static struct view_conn *test_view_add_http(uint16_t cport, uint64_t t, const char *uri, int status,
                                            enum view_end end)
{
    struct view_conn *c = test_view_add_conn(cport, t);
    struct view_req *r;

    c->syn_ns = t;
    c->est_ns = t + 2 * TEST_VIEW_MS;
    c->rtt_ns = 2 * TEST_VIEW_MS;
    r = view_conn_add_req(c, "GET", uri, t + 3 * TEST_VIEW_MS);
    r->resp_ns = t + 5 * TEST_VIEW_MS;
    r->status = status;
    view_conn_add_data(c, t + 3 * TEST_VIEW_MS, TEST_VIEW_MS);
    for (uint64_t d = 5; d <= 8; d++)
        view_conn_add_data(c, t + d * TEST_VIEW_MS, TEST_VIEW_MS);
    c->bytes_c2s = 420;
    c->bytes_s2c = 7416366;
    c->pkts_c2s = 7;
    c->pkts_s2c = 9;
    c->fin_ns = t + 10 * TEST_VIEW_MS;
    c->end = (uint8_t)end;
    c->end_ns = end != VIEW_END_OPEN ? t + 12 * TEST_VIEW_MS : 0;
    c->last_ns = t + 12 * TEST_VIEW_MS;
    if (end == VIEW_END_FIN) {
        c->cstate = VIEW_ST_TIME_WAIT;
        c->sstate = VIEW_ST_CLOSED;
    } else if (end == VIEW_END_RST) {
        c->cstate = c->sstate = VIEW_ST_CLOSED;
        c->reset_by = 'c';
        c->fin_ns = 0;
    }
    return c;
}

static struct view_screen test_view_scr;
static struct view_state test_view_vs;
static struct view_stats test_view_st;

static int test_view_setup(void **state)
{
    (void)state;
    test_view_nconns = 0;
    memset(&test_view_scr, 0, sizeof(test_view_scr));
    view_state_init(&test_view_vs, &view_glyphs_ascii);
    memset(&test_view_st, 0, sizeof(test_view_st));
    test_view_st.iface = "lo";
    test_view_st.filter = "tcp port 8080";
    test_view_st.live = 1;
    test_view_st.pkts = 1234;
    test_view_st.now_ns = TEST_VIEW_T0 + 20 * TEST_VIEW_MS;
    test_view_st.origin_ns = TEST_VIEW_T0;
    return 0;
}

static int test_view_teardown(void **state)
{
    (void)state;
    view_screen_free(&test_view_scr);
    view_state_free(&test_view_vs);
    return 0;
}

static void test_view_render(int w, int h)
{
    assert_int_equal(view_screen_resize(&test_view_scr, w, h), 0);
    view_render(&test_view_vs, test_view_ptrs, test_view_nconns, &test_view_st, NULL, 0,
                &test_view_scr);
    if (getenv("VIEW_DUMP")) {
        char buf[2048];
        for (int y = 0; y < h; y++) {
            view_screen_line(&test_view_scr, y, buf, sizeof(buf));
            printf("|%s\n", buf);
        }
    }
}

static const char *test_view_line(int y)
{
    static char buf[4096];
    view_screen_line(&test_view_scr, y, buf, sizeof(buf));
    return buf;
}

/* The screen line holding text, or -1. */
static int test_view_find_line(const char *text)
{
    for (int y = 0; y < test_view_scr.h; y++)
        if (strstr(test_view_line(y), text))
            return y;
    return -1;
}

/* Bar cells of row y as text (ASCII glyphs): the bar starts after the last numeric column. */
static const char *test_view_bar_of(int y, int *x0)
{
    static char buf[512];
    const char *titles = test_view_line(1);
    const char *last = strstr(titles, "RTT") ? strstr(titles, "RTT") : strstr(titles, "C>S/S>C");
    int n = 0, start;

    assert_non_null(last);
    start = (int)(last - titles) + (int)strlen(strstr(titles, "RTT") ? "RTT" : "C>S/S>C") + 1;
    for (int x = start; x < test_view_scr.w; x++)
        buf[n++] = (char)test_view_scr.cell[(size_t)y * test_view_scr.w + x].ch;
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    if (x0)
        *x0 = start;
    return buf;
}

static void test_view_row_80x24(void **state)
{
    int y;

    (void)state;
    test_view_vs.show_pid = 1;
    test_view_add_http(54321, TEST_VIEW_T0, "/cn/Lab2.html", 304, VIEW_END_FIN)->pid = 4242;
    test_view_render(80, 24);
    y = test_view_find_line(":54321");
    assert_int_equal(y, 2);
    assert_non_null(strstr(test_view_line(y), "4242"));
    assert_non_null(strstr(test_view_line(y), "TW/CL"));
    /* Short of room: the shared client address moves to the title, GET goes. */
    assert_non_null(strstr(test_view_line(1), " 127.0.0.1 "));
    assert_non_null(strstr(test_view_line(y), " /cn/Lab2.html -> 304"));
    assert_non_null(strstr(test_view_line(y), "420/7.1M"));
    /* The only row is selected and followed. */
    assert_int_equal(test_view_line(y)[0], '>');
    assert_true(test_view_scr.cell[(size_t)y * test_view_scr.w].attr & VIEW_A_SELECTED);
    /* Titles and footer. */
    assert_non_null(strstr(test_view_line(1), "REQUESTS"));
    assert_non_null(strstr(test_view_line(1), "/col"));
    assert_null(strstr(test_view_line(1), "PKTS")); /* no room at 80 columns */
    assert_non_null(strstr(test_view_line(23), "q quit"));
    assert_true((int)strlen(test_view_line(y)) <= 80);
    /* Two client addresses: both shown in full. */
    test_view_add_http(54322, TEST_VIEW_T0 + TEST_VIEW_MS, "/cn/Lab2.html", 200, VIEW_END_OPEN)
        ->caddr[3] = 2;
    test_view_render(80, 24);
    assert_true(test_view_find_line("127.0.0.1:54321") >= 2);
    assert_true(test_view_find_line("127.0.0.2:54322") >= 2);
    assert_non_null(strstr(test_view_line(1), "CLIENT"));
    test_view_render(120, 24);
    assert_non_null(
        strstr(test_view_line(test_view_find_line(":54321")), "GET /cn/Lab2.html -> 304"));
}

static void test_view_header_counts_and_drops(void **state)
{
    (void)state;
    test_view_add_http(1000, TEST_VIEW_T0, "/", 200, VIEW_END_FIN);
    test_view_add_http(1001, TEST_VIEW_T0 + TEST_VIEW_MS, "/", 200, VIEW_END_RST);
    test_view_add_conn(1002, TEST_VIEW_T0 + 2 * TEST_VIEW_MS);
    test_view_st.drops = 7;
    test_view_render(120, 24);
    assert_non_null(strstr(test_view_line(0), "pkts 1234 drops 7"));
    assert_non_null(strstr(test_view_line(0), "3 conns: 1 EST 1 fin 1 rst"));
    assert_non_null(strstr(test_view_line(0), "labd not running"));
    assert_non_null(strstr(test_view_line(0), "lo: tcp port 8080"));
    /* Drops stay visible, in warning colour, on the narrowest screen. */
    test_view_render(40, 10);
    assert_non_null(strstr(test_view_line(0), "drops 7"));
    {
        const char *l = test_view_line(0);
        int x = (int)(strstr(l, "drops 7") - l);
        assert_int_equal(test_view_scr.cell[x].attr, VIEW_A_WARN);
    }
    test_view_st.labd_running = 1;
    test_view_st.labd_pid = 99;
    test_view_st.labd_port = 8080;
    test_view_st.labd_workers = 2;
    test_view_render(120, 24);
    assert_non_null(strstr(test_view_line(0), "labd 99 :8080 x2"));
}

/*
 * At 1 ms per column the bar reads handshake (0-2 ms), request wait (3-4),
 * data (5-8), idle (9), teardown after the FIN (10-11) and the close (12).
 */
static void test_view_bar_phases_fin_vs_rst(void **state)
{
    const char *b;
    int yf, yr, x0;

    (void)state;
    test_view_add_http(2000, TEST_VIEW_T0, "/a", 200, VIEW_END_FIN);
    test_view_add_http(2001, TEST_VIEW_T0, "/b", 200, VIEW_END_RST);
    test_view_vs.zoom = 9; /* 1 ms */
    assert_int_equal(view_ns_per_col(&test_view_vs), TEST_VIEW_MS);
    test_view_vs.paused = 1;
    test_view_vs.axis_end_ns = TEST_VIEW_T0 + 13 * TEST_VIEW_MS - 1;
    test_view_render(100, 24);
    yf = test_view_find_line(":2000");
    yr = test_view_find_line(":2001");
    b = test_view_bar_of(yf, &x0);
    /* Right-aligned at 13 ms: the last 13 columns are the connection's life. */
    assert_string_equal(b + strlen(b) - 13, "===#.####-~~|");
    assert_int_equal(test_view_scr.cell[(size_t)yf * test_view_scr.w + test_view_scr.w - 1].attr &
                         0x7f,
                     VIEW_A_FIN);
    b = test_view_bar_of(yr, NULL);
    assert_string_equal(b + strlen(b) - 13, "===#.####---X");
    assert_int_equal(test_view_scr.cell[(size_t)yr * test_view_scr.w + test_view_scr.w - 1].attr &
                         0x7f,
                     VIEW_A_RST);
    /* Retransmission and window update marks override the phase. */
    view_conn_add_mark(&test_view_conns[0], TEST_VIEW_T0 + 6 * TEST_VIEW_MS, VIEW_MARK_RETRANS);
    view_conn_add_mark(&test_view_conns[0], TEST_VIEW_T0 + 7 * TEST_VIEW_MS, VIEW_MARK_WINUPD);
    test_view_render(100, 24);
    b = test_view_bar_of(yf, NULL);
    assert_string_equal(b + strlen(b) - 13, "===#.#!w#-~~|");
}

static void test_view_bar_utf8_glyphs(void **state)
{
    char buf[512];

    (void)state;
    view_state_init(&test_view_vs, &view_glyphs_utf8);
    test_view_add_http(2000, TEST_VIEW_T0, "/a", 200, VIEW_END_FIN);
    test_view_add_http(2001, TEST_VIEW_T0, "/b", 200, VIEW_END_RST);
    test_view_vs.zoom = 9;
    test_view_vs.paused = 1;
    test_view_vs.axis_end_ns = TEST_VIEW_T0 + 13 * TEST_VIEW_MS - 1;
    test_view_render(100, 24);
    view_screen_line(&test_view_scr, test_view_find_line(":2000"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "GET /a \xe2\x86\x92 200"));
    assert_non_null(strstr(buf, "═══█·████─┄┄┤"));
    view_screen_line(&test_view_scr, test_view_find_line(":2001"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "═══█·████───X"));
}

static void test_view_zoom(void **state)
{
    const char *b;
    int y;
    uint64_t ns;

    (void)state;
    test_view_add_http(3000, TEST_VIEW_T0, "/", 200, VIEW_END_FIN);
    test_view_vs.zoom = 9;
    test_view_vs.paused = 1;
    test_view_vs.axis_end_ns = TEST_VIEW_T0 + 13 * TEST_VIEW_MS - 1;
    ns = view_ns_per_col(&test_view_vs);
    assert_int_equal(view_key(&test_view_vs, '-', 0), VIEW_ACT_REDRAW);
    assert_int_equal(view_ns_per_col(&test_view_vs), 2 * ns);
    test_view_render(100, 24);
    y = test_view_find_line(":3000");
    b = test_view_bar_of(y, NULL);
    /* At 2 ms per column the 13 ms life takes 7 columns; data outranks the wait. */
    assert_string_equal(b + strlen(b) - 7, "=####~|");
    assert_non_null(strstr(test_view_line(1), "2.0ms/col"));
    view_key(&test_view_vs, '+', 0);
    view_key(&test_view_vs, '+', 0);
    assert_int_equal(view_ns_per_col(&test_view_vs), ns / 2);
    for (int i = 0; i < 100; i++)
        view_key(&test_view_vs, '+', 0);
    assert_int_equal(view_ns_per_col(&test_view_vs), 1000);
    /* Fit: a 10 s replay at 80 columns fits in the bar. */
    view_zoom_fit(&test_view_vs, TEST_VIEW_T0, TEST_VIEW_T0 + 10000 * TEST_VIEW_MS, 80, 0);
    assert_true(view_ns_per_col(&test_view_vs) * (uint64_t)view_bar_width(80, 0) >=
                10000 * TEST_VIEW_MS);
    assert_true(view_ns_per_col(&test_view_vs) <= 1000 * TEST_VIEW_MS);
}

static void test_view_request_truncation(void **state)
{
    struct view_conn *c;
    const char *l;
    int y;

    (void)state;
    c = test_view_add_http(4000, TEST_VIEW_T0, "/very/long/path/to/some/directory/Lab2.html", 304,
                           VIEW_END_OPEN);
    test_view_render(80, 24);
    y = test_view_find_line(":4000");
    l = test_view_line(y);
    /* The file name survives, the middle is elided, the status stays. */
    assert_non_null(strstr(l, " /very/../Lab2.html -> 304"));

    /* Keep-alive: several requests, the ones that don't fit are counted. */
    c = test_view_add_http(4001, TEST_VIEW_T0, "/", 200, VIEW_END_OPEN);
    for (int i = 0; i < 9; i++) {
        struct view_req *r = view_conn_add_req(c, "GET", "/x.png", TEST_VIEW_T0 + 6 * TEST_VIEW_MS);
        if (r)
            r->status = 304;
    }
    assert_int_equal(c->nreq, VIEW_REQ_MAX);
    assert_int_equal(c->nreq_total, 10);
    test_view_render(200, 24);
    l = test_view_line(test_view_find_line(":4001"));
    assert_non_null(strstr(l, "GET / -> 200, /x.png -> 304, /x.png -> 304"));
    assert_non_null(strstr(l, " +"));
    test_view_render(80, 24);
    l = test_view_line(test_view_find_line(":4001"));
    assert_non_null(strstr(l, "GET / -> 200 +9"));

    /* A pending response, and a lost one. */
    c = test_view_add_conn(4002, TEST_VIEW_T0);
    view_conn_add_req(c, "HEAD", "/p", TEST_VIEW_T0);
    test_view_render(80, 24);
    assert_non_null(strstr(test_view_line(test_view_find_line(":4002")), "HEAD /p -> .."));
    c->req[0].status = -1;
    test_view_render(80, 24);
    assert_non_null(strstr(test_view_line(test_view_find_line(":4002")), "HEAD /p -> ?"));
}

static void test_view_utf8_uri_and_ipv6(void **state)
{
    struct view_conn *c;
    char buf[512];
    int y;

    (void)state;
    c = test_view_add_http(5000, TEST_VIEW_T0, "/cn/%E9%9F%B3%E4%B9%90.mp3", 206, VIEW_END_OPEN);
    c->family = 6;
    memset(c->caddr, 0, 16);
    c->caddr[15] = 1;
    test_view_render(120, 24);
    y = test_view_find_line("[::1]:5000");
    assert_true(y >= 2);
    view_screen_line(&test_view_scr, y, buf, sizeof(buf));
    /* Decoded for display: two wide characters take four columns. */
    assert_non_null(strstr(buf, "GET /cn/\xe9\x9f\xb3\xe4\xb9\x90.mp3 -> 206"));
    {
        int x = (int)(strstr(test_view_line(y), "\xe9\x9f\xb3") -
                      test_view_line(y)); /* byte offset == column here */
        assert_int_equal(test_view_scr.cell[(size_t)y * test_view_scr.w + x].ch, 0x97f3);
        assert_int_equal(test_view_scr.cell[(size_t)y * test_view_scr.w + x + 1].ch, 0);
    }
    /* Undecodable escapes and control characters are shown, never sent raw. */
    c->req[0].uri[0] = '\0';
    strcpy(c->req[0].uri, "/a%FFb\x1b[2J");
    test_view_render(120, 24);
    assert_non_null(strstr(test_view_line(y), "GET /a%FFb?[2J -> 206"));
}

static void test_view_filters(void **state)
{
    struct view_filter f;
    char err[128];

    (void)state;
    test_view_add_http(6000, TEST_VIEW_T0, "/cn/Lab2.html", 304, VIEW_END_FIN)->pid = 11;
    test_view_add_http(6001, TEST_VIEW_T0 + TEST_VIEW_MS, "/music.mp3", 206, VIEW_END_RST);
    test_view_add_conn(6002, TEST_VIEW_T0 + 2 * TEST_VIEW_MS)->caddr[2] = 9; /* 127.0.9.1 */

#define TEST_VIEW_MATCHES(text, a, b, c_)                                                          \
    do {                                                                                           \
        assert_int_equal(view_filter_parse(&f, text, err, sizeof(err)), 0);                        \
        assert_int_equal(view_filter_match(&f, &test_view_conns[0]), a);                           \
        assert_int_equal(view_filter_match(&f, &test_view_conns[1]), b);                           \
        assert_int_equal(view_filter_match(&f, &test_view_conns[2]), c_);                          \
    } while (0)

    TEST_VIEW_MATCHES("", 1, 1, 1);
    TEST_VIEW_MATCHES("6001", 0, 1, 0);
    TEST_VIEW_MATCHES("port 6000", 1, 0, 0);
    TEST_VIEW_MATCHES("port=8080", 1, 1, 1);
    TEST_VIEW_MATCHES("127.0.9", 0, 0, 1);
    TEST_VIEW_MATCHES("addr 127.0.0.1", 1, 1, 1); /* the server side matches */
    TEST_VIEW_MATCHES("state est", 0, 0, 1);
    TEST_VIEW_MATCHES("tw", 1, 0, 0);
    TEST_VIEW_MATCHES("rst", 0, 1, 0);
    TEST_VIEW_MATCHES("fin", 1, 0, 0);
    TEST_VIEW_MATCHES("open", 0, 0, 1);
    TEST_VIEW_MATCHES("closed", 1, 1, 0);
    TEST_VIEW_MATCHES("!closed", 0, 0, 1);
    TEST_VIEW_MATCHES("lab2", 1, 0, 0);
    TEST_VIEW_MATCHES("uri .mp3", 0, 1, 0);
    TEST_VIEW_MATCHES("GET", 1, 1, 0);
    TEST_VIEW_MATCHES("status 304", 1, 0, 0);
    TEST_VIEW_MATCHES("status 2xx", 0, 1, 0);
    TEST_VIEW_MATCHES("pid 11", 1, 0, 0);
    TEST_VIEW_MATCHES("port 8080 !rst mp3", 0, 0, 0);
    TEST_VIEW_MATCHES("port 8080 !rst html", 1, 0, 0);
#undef TEST_VIEW_MATCHES
    assert_int_equal(view_filter_parse(&f, "port x", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(view_filter_parse(&f, "state bogus", err, sizeof(err)), -1);
    assert_int_equal(view_filter_parse(&f, "status", err, sizeof(err)), -1);
    assert_int_equal(view_filter_parse(&f, "port 70000", err, sizeof(err)), -1);
    assert_int_equal(view_filter_parse(&f, "a b c d e f g h i", err, sizeof(err)), -1);
    assert_int_equal(view_filter_parse(&f, "!", err, sizeof(err)), -1);
}

static void test_view_type_keys(const char *s)
{
    for (; *s; s++)
        view_key(&test_view_vs, (unsigned char)*s, 0);
}

static void test_view_filter_keys(void **state)
{
    (void)state;
    test_view_add_http(7000, TEST_VIEW_T0, "/cn/Lab2.html", 304, VIEW_END_FIN);
    test_view_add_http(7001, TEST_VIEW_T0 + TEST_VIEW_MS, "/music.mp3", 206, VIEW_END_RST);
    test_view_render(80, 24);
    assert_int_equal(view_key(&test_view_vs, '/', 0), VIEW_ACT_REDRAW);
    test_view_type_keys("mp4");
    view_key(&test_view_vs, VIEW_KEY_BACKSPACE, 0);
    test_view_type_keys("3");
    test_view_render(80, 24);
    assert_non_null(strstr(test_view_line(23), "filter: mp3_"));
    view_key(&test_view_vs, VIEW_KEY_ENTER, 0);
    test_view_render(80, 24);
    assert_int_equal(test_view_find_line(":7000"), -1);
    assert_true(test_view_find_line(":7001") >= 2);
    assert_non_null(strstr(test_view_line(23), "[mp3: 1/2]"));
    /* A bad filter keeps the old one and says why. */
    view_key(&test_view_vs, '/', 0);
    view_key(&test_view_vs, VIEW_KEY_BACKSPACE, 0);
    view_key(&test_view_vs, VIEW_KEY_BACKSPACE, 0);
    view_key(&test_view_vs, VIEW_KEY_BACKSPACE, 0);
    test_view_type_keys("port x");
    view_key(&test_view_vs, VIEW_KEY_ENTER, 0);
    test_view_render(80, 24);
    assert_non_null(strstr(test_view_line(23), "port needs a port number"));
    assert_int_equal(test_view_find_line(":7000"), -1);
    /* Esc in the waterfall drops the filter. */
    view_key(&test_view_vs, VIEW_KEY_ESC, 0);
    test_view_render(80, 24);
    assert_true(test_view_find_line(":7000") >= 2);
    /* No match: say so. */
    view_key(&test_view_vs, '/', 0);
    test_view_type_keys("nothing-here");
    view_key(&test_view_vs, VIEW_KEY_ENTER, 0);
    test_view_render(80, 24);
    assert_true(test_view_find_line("no connection matches") >= 2);
}

static void test_view_sort_cycle_stable(void **state)
{
    (void)state;
    test_view_add_http(8000, TEST_VIEW_T0, "/", 200, VIEW_END_FIN)->bytes_s2c = 10;
    test_view_add_http(8001, TEST_VIEW_T0 + TEST_VIEW_MS, "/", 200, VIEW_END_FIN)->bytes_s2c = 5000;
    test_view_add_http(8002, TEST_VIEW_T0 + 2 * TEST_VIEW_MS, "/", 200, VIEW_END_FIN)->bytes_s2c =
        10;
    test_view_add_http(8003, TEST_VIEW_T0 + 3 * TEST_VIEW_MS, "/", 200, VIEW_END_FIN)->bytes_s2c =
        70;
    test_view_render(80, 24);
    assert_int_equal(test_view_find_line(":8000"), 2);
    assert_int_equal(test_view_find_line(":8003"), 5);
    view_key(&test_view_vs, 's', 0);
    assert_int_equal(test_view_vs.sort, VIEW_SORT_BYTES);
    test_view_render(80, 24);
    assert_non_null(strstr(test_view_line(23), "sort: bytes"));
    assert_int_equal(test_view_find_line(":8001"), 2);
    assert_int_equal(test_view_find_line(":8003"), 3);
    assert_int_equal(test_view_find_line(":8000"), 4); /* ties keep the order of appearance */
    assert_int_equal(test_view_find_line(":8002"), 5);
    for (int i = 0; i < VIEW_SORT_PORT - VIEW_SORT_BYTES; i++)
        view_key(&test_view_vs, 's', 0);
    assert_int_equal(test_view_vs.sort, VIEW_SORT_PORT);
    test_view_conns[0].cport = 9999;
    test_view_render(80, 24);
    assert_int_equal(test_view_find_line(":9999"), 5);
    view_key(&test_view_vs, 's', 0);
    view_key(&test_view_vs, 's', 0);
    assert_int_equal(test_view_vs.sort, VIEW_SORT_START);
}

static void test_view_follow_and_scroll(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++)
        test_view_add_http((uint16_t)(10000 + i), TEST_VIEW_T0 + (uint64_t)i * TEST_VIEW_MS, "/",
                           200, VIEW_END_FIN);
    test_view_render(80, 24);
    /* 21 rows fit; the newest is at the bottom and selected. */
    assert_int_equal(test_view_find_line(":10039"), 22);
    assert_int_equal(test_view_line(22)[0], '>');
    assert_int_equal(test_view_find_line(":10018"), -1);
    /* A new connection arrives: still followed. */
    test_view_add_http(10040, TEST_VIEW_T0 + 40 * TEST_VIEW_MS, "/", 200, VIEW_END_OPEN);
    test_view_render(80, 24);
    assert_int_equal(test_view_find_line(":10040"), 22);
    /* Scrolling up stops following. */
    view_key(&test_view_vs, VIEW_KEY_UP, 0);
    view_key(&test_view_vs, VIEW_KEY_UP, 0);
    test_view_add_http(10041, TEST_VIEW_T0 + 41 * TEST_VIEW_MS, "/", 200, VIEW_END_OPEN);
    test_view_render(80, 24);
    assert_int_equal(test_view_line(test_view_find_line(":10038"))[0], '>');
    assert_int_equal(test_view_find_line(":10041"), -1);
    view_key(&test_view_vs, VIEW_KEY_PGUP, 0);
    test_view_render(80, 24);
    assert_int_equal(test_view_line(test_view_find_line(":10018"))[0], '>');
    view_key(&test_view_vs, VIEW_KEY_HOME, 0);
    test_view_render(80, 24);
    assert_int_equal(test_view_find_line(":10000"), 2);
    assert_int_equal(test_view_line(2)[0], '>');
    /* End follows again. */
    view_key(&test_view_vs, VIEW_KEY_END, 0);
    test_view_add_http(10042, TEST_VIEW_T0 + 42 * TEST_VIEW_MS, "/", 200, VIEW_END_OPEN);
    test_view_render(80, 24);
    assert_int_equal(test_view_find_line(":10042"), 22);
    assert_int_equal(test_view_line(22)[0], '>');
    /* Pause stops following; the header says so. */
    view_key(&test_view_vs, 'p', 0);
    test_view_add_http(10043, TEST_VIEW_T0 + 43 * TEST_VIEW_MS, "/", 200, VIEW_END_OPEN);
    test_view_render(80, 24);
    assert_non_null(strstr(test_view_line(0), "PAUSED"));
    assert_int_equal(test_view_line(test_view_find_line(":10042"))[0], '>');
    /* 'c' hides connections closed before now. */
    view_key(&test_view_vs, 'c', TEST_VIEW_T0 + 100 * TEST_VIEW_MS);
    test_view_render(80, 24);
    assert_int_equal(test_view_find_line(":10000"), -1);
    assert_true(test_view_find_line(":10043") >= 2);
    assert_non_null(strstr(test_view_line(23), "cleared"));
}

static void test_view_wide_columns(void **state)
{
    const char *l;

    (void)state;
    test_view_add_http(11000, TEST_VIEW_T0, "/index.html", 200, VIEW_END_FIN);
    test_view_render(160, 40);
    assert_non_null(strstr(test_view_line(1), "PKTS"));
    assert_non_null(strstr(test_view_line(1), "RTT"));
    assert_non_null(strstr(test_view_line(1), "CLIENT/SERVER"));
    l = test_view_line(test_view_find_line(":11000"));
    assert_non_null(strstr(l, "TIME_WT/CLOSED"));
    assert_non_null(strstr(l, "  16 "));   /* packets */
    assert_non_null(strstr(l, " 2.0ms ")); /* RTT */
    assert_true((int)strlen(l) <= 160);
}

static void test_view_ladder_and_help(void **state)
{
    static const struct view_ladder_line lines[] = {
        { "0.000000  SYN seq=0 win=65495 ------------>", VIEW_A_C2S },
        { "0.000010  <-------- SYN,ACK seq=0 ack=1", VIEW_A_S2C },
        { "0.000020  ACK seq=1 ack=1 --------------->  handshake done", VIEW_A_C2S },
    };
    struct view_ladder_line many[100];
    char text[100][32];

    (void)state;
    test_view_add_http(12000, TEST_VIEW_T0, "/", 200, VIEW_END_FIN)->pid = 77;
    test_view_render(80, 24);
    assert_int_equal(view_key(&test_view_vs, VIEW_KEY_ENTER, 0), VIEW_ACT_REDRAW);
    assert_int_equal(test_view_vs.mode, VIEW_LADDER);
    assert_int_equal(view_screen_resize(&test_view_scr, 80, 24), 0);
    view_render(&test_view_vs, test_view_ptrs, test_view_nconns, &test_view_st, lines, 3,
                &test_view_scr);
    assert_non_null(strstr(test_view_line(1), "LADDER 127.0.0.1:12000 -> 127.0.0.1:8080"));
    assert_non_null(strstr(test_view_line(1), "TIME_WAIT/CLOSED"));
    assert_non_null(strstr(test_view_line(1), "worker 77"));
    assert_non_null(strstr(test_view_line(2), "SYN seq=0"));
    assert_int_equal(test_view_scr.cell[(size_t)3 * 80 + 10].attr, VIEW_A_S2C);
    assert_non_null(strstr(test_view_line(23), "Esc back"));

    /* Scrolling a long ladder. */
    for (int i = 0; i < 100; i++) {
        snprintf(text[i], sizeof(text[i]), "segment %d", i);
        many[i].text = text[i];
        many[i].attr = VIEW_A_C2S;
    }
    view_render(&test_view_vs, test_view_ptrs, test_view_nconns, &test_view_st, many, 100,
                &test_view_scr);
    assert_string_equal(test_view_line(2), "segment 0");
    view_key(&test_view_vs, VIEW_KEY_PGDN, 0);
    view_key(&test_view_vs, VIEW_KEY_DOWN, 0);
    view_render(&test_view_vs, test_view_ptrs, test_view_nconns, &test_view_st, many, 100,
                &test_view_scr);
    assert_string_equal(test_view_line(2), "segment 21");
    view_key(&test_view_vs, VIEW_KEY_END, 0);
    view_render(&test_view_vs, test_view_ptrs, test_view_nconns, &test_view_st, many, 100,
                &test_view_scr);
    assert_string_equal(test_view_line(22), "segment 99");
    view_key(&test_view_vs, VIEW_KEY_HOME, 0);
    view_render(&test_view_vs, test_view_ptrs, test_view_nconns, &test_view_st, many, 100,
                &test_view_scr);
    assert_string_equal(test_view_line(2), "segment 0");

    /* Help from the ladder returns to the ladder; Esc returns to the waterfall. */
    view_key(&test_view_vs, '?', 0);
    test_view_render(80, 24);
    assert_non_null(strstr(test_view_line(0), "labmon help"));
    assert_true(test_view_find_line("Enter          ladder") > 0);
    assert_true(test_view_find_line("| closed (FIN)") > 0);
    assert_true(test_view_find_line("X reset (RST)") > 0);
    view_key(&test_view_vs, 'x', 0);
    assert_int_equal(test_view_vs.mode, VIEW_LADDER);
    view_key(&test_view_vs, VIEW_KEY_ESC, 0);
    assert_int_equal(test_view_vs.mode, VIEW_WATERFALL);
    assert_int_equal(view_key(&test_view_vs, 'q', 0), VIEW_ACT_QUIT);
    assert_int_equal(view_key(&test_view_vs, 'w', 0), VIEW_ACT_TOGGLE_WRITE);
}

static void test_view_builders_bounded(void **state)
{
    struct view_conn *c;

    (void)state;
    c = test_view_add_conn(13000, TEST_VIEW_T0);
    for (int i = 0; i < 1000; i++)
        view_conn_add_data(
            c, TEST_VIEW_T0 + (uint64_t)i * 10 * TEST_VIEW_MS + (uint64_t)(i % 7) * TEST_VIEW_MS,
            TEST_VIEW_MS);
    assert_int_equal(c->nspan, VIEW_SPAN_MAX);
    /* Merged spans still cover the first and the last payload. */
    assert_int_equal(c->span[0].start_ns, TEST_VIEW_T0);
    assert_int_equal(c->span[VIEW_SPAN_MAX - 1].end_ns,
                     TEST_VIEW_T0 + 999 * 10 * TEST_VIEW_MS + (999 % 7) * TEST_VIEW_MS);
    for (int i = 0; i + 1 < c->nspan; i++)
        assert_true(c->span[i].end_ns < c->span[i + 1].start_ns);
    for (int i = 0; i < 100; i++)
        view_conn_add_mark(c, TEST_VIEW_T0 + (uint64_t)i, VIEW_MARK_WINUPD);
    assert_int_equal(c->nmark, VIEW_MARK_MAX);
    assert_int_equal(c->mark[VIEW_MARK_MAX - 1].ts_ns, TEST_VIEW_T0 + 99);
}

static void test_view_formats(void **state)
{
    char b[32];

    (void)state;
    view_format_bytes(b, sizeof(b), 999);
    assert_string_equal(b, "999");
    view_format_bytes(b, sizeof(b), 1536);
    assert_string_equal(b, "1.5K");
    view_format_bytes(b, sizeof(b), 7416366);
    assert_string_equal(b, "7.1M");
    view_format_bytes(b, sizeof(b), 500ULL << 20);
    assert_string_equal(b, "500M");
    view_format_duration(b, sizeof(b), 212000);
    assert_string_equal(b, "212us");
    view_format_duration(b, sizeof(b), 5000000000LL);
    assert_string_equal(b, "5.0s");
    view_format_duration(b, sizeof(b), -1500000);
    assert_string_equal(b, "-1.5ms");
    assert_string_equal(view_state_code(VIEW_ST_CLOSE_WAIT, 0), "CW");
    assert_string_equal(view_state_code(VIEW_ST_FIN_WAIT_2, 1), "FIN_WT2");
}

/* Left/Right pan the time axis (and pause it); the header says when a replay is still reading. */
static void test_view_pan_and_reading(void **state)
{
    const char *b;
    int y;

    (void)state;
    test_view_add_http(15000, TEST_VIEW_T0, "/", 200, VIEW_END_FIN);
    test_view_vs.zoom = 9; /* 1 ms per column */
    test_view_st.now_ns = TEST_VIEW_T0 + 12 * TEST_VIEW_MS;
    test_view_render(100, 24);
    y = test_view_find_line(":15000");
    b = test_view_bar_of(y, NULL);
    assert_int_equal(b[strlen(b) - 1], '|'); /* the close is at the right edge */
    view_key(&test_view_vs, VIEW_KEY_LEFT, 0);
    assert_true(test_view_vs.paused);
    test_view_render(100, 24);
    assert_non_null(strstr(test_view_line(0), "PAUSED"));
    b = test_view_bar_of(y, NULL);
    assert_string_equal(b + strlen(b) - 3, "==="); /* 10 ms earlier: the handshake ends it */
    assert_non_null(strstr(test_view_line(1), "3.0ms"));
    view_key(&test_view_vs, VIEW_KEY_RIGHT, 0);
    test_view_render(100, 24);
    b = test_view_bar_of(y, NULL);
    assert_int_equal(b[strlen(b) - 1], '|');
    test_view_st.live = 0;
    test_view_st.reading = 1;
    test_view_render(100, 24);
    assert_non_null(strstr(test_view_line(0), "REPLAY reading... PAUSED"));
}

static void test_view_tiny_screen(void **state)
{
    (void)state;
    test_view_add_http(14000, TEST_VIEW_T0, "/", 200, VIEW_END_FIN);
    test_view_render(10, 3);
    assert_non_null(strstr(test_view_line(0), "labmon: t"));
    test_view_render(40, 8); /* degraded but drawn */
    assert_true(test_view_find_line(":14000") >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_view_row_80x24, test_view_setup, test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_header_counts_and_drops, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_bar_phases_fin_vs_rst, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_bar_utf8_glyphs, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_zoom, test_view_setup, test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_request_truncation, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_utf8_uri_and_ipv6, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_filters, test_view_setup, test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_filter_keys, test_view_setup, test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_sort_cycle_stable, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_follow_and_scroll, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_wide_columns, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_ladder_and_help, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_builders_bounded, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_formats, test_view_setup, test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_pan_and_reading, test_view_setup,
                                        test_view_teardown),
        cmocka_unit_test_setup_teardown(test_view_tiny_screen, test_view_setup, test_view_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
