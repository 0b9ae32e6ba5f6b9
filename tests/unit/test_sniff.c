/* Unit tests for the sniff module (monitor/sniff.c and its parts) on well-formed traffic:
 * framing, matching, splits, chunked and multipart bodies, header names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "monitor/sniff.h"
#include "tests/unit/lib_sniff.h"

static void test_single(void **state)
{
    struct conn c;
    const struct sniff_txn *t;

    (void)state;
    conn_init(&c, 100, 5000);
    send_s(&c, FLOW_C2S, REQ1);
    assert_int_equal(c.requests, 1);
    assert_int_equal(sniff_count(c.s), 1);
    assert_int_equal(txn(&c, 0)->status, 0);
    send_s(&c, FLOW_S2C, RESP1);
    assert_int_equal(c.responses, 1);
    assert_int_equal(c.last_resp_status, 200);
    assert_int_equal(sniff_count(c.s), 1);
    t = txn(&c, 0);
    assert_string_equal(t->method, "GET");
    assert_string_equal(t->uri, "/index.html");
    assert_string_equal(t->version, "HTTP/1.1");
    assert_string_equal(t->range, "");
    assert_int_equal(t->status, 200);
    assert_string_equal(t->reason, "OK");
    assert_int_equal(t->content_length, 11);
    assert_string_equal(t->content_type, "text/html; charset=utf-8");
    assert_string_equal(t->content_range, "");
    assert_int_equal(t->req_ts_ns, 1000);
    assert_int_equal(t->resp_ts_ns, 1010);
    assert_false(t->uri_truncated);
    assert_false(t->unknown_response);
    assert_false(sniff_had_gap(c.s, FLOW_C2S));
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    assert_int_equal(sniff_dropped(c.s), 0);
    conn_free(&c);
}

static void test_keepalive3(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
    send_s(&c, FLOW_S2C, "abc");
    send_s(&c, FLOW_C2S, "GET /b HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
    send_s(&c, FLOW_C2S, "GET /c HTTP/1.0\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.0 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
    assert_int_equal(sniff_count(c.s), 3);
    assert_string_equal(txn(&c, 0)->uri, "/a");
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_string_equal(txn(&c, 1)->uri, "/b");
    assert_int_equal(txn(&c, 1)->status, 304);
    assert_string_equal(txn(&c, 1)->reason, "Not Modified");
    assert_int_equal(txn(&c, 1)->content_length, -1);
    assert_string_equal(txn(&c, 2)->uri, "/c");
    assert_string_equal(txn(&c, 2)->version, "HTTP/1.0");
    assert_int_equal(txn(&c, 2)->status, 404);
    assert_int_equal(c.requests, 3);
    assert_int_equal(c.responses, 3);
    conn_free(&c);
}

static void test_pipelined(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S,
           "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /3 HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 3);
    /* The HEAD response announces a length but carries no body. */
    send_s(&c, FLOW_S2C,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n0\r\n\r\n"
           "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"
           "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1/10\r\n"
           "Content-Length: 2\r\n\r\nab");
    assert_int_equal(sniff_count(c.s), 3);
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_int_equal(txn(&c, 1)->status, 200);
    assert_string_equal(txn(&c, 1)->method, "HEAD");
    assert_int_equal(txn(&c, 1)->content_length, 500);
    assert_int_equal(txn(&c, 2)->status, 206);
    assert_string_equal(txn(&c, 2)->range, "bytes=0-1");
    assert_string_equal(txn(&c, 2)->content_range, "bytes 0-1/10");
    assert_int_equal(c.responses, 3);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static const char SPLIT_REQ[] = "GET /cn/Lab2.html HTTP/1.1\r\nHost: h\r\nRange: bytes=5-\r\n"
                                "If-Range: \"e\"\r\n\r\n";
static const char SPLIT_RESP[] = "HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain\r\n"
                                 "Content-Range: bytes 5-9/10\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n";

