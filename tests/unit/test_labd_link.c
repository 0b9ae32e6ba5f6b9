/* Tests for monitor/labd_link.c: finding labd through its run dir, and the worker-pid index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/labd_link.h"

#define TEST_LABD_LINK_S 1000000000LL

static void test_labd_link_put(struct sb_conn *rec, uint8_t state, int family, const uint8_t *addr,
                               size_t len, uint16_t port, int32_t pid, int64_t accepted)
{
    sb_write_begin(&rec->seq);
    rec->state = state;
    rec->family = (uint8_t)family;
    memset(rec->client_addr, 0, sizeof(rec->client_addr));
    memcpy(rec->client_addr, addr, len);
    rec->client_port = port;
    rec->pid = pid;
    rec->accepted_ns = accepted;
    sb_write_end(&rec->seq);
}

static void test_labd_link_index(void **state)
{
    static const uint8_t v4[4] = { 127, 0, 0, 1 }, other[4] = { 10, 0, 0, 7 };
    static const uint8_t v6[16] = { [15] = 1 };
    static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 168, 1, 5 };
    static const uint8_t v4m[4] = { 192, 168, 1, 5 };
    char path[] = "/tmp/test_labd_link.XXXXXX";
    struct scoreboard w, r;
    struct labd_link_pids *p = labd_link_pids_new();
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sb_create(&w, path, 2, 4, 2), 0);
    test_labd_link_put(sb_conn_at(&w, 0, 0), SB_CONN_READING, AF_INET, v4, 4, 5000, 101,
                       10 * TEST_LABD_LINK_S);
    test_labd_link_put(sb_conn_at(&w, 1, 3), SB_CONN_KEEPALIVE, AF_INET6, v6, 16, 5000, 202,
                       11 * TEST_LABD_LINK_S);
    test_labd_link_put(sb_conn_at(&w, 1, 1), SB_CONN_WRITING, AF_INET6, mapped, 16, 6000, 303,
                       12 * TEST_LABD_LINK_S);
    /* Port 7000 was used twice: closed (recent ring) and again now. */
    test_labd_link_put(sb_recent_at(&w, 0, 1), SB_CONN_CLOSED, AF_INET, v4, 4, 7000, 101,
                       20 * TEST_LABD_LINK_S);
    test_labd_link_put(sb_conn_at(&w, 0, 2), SB_CONN_READING, AF_INET, v4, 4, 7000, 202,
                       60 * TEST_LABD_LINK_S);
    test_labd_link_put(sb_conn_at(&w, 0, 1), SB_CONN_FREE, AF_INET, other, 4, 8000, 999,
                       1 * TEST_LABD_LINK_S);
    assert_int_equal(sb_open_read(&r, path), 0);

    assert_int_equal(labd_link_pids_find(p, 4, v4, 5000, 0), 0); /* not built yet */
    assert_int_equal(labd_link_pids_build(p, &r), 0);
    assert_int_equal(labd_link_pids_count(p), 5);
    assert_int_equal(labd_link_pids_find(p, 4, v4, 5000, 10 * TEST_LABD_LINK_S), 101);
    assert_int_equal(labd_link_pids_find(p, 6, v6, 5000, 11 * TEST_LABD_LINK_S), 202);
    assert_int_equal(labd_link_pids_find(p, 4, v4m, 6000, 0), 303); /* dual-stack record */
    assert_int_equal(labd_link_pids_find(p, 6, mapped, 6000, 0), 303);
    assert_int_equal(labd_link_pids_find(p, 4, v4, 7000, 20 * TEST_LABD_LINK_S), 101);
    assert_int_equal(labd_link_pids_find(p, 4, v4, 7000, 60 * TEST_LABD_LINK_S), 202);
    assert_int_equal(labd_link_pids_find(p, 4, v4, 7000, 0), 202);
    assert_int_equal(labd_link_pids_find(p, 4, other, 8000, 0), 0); /* free records do not count */
    assert_int_equal(labd_link_pids_find(p, 4, v4, 5001, 0), 0);

    /* Rebuilt after a change: old entries go. */
    test_labd_link_put(sb_conn_at(&w, 0, 0), SB_CONN_FREE, AF_INET, v4, 4, 5000, 101,
                       10 * TEST_LABD_LINK_S);
    assert_int_equal(labd_link_pids_build(p, &r), 0);
    assert_int_equal(labd_link_pids_find(p, 4, v4, 5000, 0), 0);
    assert_int_equal(labd_link_pids_count(p), 4);

    labd_link_pids_free(p);
    sb_close(&r);
    sb_close(&w);
    unlink(path);
}

