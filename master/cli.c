/* The labd command line: commands, options named after config keys, usage text. */
#include "master/cli.h"

#include <stdio.h>
#include <string.h>

static const char *cli_commands[] = {
    [CLI_START] = "start",   [CLI_STOP] = "stop", [CLI_RELOAD] = "reload",
    [CLI_STATUS] = "status", [CLI_RUN] = "run",
};

static void cli_err(char *err, size_t errlen, const char *what, const char *arg)
{
    snprintf(err, errlen, "%s%s%s", what, arg ? " " : "", arg ? arg : "");
}

/* Whether the long option name (n bytes, '_' taken for '-') spells key k. */
static int cli_key_is(const char *name, size_t n, const char *k)
{
    size_t j;

    if (strlen(k) != n)
        return 0;
    for (j = 0; j < n; j++) {
        char ch = name[j] == '_' ? '-' : name[j];
        if (ch != k[j])
            return 0;
    }
    return 1;
}

/* The config key named by a long option ("--run-dir" or "--run_dir"), or NULL. */
static const char *cli_find_key(const char *name, size_t n)
{
    for (int i = 0; i < config_nkeys; i++) {
        if (cli_key_is(name, n, config_keys[i].name))
            return config_keys[i].name;
    }
    for (int i = 0; i < lab_opts_nkeys; i++) {
        if (cli_key_is(name, n, lab_opts_keys[i].name))
            return lab_opts_keys[i].name;
    }
    return NULL;
}

static int cli_add_pair(struct cli *out, const char *key, const char *value, char *err,
                        size_t errlen)
{
    if (out->npairs >= CLI_MAX_PAIRS) {
        cli_err(err, errlen, "too many options", NULL);
        return -1;
    }
    if (strlen(value) >= CLI_VALUE_MAX) {
        snprintf(err, errlen, "--%s: value too long", key);
        return -1;
    }
    snprintf(out->pairs[out->npairs].key, sizeof(out->pairs[0].key), "%s", key);
    snprintf(out->pairs[out->npairs].value, sizeof(out->pairs[0].value), "%s", value);
    out->npairs++;
    return 0;
}

/* A command word ("start"): at most one per command line. */
static int cli_command(struct cli *out, const char *a, char *err, size_t errlen)
{
    enum cli_command cmd = CLI_NONE;

    for (int k = CLI_START; k <= CLI_RUN; k++) {
        if (strcmp(a, cli_commands[k]) == 0)
            cmd = (enum cli_command)k;
    }
    if (cmd == CLI_NONE) {
        cli_err(err, errlen, "unknown command", a);
        return -1;
    }
    if (out->command != CLI_NONE) {
        cli_err(err, errlen, "more than one command:", a);
        return -1;
    }
    out->command = cmd;
    return 0;
}

/* An option's value: the text after '=' if given (inline), else the next argument, else NULL. */
static const char *cli_value(int argc, char *const argv[], int *i, const char *inline_value)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* The option argv[*i] (and its value, which may be the next argument: *i moves past it). */
static int cli_option(struct cli *out, int argc, char *const argv[], int *i, char *err,
                      size_t errlen)
{
    const char *a = argv[*i];

    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        out->help = 1;
        return 0;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
        out->version = 1;
        return 0;
    }
    if (strcmp(a, "--fast") == 0) {
        out->fast = 1;
        return 0;
    }
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
        const char *v = cli_value(argc, argv, i, strncmp(a, "--config=", 9) == 0 ? a + 9 : NULL);
        if (!v) {
            cli_err(err, errlen, "missing file after", a);
            return -1;
        }
        if (strlen(v) >= sizeof(out->config_file) || v[0] == '\0') {
            cli_err(err, errlen, "bad config file name:", v);
            return -1;
        }
        snprintf(out->config_file, sizeof(out->config_file), "%s", v);
        return 0;
    }
    if (a[1] != '-') {
        cli_err(err, errlen, "unknown option", a);
        return -1;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    const char *key = cli_find_key(name, eq ? (size_t)(eq - name) : strlen(name));
    if (!key) {
        cli_err(err, errlen, "unknown option", a);
        return -1;
    }
    /* A bare --lab switches it on: the next word is the command, not a value. */
    const char *value =
        strcmp(key, "lab") == 0 && !eq ? "on" : cli_value(argc, argv, i, eq ? eq + 1 : NULL);
    if (!value) {
        snprintf(err, errlen, "option --%s needs a value", key);
        return -1;
    }
    return cli_add_pair(out, key, value, err, errlen);
}

