/*
 * One worker process: accepts on the listening sockets it inherited from the
 * master and serves static files until told to stop.
 *
 * Signals a worker handles (nginx's convention):
 *   TERM, INT  stop now: close every connection and exit
 *   QUIT       graceful: stop accepting, close idle keep-alive connections
 *              at once, finish the requests and responses in progress
 *              (answered with "Connection: close"), then exit (the master
 *              enforces the grace period with SIGKILL)
 *   USR1       reopen the log files
 * The worker asks the kernel for SIGTERM if the master dies.
 */
#ifndef LABD_WORKER_H
#define LABD_WORKER_H

#include <sys/types.h>

#include "shared/config.h"
#include "shared/scoreboard.h"

#define WORKER_MAX_LISTEN 64 /* listening sockets one worker accepts on, at most */

struct worker_start {
    const struct labd_config *cfg;
    const int *listen_fds; /* its listening sockets (non-blocking): shared, or reuseport copies */
    const unsigned char *listen_own; /* per socket: 1 its own or shared, 0 another worker's */
    int nlisten;
    struct scoreboard *sb; /* mapped read-write; the worker owns slot `slot` */
    unsigned slot;
    unsigned number; /* N in the process title "labd: worker N" */
    int ready_fd;    /* write one byte here once accepting, then close; -1 if none */
    int switch_user; /* after opening its files, become uid/gid (no supplementary groups) */
    uid_t uid;
    gid_t gid;
};

/* Run the worker's event loop; returns the process exit status. */
int worker_main(const struct worker_start *ws);

#endif
