/* Tests for master/listen.c: addresses opened, names, one-line errors, nothing leaked on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "master/listen.h"

/* A port the kernel just handed out on 127.0.0.1 (and released). */
static int some_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_bind_list(void **state)
{
    struct labd_config c;
    struct listen_set ls;
    char err[256], want[64];

    (void)state;
    memset(&c, 0, sizeof(c));
    c.port = some_port();
    snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "127.0.0.1");
    snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "127.0.0.1"); /* duplicates fold */
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), 0);
    assert_int_equal(ls.n, 1);
    snprintf(want, sizeof(want), "127.0.0.1:%d", c.port);
    assert_string_equal(ls.names[0], want);
    assert_true(fcntl(ls.fds[0], F_GETFL) & O_NONBLOCK);

    /* The same port again: in use, said in one line, nothing left open. */
    struct listen_set again;
    assert_int_equal(listen_open(&c, &again, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is already in use on 127.0.0.1"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(again.n, 0);
    listen_close(&ls);
    assert_int_equal(ls.n, 0);
}

static void test_default_is_all_addresses(void **state)
{
    struct labd_config c;
    struct listen_set ls;
    char err[256];

    (void)state;
    memset(&c, 0, sizeof(c));
    c.port = some_port();
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), 0);
    assert_int_equal(ls.n, 1);
    char v6[64], v4[64];
    snprintf(v6, sizeof(v6), "[::]:%d", c.port);
    snprintf(v4, sizeof(v4), "0.0.0.0:%d", c.port);
    assert_true(strcmp(ls.names[0], v6) == 0 || strcmp(ls.names[0], v4) == 0);
    listen_close(&ls);
}

static void test_bad_addresses(void **state)
{
    struct labd_config c;
    struct listen_set ls;
    char err[256];

    (void)state;
    memset(&c, 0, sizeof(c));
    c.port = some_port();
    snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "192.0.2.7"); /* TEST-NET: not ours */
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no such address on this machine"));
    c.nbinds = 0;
    snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "no such host.invalid");
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot listen on no such host.invalid"));
}

static void test_same(void **state)
{
    struct labd_config a, b;

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.port = b.port = 8080;
    assert_true(listen_same(&a, &b));
    snprintf(b.binds[b.nbinds++], CONFIG_BIND_MAX, "::1");
    assert_false(listen_same(&a, &b));
    snprintf(a.binds[a.nbinds++], CONFIG_BIND_MAX, "::1");
    assert_true(listen_same(&a, &b));
    b.accept = CONFIG_ACCEPT_REUSEPORT; /* another accept mode needs other sockets */
    assert_false(listen_same(&a, &b));
    b.accept = CONFIG_ACCEPT_CPU;
    assert_false(listen_same(&a, &b));
    b.accept = a.accept;
    b.port = 8081;
    assert_false(listen_same(&a, &b));
}

/* The port a listening socket is bound to. */
static int port_of(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

/* accept auto: cpu only when every address is loopback (or labd runs the lab). */
static enum config_accept resolve(const char *b1, const char *b2, int lab)
{
    struct labd_config c;
    char why[64];

    memset(&c, 0, sizeof(c));
    c.accept = CONFIG_ACCEPT_AUTO;
    if (b1)
        snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "%s", b1);
    if (b2)
        snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "%s", b2);
    c.lab.on = lab;
    enum config_accept a = listen_accept_resolve(&c, why, sizeof(why));
    assert_int_equal(c.accept, a);
    assert_true(strncmp(why, "auto: ", 6) == 0);
    return a;
}

