/* Tests for shared/config.c: defaults, every kind of value, the file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/config.h"
#include "shared/log.h"

static void test_defaults(void **state)
{
    struct labd_config c;

    (void)state;
    config_defaults(&c);
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.nbinds, 0);
    assert_true(c.workers >= 1);
    assert_int_equal(c.keepalive_timeout_ms, 5000);
    assert_int_equal(c.header_timeout_ms, 10000);
    assert_int_equal(c.send_timeout_ms, 30000);
    assert_int_equal(c.send_lowat, 256 * 1024);
    assert_int_equal(c.max_requests_per_conn, 1000);
    assert_int_equal(c.max_conns_per_worker, 1024);
    assert_int_equal(c.max_request_line, 8192);
    assert_int_equal(c.max_header_bytes, 16384);
    assert_int_equal(c.max_headers, 100);
    assert_int_equal(c.max_body_bytes, 1024 * 1024);
    assert_int_equal(c.max_ranges, 16);
    assert_int_equal(c.grace_ms, 10000);
    assert_int_equal(c.file_cache_bytes, 4 * 1024 * 1024);
    assert_int_equal(c.file_cache_max_file, 64 * 1024);
    assert_int_equal(c.file_cache_valid_ms, 1000);
    assert_int_equal(c.defer_accept_ms, config_defer_for(cpu_vendor()));
    assert_int_equal(c.log_level, LOG_LEVEL_NOTICE);
    assert_string_equal(c.access_log, "");
    assert_string_equal(c.config_path, "");
    assert_true(c.root[0] == '/');
    assert_true(c.run_dir[0] == '/');
}

static void test_set_numbers_and_units(void **state)
{
    struct labd_config c;
    char err[256];

    (void)state;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "port", "9090", err, sizeof(err)), 0);
    assert_int_equal(c.port, 9090);
    assert_int_equal(config_set(&c, "keepalive-timeout", "2s", err, sizeof(err)), 0);
    assert_int_equal(c.keepalive_timeout_ms, 2000);
    assert_int_equal(config_set(&c, "keepalive_timeout", "750ms", err, sizeof(err)), 0);
    assert_int_equal(c.keepalive_timeout_ms, 750);
    /* 0 is valid: keep-alive off (every response says Connection: close). */
    assert_int_equal(config_set(&c, "keepalive-timeout", "0", err, sizeof(err)), 0);
    assert_int_equal(c.keepalive_timeout_ms, 0);
    assert_int_equal(config_set(&c, "grace", "300", err, sizeof(err)), 0);
    assert_int_equal(c.grace_ms, 300);
    assert_int_equal(config_set(&c, "max-body-bytes", "2m", err, sizeof(err)), 0);
    assert_int_equal(c.max_body_bytes, 2 * 1024 * 1024);
    assert_int_equal(config_set(&c, "send-lowat", "1m", err, sizeof(err)), 0);
    assert_int_equal(c.send_lowat, 1024 * 1024);
    assert_int_equal(config_set(&c, "send-lowat", "off", err, sizeof(err)), 0);
    assert_int_equal(c.send_lowat, 0);
    assert_int_not_equal(config_set(&c, "send-lowat", "lots", err, sizeof(err)), 0);
    assert_int_not_equal(config_set(&c, "send-lowat", "65m", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "max-header-bytes", "32k", err, sizeof(err)), 0);
    assert_int_equal(c.max_header_bytes, 32 * 1024);
    assert_int_equal(config_set(&c, "workers", "3", err, sizeof(err)), 0);
    assert_int_equal(c.workers, 3);
    assert_int_equal(config_set(&c, "workers", "auto", err, sizeof(err)), 0);
    cpu_set_t usable;
    assert_int_equal(sched_getaffinity(0, sizeof(usable), &usable), 0);
    assert_int_equal(c.workers, CPU_COUNT(&usable) < 64 ? CPU_COUNT(&usable) : 64);
    assert_int_equal(config_set(&c, "log-level", "debug", err, sizeof(err)), 0);
    assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(config_set(&c, "autoindex", "on", err, sizeof(err)), 0);
    assert_int_equal(c.autoindex, 1);
    assert_int_equal(config_set(&c, "max-ranges", "4", err, sizeof(err)), 0);
    assert_int_equal(c.max_ranges, 4);
    assert_int_equal(config_set(&c, "file-cache", "16m", err, sizeof(err)), 0);
    assert_int_equal(c.file_cache_bytes, 16 * 1024 * 1024);
    assert_int_equal(config_set(&c, "file_cache", "OFF", err, sizeof(err)), 0);
    assert_int_equal(c.file_cache_bytes, 0);
    assert_int_equal(config_set(&c, "file-cache", "0", err, sizeof(err)), 0);
    assert_int_equal(c.file_cache_bytes, 0);
    assert_int_equal(config_set(&c, "file-cache-max-file", "8k", err, sizeof(err)), 0);
    assert_int_equal(c.file_cache_max_file, 8192);
    assert_int_equal(config_set(&c, "file-cache-valid", "2s", err, sizeof(err)), 0);
    assert_int_equal(c.file_cache_valid_ms, 2000);
    assert_int_equal(config_set(&c, "file-cache-valid", "0", err, sizeof(err)), 0);
    assert_int_equal(c.file_cache_valid_ms, 0);
    assert_int_equal(config_set(&c, "defer-accept", "3s", err, sizeof(err)), 0);
    assert_int_equal(c.defer_accept_ms, 3000);
    assert_int_equal(config_set(&c, "defer-accept", "OFF", err, sizeof(err)), 0);
    assert_int_equal(c.defer_accept_ms, 0);
    assert_int_equal(config_set(&c, "defer-accept", "auto", err, sizeof(err)), 0);
    assert_int_equal(c.defer_accept_ms, config_defer_for(cpu_vendor()));
    assert_int_equal(c.accept, CONFIG_ACCEPT_AUTO); /* the default, resolved by the master */
    assert_int_equal(config_set(&c, "accept", "reuseport", err, sizeof(err)), 0);
    assert_int_equal(c.accept, CONFIG_ACCEPT_REUSEPORT);
    assert_int_equal(config_set(&c, "accept", "Exclusive", err, sizeof(err)), 0);
    assert_int_equal(c.accept, CONFIG_ACCEPT_EXCLUSIVE);
    assert_int_equal(config_set(&c, "accept", "cpu", err, sizeof(err)), 0);
    assert_int_equal(c.accept, CONFIG_ACCEPT_CPU);
    assert_int_equal(config_set(&c, "accept", "auto", err, sizeof(err)), 0);
    assert_int_equal(c.accept, CONFIG_ACCEPT_AUTO);
    assert_int_equal(config_set(&c, "accept", "cpus", err, sizeof(err)), -1);
    assert_string_equal(err, "accept: 'cpus' is not auto, exclusive, reuseport or cpu");
    assert_int_equal(c.accept, CONFIG_ACCEPT_AUTO); /* unchanged */
    assert_string_equal(config_accept_name(CONFIG_ACCEPT_CPU), "cpu");
    assert_int_equal(c.cpu_affinity, 0); /* the default: off */
    assert_int_equal(config_set(&c, "cpu-affinity", "AUTO", err, sizeof(err)), 0);
    assert_int_equal(c.cpu_affinity, 1);
    assert_int_equal(config_set(&c, "cpu-affinity", "off", err, sizeof(err)), 0);
    assert_int_equal(c.cpu_affinity, 0);
}

