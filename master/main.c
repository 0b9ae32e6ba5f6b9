/* labd: the command line entry point; see labd(8). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "master/cli.h"
#include "master/ctl.h"
#include "master/proctitle.h"
#include "shared/config.h"
#include "shared/log.h"

int main(int argc, char **argv)
{
    /* Static: large (a value per option), and the master uses cli until it exits. */
    static struct cli cli;
    static struct labd_config cfg;
    char err[2048];
    char cwd[PATH_MAX];

    log_set_ident("labd");
    if (cli_parse(argc, argv, &cli, err, sizeof(err)) < 0) {
        fprintf(stderr, "labd: %s (see labd --help)\n", err);
        return CTL_USAGE;
    }
    if (cli.help) {
        cli_usage(stdout);
        return CTL_OK;
    }
    if (cli.version) {
        printf("labd %s\n", LABD_VERSION);
        return CTL_OK;
    }
    if (cli.command == CLI_NONE) {
        fprintf(stderr, "labd: no command given: start, stop, reload, status or run (see labd "
                        "--help)\n");
        return CTL_USAGE;
    }
    if (cli.fast && cli.command != CLI_STOP) {
        fprintf(stderr, "labd: --fast only goes with stop\n");
        return CTL_USAGE;
    }
    if (!getcwd(cwd, sizeof(cwd))) {
        fprintf(stderr, "labd: cannot get the current directory: %s\n", strerror(errno));
        return CTL_FAIL;
    }
    if (cli_config(&cli, cwd, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "labd: %s\n", err);
        return CTL_USAGE;
    }
    /* Everything from argv is copied by now; its memory becomes the process title. */
    proctitle_init(argc, argv);

    switch (cli.command) {
    case CLI_START:
        return ctl_start(&cfg, &cli, cwd);
    case CLI_RUN:
        return ctl_run(&cfg, &cli, cwd);
    case CLI_STOP:
        return ctl_stop(&cfg, cli.fast);
    case CLI_RELOAD:
        return ctl_reload(&cfg);
    case CLI_STATUS:
        return ctl_status(&cfg, stdout);
    default:
        return CTL_USAGE;
    }
}