static void test_accept_resolve(void **state)
{
    struct labd_config c;
    struct listen_set ls;
    char why[64], err[256];

    (void)state;
    assert_int_equal(resolve(NULL, NULL, 0), CONFIG_ACCEPT_EXCLUSIVE); /* all addresses */
    assert_int_equal(resolve("127.0.0.1", NULL, 0), CONFIG_ACCEPT_CPU);
    assert_int_equal(resolve("127.0.0.2", "[::1]", 0), CONFIG_ACCEPT_CPU);
    assert_int_equal(resolve("::ffff:127.0.0.1", NULL, 0), CONFIG_ACCEPT_CPU);
    assert_int_equal(resolve("localhost", NULL, 0), CONFIG_ACCEPT_CPU);
    assert_int_equal(resolve("127.0.0.1", "0.0.0.0", 0), CONFIG_ACCEPT_EXCLUSIVE);
    assert_int_equal(resolve("*", NULL, 0), CONFIG_ACCEPT_EXCLUSIVE);
    assert_int_equal(resolve("::", NULL, 0), CONFIG_ACCEPT_EXCLUSIVE);
    assert_int_equal(resolve("198.18.0.1", NULL, 0), CONFIG_ACCEPT_EXCLUSIVE);
    assert_int_equal(resolve("no-such-host.invalid", NULL, 0), CONFIG_ACCEPT_EXCLUSIVE);
    assert_int_equal(resolve(NULL, NULL, 1), CONFIG_ACCEPT_CPU); /* the lab's namespace */

    /* A mode that is set stays; cpu opens one SO_REUSEPORT copy per worker. */
    memset(&c, 0, sizeof(c));
    c.accept = CONFIG_ACCEPT_REUSEPORT;
    assert_int_equal(listen_accept_resolve(&c, why, sizeof(why)), CONFIG_ACCEPT_REUSEPORT);
    assert_string_equal(why, "as configured");
    c.accept = CONFIG_ACCEPT_CPU;
    c.port = some_port();
    c.workers = 2;
    snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "127.0.0.1");
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), 0);
    assert_int_equal(ls.ncopies, 2);
    assert_int_equal(ls.reuseport, 1);
    listen_close(&ls);
}

static void test_reuseport_copies(void **state)
{
    struct labd_config c;
    struct listen_set ls, again;
    char err[256];
    int fds[8], one = 0;
    unsigned char own[8];
    socklen_t olen = sizeof(one);

    (void)state;
    memset(&c, 0, sizeof(c));
    c.port = some_port();
    c.workers = 3;
    c.accept = CONFIG_ACCEPT_REUSEPORT;
    snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "127.0.0.1");
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), 0);
    assert_int_equal(ls.n, 1);
    assert_int_equal(ls.ncopies, 3);
    /*
     * One socket per worker, all on the port, all SO_REUSEPORT, non-blocking;
     * each worker gets its own first, then the next worker's (to rescue
     * from: 1 watches 2, 2 watches 3, 3 watches 1).
     */
    for (unsigned w = 1; w <= 3; w++) {
        unsigned next = w % 3 + 1;
        assert_int_equal(listen_worker_fds(&ls, w, 3, fds, own, 8), 2);
        assert_memory_equal(own, "\1\0", 2);
        assert_int_equal(fds[0], w == 1 ? ls.fds[0] : ls.more[w - 2][0]);
        assert_int_equal(fds[1], next == 1 ? ls.fds[0] : ls.more[next - 2][0]);
        assert_int_equal(port_of(fds[0]), c.port);
        assert_int_equal(getsockopt(fds[0], SOL_SOCKET, SO_REUSEPORT, &one, &olen), 0);
        assert_int_equal(one, 1);
        assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    }
    assert_int_not_equal(ls.more[0][0], ls.fds[0]);
    assert_int_not_equal(ls.more[1][0], ls.more[0][0]);

    /* Fewer workers after a reload: worker 1 takes copies 0 and 2, worker 2 copy 1. */
    assert_int_equal(listen_worker_fds(&ls, 1, 2, fds, own, 8), 3);
    assert_int_equal(fds[0], ls.fds[0]);
    assert_int_equal(fds[1], ls.more[1][0]);
    assert_int_equal(fds[2], ls.more[0][0]);
    assert_memory_equal(own, "\1\1\0", 3);
    assert_int_equal(listen_worker_fds(&ls, 2, 2, fds, own, 8), 3);
    assert_int_equal(fds[0], ls.more[0][0]);
    assert_memory_equal(own, "\1\0\0", 3);

    /* SO_REUSEPORT must not let a second server share the port. */
    assert_int_equal(listen_open(&c, &again, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is already in use on 127.0.0.1"));

    /*
     * A worker that will not come back gives its copies up, shut down so
     * that the others' descriptors of it fail too; growing reopens them.
     */
    int other = dup(ls.more[0][0]);
    listen_close_worker(&ls, 2, 3);
    assert_int_equal(ls.more[0][0], -1);
    assert_int_equal(listen_worker_fds(&ls, 2, 3, fds, own, 8), 1);
    assert_int_equal(own[0], 0); /* only worker 3's copy, to watch */
    assert_int_equal(listen_worker_fds(&ls, 1, 3, fds, own, 8), 1);
    assert_int_equal(own[0], 1); /* its own; worker 2's is gone */
    assert_int_equal(accept(other, NULL, NULL), -1);
    assert_int_equal(errno, EINVAL);
    close(other);
    assert_int_equal(listen_grow(&ls, 4, err, sizeof(err)), 0);
    assert_int_equal(ls.ncopies, 4);
    assert_true(ls.more[0][0] >= 0);
    assert_int_equal(port_of(ls.more[2][0]), c.port);
    listen_shrink(&ls, 2);
    assert_int_equal(ls.ncopies, 2);
    assert_int_equal(listen_worker_fds(&ls, 1, 2, fds, own, 8), 2);
    assert_int_equal(own[0], 1);
    listen_close(&ls);
    assert_int_equal(ls.n, 0);

    /* The shared mode: one socket, every worker gets it. */
    c.accept = CONFIG_ACCEPT_EXCLUSIVE;
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), 0);
    assert_int_equal(ls.ncopies, 1);
    assert_int_equal(listen_worker_fds(&ls, 2, 3, fds, own, 8), 1);
    assert_int_equal(fds[0], ls.fds[0]);
    assert_int_equal(own[0], 1);
    listen_close(&ls);
}