static void test_set_rejects(void **state)
{
    struct labd_config c;
    char err[256];

    (void)state;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "port", "0", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(config_set(&c, "port", "65536", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "port", "80x", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "port", "-1", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "port", "", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "port", "99999999999999999999999", err, sizeof(err)), -1);
    assert_int_equal(c.port, 8080);
    assert_int_equal(config_set(&c, "workers", "0", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "keepalive-timeout", "5h", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "log-level", "loud", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "autoindex", "maybe", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "file-cache", "on", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "file-cache", "2g", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "file-cache-max-file", "17m", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "file-cache-valid", "-1", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "defer-accept", "soon", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "accept", "shared", err, sizeof(err)), -1);
    assert_string_equal(err, "accept: 'shared' is not auto, exclusive, reuseport or cpu");
    c.cpu_affinity = 1;
    assert_int_equal(config_set(&c, "cpu-affinity", "0-3", err, sizeof(err)), -1);
    assert_string_equal(err, "cpu-affinity: '0-3' is not auto or off");
    assert_int_equal(c.cpu_affinity, 1); /* unchanged */
    assert_int_equal(config_set(&c, "colour", "blue", err, sizeof(err)), -1);
    assert_string_equal(err, "unknown option 'colour'");
    assert_int_equal(config_set(&c, "root", "", err, sizeof(err)), -1);
    /* user: unset by default, a name up to 63 bytes. */
    assert_string_equal(c.user, "");
    assert_int_equal(config_set(&c, "user", "", err, sizeof(err)), -1);
    char longname[CONFIG_USER_MAX + 1];
    memset(longname, 'u', CONFIG_USER_MAX);
    longname[CONFIG_USER_MAX] = 0;
    assert_int_equal(config_set(&c, "user", longname, err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "user", "nobody", err, sizeof(err)), 0);
    assert_string_equal(c.user, "nobody");
}

