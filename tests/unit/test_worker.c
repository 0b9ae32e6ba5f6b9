/*
 * Socket-level tests of worker_main without the master: each test forks a
 * process that runs worker_main on a loopback listening socket over a
 * temporary document root, talks HTTP to it and stops it with a signal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/config.h"
#include "shared/scoreboard.h"
#include "worker/worker.h"

#define BIG_SIZE  (3 * 1024 * 1024 + 17)
#define HUGE_SIZE (12 * 1024 * 1024)

static char tmpdir[256];
static struct labd_config cfg;
static struct scoreboard sb;
static int lfd = -1;
static int port;
static pid_t child;

static void write_file(const char *rel, const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/www/%s", tmpdir, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static int group_setup(void **state)
{
    (void)state;
    char path[512];

    signal(SIGPIPE, SIG_IGN);
    strcpy(tmpdir, "/tmp/labd-test-worker.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/www", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/www/sub", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/run", tmpdir);
    mkdir(path, 0755);
    write_file("index.html", "<html>hello</html>\n", 19);
    write_file("a.txt", "AAAA", 4);
    write_file("b.txt", "BBBBBBBB", 8);
    write_file("sub/index.html", "sub index\n", 10);
    write_file(".secret", "no", 2);
    char *big = malloc(BIG_SIZE);
    for (size_t i = 0; i < BIG_SIZE; i++)
        big[i] = (char)(i * 7 + i / 4096);
    write_file("big.bin", big, BIG_SIZE);
    free(big);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/*
 * The defaults (the worker has no fallbacks of its own) with the limits our
 * tests probe and the file cache off; tests tweak it before start_worker.
 */
static void test_config(void)
{
    config_defaults(&cfg);
    cfg.file_cache_bytes = 0;
    snprintf(cfg.root, sizeof(cfg.root), "%s/www", tmpdir);
    snprintf(cfg.run_dir, sizeof(cfg.run_dir), "%s/run", tmpdir);
    snprintf(cfg.access_log, sizeof(cfg.access_log), "%s/run/access.log", tmpdir);
    cfg.keepalive_timeout_ms = 5000;
    cfg.header_timeout_ms = 5000;
    cfg.send_timeout_ms = 5000;
    cfg.max_requests_per_conn = 100;
    cfg.max_conns_per_worker = 64;
    cfg.max_request_line = 1024;
    cfg.max_header_bytes = 2048;
    cfg.max_headers = 20;
    cfg.max_body_bytes = 10000;
    cfg.max_ranges = 16;
}

static void start_worker(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    char path[512];
    int pipefd[2];

    unlink(cfg.access_log);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 128), 0);
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    port = ntohs(a.sin_port);

    snprintf(path, sizeof(path), "%s/run/sb", tmpdir);
    assert_int_equal(sb_create(&sb, path, 1, 8, 16), 0);
    sb_slot_prepare(&sb, 0, 1, 1, 0);

    assert_int_equal(pipe(pipefd), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct worker_start ws = { .cfg = &cfg,
                                   .listen_fds = &lfd,
                                   .nlisten = 1,
                                   .sb = &sb,
                                   .slot = 0,
                                   .number = 1,
                                   .ready_fd = pipefd[1] };
        close(pipefd[0]);
        _exit(worker_main(&ws));
    }
    close(pipefd[1]);
    char b;
    assert_int_equal(read(pipefd[0], &b, 1), 1);
    close(pipefd[0]);
}

/* The test configuration with these timeouts, and a worker running it. */
static void start_worker_timeouts(int keepalive_ms, int header_ms)
{
    test_config();
    cfg.keepalive_timeout_ms = keepalive_ms;
    cfg.header_timeout_ms = header_ms;
    start_worker();
}

/* Stop the worker with sig; returns its exit status. */
static int stop_worker(int sig)
{
    int st;
    kill(child, sig);
    assert_int_equal(waitpid(child, &st, 0), child);
    close(lfd);
    sb_close(&sb);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int connect_worker(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* Read until EOF (or error/timeout); returns the byte count, buf NUL-terminated. */
static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap - 1)
            break;
    }
    buf[n] = 0;
    return n;
}

/* One request on a fresh connection, response read until the server closes. */
static size_t exchange(const char *req, char *buf, size_t cap)
{
    int fd = connect_worker();
    send_all(fd, req, strlen(req));
    size_t n = read_all(fd, buf, cap);
    close(fd);
    return n;
}

