/*
 * Inside the master: the state and helpers shared by its two files.
 *
 * master.c (start-up and the worker processes), master_supervise.c (the
 * loop) and master_lab.c (labd --lab: the link and the wire process)
 * include this; other modules use master.h.
 */
#ifndef LABD_MASTER_INT_H
#define LABD_MASTER_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "master/lab_net.h"
#include "master/listen.h"
#include "master/master.h"
#include "master/respawn.h"
#include "shared/scoreboard.h"
#include "worker/mime.h"

#define MASTER_MAX_SLOTS   128
#define MASTER_MAX_WORKERS 64    /* the configuration's upper bound for workers */
#define MASTER_READY_MS    10000 /* a worker not ready by then failed to start */

enum master_phase {
    MASTER_PHASE_STARTING, /* first workers forked, not all ready yet */
    MASTER_PHASE_RUNNING,
    MASTER_PHASE_RELOADING, /* a new generation is starting beside the old one */
    MASTER_PHASE_STOPPING,
};

/* One worker process, indexed by its scoreboard slot. */
struct master_proc {
    pid_t pid; /* 0: slot free */
    unsigned number;
    unsigned generation;
    int ready_rd; /* its channel (ready byte, seccomp listener), -1 when done */
    int ready;
    int retiring;       /* told to stop (QUIT or TERM) */
    int64_t started_ms; /* CLOCK_MONOTONIC */
    int64_t kill_at_ms; /* SIGKILL if still alive then; 0 none */
    int notify_fd;      /* its sandbox's seccomp listener: log reopens; -1 none */
    char *logs[2];      /* the error and access log it may reopen; NULL none */
};

/* Respawn bookkeeping per worker number of the current generation. */
struct master_number {
    int pending; /* respawn at at_ms */
    int64_t at_ms;
    struct respawn_state rs;
};

/* The workers' user: they switch to uid/gid (only when we are root). */
struct master_cred {
    int on;
    uid_t uid;
    gid_t gid;
    char name[CONFIG_USER_MAX];
};

/* The lab wire process (master_lab.c), run when the lab link has knobs. */
struct master_wire {
    pid_t pid; /* 0: not running */
    int64_t started_ms;
    int64_t respawn_at_ms; /* start it then; 0: nothing pending */
    int64_t kill_at_ms;    /* SIGKILL if still alive then; 0: none */
    int restart;           /* TERM sent by a reload: start it again, new knobs, once reaped */
    int stopping;          /* TERM sent by the stop: it is not coming back */
    uid_t uid;             /* who it runs as once its sockets are open */
    gid_t gid;
    int switch_user;
    struct respawn_state rs;
};

struct master_state {
    const struct master_start *ms;
    struct labd_config cfg;  /* the running generation's */
    struct labd_config next; /* the generation a reload is starting */
    struct listen_set ls;
    struct listen_set next_ls;          /* new sockets when a reload rebinds, else n = 0 */
    int copies_before;                  /* reuseport copies before a reload grew them */
    char accept_why[64];                /* why accept is what it is (the start line) */
    struct mime_saved mime_old;         /* during a reload: the table to go back to */
    struct master_cred cred, next_cred; /* of master.cfg and master.next */
    struct scoreboard sb;
    char pid_path[PATH_MAX + 16];
    char sb_path[PATH_MAX + 32];
    int pid_fd;
    int sig_fd;
    int lifeline_fd;
    int daemon; /* started by `start`: workers' stderr is the error log */
    unsigned nslots;
    unsigned generation;
    enum master_phase phase;
    int64_t phase_deadline_ms; /* start or reload must be done by then */
    int stop_fast;
    struct master_proc procs[MASTER_MAX_SLOTS];
    struct master_number numbers[MASTER_MAX_WORKERS + 1]; /* by worker number, 1.. */
    struct lab_net lab;      /* --lab: the link; its descriptors are -1 without */
    struct master_wire wire; /* --lab with knobs: the process that carries the link */
    struct sb_lab *sb_lab;   /* --lab: the scoreboard's lab records, else NULL */
};

