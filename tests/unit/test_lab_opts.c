/* Tests for shared/lab_opts.c: every --lab value, good and bad, and the one-line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shared/lab_opts.h"

static char err[256];

static void test_net(void **state)
{
    uint32_t net = 0;

    (void)state;
    assert_int_equal(lab_opts_parse_net("198.18.0.0/30", &net, err, sizeof(err)), 0);
    assert_int_equal(net, 0xc6120000u);
    assert_int_equal(lab_opts_parse_net("198.18.0.4", &net, err, sizeof(err)), 0);
    assert_int_equal(net, 0xc6120004u);
    assert_int_equal(lab_opts_parse_net("10.9.8.252/30", &net, err, sizeof(err)), 0);
    assert_int_equal(net, 0x0a0908fcu);

    assert_int_equal(lab_opts_parse_net("198.18.0.0/24", &net, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a /24; the lab link is a /30"));
    assert_int_equal(lab_opts_parse_net("198.18.0.5/30", &net, err, sizeof(err)), -1);
    assert_string_equal(err, "lab-net: 198.18.0.5/30 does not start a /30 (198.18.0.4/30 does)");
    assert_int_equal(lab_opts_parse_net("127.0.0.0/30", &net, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a unicast network"));
    assert_int_equal(lab_opts_parse_net("224.0.0.0/30", &net, err, sizeof(err)), -1);
    assert_int_equal(lab_opts_parse_net("169.254.0.0/30", &net, err, sizeof(err)), -1);
    assert_int_equal(lab_opts_parse_net("0.0.0.0/30", &net, err, sizeof(err)), -1);
    const char *bad[] = { "",
                          "/30",
                          "198.18.0",
                          "198.18.0.0/",
                          "198.18.0.0/x",
                          "198.18.0.0/33",
                          "198.18.0.0/30x",
                          "fe80::/64",
                          "198.18.0.256/30",
                          "198.18.0.0/-30" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lab_opts_parse_net(bad[i], &net, err, sizeof(err)), -1);
        assert_true(strncmp(err, "lab-net: ", 9) == 0);
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(net, 0x0a0908fcu); /* untouched by failures */
}

static void test_rtt(void **state)
{
    uint32_t us = 7;

    (void)state;
    assert_int_equal(lab_opts_parse_rtt("40", &us, err, sizeof(err)), 0);
    assert_int_equal(us, 40000);
    assert_int_equal(lab_opts_parse_rtt("0", &us, err, sizeof(err)), 0);
    assert_int_equal(us, 0);
    assert_int_equal(lab_opts_parse_rtt("12.5ms", &us, err, sizeof(err)), 0);
    assert_int_equal(us, 12500);
    assert_int_equal(lab_opts_parse_rtt("0.001", &us, err, sizeof(err)), 0);
    assert_int_equal(us, 1);
    assert_int_equal(lab_opts_parse_rtt("60000", &us, err, sizeof(err)), 0);
    assert_int_equal(lab_opts_parse_rtt("60000.001", &us, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than the 60000 ms allowed"));
    const char *bad[] = { "", "-1", "4O", "1.0001", "ms", "40 ms", "1e3", "99999999999999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lab_opts_parse_rtt(bad[i], &us, err, sizeof(err)), -1);
        assert_true(strncmp(err, "lab-rtt: ", 9) == 0);
    }
}

static void test_loss(void **state)
{
    uint32_t ppm;

    (void)state;
    assert_int_equal(lab_opts_parse_loss("1", &ppm, err, sizeof(err)), 0);
    assert_int_equal(ppm, 10000);
    assert_int_equal(lab_opts_parse_loss("0.5%", &ppm, err, sizeof(err)), 0);
    assert_int_equal(ppm, 5000);
    assert_int_equal(lab_opts_parse_loss("100", &ppm, err, sizeof(err)), 0);
    assert_int_equal(ppm, 1000000);
    assert_int_equal(lab_opts_parse_loss("0.0001", &ppm, err, sizeof(err)), 0);
    assert_int_equal(ppm, 1);
    assert_int_equal(lab_opts_parse_loss(".25", &ppm, err, sizeof(err)), 0);
    assert_int_equal(ppm, 2500);
    assert_int_equal(lab_opts_parse_loss("100.01", &ppm, err, sizeof(err)), -1);
    assert_string_equal(err, "lab-loss: 100.01 is more than 100 %");
    const char *bad[] = { "", "-1", "0.00001", "1%%", "x", "1.2.3", "." };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lab_opts_parse_loss(bad[i], &ppm, err, sizeof(err)), -1);
        assert_true(strncmp(err, "lab-loss: ", 10) == 0);
    }
}

