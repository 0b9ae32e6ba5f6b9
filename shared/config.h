/*
 * labd configuration: one struct filled with defaults, then from a config
 * file (-c FILE), then from command-line options; the same key names work
 * in both places (`port 8080` in the file is `--port 8080` on the line).
 */
#ifndef LABD_CONFIG_H
#define LABD_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "shared/cpu.h"
#include "shared/lab_opts.h"

#define CONFIG_MAX_BINDS 8
#define CONFIG_BIND_MAX  64
#define CONFIG_USER_MAX  64

/*
 * How the workers share new connections (labd.8, ACCEPT STRATEGY). auto is
 * what the configuration says; the master resolves it to cpu or exclusive
 * before it opens the sockets (listen_accept_resolve).
 */
enum config_accept {
    CONFIG_ACCEPT_AUTO, /* cpu when every address is local (loopback, the lab), else exclusive */
    CONFIG_ACCEPT_EXCLUSIVE, /* one socket per address, shared, EPOLLEXCLUSIVE */
    CONFIG_ACCEPT_REUSEPORT, /* a SO_REUSEPORT socket per worker, chosen by a hash */
    CONFIG_ACCEPT_CPU,       /* reuseport, workers pinned, chosen by the CPU that took the SYN */
};

/* "auto", "exclusive", "reuseport" or "cpu". */
const char *config_accept_name(enum config_accept a);

struct labd_config {
    char config_path[PATH_MAX];                    /* "" when no file was given */
    char binds[CONFIG_MAX_BINDS][CONFIG_BIND_MAX]; /* addresses; none = all (IPv6 + IPv4) */
    int nbinds;
    int port;                  /* 8080 */
    char root[PATH_MAX];       /* document root; default: the bundled www/ */
    int workers;               /* default: number of CPUs this process may use */
    int cpu_affinity;          /* 1: worker N pinned to the Nth usable CPU; 0 (default): off */
    enum config_accept accept; /* how workers share connections; auto until the master resolves */
    int defer_accept_ms;       /* accept once the first bytes came, waiting at most this: 1000 */
    char run_dir[PATH_MAX];    /* pid file, scoreboard, default logs */
    char access_log[PATH_MAX]; /* "" = <run_dir>/access.log, "off" = none */
    char error_log[PATH_MAX];  /* "" = <run_dir>/error.log */
    int log_level;             /* enum log_level in shared/log.h */

    /* Worker limits, used as given (config_defaults is the only source of defaults). Times in ms.
     */
    int keepalive_timeout_ms; /* idle time between requests: 5000 (Apache's); 0 keep-alive off */
    int header_timeout_ms;    /* to receive a complete request header: 10000 */
    int send_timeout_ms;      /* a client that reads nothing for this long is dropped: 30000 */
    int max_requests_per_conn;
    int max_conns_per_worker;
    int max_request_line;      /* bytes; longer -> 414 */
    int max_header_bytes;      /* bytes of all header fields; more -> 431 */
    int max_headers;           /* header fields; more -> 431 */
    long long max_body_bytes;  /* request body read and discarded up to this; more -> 413 */
    int max_ranges;            /* more ranges than this -> full 200 */
    int autoindex;             /* directory listings: 0 off */
    char mime_types[PATH_MAX]; /* extra /etc/mime.types-style file, "" none */
    int grace_ms;              /* graceful stop: forced after this long */

    /* Per-worker cache of small files (worker/filecache.c). */
    long long file_cache_bytes; /* file bytes held: 4m; 0 = off */
    int file_cache_max_file;    /* larger files are not cached: 64k */
    int file_cache_valid_ms;    /* a cached file is checked on disk after this long: 1000 */

    /* TCP_NOTSENT_LOWAT of every connection: 256k; 0 = off (labd.8, ACCEPT STRATEGY). */
    int send_lowat;

    /* Workers switch to this user when the master is root; "" none. */
    char user[CONFIG_USER_MAX];

    struct lab_opts lab; /* --lab and the wire's knobs (shared/lab_opts.h), set through lab_opts */
};

/*
 * defer-accept auto: 1000 ms on an Intel CPU, off (0) on any other. Measured
 * with Connection: close (labd.8, ACCEPT STRATEGY): on the Intel Xeon VM off
 * gave 0.85 times the requests per second at 1.39 times the CPU per request;
 * on the AMD EPYC VM 1.42 times the requests at 0.55 times the CPU.
 */
int config_defer_for(enum cpu_vendor vendor);

/* Fill c with the built-in defaults (workers = CPU count, root = bundled www/). */
void config_defaults(struct labd_config *c);

/*
 * Set one option by name ("port", "bind", "root", ...) from its text value.
 * Returns 0, or -1 with a one-line reason in err.
 */
int config_set(struct labd_config *c, const char *key, const char *value, char *err, size_t errlen);

/*
 * Read a config file: one "key value" per line, '#' comments, blank lines.
 * Returns 0, or -1 with "FILE:LINE: reason" in err.
 */
int config_load_file(struct labd_config *c, const char *path, char *err, size_t errlen);

/*
 * The option table: every key config_set accepts, in the spelling used by
 * both the file and the command line ('_' is accepted for '-' too).
 */
struct config_key {
    const char *name; /* "keepalive-timeout" */
    const char *arg;  /* "MS", "N", "PATH", ... */
    const char *help; /* one line for --help */
};
extern const struct config_key config_keys[];
extern const int config_nkeys;

/*
 * After file and options: make paths absolute (relative to cwd), fill the
 * derived defaults (access_log, error_log under run_dir) and check what can
 * be checked without the network. Returns 0, or -1 with a reason in err.
 */
int config_finish(struct labd_config *c, const char *cwd, char *err, size_t errlen);

/*
 * The bundled site for a binary at exe_path: the first directory among
 * EXE_DIR/../share/labd/www, EXE_DIR/../www, EXE_DIR/../../www that exists,
 * else LABD_DATADIR/www. Writes it into out (size n).
 */
void config_default_root(const char *exe_path, char *out, size_t n);

/* The default run directory for this user: /run/labd, $XDG_RUNTIME_DIR/labd or /tmp/labd-UID. */
void config_default_run_dir(unsigned uid, const char *xdg_runtime_dir, char *out, size_t n);

#endif
