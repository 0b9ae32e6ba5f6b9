/* Tests for worker/range.c: the Range decision table, If-Range, multipart framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "worker/range.h"

struct range_case {
    const char *value;
    off_t size;
    int max;
    enum range_decision want;
    const char *parts; /* "first-last,first-last" when 206 */
};

static const struct range_case range_cases[] = {
    /* Single ranges. */
    { "bytes=0-0", 100, 16, RANGE_PARTIAL, "0-0" },
    { "bytes=0-1", 100, 16, RANGE_PARTIAL, "0-1" },
    { "bytes=0-", 100, 16, RANGE_PARTIAL, "0-99" },
    { "bytes=10-19", 100, 16, RANGE_PARTIAL, "10-19" },
    { "bytes=10-1000", 100, 16, RANGE_PARTIAL, "10-99" },
    { "bytes=99-", 100, 16, RANGE_PARTIAL, "99-99" },
    { "bytes=-10", 100, 16, RANGE_PARTIAL, "90-99" },
    { "bytes=-100", 100, 16, RANGE_PARTIAL, "0-99" },
    { "bytes=-1000", 100, 16, RANGE_PARTIAL, "0-99" },
    { "BYTES=1-2", 100, 16, RANGE_PARTIAL, "1-2" },
    { "bytes = 1-2", 100, 16, RANGE_PARTIAL, "1-2" },
    { "bytes=1 - 2", 100, 16, RANGE_PARTIAL, "1-2" },
    { "bytes=0-99999999999999999999999", 100, 16, RANGE_PARTIAL, "0-99" },
    { "bytes=-99999999999999999999999", 100, 16, RANGE_PARTIAL, "0-99" },
    /* Lists, with whitespace and empty elements. */
    { "bytes=0-1,5-6", 100, 16, RANGE_PARTIAL, "0-1,5-6" },
    { "bytes=0-1, 5-6 ,\t-2", 100, 16, RANGE_PARTIAL, "0-1,5-6,98-99" },
    { "bytes=,0-1,,5-6,", 100, 16, RANGE_PARTIAL, "0-1,5-6" },
    { "bytes=50-59,0-9", 100, 16, RANGE_PARTIAL, "50-59,0-9" }, /* order kept, as nginx */
    { "bytes=0-10,5-15", 100, 16, RANGE_PARTIAL, "0-10,5-15" }, /* small overlap allowed */
    /* Unsatisfiable ranges are dropped; none left is 416. */
    { "bytes=100-", 100, 16, RANGE_UNSATISFIABLE, NULL },
    { "bytes=100-200", 100, 16, RANGE_UNSATISFIABLE, NULL },
    { "bytes=-0", 100, 16, RANGE_UNSATISFIABLE, NULL },
    { "bytes=99999999999999999999999-", 100, 16, RANGE_UNSATISFIABLE, NULL },
    { "bytes=200-300,0-1", 100, 16, RANGE_PARTIAL, "0-1" },
    { "bytes=200-300,400-", 100, 16, RANGE_UNSATISFIABLE, NULL },
    /* Malformed: ignored, the full 200 (nginx answers 416 for some; the RFC says ignore). */
    { "", 100, 16, RANGE_FULL, NULL },
    { "bytes", 100, 16, RANGE_FULL, NULL },
    { "bytes=", 100, 16, RANGE_FULL, NULL },
    { "bytes=,", 100, 16, RANGE_FULL, NULL },
    { "bytes=abc", 100, 16, RANGE_FULL, NULL },
    { "bytes=5-3", 100, 16, RANGE_FULL, NULL },
    { "bytes=0-1,5-3", 100, 16, RANGE_FULL, NULL },
    { "bytes=-", 100, 16, RANGE_FULL, NULL },
    { "bytes=--5", 100, 16, RANGE_FULL, NULL },
    { "bytes=1-2-3", 100, 16, RANGE_FULL, NULL },
    { "bytes=1-2 3", 100, 16, RANGE_FULL, NULL },
    { "bytes=0x10-", 100, 16, RANGE_FULL, NULL },
    { "bytes=+1-2", 100, 16, RANGE_FULL, NULL },
    { "bytes 0-1", 100, 16, RANGE_FULL, NULL },
    { "items=0-1", 100, 16, RANGE_FULL, NULL },
    { "bytesx=0-1", 100, 16, RANGE_FULL, NULL },
    { "bytes=0-1;", 100, 16, RANGE_FULL, NULL },
    /* CVE-2011-3192 defences: too many ranges, or more bytes than the file. */
    { "bytes=0-0,1-1,2-2", 100, 2, RANGE_FULL, NULL },
    { "bytes=0-0,1-1", 100, 2, RANGE_PARTIAL, "0-0,1-1" },
    { "bytes=0-0,200-,1-1", 100, 2, RANGE_PARTIAL, "0-0,1-1" }, /* only satisfiable ones count */
    { "bytes=0-,0-", 100, 16, RANGE_FULL, NULL },
    { "bytes=0-60,40-99", 100, 16, RANGE_FULL, NULL },
    { "bytes=0-49,50-99", 100, 16, RANGE_PARTIAL, "0-49,50-99" }, /* exactly the file */
    { "bytes=-1,-1,-1", 2, 16, RANGE_FULL, NULL },
    /* Zero-length files: no 206 possible; "0-" and suffixes get the empty 200, as nginx. */
    { "bytes=0-", 0, 16, RANGE_FULL, NULL },
    { "bytes=0-10", 0, 16, RANGE_FULL, NULL },
    { "bytes=-5", 0, 16, RANGE_FULL, NULL },
    { "bytes=5-10", 0, 16, RANGE_UNSATISFIABLE, NULL },
    /* One-byte file. */
    { "bytes=0-0", 1, 16, RANGE_PARTIAL, "0-0" },
    { "bytes=1-", 1, 16, RANGE_UNSATISFIABLE, NULL },
    { "bytes=-1", 1, 16, RANGE_PARTIAL, "0-0" },
};

