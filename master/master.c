/* The master process: start-up, the supervision loop, reload and stop. */
#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/listen.h"
#include "master/pidfile.h"
#include "master/proctitle.h"
#include "master/respawn.h"
#include "shared/clock.h"
#include "shared/cpu.h"
#include "shared/log.h"
#include "shared/scoreboard.h"
#include "worker/mime.h"
#include "worker/worker.h"

#define MASTER_MAX_SLOTS   128
#define MASTER_MAX_WORKERS 64   /* the configuration's upper bound for workers */
#define MASTER_RECENT      1024 /* closed connections kept per worker slot, for labmon's pid column */
#define MASTER_SB_CONNS    4096  /* live-connection records per worker slot, at most */
#define MASTER_READY_MS    10000 /* a worker not ready by then failed to start */
#define MASTER_FAST_KILLMS 1000  /* fast stop: SIGKILL what TERM did not end */

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
    int ready_rd; /* read end of its ready pipe, -1 when done */
    int ready;
    int retiring;       /* told to stop (QUIT or TERM) */
    int64_t started_ms; /* CLOCK_MONOTONIC */
    int64_t kill_at_ms; /* SIGKILL if still alive then; 0 none */
};

/* Respawn bookkeeping per worker number of the current generation. */
struct master_number {
    int pending; /* respawn at at_ms */
    int64_t at_ms;
    struct respawn_state rs;
};

/* --user resolved: the workers switch to uid/gid (only when we are root). */
struct master_cred {
    int on;
    uid_t uid;
    gid_t gid;
};

static struct master_state {
    const struct master_start *ms;
    struct labd_config cfg;  /* the running generation's */
    struct labd_config next; /* the generation a reload is starting */
    struct listen_set ls;
    struct listen_set next_ls;          /* new sockets when a reload rebinds, else n = 0 */
    int copies_before;                  /* reuseport copies before a reload grew them */
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
} master;

/* "exit status 3" / "killed by signal 9 (Killed)" for the log. */
static void master_describe_status(int status, char *out, size_t n)
{
    if (WIFEXITED(status))
        snprintf(out, n, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, n, "status 0x%x", (unsigned)status);
}

static int master_mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Write the scoreboard header's description of the running generation. */
static void master_publish(void)
{
    struct sb_header *h = master.sb.hdr;
    const struct labd_config *c = &master.cfg;

    sb_write_begin(&h->seq);
    h->master_pid = (int32_t)getpid();
    h->generation = master.generation;
    h->port = (uint16_t)c->port;
    h->nworkers = (uint32_t)c->workers;
    memset(h->binds, 0, sizeof(h->binds));
    if (c->nbinds == 0) {
        /* All addresses: "*" for the dual-stack [::] socket, "0.0.0.0" when
         * the kernel had no IPv6 and labd fell back to IPv4 alone. */
        h->nbinds = 1;
        snprintf(h->binds[0], SB_BIND_MAX, "%s",
                 master.ls.n == 1 && strncmp(master.ls.names[0], "0.0.0.0:", 8) == 0 ? "0.0.0.0"
                                                                                     : "*");
    } else {
        h->nbinds = (uint16_t)(c->nbinds < SB_MAX_BINDS ? c->nbinds : SB_MAX_BINDS);
        for (int i = 0; i < h->nbinds; i++)
            snprintf(h->binds[i], SB_BIND_MAX, "%s", c->binds[i]);
    }
    /* A longer root is shown truncated; the scoreboard is informational. */
    memset(h->root, 0, sizeof(h->root));
    memcpy(h->root, c->root, strnlen(c->root, sizeof(h->root) - 1));
    sb_write_end(&h->seq);
}

static void master_close_listen_unused(const struct listen_set *keep)
{
    if (keep != &master.ls)
        listen_close(&master.ls);
    if (keep != &master.next_ls)
        listen_close(&master.next_ls);
}

