/* labd configuration: defaults, one setter for file and command line, the file parser. */
#include "shared/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/cpu.h"
#include "shared/log.h"

#ifndef LABD_DATADIR
#define LABD_DATADIR "/usr/local/share/labd"
#endif

#define CONFIG_LINE_MAX 4096

const struct config_key config_keys[] = {
    { "port", "N", "TCP port to listen on (default 8080)" },
    { "bind", "ADDR", "listen on this address (IPv4, IPv6 or name; repeatable; default all)" },
    { "root", "DIR", "document root (default: the bundled site)" },
    { "workers", "N", "worker processes, 1 to 64, or auto (default: number of usable CPUs)" },
    { "cpu-affinity", "auto|off",
      "auto: worker N runs only on the Nth usable CPU; off (default): anywhere" },
    { "accept", "MODE",
      "exclusive (one socket for all workers), reuseport (one each), cpu (one each, pinned, "
      "taking its CPU's connections) or auto (default: cpu on loopback and --lab)" },
    { "defer-accept", "MS|off|auto",
      "hand a connection to a worker once its first bytes came, holding a silent one at most "
      "this long (default auto: 1000 on Intel CPUs, off on others)" },
    { "run-dir", "DIR",
      "pid file, scoreboard, logs (/run/labd for root, else $XDG_RUNTIME_DIR/labd or "
      "/tmp/labd-UID)" },
    { "access-log", "FILE", "access log (default RUN_DIR/access.log, \"off\" for none)" },
    { "error-log", "FILE", "error log (default RUN_DIR/error.log)" },
    { "log-level", "LEVEL", "error, warn, notice (default), info or debug" },
    { "keepalive-timeout", "MS", "idle time between requests (default 5000; 0: keep-alive off)" },
    { "header-timeout", "MS", "time to receive a request header (default 10000)" },
    { "send-timeout", "MS", "drop a client that reads nothing this long (default 30000)" },
    { "max-requests-per-conn", "N", "requests per connection (default 1000)" },
    { "max-conns-per-worker", "N", "open connections per worker (default 1024)" },
    { "max-request-line", "BYTES", "longest request line (default 8192)" },
    { "max-header-bytes", "BYTES", "all header fields together (default 16384)" },
    { "max-headers", "N", "header fields per request (default 100)" },
    { "max-body-bytes", "BYTES", "request body read and discarded (default 1m)" },
    { "max-ranges", "N", "ranges per request before a full 200 (default 16)" },
    { "autoindex", "on|off", "directory listings (default off)" },
    { "mime-types", "FILE", "extra mime.types file" },
    { "grace", "MS", "graceful stop: force after this long (default 10000)" },
    { "file-cache", "BYTES|off", "small files kept in memory per worker (default 4m)" },
    { "file-cache-max-file", "BYTES", "larger files are not cached (default 64k)" },
    { "file-cache-valid", "MS", "a cached file is checked on disk after this long (default 1000)" },
    { "send-lowat", "BYTES|off", "unsent bytes a connection queues in the kernel (default 256k)" },
    { "user", "NAME",
      "workers run as this user when started as root (default: sudo's, else nobody)" },
};
const int config_nkeys = (int)(sizeof(config_keys) / sizeof(config_keys[0]));

static void config_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void config_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int config_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void config_default_root(const char *exe_path, char *out, size_t n)
{
    static const char *rel[] = { "/../share/labd/www", "/../www", "/../../www" };
    char dir[PATH_MAX];
    char cand[PATH_MAX + 32];
    char *slash;

    snprintf(out, n, "%s/www", LABD_DATADIR);
    if (!exe_path || snprintf(dir, sizeof(dir), "%s", exe_path) >= (int)sizeof(dir))
        return;
    slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        snprintf(cand, sizeof(cand), "%s%s", dir, rel[i]);
        if (config_is_dir(cand)) {
            char real[PATH_MAX];
            snprintf(out, n, "%s", realpath(cand, real) ? real : cand);
            return;
        }
    }
}

