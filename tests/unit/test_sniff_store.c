/* Unit tests for monitor/sniff_store.c: bounded transactions, their strings, FIFO matching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "monitor/sniff_store.h"

static uint32_t request(struct sniff_store *st, uint64_t ts, const char *method, const char *uri)
{
    enum sniff_store_kind kind = SNIFF_STORE_PLAIN;

    if (strcmp(method, "HEAD") == 0)
        kind = SNIFF_STORE_HEAD;
    else if (strcmp(method, "CONNECT") == 0)
        kind = SNIFF_STORE_CONNECT;
    return sniff_store_request(st, ts, method, strlen(method), uri, strlen(uri), 0, "11", kind);
}

static void test_request_response(void **state)
{
    struct sniff_store st;
    struct sniff_txn t;
    uint32_t a, b, id = 99;

    (void)state;
    sniff_store_init(&st);
    a = request(&st, 10, "GET", "/a");
    b = request(&st, 11, "HEAD", "/b");
    assert_int_equal(sniff_store_kind(&st, a), SNIFF_STORE_PLAIN);
    assert_int_equal(sniff_store_kind(&st, b), SNIFF_STORE_HEAD);
    assert_int_equal(sniff_store_response(&st, 20, 0, 0, 200, &id), SNIFF_STORE_MATCHED);
    assert_int_equal(id, a);
    sniff_store_set(&st, id, SNIFF_STORE_CTYPE, "text/plain", 10, SNIFF_VALUE_MAX);
    sniff_store_set_length(&st, id, 5);
    assert_int_equal(sniff_store_response(&st, 21, 0, 0, 304, &id), SNIFF_STORE_MATCHED);
    assert_int_equal(id, b);
    /* Nothing waits: a third response has no request. */
    assert_int_equal(sniff_store_response(&st, 22, 0, 0, 408, &id), SNIFF_STORE_ORPHAN);
    assert_int_equal(sniff_store_count(&st), 3);
    assert_int_equal(sniff_store_copy_id(&st, a, &t), 0);
    assert_string_equal(t.method, "GET");
    assert_string_equal(t.uri, "/a");
    assert_string_equal(t.version, "HTTP/1.1");
    assert_string_equal(t.content_type, "text/plain");
    assert_int_equal(t.content_length, 5);
    assert_int_equal(t.status, 200);
    assert_int_equal(t.req_ts_ns, 10);
    assert_int_equal(t.resp_ts_ns, 20);
    assert_int_equal(sniff_store_get_copy(&st, 2, &t), 0);
    assert_string_equal(t.method, "");
    assert_int_equal(t.status, 408);
    assert_int_equal(t.content_length, -1);
    assert_int_equal(sniff_store_get_copy(&st, 3, &t), -1);
    assert_null(sniff_store_get(&st, 3));
    assert_string_equal(sniff_store_get(&st, 1)->uri, "/b");
    sniff_store_free(&st);
}

/* A response that began before a request was sent cannot answer it. */
static void test_response_before_request(void **state)
{
    struct sniff_store st;
    uint32_t id;

    (void)state;
    sniff_store_init(&st);
    request(&st, 50, "GET", "/late");
    assert_int_equal(sniff_store_response(&st, 40, 0, 0, 200, &id), SNIFF_STORE_ORPHAN);
    assert_int_equal(sniff_store_response(&st, 60, 0, 0, 200, &id), SNIFF_STORE_MATCHED);
    assert_int_equal(id, 0);
    sniff_store_free(&st);
}

/* After lost responses, several candidates: none is guessed, all become unknown. */
static void test_resync_ambiguous(void **state)
{
    struct sniff_store st;
    struct sniff_txn t;
    uint32_t id;

    (void)state;
    sniff_store_init(&st);
    request(&st, 10, "GET", "/1");
    request(&st, 11, "GET", "/2");
    sniff_store_lose_responses(&st);
    assert_int_equal(sniff_store_get_copy(&st, 0, &t), 0);
    assert_true(t.unknown_response);
    assert_int_equal(sniff_store_response(&st, 30, 20, 1, 200, &id), SNIFF_STORE_ORPHAN);
    assert_int_equal(id, 2);
    assert_int_equal(sniff_store_get_copy(&st, 1, &t), 0);
    assert_true(t.unknown_response);
    assert_int_equal(t.status, 0);
    /* A single candidate is matched even after a loss. */
    request(&st, 40, "GET", "/3");
    assert_int_equal(sniff_store_response(&st, 50, 45, 1, 200, &id), SNIFF_STORE_MATCHED);
    assert_int_equal(id, 3);
    sniff_store_free(&st);
}

/* Beyond SNIFF_STORE_PENDING outstanding requests, their responses are owed, not guessed. */
static void test_pending_overflow(void **state)
{
    struct sniff_store st;
    char uri[32];
    uint32_t id, i;

    (void)state;
    sniff_store_init(&st);
    for (i = 0; i <= SNIFF_STORE_PENDING; i++) {
        snprintf(uri, sizeof(uri), "/%u", i);
        request(&st, 10 + i, "GET", uri);
    }
    for (i = 0; i < SNIFF_STORE_PENDING; i++)
        assert_int_equal(sniff_store_response(&st, 500, 0, 0, 200, &id), SNIFF_STORE_OWED);
    assert_int_equal(sniff_store_response(&st, 500, 0, 0, 200, &id), SNIFF_STORE_MATCHED);
    assert_int_equal(id, SNIFF_STORE_PENDING);
    sniff_store_free(&st);
}

/*
 * The ring and the arena grow from their inline sizes up to their bounds,
 * then the oldest transactions go: every kept one still has its strings,
 * and kept + dropped is what was recorded.
 */
static void test_growth_and_drops(void **state)
{
    struct sniff_store st;
    char uri[300], want[300], xs[200];
    struct sniff_txn t;
    uint32_t i, id;
    size_t n, k;

    (void)state;
    memset(xs, 'x', sizeof(xs));
    sniff_store_init(&st);
    for (i = 0; i < 300; i++) {
        snprintf(uri, sizeof(uri), "/%u/%.*s", i, (int)(i * 7 % 200), xs);
        id = request(&st, i, "GET", uri);
        assert_int_equal(id, i);
        assert_int_equal(sniff_store_response(&st, i, 0, 0, 200, &id), SNIFF_STORE_MATCHED);
        n = sniff_store_count(&st);
        assert_int_equal(n + st.dropped, i + 1);
        assert_true(n <= SNIFF_STORE_RING);
        for (k = 0; k < n; k++) {
            uint32_t which = i + 1 - (uint32_t)n + (uint32_t)k;

            assert_int_equal(sniff_store_get_copy(&st, k, &t), 0);
            snprintf(want, sizeof(want), "/%u/", which);
            assert_memory_equal(t.uri, want, strlen(want));
            assert_int_equal(t.req_ts_ns, which);
        }
    }
    assert_int_equal(st.arena_cap, SNIFF_STORE_ARENA);
    assert_int_equal(sniff_store_copy_id(&st, 0, &t), -1); /* dropped long ago */
    assert_false(sniff_store_has(&st, 0));
    assert_true(sniff_store_has(&st, 299));
    sniff_store_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_response), cmocka_unit_test(test_response_before_request),
        cmocka_unit_test(test_resync_ambiguous), cmocka_unit_test(test_pending_overflow),
        cmocka_unit_test(test_growth_and_drops),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
