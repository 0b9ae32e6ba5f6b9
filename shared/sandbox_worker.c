/*
 * The labd worker's sandbox: Landlock limits it to reading beneath the
 * document root, and the seccomp filter to the calls its event loop makes.
 */
#include "shared/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shared/log.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define SANDBOX_LL_FS_ABI1   ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define SANDBOX_LL_NET_TCP   3ULL               /* BIND_TCP | CONNECT_TCP (ABI 4) */
#define SANDBOX_LL_SCOPE_ALL 3ULL               /* ABSTRACT_UNIX_SOCKET | SIGNAL (ABI 6) */

/*
 * What a worker calls once it serves, found with strace -f over the e2e
 * suite's traffic and checked against worker/ (labd.8, SANDBOX, says how):
 * the event loop (epoll, accept4, read, sendmsg, sendfile, pread64,
 * shutdown, close, sched_yield; send, that is sendto, for "100 Continue"),
 * files beneath the root (openat2 RESOLVE_BENEATH; fstat, and for directory
 * listings getdents64, memfd_create and dup), the local address of a
 * connection on a wildcard listener (getsockname), the signalfd and the logs
 * (read, write; dup2 when the error log is reopened). Arguments are checked
 * below for openat, fcntl, ioctl and setsockopt.
 */
static const int sandbox_worker_calls[] = {
    SCMP_SYS(read),        SCMP_SYS(write),       SCMP_SYS(close),        SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),   SCMP_SYS(accept4),      SCMP_SYS(sendmsg),
    SCMP_SYS(sendfile),    SCMP_SYS(sendto),      SCMP_SYS(pread64),      SCMP_SYS(shutdown),
    SCMP_SYS(getsockname), SCMP_SYS(sched_yield), SCMP_SYS(openat2),      SCMP_SYS(newfstatat),
    SCMP_SYS(fstat),       SCMP_SYS(getdents64),  SCMP_SYS(memfd_create), SCMP_SYS(dup),
    SCMP_SYS(dup2),        SCMP_SYS(dup3),
};

/* fdopen and fdopendir (listings); FIONREAD before a lingering close. */
static const unsigned long sandbox_worker_fcntls[] = { F_GETFL, F_SETFD };
static const unsigned long sandbox_worker_ioctls[] = { FIONREAD };

/* Set by sandbox_worker_prepare, used up by sandbox_worker_enter. */
static struct {
    int prepared;
    int root_fd;    /* O_PATH: the Landlock rule's anchor */
    int proc_fd;    /* ASan builds: /proc, which LeakSanitizer reads at exit; else -1 */
    int channel_fd; /* to the master, or -1 */
} sandbox_worker = { 0, -1, -1, -1 };

int sandbox_worker_prepare(const struct sandbox_worker_plan *plan, char *err, size_t errlen)
{
    sandbox_worker.root_fd = open(plan->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (sandbox_worker.root_fd < 0) {
        snprintf(err, errlen, "cannot open document root %s: %s", plan->root, strerror(errno));
        return -1;
    }
#ifdef SANDBOX_ASAN
    sandbox_worker.proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
#endif
    sandbox_worker.channel_fd = plan->channel_fd;
    sandbox_worker.prepared = 1;
    return 0;
}

/*
 * Landlock: every access right this kernel knows is handled (refused), and
 * reading files and directories beneath the root is the one rule; TCP bind
 * and connect and, from ABI 6, signals and abstract sockets outside the
 * worker are refused too. Returns 0, or -1 with errno.
 */
static int sandbox_worker_landlock(int abi)
{
    struct {
        uint64_t fs, net, scoped;
    } attr = { SANDBOX_LL_FS_ABI1, 0, 0 };
    size_t size = sizeof(attr.fs);
    struct landlock_path_beneath_attr rule = {
        .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
        .parent_fd = sandbox_worker.root_fd,
    };
    struct landlock_path_beneath_attr proc = rule;
    int rs, rc = -1;

    if (abi >= 2)
        attr.fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        attr.fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 4) {
        attr.net = SANDBOX_LL_NET_TCP;
        size = 2 * sizeof(uint64_t);
    }
    if (abi >= 5)
        attr.fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    if (abi >= 6) {
        attr.scoped = SANDBOX_LL_SCOPE_ALL;
        size = sizeof(attr);
    }
    rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0)
        return -1;
    proc.parent_fd = sandbox_worker.proc_fd;
    if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0 &&
        (proc.parent_fd < 0 ||
         syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &proc, 0) == 0) &&
        syscall(SYS_landlock_restrict_self, rs, 0) == 0)
        rc = 0;
    int saved = errno;
    close(rs);
    errno = saved;
    return rc;
}