void config_default_run_dir(unsigned uid, const char *xdg_runtime_dir, char *out, size_t n)
{
    if (uid == 0)
        snprintf(out, n, "/run/labd");
    else if (xdg_runtime_dir && xdg_runtime_dir[0] == '/')
        snprintf(out, n, "%s/labd", xdg_runtime_dir);
    else
        snprintf(out, n, "/tmp/labd-%u", uid);
}

const char *config_accept_name(enum config_accept a)
{
    switch (a) {
    case CONFIG_ACCEPT_EXCLUSIVE:
        return "exclusive";
    case CONFIG_ACCEPT_REUSEPORT:
        return "reuseport";
    case CONFIG_ACCEPT_CPU:
        return "cpu";
    case CONFIG_ACCEPT_AUTO:
        break;
    }
    return "auto";
}

/* An option that takes one of two words (any case): *out = v1 or v2; -1 with a message otherwise.
 */
static int config_either(const char *key, const char *value, const char *w1, int v1, const char *w2,
                         int v2, int *out, char *err, size_t errlen)
{
    if (!strcasecmp(value, w1)) {
        *out = v1;
    } else if (!strcasecmp(value, w2)) {
        *out = v2;
    } else {
        config_err(err, errlen, "%s: '%s' is not %s or %s", key, value, w1, w2);
        return -1;
    }
    return 0;
}

/* One worker per CPU this process may use, at most 64. */
static int config_auto_workers(void)
{
    cpu_set_t set;
    int n = cpu_allowed(&set);
    return n < 64 ? n : 64;
}

int config_defer_for(enum cpu_vendor vendor)
{
    return vendor == CPU_VENDOR_INTEL ? 1000 : 0;
}

void config_defaults(struct labd_config *c)
{
    char exe[PATH_MAX];
    ssize_t len;

    memset(c, 0, sizeof(*c));
    c->port = 8080;
    c->workers = config_auto_workers();
    c->cpu_affinity = 0;                                 /* measured: see labd.8, CPU AFFINITY */
    c->accept = CONFIG_ACCEPT_AUTO;                      /* measured: see labd.8, ACCEPT STRATEGY */
    c->defer_accept_ms = config_defer_for(cpu_vendor()); /* measured: labd.8, ACCEPT STRATEGY */
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[len > 0 ? len : 0] = '\0';
    config_default_root(len > 0 ? exe : NULL, c->root, sizeof(c->root));
    config_default_run_dir((unsigned)getuid(), getenv("XDG_RUNTIME_DIR"), c->run_dir,
                           sizeof(c->run_dir));
    c->log_level = LOG_LEVEL_DEFAULT;
    c->keepalive_timeout_ms = 5000;
    c->header_timeout_ms = 10000;
    c->send_timeout_ms = 30000;
    c->max_requests_per_conn = 1000;
    c->max_conns_per_worker = 1024;
    c->max_request_line = 8192;
    c->max_header_bytes = 16384;
    c->max_headers = 100;
    c->max_body_bytes = 1024 * 1024;
    c->max_ranges = 16;
    c->autoindex = 0;
    c->grace_ms = 10000;
    c->file_cache_bytes = 4 * 1024 * 1024;
    c->file_cache_max_file = 64 * 1024;
    c->file_cache_valid_ms = 1000;
    c->send_lowat = 256 * 1024;
}

/* Whole-string unsigned number with an optional suffix scaled by the table. */
static int config_parse_scaled(const char *s, const char *const *suffixes, const long long *scale,
                               long long *out)
{
    char *end;
    unsigned long long v;

    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || v > (unsigned long long)LLONG_MAX)
        return -1;
    if (*end == '\0') {
        *out = (long long)v;
        return 0;
    }
    for (int i = 0; suffixes[i]; i++) {
        if (strcasecmp(end, suffixes[i]) == 0) {
            if (v > (unsigned long long)(LLONG_MAX / scale[i]))
                return -1;
            *out = (long long)v * scale[i];
            return 0;
        }
    }
    return -1;
}

