/* Unit tests for worker/response.c: header building and body segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker/response.h"

static const char *date = "Tue, 24 Nov 2026 04:20:00 GMT";

static void test_head_file(void **state)
{
    (void)state;
    struct response_plan p;
    struct response_env env = { .date = date, .keep_alive = 1 };
    char buf[1024];

    response_plan_init(&p);
    p.content_type = "text/plain; charset=utf-8";
    p.last_modified = 0;
    strcpy(p.etag, "\"42\"");
    size_t n = response_head_build(buf, sizeof(buf), &p, &env, NULL, 12);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "HTTP/1.1 200 OK\r\n"
                             "Server: labd/" LABD_VERSION "\r\n"
                             "Date: Tue, 24 Nov 2026 04:20:00 GMT\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: 12\r\n"
                             "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                             "Connection: keep-alive\r\n"
                             "ETag: \"42\"\r\n"
                             "\r\n");
    /* Too small a buffer is reported, not truncated silently. */
    assert_int_equal(response_head_build(buf, 60, &p, &env, NULL, 12), 0);
}

/* The header fields a plan holds as data, each in its place. */
static void test_header_fields(void **state)
{
    (void)state;
    struct response_plan p;
    struct response_env env = { .date = date, .keep_alive = 0 };
    char buf[2048];

    response_plan_init(&p);
    p.status = 416;
    p.last_modified = 0;
    strcpy(p.etag, "\"e\"");
    p.accept_ranges = 1;
    p.range_unsatisfiable = 1;
    p.file_size = 20;
    assert_true(response_head_build(buf, sizeof(buf), &p, &env, NULL, -1) > 0);
    assert_string_equal(strstr(buf, "Last-Modified"),
                        "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                        "Connection: close\r\n"
                        "ETag: \"e\"\r\n"
                        "Accept-Ranges: bytes\r\n"
                        "Content-Range: bytes */20\r\n"
                        "\r\n");

    response_plan_init(&p);
    p.status = 301;
    strcpy(p.location, "/a%20b/?q=1");
    assert_true(response_head_build(buf, sizeof(buf), &p, &env, NULL, -1) > 0);
    assert_string_equal(strstr(buf, "Connection"),
                        "Connection: close\r\nLocation: /a%20b/?q=1\r\n\r\n");

    response_plan_init(&p);
    p.status = 405;
    p.allow = "GET, HEAD";
    assert_true(response_head_build(buf, sizeof(buf), &p, &env, NULL, -1) > 0);
    assert_string_equal(strstr(buf, "Connection"), "Connection: close\r\nAllow: GET, HEAD\r\n\r\n");
}

