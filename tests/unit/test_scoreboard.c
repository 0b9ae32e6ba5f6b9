/* Tests for shared/scoreboard.c: create/open round trip, validation, slots, client lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/scoreboard.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/labd-test-sb.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, SB_FILE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void put_conn(struct sb_conn *c, int state, int family, const char *addr, uint16_t port,
                     int64_t accepted_ns, const char *request)
{
    sb_write_begin(&c->seq);
    c->state = (uint8_t)state;
    c->family = (uint8_t)family;
    memset(c->client_addr, 0, sizeof(c->client_addr));
    inet_pton(family, addr, c->client_addr);
    c->client_port = port;
    c->accepted_ns = accepted_ns;
    c->pid = 1234;
    snprintf(c->request, sizeof(c->request), "%s", request);
    sb_write_end(&c->seq);
}

static void test_create_and_open(void **state)
{
    struct fixture *f = *state;
    struct scoreboard w, r;

    assert_int_equal(sb_create(&w, f->path, 4, 8, 2), 0);
    assert_int_equal(w.size, sb_size_for(4, 8, 2));
    assert_int_equal(sb_open_read(&r, f->path), 0);
    assert_int_equal(r.hdr->nslots, 4);
    assert_int_equal(r.hdr->conns_per_slot, 8);
    assert_int_equal(r.hdr->recent_per_slot, 2);
    assert_int_equal(r.hdr->master_pid, getpid());
    assert_int_equal(r.writable, 0);
    assert_int_equal(access(f->path, F_OK), 0);

    /* What the master writes, a reader sees. */
    sb_slot_prepare(&w, 3, 7, 2, 99);
    sb_slot_set_pid(&w, 3, 4321);
    struct sb_worker wk;
    assert_int_equal(sb_read(&wk, sb_worker_at(&r, 3), sizeof(wk)), 0);
    assert_int_equal(wk.state, SB_WORKER_STARTING);
    assert_int_equal(wk.pid, 4321);
    assert_int_equal(wk.number, 7);
    assert_int_equal(wk.generation, 2);
    assert_int_equal(wk.seq % 2, 0);
    sb_close(&r);
    sb_close(&w);
}

/* The lab records: there, but pointed at only once the master enables them. */
static void test_lab_records(void **state)
{
    struct fixture *f = *state;
    struct scoreboard w, r;
    struct sb_lab *lab;
    struct lab_stats_link l;

    assert_int_equal(sb_create(&w, f->path, 2, 3, 4), 0);
    assert_int_equal(sb_open_read(&r, f->path), 0);
    assert_null(sb_lab_at(&r));
    lab = sb_lab_enable(&w);
    assert_ptr_equal((char *)lab + sizeof(*lab), (char *)w.hdr + w.size);
    sb_write_begin(&lab->link.seq);
    snprintf(lab->link.ifname, sizeof(lab->link.ifname), "labd5");
    lab->link.port = 8080;
    sb_write_end(&lab->link.seq);
    assert_non_null(sb_lab_at(&r));
    assert_int_equal(sb_read(&l, &sb_lab_at(&r)->link, sizeof(l)), 0);
    assert_string_equal(l.ifname, "labd5");
    assert_int_equal(l.port, 8080);
    /* An offset that is not where the records are is not followed. */
    w.hdr->lab_offset -= 8;
    assert_null(sb_lab_at(&r));
    sb_close(&r);
    sb_close(&w);
}

static void test_recreate_keeps_old_readers_valid(void **state)
{
    struct fixture *f = *state;
    struct scoreboard a, r, b;

    assert_int_equal(sb_create(&a, f->path, 2, 4, 2), 0);
    assert_int_equal(sb_open_read(&r, f->path), 0);
    assert_int_equal(sb_create(&b, f->path, 8, 4, 2), 0);
    /* The old mapping is intact (not truncated under the reader). */
    assert_int_equal(r.hdr->nslots, 2);
    assert_int_equal(r.hdr->magic, SB_MAGIC);
    sb_close(&r);
    assert_int_equal(sb_open_read(&r, f->path), 0);
    assert_int_equal(r.hdr->nslots, 8);
    sb_close(&r);
    sb_close(&a);
    sb_close(&b);
}