/*
 * cpu-affinity auto: worker `number` (counted from 1) runs only on its own
 * CPU of the set the master may use (labd.8, CPU AFFINITY, says when that
 * pays). A failure only costs speed, so it is a warning.
 */
static void master_pin_worker(const struct labd_config *cfg, unsigned number)
{
    cpu_set_t allowed;
    int cpu;

    if (!cfg->cpu_affinity)
        return;
    cpu_allowed(&allowed);
    cpu = cpu_for_worker(&allowed, number - 1);
    if (cpu >= 0 && cpu_pin_self(cpu) < 0)
        log_warn("worker %u: cannot pin to CPU %d: %s", number, cpu, strerror(errno));
}

/* In the child: become worker `number` and never return. */
static void master_become_worker(unsigned slot, unsigned number, const struct labd_config *cfg,
                                 const struct master_cred *cred, const struct listen_set *ls,
                                 int ready_wr, pid_t master_pid)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGCHLD };
    struct worker_start ws;
    sigset_t none;

    close(master.sig_fd);
    if (master.pid_fd >= 0)
        close(master.pid_fd);
    if (master.lifeline_fd >= 0)
        close(master.lifeline_fd);
    for (unsigned i = 0; i < master.nslots; i++) {
        if (master.procs[i].ready_rd >= 0)
            close(master.procs[i].ready_rd);
    }
    master_close_listen_unused(ls);
    /* Not the terminal of `labd start`: it would wait for EOF on it forever. */
    if (master.daemon)
        log_capture_stderr();
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Never outlive the master (the worker may ask again; harmless). */
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != master_pid)
        _exit(1);
    sb_slot_set_pid(&master.sb, slot, (int32_t)getpid());
    char name[32];
    snprintf(name, sizeof(name), "labd: worker %u", number);
    proctitle_set(name, cfg->run_dir);
    master_pin_worker(cfg, number);

    static int fds[WORKER_MAX_LISTEN];
    memset(&ws, 0, sizeof(ws));
    ws.cfg = cfg;
    ws.listen_fds = fds;
    ws.nlisten = listen_worker_fds(ls, number, cfg->workers, fds, WORKER_MAX_LISTEN);
    /* Reuseport: the other workers' sockets must close when they do, not live on here. */
    listen_close_others(ls == &master.ls ? &master.ls : &master.next_ls, fds, ws.nlisten);
    ws.sb = &master.sb;
    ws.slot = slot;
    ws.number = number;
    ws.ready_fd = ready_wr;
    ws.switch_user = cred->on;
    ws.uid = cred->uid;
    ws.gid = cred->gid;
    exit(worker_main(&ws));
}

/* --user NAME: resolved when we are root (the workers switch to it), else ignored. */
static int master_resolve_user(const struct labd_config *c, struct master_cred *cr, char *err,
                               size_t errlen)
{
    struct passwd *pw;

    memset(cr, 0, sizeof(*cr));
    if (c->user[0] == '\0')
        return 0;
    if (geteuid() != 0) {
        log_warn("user %s ignored: labd is not running as root", c->user);
        return 0;
    }
    pw = getpwnam(c->user);
    if (pw == NULL) {
        snprintf(err, errlen, "unknown user %s (--user)", c->user);
        return -1;
    }
    cr->on = 1;
    cr->uid = pw->pw_uid;
    cr->gid = pw->pw_gid;
    return 0;
}

/*
 * With --user, the log files belong to that user, as nginx does: the workers
 * open them before switching, and reopen them on USR1 after the master has
 * created (as root, in a directory they may not write) and handed over the
 * new files.
 */