/* A plan whose header does not fit is answered with a 500 that closes. */
static void test_too_big_is_500(void **state)
{
    (void)state;
    static struct response_out out;
    static char type[RESPONSE_HEAD_MAX];
    struct response_plan p;
    struct response_env env = { .date = date, .keep_alive = 1 };

    memset(type, 't', sizeof(type) - 1);
    response_plan_init(&p);
    p.content_type = type;
    p.body = "x";
    p.body_len = 1;
    assert_int_equal(response_prepare(&out, &p, &env), -1);
    assert_int_equal(out.status, 500);
    assert_true(out.closing);
    assert_true(strncmp(out.buf, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0);
    assert_non_null(strstr(out.buf, "Connection: close\r\n"));
    assert_int_equal(out.nsegs, 2);

    p.content_type = "text/plain";
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    assert_int_equal(out.status, 200);
    assert_false(out.closing);
}

static void test_error_page_and_304(void **state)
{
    (void)state;
    static struct response_out out;
    struct response_plan p;
    struct response_env env = { .date = date, .keep_alive = 0 };

    response_plan_init(&p);
    p.status = 404;
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    assert_int_equal(out.nsegs, 2);
    char *head = strndup(out.segs[0].mem, out.segs[0].len);
    char *body = strndup(out.segs[1].mem, out.segs[1].len);
    assert_non_null(strstr(head, "HTTP/1.1 404 Not Found\r\n"));
    assert_non_null(strstr(head, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(head, "Connection: close\r\n"));
    char cl[64];
    snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", strlen(body));
    assert_non_null(strstr(head, cl));
    assert_non_null(strstr(body, "<title>404 Not Found</title>"));
    free(head);
    free(body);

    /* HEAD: the same Content-Length, no body segment. */
    env.head = 1;
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    assert_int_equal(out.nsegs, 1);
    assert_non_null(strstr(out.buf, cl));

    response_plan_init(&p);
    p.status = 304;
    p.content_type = "text/html";
    env.head = 0;
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    assert_int_equal(out.nsegs, 1);
    assert_null(strstr(out.buf, "Content-Length"));
    assert_null(strstr(out.buf, "Content-Type"));
}

/* Send everything through a socketpair and return what the peer read. */
static size_t send_through(struct response_out *out, char *got, size_t cap)
{
    int sv[2];
    size_t n = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    for (;;) {
        int rc = response_send(out, sv[0], 7);
        assert_true(rc != RESPONSE_ERROR);
        ssize_t r;
        while ((r = read(sv[1], got + n, cap - n)) > 0)
            n += (size_t)r;
        if (rc == RESPONSE_DONE)
            break;
    }
    close(sv[0]);
    close(sv[1]);
    return n;
}

static int make_file(const char *data)
{
    char path[] = "/tmp/labd-test-response.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
    return fd;
}

static void test_single_range(void **state)
{
    (void)state;
    static struct response_out out;
    struct response_plan p;
    struct response_env env = { .date = date, .keep_alive = 1 };
    char got[4096];

    response_plan_init(&p);
    p.status = 206;
    p.fd = make_file("0123456789");
    p.file_size = 10;
    p.nranges = 1;
    p.ranges[0] = (struct response_range){ 2, 5 };
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    size_t n = send_through(&out, got, sizeof(got));
    got[n] = 0;
    assert_non_null(strstr(got, "HTTP/1.1 206 Partial Content\r\n"));
    assert_non_null(strstr(got, "Content-Length: 4\r\n"));
    assert_non_null(strstr(got, "Content-Range: bytes 2-5/10\r\n"));
    assert_string_equal(strstr(got, "\r\n\r\n") + 4, "2345");
    assert_int_equal(out.sent, n);
    assert_int_equal(out.body_len, 4);
    response_plan_release(&p);
    assert_int_equal(p.fd, -1);
}

static void test_multipart(void **state)
{
    (void)state;
    static struct response_out out;
    struct response_plan p;
    struct response_env env = { .date = date, .keep_alive = 1, .boundary_id = 7 };
    char got[4096];

    response_plan_init(&p);
    p.status = 206;
    p.content_type = "text/plain";
    p.fd = make_file("0123456789");
    p.file_size = 10;
    p.nranges = 2;
    p.ranges[0] = (struct response_range){ 0, 1 };
    p.ranges[1] = (struct response_range){ 8, 9 };
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    size_t n = send_through(&out, got, sizeof(got));
    got[n] = 0;
    const char *b = "labd00000000000000000007";
    char want[1024];
    snprintf(want, sizeof(want),
             "\r\n--%s\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01"
             "\r\n--%s\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89"
             "\r\n--%s--\r\n",
             b, b, b);
    char *body = strstr(got, "\r\n\r\n") + 4;
    assert_string_equal(body, want);
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n", strlen(want));
    assert_non_null(strstr(got, hdr));
    snprintf(hdr, sizeof(hdr), "Content-Type: multipart/byteranges; boundary=%s\r\n", b);
    assert_non_null(strstr(got, hdr));
    assert_null(strstr(got, "Content-Range: bytes 0-1/10\r\nConnection"));
    response_plan_release(&p);
}

/* One file segment of "0123456789" and nothing else, to watch turns. */
static void file_only(struct response_out *out, int fd)
{
    memset(out, 0, sizeof(*out));
    out->nsegs = 1;
    out->segs[0] = (struct response_seg){ .mem = NULL, .fd = fd, .off = 0, .len = 10 };
    out->body_len = 10;
}

static void test_send_budget_turns(void **state)
{
    (void)state;
    static struct response_out out;
    int sv[2];
    char got[32];
    int fd = make_file("0123456789");
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);

    /* 10 bytes, budget 4: 6 would be left, more than a budget, so the
     * turn stops at 4; the 6 left are under two budgets and go at once. */
    file_only(&out, fd);
    assert_int_equal(response_send(&out, sv[0], 4), RESPONSE_YIELD);
    assert_int_equal(out.sent, 4);
    assert_int_equal(response_send(&out, sv[0], 4), RESPONSE_DONE);
    assert_int_equal(out.sent, 10);
    assert_int_equal(read(sv[1], got, sizeof(got)), 10);
    assert_memory_equal(got, "0123456789", 10);

    /* Budget 6: a 4-byte tail would be shorter than a budget, so one turn. */
    file_only(&out, fd);
    assert_int_equal(response_send(&out, sv[0], 6), RESPONSE_DONE);
    assert_int_equal(out.sent, 10);
    assert_int_equal(read(sv[1], got, sizeof(got)), 10);
    assert_memory_equal(got, "0123456789", 10);

    /* Budget 5: exactly a budget would be left, so the cut stays. */
    file_only(&out, fd);
    assert_int_equal(response_send(&out, sv[0], 5), RESPONSE_YIELD);
    assert_int_equal(out.sent, 5);
    assert_int_equal(response_send(&out, sv[0], 5), RESPONSE_DONE);
    assert_int_equal(read(sv[1], got, sizeof(got)), 10);
    assert_memory_equal(got, "0123456789", 10);

    close(sv[0]);
    close(sv[1]);
    close(fd);
}

static void test_reasons(void **state)
{
    (void)state;
    assert_string_equal(response_reason(200), "OK");
    assert_string_equal(response_reason(431), "Request Header Fields Too Large");
    assert_string_equal(response_reason(599), "Unknown");
}

/* A connected TCP pair on loopback: *srv (non-blocking, TCP_NODELAY as labd's) and *cli. */
static void tcp_pair(int *srv, int *cli)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    *cli = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(*cli, (struct sockaddr *)&sa, sizeof(sa)), 0);
    *srv = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    assert_true(*srv >= 0);
    setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    close(l);
}

