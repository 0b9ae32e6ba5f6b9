/* Unit tests for monitor/sniff_line.c: the start-line grammar, header fields, chunk sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "monitor/sniff_line.h"

/* Scans text whole and byte by byte: both must stop at the same byte, for the same reason. */
static size_t scan(const char *text, int request, enum sniff_line_verdict *v,
                   struct sniff_line *out)
{
    const uint8_t *p = (const uint8_t *)text;
    size_t len = strlen(text), n, i;
    struct sniff_line whole, bytes;
    enum sniff_line_verdict vb = SNIFF_LINE_MORE;

    sniff_line_start(&whole, request);
    sniff_line_start(&bytes, request);
    n = sniff_line_scan(&whole, request, p, len, v);
    for (i = 0; i < len; i++) {
        if (p[i] == '\n') {
            vb = SNIFF_LINE_LF;
            break;
        }
        if (sniff_line_byte(&bytes, request, p[i]) == SNIFF_LINE_BAD) {
            vb = SNIFF_LINE_BAD;
            break;
        }
    }
    assert_int_equal(n, i);
    assert_int_equal(*v, vb);
    assert_int_equal(whole.phase, bytes.phase);
    assert_int_equal(whole.n, bytes.n);
    assert_memory_equal(whole.ver, bytes.ver, 2);
    *out = whole;
    return n;
}

/* A whole start line: accepted up to its LF and complete there. */
static void assert_line(const char *text, int request)
{
    enum sniff_line_verdict v;
    struct sniff_line l;
    size_t n = scan(text, request, &v, &l);

    assert_int_equal(v, SNIFF_LINE_LF);
    assert_int_equal(n, strlen(text) - 1);
    assert_true(sniff_line_complete(&l, request));
}

/* Rejected at byte `at` (or, at == -1, ends at its LF but is not a whole line). */
static void assert_bad(const char *text, int request, int at)
{
    enum sniff_line_verdict v;
    struct sniff_line l;
    size_t n = scan(text, request, &v, &l);

    if (at < 0) {
        assert_int_equal(v, SNIFF_LINE_LF);
        assert_false(sniff_line_complete(&l, request));
    } else {
        assert_int_equal(v, SNIFF_LINE_BAD);
        assert_int_equal(n, (size_t)at);
    }
}

static void test_request_lines(void **state)
{
    enum sniff_line_verdict v;
    struct sniff_line l;

    (void)state;
    assert_line("GET / HTTP/1.1\r\n", 1);
    assert_line("GET /index.html HTTP/1.0\n", 1);
    assert_line("OPTIONS * HTTP/1.1\r\n", 1);
    assert_line("CONNECT example.org:443 HTTP/1.1\r\n", 1);
    assert_line("M-SEARCH_X http://h/%C3%A9 HTTP/2.0\r\n", 1);
    scan("GET /x HTTP/1.0\r\n", 1, &v, &l);
    assert_memory_equal(l.ver, "10", 2);
    assert_bad("GE / HTTP/1.1\r\n", 1, 2);               /* method shorter than 3 */
    assert_bad("get / HTTP/1.1\r\n", 1, 0);              /* lower case */
    assert_bad("ABCDEFGHIJKLMNOPQ / HTTP/1.1\n", 1, 15); /* method longer than 15 */
    assert_bad("GET ?x HTTP/1.1\r\n", 1, 4); /* target must start with / * or a letter */
    assert_bad("GET /a\tb HTTP/1.1\r\n", 1, 6);
    assert_bad("GET /\x7f HTTP/1.1\r\n", 1, 5);
    assert_bad("GET  / HTTP/1.1\r\n", 1, 4);
    assert_bad("GET / HTTP/1.x\r\n", 1, 13);
    assert_bad("GET / HTTP/1.1 \r\n", 1, 14);
    assert_bad("GET / HTTP/1.1\r\r\n", 1, 15);
    assert_bad("GET / HTTP/1.1\rX\n", 1, 15);
    assert_bad("GET /\n", 1, -1);             /* no version: ends, but is no request line */
    assert_bad("\x16\x03\x01\x02\x00", 1, 0); /* TLS */
}

static void test_status_lines(void **state)
{
    (void)state;
    assert_line("HTTP/1.1 200 OK\r\n", 0);
    assert_line("HTTP/1.1 200\r\n", 0);
    assert_line("HTTP/1.1 200 \r\n", 0);
    assert_line("HTTP/1.1 200\n", 0);
    assert_line("HTTP/1.0 404 Not\tFound \xe2\x80\x94 here\r\n", 0);
    assert_line("HTTP/1.1 599 x\r\n", 0);
    assert_bad("HTTP/1.1 600 Nope\r\n", 0, 9); /* RFC 9110: 100-599 only */
    assert_bad("HTTP/1.1 099 x\r\n", 0, 9);
    assert_bad("HTTP/1.1 2000 x\r\n", 0, 12);
    assert_bad("HTTP/1.1  200\r\n", 0, 9);
    assert_bad("HTTP/1.1\r\n", 0, 8);
    assert_bad("HTTP/1.1 20\n", 0, -1);
    assert_bad("HTTP/1.1 200 O\x01K\r\n", 0, 14);
    assert_bad("http/1.1 200 OK\r\n", 0, 0);
    assert_bad("GET / HTTP/1.1\r\n", 0, 0); /* a request where a response belongs */
}