static void test_open_rejects_bad_files(void **state)
{
    struct fixture *f = *state;
    struct scoreboard w, r;
    int fd;

    assert_int_equal(sb_open_read(&r, f->path), -1);
    assert_int_equal(errno, ENOENT);

    fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "short", 5), 5);
    close(fd);
    assert_int_equal(sb_open_read(&r, f->path), -1);
    assert_int_equal(errno, EPROTO);

    /* Wrong version. */
    assert_int_equal(sb_create(&w, f->path, 2, 2, 2), 0);
    w.hdr->version = SB_VERSION + 1;
    assert_int_equal(sb_open_read(&r, f->path), -1);
    assert_int_equal(errno, EPROTO);
    w.hdr->version = SB_VERSION;
    /* A header claiming more records than the file holds. */
    w.hdr->conns_per_slot = 1000;
    assert_int_equal(sb_open_read(&r, f->path), -1);
    assert_int_equal(errno, EPROTO);
    w.hdr->conns_per_slot = 2;
    w.hdr->magic = 0;
    assert_int_equal(sb_open_read(&r, f->path), -1);
    assert_int_equal(errno, EPROTO);
    sb_close(&w);

    assert_int_equal(sb_create(&w, f->path, 0, 2, 2), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_find_client(void **state)
{
    struct fixture *f = *state;
    struct scoreboard w, r;
    struct sb_conn out;
    uint8_t a4[16] = { 0 }, a6[16] = { 0 };

    assert_int_equal(sb_create(&w, f->path, 2, 4, 4), 0);
    assert_int_equal(sb_open_read(&r, f->path), 0);
    inet_pton(AF_INET, "127.0.0.1", a4);
    inet_pton(AF_INET6, "::1", a6);

    assert_int_equal(sb_find_client(&r, AF_INET, a4, 40000, 0, &out), -1);

    put_conn(sb_conn_at(&w, 1, 2), SB_CONN_WRITING, AF_INET, "127.0.0.1", 40000, 5000,
             "GET /live HTTP/1.1");
    put_conn(sb_recent_at(&w, 0, 0), SB_CONN_CLOSED, AF_INET, "127.0.0.1", 40000, 1000,
             "GET /old HTTP/1.1");
    put_conn(sb_recent_at(&w, 0, 1), SB_CONN_CLOSED, AF_INET6, "::1", 40000, 3000,
             "GET /six HTTP/1.1");
    put_conn(sb_conn_at(&w, 0, 0), SB_CONN_KEEPALIVE, AF_INET, "127.0.0.2", 40000, 4000,
             "GET /other HTTP/1.1");

    /* Newest by default. */
    assert_int_equal(sb_find_client(&r, AF_INET, a4, 40000, 0, &out), 0);
    assert_string_equal(out.request, "GET /live HTTP/1.1");
    /* Nearest to a given time when the port was reused. */
    assert_int_equal(sb_find_client(&r, AF_INET, a4, 40000, 1500, &out), 0);
    assert_string_equal(out.request, "GET /old HTTP/1.1");
    /* Family and address both count. */
    assert_int_equal(sb_find_client(&r, AF_INET6, a6, 40000, 0, &out), 0);
    assert_string_equal(out.request, "GET /six HTTP/1.1");
    assert_int_equal(sb_find_client(&r, AF_INET, a4, 40001, 0, &out), -1);
    assert_int_equal(sb_find_client(&r, AF_UNIX, a4, 40000, 0, &out), -1);

    /* A dead worker's live connections are gone; its recent ring stays. */
    sb_slot_dead(&w, 1);
    assert_int_equal(sb_find_client(&r, AF_INET, a4, 40000, 0, &out), 0);
    assert_string_equal(out.request, "GET /old HTTP/1.1");
    struct sb_worker wk;
    assert_int_equal(sb_read(&wk, sb_worker_at(&r, 1), sizeof(wk)), 0);
    assert_int_equal(wk.state, SB_WORKER_DEAD);

    /* A record being written (odd seq) is not returned half-done. */
    struct sb_conn *busy = sb_conn_at(&w, 0, 0);
    sb_write_begin(&busy->seq);
    uint8_t a2[16] = { 0 };
    inet_pton(AF_INET, "127.0.0.2", a2);
    assert_int_equal(sb_find_client(&r, AF_INET, a2, 40000, 0, &out), -1);
    sb_write_end(&busy->seq);
    assert_int_equal(sb_find_client(&r, AF_INET, a2, 40000, 0, &out), 0);

    sb_close(&r);
    sb_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lab_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recreate_keeps_old_readers_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_rejects_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_client, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
