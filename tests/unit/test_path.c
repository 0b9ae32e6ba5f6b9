/* Tests for worker/path.c: hostile request paths, and opening beneath the root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "worker/path.h"

struct path_case {
    const char *target;
    int status;
    const char *path; /* expected when status is 0 */
};

static const struct path_case path_cases[] = {
    { "/", 0, "/" },
    { "/index.html", 0, "/index.html" },
    { "/a/b/", 0, "/a/b/" },
    { "/a/b", 0, "/a/b" },
    { "/a/b?x=1&y=/../..", 0, "/a/b" },
    { "/?", 0, "/" },
    /* Collapsing and dot segments. */
    { "//a///b", 0, "/a/b" },
    { "/a/./b", 0, "/a/b" },
    { "/a/.", 0, "/a/" },
    { "/a/b/..", 0, "/a/" },
    { "/a/b/../c", 0, "/a/c" },
    { "/a/../../x", 400, NULL },
    { "/..", 400, NULL },
    { "/../etc/passwd", 400, NULL },
    { "/a/../..", 400, NULL },
    { "/./", 0, "/" },
    /* Escaped dots and slashes are decoded first, then normalised. */
    { "/%2e%2e/etc/passwd", 400, NULL },
    { "/%2E%2E%2Fetc%2Fpasswd", 400, NULL },
    { "/a%2f..%2f..%2fb", 400, NULL },
    { "/a%2fb", 0, "/a/b" },
    { "/a/%2e/b", 0, "/a/b" },
    { "/a/%2e%2e/b", 0, "/b" },
    { "/.%2e/x", 400, NULL },
    /* Backslash is an ordinary byte: no Windows semantics. */
    { "/..\\..\\etc\\passwd", 403, NULL }, /* a dotfile name, not a climb */
    { "/a\\..\\b", 0, "/a\\..\\b" },
    { "/a%5c..%5cb", 0, "/a\\..\\b" },
    /* Overlong UTF-8 for '.' and '/' stays bytes: no climb, just a name. */
    { "/%c0%ae%c0%ae/etc/passwd", 0, "/\xc0\xae\xc0\xae/etc/passwd" },
    { "/%c0%af", 0, "/\xc0\xaf" },
    { "/%e0%80%ae%e0%80%ae/", 0, "/\xe0\x80\xae\xe0\x80\xae/" },
    /* UTF-8 names. */
    { "/cn/%E9%9F%B3%E4%B9%90.mp3", 0, "/cn/\xe9\x9f\xb3\xe4\xb9\x90.mp3" },
    { "/cn/\xe9\x9f\xb3.mp3", 0, "/cn/\xe9\x9f\xb3.mp3" },
    { "/a%20b.txt", 0, "/a b.txt" },
    { "/a+b", 0, "/a+b" },
    /* Bad escapes, NUL and control bytes. */
    { "/%", 400, NULL },
    { "/%2", 400, NULL },
    { "/%zz", 400, NULL },
    { "/%g0", 400, NULL },
    { "/a%00.html", 400, NULL },
    { "/a%00/../b", 400, NULL },
    { "/%0d%0aSet-Cookie:x", 400, NULL },
    { "/%09", 400, NULL },
    { "/%7f", 400, NULL },
    { "/%1b[31m", 400, NULL },
    /* Dotfiles and dot-directories. */
    { "/.env", 403, NULL },
    { "/.git/config", 403, NULL },
    { "/a/.htpasswd", 403, NULL },
    { "/%2egit/HEAD", 403, NULL },
    { "/...", 403, NULL },
    { "/a/.b/", 403, NULL },
    { "/.well-known/security.txt", 0, "/.well-known/security.txt" },
    { "/.well-known/", 0, "/.well-known/" },
    { "/.well-knownx", 403, NULL },
    { "/.well-known/.secret", 403, NULL },
    { "/a.b/c.d", 0, "/a.b/c.d" },
    /* Forms of the target. */
    { "http://example.com/a/b", 0, "/a/b" },
    { "HTTP://example.com:8080/x?y", 0, "/x" },
    { "http://example.com", 0, "/" },
    { "http://example.com?x", 0, "/" },
    { "a/b", 400, NULL },
    { "*", 400, NULL },
    { "", 400, NULL },
    { "ftp://x/y", 400, NULL },
};

