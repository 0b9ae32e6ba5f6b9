/*
 * The pid file, locked with fcntl for as long as the master lives: a lock
 * held means a live server (its pid is the lock owner), a file without a
 * lock is stale and is simply taken over.
 */
#ifndef LABD_PIDFILE_H
#define LABD_PIDFILE_H

#include <sys/types.h>

#define PIDFILE_NAME "labd.pid"

/*
 * Lock path and write our pid into it. Returns the open descriptor (keep it
 * open: closing any descriptor of the file drops the lock), -1 with errno
 * set on error, or -2 with *owner set when another process holds the lock.
 */
int pidfile_acquire(const char *path, pid_t *owner);

/* The pid of the live server holding path's lock, 0 if none (stale or absent), -1 on error. */
pid_t pidfile_owner(const char *path);

#endif