/* Bytes readable on fd within ms, reading all of them into buf. */
static size_t read_within(int fd, char *buf, size_t cap, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    size_t got = 0;
    while (got < cap && poll(&p, 1, ms) == 1) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        ms = 50;
    }
    return got;
}

/*
 * A response the connection closes after keeps its last bytes back (MSG_MORE)
 * so that the close's FIN goes with them; the close then delivers all of it.
 * With keep-alive the same response leaves at once.
 */
static void test_closing_holds_last_bytes(void **state)
{
    (void)state;
    static struct response_out out;
    struct response_plan p;
    struct response_env env = { .date = date, .keep_alive = 1 };
    static char got[8192];
    int srv, cli;

    response_plan_init(&p);
    p.status = 404;
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    size_t total = (size_t)out.body_len + out.segs[0].len;
    tcp_pair(&srv, &cli);
    assert_int_equal(response_send(&out, srv, 1 << 20), RESPONSE_DONE);
    assert_int_equal(read_within(cli, got, sizeof(got), 1000), total);
    close(srv);
    close(cli);

    env.keep_alive = 0;
    assert_int_equal(response_prepare(&out, &p, &env), 0);
    total = (size_t)out.body_len + out.segs[0].len;
    tcp_pair(&srv, &cli);
    assert_int_equal(response_send(&out, srv, 1 << 20), RESPONSE_DONE);
    assert_int_equal(read_within(cli, got, sizeof(got), 100), 0);
    close(srv);
    assert_int_equal(read_within(cli, got, sizeof(got), 1000), total);
    assert_non_null(strstr(got, "Connection: close\r\n"));
    assert_int_equal(read(cli, got, 1), 0); /* and then the FIN */
    close(cli);
    response_plan_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_file),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_too_big_is_500),
        cmocka_unit_test(test_error_page_and_304),
        cmocka_unit_test(test_single_range),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_send_budget_turns),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_closing_holds_last_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