static void check_split_result(struct conn *c)
{
    const struct sniff_txn *t;

    assert_int_equal(sniff_count(c->s), 2);
    t = txn(c, 0);
    assert_string_equal(t->method, "GET");
    assert_string_equal(t->uri, "/cn/Lab2.html");
    assert_string_equal(t->range, "bytes=5-");
    assert_int_equal(t->status, 206);
    assert_string_equal(t->reason, "Partial Content");
    assert_string_equal(t->content_type, "text/plain");
    assert_string_equal(t->content_range, "bytes 5-9/10");
    t = txn(c, 1);
    assert_string_equal(t->uri, "/cn/Lab2.html");
    assert_int_equal(t->status, 206);
    assert_false(sniff_had_gap(c->s, FLOW_C2S));
    assert_false(sniff_had_gap(c->s, FLOW_S2C));
    assert_int_equal(c->requests, 2);
    assert_int_equal(c->responses, 2);
}

/* Every split point of a request and of a response gives the same result. */
static void test_every_split(void **state)
{
    size_t rl = strlen(SPLIT_REQ), sl = strlen(SPLIT_RESP), k;
    struct conn c;

    (void)state;
    for (k = 0; k <= rl || k <= sl; k++) {
        size_t a = k <= rl ? k : rl, b = k <= sl ? k : sl;

        conn_init(&c, 7, 9);
        send_n(&c, FLOW_C2S, SPLIT_REQ, a);
        send_n(&c, FLOW_C2S, SPLIT_REQ + a, rl - a);
        send_n(&c, FLOW_S2C, SPLIT_RESP, b);
        send_n(&c, FLOW_S2C, SPLIT_RESP + b, sl - b);
        /* A second exchange proves the first one ended exactly. */
        send_n(&c, FLOW_C2S, SPLIT_REQ, a);
        send_n(&c, FLOW_C2S, SPLIT_REQ + a, rl - a);
        send_n(&c, FLOW_S2C, SPLIT_RESP, b);
        send_n(&c, FLOW_S2C, SPLIT_RESP + b, sl - b);
        check_split_result(&c);
        conn_free(&c);
    }
}

static void test_byte_by_byte(void **state)
{
    size_t i, round;
    struct conn c;

    (void)state;
    conn_init(&c, 0xfffffff0u, 0xffffff00u);
    for (round = 0; round < 2; round++) {
        for (i = 0; SPLIT_REQ[i]; i++)
            send_n(&c, FLOW_C2S, SPLIT_REQ + i, 1);
        for (i = 0; SPLIT_RESP[i]; i++)
            send_n(&c, FLOW_S2C, SPLIT_RESP + i, 1);
    }
    check_split_result(&c);
    conn_free(&c);
}

