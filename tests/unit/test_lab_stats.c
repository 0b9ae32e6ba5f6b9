/* Tests for shared/lab_stats.c: the lines labd status and labmon show for a lab link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shared/lab_stats.h"

static char err[256];

static void test_link_lines(void **state)
{
    struct lab_stats_link l = { .seq = 6 };
    struct lab_opts o;
    char line[512];

    (void)state;
    lab_opts_init(&o);
    o.on = 1;
    lab_stats_link_fill(&l, 0xc6120000u, "labd0", 8080, &o);
    assert_int_equal(l.seq, 6);
    assert_int_equal(l.wire, 0);
    lab_stats_status_line(&l, line, sizeof(line));
    assert_string_equal(line,
                        "lab: http://198.18.0.2:8080/ via labd0 (MTU 1500, rtt +0 ms, loss 0 %)");
    lab_stats_header(&l, line, sizeof(line));
    assert_string_equal(line, "lab labd0 +0ms 0%");

    assert_int_equal(lab_opts_set(&o, "lab-rtt", "40", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&o, "lab-loss", "1.5", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&o, "lab-rate", "500kbit", err, sizeof(err)), 0);
    lab_stats_link_fill(&l, 0xc6120004u, "labd1", 80, &o);
    assert_int_equal(l.wire, 1);
    lab_stats_status_line(&l, line, sizeof(line));
    assert_string_equal(line,
                        "lab: http://198.18.0.6:80/ via labd1 (MTU 1500, rtt +40 ms, loss 1.5 "
                        "%, rate 500kbit)");
    lab_stats_header(&l, line, sizeof(line));
    assert_string_equal(line, "lab labd1 +40ms 1.5% 500kbit");
    lab_stats_header(&l, line, 10);
    assert_string_equal(line, "lab labd1");
    lab_stats_url(&l, line, sizeof(line));
    assert_string_equal(line, "http://198.18.0.6:80/");
}

static void test_counters_line(void **state)
{
    struct lab_stats s;
    char line[512];

    (void)state;
    memset(&s, 0, sizeof(s));
    s.dir[0].forwarded = 1731;
    s.dir[0].delayed = 1731;
    s.dir[1].forwarded = 2085;
    s.dir[1].lost = 21;
    s.dir[1].ruled = 1;
    s.dir[1].queue_drops = 3;
    lab_stats_counters_line(&s, 0, line, sizeof(line));
    assert_string_equal(
        line, "c2s 1731 forwarded, 1731 delayed, 0 lost, 0 dropped by rule, 0 queue drops");
    lab_stats_counters_line(&s, 1, line, sizeof(line));
    assert_string_equal(line,
                        "s2c 2085 forwarded, 0 delayed, 21 lost, 1 dropped by rule, 3 queue drops");
    s.dir[1].overruns = 9;
    lab_stats_counters_line(&s, 1, line, sizeof(line));
    assert_non_null(strstr(line, "3 queue drops, 0 oversize, 9 overruns, 0 send errors"));
    lab_stats_counters_line(&s, 1, line, 20);
    assert_string_equal(line, "s2c 2085 forwarded,");
    lab_stats_counters_total(&s, line, sizeof(line));
    assert_string_equal(line, "wire fwd 3816 dly 1731 lost 21 rule 1 qdrop 3");

    struct lab_stats base;
    memset(&base, 0, sizeof(base));
    base.dir[1].forwarded = 2000;
    base.dir[1].lost = 30; /* more than now: a counter that restarted */
    lab_stats_since(&s, &base);
    lab_stats_counters_total(&s, line, sizeof(line));
    assert_string_equal(line, "wire fwd 1816 dly 1731 lost 0 rule 1 qdrop 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_lines),
        cmocka_unit_test(test_counters_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
