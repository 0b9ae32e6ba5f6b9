/* Tests for master/cli.c: commands, options named after config keys, option precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/cli.h"

static struct cli cli;
static struct labd_config cfg;

#define ARGV(...)  ((char *const[]){ "labd", __VA_ARGS__, NULL })
#define ARGC(...)  ((int)(sizeof((const char *[]){ "labd", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), &cli, err, sizeof(err))

static void test_commands(void **state)
{
    char err[256];

    (void)state;
    assert_int_equal(PARSE("start"), 0);
    assert_int_equal(cli.command, CLI_START);
    assert_int_equal(PARSE("stop", "--fast"), 0);
    assert_int_equal(cli.command, CLI_STOP);
    assert_int_equal(cli.fast, 1);
    assert_int_equal(PARSE("--run-dir", "/r", "status"), 0);
    assert_int_equal(cli.command, CLI_STATUS);
    assert_int_equal(PARSE("reload"), 0);
    assert_int_equal(cli.command, CLI_RELOAD);
    assert_int_equal(PARSE("run"), 0);
    assert_int_equal(cli.command, CLI_RUN);
    assert_int_equal(PARSE("--help"), 0);
    assert_int_equal(cli.help, 1);
    assert_int_equal(cli.command, CLI_NONE);
    assert_int_equal(PARSE("-V"), 0);
    assert_int_equal(cli.version, 1);
}

static void test_errors(void **state)
{
    char err[256];

    (void)state;
    assert_int_equal(PARSE("begin"), -1);
    assert_string_equal(err, "unknown command begin");
    assert_int_equal(PARSE("start", "--colour", "blue"), -1);
    assert_string_equal(err, "unknown option --colour");
    assert_int_equal(PARSE("start", "--port"), -1);
    assert_string_equal(err, "option --port needs a value");
    assert_int_equal(PARSE("start", "-x"), -1);
    assert_string_equal(err, "unknown option -x");
    assert_int_equal(PARSE("start", "-c"), -1);
    assert_string_equal(err, "missing file after -c");
    assert_int_equal(PARSE("start", "--config="), -1);
    assert_string_equal(err, "bad config file name: ");
    assert_int_equal(PARSE("start", "stop"), -1);
    assert_string_equal(err, "more than one command: stop");
    /* After "--" everything is a command word, even what looks like an option. */
    assert_int_equal(PARSE("--", "--help"), -1);
    assert_string_equal(err, "unknown command --help");
}

static void test_options_become_pairs(void **state)
{
    char err[256];

    (void)state;
    assert_int_equal(PARSE("start", "--port", "9000", "--bind=::1", "--bind", "127.0.0.1",
                           "--keepalive_timeout", "2s", "-c", "labd.conf"),
                     0);
    assert_int_equal(cli.npairs, 4);
    assert_string_equal(cli.pairs[0].key, "port");
    assert_string_equal(cli.pairs[0].value, "9000");
    assert_string_equal(cli.pairs[1].key, "bind");
    assert_string_equal(cli.pairs[1].value, "::1");
    assert_string_equal(cli.pairs[3].key, "keepalive-timeout");
    assert_string_equal(cli.config_file, "labd.conf");
    assert_int_equal(PARSE("--config=/etc/labd.conf", "start"), 0);
    assert_string_equal(cli.config_file, "/etc/labd.conf");
}

static void test_every_config_key_is_an_option(void **state)
{
    char err[256], opt[64];

    (void)state;
    for (int i = 0; i < config_nkeys; i++) {
        snprintf(opt, sizeof(opt), "--%s", config_keys[i].name);
        char *const argv[] = { "labd", "start", opt, "1", NULL };
        assert_int_equal(cli_parse(4, argv, &cli, err, sizeof(err)), 0);
        assert_int_equal(cli.npairs, 1);
        assert_string_equal(cli.pairs[0].key, config_keys[i].name);
    }
}