static void test_chunked_ext_trailers(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C,
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
           "1A ; name=\"va;lue\"\r\n");
    send_s(&c, FLOW_S2C,
           "abcdefghijklmnopqrstuvwxyz\r\n10;x\r\nHTTP/1.1 500 Oop\r\n"
           "0;last\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 204 No Content\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_int_equal(txn(&c, 1)->status, 204);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_chunked_request_body(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S,
           "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           "4\r\nGET \r\n0\r\n\r\nPUT /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nGET ");
    send_s(&c, FLOW_C2S, "DELETE /y HTTP/1.1\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 3);
    assert_string_equal(txn(&c, 0)->method, "POST");
    assert_string_equal(txn(&c, 1)->method, "PUT");
    assert_string_equal(txn(&c, 2)->method, "DELETE");
    assert_string_equal(txn(&c, 2)->uri, "/y");
    conn_free(&c);
}

static void test_head_and_304(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "HEAD /big.mp3 HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C,
           "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n"
           "Content-Length: 7416366\r\n\r\n");
    send_s(&c, FLOW_C2S, "GET /big.mp3 HTTP/1.1\r\nIf-Modified-Since: x\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 304 Not Modified\r\nContent-Length: 7416366\r\n\r\n");
    send_s(&c, FLOW_C2S, "GET /x HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 3);
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_int_equal(txn(&c, 0)->content_length, 7416366);
    assert_string_equal(txn(&c, 0)->content_type, "audio/mpeg");
    assert_int_equal(txn(&c, 1)->status, 304);
    assert_int_equal(txn(&c, 2)->status, 200);
    assert_int_equal(txn(&c, 2)->content_length, 0);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_multipart_byteranges(void **state)
{
    static const char body[] = "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-0/10\r\n"
                               "\r\na\r\n--B\r\nContent-Range: bytes 5-5/10\r\n\r\nf\r\n--B--\r\n";
    char resp[512];
    struct conn c;

    (void)state;
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 206 Partial Content\r\n"
             "Content-Type: multipart/byteranges; boundary=B\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /f HTTP/1.1\r\nRange: bytes=0-0,5-5\r\n\r\nGET /g HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, resp);
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz");
    assert_int_equal(sniff_count(c.s), 2);
    assert_string_equal(txn(&c, 0)->range, "bytes=0-0,5-5");
    assert_string_equal(txn(&c, 0)->content_type, "multipart/byteranges; boundary=B");
    assert_string_equal(txn(&c, 0)->content_range, ""); /* only inside the body parts */
    assert_int_equal(txn(&c, 0)->content_length, (int64_t)strlen(body));
    assert_int_equal(txn(&c, 1)->status, 200);
    conn_free(&c);
}

static void test_1xx_continue(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 100 Continue\r\n\r\n");
    send_s(&c, FLOW_C2S, "abc");
    send_s(&c, FLOW_S2C,
           "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
           "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 1);
    assert_int_equal(txn(&c, 0)->status, 201);
    assert_string_equal(txn(&c, 0)->reason, "Created");
    assert_int_equal(c.responses, 1);
    conn_free(&c);
}

static void test_header_names(void **state)
{
    static const char resp[] = "HTTP/1.1 206 X\r\n"
                               "CONTENT-TYPE: a\r\n"
                               "cONTENT-rANGE: yes\r\n" /* later decoys would overwrite it */
                               "Content\rRange: no\r\n"
                               "content_range: no\r\n"
                               "Content-Rangf: no\r\n"
                               "Dontent-Range: no\r\n"
                               "CONTENT-RANGE\r: no\r\n"
                               "Content-Length : 1\r\n"
                               "tRANSFER-eNCODING: chunked\r\n"
                               "Content-Length: 2\r\n\r\nok";
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET / HTTP/1.1\r\nRANGE: bytes=1-\r\nRange\r: no\r\n\r\n");
    send_s(&c, FLOW_S2C, resp);
    assert_int_equal(sniff_count(c.s), 1);
    assert_string_equal(txn(&c, 0)->range, "bytes=1-");
    assert_string_equal(txn(&c, 0)->content_type, "a");
    assert_string_equal(txn(&c, 0)->content_range, "yes");
    assert_int_equal(txn(&c, 0)->content_length, 2);
    assert_int_equal(c.responses, 1);
    /* Chunked framing, from the upper-case Transfer-Encoding: "ok" is no
     * chunk size, so the stream desynchronises at its line end. */
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    send_s(&c, FLOW_S2C, "\r\n");
    assert_true(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

/* Every field of every transaction of a and b is the same. */
static void assert_same_txns(const struct sniff *a, const struct sniff *b)
{
    assert_int_equal(sniff_count(a), sniff_count(b));
    for (size_t i = 0; i < sniff_count(a); i++) {
        struct sniff_txn x, y;

        assert_int_equal(sniff_get_copy(a, i, &x), 0);
        assert_int_equal(sniff_get_copy(b, i, &y), 0);
        assert_string_equal(x.method, y.method);
        assert_string_equal(x.uri, y.uri);
        assert_string_equal(x.version, y.version);
        assert_string_equal(x.range, y.range);
        assert_int_equal(x.status, y.status);
        assert_string_equal(x.reason, y.reason);
        assert_int_equal(x.content_length, y.content_length);
        assert_string_equal(x.content_range, y.content_range);
        assert_string_equal(x.content_type, y.content_type);
        assert_int_equal(x.req_ts_ns, y.req_ts_ns);
        assert_int_equal(x.resp_ts_ns, y.resp_ts_ns);
        assert_int_equal(x.uri_truncated, y.uri_truncated);
        assert_int_equal(x.unknown_response, y.unknown_response);
    }
    assert_int_equal(sniff_had_gap(a, FLOW_C2S), sniff_had_gap(b, FLOW_C2S));
    assert_int_equal(sniff_had_gap(a, FLOW_S2C), sniff_had_gap(b, FLOW_S2C));
}

/*
 * Lines that lie whole in one segment are parsed in place (start lines
 * validated in one pass, header lines without a copy); lines split across
 * segments go through the line buffer. Both must agree on every field, for
 * the headers that matter, names of the same length that do not, cut
 * lines, folding, 1xx, HEAD, chunked and odd start lines.
 */
static void test_in_place_equals_split(void **state)
{
    static const char *const req[] = {
        "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\n\r\n",
        "HEAD /b HTTP/1.0\r\nrange:  bytes=5-  \r\nX-Long: ",
        NULL, /* a header line longer than the line buffer, then its end */
        "\r\n\r\n",
        "\r\nPOST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nRANGE: x\r\n\r\n",
        "3;ext\r\nabc\r\n0\r\nTrailer: t\r\n\r\n",
        "PUT * HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nbody",
        "OPTIONS http://x/ HTTP/1.1\n\n",
        "GET /d HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\nz",
        "GET /e HTTP/2.0\r\n\r\n",
    };
    static const char *const resp[] = {
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nLast-Modified: x\r\n"
        "Accept-Ranges: bytes\r\nContent-Type:text/plain \r\nContent-Length: 10\r\n\r\n0123456789",
        "HTTP/1.0 200\r\ncontent-length: 7\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: a\r\n b\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 100 \r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
        "HTTP/1.1 404 Not\tFound\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nnot",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Range: ",
        NULL, /* a Content-Range longer than the line buffer */
        "\r\n\r\nok",
    };
    char longv[700];
    /* The byte-at-a-time sniffer keeps every line: from a pool, as the engine's. */
    struct sniff_pool *pool = sniff_pool_new();
    struct sniff *whole = sniff_new(), *bytes = sniff_new_in(pool);

    (void)state;
    memset(longv, 'v', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    for (int d = 0; d < 2; d++) {
        const char *const *part = d == FLOW_C2S ? req : resp;
        size_t parts =
            d == FLOW_C2S ? sizeof(req) / sizeof(req[0]) : sizeof(resp) / sizeof(resp[0]);
        uint32_t seq = 100;

        for (size_t k = 0; k < parts; k++) {
            const char *text = part[k] ? part[k] : longv;
            size_t n = strlen(text);

            sniff_segment(whole, (enum flow_dir_id)d, seq, (const uint8_t *)text, n, 100 * d + k,
                          NULL);
            for (size_t i = 0; i < n; i++)
                sniff_segment(bytes, (enum flow_dir_id)d, seq + (uint32_t)i,
                              (const uint8_t *)text + i, 1, 100 * d + k, NULL);
            seq += (uint32_t)n;
        }
    }
    assert_same_txns(whole, bytes);
    assert_int_equal(sniff_count(whole), 7);
    assert_string_equal(sniff_get(whole, 0)->range, "bytes=0-9");
    assert_string_equal(sniff_get(whole, 0)->content_range, "bytes 0-9/100");
    assert_string_equal(sniff_get(whole, 0)->content_type, "text/plain");
    assert_int_equal(sniff_get(whole, 0)->content_length, 10);
    assert_string_equal(sniff_get(whole, 1)->range, "bytes=5-");
    assert_int_equal(sniff_get(whole, 1)->content_length, 7);
    assert_string_equal(sniff_get(whole, 1)->reason, "");
    assert_string_equal(sniff_get(whole, 2)->range, "x");
    assert_string_equal(sniff_get(whole, 2)->content_type, "a");
    assert_int_equal(sniff_get(whole, 3)->status, 204);
    assert_string_equal(sniff_get(whole, 4)->uri, "http://x/");
    assert_int_equal(sniff_get(whole, 4)->content_length, 0);
    assert_string_equal(sniff_get(whole, 5)->reason, "Not\tFound");
    assert_int_equal(sniff_get(whole, 5)->content_length, 3);
    assert_string_equal(sniff_get(whole, 6)->version, "HTTP/2.0");
    assert_int_equal(strlen(sniff_get(whole, 6)->content_range), SNIFF_VALUE_MAX - 1);
    sniff_free(whole);
    sniff_free(bytes);
    sniff_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_keepalive3),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_chunked_ext_trailers),
        cmocka_unit_test(test_chunked_request_body),
        cmocka_unit_test(test_head_and_304),
        cmocka_unit_test(test_multipart_byteranges),
        cmocka_unit_test(test_1xx_continue),
        cmocka_unit_test(test_in_place_equals_split),
        cmocka_unit_test(test_header_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