static void master_chown_logs(const struct labd_config *c, const struct master_cred *cr)
{
    const char *paths[] = { master.ms->log_to_stderr ? "" : c->error_log,
                            strcmp(c->access_log, "off") == 0 ? "" : c->access_log };

    if (!cr->on)
        return;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (paths[i][0] == '\0')
            continue;
        int fd = open(paths[i], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0 || fchown(fd, cr->uid, cr->gid) < 0)
            log_warn("cannot give %s to user %s: %s", paths[i], c->user, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
}

static int master_free_slot(void)
{
    for (unsigned i = 0; i < master.nslots; i++) {
        if (master.procs[i].pid == 0)
            return (int)i;
    }
    return -1;
}

/* Fork worker `number` of `generation`. Returns 0, or -1 (logged). */
static int master_spawn(unsigned number, unsigned generation, const struct labd_config *cfg,
                        const struct master_cred *cred, const struct listen_set *ls)
{
    int slot = master_free_slot();
    int p[2];
    pid_t pid, master_pid = getpid();

    if (slot < 0) {
        log_error("no free scoreboard slot for worker %u (old workers still draining)", number);
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        log_error("pipe for worker %u: %s", number, strerror(errno));
        return -1;
    }
    sb_slot_prepare(&master.sb, (uint32_t)slot, number, generation, clock_real_ns());
    pid = fork();
    if (pid < 0) {
        log_error("fork for worker %u: %s", number, strerror(errno));
        close(p[0]);
        close(p[1]);
        sb_slot_dead(&master.sb, (uint32_t)slot);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        master_become_worker((unsigned)slot, number, cfg, cred, ls, p[1], master_pid);
    }
    close(p[1]);
    master.procs[slot] = (struct master_proc){ .pid = pid,
                                               .number = number,
                                               .generation = generation,
                                               .ready_rd = p[0],
                                               .started_ms = clock_mono_ms() };
    log_info("worker %u started (pid %d, generation %u)", number, (int)pid, generation);
    return 0;
}

static void master_signal_all(int sig)
{
    for (unsigned i = 0; i < master.nslots; i++) {
        if (master.procs[i].pid > 0)
            kill(master.procs[i].pid, sig);
    }
}

static int master_alive_count(void)
{
    int n = 0;

    for (unsigned i = 0; i < master.nslots; i++)
        n += master.procs[i].pid > 0;
    return n;
}

static void master_remove_files(void)
{
    unlink(master.sb_path);
    unlink(master.pid_path);
}

/* Start-up failed: take the workers down, then one line on stderr and exit 1. */
static void master_abort_start(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void master_abort_start(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int64_t until = clock_mono_ms() + 2000;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    master_signal_all(SIGTERM);
    while (master_alive_count() > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (unsigned i = 0; i < master.nslots; i++) {
                if (master.procs[i].pid == pid)
                    master.procs[i].pid = 0;
            }
            continue;
        }
        if (pid < 0)
            break;
        if (clock_mono_ms() > until)
            master_signal_all(SIGKILL);
        usleep(10000);
    }
    master_remove_files();
    log_die("%s", msg);
}

/* All of generation gen have written their ready byte. */
static int master_generation_ready(unsigned gen, int want)
{
    int n = 0;

    for (unsigned i = 0; i < master.nslots; i++) {
        const struct master_proc *w = &master.procs[i];
        if (w->pid > 0 && w->generation == gen && w->ready)
            n++;
    }
    return n >= want;
}

static void master_notify_started(void)
{
    char addrs[512] = "";
    size_t off = 0;
    int null_fd;

    /* Up to LISTEN_MAX names may not all fit: the line then ends with what did. */
    for (int i = 0; i < master.ls.n && off < sizeof(addrs) - 1; i++)
        off += (size_t)snprintf(addrs + off, sizeof(addrs) - off, "%s%s", i ? " " : "",
                                master.ls.names[i]);
    log_notice("labd %s started: listening on %s, %d workers, root %s", LABD_VERSION, addrs,
               master.cfg.workers, master.cfg.root);
    if (master.lifeline_fd < 0)
        return;
    /* A daemon: nothing more on the terminal; stderr (crash reports) goes to the log. */
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        close(null_fd);
    }
    log_capture_stderr();
    char ok = 0;
    if (write(master.lifeline_fd, &ok, 1) < 0)
        log_warn("start command went away before the server was ready");
    close(master.lifeline_fd);
    master.lifeline_fd = -1;
}

