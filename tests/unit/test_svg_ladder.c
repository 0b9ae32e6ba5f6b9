/* Tests for monitor/svg_ladder.c: one group per packet, its classes and numbers, the layout,
 * elision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"
#include "monitor/svg_ladder.h"
#include "tests/unit/lib_exchange.h"

/* The ladder of the test exchange (8 packets) with at most max rows, as a string. */
static char *ladder(uint32_t max, struct engine **e)
{
    struct engine_config cfg = { .max_flows = 8, .seglog_cap = 64 };
    struct svg_fig o = { .standalone = 1, .max_rows = max };
    struct svg_buf s;

    *e = engine_new(&cfg);
    lib_exchange_run(*e);
    svg_buf_init(&s, NULL, NULL);
    assert_int_equal(svg_ladder_write(&s, flow_table_next(engine_flows(*e), NULL), &o), 0);
    svg_mem(&s, "", 1);
    return s.b;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static void test_svg_ladder_packets(void **state)
{
    struct engine *e;
    char *s = ladder(0, &e);

    (void)state;
    assert_int_equal(count(s, "<g class=\"pkt "), 8);
    /* Kind classes and the numbers the label shows. */
    assert_non_null(strstr(s, "<g class=\"pkt c2s syn\" data-n=\"0\" data-t=\"0.000000\" "
                              "data-flags=\"SYN\" data-seq=\"0\" data-ack=\"0\" data-len=\"0\""));
    assert_non_null(strstr(s, "<g class=\"pkt s2c syn\" data-n=\"1\""));
    assert_non_null(strstr(s, "<g class=\"pkt c2s ack hs\" data-n=\"2\""));
    assert_non_null(strstr(s, "<g class=\"pkt c2s psh data req\" data-n=\"3\""));
    assert_non_null(strstr(s, "<g class=\"pkt s2c psh data resp\" data-n=\"4\""));
    assert_non_null(strstr(s, "<g class=\"pkt c2s fin\" data-n=\"5\""));
    assert_non_null(strstr(s, ">SYN seq=0 ack=0 len=0 win=65535</text>"));
    /* Notes, states, the handshake RTT, the request and the status. */
    assert_non_null(strstr(s, "3-way handshake done, RTT 2.000 ms"));
    assert_non_null(strstr(s, ">GET /index.html</text>"));
    assert_non_null(strstr(s, ">200 OK</text>"));
    assert_non_null(strstr(s, "class=\"state\">SYN_SENT</text>"));
    assert_non_null(strstr(s, "class=\"state\">TIME_WAIT</text>"));
    /* Black and white: data arrows are thick with a filled head, the rest thin and open. */
    assert_non_null(strstr(s, "class=\"arrow\" stroke=\"#333\" stroke-width=\"2\"/>"));
    assert_non_null(strstr(s, "class=\"arrow\" stroke=\"#333\" stroke-width=\"1\"/>"));
    /* The layout: 8 rows of 26 pixels under a 104-pixel head, a 64-pixel key. */
    assert_non_null(strstr(s, "height=\"376\" viewBox=\"0 0 1180 376\""));
    assert_non_null(strstr(s, "<title>stream 0: 192.168.1.10:50000 \xe2\x86\x92 192.168.1.1:8080, "
                              "GET /index.html \xe2\x86\x92 200</title>"));
    free(s);
    engine_free(e);
}

static void test_svg_ladder_elision(void **state)
{
    struct engine *e;
    char *s = ladder(4, &e);

    (void)state;
    /* The first two and the last two packets, the middle counted; rows keep their numbers. */
    assert_int_equal(count(s, "<g class=\"pkt "), 4);
    assert_non_null(strstr(s, "data-n=\"1\""));
    assert_null(strstr(s, "data-n=\"2\""));
    assert_non_null(strstr(s, "data-n=\"6\""));
    assert_non_null(strstr(s, "\xe2\x8b\xaf 4 packets not drawn (--svg-max 4) \xe2\x8b\xaf"));
    assert_non_null(strstr(s, "height=\"298\""));
    free(s);
    engine_free(e);
    /* No more packets than the limit: all drawn. */
    s = ladder(8, &e);
    assert_int_equal(count(s, "<g class=\"pkt "), 8);
    assert_null(strstr(s, "not drawn"));
    free(s);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svg_ladder_packets),
        cmocka_unit_test(test_svg_ladder_elision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
