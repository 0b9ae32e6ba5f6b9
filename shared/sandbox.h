/*
 * Confinement after set-up (issue 14): no_new_privs, a seccomp allow-list of
 * the system calls the process makes and, for labd workers, Landlock.
 *
 * A labd worker is confined in two steps. In the child, still root,
 * sandbox_worker_prepare() opens what the sandbox needs (the document root,
 * anchor of the Landlock rule); after the worker's own set-up and user
 * switch, sandbox_worker_enter() builds and applies Landlock and the filter.
 * A call outside the list ends the process with SIGSYS after one error line
 * naming the call (labmon: on stderr; a worker: in the error log).
 *
 * The worker's only path-based writes are its log reopens on USR1: those
 * open() calls are handed to the master (a seccomp user notification); the
 * master opens the file itself and answers with the descriptor
 * (sandbox_notify_answer), so the worker needs no write access by path.
 */
#ifndef LABD_SANDBOX_H
#define LABD_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* The one byte that carries the worker's seccomp listener to the master. */
#define SANDBOX_LISTENER_MSG 'S'

/* What sandbox_worker_prepare needs. */
struct sandbox_worker_plan {
    const char *root; /* the document root: the only tree the worker may read by path */
    /*
     * A SOCK_SEQPACKET socket to the master: the seccomp listener goes there
     * (one SANDBOX_LISTENER_MSG with the descriptor). -1: no supervisor, a
     * write open fails with EACCES.
     */
    int channel_fd;
};

/*
 * Landlock ABI version of the running kernel (7 on the project's machines),
 * or 0 without Landlock (kernel too old, Landlock not enabled, or valgrind).
 */
int sandbox_landlock_abi(void);

/*
 * 1 when write opens can be handed to a supervisor (seccomp user
 * notification: Linux 5.0, and 5.14 for the answer labd gives); 0 where the
 * kernel lacks it or under valgrind, which does not pass seccomp() through:
 * there a worker's log reopen fails.
 */
int sandbox_can_supervise(void);

/*
 * In the worker process before it gives up root. Returns 0, or -1 with a
 * reason in err.
 */
int sandbox_worker_prepare(const struct sandbox_worker_plan *plan, char *err, size_t errlen);

/*
 * After the worker's set-up, before it serves: Landlock (where the kernel has
 * it), no_new_privs and the seccomp filter. Without a prepared plan (a worker
 * not started by the master, as in tests) it does nothing. Returns 0, or -1
 * (logged).
 */
int sandbox_worker_enter(void);

/*
 * labmon, right after it opened its capture and dropped privileges:
 * no_new_privs and labmon's seccomp allow-list. Returns 0, or -1 with a
 * reason in err.
 */
int sandbox_labmon_enter(char *err, size_t errlen);

/* How sandbox_notify_answer handled one request. */
enum sandbox_notify_result {
    SANDBOX_NOTIFY_OPENED,  /* a listed file: opened and given to the process */
    SANDBOX_NOTIFY_REFUSED, /* another path, or the open failed: errno is the answer */
    SANDBOX_NOTIFY_GONE,    /* the process or its call went away meanwhile */
    SANDBOX_NOTIFY_ERROR,   /* the listener failed (errno set) */
};

/* The files a worker may reopen (its error and access logs), by absolute path. */
struct sandbox_notify_files {
    const char *paths[2]; /* NULL: unused */
};

/*
 * Master side: answer one pending open() on listener. A path in files is
 * opened for appending (created 0644 if missing) and handed over as the
 * call's result; anything else is refused. *path_out (size pathlen, may be
 * NULL) receives the path the process asked for, for the log.
 */
enum sandbox_notify_result sandbox_notify_answer(int listener,
                                                 const struct sandbox_notify_files *files,
                                                 char *path_out, size_t pathlen);

/*
 * Master side: read one message from a worker's channel. Returns 1 and
 * *fd >= 0 for the seccomp listener, 1 and *fd = -1 with *byte for any other
 * one-byte message, 0 at end of file, -1 on error (errno).
 */
int sandbox_channel_read(int channel_fd, int *fd, char *byte);

#endif
