/* Unit tests for the sniff module on damaged and hostile traffic: retransmissions, gaps,
 * mid-stream starts, garbage, oversized lines and bodies, tunnels, bounds on memory. */
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
static void test_retransmission(void **state)
{
    struct conn c;
    uint32_t s0;

    (void)state;
    conn_init(&c, 1, 1);
    s0 = c.seq[FLOW_C2S];
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\n");
    send_at(&c, FLOW_C2S, s0, "GET /a HTTP/1.1\r\n\r\n"); /* exact duplicate */
    /* Overlap: the old request again plus the start of a new one. */
    send_at(&c, FLOW_C2S, s0, "GET /a HTTP/1.1\r\n\r\nGET /b HT");
    c.seq[FLOW_C2S] += 9;
    send_s(&c, FLOW_C2S, "TP/1.1\r\n\r\n");
    s0 = c.seq[FLOW_S2C];
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    send_at(&c, FLOW_S2C, s0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    send_s(&c, FLOW_S2C, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    send_at(&c, FLOW_S2C, s0 + 5, "1.1 200 OK");
    assert_int_equal(sniff_count(c.s), 2);
    assert_string_equal(txn(&c, 0)->uri, "/a");
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_string_equal(txn(&c, 1)->uri, "/b");
    assert_int_equal(txn(&c, 1)->status, 404);
    assert_int_equal(c.requests, 2);
    assert_int_equal(c.responses, 2);
    assert_false(sniff_had_gap(c.s, FLOW_C2S));
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

/* A hole inside a chunked body cannot be skipped: unknown until the next response. */
static void test_gap_resync(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nxx");
    c.seq[FLOW_S2C] += 300; /* lost: the rest of the chunk and the end of the body */
    send_s(&c, FLOW_S2C, "yyyyHTTP/1.1 500 Garbage\r\n\r\n"); /* not at a boundary: ignored */
    assert_true(sniff_had_gap(c.s, FLOW_S2C));
    send_s(&c, FLOW_C2S, "GET /b HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_false(txn(&c, 0)->unknown_response);
    assert_string_equal(txn(&c, 1)->uri, "/b");
    assert_int_equal(txn(&c, 1)->status, 404);
    assert_false(txn(&c, 1)->unknown_response);
    assert_false(sniff_had_gap(c.s, FLOW_C2S));
    conn_free(&c);
}

/* A hole inside a Content-Length body is skipped exactly: nothing is lost. */
static void test_gap_in_length_body(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc");
    c.seq[FLOW_S2C] += 990;
    send_s(&c, FLOW_S2C, "1234567HTTP/1.1 304 Not Modified\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_int_equal(txn(&c, 1)->status, 304);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

/* Responses lost while two requests wait: neither is guessed. */
static void test_gap_ambiguous(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    c.seq[FLOW_S2C] += 50; /* may have held the answer to /b */
    send_s(&c, FLOW_S2C, "zzz");
    send_s(&c, FLOW_C2S, "GET /c HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 5);
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_int_equal(txn(&c, 1)->status, 0);
    assert_true(txn(&c, 1)->unknown_response);
    assert_int_equal(txn(&c, 2)->status, 0);
    assert_true(txn(&c, 2)->unknown_response);
    /* The two responses are kept, without a request. */
    assert_string_equal(txn(&c, 3)->method, "");
    assert_int_equal(txn(&c, 3)->status, 200);
    assert_string_equal(txn(&c, 4)->method, "");
    assert_int_equal(txn(&c, 4)->status, 404);
    conn_free(&c);
}

/* Requests sent after the lost bytes were seen cannot have been answered in them. */
static void test_gap_then_pipelined(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    c.seq[FLOW_S2C] += 50;
    send_s(&c, FLOW_S2C, "zzz");
    send_s(&c, FLOW_C2S, "GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 3);
    assert_int_equal(txn(&c, 1)->status, 200);
    assert_int_equal(txn(&c, 2)->status, 404);
    assert_false(txn(&c, 2)->unknown_response);
    conn_free(&c);
}

/* A request line cut by a gap is kept (flagged truncated) and still answered. */
static void test_gap_in_request_line(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /very/long/pa");
    c.seq[FLOW_C2S] += 40;
    send_s(&c, FLOW_C2S, "th HTTP/1.1\r\n\r\n"); /* mid-line: stays unknown */
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    send_s(&c, FLOW_C2S, "GET /next HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 304 Not Modified\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_string_equal(txn(&c, 0)->uri, "/very/long/pa");
    assert_true(txn(&c, 0)->uri_truncated);
    assert_string_equal(txn(&c, 0)->version, "");
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_string_equal(txn(&c, 1)->uri, "/next");
    assert_int_equal(txn(&c, 1)->status, 304);
    assert_true(sniff_had_gap(c.s, FLOW_C2S));
    conn_free(&c);
}

/* Requests lost before the capture: a response earlier than a request is not its answer. */
static void test_midstream_start(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_S2C, "ello world"); /* the middle of a body */
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    send_s(&c, FLOW_C2S, "GET /late HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_string_equal(txn(&c, 0)->method, "");
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_string_equal(txn(&c, 1)->uri, "/late");
    assert_int_equal(txn(&c, 1)->status, 404);
    assert_true(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_seq_wrap(void **state)
{
    struct conn c;
    uint32_t s0;

    (void)state;
    conn_init(&c, 0xfffffff8u, 0xfffffffeu);
    s0 = c.seq[FLOW_C2S];
    send_s(&c, FLOW_C2S, "GET /wrap HTTP/1.1\r\n");
    assert_true(c.seq[FLOW_C2S] < s0);                   /* the stream crossed 2^32 */
    send_at(&c, FLOW_C2S, s0 + 4, "/wrap HTTP/1.1\r\n"); /* retransmission across the wrap */
    send_s(&c, FLOW_C2S, "\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
    c.seq[FLOW_S2C] += 3; /* a hole inside the body, across nothing special */
    send_s(&c, FLOW_S2C, "89");
    send_s(&c, FLOW_C2S, "GET /two HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 301 Moved Permanently\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_string_equal(txn(&c, 0)->uri, "/wrap");
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_int_equal(txn(&c, 1)->status, 301);
    assert_false(sniff_had_gap(c.s, FLOW_C2S));
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_garbage_tls(void **state)
{
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
                                     0xfc, 0x03, 0x03, 0x47, 0x45, 0x54, 0x20, 0x2f };
    static const uint8_t server[] = { 0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76 };
    uint8_t junk[4096];
    struct conn c;
    unsigned x = 12345;
    size_t i;

    (void)state;
    conn_init(&c, 1, 1);
    send_n(&c, FLOW_C2S, hello, sizeof(hello));
    send_n(&c, FLOW_S2C, server, sizeof(server));
    for (i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    for (i = 0; i < sizeof(junk); i += 512) {
        send_n(&c, FLOW_C2S, junk + i, 512);
        send_n(&c, FLOW_S2C, junk + i, 512);
    }
    assert_int_equal(sniff_count(c.s), 0);
    assert_int_equal(c.requests + c.responses, 0);
    assert_true(sniff_had_gap(c.s, FLOW_C2S));
    assert_true(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

/* Lookalikes that must not be taken for a start line. */
static void test_not_http(void **state)
{
    static const char *const bad[] = {
        "get / HTTP/1.1\r\n\r\n",
        "GE / HTTP/1.1\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 x\r\n\r\n",
        "GET / HTTP/11\r\n\r\n",
        "GET /\r\n\r\n",
        "GET /a\x01 HTTP/1.1\r\n\r\n",
        "SSH-2.0-OpenSSH_9.0\r\n",
        "VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n",
    };
    struct conn c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        conn_init(&c, 1, 1);
        send_s(&c, FLOW_C2S, bad[i]);
        send_s(&c, FLOW_S2C, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        send_s(&c, FLOW_S2C, "HTTP/1.1 4000 Bad\r\n\r\n");
        send_s(&c, FLOW_S2C, "HTTP/1.1 026 Low\r\n\r\n");
        send_s(&c, FLOW_S2C, "HTTP/1.1 600 High\r\n\r\n");
        assert_int_equal(sniff_count(c.s), 1);
        assert_string_equal(txn(&c, 0)->method, "");
        assert_true(sniff_had_gap(c.s, FLOW_C2S));
        conn_free(&c);
    }
}

static void test_long_uri(void **state)
{
    char req[3000], want[SNIFF_URI_MAX];
    struct conn c;
    size_t n;

    (void)state;
    conn_init(&c, 1, 1);
    /* 300 characters: fits the line buffer, not the URI field. */
    memset(req, 0, sizeof(req));
    memcpy(req, "GET /", 5);
    memset(req + 5, 'a', 299);
    strcat(req, " HTTP/1.1\r\nRange: bytes=1-2\r\n\r\n");
    send_s(&c, FLOW_C2S, req);
    /* 2900 characters: longer than the line buffer; the version is still known. */
    n = snprintf(req, sizeof(req), "GET /");
    memset(req + n, 'b', 2900);
    req[n + 2900] = '\0';
    strcat(req, " HTTP/1.0\r\nRange: bytes=3-4\r\n\r\n");
    send_s(&c, FLOW_C2S, req);
    send_s(&c, FLOW_C2S, "GET /short HTTP/1.1\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 3);
    want[0] = '/';
    memset(want + 1, 'a', SNIFF_URI_MAX - 2);
    want[SNIFF_URI_MAX - 1] = '\0';
    assert_string_equal(txn(&c, 0)->uri, want);
    assert_true(txn(&c, 0)->uri_truncated);
    assert_string_equal(txn(&c, 0)->version, "HTTP/1.1");
    assert_string_equal(txn(&c, 0)->range, "bytes=1-2");
    assert_int_equal(strlen(txn(&c, 1)->uri), SNIFF_URI_MAX - 1);
    assert_true(txn(&c, 1)->uri_truncated);
    assert_string_equal(txn(&c, 1)->version, "HTTP/1.0");
    assert_string_equal(txn(&c, 1)->range, "bytes=3-4");
    assert_string_equal(txn(&c, 2)->uri, "/short");
    assert_false(txn(&c, 2)->uri_truncated);
    assert_false(sniff_had_gap(c.s, FLOW_C2S));
    conn_free(&c);
}

/* A header block far larger than any buffer: fields before and after it are kept. */
static void test_huge_header_block(void **state)
{
    char line[600];
    struct conn c;
    int i;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /h HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n");
    memset(line, 'v', sizeof(line) - 3);
    memcpy(line, "X-Big: ", 7);
    memcpy(line + sizeof(line) - 3, "\r\n", 3);
    for (i = 0; i < 40; i++)
        send_s(&c, FLOW_S2C, line);
    send_s(&c, FLOW_S2C, "Content-Length: 4\r\n\r\nbody");
    send_s(&c, FLOW_C2S, "GET /i HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_string_equal(txn(&c, 0)->content_type, "text/css");
    assert_int_equal(txn(&c, 0)->content_length, 4);
    assert_int_equal(txn(&c, 1)->status, 200);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_huge_content_length(void **state)
{
    char body[1024];
    struct conn c;
    int i;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /huge HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n");
    memset(body, 'x', sizeof(body));
    memcpy(body, "HTTP/1.1 200 OK\r\n\r\n", 19);
    for (i = 0; i < 100; i++)
        send_n(&c, FLOW_S2C, body, sizeof(body));
    c.seq[FLOW_S2C] += 0x7fff0000u; /* a body this large may skip far ahead */
    send_n(&c, FLOW_S2C, body, sizeof(body));
    assert_int_equal(sniff_count(c.s), 2);
    assert_int_equal(txn(&c, 0)->content_length, INT64_MAX);
    assert_int_equal(txn(&c, 1)->status, 0);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_invalid_content_length(void **state)
{
    static const char *const bad[] = {
        "-5", "12a", "", "99999999999999999999", "5, 6", "0x10", "+3",
    };
    char resp[256];
    struct conn c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        conn_init(&c, 1, 1);
        send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\n");
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nHTTP/1.1 555 Inside\r\n\r\n",
                 bad[i]);
        send_s(&c, FLOW_S2C, resp);
        assert_int_equal(txn(&c, 0)->status, 200);
        assert_int_equal(txn(&c, 0)->content_length, -1);
        assert_true(sniff_had_gap(c.s, FLOW_S2C));
        /* The next response starting a segment is trusted again. */
        send_s(&c, FLOW_C2S, "GET /b HTTP/1.1\r\n\r\n");
        send_s(&c, FLOW_S2C, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(sniff_count(c.s), 2);
        assert_int_equal(txn(&c, 1)->status, 302);
        conn_free(&c);
    }
    /* Conflicting lengths (a smuggling pattern) are just as unknown. */
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n");
    assert_int_equal(txn(&c, 0)->content_length, -1);
    assert_true(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
    /* The same value twice is fine. */
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /a HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nok");
    assert_int_equal(txn(&c, 0)->content_length, 2);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_close_delimited(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "GET /old HTTP/1.0\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nline one\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 404 Not Found\r\n\r\n"); /* still body */
    assert_int_equal(sniff_count(c.s), 1);
    assert_int_equal(txn(&c, 0)->status, 200);
    assert_int_equal(txn(&c, 0)->content_length, -1);
    assert_int_equal(c.responses, 1);
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
}

static void test_connect_tunnel(void **state)
{
    struct conn c;

    (void)state;
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 Connection Established\r\n\r\n");
    send_s(&c, FLOW_C2S, "\x16\x03\x01GET / HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "\x16\x03\x03HTTP/1.1 200 OK\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 1);
    assert_string_equal(txn(&c, 0)->uri, "example.org:443");
    assert_false(sniff_had_gap(c.s, FLOW_C2S));
    assert_false(sniff_had_gap(c.s, FLOW_S2C));
    conn_free(&c);
    /* Refused: HTTP continues. */
    conn_init(&c, 1, 1);
    send_s(&c, FLOW_C2S, "CONNECT example.org:443 HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
    send_s(&c, FLOW_C2S, "GET / HTTP/1.1\r\n\r\n");
    send_s(&c, FLOW_S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sniff_count(c.s), 2);
    assert_int_equal(txn(&c, 1)->status, 200);
    conn_free(&c);
}

static void test_ring_bound(void **state)
{
    char buf[128];
    struct conn c;
    size_t n, i;

    (void)state;
    conn_init(&c, 1, 1);
    for (i = 0; i < 200; i++) {
        snprintf(buf, sizeof(buf), "GET /item/%zu HTTP/1.1\r\nHost: x\r\n\r\n", i);
        send_s(&c, FLOW_C2S, buf);
        snprintf(buf, sizeof(buf), "HTTP/1.1 %zu OK\r\nContent-Length: 0\r\n\r\n", 200 + i);
        send_s(&c, FLOW_S2C, buf);
    }
    n = sniff_count(c.s);
    assert_true(n >= 32 && n < 200);
    assert_int_equal(sniff_dropped(c.s) + n, 200);
    for (i = 0; i < n; i++) {
        snprintf(buf, sizeof(buf), "/item/%zu", 200 - n + i);
        assert_string_equal(txn(&c, i)->uri, buf);
        assert_int_equal(txn(&c, i)->status, 200 + (200 - n + i));
    }
    assert_int_equal(c.requests, 200);
    assert_int_equal(c.responses, 200);
    assert_null(sniff_get(c.s, n));
    conn_free(&c);
}

/* The URI test_growth gives request i: lengths vary so the arena fills unevenly. */
static void growth_uri(char *buf, size_t n, size_t i)
{
    size_t len = 8 + (i * 37) % 120;

    snprintf(buf, n, "/g/%zu/", i);
    while (strlen(buf) < len)
        strcat(buf, "x");
}

/*
 * The ring and the arena start small and grow before anything is dropped:
 * after every exchange, each kept transaction still has all its strings,
 * and kept + dropped is what was sent, across every growth step and then
 * with the full ring and the full arena dropping the oldest.
 */
static void test_growth(void **state)
{
    char buf[512], uri[160], want[160];
    struct conn c;
    size_t i, k, n;

    (void)state;
    conn_init(&c, 1, 1);
    for (i = 0; i < 120; i += 2) {
        /* Two pipelined requests, then both responses. */
        for (k = i; k < i + 2; k++) {
            growth_uri(uri, sizeof(uri), k);
            snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nRange: bytes=%zu-\r\n\r\n", uri, k);
            send_s(&c, FLOW_C2S, buf);
        }
        for (k = i; k < i + 2; k++) {
            snprintf(buf, sizeof(buf),
                     "HTTP/1.1 206 R%zu\r\nContent-Type: t/%zu\r\nContent-Length: 0\r\n\r\n", k, k);
            send_s(&c, FLOW_S2C, buf);
        }
        n = sniff_count(c.s);
        assert_int_equal(n + sniff_dropped(c.s), i + 2);
        assert_true(n <= 48);
        for (k = i + 2 - n; k < i + 2; k++) {
            const struct sniff_txn *t = txn(&c, k - (i + 2 - n));

            growth_uri(want, sizeof(want), k);
            assert_string_equal(t->uri, want);
            snprintf(want, sizeof(want), "bytes=%zu-", k);
            assert_string_equal(t->range, want);
            snprintf(want, sizeof(want), "R%zu", k);
            assert_string_equal(t->reason, want);
            snprintf(want, sizeof(want), "t/%zu", k);
            assert_string_equal(t->content_type, want);
            assert_int_equal(t->status, 206);
        }
    }
    /* The arena (4 KiB), not the ring, bounded this connection. */
    assert_true(sniff_count(c.s) < 48);
    conn_free(&c);
}

/* More pipelined requests than can be tracked: later responses are not misattributed. */
static void test_pipeline_overflow(void **state)
{
    char buf[128];
    struct conn c;
    size_t i, n;

    (void)state;
    conn_init(&c, 1, 1);
    for (i = 0; i < 100; i++) {
        snprintf(buf, sizeof(buf), "GET /p/%zu HTTP/1.1\r\n\r\n", i);
        send_s(&c, FLOW_C2S, buf);
    }
    for (i = 0; i < 100; i++) {
        snprintf(buf, sizeof(buf), "HTTP/1.1 200 R%zu\r\nContent-Length: 0\r\n\r\n", i);
        send_s(&c, FLOW_S2C, buf);
    }
    n = sniff_count(c.s);
    for (i = 0; i < n; i++) {
        const struct sniff_txn *t = txn(&c, i);
        char want[32];

        if (t->status == 0)
            continue;
        snprintf(want, sizeof(want), "R%s", t->uri + 3);
        assert_string_equal(t->reason, want);
    }
    assert_int_equal(txn(&c, n - 1)->status, 200);
    conn_free(&c);
}

static void test_memory_and_nulls(void **state)
{
    struct sniff_txn out;
    struct sniff *s;

    (void)state;
    assert_true(sniff_size() < 9 * 1024);
    s = sniff_new();
    sniff_segment(s, FLOW_C2S, 1, NULL, 10, 0, NULL);
    sniff_segment(s, (enum flow_dir_id)7, 1, (const uint8_t *)"GET", 3, 0, NULL);
    sniff_segment(s, FLOW_C2S, 1, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, 0, NULL);
    assert_int_equal(sniff_count(s), 1);
    assert_int_equal(sniff_get_copy(s, 0, &out), 0);
    assert_string_equal(out.uri, "/");
    assert_int_equal(sniff_get_copy(s, 1, &out), -1);
    assert_int_equal(sniff_count(NULL), 0);
    assert_null(sniff_get(NULL, 0));
    sniff_free(s);
    sniff_free(NULL);
}

/* Counts callbacks of a sniffer fed with no_txn set: txn must be NULL. */
static void on_bare(void *ctx, const struct sniff_txn *t)
{
    int *n = ctx;

    assert_null(t);
    (*n)++;
}

/*
 * The same stream fed whole, one byte per segment, and with no_txn
 * callbacks: the same transactions (start lines are taken in runs when a
 * segment allows it, byte by byte otherwise), and no_txn gets every
 * callback with NULL.
 */
static void test_runs_and_no_txn(void **state)
{
    char stream[2][1400];
    char longuri[400];
    struct sniff *whole = sniff_new(), *bytes = sniff_new(), *bare = sniff_new();
    struct conn c;
    int nbare = 0;
    struct sniff_cb bare_cb = { on_bare, on_bare, &nbare, 1 };

    (void)state;
    memset(&c, 0, sizeof(c));
    memset(longuri, 'a', sizeof(longuri) - 1);
    longuri[0] = '/';
    longuri[sizeof(longuri) - 1] = '\0';
    snprintf(stream[FLOW_C2S], sizeof(stream[0]),
             "GET /a%%20b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
             "GET %s HTTP/1.0\r\n\r\n"
             "HEAD /t\tab HTTP/1.1\r\n\r\n",
             longuri);
    snprintf(stream[FLOW_S2C], sizeof(stream[0]),
             "HTTP/1.1 404 Not\tFound here\r\nContent-Length: 0\r\n\r\n"
             "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok");
    for (int d = 0; d < 2; d++) {
        size_t n = strlen(stream[d]);
        struct sniff_cb cb = { on_req, on_resp, &c, 0 };

        sniff_segment(whole, (enum flow_dir_id)d, 1, (const uint8_t *)stream[d], n, 5, &cb);
        sniff_segment(bare, (enum flow_dir_id)d, 1, (const uint8_t *)stream[d], n, 5, &bare_cb);
        for (size_t i = 0; i < n; i++)
            sniff_segment(bytes, (enum flow_dir_id)d, 1 + (uint32_t)i,
                          (const uint8_t *)stream[d] + i, 1, 5, NULL);
    }
    assert_int_equal(c.requests, 2); /* the tab in the third target desyncs */
    assert_int_equal(c.responses, 2);
    assert_int_equal(nbare, c.requests + c.responses);
    assert_int_equal(sniff_count(whole), sniff_count(bytes));
    assert_int_equal(sniff_count(whole), sniff_count(bare));
    for (size_t i = 0; i < sniff_count(whole); i++) {
        struct sniff_txn a, b, e;

        assert_int_equal(sniff_get_copy(whole, i, &a), 0);
        assert_int_equal(sniff_get_copy(bytes, i, &b), 0);
        assert_int_equal(sniff_get_copy(bare, i, &e), 0);
        assert_string_equal(a.uri, b.uri);
        assert_string_equal(a.uri, e.uri);
        assert_string_equal(a.reason, b.reason);
        assert_string_equal(a.version, b.version);
        assert_int_equal(a.status, b.status);
        assert_int_equal(a.uri_truncated, b.uri_truncated);
    }
    assert_string_equal(sniff_get(whole, 0)->reason, "Not\tFound here");
    assert_string_equal(sniff_get(whole, 0)->uri, "/a%20b?x=1");
    assert_int_equal(strlen(sniff_get(whole, 1)->uri), SNIFF_URI_MAX - 1);
    sniff_free(whole);
    sniff_free(bytes);
    sniff_free(bare);
}

/* Header names match in any case, and only the exact letters and dashes. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retransmission),
        cmocka_unit_test(test_gap_resync),
        cmocka_unit_test(test_gap_in_length_body),
        cmocka_unit_test(test_gap_ambiguous),
        cmocka_unit_test(test_gap_then_pipelined),
        cmocka_unit_test(test_gap_in_request_line),
        cmocka_unit_test(test_midstream_start),
        cmocka_unit_test(test_seq_wrap),
        cmocka_unit_test(test_garbage_tls),
        cmocka_unit_test(test_not_http),
        cmocka_unit_test(test_long_uri),
        cmocka_unit_test(test_huge_header_block),
        cmocka_unit_test(test_huge_content_length),
        cmocka_unit_test(test_invalid_content_length),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_connect_tunnel),
        cmocka_unit_test(test_ring_bound),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_pipeline_overflow),
        cmocka_unit_test(test_memory_and_nulls),
        cmocka_unit_test(test_runs_and_no_txn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