static void format_parts(const struct range_set *rs, char *buf, size_t len)
{
    size_t o = 0;

    buf[0] = '\0';
    for (int i = 0; i < rs->n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld-%lld", i ? "," : "",
                              (long long)rs->part[i].first, (long long)rs->part[i].last);
}

static void test_table(void **state)
{
    static struct range_set rs;
    char got[256];

    (void)state;
    for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        const struct range_case *c = &range_cases[i];
        enum range_decision d = range_parse(c->value, strlen(c->value), c->size, c->max, &rs);
        if (d != c->want)
            fail_msg("\"%s\" size %lld: decision %d, want %d", c->value, (long long)c->size, d,
                     c->want);
        if (d == RANGE_PARTIAL) {
            format_parts(&rs, got, sizeof(got));
            if (strcmp(got, c->parts) != 0)
                fail_msg("\"%s\": parts %s, want %s", c->value, got, c->parts);
        } else {
            assert_int_equal(rs.n, 0);
        }
    }
}

static void test_hard_cap(void **state)
{
    static struct range_set rs;
    static char big[16 * (RANGE_MAX_PARTS + 2)];
    size_t o = 0;

    (void)state;
    o += (size_t)snprintf(big, sizeof(big), "bytes=");
    for (int i = 0; i < RANGE_MAX_PARTS + 1; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%d-%d,", i, i);
    /* Even with a configured limit above the cap, the cap holds. */
    assert_int_equal(range_parse(big, o, 100000, 1000, &rs), RANGE_FULL);
    /* Exactly the cap is fine. */
    o = (size_t)(strrchr(big, ',') - big);
    o = (size_t)((const char *)memrchr(big, ',', o) - big);
    assert_int_equal(range_parse(big, o, 100000, 1000, &rs), RANGE_PARTIAL);
    assert_int_equal(rs.n, RANGE_MAX_PARTS);
}

static void test_not_nul_terminated(void **state)
{
    static struct range_set rs;
    const char *v = "bytes=0-1999";

    (void)state;
    assert_int_equal(range_parse(v, 9, 100, 16, &rs), RANGE_PARTIAL);
    assert_int_equal(rs.part[0].last, 1);
}

static void test_if_range(void **state)
{
    const char *etag = "\"5f1-64-abc\"";
    time_t mtime = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

    (void)state;
#define IR(s) range_if_range_ok(s, strlen(s), etag, mtime)
    assert_true(IR("\"5f1-64-abc\""));
    assert_true(IR(" \"5f1-64-abc\" "));
    assert_false(IR("W/\"5f1-64-abc\""));
    assert_false(IR("\"5f1-64-abd\""));
    assert_false(IR("\"5f1-64-abc"));
    assert_false(IR("5f1-64-abc"));
    assert_false(IR(""));
    assert_true(IR("Sun, 06 Nov 1994 08:49:37 GMT"));
    assert_true(IR("Sunday, 06-Nov-94 08:49:37 GMT"));
    assert_false(IR("Sun, 06 Nov 1994 08:49:38 GMT"));
    assert_false(IR("Sun, 06 Nov 1994 08:49:36 GMT"));
    assert_false(IR("yesterday"));
#undef IR
}

/* Build the whole multipart body in memory and check it against the computed length. */
static void test_multipart_body(void **state)
{
    static struct range_set rs;
    static char file[1000], body[8192];
    const char *v = "bytes=0-9,500-599,-5";
    char boundary[RANGE_BOUNDARY_LEN + 1];
    const char *type = "text/plain; charset=utf-8";
    size_t o = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(file); i++)
        file[i] = (char)('a' + i % 26);
    assert_int_equal(range_parse(v, strlen(v), 1000, 16, &rs), RANGE_PARTIAL);
    assert_int_equal(rs.n, 3);
    range_boundary(42, boundary);
    assert_string_equal(boundary, "00000000000000000042");
    range_boundary(UINT64_MAX, boundary);
    assert_int_equal(strlen(boundary), RANGE_BOUNDARY_LEN);
    for (int i = 0; i < rs.n; i++) {
        o += range_part_header(&rs, i, boundary, type, 1000, body + o, sizeof(body) - o);
        size_t n = (size_t)(rs.part[i].last - rs.part[i].first + 1);
        memcpy(body + o, file + rs.part[i].first, n);
        o += n;
    }
    o += range_trailer(boundary, body + o, sizeof(body) - o);
    assert_int_equal(range_multipart_length(&rs, boundary, type, 1000), (off_t)o);
    /* The framing is what RFC 9110 §14.6 shows. */
    char want[256];
    snprintf(want, sizeof(want),
             "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes 0-9/1000\r\n\r\nabcdefghij"
             "\r\n--%s\r\n",
             boundary, type, boundary);
    assert_memory_equal(body, want, strlen(want));
    snprintf(want, sizeof(want), "Content-Range: bytes 995-999/1000\r\n\r\n%.5s\r\n--%s--\r\n",
             file + 995, boundary);
    assert_memory_equal(body + o - strlen(want), want, strlen(want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_hard_cap),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_if_range),
        cmocka_unit_test(test_multipart_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