/* Read exactly one response (header + Content-Length body) into buf. */
static size_t read_response(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        buf[n] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            size_t head = (size_t)(end - buf) + 4;
            const char *cl = strcasestr(buf, "\r\nContent-Length: ");
            size_t body = cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0;
            if (strncmp(buf, "HTTP/1.1 304", 12) == 0 || strstr(buf, "X-Head: 1"))
                body = 0;
            if (n >= head + body)
                return head + body;
        }
        assert_true(n < cap - 1);
        ssize_t r = recv(fd, buf + n, 1, 0);
        if (r <= 0)
            fail_msg("connection ended after %zu bytes: %s", n, buf);
        n += (size_t)r;
    }
}

static void assert_status(const char *resp, int status)
{
    char want[32];
    snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
    if (strncmp(resp, want, strlen(want)) != 0)
        fail_msg("want %d, got: %.200s", status, resp);
}

static void assert_has(const char *resp, const char *s)
{
    if (strstr(resp, s) == NULL)
        fail_msg("'%s' not in: %.400s", s, resp);
}

static char resp[1 << 16];

/* Read fd's next answer: status, holding has and (if not NULL) has2. */
static void expect_answer(int fd, int status, const char *has, const char *has2)
{
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, status);
    assert_has(resp, has);
    if (has2 != NULL)
        assert_has(resp, has2);
}

/* A connection on which GET path was answered 200 with keep-alive, now idle. */
static int connect_idle(const char *path)
{
    char req[128];
    int fd = connect_worker();

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    send_str(fd, req);
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\nConnection: keep-alive\r\n");
    return fd;
}