/* Accept on a non-blocking listener, waiting up to ms for a connection to be queued. */
static int accept_within(int lfd, int ms)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    if (poll(&p, 1, ms) <= 0)
        return -1;
    return accept(lfd, NULL, NULL);
}

static int connect_to(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* defer-accept: a connection reaches accept() only once its first bytes came. */
static void test_defer_accept(void **state)
{
    struct labd_config c;
    struct listen_set ls;
    char err[256];
    int secs = -1, fd, afd;
    socklen_t olen = sizeof(secs);

    (void)state;
    memset(&c, 0, sizeof(c));
    c.port = some_port();
    c.workers = 2;
    c.defer_accept_ms = 1000;
    snprintf(c.binds[c.nbinds++], CONFIG_BIND_MAX, "127.0.0.1");
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), 0);
    assert_int_equal(getsockopt(ls.fds[0], IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, &olen), 0);
    assert_true(secs >= 1);

    /* Connected, silent: not handed over; the first byte hands it over. */
    fd = connect_to(c.port);
    assert_int_equal(accept_within(ls.fds[0], 300), -1);
    assert_int_equal(write(fd, "G", 1), 1);
    afd = accept_within(ls.fds[0], 2000);
    assert_true(afd >= 0);
    close(afd);
    close(fd);

    /* Off (a reload may change it): a silent connection is accepted at once. */
    listen_set_defer(&ls, 0);
    assert_int_equal(getsockopt(ls.fds[0], IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, &olen), 0);
    assert_int_equal(secs, 0);
    fd = connect_to(c.port);
    afd = accept_within(ls.fds[0], 2000);
    assert_true(afd >= 0);
    close(afd);
    close(fd);
    listen_close(&ls);

    /* Reuseport copies get it too, including ones opened later. */
    c.accept = CONFIG_ACCEPT_REUSEPORT;
    assert_int_equal(listen_open(&c, &ls, err, sizeof(err)), 0);
    assert_int_equal(listen_grow(&ls, 3, err, sizeof(err)), 0);
    for (int k = 1; k < 3; k++) {
        secs = -1;
        assert_int_equal(getsockopt(ls.more[k - 1][0], IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, &olen),
                         0);
        assert_true(secs >= 1);
    }
    listen_close(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_list),        cmocka_unit_test(test_default_is_all_addresses),
        cmocka_unit_test(test_bad_addresses),    cmocka_unit_test(test_same),
        cmocka_unit_test(test_reuseport_copies), cmocka_unit_test(test_defer_accept),
        cmocka_unit_test(test_accept_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