/* A config file DIR/labd.conf (dir made from its template) holding text; its path in path. */
static void test_cli_conf(char *dir, char path[128], const char *text)
{
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, 128, "%s/labd.conf", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_precedence(void **state)
{
    char dir[] = "/tmp/labd-test-cli.XXXXXX";
    char path[128], err[512];

    (void)state;
    test_cli_conf(dir, path, "port 7000\nbind 127.0.0.1\nbind ::1\nworkers 3\nroot site\n");

    /* The file alone; relative paths are taken from cwd. */
    assert_int_equal(PARSE("start", "-c", "labd.conf"), 0);
    assert_int_equal(cli_config(&cli, dir, &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.port, 7000);
    assert_int_equal(cfg.nbinds, 2);
    assert_int_equal(cfg.workers, 3);
    char want[256];
    snprintf(want, sizeof(want), "%s/site", dir);
    assert_string_equal(cfg.root, want);

    /* Options win; --bind replaces the file's list instead of adding to it. */
    assert_int_equal(PARSE("start", "-c", path, "--port", "7001", "--bind", "localhost"), 0);
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.port, 7001);
    assert_int_equal(cfg.nbinds, 1);
    assert_string_equal(cfg.binds[0], "localhost");
    assert_int_equal(cfg.workers, 3);

    /* Errors name their source. */
    assert_int_equal(PARSE("start", "--workers", "none"), 0);
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "--workers: 'none' is not a number");
    assert_int_equal(PARSE("start", "-c", "/nonexistent.conf"), 0);
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "config: /nonexistent.conf"));

    unlink(path);
    rmdir(dir);
}

/* --lab alone switches it on; its knobs are options and config keys like the others. */
static void test_lab_options(void **state)
{
    char dir[] = "/tmp/labd-test-cli.XXXXXX";
    char path[128], err[512];

    (void)state;
    assert_int_equal(PARSE("--lab", "start", "--lab-rtt", "40", "--lab_loss=1"), 0);
    assert_int_equal(cli.command, CLI_START);
    assert_int_equal(cli.npairs, 3);
    assert_string_equal(cli.pairs[0].key, "lab");
    assert_string_equal(cli.pairs[0].value, "on");
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), 0);
    assert_true(cfg.lab.on);
    assert_true(cfg.lab.wire);
    assert_int_equal(cfg.lab.rtt_us, 40000);
    assert_int_equal(cfg.lab.loss_ppm, 10000);
    assert_int_equal(PARSE("start", "--lab=off"), 0);
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), 0);
    assert_false(cfg.lab.on);

    /* One line for a bad value or a knob without the link. */
    assert_int_equal(PARSE("start", "--lab", "--lab-rtt", "4O"), 0);
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "--lab-rtt: '4O' is not a number of milliseconds (e.g. 40)");
    assert_int_equal(PARSE("start", "--lab-loss", "1"), 0);
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "the lab-* options act on the lab link: add --lab (config: lab on)");

    /* The config file's spelling. */
    test_cli_conf(dir, path, "lab on\nlab-net 198.18.0.8/30\nlab-drop s2c:5\n");
    assert_int_equal(PARSE("start", "-c", path), 0);
    assert_int_equal(cli_config(&cli, "/", &cfg, err, sizeof(err)), 0);
    assert_true(cfg.lab.on);
    assert_int_equal(cfg.lab.net, 0xc6120008u);
    assert_int_equal(cfg.lab.drops.n[LAB_OPTS_S2C], 1);
    unlink(path);
    rmdir(dir);
}

static void test_usage_lists_every_key(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    (void)state;
    cli_usage(f);
    fclose(f);
    for (int i = 0; i < config_nkeys; i++) {
        char opt[64];
        snprintf(opt, sizeof(opt), "--%s ", config_keys[i].name);
        if (!strstr(buf, opt))
            fail_msg("--help lacks %s", opt);
    }
    for (int i = 0; i < lab_opts_nkeys; i++) {
        char opt[64];
        snprintf(opt, sizeof(opt), "--%s ", lab_opts_keys[i].name);
        if (!strstr(buf, opt))
            fail_msg("--help lacks %s", opt);
    }
    assert_non_null(strstr(buf, "stop [--fast]"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_options_become_pairs),
        cmocka_unit_test(test_every_config_key_is_an_option),
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_lab_options),
        cmocka_unit_test(test_usage_lists_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