extern struct master_state master;

/* Fork worker `number` of `generation`. Returns 0, or -1 (logged). */
int master_spawn(unsigned number, unsigned generation, const struct labd_config *cfg,
                 const struct master_cred *cred, const struct listen_set *ls);
void master_signal_all(int sig);
int master_alive_count(void);

/* Write the scoreboard header's description of the running generation. */
void master_publish(void);

/* The first generation serves: log it and, for `start`, release the terminal. */
void master_notify_started(void);

/* Start-up failed: take the workers down, then one line on stderr and exit 1. */
void master_abort_start(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The pid file and the scoreboard go when the master does. */
void master_remove_files(void);

/*
 * The workers' user when we are root (master_privs.c): --user NAME, else the
 * user who ran sudo, else nobody; a root user runs them as root (with a
 * warning), and no switch happens. Not root: no switch. Returns 0, or -1
 * with a reason in err.
 */
int master_resolve_user(const struct labd_config *c, struct master_cred *cr, char *err,
                        size_t errlen);

/* Hand the log files to the workers' user (when they switch). */
void master_chown_logs(const struct labd_config *c, const struct master_cred *cr);

/*
 * In a new child of the master, first thing: close what is only the
 * master's (signalfd, pid file, lifeline, ready pipes, the listening sockets
 * other than keep's, the lab namespaces), default signals, die with the
 * master, and take the process title "TITLE DETAIL".
 */
void master_child_setup(const struct listen_set *keep, pid_t master_pid, const char *title,
                        const char *detail);

/* At start: the workers' user, and what the kernel offers to confine them. */
void master_describe_sandbox(const struct master_cred *cr);

/* Remember the logs w may reopen (its generation's cfg). Returns 0, or -1. */
int master_reopen_setup(struct master_proc *w, const struct labd_config *cfg);

/* w is gone: free what master_reopen_setup kept, close its listener. */
void master_reopen_release(struct master_proc *w);

/* w's listener is readable: answer its log reopen. */
void master_answer_reopen(struct master_proc *w);

/* From the first generation's start to the last worker's end; returns the exit status. */
enum ctl_exit master_supervise(void);

/* ---- master_lab.c: labd --lab -------------------------------------------- */

/*
 * Build the lab link when master.cfg says --lab (nothing to do otherwise).
 * Returns 0, or -1 with one line in err ("--lab needs root ...").
 */
int master_lab_open(char *err, size_t errlen);

/*
 * listen_open(c, ls), or with grow listen_grow(ls, c->workers), where labd's
 * sockets belong: inside the lab namespace with --lab. 0, or -1 with err.
 */
int master_lab_listen(const struct labd_config *c, struct listen_set *ls, int grow, char *err,
                      size_t errlen);

/* The lab link's record in the scoreboard, after every change of the configuration. */
void master_lab_publish(void);

/* Start the wire process if the link needs one. 0, or -1 with err. */
int master_lab_wire_start(char *err, size_t errlen);

/* A reaped child: 1 if it was the wire (respawned later unless stopping), else 0. */
int master_lab_reaped(pid_t pid, int status);

/*
 * Can a reload go from master.cfg to next? The link stays as it is: --lab
 * on or off, another /30, or the wire in or out of the link need a restart.
 * 0, or -1 with one line in err.
 */
int master_lab_reload_check(const struct labd_config *next, char *err, size_t errlen);

/* A reload committed: if the knobs changed, the wire restarts with them. */
void master_lab_reload_commit(const struct lab_opts *old);

/*
 * The stop, once the workers are gone: TERM the wire (the first call).
 * Returns 1 while the wire still runs, 0 when the master may exit.
 */
int master_lab_stopping(void);

/* The wire's timers due at now (respawn, SIGKILL); returns the next one, or -1 for none. */
int64_t master_lab_timers(int64_t now);

#endif
