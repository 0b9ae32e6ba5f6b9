/* Tests for monitor/ui_pids.c: the scoreboard index behind the TUI's worker PID column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/ui_pids.h"

#define S 1000000000LL

static void put(struct sb_conn *rec, uint8_t state, int family, const uint8_t *addr, size_t len,
                uint16_t port, int32_t pid, int64_t accepted)
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

static void test_index(void **state)
{
    static const uint8_t v4[4] = { 127, 0, 0, 1 }, other[4] = { 10, 0, 0, 7 };
    static const uint8_t v6[16] = { [15] = 1 };
    static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 168, 1, 5 };
    static const uint8_t v4m[4] = { 192, 168, 1, 5 };
    char path[] = "/tmp/test_view_pids.XXXXXX";
    struct scoreboard w, r;
    struct ui_pids *p = ui_pids_new();
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sb_create(&w, path, 2, 4, 2), 0);
    put(sb_conn_at(&w, 0, 0), SB_CONN_READING, AF_INET, v4, 4, 5000, 101, 10 * S);
    put(sb_conn_at(&w, 1, 3), SB_CONN_KEEPALIVE, AF_INET6, v6, 16, 5000, 202, 11 * S);
    put(sb_conn_at(&w, 1, 1), SB_CONN_WRITING, AF_INET6, mapped, 16, 6000, 303, 12 * S);
    /* Port 7000 was used twice: closed (recent ring) and again now. */
    put(sb_recent_at(&w, 0, 1), SB_CONN_CLOSED, AF_INET, v4, 4, 7000, 101, 20 * S);
    put(sb_conn_at(&w, 0, 2), SB_CONN_READING, AF_INET, v4, 4, 7000, 202, 60 * S);
    put(sb_conn_at(&w, 0, 1), SB_CONN_FREE, AF_INET, other, 4, 8000, 999, 1 * S);
    assert_int_equal(sb_open_read(&r, path), 0);

    assert_int_equal(ui_pids_find(p, 4, v4, 5000, 0), 0); /* not built yet */
    assert_int_equal(ui_pids_build(p, &r), 0);
    assert_int_equal(ui_pids_count(p), 5);
    assert_int_equal(ui_pids_find(p, 4, v4, 5000, 10 * S), 101);
    assert_int_equal(ui_pids_find(p, 6, v6, 5000, 11 * S), 202);
    assert_int_equal(ui_pids_find(p, 4, v4m, 6000, 0), 303); /* dual-stack record */
    assert_int_equal(ui_pids_find(p, 6, mapped, 6000, 0), 303);
    assert_int_equal(ui_pids_find(p, 4, v4, 7000, 20 * S), 101);
    assert_int_equal(ui_pids_find(p, 4, v4, 7000, 60 * S), 202);
    assert_int_equal(ui_pids_find(p, 4, v4, 7000, 0), 202);
    assert_int_equal(ui_pids_find(p, 4, other, 8000, 0), 0); /* free records do not count */
    assert_int_equal(ui_pids_find(p, 4, v4, 5001, 0), 0);

    /* Rebuilt after a change: old entries go. */
    put(sb_conn_at(&w, 0, 0), SB_CONN_FREE, AF_INET, v4, 4, 5000, 101, 10 * S);
    assert_int_equal(ui_pids_build(p, &r), 0);
    assert_int_equal(ui_pids_find(p, 4, v4, 5000, 0), 0);
    assert_int_equal(ui_pids_count(p), 4);

    ui_pids_free(p);
    sb_close(&r);
    sb_close(&w);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
