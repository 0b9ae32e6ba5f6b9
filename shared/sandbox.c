/*
 * The sandbox's common parts: the report of a forbidden system call (a SIGSYS
 * handler that may only use async-signal-safe calls), and filter building.
 */
#include "shared/sandbox_int.h"

#include <errno.h>
#include <linux/landlock.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SANDBOX_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef SANDBOX_VALGRIND
#define SANDBOX_VALGRIND() 0
#endif

#define SANDBOX_NR_MAX     512  /* x86-64 and arm64 numbers in use stay below this */
#define SANDBOX_NAME_POOL  8192 /* every name, NUL-separated (about 5 KB today) */
#define SANDBOX_LINE_MAX   256
#define SANDBOX_SI_SECCOMP 1 /* si_code of a SIGSYS from a seccomp filter (SYS_SECCOMP) */

/*
 * Calls every confined process may make: memory (never executable: PROT_EXEC
 * is refused below), the clock where the vDSO falls back to a real call,
 * signals to itself only (raise: getpid, gettid, rt_sigprocmask, tgkill),
 * random bytes (the C library's and the sanitizers' allocators seed from
 * getrandom), and the way out.
 */
static const int sandbox_common_calls[] = {
    SCMP_SYS(brk),     SCMP_SYS(munmap),        SCMP_SYS(mremap),
    SCMP_SYS(madvise), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
    SCMP_SYS(time),    SCMP_SYS(rt_sigreturn),  SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(getpid),  SCMP_SYS(gettid),        SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),    SCMP_SYS(exit_group),    SCMP_SYS(getrandom),
};

/*
 * valgrind runs the program on a synthetic CPU inside one process and its
 * own calls pass the filter too: its memory is mapped executable, it polls
 * for signals (rt_sigtimedwait) and at exit removes its vgdb FIFOs (unlink).
 * RUNNING_ON_VALGRIND is a no-op instruction sequence natively (0), so this
 * cannot be turned on from outside valgrind.
 */
static const int sandbox_valgrind_calls[] = {
    SCMP_SYS(rt_sigtimedwait), SCMP_SYS(unlink), SCMP_SYS(futex), /* its threads' lock at exit */
    SCMP_SYS(prlimit64), /* RLIMIT_CORE, as the program ends */
};

#ifdef SANDBOX_ASAN
/*
 * ASan builds only (the test suite's second build): the sanitizer's runtime
 * makes calls of its own -- its alternate signal stack, thread start-up
 * (sched_getaffinity), reading /proc (open, readlink, getdents, lseek),
 * writing reports (writev), and LeakSanitizer at exit, which stops the
 * process's threads from a helper thread (prctl, getppid, wait4,
 * rt_sigaction, and clone and ptrace restricted below).
 */
static const int sandbox_asan_calls[] = {
    SCMP_SYS(sigaltstack), SCMP_SYS(sched_getaffinity), SCMP_SYS(futex), SCMP_SYS(open),
    SCMP_SYS(readlink),    SCMP_SYS(getdents),          SCMP_SYS(lseek), SCMP_SYS(writev),
    SCMP_SYS(prctl),       SCMP_SYS(getppid),           SCMP_SYS(wait4), SCMP_SYS(rt_sigaction),
};

/* The helper shares memory (CLONE_VM: no fork) and only stops and reads threads. */
static const unsigned long sandbox_asan_ptrace[] = {
    PTRACE_ATTACH,    PTRACE_DETACH,   PTRACE_CONT,      PTRACE_GETREGS, PTRACE_GETREGSET,
    PTRACE_GETFPREGS, PTRACE_PEEKUSER, PTRACE_INTERRUPT, PTRACE_SEIZE,
};

static int sandbox_asan_rules(scmp_filter_ctx ctx)
{
    if (sandbox_allow(ctx, sandbox_asan_calls, SANDBOX_NELEM(sandbox_asan_calls)) < 0 ||
        sandbox_allow_masked(ctx, SCMP_SYS(clone), 0, CLONE_VM, CLONE_VM) < 0 ||
        sandbox_allow_values(ctx, SCMP_SYS(ptrace), 0, sandbox_asan_ptrace,
                             SANDBOX_NELEM(sandbox_asan_ptrace)) < 0)
        return -1;
    return 0;
}
#endif