static void master_reload_commit(void)
{
    unsigned old = master.generation;

    master.generation++;
    for (unsigned i = 0; i < master.nslots; i++) {
        struct master_proc *w = &master.procs[i];
        if (w->pid > 0 && w->generation <= old && !w->retiring) {
            kill(w->pid, SIGQUIT);
            w->retiring = 1;
            w->kill_at_ms = clock_mono_ms() + master.cfg.grace_ms;
        }
    }
    if (master.next_ls.n > 0) {
        listen_close(&master.ls);
        master.ls = master.next_ls;
        master.next_ls.n = 0;
    }
    master.cfg = master.next;
    master.cred = master.next_cred;
    mime_saved_free(&master.mime_old);
    memset(master.numbers, 0, sizeof(master.numbers));
    log_set_level((enum log_level)master.cfg.log_level);
    master_publish();
    master.phase = MASTER_PHASE_RUNNING;
    log_notice("reload done: generation %u serving with %d workers, old workers retiring",
               master.generation, master.cfg.workers);
}

static void master_reload_abort(const char *why)
{
    log_error("reload failed: %s; keeping generation %u", why, master.generation);
    for (unsigned i = 0; i < master.nslots; i++) {
        struct master_proc *w = &master.procs[i];
        if (w->pid > 0 && w->generation == master.generation + 1 && !w->retiring) {
            kill(w->pid, SIGTERM);
            w->retiring = 1;
            w->kill_at_ms = clock_mono_ms() + MASTER_FAST_KILLMS;
        }
    }
    listen_close(&master.next_ls);
    /* Copies opened for more workers would get connections nobody accepts. */
    listen_shrink(&master.ls, master.copies_before);
    listen_set_defer(&master.ls, master.cfg.defer_accept_ms);
    mime_restore(&master.mime_old);
    master.phase = MASTER_PHASE_RUNNING;
}

static void master_reload_begin(void)
{
    struct labd_config c;
    char err[1024];
    struct stat st;
    int free_slots = 0;

    if (master.phase != MASTER_PHASE_RUNNING) {
        log_warn("reload ignored: %s", master.phase == MASTER_PHASE_RELOADING
                                           ? "a reload is in progress"
                                           : "the server is not running");
        return;
    }
    log_notice("reloading configuration%s%s", master.ms->cli->config_file[0] ? " from " : "",
               master.ms->cli->config_file);
    if (cli_config(master.ms->cli, master.ms->cwd, &c, err, sizeof(err)) < 0) {
        log_error("reload failed: %s; keeping generation %u", err, master.generation);
        return;
    }
    if (stat(c.root, &st) < 0 || !S_ISDIR(st.st_mode)) {
        log_error("reload failed: root folder missing: %s; keeping generation %u", c.root,
                  master.generation);
        return;
    }
    if (strcmp(c.run_dir, master.cfg.run_dir) != 0) {
        log_warn("reload: run-dir cannot change while running; keeping %s", master.cfg.run_dir);
        snprintf(c.run_dir, sizeof(c.run_dir), "%s", master.cfg.run_dir);
    }
    if (c.accept_reuseport != master.cfg.accept_reuseport) {
        log_warn("reload: accept cannot change while running (restart instead); keeping %s",
                 master.cfg.accept_reuseport ? "reuseport" : "exclusive");
        c.accept_reuseport = master.cfg.accept_reuseport;
    }
    for (unsigned i = 0; i < master.nslots; i++)
        free_slots += master.procs[i].pid == 0;
    if (c.workers > free_slots) {
        log_error("reload failed: %d workers need free scoreboard slots, %d free (old workers "
                  "still draining, or more workers than at start-up allows: restart instead); "
                  "keeping generation %u",
                  c.workers, free_slots, master.generation);
        return;
    }
    if (master_resolve_user(&c, &master.next_cred, err, sizeof(err)) < 0) {
        log_error("reload failed: %s; keeping generation %u", err, master.generation);
        return;
    }
    /* Workers inherit the table: load it here, where a bad file refuses the reload. */
    mime_save(&master.mime_old);
    if (c.mime_types[0] != '\0' && mime_load_file(c.mime_types, err, sizeof(err)) < 0) {
        mime_restore(&master.mime_old);
        log_error("reload failed: cannot load mime types %s; keeping generation %u", err,
                  master.generation);
        return;
    }
    master.next_ls.n = 0;
    master.copies_before = master.ls.ncopies;
    /*
     * Reuseport: new worker n takes over the copies of old worker n, so
     * nothing queued on them is lost; more workers need more copies.
     */
    if (listen_same(&c, &master.cfg) ? listen_grow(&master.ls, c.workers, err, sizeof(err)) < 0
                                     : listen_open(&c, &master.next_ls, err, sizeof(err)) < 0) {
        listen_shrink(&master.ls, master.copies_before);
        mime_restore(&master.mime_old);
        log_error("reload failed: %s; keeping generation %u", err, master.generation);
        return;
    }
    if (master.next_ls.n == 0)
        listen_set_defer(&master.ls, c.defer_accept_ms);
    if (strcmp(c.error_log, master.cfg.error_log) != 0 && !master.ms->log_to_stderr &&
        log_open(c.error_log) < 0)
        log_error("reload: cannot open error log %s: %s; keeping the old one", c.error_log,
                  strerror(errno));
    master_chown_logs(&c, &master.next_cred);
    master.next = c;
    master.phase = MASTER_PHASE_RELOADING;
    master.phase_deadline_ms = clock_mono_ms() + MASTER_READY_MS;
    for (int n = 1; n <= c.workers; n++) {
        if (master_spawn((unsigned)n, master.generation + 1, &master.next, &master.next_cred,
                         master.next_ls.n > 0 ? &master.next_ls : &master.ls) < 0) {
            master_reload_abort("cannot fork the new workers");
            return;
        }
    }
}

