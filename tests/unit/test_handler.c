/*
 * Tests for worker/handler.c: raw requests through the parser and
 * handler_decide over a scratch document root; the plan is checked (the
 * writer has its own tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "shared/clock.h"
#include "shared/config.h"
#include "worker/handler.h"
#include "worker/http_parse.h"
#include "worker/response.h"

static struct labd_config cfg;
static struct handler_ctx ctx;
static struct http_request req;
static struct response_plan plan;
static char top[64], reqbuf[4096];
static int cache_on; /* setup turns the file cache on for the "cached" group */

static void put(const char *rel, const char *text)
{
    char p[256];
    int fd;

    snprintf(p, sizeof(p), "%s/%s", top, rel);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    /* Tue, 14 Nov 2023 22:13:20 GMT */
    struct timespec ts[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
    utimensat(AT_FDCWD, p, ts, 0);
}

static int setup(void **state)
{
    char p[256];

    (void)state;
    strcpy(top, "/tmp/test_handler.XXXXXX");
    if (mkdtemp(top) == NULL)
        return -1;
    snprintf(p, sizeof(p), "%s/root", top);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/root/sub", top);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/root/list", top);
    mkdir(p, 0755);
    put("secret.txt", "outside");
    put("root/index.html", "<p>root</p>\n");
    put("root/sub/index.html", "<p>sub</p>\n");
    put("root/n.txt", "0123456789abcdefghij"); /* 20 bytes */
    put("root/empty.txt", "");
    put("root/.env", "x");
    put("root/list/<a>&b.txt", "y");
    put("root/list/a.txt", "abc");
    snprintf(p, sizeof(p), "%s/root/list/zdir", top);
    mkdir(p, 0755);
    struct timespec when[2] = { { 1700000000, 0 }, { 1700000000, 0 } };
    utimensat(AT_FDCWD, p, when, 0);
    snprintf(p, sizeof(p), "%s/root/escape.txt", top);
    if (symlink("../secret.txt", p) < 0)
        return -1;
    config_defaults(&cfg);
    snprintf(cfg.root, sizeof(cfg.root), "%s/root", top);
    cfg.max_ranges = 4;
    cfg.file_cache_bytes = cache_on ? 1 << 20 : 0;
    cfg.file_cache_valid_ms = 3600000; /* nothing goes stale during a test unless asked */
    return handler_init(&ctx, &cfg);
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    handler_fini(&ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    return system(cmd) == 0 ? 0 : -1;
}

/* Parse "METHOD TARGET" plus header lines and decide; returns the status. */
static int decide(const char *method, const char *target, const char *headers)
{
    struct http_limits lim = { 8192, 16384, 100, 1 << 20 };

    snprintf(reqbuf, sizeof(reqbuf), "%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n", method, target,
             headers ? headers : "");
    http_request_init(&req, &lim);
    assert_int_equal(http_parse_request(&req, reqbuf, strlen(reqbuf)), HTTP_PARSE_DONE);
    response_plan_release(&plan);
    response_plan_init(&plan);
    return handler_decide(&ctx, &req, clock_mono_ms(), clock_real_sec(), &plan);
}

/* Does the header the writer renders for the last plan hold this text? */
static int has_header(const char *line)
{
    static char head[RESPONSE_HEAD_MAX];
    struct response_env env = { .date = "-", .keep_alive = 1 };
    size_t n = response_head_build(head, sizeof(head), &plan, &env, NULL, -1);

    assert_true(n > 0);
    return memmem(head, n, line, strlen(line)) != NULL;
}

static void test_files_and_dirs(void **state)
{
    (void)state;
    assert_int_equal(decide("GET", "/n.txt", NULL), 200);
    assert_true(plan.fd >= 0 || plan.file_mem != NULL);
    assert_int_equal(plan.file_size, 20);
    assert_string_equal(plan.content_type, "text/plain; charset=utf-8");
    assert_int_equal(plan.last_modified, 1700000000);
    assert_true(has_header("ETag: \""));
    assert_true(has_header("Accept-Ranges: bytes\r\n"));

    assert_int_equal(decide("GET", "/", NULL), 200);
    assert_string_equal(plan.content_type, "text/html; charset=utf-8");
    assert_int_equal(plan.file_size, 12);
    assert_int_equal(decide("GET", "/sub", NULL), 301);
    assert_true(has_header("Location: /sub/\r\n"));
    assert_int_equal(decide("GET", "/sub?x=1", NULL), 301);
    assert_true(has_header("Location: /sub/?x=1\r\n"));
    assert_int_equal(decide("GET", "/sub/", NULL), 200);
    assert_int_equal(plan.file_size, 11);
    assert_int_equal(decide("GET", "/list/", NULL), 404); /* no index.html, no autoindex */
    assert_int_equal(decide("HEAD", "/n.txt", NULL), 200);
    assert_int_equal(decide("GET", "/nope", NULL), 404);
    assert_int_equal(decide("GET", "/.env", NULL), 403);
    assert_int_equal(decide("GET", "/../secret.txt", NULL), 400);
    assert_int_equal(decide("GET", "/%2e%2e/secret.txt", NULL), 400);
    assert_int_equal(decide("GET", "/n.txt%00", NULL), 400);
    assert_int_equal(decide("GET", "/escape.txt", NULL), 403);
    assert_int_equal(plan.fd, -1);
    assert_null(plan.file_mem);
}

static void test_methods(void **state)
{
    (void)state;
    assert_int_equal(decide("OPTIONS", "/n.txt", NULL), 200);
    assert_true(has_header("Allow: GET, HEAD, OPTIONS\r\n"));
    assert_non_null(plan.body);
    assert_int_equal(plan.body_len, 0);
    assert_int_equal(decide("OPTIONS", "*", NULL), 200);
    assert_int_equal(decide("DELETE", "/n.txt", NULL), 405);
    assert_true(has_header("Allow: GET, HEAD, OPTIONS\r\n"));
    assert_int_equal(decide("POST", "/n.txt", "Content-Length: 0\r\n"), 405);
    assert_int_equal(decide("BREW", "/n.txt", NULL), 501);
}

static void test_conditionals(void **state)
{
    char etag[80], hdrs[160];

    (void)state;
    decide("GET", "/n.txt", NULL);
    assert_int_equal(plan.etag[0], '"');
    snprintf(etag, sizeof(etag), "%s", plan.etag);

    snprintf(hdrs, sizeof(hdrs), "If-None-Match: %s\r\n", etag);
    assert_int_equal(decide("GET", "/n.txt", hdrs), 304);
    assert_int_equal(plan.fd, -1);
    assert_int_equal(plan.last_modified, 1700000000);
    assert_true(has_header("ETag: "));
    assert_true(has_header("Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n"));
    assert_false(has_header("Accept-Ranges"));
    assert_int_equal(
        decide("GET", "/n.txt", "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n"), 304);
    assert_int_equal(
        decide("GET", "/n.txt", "If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n"), 200);
    assert_int_equal(decide("GET", "/n.txt", "If-Match: \"nope\"\r\n"), 412);
    assert_int_equal(plan.fd, -1);
    assert_false(has_header("ETag"));
    assert_false(has_header("Last-Modified"));
    assert_int_equal(
        decide("GET", "/n.txt", "If-Unmodified-Since: Tue, 14 Nov 2023 22:13:19 GMT\r\n"), 412);
    /* A list split over several field lines counts as one list. */
    snprintf(hdrs, sizeof(hdrs), "If-None-Match: \"a\"\r\nIf-None-Match: \"b\", %s\r\n", etag);
    assert_int_equal(decide("GET", "/n.txt", hdrs), 304);
    snprintf(hdrs, sizeof(hdrs), "If-Match: \"a\"\r\nIf-Match: %s\r\n", etag);
    assert_int_equal(decide("GET", "/n.txt", hdrs), 200);
    /* Through index.html too. */
    assert_int_equal(decide("GET", "/", "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n"),
                     304);

    /* Ranges and If-Range. */
    assert_int_equal(decide("GET", "/n.txt", "Range: bytes=2-4\r\n"), 206);
    assert_int_equal(plan.nranges, 1);
    assert_int_equal(plan.ranges[0].first, 2);
    assert_int_equal(plan.ranges[0].last, 4);
    assert_int_equal(decide("GET", "/n.txt", "Range: bytes=0-1,-2\r\n"), 206);
    assert_int_equal(plan.nranges, 2);
    assert_int_equal(plan.ranges[1].first, 18);
    assert_int_equal(decide("GET", "/n.txt", "Range: bytes=0-0,2-2,4-4,6-6,8-8\r\n"), 200);
    assert_int_equal(plan.nranges, 0); /* more than cfg.max_ranges = 4 */
    assert_int_equal(decide("GET", "/n.txt", "Range: bytes=20-\r\n"), 416);
    assert_true(has_header("ETag: \"") && has_header("Accept-Ranges: bytes\r\n"));
    assert_true(has_header("Content-Range: bytes */20\r\n"));
    assert_int_equal(plan.fd, -1);
    assert_int_equal(decide("GET", "/n.txt", "Range: bytes=x\r\n"), 200);
    assert_int_equal(decide("GET", "/empty.txt", "Range: bytes=0-\r\n"), 200);
    snprintf(hdrs, sizeof(hdrs), "Range: bytes=0-0\r\nIf-Range: %s\r\n", etag);
    assert_int_equal(decide("GET", "/n.txt", hdrs), 206);
    snprintf(hdrs, sizeof(hdrs), "Range: bytes=0-0\r\nIf-Range: W/%s\r\n", etag);
    assert_int_equal(decide("GET", "/n.txt", hdrs), 200);
    assert_int_equal(plan.nranges, 0);
    assert_int_equal(
        decide("GET", "/n.txt", "Range: bytes=0-0\r\nIf-Range: Tue, 14 Nov 2023 22:13:20 GMT\r\n"),
        206);
    assert_int_equal(
        decide("GET", "/n.txt", "Range: bytes=0-0\r\nIf-Range: Tue, 14 Nov 2023 22:13:21 GMT\r\n"),
        200);
    /* A 304 wins over Range. */
    snprintf(hdrs, sizeof(hdrs), "Range: bytes=0-0\r\nIf-None-Match: %s\r\n", etag);
    assert_int_equal(decide("GET", "/n.txt", hdrs), 304);
    /* Range is for GET only (RFC 9110 §14.2): HEAD gets the whole file's header. */
    assert_int_equal(decide("HEAD", "/n.txt", "Range: bytes=0-0\r\n"), 200);
    assert_int_equal(plan.nranges, 0);
    assert_int_equal(plan.file_size, 20);
    assert_false(has_header("Content-Range"));
    assert_int_equal(decide("HEAD", "/n.txt", "Range: bytes=20-\r\n"), 200);
    assert_int_equal(decide("OPTIONS", "/n.txt", "Range: bytes=0-0\r\n"), 200);
    assert_false(has_header("Content-Range"));
}

static void test_autoindex(void **state)
{
    char buf[2048];
    ssize_t n;

    (void)state;
    cfg.autoindex = 1;
    assert_int_equal(decide("GET", "/list/", NULL), 200);
    cfg.autoindex = 0;
    assert_string_equal(plan.content_type, "text/html; charset=utf-8");
    assert_true(plan.fd >= 0);
    n = pread(plan.fd, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);
    assert_int_equal(n, plan.file_size);
    buf[n] = '\0';
    /* Directories first, then files in byte order; time (UTC) and size. */
    const char *dir = strstr(buf, "<li><a href=\"./zdir/\">zdir/</a> 2023-11-14 22:13 -</li>\n");
    const char *tricky = strstr(
        buf, "<li><a href=\"./%3Ca%3E%26b.txt\">&lt;a&gt;&amp;b.txt</a> 2023-11-14 22:13 1</li>\n");
    const char *plain = strstr(buf, "<li><a href=\"./a.txt\">a.txt</a> 2023-11-14 22:13 3</li>\n");
    assert_non_null(dir);
    assert_non_null(tricky);
    assert_non_null(plain);
    assert_true(dir < tricky && tricky < plain);
    assert_null(strstr(buf, "<a>"));
    assert_null(strstr(buf, "not listed"));
    response_plan_release(&plan);
    response_plan_init(&plan);
}

/* Makes n empty files named f000000... in dir (relative to top). */
static void make_files(const char *dir, int n)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", top, dir);
    assert_int_equal(mkdir(p, 0755), 0);
    int dfd = open(p, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%06d", i);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 0);
        close(fd);
    }
    close(dfd);
}

