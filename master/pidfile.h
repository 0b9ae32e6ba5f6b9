/*
 * The pid file, locked with fcntl for as long as the master lives.
 *
 * A lock held means a live server (its pid is the lock owner); a file
 * without a lock is stale and is simply taken over.
 */
#ifndef LABD_PIDFILE_H
#define LABD_PIDFILE_H

#include <sys/types.h>

#define PIDFILE_NAME "labd.pid"

enum pidfile_result {
    PIDFILE_LOCKED, /* ours: *fd holds the lock */
    PIDFILE_HELD,   /* a live process holds the lock: its pid in *owner */
    PIDFILE_ERROR,  /* errno says why */
};

/*
 * Lock path and write our pid into it. On PIDFILE_LOCKED, keep *fd open:
 * closing any descriptor of the file drops the lock.
 */
enum pidfile_result pidfile_acquire(const char *path, int *fd, pid_t *owner);

/* The pid of the live server holding path's lock, 0 if none (stale or absent), -1 on error. */
pid_t pidfile_owner(const char *path);

#endif