static void master_stop_begin(int fast)
{
    int sig = fast ? SIGTERM : SIGQUIT;

    if (master.phase == MASTER_PHASE_STOPPING && (master.stop_fast || !fast))
        return;
    log_notice("%s stop: %d workers to end", fast ? "fast" : "graceful", master_alive_count());
    master.phase = MASTER_PHASE_STOPPING;
    master.stop_fast = fast;
    /* The master's copies go now; the port frees as workers close theirs. */
    listen_close(&master.ls);
    listen_close(&master.next_ls);
    for (unsigned i = 0; i < master.nslots; i++) {
        struct master_proc *w = &master.procs[i];
        if (w->pid <= 0)
            continue;
        kill(w->pid, sig);
        w->retiring = 1;
        int64_t at = clock_mono_ms() + (fast ? MASTER_FAST_KILLMS : master.cfg.grace_ms);
        if (w->kill_at_ms == 0 || at < w->kill_at_ms)
            w->kill_at_ms = at;
    }
    memset(master.numbers, 0, sizeof(master.numbers));
}

static void master_schedule_respawn(struct master_proc *w, int64_t now)
{
    struct master_number *r = &master.numbers[w->number];
    int64_t delay = respawn_delay(&r->rs, w->ready, now - w->started_ms);

    if (delay < 0) {
        log_error("worker %u failed at start-up %d times in a row; not respawning it (fix "
                  "the cause above, then: labd reload)",
                  w->number, r->rs.start_failures);
        /* Its reuseport sockets would collect connections for nobody (reload reopens them). */
        if (w->generation == master.generation)
            listen_close_worker(&master.ls, w->number, master.cfg.workers);
        return;
    }
    r->pending = 1;
    r->at_ms = now + delay;
    if (delay > 0)
        log_warn("worker %u will be respawned in %lld ms", w->number, (long long)delay);
}

/*
 * The ready pipe of w has something: its ready byte, or EOF if it died
 * first. Either way the pipe has done its job and is closed; only a read
 * that was interrupted leaves it for the next turn, unless w is gone (dead).
 */