/* labd --lab: the link's record and the wire's counters come with each look. */
static void test_labd_link_lab(struct labd_link *l, struct scoreboard *w)
{
    const struct labd_link_info *info = labd_link_info(l);
    struct sb_lab *lab = sb_lab_enable(w);
    struct lab_opts o;
    char err[128], text[64], counters[160];

    lab_opts_init(&o);
    assert_int_equal(lab_opts_set(&o, "lab", "on", err, sizeof(err)), 0);
    assert_int_equal(lab_opts_set(&o, "lab-rtt", "40", err, sizeof(err)), 0);
    lab_stats_link_fill(&lab->link, 0xc6120004u, "labd1", 8124, &o);
    labd_link_poll(l);
    assert_true(info->lab);
    assert_string_equal(info->lab_link.ifname, "labd1");
    labd_link_lab_text(info, text, sizeof(text), counters, sizeof(counters));
    assert_string_equal(text, "lab labd1 +40ms 0%");
    assert_string_equal(counters, ""); /* no wire process yet */

    /* A wire that starts later counts from its start. */
    lab->wire.wire_pid = 77;
    lab->wire.dir[0].forwarded = 3;
    lab->wire.dir[1].forwarded = 4;
    lab->wire.dir[1].lost = 1;
    labd_link_poll(l);
    labd_link_lab_text(info, text, sizeof(text), counters, sizeof(counters));
    assert_string_equal(counters, "wire fwd 7 dly 0 lost 1 rule 0 qdrop 0");
}

/* The counters of a wire already running when labmon starts count from then, as its packets. */
static void test_labd_link_wire_base(struct labd_link *l, struct scoreboard *w)
{
    struct sb_lab *lab = sb_lab_at(w);
    char text[64], counters[160];

    lab->wire.wire_pid = 78;
    lab->wire.dir[1].forwarded = 1000;
    lab->wire.dir[1].lost = 10;
    labd_link_poll(l);
    labd_link_lab_text(labd_link_info(l), text, sizeof(text), counters, sizeof(counters));
    assert_string_equal(counters, "wire fwd 0 dly 0 lost 0 rule 0 qdrop 0");
    lab->wire.dir[1].forwarded = 1005;
    labd_link_poll(l);
    labd_link_lab_text(labd_link_info(l), text, sizeof(text), counters, sizeof(counters));
    assert_string_equal(counters, "wire fwd 5 dly 0 lost 0 rule 0 qdrop 0");
}

