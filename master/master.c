/*
 * The master process: start-up, and forking and signalling the workers;
 * master_supervise.c runs the loop that follows.
 */
#include "master/master_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/pidfile.h"
#include "master/proctitle.h"
#include "shared/clock.h"
#include "shared/cpu.h"
#include "shared/log.h"
#include "shared/sandbox.h"
#include "worker/worker.h"

#define MASTER_RECENT   1024 /* closed connections kept per worker slot, for labmon's pid column */
#define MASTER_SB_CONNS 4096 /* live-connection records per worker slot, at most */

struct master_state master;

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

void master_publish(void)
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
    master_lab_publish();
}

/* In a child: the listening sockets other than keep's (NULL: all of them) are the master's. */
static void master_close_listen_unused(const struct listen_set *keep)
{
    if (keep != &master.ls)
        listen_close(&master.ls);
    if (keep != &master.next_ls)
        listen_close(&master.next_ls);
}

/*
 * cpu-affinity auto and accept cpu: worker `number` (counted from 1) runs
 * only on its own CPU of the set the master may use (labd.8, CPU AFFINITY,
 * says when that pays). Returns that CPU, or -1 when the worker runs
 * anywhere. A failure only costs speed, so it is a warning.
 */
static int master_pin_worker(const struct labd_config *cfg, unsigned number)
{
    cpu_set_t allowed;
    int cpu;

    if (!cfg->cpu_affinity && cfg->accept != CONFIG_ACCEPT_CPU)
        return -1;
    cpu_allowed(&allowed);
    cpu = cpu_for_worker(&allowed, number - 1);
    if (cpu >= 0 && cpu_pin_self(cpu) < 0) {
        log_warn("worker %u: cannot pin to CPU %d: %s", number, cpu, strerror(errno));
        return -1;
    }
    return cpu;
}

/*
 * accept cpu: the worker's own SO_REUSEPORT sockets say which CPU it runs
 * on, and the kernel (Linux 6.2 and later) hands a new connection to the
 * socket whose CPU took its SYN, by hash among all when none did. On
 * loopback and in the lab that CPU is the client's, so a client thread and
 * the worker that answers it share a CPU and its caches, and a wake-up needs
 * no other CPU. A failure only costs speed, so it is a warning.
 */
static void master_worker_cpu_sockets(const struct labd_config *cfg, unsigned number, int cpu,
                                      const int *fds, const unsigned char *own, int n)
{
    if (cfg->accept != CONFIG_ACCEPT_CPU || cpu < 0)
        return;
    for (int i = 0; i < n; i++) {
        if (own[i] && setsockopt(fds[i], SOL_SOCKET, SO_INCOMING_CPU, &cpu, sizeof(cpu)) < 0)
            log_warn("worker %u: SO_INCOMING_CPU %d: %s", number, cpu, strerror(errno));
    }
}

void master_child_setup(const struct listen_set *keep, pid_t master_pid, const char *title,
                        const char *detail)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGCHLD };
    sigset_t none;

    close(master.sig_fd);
    if (master.pid_fd >= 0)
        close(master.pid_fd);
    if (master.lifeline_fd >= 0)
        close(master.lifeline_fd);
    /* Another worker's seccomp listener would let this one answer for it. */
    for (unsigned i = 0; i < master.nslots; i++) {
        if (master.procs[i].ready_rd >= 0)
            close(master.procs[i].ready_rd);
        if (master.procs[i].notify_fd >= 0)
            close(master.procs[i].notify_fd);
    }
    master_close_listen_unused(keep);
    /* The namespaces' descriptors are the master's: a child must not hold the link. */
    lab_net_close(&master.lab);
    /* Not the terminal of `labd start`: it would wait for EOF on it forever. */
    if (master.daemon)
        log_capture_stderr();
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Never outlive the master (the child may ask again; harmless). */
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != master_pid)
        _exit(1);
    proctitle_set(title, detail);
}