/* Names by number, resolved before the filter is loaded. */
static uint16_t sandbox_name_at[SANDBOX_NR_MAX]; /* offset in the pool; 0: unknown */
static char sandbox_name_pool[SANDBOX_NAME_POOL];

/* What the SIGSYS handler writes, prepared by sandbox_report_setup. */
static struct {
    int fd;
    int stamp;
    long gmtoff;   /* local time minus UTC, seconds (at set-up) */
    char head[96]; /* "[error] PID: worker: system call " */
} sandbox_report;

struct sandbox_buf {
    char *p;
    size_t len, cap;
};

static void sandbox_put(struct sandbox_buf *b, const char *s)
{
    while (*s && b->len < b->cap)
        b->p[b->len++] = *s++;
}

/* Decimal, at least width digits (zero-padded). */
static void sandbox_put_num(struct sandbox_buf *b, long long v, int width)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0 && n < (int)sizeof(tmp));
    while (n < width && n < (int)sizeof(tmp))
        tmp[n++] = '0';
    if (v < 0 && b->len < b->cap)
        b->p[b->len++] = '-';
    while (n > 0 && b->len < b->cap)
        b->p[b->len++] = tmp[--n];
}

/*
 * "YYYY-MM-DD HH:MM:SS " for t seconds since the epoch, by arithmetic alone:
 * localtime_r may take locks and read files, which a signal handler must
 * not. Days count from 0000-03-01 so that the leap day ends each year.
 */
static void sandbox_put_stamp(struct sandbox_buf *b, int64_t t)
{
    int64_t days = t / 86400, secs = t % 86400;

    if (secs < 0) {
        secs += 86400;
        days--;
    }
    days += 719468; /* 1970-01-01 counted from 0000-03-01 */
    int64_t era = (days >= 0 ? days : days - 146096) / 146097; /* 400-year cycles */
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;
    int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
    int64_t year = year_of_era + era * 400 + (month <= 2);

    sandbox_put_num(b, year, 4);
    sandbox_put(b, "-");
    sandbox_put_num(b, month, 2);
    sandbox_put(b, "-");
    sandbox_put_num(b, day, 2);
    sandbox_put(b, " ");
    sandbox_put_num(b, secs / 3600, 2);
    sandbox_put(b, ":");
    sandbox_put_num(b, secs / 60 % 60, 2);
    sandbox_put(b, ":");
    sandbox_put_num(b, secs % 60, 2);
    sandbox_put(b, " ");
}

/*
 * A call outside the allow-list: one line naming it, then the default action
 * of SIGSYS (SA_RESETHAND restored it, SA_NODEFER left it unblocked), so the
 * process ends "killed by signal 31" as after any crash.
 */
static void sandbox_on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    char line[SANDBOX_LINE_MAX];
    struct sandbox_buf b = { line, 0, sizeof(line) - 1 };
    int nr = si->si_syscall;

    (void)uctx;
    if (si->si_code != SANDBOX_SI_SECCOMP) { /* sent by a process: no call to name */
        raise(sig);
        return;
    }
    if (sandbox_report.stamp)
        sandbox_put_stamp(&b, clock_real_sec() + sandbox_report.gmtoff);
    sandbox_put(&b, sandbox_report.head);
    if (nr >= 0 && nr < SANDBOX_NR_MAX && sandbox_name_at[nr] != 0)
        sandbox_put(&b, sandbox_name_pool + sandbox_name_at[nr]);
    else
        sandbox_put(&b, "?");
    sandbox_put(&b, " (");
    sandbox_put_num(&b, nr, 1);
    sandbox_put(&b, ") is not in the sandbox's allow-list (seccomp); ending with SIGSYS");
    line[b.len++] = '\n';
    if (write(sandbox_report.fd, line, b.len) < 0) {
        /* Nowhere else to say it; the signal still tells the master. */
    }
    raise(sig);
}

static void sandbox_names_load(void)
{
    size_t used = 1; /* offset 0 means "no name" */

    for (int nr = 0; nr < SANDBOX_NR_MAX; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        size_t len = name ? strlen(name) + 1 : 0;

        sandbox_name_at[nr] = 0;
        if (name != NULL && used + len <= sizeof(sandbox_name_pool)) {
            memcpy(sandbox_name_pool + used, name, len);
            sandbox_name_at[nr] = (uint16_t)used;
            used += len;
        }
        free(name);
    }
}

