/*
 * labmon's sandbox: once the capture is open and privileges are dropped,
 * labmon reads packets, the terminal and files, writes its outputs and pcap
 * copies, and runs its reader thread; it never again creates a socket or a
 * process, nor runs a program.
 */
#include "shared/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <termios.h>
#include <unistd.h>

#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif

/*
 * Found with strace -f over labmon's e2e tests (live capture and TUI under
 * tmux with resizes and the `w` key, -r FILE, -r - with the reader thread,
 * --summary/--json/--events/--ladder, -w FILE, SIGTERM, the interface
 * deleted) and checked against monitor/ and libpcap's capture loop: files and
 * the terminal (openat with any flags, so -w, `w` and later writes work;
 * read, write, lseek, stat, access for terminfo), the capture (poll, recvfrom
 * for a ring-less socket; statistics and ring teardown at SOL_PACKET; when
 * the interface goes down, SO_ERROR, getsockname and SIOCGIFFLAGS), the UI
 * tick (timerfd), curses' signal handlers (rt_sigaction), the reader thread
 * (futex, rseq, robust list).
 */
static const int sandbox_labmon_calls[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(close),
    SCMP_SYS(openat),
    SCMP_SYS(lseek),
    SCMP_SYS(pread64),
    SCMP_SYS(newfstatat),
    SCMP_SYS(fstat),
    SCMP_SYS(statx),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(recvfrom),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(sched_yield),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(getsockname),
    SCMP_SYS(sysinfo), /* qsort() sizes its buffer by the machine's memory (--report) */
    SCMP_SYS(unlink),  /* a report that could not be written is removed */
    SCMP_SYS(unlinkat),
};

/* The terminal: curses saves, sets and restores its modes and asks for its size. */
static const unsigned long sandbox_labmon_ioctls[] = { TCGETS,     TCSETS,   TCSETSW,     TCSETSF,
                                                       TIOCGWINSZ, FIONREAD, SIOCGIFFLAGS };

static const unsigned long sandbox_labmon_fcntls[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD };

/*
 * Threads only: clone3 (whose flags a filter cannot see) answers ENOSYS, so
 * glibc falls back to clone, allowed with CLONE_THREAD; kill only probes
 * whether labd's master is alive (signal 0); socket options only at
 * SOL_PACKET, and SO_ERROR.
 */
static int sandbox_labmon_rules(scmp_filter_ctx ctx)
{
    static const unsigned long signal0 = 0, sol_packet = SOL_PACKET;
    static const struct sandbox_list list = {
        sandbox_labmon_calls,  SANDBOX_NELEM(sandbox_labmon_calls),
        sandbox_labmon_ioctls, SANDBOX_NELEM(sandbox_labmon_ioctls),
        sandbox_labmon_fcntls, SANDBOX_NELEM(sandbox_labmon_fcntls),
    };

    if (sandbox_allow_list(ctx, &list) < 0 ||
        sandbox_rc(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0 ||
        sandbox_allow_masked(ctx, SCMP_SYS(clone), 0, CLONE_THREAD, CLONE_THREAD) < 0 ||
        sandbox_allow_values(ctx, SCMP_SYS(kill), 1, &signal0, 1) < 0 ||
        sandbox_allow_values(ctx, SCMP_SYS(getsockopt), 1, &sol_packet, 1) < 0 ||
        sandbox_allow_pair(ctx, SCMP_SYS(getsockopt), SOL_SOCKET, SO_ERROR) < 0 ||
        sandbox_allow_values(ctx, SCMP_SYS(setsockopt), 1, &sol_packet, 1) < 0)
        return -1;
    return 0;
}

int sandbox_labmon_enter(char *err, size_t errlen)
{
    scmp_filter_ctx ctx = NULL;
    const char *what = NULL;

    if (sandbox_report_setup(STDERR_FILENO, 0, "labmon") < 0)
        what = "cannot set up the sandbox";
    else if ((ctx = sandbox_filter_new()) == NULL || sandbox_labmon_rules(ctx) < 0)
        what = "cannot build the seccomp filter";
    else if (sandbox_no_new_privs() < 0)
        what = "cannot set no_new_privs";
    else if (sandbox_rc(seccomp_load(ctx)) < 0)
        what = "cannot load the seccomp filter";
    if (what != NULL)
        snprintf(err, errlen, "%s: %s", what, strerror(errno));
    if (ctx != NULL)
        seccomp_release(ctx);
    return what != NULL ? -1 : 0;
}