/* In the child: become worker `number` and never return. */
static void master_become_worker(unsigned slot, unsigned number, const struct labd_config *cfg,
                                 const struct master_cred *cred, const struct listen_set *ls,
                                 int ready_wr, pid_t master_pid)
{
    struct worker_start ws;
    char name[32];

    snprintf(name, sizeof(name), "labd: worker %u", number);
    master_child_setup(ls, master_pid, name, cfg->run_dir);
    sb_slot_set_pid(&master.sb, slot, (int32_t)getpid());
    int cpu = master_pin_worker(cfg, number);

    /* Still root: the sandbox opens the root now, whatever its parents' modes. */
    struct sandbox_worker_plan plan = { .root = cfg->root, .channel_fd = ready_wr };
    char err[PATH_MAX + 64];
    if (sandbox_worker_prepare(&plan, err, sizeof(err)) < 0) {
        log_error("worker %u: %s", number, err);
        _exit(1);
    }
    /* The worker's messages name its user, also when it is a default one. */
    static struct labd_config wcfg;
    wcfg = *cfg;
    if (cred->on)
        snprintf(wcfg.user, sizeof(wcfg.user), "%s", cred->name);

    static int fds[WORKER_MAX_LISTEN];
    static unsigned char own[WORKER_MAX_LISTEN];
    memset(&ws, 0, sizeof(ws));
    ws.cfg = &wcfg;
    ws.listen_fds = fds;
    ws.listen_own = own;
    ws.nlisten = listen_worker_fds(ls, number, cfg->workers, fds, own, WORKER_MAX_LISTEN);
    listen_close_others(ls == &master.ls ? &master.ls : &master.next_ls, fds, ws.nlisten);
    master_worker_cpu_sockets(cfg, number, cpu, fds, own, ws.nlisten);
    ws.sb = &master.sb;
    ws.slot = slot;
    ws.number = number;
    ws.ready_fd = ready_wr;
    ws.switch_user = cred->on;
    ws.uid = cred->uid;
    ws.gid = cred->gid;
    exit(worker_main(&ws));
}

static int master_free_slot(void)
{
    for (unsigned i = 0; i < master.nslots; i++) {
        if (master.procs[i].pid == 0)
            return (int)i;
    }
    return -1;
}

int master_spawn(unsigned number, unsigned generation, const struct labd_config *cfg,
                 const struct master_cred *cred, const struct listen_set *ls)
{
    int slot = master_free_slot();
    int p[2];
    pid_t pid, master_pid = getpid();

    if (slot < 0) {
        log_error("no free scoreboard slot for worker %u (old workers still draining)", number);
        return -1;
    }
    /* A datagram channel: the worker's seccomp listener, then its ready byte. */
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0) {
        log_error("channel for worker %u: %s", number, strerror(errno));
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
                                               .started_ms = clock_mono_ms(),
                                               .notify_fd = -1 };
    if (master_reopen_setup(&master.procs[slot], cfg) < 0)
        log_error("worker %u: no memory for its log paths: it cannot reopen its logs", number);
    log_info("worker %u started (pid %d, generation %u)", number, (int)pid, generation);
    return 0;
}

void master_signal_all(int sig)
{
    for (unsigned i = 0; i < master.nslots; i++) {
        if (master.procs[i].pid > 0)
            kill(master.procs[i].pid, sig);
    }
}

int master_alive_count(void)
{
    int n = 0;

    for (unsigned i = 0; i < master.nslots; i++)
        n += master.procs[i].pid > 0;
    return n;
}

void master_remove_files(void)
{
    unlink(master.sb_path);
    unlink(master.pid_path);
}

void master_abort_start(const char *fmt, ...)
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

void master_notify_started(void)
{
    char addrs[512] = "";
    size_t off = 0;
    int null_fd;

    /* Up to LISTEN_MAX names may not all fit: the line then ends with what did. */
    for (int i = 0; i < master.ls.n && off < sizeof(addrs) - 1; i++)
        off += (size_t)snprintf(addrs + off, sizeof(addrs) - off, "%s%s", i ? " " : "",
                                master.ls.names[i]);
    log_notice("labd %s started: listening on %s, %d workers, accept %s (%s), root %s",
               LABD_VERSION, addrs, master.cfg.workers, config_accept_name(master.cfg.accept),
               master.accept_why, master.cfg.root);
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

    memset(&master, 0, sizeof(master));
    master.ms = ms;
    master.cfg = *cfg;
    master.lifeline_fd = ms->lifeline_fd;
    master.daemon = ms->lifeline_fd >= 0;
    master.pid_fd = -1;
    for (unsigned i = 0; i < MASTER_MAX_SLOTS; i++) {
        master.procs[i].ready_rd = -1;
        master.procs[i].notify_fd = -1;
    }

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
    master_describe_sandbox(&master.cred);
    listen_accept_resolve(&master.cfg, master.accept_why, sizeof(master.accept_why));
    if (master_lab_open(err, sizeof(err)) < 0 ||
        master_lab_listen(&master.cfg, &master.ls, 0, err, sizeof(err)) < 0)
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

    if (master_lab_wire_start(err, sizeof(err)) < 0)
        master_abort_start("%s", err);
    master.phase = MASTER_PHASE_STARTING;
    master.phase_deadline_ms = clock_mono_ms() + MASTER_READY_MS;
    for (int n = 1; n <= master.cfg.workers; n++) {
        if (master_spawn((unsigned)n, 0, &master.cfg, &master.cred, &master.ls) < 0)
            master_abort_start("cannot start worker %d: %s", n, strerror(errno));
    }

    return master_supervise();
}
