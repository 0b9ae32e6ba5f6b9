/* Tests for monitor/svg.c: the escape of untrusted bytes, the buffer, elements, ticks and units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/svg.h"

/* svg_esc() of n bytes into a NUL-terminated string (static, for one assertion). */
static const char *esc(const char *p, size_t n, size_t max_cp)
{
    static char out[1024];
    struct svg_buf s;

    svg_buf_init(&s, NULL, NULL);
    svg_esc(&s, p, n, max_cp);
    assert_false(s.failed);
    assert_true(s.n < sizeof(out));
    memcpy(out, s.b ? s.b : "", s.n);
    out[s.n] = 0;
    svg_buf_free(&s);
    return out;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1, 0)

static void test_svg_esc_markup(void **state)
{
    (void)state;
    assert_string_equal(ESC("/a?b=1&c=2"), "/a?b=1&amp;c=2");
    assert_string_equal(ESC("<script>alert(\"x\")</script>"),
                        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    assert_string_equal(ESC("it's"), "it&#39;s");
    assert_string_equal(ESC("a\\x41"), "a\\\\x41"); /* a literal "\x41" is not an escape */
    assert_string_equal(ESC("/cn/\xe5\xae\x9e\xe9\xaa\x8c.mp3"),
                        "/cn/\xe5\xae\x9e\xe9\xaa\x8c.mp3");
}

static void test_svg_esc_bytes(void **state)
{
    (void)state;
    /* NUL and other control bytes are shown, never written. */
    assert_string_equal(ESC("a\0b\r\n\t\x7f"), "a\\x00b\\x0D\\x0A\\x09\\x7F");
    /* Invalid UTF-8: a stray continuation byte, a cut sequence, an overlong
     * '<' (C0 BC), a surrogate (ED A0 80), beyond U+10FFFF (F4 90 80 80). */
    assert_string_equal(ESC("\x80"), "\\x80");
    assert_string_equal(ESC("x\xe5\xae"), "x\\xE5\\xAE");
    assert_string_equal(ESC("\xc0\xbc"), "\\xC0\\xBC");
    assert_string_equal(ESC("\xed\xa0\x80"), "\\xED\\xA0\\x80");
    assert_string_equal(ESC("\xf4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80");
    assert_string_equal(ESC("\xff\xfe"), "\\xFF\\xFE");
    /* A C1 control and the non-characters XML does not allow. */
    assert_string_equal(ESC("\xc2\x85"), "\\u0085");
    assert_string_equal(ESC("\xef\xbf\xbe\xef\xbf\xbf"), "\\uFFFE\\uFFFF");
    /* The largest code point and a 4-byte emoji pass. */
    assert_string_equal(ESC("\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80"),
                        "\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80");
}

static void test_svg_esc_limit(void **state)
{
    (void)state;
    /* Characters, not bytes, are counted; the cut is marked. */
    assert_string_equal(esc("\xe5\xae\x9e\xe9\xaa\x8c\xe4\xba\x8c", 9, 2),
                        "\xe5\xae\x9e\xe9\xaa\x8c\xe2\x80\xa6");
    assert_string_equal(esc("abc", 3, 3), "abc");
    assert_string_equal(esc("a<c", 3, 2), "a&lt;\xe2\x80\xa6");
}

struct sink {
    char text[1 << 18];
    size_t n;
    int calls, fail;
};

static int sink_flush(void *ctx, const char *p, size_t n)
{
    struct sink *k = ctx;

    k->calls++;
    if (k->fail || k->n + n > sizeof(k->text))
        return -1;
    memcpy(k->text + k->n, p, n);
    k->n += n;
    return 0;
}

static void test_svg_buf_flush(void **state)
{
    static struct sink k;
    struct svg_buf s;

    (void)state;
    memset(&k, 0, sizeof(k));
    svg_buf_init(&s, sink_flush, &k);
    for (int i = 0; i < 20000; i++)
        svg_printf(&s, "%05d;", i);
    /* A long printf, past the first guess of its length. */
    svg_printf(&s, "%s", "");
    svg_printf(&s, "%300s|", "x");
    assert_int_equal(svg_buf_finish(&s), 0);
    assert_true(k.calls >= 2);
    assert_int_equal(k.n, 20000 * 6 + 301);
    assert_memory_equal(k.text, "00000;00001;", 12);
    assert_memory_equal(k.text + 19999 * 6, "19999;", 6);
    assert_int_equal(k.text[k.n - 1], '|');
    assert_true(s.cap <= 2 * SVG_FLUSH_AT + 4096);
    svg_buf_free(&s);

    /* A failing flush marks the output failed, and says so at the end. */
    memset(&k, 0, sizeof(k));
    k.fail = 1;
    svg_buf_init(&s, sink_flush, &k);
    svg_raw(&s, "x");
    assert_int_equal(svg_buf_finish(&s), -1);
    svg_buf_free(&s);
}

static void test_svg_elements(void **state)
{
    struct svg_buf s;

    (void)state;
    struct svg_fig fig = { .standalone = 1 };

    svg_buf_init(&s, NULL, NULL);
    svg_doc_open(&s, &fig, 100, 50, "ladder", "GET /<x>");
    svg_line(&s, 1, 2, 3.25, 4, "pkt", "stroke-dasharray=\"4 2\"");
    svg_rect(&s, 0, 0, 10, 5, NULL, NULL);
    svg_text(&s, 5, 6, SVG_MIDDLE, "note", "a&b", 0);
    svg_doc_close(&s);
    svg_raw(&s, "");
    svg_mem(&s, "", 1);
    assert_memory_equal(s.b, "<?xml version=\"1.0\"", 19);
    assert_non_null(strstr(s.b, "class=\"fig ladder\""));
    assert_non_null(strstr(s.b, "\n<title>GET /&lt;x&gt;</title>\n<style>"));
    assert_null(strchr(svg_css(), '<'));
    assert_null(strchr(svg_css(), '&'));
    assert_string_equal(strstr(s.b, "</style>\n") + 9,
                        "<rect x=\"0.0\" y=\"0.0\" width=\"100.0\" height=\"50.0\" "
                        "fill=\"#ffffff\"/>\n"
                        "<line x1=\"1.0\" y1=\"2.0\" x2=\"3.2\" y2=\"4.0\" class=\"pkt\" "
                        "stroke-dasharray=\"4 2\"/>\n"
                        "<rect x=\"0.0\" y=\"0.0\" width=\"10.0\" height=\"5.0\"/>\n"
                        "<text x=\"5.0\" y=\"6.0\" text-anchor=\"middle\" class=\"note\">a&amp;b"
                        "</text>\n</svg>\n");
    svg_buf_free(&s);
}

/* The ticks as labels joined by spaces. */
static const char *ticks(double lo, double hi, int want)
{
    static char out[256];
    struct svg_ticks t;
    size_t n = 0;

    svg_ticks_choose(lo, hi, want, &t);
    out[0] = 0;
    for (int i = 0; i < t.n; i++) {
        char b[32];
        svg_tick_label(&t, t.v[i], b, sizeof(b));
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? " " : "", b);
    }
    return out;
}

static void test_svg_ticks(void **state)
{
    (void)state;
    assert_string_equal(ticks(0, 100, 6), "0 20 40 60 80 100");
    assert_string_equal(ticks(0, 1, 5), "0.0 0.5 1.0");
    assert_string_equal(ticks(0, 0.07, 5), "0.00 0.02 0.04 0.06");
    assert_string_equal(ticks(3, 17, 4), "5 10 15");
    assert_string_equal(ticks(-1, 1, 3), "-1 0 1");
    assert_string_equal(ticks(0, 23784, 6), "0 5000 10000 15000 20000");
    assert_string_equal(ticks(0.2, 0.2, 5), "0.2"); /* nothing to span: one tick */
    assert_string_equal(ticks(0, 1e20, 5), "0");    /* out of range: one tick */
    /* Never more than SVG_TICKS_MAX, whatever is asked. */
    struct svg_ticks t;
    svg_ticks_choose(0, 1000, 1000, &t);
    assert_true(t.n <= SVG_TICKS_MAX && t.n >= 2);
    svg_ticks_choose(0, 1000, 0, &t);
    assert_true(t.n >= 2);
}

static void test_svg_units(void **state)
{
    struct svg_unit u;

    (void)state;
    svg_unit_choose(SVG_SECONDS, 0.0005, &u);
    assert_string_equal(u.name, "\xc2\xb5s");
    svg_unit_choose(SVG_SECONDS, 0.2, &u);
    assert_string_equal(u.name, "ms");
    assert_true(u.size == 1e-3);
    svg_unit_choose(SVG_SECONDS, 61, &u);
    assert_string_equal(u.name, "s");
    svg_unit_choose(SVG_BYTES, 5008, &u);
    assert_string_equal(u.name, "bytes");
    svg_unit_choose(SVG_BYTES, 3.6e6, &u);
    assert_string_equal(u.name, "kB");
    svg_unit_choose(SVG_BYTES, 4e9, &u);
    assert_string_equal(u.name, "MB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svg_esc_markup), cmocka_unit_test(test_svg_esc_bytes),
        cmocka_unit_test(test_svg_esc_limit),  cmocka_unit_test(test_svg_buf_flush),
        cmocka_unit_test(test_svg_elements),   cmocka_unit_test(test_svg_ticks),
        cmocka_unit_test(test_svg_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
