/* Tests for worker/cond.c: ETag form, list matching, and the RFC 9110 §13.2.2 order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "worker/cond.h"

#define ETAG  "\"1a-64-2ebc98a1\""
#define MTIME ((time_t)784111777)             /* Sun, 06 Nov 1994 08:49:37 GMT */
#define AT    "Sun, 06 Nov 1994 08:49:37 GMT" /* == MTIME */
#define AFTER "Sun, 06 Nov 1994 08:49:38 GMT"
#define BEFOR "Sun, 06 Nov 1994 08:49:36 GMT"

static void test_etag(void **state)
{
    char buf[COND_ETAG_MAX];

    (void)state;
    assert_int_equal(cond_etag(0x1a, 100, MTIME, buf), strlen(ETAG));
    assert_string_equal(buf, ETAG);
    assert_int_equal(cond_etag(UINT64_MAX, INT64_MAX, INT64_MAX, buf), 52);
    assert_string_equal(buf, "\"ffffffffffffffff-7fffffffffffffff-7fffffffffffffff\"");
}

static void test_list(void **state)
{
    (void)state;
#define M(s, weak) cond_list_match(s, strlen(s), ETAG, weak)
    assert_true(M(ETAG, 0));
    assert_true(M(ETAG, 1));
    assert_true(M("*", 0));
    assert_true(M(" * ", 1));
    assert_false(M("**", 1));
    assert_true(M("W/" ETAG, 1));
    assert_false(M("W/" ETAG, 0));
    assert_true(M("\"x\", " ETAG, 0));
    assert_true(M("\"x\",W/\"y\" ,  " ETAG " , \"z\"", 1));
    assert_true(M(",," ETAG ",", 0));
    assert_false(M("\"x\", \"y\"", 1));
    assert_false(M("\"1a-64-2ebc98a\"", 1));
    assert_false(M("\"1a-64-2ebc98a11\"", 1));
    assert_false(M("1a-64-2ebc98a1", 1)); /* unquoted */
    assert_false(M("", 1));
    assert_false(M("w/" ETAG, 1)); /* W is case-sensitive */
    /* A malformed member ends the list, members before it still count. */
    assert_true(M(ETAG ", junk", 1));
    assert_false(M("junk, " ETAG, 1));
    assert_false(M("\"unterminated, " ETAG, 1));
    assert_false(M("\"a b\", " ETAG, 1));
#undef M
}

static struct cond_request rq(const char *im, const char *inm, const char *ims, const char *ius)
{
    struct cond_request r;

    memset(&r, 0, sizeof(r));
    r.get_or_head = 1;
    r.now = MTIME + 3600; /* the server's clock: an hour after the file's date */
#define SET(f, s)                                                                                  \
    if (s != NULL) {                                                                               \
        r.f.p = s;                                                                                 \
        r.f.len = strlen(s);                                                                       \
    }
    SET(if_match, im);
    SET(if_none_match, inm);
    SET(if_modified_since, ims);
    SET(if_unmodified_since, ius);
#undef SET
    return r;
}

static void test_order(void **state)
{
    struct cond_request r;

    (void)state;
#define EV(r) cond_evaluate(&(r), ETAG, MTIME)
    r = rq(NULL, NULL, NULL, NULL);
    assert_int_equal(EV(r), COND_PROCEED);

    /* If-None-Match: weak comparison, 304 on match. */
    r = rq(NULL, ETAG, NULL, NULL);
    assert_int_equal(EV(r), COND_NOT_MODIFIED);
    r = rq(NULL, "W/" ETAG, NULL, NULL);
    assert_int_equal(EV(r), COND_NOT_MODIFIED);
    r = rq(NULL, "*", NULL, NULL);
    assert_int_equal(EV(r), COND_NOT_MODIFIED);
    r = rq(NULL, "\"other\"", NULL, NULL);
    assert_int_equal(EV(r), COND_PROCEED);

    /* If-Modified-Since: 304 when not modified since the date (mtime <= date). */
    r = rq(NULL, NULL, AT, NULL);
    assert_int_equal(EV(r), COND_NOT_MODIFIED);
    r = rq(NULL, NULL, AFTER, NULL);
    assert_int_equal(EV(r), COND_NOT_MODIFIED);
    r = rq(NULL, NULL, BEFOR, NULL);
    assert_int_equal(EV(r), COND_PROCEED);
    /* A date later than the server's clock is invalid: ignored (a 200), not a 304. */
    r = rq(NULL, NULL, AFTER, NULL);
    r.now = MTIME;
    assert_int_equal(EV(r), COND_PROCEED);
    r.now = MTIME + 1; /* the date is now, exactly: valid */
    assert_int_equal(EV(r), COND_NOT_MODIFIED);
    r = rq(NULL, NULL, "not a date", NULL);
    assert_int_equal(EV(r), COND_PROCEED);

    /* If-None-Match takes precedence over If-Modified-Since, both ways. */
    r = rq(NULL, "\"other\"", AT, NULL);
    assert_int_equal(EV(r), COND_PROCEED);
    r = rq(NULL, ETAG, BEFOR, NULL);
    assert_int_equal(EV(r), COND_NOT_MODIFIED);

    /* If-Match: strong comparison, 412 when it fails. */
    r = rq(ETAG, NULL, NULL, NULL);
    assert_int_equal(EV(r), COND_PROCEED);
    r = rq("*", NULL, NULL, NULL);
    assert_int_equal(EV(r), COND_PROCEED);
    r = rq("W/" ETAG, NULL, NULL, NULL);
    assert_int_equal(EV(r), COND_PRECONDITION_FAILED);
    r = rq("\"other\"", NULL, NULL, NULL);
    assert_int_equal(EV(r), COND_PRECONDITION_FAILED);

    /* If-Unmodified-Since: 412 when modified after the date; ignored under If-Match. */
    r = rq(NULL, NULL, NULL, BEFOR);
    assert_int_equal(EV(r), COND_PRECONDITION_FAILED);
    r = rq(NULL, NULL, NULL, AT);
    assert_int_equal(EV(r), COND_PROCEED);
    r = rq(NULL, NULL, NULL, "garbage");
    assert_int_equal(EV(r), COND_PROCEED);
    r = rq(ETAG, NULL, NULL, BEFOR);
    assert_int_equal(EV(r), COND_PROCEED);

    /* 412 is decided before 304. */
    r = rq("\"other\"", ETAG, NULL, NULL);
    assert_int_equal(EV(r), COND_PRECONDITION_FAILED);
    r = rq(NULL, ETAG, NULL, BEFOR);
    assert_int_equal(EV(r), COND_PRECONDITION_FAILED);
    r = rq(ETAG, ETAG, NULL, NULL);
    assert_int_equal(EV(r), COND_NOT_MODIFIED);

    /* Other methods: If-None-Match match -> 412, If-Modified-Since ignored. */
    r = rq(NULL, ETAG, NULL, NULL);
    r.get_or_head = 0;
    assert_int_equal(EV(r), COND_PRECONDITION_FAILED);
    r = rq(NULL, NULL, AT, NULL);
    r.get_or_head = 0;
    assert_int_equal(EV(r), COND_PROCEED);
#undef EV
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
