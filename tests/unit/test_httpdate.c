/* Tests for worker/httpdate.c: the three HTTP date forms and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "worker/httpdate.h"

/* RFC 9110's example instant: Sun, 06 Nov 1994 08:49:37 GMT. */
#define EXAMPLE ((time_t)784111777)

static int parse(const char *s, time_t *t)
{
    return httpdate_parse(s, strlen(s), t);
}

static void test_format(void **state)
{
    char buf[HTTPDATE_LEN + 1];

    (void)state;
    assert_int_equal(httpdate_format(EXAMPLE, buf), HTTPDATE_LEN);
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    httpdate_format(0, buf);
    assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void test_three_forms(void **state)
{
    time_t t = 0;

    (void)state;
    assert_int_equal(parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    assert_int_equal(t, EXAMPLE);
    t = 0;
    assert_int_equal(parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
    assert_int_equal(t, EXAMPLE);
    t = 0;
    assert_int_equal(parse("Sun Nov  6 08:49:37 1994", &t), 0);
    assert_int_equal(t, EXAMPLE);
    t = 0;
    assert_int_equal(parse("Sun Nov 06 08:49:37 1994", &t), 0);
    assert_int_equal(t, EXAMPLE);
}

static void test_round_trip(void **state)
{
    static const time_t samples[] = { 0,          1,          951782400 /* 2000-02-29 */,
                                      1700000000, 4102444799, 68169600 /* 1972-02-29 */ };
    char buf[HTTPDATE_LEN + 1];
    time_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        httpdate_format(samples[i], buf);
        assert_int_equal(parse(buf, &t), 0);
        assert_int_equal(t, samples[i]);
    }
}

static void test_lenient(void **state)
{
    time_t t = 0;

    (void)state;
    /* Wrong weekday accepted, as nginx does. */
    assert_int_equal(parse("Mon, 06 Nov 1994 08:49:37 GMT", &t), 0);
    assert_int_equal(t, EXAMPLE);
    /* Surrounding whitespace (OWS) is not part of the value. */
    assert_int_equal(parse("  Sun, 06 Nov 1994 08:49:37 GMT \t", &t), 0);
    assert_int_equal(t, EXAMPLE);
    /* RFC 850 two-digit years: 00-69 -> 20xx. */
    assert_int_equal(parse("Thursday, 01-Jan-70 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(parse("Saturday, 01-Jan-00 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 946684800);
    /* Leap day in a leap year. */
    assert_int_equal(parse("Tue, 29 Feb 2000 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 951782400);
}

static void test_invalid(void **state)
{
    static const char *bad[] = {
        "",
        "GMT",
        "Sun, 06 Nov 1994 08:49:37",          /* no zone */
        "Sun, 06 Nov 1994 08:49:37 UTC",      /* only GMT */
        "Sun, 06 Nov 1994 08:49:37 GMT junk", /* trailing text */
        "Sun, 6 Nov 1994 08:49:37 GMT",       /* one-digit day */
        "Sun, 06 nov 1994 08:49:37 GMT",      /* month is case-sensitive */
        "Sun, 06 Nox 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT", /* no such day */
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Thu, 29 Feb 1900 00:00:00 GMT", /* 1900 is not a leap year */
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:60 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",      /* two-digit year in IMF form */
        "Sunday, 06-Nov-1994 08:49:37 GMT", /* four-digit year in RFC 850 form */
        "Sun, 06-Nov-94 08:49:37 GMT",      /* RFC 850 needs the full day name */
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov 6 08:49:37 1994",
        "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:3 GMT",
        "Sun, 06 Nov 1994 08:4a:37 GMT",
        "Su, 06 Nov 1994 08:49:37 GMT",
        "-1",
    };
    time_t t = 12345;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &t) != -1)
            fail_msg("accepted invalid date \"%s\"", bad[i]);
    }
    assert_int_equal(t, 12345);
}

static void test_length_bounded(void **state)
{
    const char *s = "Sun, 06 Nov 1994 08:49:37 GMTXYZ";
    time_t t;

    (void)state;
    /* Only len bytes are read: the header value is not NUL-terminated. */
    assert_int_equal(httpdate_parse(s, 29, &t), 0);
    assert_int_equal(t, EXAMPLE);
    for (size_t n = 0; n < 29; n++)
        assert_int_equal(httpdate_parse(s, n, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),     cmocka_unit_test(test_three_forms),
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_lenient),
        cmocka_unit_test(test_invalid),    cmocka_unit_test(test_length_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
