/* The labd commands: start (daemonize), run, stop, reload, status. Each returns the exit status. */
#ifndef LABD_CTL_H
#define LABD_CTL_H

#include <stdio.h>

#include "master/cli.h"
#include "shared/config.h"

/* Exit statuses (LSB for status: 3 = not running). */
#define CTL_OK          0
#define CTL_FAIL        1
#define CTL_USAGE       2
#define CTL_NOT_RUNNING 3

int ctl_start(const struct labd_config *c, const struct cli *cli, const char *cwd);
int ctl_run(const struct labd_config *c, const struct cli *cli, const char *cwd);
int ctl_stop(const struct labd_config *c, int fast);
int ctl_reload(const struct labd_config *c);
int ctl_status(const struct labd_config *c, FILE *out);

#endif