static void test_get_index(void **state)
{
    (void)state;
    test_config();
    start_worker();
    exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\nServer: labd/");
    assert_has(resp, "\r\nDate: ");
    assert_has(resp, "\r\nContent-Length: 19\r\n");
    assert_has(resp, "\r\nContent-Type: text/html; charset=utf-8\r\n");
    assert_has(resp, "\r\nLast-Modified: ");
    assert_has(resp, "\r\nConnection: close\r\n");
    assert_has(resp, "\r\n\r\n<html>hello</html>\n");
    exchange("GET /sub/ HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\n\r\nsub index\n");
    exchange("GET /sub HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 301);
    assert_has(resp, "\r\nLocation: /sub/\r\n");
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_head_and_404(void **state)
{
    (void)state;
    char get[4096];
    test_config();
    start_worker();
    exchange("GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", get, sizeof(get));
    size_t n = exchange("HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp,
                        sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\nContent-Length: 4\r\n");
    assert_has(resp, "\r\nContent-Type: text/plain; charset=utf-8\r\n");
    /* Same header block (same second aside), nothing after it. */
    assert_true(n > 4 && memcmp(resp + n - 4, "\r\n\r\n", 4) == 0);
    assert_int_equal(strstr(get, "\r\n\r\n") + 4 - get, (ptrdiff_t)n);
    assert_string_equal(get + n, "AAAA");

    exchange("GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 404);
    assert_has(resp, "<h1>404 Not Found</h1>");
    assert_has(resp, "\r\nContent-Type: text/html; charset=utf-8\r\n");
    exchange("GET /.secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 403); /* dotfiles: worker/path.c */
    exchange("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp,
             sizeof(resp));
    assert_status(resp, 400);
    exchange("DELETE /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 405);
    assert_has(resp, "\r\nAllow: GET, HEAD, OPTIONS\r\n");
    exchange("BREW /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 501);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_keepalive_and_pipelining(void **state)
{
    (void)state;
    test_config();
    start_worker();
    int fd = connect_worker();
    /* Two requests on one connection, one after the other. */
    send_str(fd, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\nConnection: keep-alive\r\n");
    assert_has(resp, "\r\n\r\nAAAA");
    send_str(fd, "GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\n\r\nBBBBBBBB");
    /* Pipelined: three in one write, answered in order, then closed. */
    const char *p = "GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                    "HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /nothere HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(fd, p, strlen(p));
    size_t n = read_all(fd, resp, sizeof(resp));
    assert_true(n > 0);
    char *r1 = strstr(resp, "HTTP/1.1 200");
    char *r2 = r1 ? strstr(r1 + 1, "HTTP/1.1 200") : NULL;
    char *r3 = r2 ? strstr(r2 + 1, "HTTP/1.1 404") : NULL;
    char *r4 = r3 ? strstr(r3 + 1, "HTTP/1.1 200") : NULL;
    assert_true(r1 == resp && r2 && r3 && r4);
    assert_true(strstr(r1, "BBBBBBBB") < r2);
    /* The HEAD answer has no body: the 404 follows its empty line directly. */
    assert_true(strstr(r2, "\r\n\r\n") + 4 == r3);
    assert_has(r4, "\r\nConnection: close\r\n");
    assert_string_equal(resp + n - 4, "AAAA");
    close(fd);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_http10(void **state)
{
    (void)state;
    test_config();
    start_worker();
    int fd = connect_worker();
    send_str(fd, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\nConnection: keep-alive\r\n");
    send_str(fd, "GET /a.txt HTTP/1.0\r\n\r\n");
    size_t n = read_all(fd, resp, sizeof(resp));
    assert_true(n > 0);
    assert_has(resp, "\r\nConnection: close\r\n");
    close(fd);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_errors(void **state)
{
    (void)state;
    char big[4096];
    test_config();
    start_worker();
    exchange("GET / HTTP/1.1\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 400);
    assert_has(resp, "\r\nConnection: close\r\n");
    assert_has(resp, "<title>400 Bad Request</title>");
    exchange("GET / HTTP/2.0\r\nHost: x\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 505);
    exchange("GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 400);
    exchange("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
             resp, sizeof(resp));
    assert_status(resp, 400);
    exchange("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10001\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 413);

    int n = snprintf(big, sizeof(big), "GET /");
    memset(big + n, 'a', 1100);
    strcpy(big + n + 1100, " HTTP/1.1\r\nHost: x\r\n\r\n");
    exchange(big, resp, sizeof(resp));
    assert_status(resp, 414);

    n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nCookie: ");
    memset(big + n, 'c', 2100);
    strcpy(big + n + 2100, "\r\n\r\n");
    exchange(big, resp, sizeof(resp));
    assert_status(resp, 431);

    n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 25; i++)
        n += snprintf(big + n, sizeof(big) - (size_t)n, "X-%d: v\r\n", i);
    strcpy(big + n, "\r\n");
    exchange(big, resp, sizeof(resp));
    assert_status(resp, 431);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_request_bodies(void **state)
{
    (void)state;
    test_config();
    start_worker();
    int fd = connect_worker();
    /* A body sent with GET is read and discarded; the next request follows it. */
    const char *p = "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                    "GET /b.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n0\r\n\r\n"
                    "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(fd, p, strlen(p));
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "AAAA");
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "BBBBBBBB");
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "AAAA");
    close(fd);
    /* A chunked body over max_body_bytes: 413 and close. */
    exchange("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3000\r\n",
             resp, sizeof(resp));
    assert_status(resp, 413);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_timeouts(void **state)
{
    (void)state;
    start_worker_timeouts(200, 300);
    /* Idle keep-alive: the server closes silently after the timeout. */
    int fd = connect_idle("/a.txt");
    assert_int_equal(read_all(fd, resp, sizeof(resp)), 0);
    close(fd);
    /* Nothing sent: silent close. */
    fd = connect_worker();
    assert_int_equal(read_all(fd, resp, sizeof(resp)), 0);
    close(fd);
    /*
     * Part of a header: 408, then close -- never before the header timeout
     * (300 ms here) has run from the connect, although the worker's timers
     * run on the coarse clock.
     */
    int64_t t0 = clock_mono_ns();
    fd = connect_worker();
    send_str(fd, "GET / HTTP/1.1\r\nHost");
    read_all(fd, resp, sizeof(resp));
    int64_t waited_ms = (clock_mono_ns() - t0) / 1000000;
    assert_status(resp, 408);
    assert_true(waited_ms >= 300);
    close(fd);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

/* keepalive-timeout 0: keep-alive off, as nginx's keepalive_timeout 0. */
static void test_keepalive_off(void **state)
{
    (void)state;
    test_config();
    cfg.keepalive_timeout_ms = 0;
    start_worker();
    /* HTTP/1.1 without "Connection: close": answered with close, then closed. */
    int fd = connect_worker();
    send_str(fd, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "\r\nConnection: close\r\n");
    assert_has(resp, "\r\n\r\nAAAA");
    assert_int_equal(read_all(fd, resp, sizeof(resp)), 0);
    close(fd);
    /* HTTP/1.0 asking for keep-alive: the same. */
    fd = connect_worker();
    send_str(fd, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_has(resp, "\r\nConnection: close\r\n");
    assert_int_equal(read_all(fd, resp, sizeof(resp)), 0);
    close(fd);
    /* Pipelined: only the first request is answered. */
    size_t n = exchange("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n",
                        resp, sizeof(resp));
    assert_true(n > 4);
    assert_status(resp, 200);
    assert_string_equal(resp + n - 4, "AAAA");
    assert_null(strstr(resp, "BBBB"));
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_max_requests(void **state)
{
    (void)state;
    test_config();
    cfg.max_requests_per_conn = 2;
    start_worker();
    int fd = connect_worker();
    send_str(fd, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_has(resp, "\r\nConnection: keep-alive\r\n");
    send_str(fd, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_has(resp, "\r\nConnection: close\r\n");
    assert_int_equal(read_all(fd, resp, sizeof(resp)), 0);
    close(fd);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static int readable_within(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 1;
}

static void test_max_conns(void **state)
{
    (void)state;
    test_config();
    cfg.max_conns_per_worker = 2;
    start_worker();
    int a = connect_worker();
    int b = connect_worker();
    send_str(a, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(a, resp, sizeof(resp));
    send_str(b, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(b, resp, sizeof(resp));
    /* The third connection waits in the kernel's queue, not served... */
    int c = connect_worker();
    send_str(c, "GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_false(readable_within(c, 300));
    struct sb_worker w;
    assert_int_equal(sb_read(&w, sb_worker_at(&sb, 0), sizeof(w)), 0);
    assert_int_equal(w.conns_now, 2);
    assert_int_equal(w.accepted, 2);
    /* ...until one of the two closes. */
    close(a);
    read_response(c, resp, sizeof(resp));
    assert_status(resp, 200);
    assert_has(resp, "BBBBBBBB");
    close(b);
    close(c);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_big_file_and_graceful_stop(void **state)
{
    (void)state;
    test_config();
    start_worker();
    int fd = connect_worker();
    send_str(fd, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    /* Read only the start, then ask for a graceful stop mid-transfer. */
    char *buf = malloc(BIG_SIZE + 4096);
    size_t n = 0;
    while (n < 1000) {
        ssize_t r = recv(fd, buf + n, 1000, 0);
        assert_true(r > 0);
        n += (size_t)r;
    }
    kill(child, SIGQUIT);
    for (;;) {
        ssize_t r = recv(fd, buf + n, BIG_SIZE + 4096 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    char *body = strstr(buf, "\r\n\r\n") + 4;
    assert_has(buf, "\r\nContent-Length: 3145745\r\n");
    assert_int_equal(n - (size_t)(body - buf), BIG_SIZE);
    for (size_t i = 0; i < BIG_SIZE; i++)
        if (body[i] != (char)(i * 7 + i / 4096))
            fail_msg("byte %zu differs", i);
    free(buf);
    close(fd);
    /* The worker exits by itself once the response is done. */
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(lfd);
    sb_close(&sb);
}

static void test_access_log_and_scoreboard(void **state)
{
    (void)state;
    char path[512];
    test_config();
    start_worker();
    int fd = connect_worker();
    send_str(fd, "GET /a.txt?q=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: tester \"1\"\r\n"
                 "Referer: http://r/\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    send_str(fd, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    read_all(fd, resp, sizeof(resp));
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    getsockname(fd, (struct sockaddr *)&me, &len);
    close(fd);

    /* The closed connection is in the recent ring with its last request. */
    struct sb_worker w;
    assert_int_equal(sb_read(&w, sb_worker_at(&sb, 0), sizeof(w)), 0);
    for (int i = 0; i < 500 && (w.conns_now != 0 || w.recent_next == 0); i++) {
        usleep(10000);
        sb_read(&w, sb_worker_at(&sb, 0), sizeof(w));
    }
    assert_int_equal(w.requests, 2);
    assert_int_equal(w.accepted, 1);
    assert_int_equal(w.state, SB_WORKER_READY);
    struct sb_conn rc;
    uint8_t addr[4] = { 127, 0, 0, 1 };
    assert_int_equal(sb_find_client(&sb, AF_INET, addr, ntohs(me.sin_port), 0, &rc), 0);
    assert_int_equal(rc.status, 404);
    assert_int_equal(rc.pid, child);
    assert_int_equal(rc.requests, 2);
    assert_string_equal(rc.request, "GET /nope HTTP/1.1");
    /* The local address comes from the listener (bound to 127.0.0.1), not getsockname(). */
    assert_memory_equal(rc.server_addr, addr, 4);
    assert_int_equal(rc.server_port, port);

    pid_t pid = child;
    assert_int_equal(stop_worker(SIGTERM), 0);
    snprintf(path, sizeof(path), "%s/run/access.log", tmpdir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024], want[256];
    assert_non_null(fgets(line, sizeof(line), f));
    snprintf(want, sizeof(want),
             "\"GET /a.txt?q=1 HTTP/1.1\" 200 4 \"http://r/\" \"tester \\x221\\x22\" port=%d "
             "pid=%d us=",
             ntohs(me.sin_port), pid);
    assert_has(line, want);
    assert_true(strncmp(line, "127.0.0.1 - - [", 15) == 0);
    assert_non_null(fgets(line, sizeof(line), f));
    assert_has(line, "\"GET /nope HTTP/1.1\" 404 ");
    assert_has(line, " \"-\" \"-\" port=");
    assert_null(fgets(line, sizeof(line), f));
    fclose(f);
}

/* Read a response of at most cap bytes until EOF; returns its body length, -1 on a reset. */
static long read_big_response(int fd, size_t cap)
{
    char *buf = malloc(cap + 4096);
    size_t n = 0;
    long body_len = -1;

    assert_non_null(buf);
    for (;;) {
        ssize_t r = recv(fd, buf + n, cap + 4095 - n, 0);
        if (r < 0) {
            print_message("recv after %zu bytes: %s\n", n, strerror(errno));
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (body != NULL)
        body_len = (long)(n - (size_t)(body + 4 - buf));
    free(buf);
    return body_len;
}

/*
 * A Connection: close response while the client still sends: bytes that came
 * with the request, or while the response was being written, must not make
 * the close an RST that destroys the response's unread tail.
 */
static void test_close_with_pending_bytes(void **state)
{
    (void)state;
    test_config();
    start_worker();

    int fd = connect_worker();
    send_str(fd, "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /a");
    usleep(200000);
    assert_int_equal(read_big_response(fd, BIG_SIZE), BIG_SIZE);
    close(fd);

    /*
     * The request is read alone (the queue emptied), then more bytes come
     * while the reply is still being written: a file larger than the most a
     * socket send buffer holds (4 MiB) keeps the worker writing until we read.
     */
    char path[512];
    snprintf(path, sizeof(path), "%s/www/huge.bin", tmpdir);
    int hfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(hfd >= 0);
    assert_int_equal(ftruncate(hfd, HUGE_SIZE), 0);
    close(hfd);
    fd = connect_worker();
    send_str(fd, "GET /huge.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    usleep(100000);
    send_str(fd, "more bytes");
    usleep(100000);
    assert_int_equal(read_big_response(fd, HUGE_SIZE), HUGE_SIZE);
    close(fd);
    unlink(path);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

static void test_client_reset(void **state)
{
    (void)state;
    test_config();
    start_worker();
    /* Reset mid-transfer: the worker carries on serving. */
    for (int i = 0; i < 3; i++) {
        int fd = connect_worker();
        send_str(fd, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        recv(fd, resp, 100, 0);
        struct linger lg = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
    }
    exchange("GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof(resp));
    assert_status(resp, 200);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

/* The worker exits by itself within ms milliseconds, with status 0. */
static void assert_worker_exits(int64_t ms)
{
    int64_t t0 = clock_mono_ms();
    int st = 0;
    pid_t got;

    while ((got = waitpid(child, &st, WNOHANG)) == 0 && clock_mono_ms() - t0 < ms)
        usleep(5000);
    if (got != child) {
        kill(child, SIGKILL);
        waitpid(child, &st, 0);
        fail_msg("the worker did not exit within %lld ms", (long long)ms);
    }
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(lfd);
    sb_close(&sb);
}

/*
 * Graceful stop with long timeouts: an idle keep-alive connection and one
 * that has sent nothing for a while are closed at once (EOF, no answer); one
 * half-way through its request finishes it, answered with Connection: close;
 * then the worker exits without waiting for any timeout.
 */
static void test_graceful_stop_idle(void **state)
{
    (void)state;
    start_worker_timeouts(30000, 30000);
    int idle = connect_idle("/a.txt");
    int half = connect_worker();
    send_str(half, "GET /a.txt HTTP/1.1\r\nHo");
    int silent = connect_worker();
    usleep(400000); /* longer than a new connection gets for its first request */

    int64_t t0 = clock_mono_ms();
    kill(child, SIGQUIT);
    assert_int_equal(read_all(idle, resp, sizeof(resp)), 0);
    assert_int_equal(read_all(silent, resp, sizeof(resp)), 0);
    if (clock_mono_ms() - t0 > 1000)
        fail_msg("idle connections closed after %lld ms", (long long)(clock_mono_ms() - t0));
    send_str(half, "st: x\r\n\r\n");
    expect_answer(half, 200, "\r\nConnection: close\r\n", "\r\n\r\nAAAA");
    assert_int_equal(read_all(half, resp, sizeof(resp)), 0);
    close(idle);
    close(half);
    close(silent);
    assert_worker_exits(2000);
}

/*
 * Graceful stop and requests that are on their way: one that arrived while
 * the worker was not running is answered before the close; a connection
 * accepted just before the stop still has its first request answered.
 */
static void test_graceful_stop_arrived(void **state)
{
    (void)state;
    start_worker_timeouts(30000, 5000);
    int ka = connect_idle("/a.txt");
    int young = connect_worker();
    usleep(20000); /* accepted, nothing sent yet */
    kill(child, SIGSTOP);
    send_str(ka, "GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    kill(child, SIGQUIT);
    kill(child, SIGCONT);
    usleep(20000);
    send_str(young, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_answer(ka, 200, "\r\n\r\nBBBBBBBB", NULL);
    expect_answer(young, 200, "\r\nConnection: close\r\n", "\r\n\r\nAAAA");
    assert_int_equal(read_all(ka, resp, sizeof(resp)), 0);
    assert_int_equal(read_all(young, resp, sizeof(resp)), 0);
    close(ka);
    close(young);
    assert_worker_exits(2000);
}

/*
 * Expect: 100-continue. A request refused from its header alone gets the
 * final status at once, never "100 Continue" first, and the connection
 * closes after it (the body may or may not follow). One that will be
 * served gets 100, then its answer once the body is in.
 */
static void test_expect_continue(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        int status;
    } refused[] = {
        { "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n", 405 },
        { "PUT /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", 405 },
        { "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10001\r\n", 413 },
        { "GET /nope.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n", 404 },
        { "BREW /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n", 501 },
    };
    char req[256];

    test_config();
    start_worker();
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(req, sizeof(req), "%sExpect: 100-continue\r\n\r\n", refused[i].req);
        exchange(req, resp, sizeof(resp));
        assert_status(resp, refused[i].status);
        assert_has(resp, "\r\nConnection: close\r\n");
        assert_null(strstr(resp, "100 Continue"));
    }
    int fd = connect_worker();
    send_str(fd, "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 "Expect: 100-continue\r\n\r\n");
    read_response(fd, resp, sizeof(resp));
    assert_string_equal(resp, "HTTP/1.1 100 Continue\r\n\r\n");
    send_str(fd, "hello");
    expect_answer(fd, 200, "\r\nConnection: keep-alive\r\n", "\r\n\r\nAAAA");
    send_str(fd, "GET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect_answer(fd, 200, "\r\n\r\nBBBBBBBB", NULL);
    close(fd);
    assert_int_equal(stop_worker(SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_index),
        cmocka_unit_test(test_head_and_404),
        cmocka_unit_test(test_keepalive_and_pipelining),
        cmocka_unit_test(test_http10),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_request_bodies),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_keepalive_off),
        cmocka_unit_test(test_max_requests),
        cmocka_unit_test(test_max_conns),
        cmocka_unit_test(test_big_file_and_graceful_stop),
        cmocka_unit_test(test_access_log_and_scoreboard),
        cmocka_unit_test(test_close_with_pending_bytes),
        cmocka_unit_test(test_client_reset),
        cmocka_unit_test(test_graceful_stop_idle),
        cmocka_unit_test(test_graceful_stop_arrived),
        cmocka_unit_test(test_expect_continue),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