static int config_int(const char *key, const char *value, long long min, long long max, int kind,
                      long long *out, char *err, size_t errlen)
{
    static const char *const none[] = { NULL };
    static const char *const time_sfx[] = { "ms", "s", NULL };
    static const long long time_scale[] = { 1, 1000 };
    static const char *const size_sfx[] = { "k", "kb", "m", "mb", NULL };
    static const long long size_scale[] = { 1024, 1024, 1024 * 1024, 1024 * 1024 };
    const char *const *sfx = kind == 't' ? time_sfx : kind == 'b' ? size_sfx : none;
    const long long *scale = kind == 't' ? time_scale : size_scale;
    long long v;

    if (config_parse_scaled(value, sfx, scale, &v) < 0) {
        config_err(err, errlen, "%s: '%s' is not a %s", key, value,
                   kind == 't'   ? "time (milliseconds, or with ms/s)"
                   : kind == 'b' ? "size (bytes, or with k/m)"
                                 : "number");
        return -1;
    }
    if (v < min || v > max) {
        config_err(err, errlen, "%s: %s is out of range (%lld to %lld)", key, value, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int config_path(const char *key, const char *value, char *dst, size_t n, char *err,
                       size_t errlen)
{
    if (value[0] == '\0') {
        config_err(err, errlen, "%s: empty path", key);
        return -1;
    }
    if (strlen(value) >= n) {
        config_err(err, errlen, "%s: path too long", key);
        return -1;
    }
    snprintf(dst, n, "%s", value);
    return 0;
}

/* Key spelled with '-' (canonical) or '_'; compare without allocating. */
static int config_key_is(const char *key, const char *name)
{
    for (; *key && *name; key++, name++) {
        char k = *key == '_' ? '-' : (char)tolower((unsigned char)*key);
        if (k != *name)
            return 0;
    }
    return *key == '\0' && *name == '\0';
}

int config_set(struct labd_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    struct {
        const char *name;
        int kind; /* 'n' number, 't' time, 'b' bytes */
        long long min, max;
        void *field;
        int is_ll;
    } ints[] = {
        { "port", 'n', 1, 65535, &c->port, 0 },
        { "workers", 'n', 1, 64, &c->workers, 0 },
        { "keepalive-timeout", 't', 0, 3600000, &c->keepalive_timeout_ms, 0 },
        { "header-timeout", 't', 1, 3600000, &c->header_timeout_ms, 0 },
        { "send-timeout", 't', 1, 3600000, &c->send_timeout_ms, 0 },
        { "max-requests-per-conn", 'n', 1, INT_MAX, &c->max_requests_per_conn, 0 },
        { "max-conns-per-worker", 'n', 1, 1000000, &c->max_conns_per_worker, 0 },
        { "max-request-line", 'b', 64, 1024 * 1024, &c->max_request_line, 0 },
        { "max-header-bytes", 'b', 256, 16 * 1024 * 1024, &c->max_header_bytes, 0 },
        { "max-headers", 'n', 1, 10000, &c->max_headers, 0 },
        { "max-body-bytes", 'b', 0, LLONG_MAX, &c->max_body_bytes, 1 },
        { "max-ranges", 'n', 1, 1000, &c->max_ranges, 0 },
        { "grace", 't', 0, 3600000, &c->grace_ms, 0 },
        { "file-cache", 'b', 0, 1024LL * 1024 * 1024, &c->file_cache_bytes, 1 },
        { "file-cache-max-file", 'b', 0, 16 * 1024 * 1024, &c->file_cache_max_file, 0 },
        { "file-cache-valid", 't', 0, 3600000, &c->file_cache_valid_ms, 0 },
        { "send-lowat", 'b', 0, 64 * 1024 * 1024, &c->send_lowat, 0 },
        { "defer-accept", 't', 0, 3600000, &c->defer_accept_ms, 0 },
    };
    long long v;

    if (!value)
        value = "";
    if (config_key_is(key, "file-cache") && strcasecmp(value, "off") == 0) {
        c->file_cache_bytes = 0;
        return 0;
    }
    if (config_key_is(key, "send-lowat") && strcasecmp(value, "off") == 0) {
        c->send_lowat = 0;
        return 0;
    }
    if (config_key_is(key, "defer-accept") && strcasecmp(value, "off") == 0) {
        c->defer_accept_ms = 0;
        return 0;
    }
    if (config_key_is(key, "defer-accept") && strcasecmp(value, "auto") == 0) {
        c->defer_accept_ms = config_defer_for(cpu_vendor());
        return 0;
    }
    if (config_key_is(key, "workers") && strcasecmp(value, "auto") == 0) {
        c->workers = config_auto_workers();
        return 0;
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (!config_key_is(key, ints[i].name))
            continue;
        if (config_int(ints[i].name, value, ints[i].min, ints[i].max, ints[i].kind, &v, err,
                       errlen) < 0)
            return -1;
        if (ints[i].is_ll)
            *(long long *)ints[i].field = v;
        else
            *(int *)ints[i].field = (int)v;
        return 0;
    }
    if (config_key_is(key, "bind")) {
        if (value[0] == '\0') {
            config_err(err, errlen, "bind: empty address");
            return -1;
        }
        if (strlen(value) >= CONFIG_BIND_MAX) {
            config_err(err, errlen, "bind: address too long: %s", value);
            return -1;
        }
        if (c->nbinds >= CONFIG_MAX_BINDS) {
            config_err(err, errlen, "bind: at most %d addresses", CONFIG_MAX_BINDS);
            return -1;
        }
        snprintf(c->binds[c->nbinds++], CONFIG_BIND_MAX, "%s", value);
        return 0;
    }
    if (config_key_is(key, "root"))
        return config_path("root", value, c->root, sizeof(c->root), err, errlen);
    if (config_key_is(key, "run-dir"))
        return config_path("run-dir", value, c->run_dir, sizeof(c->run_dir), err, errlen);
    if (config_key_is(key, "access-log"))
        return config_path("access-log", value, c->access_log, sizeof(c->access_log), err, errlen);
    if (config_key_is(key, "error-log"))
        return config_path("error-log", value, c->error_log, sizeof(c->error_log), err, errlen);
    if (config_key_is(key, "mime-types"))
        return config_path("mime-types", value, c->mime_types, sizeof(c->mime_types), err, errlen);
    if (config_key_is(key, "user")) {
        if (value[0] == '\0' || strlen(value) >= sizeof(c->user)) {
            config_err(err, errlen, "user: '%s' is not a user name", value);
            return -1;
        }
        snprintf(c->user, sizeof(c->user), "%s", value);
        return 0;
    }
    if (config_key_is(key, "log-level")) {
        int level = log_level_parse(value);
        if (level < 0) {
            config_err(err, errlen, "log-level: '%s' is not error, warn, notice, info or debug",
                       value);
            return -1;
        }
        c->log_level = level;
        return 0;
    }
    if (config_key_is(key, "accept")) {
        for (enum config_accept a = CONFIG_ACCEPT_AUTO; a <= CONFIG_ACCEPT_CPU; a++) {
            if (!strcasecmp(value, config_accept_name(a))) {
                c->accept = a;
                return 0;
            }
        }
        config_err(err, errlen, "accept: '%s' is not auto, exclusive, reuseport or cpu", value);
        return -1;
    }
    if (config_key_is(key, "cpu-affinity"))
        return config_either("cpu-affinity", value, "auto", 1, "off", 0, &c->cpu_affinity, err,
                             errlen);
    if (config_key_is(key, "autoindex")) {
        if (!strcasecmp(value, "on") || !strcasecmp(value, "yes") || !strcmp(value, "1")) {
            c->autoindex = 1;
        } else if (!strcasecmp(value, "off") || !strcasecmp(value, "no") || !strcmp(value, "0")) {
            c->autoindex = 0;
        } else {
            config_err(err, errlen, "autoindex: '%s' is not on or off", value);
            return -1;
        }
        return 0;
    }
    if (lab_opts_find(key) >= 0)
        return lab_opts_set(&c->lab, key, value, err, errlen);
    config_err(err, errlen, "unknown option '%s'", key);
    return -1;
}

/* Strip leading and trailing white space in place; returns the new start. */
static char *config_trim(char *s)
{
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int config_load_file(struct labd_config *c, const char *path, char *err, size_t errlen)
{
    char line[CONFIG_LINE_MAX];
    char why[512];
    FILE *f;
    int lineno = 0;

    f = fopen(path, "r");
    if (!f) {
        config_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *key, *value, *p;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            config_err(err, errlen, "%s:%d: line too long", path, lineno);
            fclose(f);
            return -1;
        }
        /* '#' starts a comment at the line start or after white space. */
        for (p = line; *p; p++) {
            if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
                *p = '\0';
                break;
            }
        }
        key = config_trim(line);
        if (*key == '\0')
            continue;
        for (p = key; *p && !isspace((unsigned char)*p); p++)
            ;
        if (*p)
            *p++ = '\0';
        value = config_trim(p);
        /* A value may be quoted to keep spaces or '#'. */
        size_t vn = strlen(value);
        if (vn >= 2 && value[0] == '"' && value[vn - 1] == '"') {
            value[vn - 1] = '\0';
            value++;
        }
        if (*value == '\0') {
            config_err(err, errlen, "%s:%d: %s: missing value", path, lineno, key);
            fclose(f);
            return -1;
        }
        if (config_set(c, key, value, why, sizeof(why)) < 0) {
            config_err(err, errlen, "%s:%d: %s", path, lineno, why);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    if (strlen(path) < sizeof(c->config_path))
        snprintf(c->config_path, sizeof(c->config_path), "%s", path);
    return 0;
}

/* Make p absolute against cwd (lexically; the file may not exist yet). */
static int config_absolute(char *p, size_t n, const char *cwd)
{
    char tmp[PATH_MAX];

    if (p[0] == '\0' || p[0] == '/')
        return 0;
    if (!cwd || snprintf(tmp, sizeof(tmp), "%s/%s", cwd, p) >= (int)sizeof(tmp) || strlen(tmp) >= n)
        return -1;
    snprintf(p, n, "%s", tmp);
    return 0;
}

int config_finish(struct labd_config *c, const char *cwd, char *err, size_t errlen)
{
    struct {
        const char *name;
        char *p;
    } paths[] = {
        { "config", c->config_path },  { "root", c->root },
        { "run-dir", c->run_dir },     { "access-log", c->access_log },
        { "error-log", c->error_log }, { "mime-types", c->mime_types },
    };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (strcmp(paths[i].p, "off") == 0 && paths[i].p == c->access_log)
            continue;
        if (config_absolute(paths[i].p, PATH_MAX, cwd) < 0) {
            config_err(err, errlen, "%s: path too long: %s", paths[i].name, paths[i].p);
            return -1;
        }
    }
    if (c->access_log[0] == '\0' && snprintf(c->access_log, sizeof(c->access_log), "%s/access.log",
                                             c->run_dir) >= (int)sizeof(c->access_log)) {
        config_err(err, errlen, "run-dir: path too long");
        return -1;
    }
    if (c->error_log[0] == '\0' && snprintf(c->error_log, sizeof(c->error_log), "%s/error.log",
                                            c->run_dir) >= (int)sizeof(c->error_log)) {
        config_err(err, errlen, "run-dir: path too long");
        return -1;
    }
    return lab_opts_check(&c->lab, err, errlen);
}
