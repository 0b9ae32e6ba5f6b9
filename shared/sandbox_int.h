/*
 * Inside the sandbox module: what sandbox.c (common parts), sandbox_worker.c,
 * sandbox_labmon.c and sandbox_notify.c share. Other modules use sandbox.h.
 */
#ifndef LABD_SANDBOX_INT_H
#define LABD_SANDBOX_INT_H

#include <seccomp.h>
#include <stddef.h>

#include "shared/sandbox.h"

/* Built with AddressSanitizer (gcc and clang spell it differently). */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

/*
 * Get ready to report a forbidden call: resolve every system call's name
 * now (the SIGSYS handler may not allocate) and install the handler. The
 * line goes to fd; stamp: in the error log's format (date, level, pid),
 * else "WHO: ..." as a command-line tool's message. Returns 0, or -1.
 */
int sandbox_report_setup(int fd, int stamp, const char *who);

/*
 * A filter whose default is to trap (the SIGSYS handler reports and ends the
 * process), with the calls every confined process makes: memory without
 * PROT_EXEC, signals to itself only, exit. Returns NULL with errno on failure.
 */
scmp_filter_ctx sandbox_filter_new(void);

/* libseccomp answers 0 or -errno: make that 0, or -1 with errno. */
int sandbox_rc(int rc);

#define SANDBOX_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A process's allow-list: calls with any arguments, and the ioctl and fcntl commands it uses. */
struct sandbox_list {
    const int *calls;
    size_t ncalls;
    const unsigned long *ioctls;
    size_t nioctls;
    const unsigned long *fcntls;
    size_t nfcntls;
};

/* Add the whole list to ctx. Returns 0, or -1 with errno (so do the others below). */
int sandbox_allow_list(scmp_filter_ctx ctx, const struct sandbox_list *l);

/* A filter that could not be built: release it, keep errno, return NULL. */
scmp_filter_ctx sandbox_filter_drop(scmp_filter_ctx ctx);

/* Allow each of the n calls in nrs without looking at the arguments. Returns 0, or -1. */
int sandbox_allow(scmp_filter_ctx ctx, const int *nrs, size_t n);

/* Allow call nr only when (argument arg & mask) == want. Returns 0, or -1. */
int sandbox_allow_masked(scmp_filter_ctx ctx, int nr, unsigned arg, unsigned long mask,
                         unsigned long want);

/* Allow call nr only when argument arg is one of the n values. Returns 0, or -1. */
int sandbox_allow_values(scmp_filter_ctx ctx, int nr, unsigned arg, const unsigned long *vals,
                         size_t n);

/* Allow nr when its second argument is a1 and its third is a2. */
int sandbox_allow_pair(scmp_filter_ctx ctx, int nr, unsigned long a1, unsigned long a2);

/* Send the seccomp listener fd over channel_fd (one SANDBOX_LISTENER_MSG). Returns 0, or -1. */
int sandbox_channel_send(int channel_fd, int fd);

/* prctl(PR_SET_NO_NEW_PRIVS): no set-uid or file capability gains from here on. */
int sandbox_no_new_privs(void);

#endif
