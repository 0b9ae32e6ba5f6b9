/* Tests for shared/lab_opts.c: every --lab value, good and bad, and the one-line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "shared/lab_opts.h"

static char err[256];

/* The value lab_opts_set stored for key. */
static uint64_t knob(const struct lab_opts *o, const char *key)
{
    if (strcmp(key, "lab-net") == 0)
        return o->net;
    if (strcmp(key, "lab-rtt") == 0)
        return o->rtt_us;
    if (strcmp(key, "lab-loss") == 0)
        return o->loss_ppm;
    if (strcmp(key, "lab-seed") == 0)
        return o->seed;
    return o->rate_bps;
}

/* "TEXT=WANT TEXT=WANT ...": each TEXT of key is taken and stored as WANT. */
static void expect_taken(const char *key, const char *list)
{
    char buf[512], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", list);
    for (char *item = strtok_r(buf, " ", &save); item; item = strtok_r(NULL, " ", &save)) {
        char *eq = strrchr(item, '=');
        struct lab_opts o;

        assert_non_null(eq);
        *eq = '\0';
        lab_opts_init(&o);
        assert_int_equal(lab_opts_set(&o, key, item, err, sizeof(err)), 0);
        assert_true(knob(&o, key) == strtoull(eq + 1, NULL, 0));
    }
}

/*
 * "TEXT|TEXT=>SAYS|...": each TEXT of key is refused with one line that
 * starts "KEY: " (and contains SAYS when given), changing nothing.
 */
static void expect_refused(const char *key, const char *list)
{
    size_t klen = strlen(key);
    const char *p = list;

    for (;;) {
        const char *bar = strchr(p, '|');
        char item[128], *says;
        struct lab_opts o;

        snprintf(item, sizeof(item), "%.*s", (int)(bar ? (size_t)(bar - p) : strlen(p)), p);
        says = strstr(item, "=>");
        if (says) {
            *says = '\0';
            says += 2;
        }
        lab_opts_init(&o);
        o.net = 0x0a0908fcu;
        assert_int_equal(lab_opts_set(&o, key, item, err, sizeof(err)), -1);
        assert_true(strncmp(err, key, klen) == 0 && strncmp(err + klen, ": ", 2) == 0);
        assert_null(strchr(err, '\n'));
        if (says)
            assert_non_null(strstr(err, says));
        assert_int_equal(o.net, 0x0a0908fcu);
        assert_int_equal(o.wire, 0);
        if (!bar)
            break;
        p = bar + 1;
    }
}

static void test_good_values(void **state)
{
    (void)state;
    expect_taken("lab-net", "198.18.0.0/30=0xc6120000 198.18.0.4=0xc6120004 "
                            "10.9.8.252/30=0x0a0908fc");
    expect_taken("lab-rtt", "40=40000 0=0 12.5ms=12500 0.001=1 60000=60000000");
    expect_taken("lab-loss", "1=10000 0.5%=5000 100=1000000 0.0001=1 .25=2500");
    expect_taken("lab-seed", "7=7 18446744073709551615=18446744073709551615");
    expect_taken("lab-rate", "10mbit=10000000 500kbit=500000 1gbit=1000000000 1.5Mbit=1500000 "
                             "100kbps=800000 8000bit=8000 100gbit=100000000000");
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_refused("lab-net", "198.18.0.0/24=>is a /24; the lab link is a /30"
                              "|198.18.0.5/30=>lab-net: 198.18.0.5/30 does not start a /30 "
                              "(198.18.0.4/30 does)"
                              "|127.0.0.0/30=>not a unicast network|224.0.0.0/30|169.254.0.0/30"
                              "|0.0.0.0/30|=>is not an IPv4 network|/30|198.18.0|198.18.0.0/"
                              "|198.18.0.0/x|198.18.0.0/33|198.18.0.0/30x|fe80::/64"
                              "|198.18.0.256/30|198.18.0.0/-30");
    expect_refused("lab-rtt", "60000.001=>more than the 60000 ms allowed"
                              "|4O=>lab-rtt: '4O' is not a number of milliseconds (e.g. 40)"
                              "||-1|1.0001|ms|40 ms|1e3|99999999999999999999");
    expect_refused("lab-loss", "100.01=>lab-loss: 100.01 is more than 100 %"
                               "|=>is not a percentage|-1|0.00001|1%%|x|1.2.3|.");
    expect_refused("lab-seed", "-7=>is not a whole number||18446744073709551616|0x10|7.5");
    expect_refused("lab-rate", "10=>not a rate with a unit"
                               "|7999bit=>lab-rate: 7999bit is outside 8kbit to 100gbit"
                               "|101gbit=>is outside|0mbit=>is outside|99999999999999gbps"
                               "|mbit|10 mbit|10mb|-1mbit|1.0001mbit|10mbits");
    expect_refused("lab-drop", "x2s:5=>lab-drop: 'x2s:5' is not syn, c2s:N, s2c:N or s2c:N-M "
                               "with N from 1 (e.g. s2c:5,s2c:6,c2s:3)"
                               "||,|s2c:5,|s2c:0|s2c:|s2c:x|s2c:7-5|s2c:5-|syn,fin|s2c 5");
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
    assert_int_equal(lab_opts_find("lab_drop"), 6);
    assert_int_equal(lab_opts_find("lab-foo"), -1);
}

/* A reload restarts the wire only when what it does changed. */
static void test_same_knobs(void **state)
{
    struct lab_opts a, b;

    (void)state;
    lab_opts_init(&a);
    lab_opts_init(&b);
    assert_true(lab_opts_same_knobs(&a, &b));
    assert_int_equal(lab_opts_set(&a, "lab-rtt", "40", err, sizeof(err)), 0);
    assert_false(lab_opts_same_knobs(&a, &b));
    assert_int_equal(lab_opts_set(&b, "lab-rtt", "40ms", err, sizeof(err)), 0);
    assert_true(lab_opts_same_knobs(&a, &b));
    b.on = 1; /* not a knob */
    assert_true(lab_opts_same_knobs(&a, &b));
    assert_int_equal(lab_opts_set(&b, "lab-drop", "s2c:5", err, sizeof(err)), 0);
    assert_false(lab_opts_same_knobs(&a, &b));
    assert_int_equal(lab_opts_set(&a, "lab-drop", "s2c:5", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&a, "lab-seed", "7", err, sizeof(err)), 0);
    assert_false(lab_opts_same_knobs(&a, &b));
    assert_int_equal(lab_opts_set(&b, "lab-seed", "8", err, sizeof(err)), 0);
    assert_false(lab_opts_same_knobs(&a, &b));
    assert_int_equal(lab_opts_set(&b, "lab-seed", "7", err, sizeof(err)), 0);
    assert_true(lab_opts_same_knobs(&a, &b));
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
        cmocka_unit_test(test_good_values), cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_drop),        cmocka_unit_test(test_set_and_describe),
        cmocka_unit_test(test_same_knobs),  cmocka_unit_test(test_overlap_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