static void test_binds_append_and_bound(void **state)
{
    struct labd_config c;
    char err[256];
    char long_addr[CONFIG_BIND_MAX + 4];

    (void)state;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "bind", "127.0.0.1", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "bind", "::1", err, sizeof(err)), 0);
    assert_int_equal(c.nbinds, 2);
    assert_string_equal(c.binds[0], "127.0.0.1");
    assert_string_equal(c.binds[1], "::1");
    memset(long_addr, 'a', sizeof(long_addr) - 1);
    long_addr[sizeof(long_addr) - 1] = '\0';
    assert_int_equal(config_set(&c, "bind", long_addr, err, sizeof(err)), -1);
    for (int i = 2; i < CONFIG_MAX_BINDS; i++)
        assert_int_equal(config_set(&c, "bind", "localhost", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "bind", "localhost", err, sizeof(err)), -1);
    assert_int_equal(c.nbinds, CONFIG_MAX_BINDS);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/labd-test-config.XXXXXX";
    struct labd_config c;
    char err[512];
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# labd test config\n"
                     "\n"
                     "port 8181   # trailing comment\n"
                     "  bind 127.0.0.1\n"
                     "root \"/srv/my site\"\n"
                     "keepalive_timeout 1s\n"
                     "error-log /var/log/x#y.log\n");
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.port, 8181);
    assert_int_equal(c.nbinds, 1);
    assert_string_equal(c.binds[0], "127.0.0.1");
    assert_string_equal(c.root, "/srv/my site");
    assert_int_equal(c.keepalive_timeout_ms, 1000);
    assert_string_equal(c.error_log, "/var/log/x#y.log");
    assert_string_equal(c.config_path, path);

    write_file(path, "port 8181\nworkers many\n");
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
    char want[600];
    snprintf(want, sizeof(want), "%s:2: workers: 'many' is not a number", path);
    assert_string_equal(err, want);

    write_file(path, "port\n");
    assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":1: port: missing value"));
    unlink(path);

    assert_int_equal(config_load_file(&c, "/nonexistent/labd.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
}

static void test_finish_paths(void **state)
{
    struct labd_config c;
    char err[256];

    (void)state;
    config_defaults(&c);
    snprintf(c.root, sizeof(c.root), "site");
    snprintf(c.run_dir, sizeof(c.run_dir), "run");
    assert_int_equal(config_finish(&c, "/home/u", err, sizeof(err)), 0);
    assert_string_equal(c.root, "/home/u/site");
    assert_string_equal(c.run_dir, "/home/u/run");
    assert_string_equal(c.access_log, "/home/u/run/access.log");
    assert_string_equal(c.error_log, "/home/u/run/error.log");

    config_defaults(&c);
    snprintf(c.access_log, sizeof(c.access_log), "off");
    snprintf(c.error_log, sizeof(c.error_log), "/var/log/labd.err");
    assert_int_equal(config_finish(&c, "/", err, sizeof(err)), 0);
    assert_string_equal(c.access_log, "off");
    assert_string_equal(c.error_log, "/var/log/labd.err");
}

static void test_default_run_dir(void **state)
{
    char out[PATH_MAX];

    (void)state;
    config_default_run_dir(0, "/run/user/0", out, sizeof(out));
    assert_string_equal(out, "/run/labd");
    config_default_run_dir(1000, "/run/user/1000", out, sizeof(out));
    assert_string_equal(out, "/run/user/1000/labd");
    config_default_run_dir(1000, NULL, out, sizeof(out));
    assert_string_equal(out, "/tmp/labd-1000");
    config_default_run_dir(1000, "relative", out, sizeof(out));
    assert_string_equal(out, "/tmp/labd-1000");
}

static void test_default_root(void **state)
{
    char dir[] = "/tmp/labd-test-root.XXXXXX";
    char p[PATH_MAX], out[PATH_MAX], want[PATH_MAX];

    (void)state;
    assert_non_null(mkdtemp(dir));
    /* Source tree: build/asan/labd -> ../../www */
    snprintf(p, sizeof(p), "%s/www", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/build", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/build/asan", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/build/asan/labd", dir);
    config_default_root(p, out, sizeof(out));
    snprintf(want, sizeof(want), "%s/www", dir);
    assert_string_equal(out, want);
    /* Installed: PREFIX/bin/labd -> PREFIX/share/labd/www, preferred. */
    snprintf(p, sizeof(p), "%s/share", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/share/labd", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/share/labd/www", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/bin", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/bin/labd", dir);
    config_default_root(p, out, sizeof(out));
    snprintf(want, sizeof(want), "%s/share/labd/www", dir);
    assert_string_equal(out, want);
    /* Nowhere: the compiled-in data directory. */
    config_default_root("/nonexistent/x/y/labd", out, sizeof(out));
    assert_string_equal(out, LABD_DATADIR "/www");

    snprintf(p, sizeof(p), "rm -rf '%s'", dir);
    assert_int_equal(system(p), 0);
}

static void test_every_key_in_table_is_settable(void **state)
{
    struct labd_config c;
    char err[256];

    (void)state;
    for (int i = 0; i < config_nkeys; i++) {
        const char *v = "1";
        const char *arg = config_keys[i].arg;
        if (!strcmp(arg, "FILE") || !strcmp(arg, "DIR"))
            v = "/x";
        else if (!strcmp(arg, "ADDR"))
            v = "::1";
        else if (!strcmp(arg, "LEVEL"))
            v = "info";
        else if (!strcmp(arg, "on|off"))
            v = "on";
        else if (!strcmp(arg, "MODE"))
            v = "reuseport";
        else if (!strcmp(arg, "auto|off"))
            v = "off";
        else if (!strcmp(arg, "BYTES"))
            v = "64k";
        config_defaults(&c);
        if (config_set(&c, config_keys[i].name, v, err, sizeof(err)) != 0)
            fail_msg("%s %s: %s", config_keys[i].name, v, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_numbers_and_units),
        cmocka_unit_test(test_set_rejects),
        cmocka_unit_test(test_binds_append_and_bound),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_finish_paths),
        cmocka_unit_test(test_default_run_dir),
        cmocka_unit_test(test_default_root),
        cmocka_unit_test(test_every_key_in_table_is_settable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