/* setsockopt(level, name) only: SO_LINGER resets a stalled reader. */
static int sandbox_worker_sockopt(scmp_filter_ctx ctx, int level, int name)
{
    return sandbox_allow_pair(ctx, SCMP_SYS(setsockopt), (unsigned long)level, (unsigned long)name);
}

/*
 * The worker's filter. Opens by path are read-only; a write open (a log
 * reopen on USR1) goes to the master when there is a channel, else fails
 * with EACCES. No socket, no exec, no fork, no ptrace: the default traps.
 */
static scmp_filter_ctx sandbox_worker_filter(int supervised)
{
    scmp_filter_ctx ctx = sandbox_filter_new();
    const unsigned long rdonly_mask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
    struct scmp_arg_cmp wr = {
        .arg = 2, .op = SCMP_CMP_MASKED_EQ, .datum_a = O_ACCMODE, .datum_b = O_WRONLY
    };
    uint32_t wr_action = supervised ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EACCES);
    static const struct sandbox_list list = {
        sandbox_worker_calls,  SANDBOX_NELEM(sandbox_worker_calls),
        sandbox_worker_ioctls, SANDBOX_NELEM(sandbox_worker_ioctls),
        sandbox_worker_fcntls, SANDBOX_NELEM(sandbox_worker_fcntls),
    };

    if (ctx == NULL)
        return NULL;
    if (sandbox_allow_list(ctx, &list) < 0 ||
        sandbox_worker_sockopt(ctx, SOL_SOCKET, SO_LINGER) < 0 ||
        sandbox_worker_sockopt(ctx, IPPROTO_TCP, TCP_NODELAY) < 0 ||
        sandbox_allow_masked(ctx, SCMP_SYS(openat), 2, rdonly_mask, 0) < 0 ||
        sandbox_rc(seccomp_rule_add_array(ctx, wr_action, SCMP_SYS(openat), 1, &wr)) < 0)
        return sandbox_filter_drop(ctx);
    return ctx;
}

int sandbox_can_supervise(void)
{
    /* Level 5: the seccomp() call with user notification (Linux 5.0; not under valgrind). */
    return seccomp_api_get() >= 5;
}

int sandbox_worker_enter(void)
{
    scmp_filter_ctx ctx = NULL;
    int abi, listener = -1, rc = -1;
    int supervised = sandbox_worker.channel_fd >= 0 && sandbox_can_supervise();
    const char *what = "";

    if (!sandbox_worker.prepared)
        return 0;
    if (sandbox_report_setup(log_fd(), 1, "worker") < 0) {
        what = "SIGSYS handler";
        goto done;
    }
    ctx = sandbox_worker_filter(supervised);
    if (ctx == NULL) {
        what = "seccomp filter";
        goto done;
    }
    if (sandbox_no_new_privs() < 0) {
        what = "no_new_privs";
        goto done;
    }
    /* Without Landlock the master has said so once; the worker goes on without. */
    abi = sandbox_landlock_abi();
    if (abi > 0 && sandbox_worker_landlock(abi) < 0) {
        what = "Landlock";
        goto done;
    }
    if (sandbox_rc(seccomp_load(ctx)) < 0) {
        what = "seccomp";
        goto done;
    }
    if (supervised) {
        listener = seccomp_notify_fd(ctx);
        /* The worker must not keep its own listener: it could answer itself. */
        if (sandbox_rc(listener) < 0 ||
            sandbox_channel_send(sandbox_worker.channel_fd, listener) < 0) {
            what = "seccomp listener";
            goto done;
        }
    }
    rc = 0;
done:
    if (rc < 0)
        log_error("worker: cannot enter the sandbox (%s): %s", what, strerror(errno));
    if (listener >= 0)
        close(listener);
    if (ctx != NULL)
        seccomp_release(ctx);
    close(sandbox_worker.root_fd);
    sandbox_worker.root_fd = -1;
    if (sandbox_worker.proc_fd >= 0)
        close(sandbox_worker.proc_fd);
    sandbox_worker.proc_fd = -1;
    sandbox_worker.prepared = 0;
    return rc;
}
