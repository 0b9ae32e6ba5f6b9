/* Unit tests for worker/http_parse.c: request parser and body decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/http_parse.h"

static const struct http_limits parse_limits = {
    .max_request_line = 64,
    .max_header_bytes = 256,
    .max_headers = 8,
    .max_body = 1000,
};

static struct http_request req;

/* The parser's result, or for HTTP_PARSE_ERROR the status it chose (>= 400). */
static int outcome(enum http_parse_result rc, int error_status)
{
    return rc == HTTP_PARSE_ERROR ? error_status : (int)rc;
}

static int parse(const char *buf, size_t len)
{
    enum http_parse_result rc = http_parse_request(&req, buf, len);
    return outcome(rc, req.error_status);
}

/* Parse text given whole; then again fed in two pieces split at every offset
 * and byte by byte: an incremental parser must reach the same answer. */
static int parse_text(const char *text)
{
    size_t len = strlen(text);
    char *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, text, len);

    int whole;
    http_request_init(&req, &parse_limits);
    whole = parse(buf, len);

    for (size_t k = 1; k < len; k++) {
        http_request_init(&req, &parse_limits);
        int rc = parse(buf, k);
        if (rc == HTTP_PARSE_AGAIN)
            rc = parse(buf, len);
        if (rc != whole)
            fail_msg("split at %zu: got %d, whole gave %d for %s", k, rc, whole, text);
    }
    http_request_init(&req, &parse_limits);
    int rc = HTTP_PARSE_AGAIN;
    for (size_t k = 1; k <= len && rc == HTTP_PARSE_AGAIN; k++)
        rc = parse(buf, k);
    if (rc != whole)
        fail_msg("byte by byte: got %d, whole gave %d", rc, whole);

    /* Leave req holding the whole-buffer result for the caller's checks. */
    http_request_init(&req, &parse_limits);
    parse(buf, len);
    /* Slices point into buf: keep it alive until the next call. */
    static char *last;
    free(last);
    last = buf;
    return whole;
}

/* Each of the n requests, given whole and in pieces, parses to want. */
static void expect_each(const char *const *texts, size_t n, int want)
{
    for (size_t i = 0; i < n; i++)
        if (parse_text(texts[i]) != want)
            fail_msg("not %d: %s", want, texts[i]);
}

static void assert_slice(struct http_slice s, const char *want)
{
    if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
        fail_msg("slice '%.*s' != '%s'", (int)s.len, s.p ? s.p : "", want);
}

static void test_simple_get(void **state)
{
    (void)state;
    const char *t = "GET /index.html?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n";
    assert_int_equal(parse_text(t), HTTP_PARSE_DONE);
    assert_int_equal(req.method, HTTP_METHOD_GET);
    assert_slice(req.method_name, "GET");
    assert_slice(req.target, "/index.html?x=1");
    assert_slice(req.path, "/index.html");
    assert_slice(req.query, "x=1");
    assert_slice(req.host, "example");
    assert_slice(req.request_line, "GET /index.html?x=1 HTTP/1.1");
    assert_int_equal(req.version_minor, 1);
    assert_int_equal(req.keep_alive, 1);
    assert_int_equal(req.body, HTTP_BODY_NONE);
    assert_int_equal(req.nheaders, 2);
    assert_int_equal(req.header_len, strlen(t));
    assert_non_null(http_header_find(&req, "user-agent"));
    assert_slice(http_header_find(&req, "USER-AGENT")->value, "t");
    assert_null(http_header_find(&req, "Referer"));
}

static void test_incomplete(void **state)
{
    (void)state;
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\n"), HTTP_PARSE_AGAIN);
    assert_int_equal(parse_text("GET / HT"), HTTP_PARSE_AGAIN);
    assert_int_equal(parse_text(""), HTTP_PARSE_AGAIN);
}

static void test_pipelined_header_len(void **state)
{
    (void)state;
    const char *one = "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n";
    char two[256];
    snprintf(two, sizeof(two), "%sGET /b HTTP/1.1\r\nHost: h\r\n\r\n", one);
    assert_int_equal(parse_text(two), HTTP_PARSE_DONE);
    assert_int_equal(req.method, HTTP_METHOD_HEAD);
    assert_int_equal(req.header_len, strlen(one));
}