static void master_read_ready(struct master_proc *w, int dead)
{
    char b;
    ssize_t n = read(w->ready_rd, &b, 1);

    if (n < 0 && (errno == EINTR || errno == EAGAIN) && !dead)
        return;
    if (n == 1) {
        w->ready = 1;
        log_info("worker %u (pid %d) ready", w->number, (int)w->pid);
    }
    close(w->ready_rd);
    w->ready_rd = -1;
}

static void master_reap(void)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct master_proc *w = NULL;
        unsigned slot = 0;
        char how[96];

        for (unsigned i = 0; i < master.nslots; i++) {
            if (master.procs[i].pid == pid) {
                w = &master.procs[i];
                slot = i;
            }
        }
        if (!w)
            continue;
        if (w->ready_rd >= 0)
            master_read_ready(w, 1);
        sb_slot_dead(&master.sb, slot);
        master_describe_status(status, how, sizeof(how));
        struct master_proc dead = *w;
        w->pid = 0;

        if (dead.retiring) {
            log_info("worker %u (pid %d) exited: %s", dead.number, (int)pid, how);
            continue;
        }
        if (master.phase == MASTER_PHASE_STARTING)
            master_abort_start("worker %u failed to start (%s); see %s", dead.number, how,
                               master.ms->log_to_stderr ? "the messages above"
                                                        : master.cfg.error_log);
        if (master.phase == MASTER_PHASE_RELOADING && dead.generation == master.generation + 1) {
            char why[160];
            snprintf(why, sizeof(why), "new worker %u %s (%s)", dead.number,
                     dead.ready ? "died" : "failed to start", how);
            master_reload_abort(why);
            continue;
        }
        if (master.phase == MASTER_PHASE_STOPPING)
            continue;
        log_error("worker %u (pid %d) %s: %s; respawning", dead.number, (int)pid,
                  dead.ready ? "died" : "failed at start-up", how);
        master_schedule_respawn(&dead, clock_mono_ms());
    }
}

static void master_on_signal(int signo)
{
    switch (signo) {
    case SIGCHLD:
        master_reap();
        break;
    case SIGTERM:
    case SIGINT:
        master_stop_begin(1);
        break;
    case SIGQUIT:
        master_stop_begin(0);
        break;
    case SIGHUP:
        master_reload_begin();
        break;
    case SIGUSR1:
        if (log_reopen() < 0)
            log_error("cannot reopen the error log: %s", strerror(errno));
        else
            log_notice("error log reopened");
        master_chown_logs(&master.cfg, &master.cred);
        master_signal_all(SIGUSR1);
        break;
    default:
        break;
    }
}

/* Keep in *next the earliest of the timers seen so far (-1: none yet). */
static void master_next(int64_t *next, int64_t at)
{
    if (*next < 0 || at < *next)
        *next = at;
}

/* SIGKILL the retiring workers whose time is up. */
static void master_kills_due(int64_t now, int64_t *next)
{
    for (unsigned i = 0; i < master.nslots; i++) {
        struct master_proc *w = &master.procs[i];
        if (w->pid <= 0 || w->kill_at_ms == 0)
            continue;
        if (w->kill_at_ms <= now) {
            log_warn("worker %u (pid %d) still running: SIGKILL", w->number, (int)w->pid);
            kill(w->pid, SIGKILL);
            w->kill_at_ms = 0;
        } else {
            master_next(next, w->kill_at_ms);
        }
    }
}

/* Start the worker numbers whose back-off is over; a failed fork tries again in a second. */
static void master_respawns_due(int64_t now, int64_t *next)
{
    for (int n = 1; n <= master.cfg.workers; n++) {
        struct master_number *r = &master.numbers[n];
        if (!r->pending)
            continue;
        if (r->at_ms <= now) {
            r->pending = 0;
            if (master_spawn((unsigned)n, master.generation, &master.cfg, &master.cred,
                             &master.ls) < 0) {
                r->pending = 1;
                r->at_ms = now + 1000;
                master_next(next, r->at_ms);
            }
        } else {
            master_next(next, r->at_ms);
        }
    }
}