/* labd starts, serves, stops and starts again in a run dir: the link follows. */
static void test_labd_link_follow(void **state)
{
    static const uint8_t v4[4] = { 127, 0, 0, 1 };
    char dir[] = "/tmp/test_labd_link.XXXXXX", path[64];
    struct labd_link_info once;
    const struct labd_link_info *info;
    struct labd_link *l;
    struct scoreboard w;
    pid_t dead;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, SB_FILE);
    l = labd_link_new(dir);
    assert_non_null(l);
    info = labd_link_info(l);
    labd_link_poll(l);
    assert_false(info->running);
    assert_false(info->seen);
    assert_int_equal(labd_link_worker_pid(l, 4, v4, 5000, 0), 0);
    labd_link_probe(dir, &once);
    assert_false(once.running);

    /* A scoreboard made by a live process (this one): labd runs. */
    assert_int_equal(sb_create(&w, path, 2, 4, 2), 0);
    w.hdr->port = 8123;
    w.hdr->nworkers = 2;
    test_labd_link_put(sb_conn_at(&w, 1, 0), SB_CONN_READING, AF_INET, v4, 4, 5000, 4242,
                       10 * TEST_LABD_LINK_S);
    labd_link_poll(l);
    assert_true(info->running);
    assert_true(info->seen);
    assert_int_equal(info->pid, getpid());
    assert_int_equal(info->port, 8123);
    assert_int_equal(info->workers, 2);
    assert_int_equal(labd_link_worker_pid(l, 4, v4, 5000, 0), 4242);
    labd_link_probe(dir, &once);
    assert_true(once.running);
    assert_int_equal(once.port, 8123);

    /* Its master is gone: not running, but it was seen (the pid column stays). */
    dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    w.hdr->master_pid = dead;
    labd_link_poll(l);
    assert_false(info->running);
    assert_true(info->seen);
    assert_int_equal(labd_link_worker_pid(l, 4, v4, 5000, 0), 0);
    sb_close(&w);

    /* Started again: a new scoreboard file in the same place. */
    assert_int_equal(sb_create(&w, path, 1, 4, 2), 0);
    w.hdr->port = 8124;
    labd_link_poll(l);
    assert_true(info->running);
    assert_int_equal(info->port, 8124);
    assert_false(info->lab);
    test_labd_link_lab(l, &w);
    struct labd_link *late = labd_link_new(dir);
    assert_non_null(late);
    test_labd_link_wire_base(late, &w);
    labd_link_free(late);
    sb_close(&w);

    labd_link_free(l);
    unlink(path);
    rmdir(dir);
}

/* The capture's defaults: -f and files stay as given; else -p, then labd's port, then 8080. */
static void test_labd_link_defaults(void **state)
{
    static const struct labd_link_info none = { 0 },
                                       labd = { .running = 1, .seen = 1, .pid = 1, .port = 8123 },
                                       lab = { .running = 1,
                                               .port = 8123,
                                               .lab = 1,
                                               .lab_link = { .ifname = "labd3" } };
    static const struct {
        const struct labd_link_info *info;
        int port;
        struct capture_opts given;
        const char *filter; /* NULL: none */
        const char *iface;  /* NULL: none */
    } cases[] = {
        { &none, 0, { 0 }, "tcp port 8080", NULL },
        { &labd, 0, { 0 }, "tcp port 8123", NULL },
        { &labd, 9000, { 0 }, "tcp port 9000", NULL },
        { &labd, 9000, { .filter = "udp" }, "udp", NULL },
        { &labd, 9000, { .read_file = "x.pcap" }, NULL, NULL },
        /* --lab: the host's end of the link, unless -i says otherwise. */
        { &lab, 0, { 0 }, "tcp port 8123", "labd3" },
        { &lab, 0, { .filter = "tcp" }, "tcp", "labd3" },
        { &lab, 0, { .iface = "any" }, "tcp port 8123", "any" },
        { &lab, 0, { .read_file = "x.pcap" }, NULL, NULL },
    };
    char buf[64], iface[LAB_STATS_IFNAME_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture_opts co = cases[i].given;
        labd_link_capture_defaults(cases[i].info, cases[i].port, &co, buf, sizeof(buf), iface);
        if (cases[i].filter)
            assert_string_equal(co.filter, cases[i].filter);
        else
            assert_null(co.filter);
        if (cases[i].iface)
            assert_string_equal(co.iface, cases[i].iface);
        else
            assert_null(co.iface);
        /* On the lab link every frame at once (the link goes with labd). */
        assert_int_equal(co.immediate, co.iface == iface);
    }
}

/* The lab link is gone when the kernel no longer lists its host end. */
static void test_labd_link_gone(void **state)
{
    (void)state;
    assert_false(labd_link_lab_gone("lo"));
    assert_false(labd_link_lab_gone("")); /* no lab link: nothing can be gone */
    assert_true(labd_link_lab_gone("labdnone9"));
    assert_true(labd_link_lab_gone("l")); /* a prefix of "lo" is not "lo" */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labd_link_index),
        cmocka_unit_test(test_labd_link_follow),
        cmocka_unit_test(test_labd_link_defaults),
        cmocka_unit_test(test_labd_link_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