static void test_table(void **state)
{
    static struct path_req pr;

    (void)state;
    for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const struct path_case *c = &path_cases[i];
        int st = path_parse(c->target, strlen(c->target), &pr);
        if (st != c->status)
            fail_msg("\"%s\": status %d, want %d", c->target, st, c->status);
        if (st == 0 && strcmp(pr.path, c->path) != 0)
            fail_msg("\"%s\": path \"%s\", want \"%s\"", c->target, pr.path, c->path);
        if (st == 0) {
            assert_int_equal(pr.len, strlen(pr.path));
            assert_int_equal(pr.trailing_slash, pr.path[pr.len - 1] == '/');
        }
    }
}

static void test_query_and_slash(void **state)
{
    static struct path_req pr;
    const char *t = "/dir?a=b";

    (void)state;
    assert_int_equal(path_parse(t, strlen(t), &pr), 0);
    assert_string_equal(pr.path, "/dir");
    assert_false(pr.trailing_slash);
    assert_int_equal(pr.query_len, 3);
    assert_memory_equal(pr.query, "a=b", 3);
    assert_int_equal(path_parse("/dir/", 5, &pr), 0);
    assert_true(pr.trailing_slash);
    assert_null(pr.query);
    /* Only len bytes count: the rest of the request line is not read. */
    assert_int_equal(path_parse("/abc HTTP/1.1", 4, &pr), 0);
    assert_string_equal(pr.path, "/abc");
}

static void test_long(void **state)
{
    static struct path_req pr;
    static char big[3 * PATH_REQ_MAX + 8];
    size_t n;

    (void)state;
    /* Just fits once decoded. */
    big[0] = '/';
    memset(big + 1, 'a', PATH_REQ_MAX - 2);
    n = PATH_REQ_MAX - 1;
    assert_int_equal(path_parse(big, n, &pr), 0);
    assert_int_equal(pr.len, PATH_REQ_MAX - 1);
    memset(big + 1, 'a', PATH_REQ_MAX);
    assert_int_equal(path_parse(big, PATH_REQ_MAX + 1, &pr), 414);
    /* Many "../" that would climb, long. */
    n = 0;
    big[n++] = '/';
    while (n + 3 < PATH_REQ_MAX - 1) {
        memcpy(big + n, "../", 3);
        n += 3;
    }
    assert_int_equal(path_parse(big, n, &pr), 400);
    /* Many "a/../" that do not climb: fine, "/". */
    n = 0;
    big[n++] = '/';
    while (n + 5 < PATH_REQ_MAX) {
        memcpy(big + n, "a/../", 5);
        n += 5;
    }
    assert_int_equal(path_parse(big, n, &pr), 0);
    assert_string_equal(pr.path, "/");
}

static void test_encode(void **state)
{
    char buf[64];
    const char *p = "/cn/\xe9\x9f\xb3 a&b\"<'>.mp3";

    (void)state;
    assert_int_equal(path_encode(p, strlen(p), buf, sizeof(buf)), 37);
    assert_string_equal(buf, "/cn/%E9%9F%B3%20a%26b%22%3C%27%3E.mp3");
    assert_int_equal(path_encode("/abc", 4, buf, 4), -1);
    assert_int_equal(path_encode("/abc", 4, buf, 5), 4);
    assert_int_equal(path_encode("/\x01", 2, buf, 4), -1);
}

/* A scratch tree:  root/{f.txt, d/, d/g.txt, in -> d/g.txt, out -> ../secret, abs -> /etc/passwd,
 *                  dirlink -> d, fifo}  and  secret beside root. */
static char top[64];
static int rootfd = -1;