/* The listing of target as a string (caller frees), from a fresh decision. */
static char *listing(const char *target)
{
    cfg.autoindex = 1;
    assert_int_equal(decide("GET", target, NULL), 200);
    cfg.autoindex = 0;
    char *b = malloc((size_t)plan.file_size + 1);
    assert_non_null(b);
    assert_int_equal(pread(plan.fd, b, (size_t)plan.file_size, 0), plan.file_size);
    b[plan.file_size] = '\0';
    response_plan_release(&plan);
    response_plan_init(&plan);
    return b;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Every entry of a big directory, sorted; beyond 100 000 the listing says how many are left out. */
static void test_autoindex_big(void **state)
{
    (void)state;
    make_files("root/big", 5000);
    char *b = listing("/big/");
    assert_int_equal(count(b, "<li>"), 5001); /* and ../ */
    const char *first = strstr(b, "\"./f000000\"");
    const char *last = strstr(b, "\"./f004999\"");
    assert_true(first != NULL && last != NULL && first < last);
    assert_null(strstr(b, "not listed"));
    free(b);

    make_files("root/huge", 100003);
    b = listing("/huge/");
    assert_int_equal(count(b, "<li>"), 100001);
    assert_non_null(strstr(b, "<p>3 more entries not listed (at most 100000 are).</p>"));
    free(b);
}

/* The body of the last plan, from the cache's memory or the file. */
static size_t body(char *buf, size_t cap)
{
    ssize_t n;

    if (plan.file_mem != NULL) {
        assert_true((size_t)plan.file_size < cap);
        memcpy(buf, plan.file_mem, (size_t)plan.file_size);
        return (size_t)plan.file_size;
    }
    assert_true(plan.fd >= 0);
    n = pread(plan.fd, buf, cap, 0);
    assert_int_equal(n, plan.file_size);
    return (size_t)n;
}

/* Restart the handler with another freshness interval (the cache starts empty). */
static void reinit(int valid_ms)
{
    response_plan_release(&plan);
    response_plan_init(&plan);
    handler_fini(&ctx);
    cfg.file_cache_valid_ms = valid_ms;
    assert_int_equal(handler_init(&ctx, &cfg), 0);
}

/* Within the interval a cached file is served from memory without looking at the disk. */
static void test_cache_serves_from_memory(void **state)
{
    char buf[256];
    size_t n;

    (void)state;
    reinit(3600000);
    put("root/c.txt", "first version");
    assert_int_equal(decide("GET", "/c.txt", NULL), 200);
    assert_non_null(plan.file_mem);
    assert_int_equal(plan.fd, -1);
    n = body(buf, sizeof(buf));
    assert_memory_equal(buf, "first version", n);
    assert_non_null(plan.last_modified_text);
    assert_string_equal(plan.last_modified_text, "Tue, 14 Nov 2023 22:13:20 GMT");

    /* A response in flight keeps its version even when the next request replaces it. */
    struct response_plan old = plan;
    response_plan_init(&plan);
    put("root/c.txt", "second, longer version");
    assert_int_equal(decide("GET", "/c.txt", NULL), 200);
    n = body(buf, sizeof(buf));
    assert_memory_equal(buf, "first version", n); /* still within the interval */
    assert_memory_equal(old.file_mem, "first version", 13);
    response_plan_release(&old);

    /* Ranges and conditionals from the cached copy. */
    assert_int_equal(decide("GET", "/c.txt", "Range: bytes=6-12\r\n"), 206);
    assert_non_null(plan.file_mem);
    assert_int_equal(plan.nranges, 1);
    assert_int_equal(plan.ranges[0].first, 6);
    assert_int_equal(plan.ranges[0].last, 12);
    assert_int_equal(decide("GET", "/c.txt", "Range: bytes=13-\r\n"), 416);
    assert_true(has_header("Content-Range: bytes */13\r\n"));
    assert_null(plan.file_mem);
    assert_int_equal(
        decide("GET", "/c.txt", "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n"), 304);
    assert_null(plan.file_mem);
    assert_int_equal(decide("HEAD", "/c.txt", NULL), 200);
    assert_int_equal(decide("HEAD", "/c.txt", "Range: bytes=6-12\r\n"), 200);
    assert_int_equal(plan.nranges, 0);

    /* Dotfiles, traversal and symlinks out are decided before the cache. */
    assert_int_equal(decide("GET", "/.env", NULL), 403);
    assert_int_equal(decide("GET", "/escape.txt", NULL), 403);
}

/* With a zero interval every request checks the disk: changes show at once, no reread otherwise. */
static void test_cache_revalidates(void **state)
{
    char buf[256], p[256];
    const char *first;
    size_t n;

    (void)state;
    reinit(0);
    put("root/c.txt", "first version");
    assert_int_equal(decide("GET", "/c.txt", NULL), 200);
    first = plan.file_mem;
    assert_non_null(first);
    assert_int_equal(decide("GET", "/c.txt", NULL), 200);
    assert_ptr_equal(plan.file_mem, first); /* unchanged on disk: the same copy */

    put("root/c.txt", "second, longer version");
    assert_int_equal(decide("GET", "/c.txt", NULL), 200);
    n = body(buf, sizeof(buf));
    assert_int_equal(n, 22);
    assert_memory_equal(buf, "second, longer version", n);

    /* Same size, same mtime, new content: ctime still tells (a tick later: ctime is coarse). */
    usleep(20000);
    put("root/c.txt", "SECOND, LONGER VERSION");
    assert_int_equal(decide("GET", "/c.txt", NULL), 200);
    n = body(buf, sizeof(buf));
    assert_memory_equal(buf, "SECOND, LONGER VERSION", n);

    snprintf(p, sizeof(p), "%s/root/c.txt", top);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(decide("GET", "/c.txt", NULL), 404);

    /* A directory's index.html is cached under the directory's path. */
    assert_int_equal(decide("GET", "/sub/", NULL), 200);
    assert_non_null(plan.file_mem);
    put("root/sub/index.html", "<p>changed</p>\n");
    assert_int_equal(decide("GET", "/sub/", NULL), 200);
    n = body(buf, sizeof(buf));
    assert_memory_equal(buf, "<p>changed</p>\n", n);
    reinit(3600000);
}

/*
 * Files above file-cache-max-file are cached as an open descriptor the writer
 * shares (not closed with the plan); an fstat per request sees in-place changes.
 */
static void test_cache_big_file(void **state)
{
    static char big[2048];
    char buf[16];
    int fd;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    put("root/big.txt", big);
    cfg.file_cache_max_file = 1024;
    reinit(3600000);
    assert_int_equal(decide("GET", "/big.txt", NULL), 200);
    assert_null(plan.file_mem);
    fd = plan.fd;
    assert_true(fd >= 0);
    assert_int_equal(plan.file_size, 2047);
    assert_int_equal(decide("GET", "/big.txt", "If-None-Match: *\r\n"), 304);
    assert_int_equal(decide("GET", "/big.txt", "Range: bytes=2046-\r\n"), 206);
    assert_int_equal(plan.fd, fd); /* the same descriptor, still open */
    assert_int_equal(pread(plan.fd, buf, sizeof(buf), 2046), 1);
    assert_int_equal(decide("GET", "/big.txt", "Range: bytes=3000-\r\n"), 416);
    assert_int_equal(decide("GET", "/n.txt", NULL), 200);
    assert_non_null(plan.file_mem);

    /* Rewritten in place with another size: seen at once, interval or not. */
    big[1500] = '\0';
    put("root/big.txt", big);
    assert_int_equal(decide("GET", "/big.txt", NULL), 200);
    assert_int_equal(plan.file_size, 1500);
    assert_true(plan.fd >= 0);
    assert_int_equal(pread(plan.fd, buf, sizeof(buf), 0), sizeof(buf));
    assert_memory_equal(buf, "xxxxxxxxxxxxxxxx", sizeof(buf));
    cfg.file_cache_max_file = 64 * 1024;
    reinit(3600000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_and_dirs), cmocka_unit_test(test_methods),
        cmocka_unit_test(test_conditionals),   cmocka_unit_test(test_autoindex),
        cmocka_unit_test(test_autoindex_big),
    };
    const struct CMUnitTest cached[] = {
        cmocka_unit_test(test_files_and_dirs),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_conditionals),
        cmocka_unit_test(test_autoindex),
        cmocka_unit_test(test_cache_serves_from_memory),
        cmocka_unit_test(test_cache_revalidates),
        cmocka_unit_test(test_cache_big_file),
    };
    int rc;

    response_plan_init(&plan);
    rc = cmocka_run_group_tests_name("uncached", tests, setup, teardown);
    cache_on = 1;
    rc += cmocka_run_group_tests_name("cached", cached, setup, teardown);
    return rc;
}
