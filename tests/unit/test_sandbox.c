/*
 * Tests for shared/sandbox*.c: a child in the worker sandbox is refused
 * execve, socket(AF_PACKET) and ptrace (it dies of SIGSYS after a log line
 * naming the call) and /etc/passwd (Landlock: EACCES); it still reads beneath
 * its root and gets its logs reopened through the supervisor. labmon's
 * sandbox keeps file writes and threads, and refuses exec and fork.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/sandbox.h"

struct sbx_dir {
    char dir[64];
    char root[96];
    char log[96];
    char access[96];
};

/* A site with one page, and the paths of the two logs beside it. */
static void sbx_setup(struct sbx_dir *d)
{
    char page[128];
    FILE *f;

    snprintf(d->dir, sizeof(d->dir), "/tmp/labd-test-sandbox.XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->root, sizeof(d->root), "%s/root", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/error.log", d->dir);
    snprintf(d->access, sizeof(d->access), "%s/access.log", d->dir);
    assert_int_equal(mkdir(d->root, 0755), 0);
    snprintf(page, sizeof(page), "%s/page.txt", d->root);
    f = fopen(page, "w");
    assert_non_null(f);
    fputs("hello", f);
    fclose(f);
}

static void sbx_teardown(const struct sbx_dir *d)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
    assert_int_equal(system(cmd), 0);
}

/* In the child: the worker sandbox, its error log at d->log. Exits 90 if it cannot. */
static void sbx_enter_worker(const struct sbx_dir *d, int channel)
{
    struct sandbox_worker_plan plan = { .root = d->root, .channel_fd = channel };
    char err[256];

    setenv("TZ", "UTC", 1);
    tzset();
    if (log_open(d->log) < 0 || sandbox_worker_prepare(&plan, err, sizeof(err)) < 0 ||
        sandbox_worker_enter() < 0)
        _exit(90);
}

static void sbx_try_execve(void)
{
    char *argv[] = { "/bin/true", NULL };
    char *envp[] = { NULL };

    execve("/bin/true", argv, envp);
}

static void sbx_try_packet_socket(void)
{
    if (socket(AF_PACKET, SOCK_RAW, 0) >= 0)
        _exit(92);
}