static int setup_tree(void **state)
{
    char p[256];
    int fd;

    (void)state;
    strcpy(top, "/tmp/test_path.XXXXXX");
    if (mkdtemp(top) == NULL)
        return -1;
    snprintf(p, sizeof(p), "%s/root", top);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/root/d", top);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/secret", top);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    (void)!write(fd, "secret", 6);
    close(fd);
    snprintf(p, sizeof(p), "%s/root/f.txt", top);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    (void)!write(fd, "hello", 5);
    close(fd);
    snprintf(p, sizeof(p), "%s/root/d/g.txt", top);
    close(open(p, O_WRONLY | O_CREAT, 0644));
    snprintf(p, sizeof(p), "%s/root/in", top);
    (void)!symlink("d/g.txt", p);
    snprintf(p, sizeof(p), "%s/root/out", top);
    (void)!symlink("../secret", p);
    snprintf(p, sizeof(p), "%s/root/d/up", top);
    (void)!symlink("../../secret", p);
    snprintf(p, sizeof(p), "%s/root/abs", top);
    (void)!symlink("/etc/passwd", p);
    snprintf(p, sizeof(p), "%s/root/dirlink", top);
    (void)!symlink("d", p);
    snprintf(p, sizeof(p), "%s/root/fifo", top);
    mkfifo(p, 0644);
    snprintf(p, sizeof(p), "%s/root", top);
    rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return rootfd < 0 ? -1 : 0;
}

static int teardown_tree(void **state)
{
    char cmd[128];

    (void)state;
    close(rootfd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    return system(cmd) == 0 ? 0 : -1;
}

/* Open and return the status an HTTP handler would see (200 for a file, 0 for a dir). */
static int open_status(const char *rel)
{
    struct stat st;
    int fd = path_open_beneath(rootfd, rel, &st);

    if (fd < 0)
        return path_errno_status(errno);
    close(fd);
    return S_ISDIR(st.st_mode) ? 0 : 200;
}

static void check_common(void)
{
    assert_int_equal(open_status("f.txt"), 200);
    assert_int_equal(open_status("/f.txt"), 200);
    assert_int_equal(open_status("d/g.txt"), 200);
    assert_int_equal(open_status("d"), 0);
    assert_int_equal(open_status("d/"), 0);
    assert_int_equal(open_status(""), 0);
    assert_int_equal(open_status("nope"), 404);
    assert_int_equal(open_status("f.txt/x"), 404); /* ENOTDIR */
    assert_int_equal(open_status("fifo"), 404);    /* not a regular file */
    /* Escapes, whatever the mode. */
    assert_int_equal(open_status("out"), 403);
    assert_int_equal(open_status("d/up"), 403);
    assert_int_equal(open_status("abs"), 403);
    assert_int_equal(open_status("../secret"), 403);
    assert_int_equal(open_status("d/../../secret"), 403);
}

static void test_open_openat2(void **state)
{
    struct stat st;
    int fd;

    (void)state;
    path_set_openat2(1);
    check_common();
    /* Symlinks that stay beneath the root are followed. */
    assert_int_equal(open_status("in"), 200);
    assert_int_equal(open_status("dirlink/g.txt"), 200);
    fd = path_open_beneath(rootfd, "f.txt", &st);
    assert_true(fd >= 0);
    assert_int_equal(st.st_size, 5);
    close(fd);
}

static void test_open_fallback(void **state)
{
    (void)state;
    path_set_openat2(0);
    check_common();
    /* The fallback refuses every symlink. */
    assert_int_equal(open_status("in"), 403);
    /* O_NOFOLLOW | O_DIRECTORY on a symlink gives ENOTDIR: refused as 404. */
    assert_int_equal(open_status("dirlink/g.txt"), 404);
    path_set_openat2(1);
}

static void test_errno_status(void **state)
{
    (void)state;
    assert_int_equal(path_errno_status(ENOENT), 404);
    assert_int_equal(path_errno_status(EACCES), 403);
    assert_int_equal(path_errno_status(EMFILE), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),        cmocka_unit_test(test_query_and_slash),
        cmocka_unit_test(test_long),         cmocka_unit_test(test_encode),
        cmocka_unit_test(test_open_openat2), cmocka_unit_test(test_open_fallback),
        cmocka_unit_test(test_errno_status),
    };
    return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
