/* Tests for master/pidfile.c: the lock names a live owner; a stale file is taken over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/pidfile.h"

static void read_file(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

static void test_live_owner_and_stale_file(void **state)
{
    char dir[] = "/tmp/labd-test-pid.XXXXXX";
    char path[128], buf[64], want[64];
    int ready[2];
    pid_t child, owner = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, PIDFILE_NAME);
    assert_int_equal(pidfile_owner(path), 0); /* absent */

    /* A stale file: a pid, but nobody holds the lock. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("999999\n", f);
    fclose(f);
    assert_int_equal(pidfile_owner(path), 0);

    /* Another process takes it over and holds it. */
    assert_int_equal(pipe(ready), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pid_t o;
        int fd = -1;
        char b = pidfile_acquire(path, &fd, &o) == PIDFILE_LOCKED && fd >= 0 ? 'y' : 'n';
        if (write(ready[1], &b, 1) != 1)
            _exit(2);
        pause();
        _exit(0);
    }
    char b = 0;
    assert_int_equal(read(ready[0], &b, 1), 1);
    assert_int_equal(b, 'y');
    assert_int_equal(pidfile_owner(path), child);
    read_file(path, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%d\n", (int)child);
    assert_string_equal(buf, want);

    /* While it lives, we cannot have it, and we are told who has it. */
    int fd = -1;
    assert_int_equal(pidfile_acquire(path, &fd, &owner), PIDFILE_HELD);
    assert_int_equal(owner, child);
    assert_int_equal(fd, -1);

    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* Its death released the lock: the file is stale again and ours to take. */
    assert_int_equal(pidfile_owner(path), 0);
    assert_int_equal(pidfile_acquire(path, &fd, &owner), PIDFILE_LOCKED);
    assert_true(fd >= 0);
    read_file(path, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%d\n", (int)getpid());
    assert_string_equal(buf, want);
    close(fd);

    close(ready[0]);
    close(ready[1]);
    unlink(path);
    rmdir(dir);
}

static void test_unwritable_dir(void **state)
{
    pid_t owner;
    int fd = -1;

    (void)state;
    assert_int_equal(pidfile_acquire("/nonexistent/dir/labd.pid", &fd, &owner), PIDFILE_ERROR);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_owner_and_stale_file),
        cmocka_unit_test(test_unwritable_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
