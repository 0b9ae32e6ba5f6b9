/* The labd commands: start (daemonize), run, stop, reload, status. Each returns the exit status. */
#ifndef LABD_CTL_H
#define LABD_CTL_H

#include <stdio.h>

#include "master/cli.h"
#include "shared/config.h"

/* Exit statuses of the labd command (LSB for status: 3 = not running). */
enum ctl_exit {
    CTL_OK = 0,
    CTL_FAIL = 1,
    CTL_USAGE = 2,
    CTL_NOT_RUNNING = 3,
};

enum ctl_exit ctl_start(const struct labd_config *c, const struct cli *cli, const char *cwd);
enum ctl_exit ctl_run(const struct labd_config *c, const struct cli *cli, const char *cwd);
enum ctl_exit ctl_stop(const struct labd_config *c, int fast);
enum ctl_exit ctl_reload(const struct labd_config *c);
enum ctl_exit ctl_status(const struct labd_config *c, FILE *out);

#endif