/* Timers: kills due, respawns due, phase deadlines. Returns ms until the next one, -1 none. */
static int master_timers(void)
{
    int64_t now = clock_mono_ms();
    int64_t next = -1;

    master_kills_due(now, &next);
    if (master.phase == MASTER_PHASE_RUNNING)
        master_respawns_due(now, &next);
    if (master.phase == MASTER_PHASE_STARTING || master.phase == MASTER_PHASE_RELOADING) {
        if (master.phase_deadline_ms <= now) {
            if (master.phase == MASTER_PHASE_STARTING)
                master_abort_start("workers not ready after %d s; see %s", MASTER_READY_MS / 1000,
                                   master.ms->log_to_stderr ? "the messages above"
                                                            : master.cfg.error_log);
            master_reload_abort("new workers not ready in time");
        } else {
            master_next(&next, master.phase_deadline_ms);
        }
    }
    if (next < 0)
        return -1;
    return next - now > 60000 ? 60000 : (int)(next - now);
}

/* Anything left to supervise? A master whose workers all gave up stops. */
static int master_has_work(void)
{
    if (master_alive_count() > 0)
        return 1;
    for (int n = 1; n <= master.cfg.workers; n++) {
        if (master.numbers[n].pending)
            return 1;
    }
    return 0;
}

static void master_setup_signals(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    master.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (master.sig_fd < 0)
        log_die("signalfd: %s", strerror(errno));
}

