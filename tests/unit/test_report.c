/* Tests for monitor/report.c and report_html.c: the page's parts, its links and its bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/report.h"
#include "tests/unit/lib_exchange.h"

static size_t count(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* The page of every flow in e's table, as a string. */
static char *page(struct engine *e, const char *source)
{
    struct flow_table *t = engine_flows(e);
    struct report *r = report_new(0);
    struct report_facts facts = { .source = source,
                                  .link = "RAW",
                                  .counters = engine_get_counters(e),
                                  .connections = flow_table_created(t),
                                  .first_ns = 1000000000ULL,
                                  .last_ns = 9000000000ULL,
                                  .version = "test" };
    struct svg_buf s;

    assert_non_null(r);
    for (struct flow *f = flow_table_next(t, NULL); f; f = flow_table_next(t, f))
        assert_int_equal(report_add(r, f, NULL), 0);
    svg_buf_init(&s, NULL, NULL);
    assert_int_equal(report_write(r, &facts, &s), 0);
    svg_mem(&s, "", 1);
    report_free(r);
    return s.b;
}

static void test_report_page(void **state)
{
    struct engine_config cfg = { .max_flows = 8, .seglog_cap = 64 };
    struct engine *e = engine_new(&cfg);
    char *s;

    (void)state;
    lib_exchange_run(e);
    s = page(e, "a <capture> & \"more\".pcap");
    /* One page, the source escaped, no script. */
    assert_int_equal(count(s, "<!DOCTYPE html>"), 1);
    assert_non_null(strstr(s, "<title>labmon report: a &lt;capture&gt; &amp; &quot;more&quot;.pcap"
                              "</title>"));
    assert_null(strstr(s, "<script"));
    assert_non_null(strstr(s, "<tr><th>packets</th><td>10 (TCP 8, other 1, truncated 1, "
                              "malformed 0)</td></tr>"));
    assert_non_null(
        strstr(s, "<tr><th>connections</th><td>1; by Zeek&#39;s state: SF 1</td></tr>"));
    /* The waterfall row links to the table row, which links to the figures, which link back. */
    assert_non_null(strstr(s, "<a href=\"#c0\" class=\"row\">"));
    assert_non_null(strstr(s, "<tr id=\"c0\"><td><a href=\"#d0\">0</a></td><td>192.168.1.10:50000"
                              "</td><td>192.168.1.1:8080</td><td>SF</td><td>TIME_WAIT</td><td>"
                              "CLOSED</td><td class=\"n\">5</td><td class=\"n\">3</td>"));
    assert_non_null(strstr(s, "GET /index.html \xe2\x86\x92 200</td></tr>"));
    assert_non_null(strstr(s, "<section id=\"d0\">"));
    assert_non_null(strstr(s, "<a href=\"#c0\">its row in the table</a>"));
    assert_int_equal(count(s, "class=\"fig ladder\""), 1);
    assert_int_equal(count(s, "class=\"fig tsg\""), 1);
    assert_non_null(strstr(s, "Made by labmon test."));
    free(s);
    engine_free(e);
}

/* A SYN from client port 10000 + i (on source address 10.0.0.(i / 50000 + 1)). */
static void syn(struct engine *e, uint32_t i, uint64_t ts)
{
    struct decode_seg d = lib_exchange_seg(0, FLOW_TH_SYN, i, 0, ts);

    d.src[3] = (uint8_t)(i / 50000 + 1);
    d.sport = (uint16_t)(10000 + i % 50000);
    engine_segment(e, &d);
}

/* More connections than rows: the table is cut, the waterfall groups, the busiest get figures. */
static void test_report_bounds(void **state)
{
    const uint32_t n = REPORT_ROWS + 5000;
    struct engine_config cfg = { .max_flows = n, .seglog_cap = 4 };
    struct engine *e = engine_new(&cfg);
    char *s, *busy;

    (void)state;
    for (uint32_t i = 0; i < n; i++)
        syn(e, i, 1000000000ULL + i * 1000ULL);
    /* Connection 12345 tries three more times: the busiest. */
    for (int k = 0; k < 3; k++)
        syn(e, 12345, 2000000000ULL + (uint64_t)k);
    s = page(e, "flood");
    assert_int_equal(count(s, "<tr id=\"c"), REPORT_ROWS);
    assert_non_null(strstr(s, "The first 10000 connections to finish of 15000"));
    assert_non_null(strstr(s, "15000 connections: each row is a group of 16 consecutive ones"));
    assert_int_equal(count(s, "<section id=\"d"), REPORT_FIGURES);
    busy = strstr(s, "<section id=\"d12345\">");
    assert_non_null(busy);
    /* A group's row links to the table row of its first connection, when the table has it. */
    assert_non_null(strstr(s, "<a href=\"#c9984\" class=\"row\">"));
    assert_null(strstr(s, "<a href=\"#c10000\" class=\"row\">"));
    assert_non_null(strstr(s, "<tr><th>connections</th><td>15000; by Zeek&#39;s state: S0 15000"));
    free(s);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_page),
        cmocka_unit_test(test_report_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