int sandbox_report_setup(int fd, int stamp, const char *who)
{
    struct sigaction sa;
    time_t now = (time_t)clock_real_sec();
    struct tm tm;

    sandbox_names_load();
    sandbox_report.fd = fd;
    sandbox_report.stamp = stamp;
    sandbox_report.gmtoff = localtime_r(&now, &tm) ? tm.tm_gmtoff : 0;
    if (stamp)
        snprintf(sandbox_report.head, sizeof(sandbox_report.head), "[error] %d: %s: system call ",
                 (int)getpid(), who);
    else
        snprintf(sandbox_report.head, sizeof(sandbox_report.head), "%s: system call ", who);
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = sandbox_on_sigsys;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSYS, &sa, NULL);
}

int sandbox_rc(int rc)
{
    if (rc >= 0)
        return 0;
    errno = -rc;
    return -1;
}

int sandbox_allow(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (sandbox_rc(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0)) < 0)
            return -1;
    }
    return 0;
}

int sandbox_allow_list(scmp_filter_ctx ctx, const struct sandbox_list *l)
{
    if (sandbox_allow(ctx, l->calls, l->ncalls) < 0 ||
        sandbox_allow_values(ctx, SCMP_SYS(ioctl), 1, l->ioctls, l->nioctls) < 0 ||
        sandbox_allow_values(ctx, SCMP_SYS(fcntl), 1, l->fcntls, l->nfcntls) < 0)
        return -1;
    return 0;
}

int sandbox_allow_masked(scmp_filter_ctx ctx, int nr, unsigned arg, unsigned long mask,
                         unsigned long want)
{
    struct scmp_arg_cmp cmp = {
        .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = want
    };

    return sandbox_rc(seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp));
}

int sandbox_allow_values(scmp_filter_ctx ctx, int nr, unsigned arg, const unsigned long *vals,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct scmp_arg_cmp cmp = { .arg = arg, .op = SCMP_CMP_EQ, .datum_a = vals[i] };
        if (sandbox_rc(seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp)) < 0)
            return -1;
    }
    return 0;
}

int sandbox_allow_pair(scmp_filter_ctx ctx, int nr, unsigned long a1, unsigned long a2)
{
    struct scmp_arg_cmp cmp[2] = {
        { .arg = 1, .op = SCMP_CMP_EQ, .datum_a = a1, .datum_b = 0 },
        { .arg = 2, .op = SCMP_CMP_EQ, .datum_a = a2, .datum_b = 0 },
    };

    return sandbox_rc(seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 2, cmp));
}

scmp_filter_ctx sandbox_filter_drop(scmp_filter_ctx ctx)
{
    int err = errno;

    seccomp_release(ctx);
    errno = err;
    return NULL;
}

scmp_filter_ctx sandbox_filter_new(void)
{
#ifdef SANDBOX_LOG_ONLY
    /* A developer's build (labd.8, SANDBOX): calls outside the lists go
     * through and the kernel logs them (dmesg, audit type 1326). */
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_LOG);
#else
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
#endif
    unsigned long self = (unsigned long)getpid();

    if (ctx == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    /* Under valgrind PROT_EXEC is allowed: the mask below becomes 0. */
    unsigned long exec = SANDBOX_VALGRIND() ? 0 : PROT_EXEC;
    if (sandbox_allow(ctx, sandbox_common_calls, SANDBOX_NELEM(sandbox_common_calls)) < 0 ||
        sandbox_allow_masked(ctx, SCMP_SYS(mmap), 2, exec, 0) < 0 ||
        sandbox_allow_masked(ctx, SCMP_SYS(mprotect), 2, exec, 0) < 0 ||
        sandbox_allow_values(ctx, SCMP_SYS(tgkill), 0, &self, 1) < 0 ||
        (SANDBOX_VALGRIND() &&
         sandbox_allow(ctx, sandbox_valgrind_calls, SANDBOX_NELEM(sandbox_valgrind_calls)) < 0)
#ifdef SANDBOX_ASAN
        || sandbox_asan_rules(ctx) < 0
#endif
    )
        return sandbox_filter_drop(ctx);
    return ctx;
}

int sandbox_no_new_privs(void)
{
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int sandbox_landlock_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

    return v < 0 ? 0 : (int)v;
}