/* Start-up failed with the pid file ours and no worker yet: remove the file, then log_die. */
static void master_die_unlink(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void master_die_unlink(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    unlink(master.pid_path);
    log_die("%s", msg);
}

static void master_check_root(const char *root)
{
    struct stat st;

    if (stat(root, &st) < 0) {
        if (errno == ENOENT)
            log_die("root folder missing: %s (create it or use --root DIR)", root);
        log_die("cannot use root folder %s: %s", root, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        log_die("root %s is not a folder (use --root DIR)", root);
    if (access(root, R_OK | X_OK) < 0)
        log_die("permission denied: cannot read root folder %s", root);
}

enum ctl_exit master_main(const struct labd_config *cfg, const struct master_start *ms)
{
    char err[1024];
    pid_t owner = 0;
    int rc;

    memset(&master, 0, sizeof(master));
    master.ms = ms;
    master.cfg = *cfg;
    master.lifeline_fd = ms->lifeline_fd;
    master.daemon = ms->lifeline_fd >= 0;
    master.pid_fd = -1;
    for (unsigned i = 0; i < MASTER_MAX_SLOTS; i++)
        master.procs[i].ready_rd = -1;

    if (master_mkdir_p(master.cfg.run_dir, 0755) < 0)
        log_die("cannot create run directory %s: %s", master.cfg.run_dir, strerror(errno));
    master_check_root(master.cfg.root);
    /* Loaded once here and inherited by every worker (fork), so a bad file is one clear line. */
    if (master.cfg.mime_types[0] != '\0' &&
        mime_load_file(master.cfg.mime_types, err, sizeof(err)) < 0)
        log_die("cannot load mime types %s", err);
    snprintf(master.pid_path, sizeof(master.pid_path), "%s/%s", master.cfg.run_dir, PIDFILE_NAME);
    snprintf(master.sb_path, sizeof(master.sb_path), "%s/%s", master.cfg.run_dir, SB_FILE);
    switch (pidfile_acquire(master.pid_path, &master.pid_fd, &owner)) {
    case PIDFILE_LOCKED:
        break;
    case PIDFILE_HELD:
        log_die("already running (pid %d)", (int)owner);
    case PIDFILE_ERROR:
        log_die("cannot lock pid file %s: %s", master.pid_path, strerror(errno));
    }
    if (!ms->log_to_stderr && log_open(master.cfg.error_log) < 0)
        log_die("cannot open error log %s: %s", master.cfg.error_log, strerror(errno));
    log_set_level((enum log_level)master.cfg.log_level);
    if (master_resolve_user(&master.cfg, &master.cred, err, sizeof(err)) < 0)
        master_die_unlink("%s", err);
    master_chown_logs(&master.cfg, &master.cred);
    if (listen_open(&master.cfg, &master.ls, err, sizeof(err)) < 0)
        master_die_unlink("%s", err);
    master.nslots = (unsigned)(2 * master.cfg.workers < 8 ? 8 : 2 * master.cfg.workers);
    if (master.nslots > MASTER_MAX_SLOTS)
        master.nslots = MASTER_MAX_SLOTS;
    /*
     * Records for live connections beyond MASTER_SB_CONNS per worker are not
     * kept (the worker serves them, unlisted): readers scan every record.
     */
    uint32_t sb_conns = (uint32_t)(master.cfg.max_conns_per_worker < MASTER_SB_CONNS
                                       ? master.cfg.max_conns_per_worker
                                       : MASTER_SB_CONNS);
    if (sb_create(&master.sb, master.sb_path, master.nslots, sb_conns, MASTER_RECENT) < 0)
        master_die_unlink("cannot create scoreboard %s: %s", master.sb_path, strerror(errno));
    master.sb.hdr->started_ns = clock_real_ns();
    master_publish();
    if (chdir("/") < 0)
        log_warn("chdir /: %s", strerror(errno));
    proctitle_set("labd: master", master.cfg.run_dir);
    master_setup_signals();

    master.phase = MASTER_PHASE_STARTING;
    master.phase_deadline_ms = clock_mono_ms() + MASTER_READY_MS;
    for (int n = 1; n <= master.cfg.workers; n++) {
        if (master_spawn((unsigned)n, 0, &master.cfg, &master.cred, &master.ls) < 0)
            master_abort_start("cannot start worker %d: %s", n, strerror(errno));
    }

    for (;;) {
        struct pollfd pfd[1 + MASTER_MAX_SLOTS];
        struct master_proc *who[1 + MASTER_MAX_SLOTS];
        int nfd = 0, timeout;

        if (master.phase == MASTER_PHASE_STARTING &&
            master_generation_ready(0, master.cfg.workers)) {
            master.phase = MASTER_PHASE_RUNNING;
            master_notify_started();
        }
        if (master.phase == MASTER_PHASE_RELOADING &&
            master_generation_ready(master.generation + 1, master.next.workers))
            master_reload_commit();
        if (master.phase == MASTER_PHASE_STOPPING && master_alive_count() == 0)
            break;
        if (master.phase == MASTER_PHASE_RUNNING && !master_has_work()) {
            log_error("no worker left running; the master exits");
            master_remove_files();
            return CTL_FAIL;
        }
        timeout = master_timers();

        pfd[nfd].fd = master.sig_fd;
        pfd[nfd].events = POLLIN;
        who[nfd++] = NULL;
        for (unsigned i = 0; i < master.nslots; i++) {
            if (master.procs[i].pid > 0 && master.procs[i].ready_rd >= 0) {
                pfd[nfd].fd = master.procs[i].ready_rd;
                pfd[nfd].events = POLLIN;
                who[nfd++] = &master.procs[i];
            }
        }
        rc = poll(pfd, (nfds_t)nfd, timeout);
        if (rc < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            sleep(1);
            continue;
        }
        for (int i = 1; rc > 0 && i < nfd; i++) {
            if (pfd[i].revents && who[i]->ready_rd == pfd[i].fd)
                master_read_ready(who[i], 0);
        }
        if (rc > 0 && (pfd[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(master.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                master_on_signal((int)si.ssi_signo);
        }
    }

    log_notice("all workers gone; labd exits");
    master_remove_files();
    sb_close(&master.sb);
    return CTL_OK;
}
