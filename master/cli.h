/*
 * The labd command line: "labd COMMAND [OPTIONS]". Parsing is pure (no I/O)
 * so it is unit-tested; cli_config turns the result into a configuration
 * (defaults, then the -c file, then the options, which win).
 */
#ifndef LABD_CLI_H
#define LABD_CLI_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "shared/config.h"

enum cli_command {
    CLI_NONE = 0,
    CLI_START,
    CLI_STOP,
    CLI_RELOAD,
    CLI_STATUS,
    CLI_RUN,
};

#define CLI_MAX_PAIRS 64
#define CLI_VALUE_MAX PATH_MAX

struct cli_pair {
    char key[32];
    char value[CLI_VALUE_MAX];
};

struct cli {
    enum cli_command command;
    int fast;    /* stop --fast */
    int help;    /* -h, --help */
    int version; /* -V, --version */
    char config_file[PATH_MAX];
    struct cli_pair pairs[CLI_MAX_PAIRS]; /* config options in command-line order */
    int npairs;
};

/* Parse argv (argv[0] is the program). Returns 0, or -1 with a one-line reason in err. */
int cli_parse(int argc, char *const argv[], struct cli *out, char *err, size_t errlen);

/*
 * Build the configuration: defaults, the config file (if any), the options;
 * --bind on the command line replaces the file's bind lines. Relative paths
 * are taken from cwd. Returns 0, or -1 with a reason in err.
 */
int cli_config(const struct cli *cli, const char *cwd, struct labd_config *c, char *err,
               size_t errlen);

/* The --help text. */
void cli_usage(FILE *f);

#endif