/* Long targets saturate the phase counter instead of wrapping it. */
static void test_long_target(void **state)
{
    static char line[70000];
    enum sniff_line_verdict v;
    struct sniff_line l;
    size_t n;

    (void)state;
    memcpy(line, "GET /", 5);
    memset(line + 5, 'a', sizeof(line) - 5 - 16);
    strcpy(line + sizeof(line) - 16, " HTTP/1.1\r\n");
    n = scan(line, 1, &v, &l);
    assert_int_equal(v, SNIFF_LINE_LF);
    assert_int_equal(n, strlen(line) - 1);
    assert_true(sniff_line_complete(&l, 1));
}

static void test_split(void **state)
{
    struct sniff_line_request rq;
    const char *reason;
    size_t rn;

    (void)state;
    assert_int_equal(sniff_line_request("GET /a/b HTTP/1.1", 17, &rq), 0);
    assert_int_equal(rq.method_len, 3);
    assert_memory_equal(rq.target, "/a/b", 4);
    assert_int_equal(rq.target_len, 4);
    assert_false(rq.target_cut);
    assert_int_equal(sniff_line_request("GET /cut", 8, &rq), 0);
    assert_int_equal(rq.target_len, 4);
    assert_true(rq.target_cut);
    assert_int_equal(sniff_line_request("GET", 3, &rq), -1);
    assert_int_equal(sniff_line_status("HTTP/1.1 206 Partial Content ", 29, &reason, &rn), 206);
    assert_int_equal(rn, 15);
    assert_memory_equal(reason, "Partial Content", rn);
    assert_int_equal(sniff_line_status("HTTP/1.1 304", 12, &reason, &rn), 304);
    assert_int_equal(rn, 0);
}

static void test_headers(void **state)
{
    static const struct {
        const char *line;
        enum sniff_line_header h;
        const char *value;
    } cases[] = {
        { "Content-Length: 42", SNIFF_LINE_HDR_CONTENT_LENGTH, "42" },
        { "content-LENGTH:\t 7 \t", SNIFF_LINE_HDR_CONTENT_LENGTH, "7" },
        { "Content-Type: text/html; charset=utf-8", SNIFF_LINE_HDR_CONTENT_TYPE,
          "text/html; charset=utf-8" },
        { "Content-Range: bytes 0-1/2", SNIFF_LINE_HDR_CONTENT_RANGE, "bytes 0-1/2" },
        { "Transfer-Encoding: chunked", SNIFF_LINE_HDR_TRANSFER_ENCODING, "chunked" },
        { "RANGE: bytes=0-", SNIFF_LINE_HDR_RANGE, "bytes=0-" },
        { "Range:", SNIFF_LINE_HDR_RANGE, "" },
        { "Content-Length : 4", SNIFF_LINE_HDR_OTHER, NULL },
        { "Content_Length: 4", SNIFF_LINE_HDR_OTHER, NULL },
        { " Content-Length: 4", SNIFF_LINE_HDR_OTHER, NULL }, /* a folded line */
        { "Content-Lengths: 4", SNIFF_LINE_HDR_OTHER, NULL },
        { "Connection: close", SNIFF_LINE_HDR_OTHER, NULL },
        { "Rang: x", SNIFF_LINE_HDR_OTHER, NULL },
        { "", SNIFF_LINE_HDR_OTHER, NULL },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *v = NULL;
        size_t vn = 0;

        assert_int_equal(sniff_line_header(cases[i].line, strlen(cases[i].line), &v, &vn),
                         cases[i].h);
        if (cases[i].value != NULL) {
            assert_int_equal(vn, strlen(cases[i].value));
            assert_memory_equal(v, cases[i].value, vn);
        }
    }
}

static void test_values(void **state)
{
    uint64_t size = 99;

    (void)state;
    assert_int_equal(sniff_line_length("0", 1), 0);
    assert_int_equal(sniff_line_length("5, 5 ,5", 7), 5);
    assert_int_equal(sniff_line_length("5, 6", 4), -1);
    assert_int_equal(sniff_line_length("", 0), -1);
    assert_int_equal(sniff_line_length("-1", 2), -1);
    assert_int_equal(sniff_line_length("5,", 2), 5); /* an empty list element is allowed */
    assert_int_equal(sniff_line_length("9223372036854775807", 19), INT64_MAX);
    assert_int_equal(sniff_line_length("9223372036854775808", 19), -1);
    assert_true(sniff_line_chunked("chunked", 7));
    assert_true(sniff_line_chunked("gzip, CHUNKED ", 14));
    assert_true(sniff_line_chunked("chunked;x=1", 11));
    assert_false(sniff_line_chunked("chunked, gzip", 13));
    assert_false(sniff_line_chunked("", 0));
    assert_int_equal(sniff_line_chunk_size("1a2B", 4, &size), 0);
    assert_int_equal(size, 0x1a2b);
    assert_int_equal(sniff_line_chunk_size("0;ext=1", 7, &size), 0);
    assert_int_equal(size, 0);
    assert_int_equal(sniff_line_chunk_size("10 \t; x", 7, &size), 0);
    assert_int_equal(size, 16);
    assert_int_equal(sniff_line_chunk_size("", 0, &size), -1);
    assert_int_equal(sniff_line_chunk_size("zz", 2, &size), -1);
    assert_int_equal(sniff_line_chunk_size("10 x", 4, &size), -1);
    assert_int_equal(sniff_line_chunk_size("ffffffffffffffffff", 18, &size), -1);
    assert_true(sniff_line_name_is("HeAd", 4, "head"));
    assert_false(sniff_line_name_is("heads", 5, "head"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_lines), cmocka_unit_test(test_status_lines),
        cmocka_unit_test(test_long_target),   cmocka_unit_test(test_split),
        cmocka_unit_test(test_headers),       cmocka_unit_test(test_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