static void test_seed(void **state)
{
    uint64_t seed;

    (void)state;
    assert_int_equal(lab_opts_parse_seed("7", &seed, err, sizeof(err)), 0);
    assert_int_equal(seed, 7);
    assert_int_equal(lab_opts_parse_seed("18446744073709551615", &seed, err, sizeof(err)), 0);
    assert_true(seed == UINT64_MAX);
    const char *bad[] = { "", "-7", "18446744073709551616", "0x10", "7.5", "seven" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lab_opts_parse_seed(bad[i], &seed, err, sizeof(err)), -1);
        assert_true(strncmp(err, "lab-seed: ", 10) == 0);
    }
}

static void test_rate(void **state)
{
    uint64_t bps;

    (void)state;
    assert_int_equal(lab_opts_parse_rate("10mbit", &bps, err, sizeof(err)), 0);
    assert_true(bps == 10000000);
    assert_int_equal(lab_opts_parse_rate("500kbit", &bps, err, sizeof(err)), 0);
    assert_true(bps == 500000);
    assert_int_equal(lab_opts_parse_rate("1gbit", &bps, err, sizeof(err)), 0);
    assert_true(bps == 1000000000);
    assert_int_equal(lab_opts_parse_rate("1.5Mbit", &bps, err, sizeof(err)), 0);
    assert_true(bps == 1500000);
    assert_int_equal(lab_opts_parse_rate("100kbps", &bps, err, sizeof(err)), 0);
    assert_true(bps == 800000);
    assert_int_equal(lab_opts_parse_rate("8000bit", &bps, err, sizeof(err)), 0);
    assert_int_equal(lab_opts_parse_rate("100gbit", &bps, err, sizeof(err)), 0);

    assert_int_equal(lab_opts_parse_rate("10", &bps, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a rate with a unit"));
    assert_int_equal(lab_opts_parse_rate("7999bit", &bps, err, sizeof(err)), -1);
    assert_string_equal(err, "lab-rate: 7999bit is outside 8kbit to 100gbit");
    assert_int_equal(lab_opts_parse_rate("101gbit", &bps, err, sizeof(err)), -1);
    assert_int_equal(lab_opts_parse_rate("0mbit", &bps, err, sizeof(err)), -1);
    assert_int_equal(lab_opts_parse_rate("99999999999999gbps", &bps, err, sizeof(err)), -1);
    const char *bad[] = { "", "mbit", "10 mbit", "10mb", "-1mbit", "1.0001mbit", "10mbits" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lab_opts_parse_rate(bad[i], &bps, err, sizeof(err)), -1);
        assert_true(strncmp(err, "lab-rate: ", 10) == 0);
    }
}

static void test_drop(void **state)
{
    struct lab_opts_drops d;

    (void)state;
    assert_int_equal(lab_opts_parse_drop("s2c:6,s2c:5,c2s:3,syn,s2c:5", &d, err, sizeof(err)), 0);
    assert_int_equal(d.syn, 1);
    assert_int_equal(d.n[LAB_OPTS_S2C], 2);
    assert_int_equal(d.nth[LAB_OPTS_S2C][0], 5);
    assert_int_equal(d.nth[LAB_OPTS_S2C][1], 6);
    assert_int_equal(d.n[LAB_OPTS_C2S], 1);
    assert_int_equal(d.nth[LAB_OPTS_C2S][0], 3);

    assert_int_equal(lab_opts_parse_drop("S2C:10-12", &d, err, sizeof(err)), 0);
    assert_int_equal(d.syn, 0);
    assert_int_equal(d.n[LAB_OPTS_S2C], 3);
    assert_int_equal(d.nth[LAB_OPTS_S2C][2], 12);

    assert_int_equal(lab_opts_parse_drop("s2c:1-32", &d, err, sizeof(err)), 0);
    assert_int_equal(lab_opts_parse_drop("s2c:1-33", &d, err, sizeof(err)), -1);
    assert_string_equal(err, "lab-drop: more than 32 segments to drop s2c");
    assert_int_equal(d.n[LAB_OPTS_S2C], 32); /* untouched by the failure */

    const char *bad[] = { "",      ",",       "s2c:5,", "s2c:0",   "s2c:", "s2c:x",
                          "x2s:5", "s2c:7-5", "s2c:5-", "syn,fin", "s2c 5" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(lab_opts_parse_drop(bad[i], &d, err, sizeof(err)), -1);
        assert_true(strncmp(err, "lab-drop: ", 10) == 0);
    }
    assert_int_equal(lab_opts_parse_drop("x2s:5", &d, err, sizeof(err)), -1);
    assert_string_equal(err, "lab-drop: 'x2s:5' is not syn, c2s:N, s2c:N or s2c:N-M with N from 1 "
                             "(e.g. s2c:5,s2c:6,c2s:3)");
}

static void test_set_and_describe(void **state)
{
    struct lab_opts o;
    char out[256];

    (void)state;
    lab_opts_init(&o);
    assert_int_equal(lab_opts_check(&o, err, sizeof(err)), 0);
    lab_opts_describe(&o, out, sizeof(out));
    assert_string_equal(out, "rtt +0 ms, loss 0 %");
    assert_int_equal(lab_opts_set(&o, "lab-rtt", "40", err, sizeof(err)), 0);
    assert_int_equal(o.wire, 1);
    assert_int_equal(lab_opts_check(&o, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "add --lab"));
    assert_int_equal(lab_opts_set(&o, "lab", "on", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_check(&o, err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&o, "lab_loss", "1.25", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&o, "lab-seed", "7", err, sizeof(err)), 0);
    assert_int_equal(o.seed_given, 1);
    assert_int_equal(lab_opts_set(&o, "lab-rate", "1.5mbit", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&o, "lab-drop", "syn,s2c:5,c2s:3", err, sizeof(err)), 0);
    lab_opts_describe(&o, out, sizeof(out));
    assert_string_equal(out,
                        "rtt +40 ms, loss 1.25 % (seed 7), rate 1.5mbit, drop syn,c2s:3,s2c:5");
    assert_int_equal(lab_opts_set(&o, "lab-rtt", "0.5", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&o, "lab-rate", "64kbps", err, sizeof(err)), 0);
    lab_opts_describe(&o, out, 24);
    assert_string_equal(out, "rtt +0.5 ms, loss 1.25 ");
    lab_opts_describe(&o, out, sizeof(out));
    assert_non_null(strstr(out, "rate 512kbit"));

    assert_int_equal(lab_opts_set(&o, "lab", "maybe", err, sizeof(err)), -1);
    assert_string_equal(err, "lab: 'maybe' is not on or off");
    assert_int_equal(lab_opts_set(&o, "lab-delay", "4", err, sizeof(err)), -1);
    assert_string_equal(err, "unknown option lab-delay");

    struct lab_opts p;
    lab_opts_init(&p);
    p.on = 1;
    assert_false(lab_opts_same_link(&o, &p));
    p.wire = 1;
    assert_true(lab_opts_same_link(&o, &p));
    assert_int_equal(lab_opts_set(&p, "lab-net", "198.18.0.8/30", err, sizeof(err)), 0);
    assert_false(lab_opts_same_link(&o, &p));
    assert_true(lab_opts_nkeys == 7 && strcmp(lab_opts_keys[0].name, "lab") == 0);
}

static void test_overlap_and_names(void **state)
{
    char name[LAB_OPTS_IFNAME_MAX];

    (void)state;
    assert_true(lab_opts_overlaps(0xc6120000u, 0xc6120001u, 30));
    assert_true(lab_opts_overlaps(0xc6120000u, 0xc6120002u, 32));
    assert_false(lab_opts_overlaps(0xc6120000u, 0xc6120004u, 30));
    assert_false(lab_opts_overlaps(0xc6120000u, 0xc6120004u, 32));
    assert_true(lab_opts_overlaps(0xc6120004u, 0xc6120000u, 15));
    assert_true(lab_opts_overlaps(0xc6120004u, 0x0a000001u, 0));
    assert_false(lab_opts_overlaps(0xc6120004u, 0x0a000001u, 8));
    assert_true(lab_opts_overlaps(0x0a000004u, 0x0a000001u, 8));

    lab_opts_ifname(0xc6120000u, name);
    assert_string_equal(name, "labd0");
    lab_opts_ifname(0xc6120004u, name);
    assert_string_equal(name, "labd1");
    lab_opts_ifname(0xc613fffcu, name);
    assert_string_equal(name, "labd32767");
    lab_opts_ifname(0x0a0908fcu, name);
    assert_string_equal(name, "labd-0a0908fc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net),
        cmocka_unit_test(test_rtt),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_seed),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_set_and_describe),
        cmocka_unit_test(test_overlap_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