static void test_bare_lf_and_leading_crlf(void **state)
{
    (void)state;
    assert_int_equal(parse_text("\r\nGET / HTTP/1.1\nHost: a\n\n"), HTTP_PARSE_DONE);
    assert_slice(req.request_line, "GET / HTTP/1.1");
    assert_int_equal(parse_text("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 400);
}

static void test_versions(void **state)
{
    (void)state;
    assert_int_equal(parse_text("GET / HTTP/1.0\r\n\r\n"), HTTP_PARSE_DONE);
    assert_int_equal(req.version_minor, 0);
    assert_int_equal(req.keep_alive, 0);
    assert_int_equal(parse_text("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(req.keep_alive, 1);
    assert_int_equal(parse_text("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    assert_int_equal(parse_text("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505);
    assert_int_equal(parse_text("GET / HTTP/0.9\r\n\r\n"), 505);
    /* A later minor version is served as the highest we have (RFC 9110 §2.5). */
    assert_int_equal(parse_text("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), HTTP_PARSE_DONE);
    assert_int_equal(req.version_minor, 1);
    assert_int_equal(req.keep_alive, 1);
    assert_slice(req.request_line, "GET / HTTP/1.2");
    assert_int_equal(parse_text("GET / HTTP/1.9\r\n\r\n"), 400); /* 1.1 rules: Host needed */
    assert_int_equal(parse_text("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/11\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET /\r\n\r\n"), 400);
}

static void test_connection_header(void **state)
{
    (void)state;
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(req.keep_alive, 0);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(req.keep_alive, 0);
    assert_int_equal(parse_text("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(req.keep_alive, 0);
}

static void test_request_line_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_text("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET a HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), 400);
    /* A fragment is never sent: '#' anywhere in the target is refused. */
    static const char *const fragments[] = {
        "GET /index.html#top HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET # HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET http://a/#x HTTP/1.1\r\nHost: a\r\n\r\n",
    };
    expect_each(fragments, sizeof(fragments) / sizeof(fragments[0]), 400);
    assert_int_equal(parse_text("GET /%23 HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_PARSE_DONE);
}

static void test_methods(void **state)
{
    (void)state;
    assert_int_equal(parse_text("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_PARSE_DONE);
    assert_int_equal(req.method, HTTP_METHOD_HEAD);
    assert_int_equal(parse_text("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_PARSE_DONE);
    assert_int_equal(req.method, HTTP_METHOD_OPTIONS);
    assert_slice(req.path, "*");
    assert_int_equal(parse_text("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_PARSE_DONE);
    assert_int_equal(req.method, HTTP_METHOD_UNKNOWN);
    assert_slice(req.method_name, "BREW");
    /* Methods are case-sensitive. */
    assert_int_equal(parse_text("get / HTTP/1.1\r\nHost: a\r\n\r\n"), HTTP_PARSE_DONE);
    assert_int_equal(req.method, HTTP_METHOD_UNKNOWN);
    assert_string_equal(http_method_name(HTTP_METHOD_DELETE), "DELETE");
}

static void test_absolute_form(void **state)
{
    (void)state;
    assert_int_equal(parse_text("GET http://Other:81/p/q?z HTTP/1.1\r\nHost: a\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_slice(req.host, "Other:81");
    assert_slice(req.path, "/p/q");
    assert_slice(req.query, "z");
    assert_int_equal(parse_text("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_PARSE_DONE);
    assert_slice(req.path, "/");
    assert_int_equal(parse_text("GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    /*
     * Userinfo is an error (RFC 9110 §4.2.4), and the authority is checked
     * as a Host; so is the Host field, though the target's authority wins.
     */
    static const char *const refused[] = {
        "GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://h:x/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://:80/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://h/ HTTP/1.1\r\nHost: a b\r\n\r\n",
    };
    expect_each(refused, sizeof(refused) / sizeof(refused[0]), 400);
    assert_int_equal(parse_text("GET http://[::1]:8080/x HTTP/1.1\r\nHost: h\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_slice(req.host, "[::1]:8080");
}

static void test_host_rules(void **state)
{
    (void)state;
    assert_int_equal(parse_text("GET / HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nhOST: a\r\n\r\n"), HTTP_PARSE_DONE);
    /* Empty: no authority, so our one site (RFC 9112 §3.3). */
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost:\r\n\r\n"), HTTP_PARSE_DONE);
    assert_slice(req.host, "");
}

/* Host = uri-host [ ":" port ]: an invalid value is 400 (RFC 9112 §3.2). */
static void test_host_syntax(void **state)
{
    (void)state;
    static const char *const good[] = {
        "example.org",  "Example.ORG:8080", "127.0.0.1",  "127.0.0.1:80", "[::1]",
        "[::1]:8080",   "[2001:db8::7]",    "[v1.a:b]",   "a-b_c~d",      "h:",
        "%41b.example", "!$&'()*+,;=",      "localhost.", "x:000080",
    };
    static const char *const bad[] = {
        "a b",
        "127.0.0.1/evil",
        "../../etc",
        "u@127.0.0.1",
        "u:p@h",
        "127.0.0.1:abc",
        "h:80:81",
        ":80",
        "[::1",
        "[::1]x",
        "[::1]:a",
        "[zz::1]",
        "[]",
        "[v1]",
        "[v.a]",
        "%4",
        "%zz.example",
        "a\"b",
        "a<b",
        "h\\x",
        "a\x80"
        "b",
        "h?x",
        "h#x",
        "[1.2.3.4]",
        "a|b",
    };
    char text[160];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
        if (parse_text(text) != HTTP_PARSE_DONE)
            fail_msg("Host: %s refused", good[i]);
        assert_slice(req.host, good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", bad[i]);
        if (parse_text(text) != 400)
            fail_msg("Host: %s accepted", bad[i]);
    }
}

static void test_field_syntax(void **state)
{
    (void)state;
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX\t: y\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\n\tz\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX: \r\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX(y: 1\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX-Y: \t v a l \t\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_slice(http_header_find(&req, "x-y")->value, "v a l");
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX-UTF8: \xc3\xa9\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nA: 2\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(http_header_count(&req, "a"), 2);
}

static void test_nul_byte(void **state)
{
    (void)state;
    static const char t[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    http_request_init(&req, &parse_limits);
    assert_int_equal(parse(t, sizeof(t) - 1), 400);
    static const char t2[] = "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n";
    http_request_init(&req, &parse_limits);
    assert_int_equal(parse(t2, sizeof(t2) - 1), 400);
}

static void test_limits(void **state)
{
    (void)state;
    char buf[1024];
    /* Request line of exactly 64 bytes passes, 65 gives 414. */
    char path[64];
    memset(path, 'a', 50);
    path[50] = 0;
    snprintf(buf, sizeof(buf), "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n", path);
    assert_int_equal(strchr(buf, '\r') - buf, 64);
    assert_int_equal(parse_text(buf), HTTP_PARSE_DONE);
    strcat(path, "a");
    snprintf(buf, sizeof(buf), "GET /%s HTTP/1.1\r\nHost: a\r\n\r\n", path);
    assert_int_equal(parse_text(buf), 414);
    /* Still 414 when the line end never arrives. */
    memset(buf, 'a', 200);
    memcpy(buf, "GET /", 5);
    buf[200] = 0;
    assert_int_equal(parse_text(buf), 414);

    /* 8 fields pass, 9 give 431. */
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n"
                                "A: 1\r\nA: 1\r\nA: 1\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n"
                                "A: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n\r\n"),
                     431);
    /* Header bytes: one 300-byte field, complete or not. */
    int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nCookie: ");
    memset(buf + n, 'c', 300);
    strcpy(buf + n + 300, "\r\n\r\n");
    assert_int_equal(parse_text(buf), 431);
    buf[n + 300] = 0;
    assert_int_equal(parse_text(buf), 431);
}

/*
 * An over-long line that also holds a bare CR is 414 (431 in the fields)
 * whether it arrives whole or in pieces: the limits are checked first, as
 * they are on an incomplete line (found by fuzz_http_parse).
 */
static void test_bare_cr_over_limit(void **state)
{
    (void)state;
    char buf[1024];
    char a[71];
    memset(a, 'a', 70);
    a[70] = 0;
    snprintf(buf, sizeof(buf), "GET /%s HTTP/1.1\rX\r\n\r\n", a);
    assert_int_equal(parse_text(buf), 414);
    /* Within the limit, a bare CR stays a 400. */
    assert_int_equal(parse_text("GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400);
    /* A field with a bare CR past the header byte limit. */
    int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nCookie: \r");
    memset(buf + n, 'c', 300);
    strcpy(buf + n + 300, "\r\n\r\n");
    assert_int_equal(parse_text(buf), 431);
}

static void test_header_bytes_boundary(void **state)
{
    (void)state;
    /* Fields section of exactly 256 bytes (with the final CRLF) passes. */
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    int fields = n - (int)strlen("GET / HTTP/1.1\r\n");
    int pad = 256 - fields - 4;
    memset(buf + n, 'v', (size_t)pad);
    strcpy(buf + n + pad, "\r\n\r\n");
    assert_int_equal(parse_text(buf), HTTP_PARSE_DONE);
    memset(buf + n, 'v', (size_t)pad + 1);
    strcpy(buf + n + pad + 1, "\r\n\r\n");
    assert_int_equal(parse_text(buf), 431);
}

static void test_content_length(void **state)
{
    (void)state;
    assert_int_equal(parse_text("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(req.body, HTTP_BODY_LENGTH);
    assert_int_equal(req.content_length, 5);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(req.body, HTTP_BODY_NONE);
    assert_int_equal(
        parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
        HTTP_PARSE_DONE);
    assert_int_equal(
        parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
        400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400);
    assert_int_equal(
        parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"),
        400);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n"), 413);
    assert_int_equal(parse_text("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n"),
                     HTTP_PARSE_DONE);
}

static void test_transfer_encoding(void **state)
{
    (void)state;
    assert_int_equal(parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     HTTP_PARSE_DONE);
    assert_int_equal(req.body, HTTP_BODY_CHUNKED);
    assert_int_equal(
        parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"),
        HTTP_PARSE_DONE);
    assert_int_equal(req.body, HTTP_BODY_CHUNKED);
    /* Smuggling defences. */
    assert_int_equal(parse_text("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n"),
                     400);
    assert_int_equal(parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                                "Content-Length: 3\r\n\r\n"),
                     400);
    assert_int_equal(
        parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 400);
    assert_int_equal(
        parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
        400);
    assert_int_equal(parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n"),
                     400);
    assert_int_equal(parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
                     400);
    assert_int_equal(parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), 400);
    assert_int_equal(parse_text("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    assert_int_equal(
        parse_text("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n"), 501);
}

/* Body decoding of text, whole and split at every offset; returns the result
 * and the bytes consumed through *used_out. */
static int body_text(enum http_body_kind kind, unsigned long long cl, const char *text,
                     size_t *used_out)
{
    struct http_request r;
    struct http_body b;
    size_t len = strlen(text), used;

    http_request_init(&r, &parse_limits);
    r.body = kind;
    r.content_length = cl;
    http_body_init(&b, &r);
    used = (size_t)-1; /* must be set on every return, errors included */
    enum http_parse_result res = http_body_consume(&b, text, len, &used);
    int whole = outcome(res, b.error_status);
    assert_true(used <= len);
    *used_out = used;
    for (size_t k = 0; k < len; k++) {
        size_t u1, u2 = 0;
        http_body_init(&b, &r);
        res = http_body_consume(&b, text, k, &u1);
        int rc = outcome(res, b.error_status);
        if (rc == HTTP_PARSE_AGAIN) {
            assert_int_equal(u1, k);
            res = http_body_consume(&b, text + k, len - k, &u2);
            rc = outcome(res, b.error_status);
        } else {
            u2 = used - u1;
        }
        if (rc != whole || (rc == HTTP_PARSE_DONE && u1 + u2 != used))
            fail_msg("body split at %zu: got %d, whole %d", k, rc, whole);
    }
    return whole;
}

static void test_body_length(void **state)
{
    (void)state;
    size_t used;
    assert_int_equal(body_text(HTTP_BODY_LENGTH, 5, "helloGET", &used), HTTP_PARSE_DONE);
    assert_int_equal(used, 5);
    assert_int_equal(body_text(HTTP_BODY_LENGTH, 10, "hello", &used), HTTP_PARSE_AGAIN);
    assert_int_equal(used, 5);
}

static void test_body_chunked(void **state)
{
    (void)state;
    size_t used;
    const char *b = "5\r\nhello\r\na;ext=1\r\n0123456789\r\n0\r\n\r\n";
    char buf[256];
    snprintf(buf, sizeof(buf), "%sGET / HTTP/1.1\r\n", b);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, buf, &used), HTTP_PARSE_DONE);
    assert_int_equal(used, strlen(b));
    /* Trailers. */
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT", &used),
                     HTTP_PARSE_DONE);
    assert_int_equal(used, strlen("3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"));
    /* Upper-case hex; extensions, whitespace before their ';', quoted values. */
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "A\r\n0123456789\r\n0\r\n\r\n", &used),
                     HTTP_PARSE_DONE);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0,
                               "5 \t;a=b\r\nhello\r\n3;q=\"x y;\\\"z\";n\r\nabc\r\n0;e\r\n\r\n",
                               &used),
                     HTTP_PARSE_DONE);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "5\r\nhel", &used), HTTP_PARSE_AGAIN);
    /* Malformed framing. */
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "x\r\n", &used), 400);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "\r\n", &used), 400);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "3\r\nabcX\r\n", &used), 400);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "3\rX", &used), 400);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "1234567890abcdef0\r\n", &used), 400);
    /*
     * CRLF only, and nothing but BWS ';' after the size: each of these is
     * read one way by a lenient parser and another by a strict one ("funky
     * chunks"), so a request could hide in the body.
     */
    static const char *const funky[] = {
        "5\nhello\r\n0\r\n\r\n",               /* bare LF after the size */
        "5 x\r\nhello\r\n0\r\n\r\n",           /* junk after the size */
        "5x\r\nhello\r\n0\r\n\r\n",            /* junk right after the size */
        "5 \r\nhello\r\n0\r\n\r\n",            /* whitespace not followed by ';' */
        "5\t\r\nhello\r\n0\r\n\r\n",           /* the same with a tab */
        "5;a=b\nhello\r\n0\r\n\r\n",           /* bare LF after an extension */
        "5;a\rb\r\nhello\r\n0\r\n\r\n",        /* bare CR in an extension */
        "5\r\nhello\n0\r\n\r\n",               /* bare LF after the data */
        "5\r\nhello\r0\r\n\r\n",               /* bare CR after the data */
        "5\r\nhelloXX0\r\n\r\n",               /* data longer than its size */
        "5\r\nhello\r\n0\r\nX: 1\n\r\n",       /* bare LF after a trailer */
        "5\r\nhello\r\n0\r\n\n",               /* bare LF as the last line */
        "5\r\nhello\r\n0\r\n \r\n",            /* a trailer line that is not a field */
        "5\r\nhello\r\n0\r\nX: a\x01\r\n\r\n", /* a control byte in a trailer */
    };
    for (size_t i = 0; i < sizeof(funky) / sizeof(funky[0]); i++)
        if (body_text(HTTP_BODY_CHUNKED, 0, funky[i], &used) != 400)
            fail_msg("chunked body %zu accepted", i);
    /* Over max_body (1000) -> 413, counted across chunks. */
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "3e9\r\n", &used), 413);
    assert_int_equal(body_text(HTTP_BODY_CHUNKED, 0, "3e8\r\n", &used), HTTP_PARSE_AGAIN);
}

static void test_list_has(void **state)
{
    (void)state;
    struct http_slice s = { "a, keep-alive ,,b", 17 };
    assert_true(http_list_has(s, "Keep-Alive"));
    assert_true(http_list_has(s, "b"));
    assert_false(http_list_has(s, "keep"));
    assert_true(http_slice_eq((struct http_slice){ "AbC", 3 }, "abc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_pipelined_header_len),
        cmocka_unit_test(test_bare_lf_and_leading_crlf),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_connection_header),
        cmocka_unit_test(test_request_line_malformed),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_absolute_form),
        cmocka_unit_test(test_host_rules),
        cmocka_unit_test(test_host_syntax),
        cmocka_unit_test(test_field_syntax),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bare_cr_over_limit),
        cmocka_unit_test(test_header_bytes_boundary),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_transfer_encoding),
        cmocka_unit_test(test_body_length),
        cmocka_unit_test(test_body_chunked),
        cmocka_unit_test(test_list_has),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
