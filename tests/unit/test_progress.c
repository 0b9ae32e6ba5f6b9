/* Tests for monitor/progress.c: the progress line's text and its pace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "monitor/progress.h"

#define MS 1000000LL

static void test_progress_line(void **state)
{
    struct progress p;
    char buf[256];
    size_t n;

    (void)state;
    progress_init(&p, 1000 * MS);
    /* Nothing before a quarter of a second. */
    assert_int_equal(progress_line(&p, 1100 * MS, "a.pcap", 10, 100, 5, buf, sizeof(buf)), 0);
    assert_int_equal(progress_clear(&p, buf, sizeof(buf)), 0);
    /* A quarter of the file in half a second: a second and a half left. */
    n = progress_line(&p, 1500 * MS, "a.pcap", 250, 1000, 2000000, buf, sizeof(buf));
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "\rlabmon: 25% of a.pcap, 2.0 M packets, 4.0 M packets/s, 2 s left"
                             "\033[K");
    /* Not again within a quarter of a second; then again. */
    assert_int_equal(progress_line(&p, 1600 * MS, "a.pcap", 300, 1000, 1, buf, sizeof(buf)), 0);
    n = progress_line(&p, 1751 * MS, "a.pcap", 500, 1000, 30000, buf, sizeof(buf));
    assert_true(n > 0);
    assert_non_null(strstr(buf, "50% of a.pcap, 30 k packets, 40 k packets/s, 1 s left"));
    /* Size unknown: no percent, no time left. */
    n = progress_line(&p, 2100 * MS, "standard input", 0, 0, 900, buf, sizeof(buf));
    assert_string_equal(buf, "\rlabmon: standard input, 900 packets, 818 packets/s\033[K");
    /* Long runs count minutes and hours. */
    n = progress_line(&p, 3000 * MS, "b", 1, 10000, 1, buf, sizeof(buf));
    assert_non_null(strstr(buf, "5 h 33 min left"));
    n = progress_line(&p, 3300 * MS, "b", 10, 1000, 1, buf, sizeof(buf));
    assert_non_null(strstr(buf, "3 min 48 s left"));
    /* The end erases the line once. */
    assert_int_equal(progress_clear(&p, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "\r\033[K");
    assert_int_equal(progress_clear(&p, buf, sizeof(buf)), 0);
    /* A small buffer: cut, never overrun. */
    n = progress_line(&p, 9000 * MS, "a.pcap", 1, 2, 3, buf, 10);
    assert_int_equal(n, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
