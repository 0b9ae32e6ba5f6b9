/* Unit tests for worker/accesslog.c: line format, escaping, stamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "worker/accesslog.h"

static void test_format_line(void **state)
{
    (void)state;
    char buf[4096], stamp[40];
    struct accesslog_entry e = { 0 };

    accesslog_stamp(1795494000, stamp, sizeof(stamp)); /* 2026-11-24 04:20:00 UTC */
    assert_string_equal(stamp, "[24/Nov/2026:04:20:00 +0000]");
    e.client = "127.0.0.1";
    e.client_port = 45678;
    e.request = "GET / HTTP/1.1";
    e.request_len = 14;
    e.status = 200;
    e.bytes = 1234;
    e.user_agent = "curl/7.88.1";
    e.user_agent_len = 11;
    e.pid = 123;
    e.duration_us = 85;
    size_t n = accesslog_format(buf, sizeof(buf), &e, stamp);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "127.0.0.1 - - [24/Nov/2026:04:20:00 +0000] \"GET / HTTP/1.1\" 200 "
                             "1234 \"-\" \"curl/7.88.1\" port=45678 pid=123 us=85\n");
}

static void test_escaping_and_truncation(void **state)
{
    (void)state;
    char buf[4096], big[8000];
    struct accesslog_entry e = { 0 };

    e.client = "::1";
    e.request = "GET /\"a\\b\x01\xe4 HTTP/1.1";
    e.request_len = strlen(e.request);
    e.status = 404;
    e.referer = "x\ny";
    e.referer_len = 3;
    accesslog_format(buf, sizeof(buf), &e, "[s]");
    assert_string_equal(buf, "::1 - - [s] \"GET /\\x22a\\x5cb\\x01\\xe4 HTTP/1.1\" 404 0 "
                             "\"x\\x0ay\" \"-\" port=0 pid=0 us=0\n");
    /* A huge request line is cut; the line still ends with its fixed tail. */
    memset(big, 'a', sizeof(big));
    e.request = big;
    e.request_len = sizeof(big);
    e.user_agent = big;
    e.user_agent_len = sizeof(big);
    size_t n = accesslog_format(buf, sizeof(buf), &e, "[s]");
    assert_true(n < sizeof(buf));
    assert_int_equal(n, strlen(buf));
    const char *tail = "\" port=0 pid=0 us=0\n";
    assert_string_equal(buf + n - strlen(tail), tail);
    assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_line),
        cmocka_unit_test(test_escaping_and_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