int cli_parse(int argc, char *const argv[], struct cli *out, char *err, size_t errlen)
{
    int only_args = 0;

    memset(out, 0, sizeof(*out));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc;

        if (only_args || a[0] != '-' || a[1] == '\0') {
            rc = cli_command(out, a, err, errlen);
        } else if (strcmp(a, "--") == 0) {
            only_args = 1;
            rc = 0;
        } else {
            rc = cli_option(out, argc, argv, &i, err, errlen);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

int cli_config(const struct cli *cli, const char *cwd, struct labd_config *c, char *err,
               size_t errlen)
{
    char why[1024];
    int cleared_binds = 0;

    config_defaults(c);
    if (cli->config_file[0]) {
        char path[PATH_MAX * 2];
        if (cli->config_file[0] == '/' || !cwd)
            snprintf(path, sizeof(path), "%s", cli->config_file);
        else
            snprintf(path, sizeof(path), "%s/%s", cwd, cli->config_file);
        if (config_load_file(c, path, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "config: %s", why);
            return -1;
        }
    }
    for (int i = 0; i < cli->npairs; i++) {
        const struct cli_pair *p = &cli->pairs[i];
        if (strcmp(p->key, "bind") == 0 && !cleared_binds) {
            c->nbinds = 0;
            cleared_binds = 1;
        }
        if (config_set(c, p->key, p->value, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "--%s", why);
            return -1;
        }
    }
    return config_finish(c, cwd, err, errlen);
}

/* One option of the --help text: "--name ARG" and its line of help. */
static void cli_usage_row(FILE *f, const char *name, const char *arg, const char *help)
{
    char opt[64];

    snprintf(opt, sizeof(opt), "--%s%s%s", name, arg[0] ? " " : "", arg);
    fprintf(f, "      %-28s%s\n", opt, help);
}

void cli_usage(FILE *f)
{
    fprintf(f, "Usage: labd COMMAND [OPTIONS]\n"
               "\n"
               "A pre-fork static web server for learning TCP and HTTP.\n"
               "\n"
               "Commands:\n"
               "  start          start the server in the background; returns once it serves\n"
               "  stop [--fast]  stop it (graceful: in-flight responses finish; --fast: now)\n"
               "  reload         re-read the config file and replace the workers\n"
               "  status         pid, uptime, address, root and per-worker counters\n"
               "  run            run in the foreground (for debugging and supervisors)\n"
               "\n"
               "Options (also config file keys, \"key value\" per line):\n"
               "  -c, --config FILE               read options from FILE first\n");
    for (int i = 0; i < config_nkeys; i++)
        cli_usage_row(f, config_keys[i].name, config_keys[i].arg, config_keys[i].help);
    fprintf(f, "\n"
               "The lab link (labd(8), LAB NETWORK; needs root):\n");
    for (int i = 0; i < lab_opts_nkeys; i++)
        cli_usage_row(f, lab_opts_keys[i].name,
                      strcmp(lab_opts_keys[i].name, "lab") == 0 ? "" : lab_opts_keys[i].arg,
                      lab_opts_keys[i].help);
    fprintf(f, "  -h, --help                      this text\n"
               "  -V, --version                   print the version\n"
               "\n"
               "Times are milliseconds (or with ms/s), sizes bytes (or with k/m).\n"
               "Exit status: 0 success, 1 failure, 2 usage error; status: 3 not running.\n"
               "See labd(8).\n");
}
