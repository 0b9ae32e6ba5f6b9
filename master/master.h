/*
 * The master process: owns the pid file, the listening sockets and the
 * scoreboard, pre-forks the workers and supervises them.
 *
 * Signals are blocked and read from a signalfd by the loop, which does the
 * work (as nginx does its work in the loop, not in handlers):
 *   TERM, INT  fast stop         QUIT  graceful stop (bounded by grace)
 *   HUP        reload            USR1  reopen the error log, forward to workers
 */
#ifndef LABD_MASTER_H
#define LABD_MASTER_H

#include "master/cli.h"
#include "master/ctl.h"
#include "shared/config.h"

struct master_start {
    const struct cli *cli; /* kept to rebuild the configuration on reload */
    char cwd[PATH_MAX];    /* where relative paths of the command line point */
    int lifeline_fd;       /* `start`: write a zero byte here once serving; -1 for `run` */
    int log_to_stderr;     /* `run` without an explicit error log */
};

/*
 * Run the master until it is stopped; returns the exit status. Start-up
 * errors are one line on stderr (log_die()) and exit status 1.
 */
enum ctl_exit master_main(const struct labd_config *cfg, const struct master_start *ms);

#endif