static void sbx_try_ptrace(void)
{
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

/* Run action in a child inside the worker sandbox; its wait status. */
static int sbx_run_worker(const struct sbx_dir *d, void (*action)(void))
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        sbx_enter_worker(d, -1);
        action();
        _exit(91); /* the call came back: not refused */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void sbx_read(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t got;

    assert_non_null(f);
    got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

static void test_forbidden_calls_end_with_sigsys(void **state)
{
    static const struct {
        void (*action)(void);
        const char *name;
    } cases[] = {
        { sbx_try_execve, "execve" },
        { sbx_try_packet_socket, "socket" },
        { sbx_try_ptrace, "ptrace" },
    };
    struct sbx_dir d;

    (void)state;
    sbx_setup(&d);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char log[1024], want[128];
        struct tm tm;
        int status;

        unlink(d.log);
        status = sbx_run_worker(&d, cases[i].action);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
            fail_msg("%s: status 0x%x, want death by SIGSYS", cases[i].name, (unsigned)status);
        sbx_read(d.log, log, sizeof(log));
        snprintf(want, sizeof(want), ": worker: system call %s (%ld) is not in", cases[i].name,
                 (long)(cases[i].action == sbx_try_execve          ? SYS_execve
                        : cases[i].action == sbx_try_packet_socket ? SYS_socket
                                                                   : SYS_ptrace));
        if (strstr(log, want) == NULL)
            fail_msg("%s: log line '%s' lacks '%s'", cases[i].name, log, want);
        /* The error log's own format: "YYYY-MM-DD HH:MM:SS [error] PID: ", UTC here. */
        memset(&tm, 0, sizeof(tm));
        const char *rest = strptime(log, "%Y-%m-%d %H:%M:%S [error] ", &tm);
        assert_non_null(rest);
        long long age = (long long)time(NULL) - (long long)timegm(&tm);
        assert_true(age >= 0 && age <= 5);
        assert_int_equal(log[strlen(log) - 1], '\n');
    }
    sbx_teardown(&d);
}

static void test_landlock_refuses_outside_root(void **state)
{
    struct sbx_dir d;
    int status;
    pid_t pid;

    (void)state;
    if (sandbox_landlock_abi() == 0)
        skip();
    sbx_setup(&d);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sbx_enter_worker(&d, -1);
        /* openat read-only passes seccomp; Landlock answers. */
        int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        _exit(fd < 0 && errno == EACCES ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    sbx_teardown(&d);
}

/* What a worker does still works: read beneath the root, memory, logs. */
static void test_worker_calls_still_work(void **state)
{
    struct sbx_dir d;
    char log[512];
    int status;
    pid_t pid;

    (void)state;
    sbx_setup(&d);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int root = open(d.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
        char buf[16] = "";

        sbx_enter_worker(&d, -1);
        int fd = (int)syscall(SYS_openat2, root, "page.txt", &how, sizeof(how));
        if (fd < 0 || pread(fd, buf, sizeof(buf) - 1, 0) != 5 || strcmp(buf, "hello") != 0)
            _exit(1);
        close(fd);
        if (syscall(SYS_openat2, root, "../error.log", &how, sizeof(how)) >= 0)
            _exit(2);
        char *big = malloc(8 << 20); /* mmap, then munmap */
        if (big == NULL)
            _exit(3);
        memset(big, 1, 8 << 20);
        free(big);
        /* A write open without a supervisor fails plainly. */
        if (open(d.access, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) >= 0 || errno != EACCES)
            _exit(4);
        log_error("still here, pid %d", (int)getpid());
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child status 0x%x", (unsigned)status);
    sbx_read(d.log, log, sizeof(log));
    assert_non_null(strstr(log, "still here"));
    sbx_teardown(&d);
}

/* The listener goes over the channel; the supervisor opens listed logs, refuses others. */
static void test_log_reopen_through_supervisor(void **state)
{
    struct sbx_dir d;
    char other[128], buf[64], path[256];
    int sv[2], listener = -1, status;
    char byte;
    pid_t pid;

    (void)state;
    sbx_setup(&d);
    snprintf(other, sizeof(other), "%s/other.txt", d.dir);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        sbx_enter_worker(&d, sv[1]);
        int fd = open(d.access, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "reopened\n", 9) != 9)
            _exit(1);
        close(fd);
        if (open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0 || errno != EACCES)
            _exit(2);
        _exit(0);
    }
    close(sv[1]);
    struct pollfd p = { .fd = sv[0], .events = POLLIN };
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(sandbox_channel_read(sv[0], &listener, &byte), 1);
    assert_int_equal(byte, SANDBOX_LISTENER_MSG);
    assert_true(listener >= 0);

    struct sandbox_notify_files files = { .paths = { d.log, d.access } };
    enum sandbox_notify_result want[] = { SANDBOX_NOTIFY_OPENED, SANDBOX_NOTIFY_REFUSED };
    for (size_t i = 0; i < 2; i++) {
        p = (struct pollfd){ .fd = listener, .events = POLLIN };
        assert_int_equal(poll(&p, 1, 5000), 1);
        assert_int_equal(sandbox_notify_answer(listener, &files, path, sizeof(path)), want[i]);
        assert_string_equal(path, i == 0 ? d.access : other);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child status 0x%x", (unsigned)status);
    sbx_read(d.access, buf, sizeof(buf));
    assert_string_equal(buf, "reopened\n");
    assert_int_equal(access(other, F_OK), -1);
    close(listener);
    close(sv[0]);
    sbx_teardown(&d);
}

static void *sbx_thread(void *arg)
{
    return arg;
}

/* labmon: writes files and starts its reader thread; no exec, no fork. */
static void test_labmon_sandbox(void **state)
{
    struct sbx_dir d;
    int status;

    (void)state;
    sbx_setup(&d);
    for (int forbidden = 0; forbidden < 3; forbidden++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char err[256];
            pthread_t t;
            void *ret = NULL;
            if (sandbox_labmon_enter(err, sizeof(err)) < 0)
                _exit(90);
            if (forbidden == 1)
                sbx_try_execve();
            if (forbidden == 2)
                fork();
            FILE *f = fopen(d.log, "wx");
            if (f == NULL || fputs("capture\n", f) < 0 || fclose(f) != 0)
                _exit(1);
            if (pthread_create(&t, NULL, sbx_thread, &d) != 0 || pthread_join(t, &ret) != 0 ||
                ret != &d)
                _exit(2);
            _exit(forbidden ? 91 : 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (forbidden && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS))
            fail_msg("labmon case %d: status 0x%x, want SIGSYS", forbidden, (unsigned)status);
        if (!forbidden && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            fail_msg("labmon: status 0x%x", (unsigned)status);
    }
    sbx_teardown(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forbidden_calls_end_with_sigsys),
        cmocka_unit_test(test_landlock_refuses_outside_root),
        cmocka_unit_test(test_worker_calls_still_work),
        cmocka_unit_test(test_log_reopen_through_supervisor),
        cmocka_unit_test(test_labmon_sandbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
