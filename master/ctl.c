/*
 * The labd commands as seen from the terminal: start waits on a lifeline,
 * stop waits for the end, status reads the scoreboard.
 */
#include "master/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "master/master.h"
#include "master/pidfile.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/scoreboard.h"

static void ctl_path(char *out, size_t n, const struct labd_config *c, const char *name)
{
    snprintf(out, n, "%s/%s", c->run_dir, name);
}

static void ctl_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Alive and not a zombie waiting for a parent that does not reap. */
static int ctl_alive(pid_t pid)
{
    char path[64], buf[256];
    char *p;
    ssize_t n;
    int fd;

    if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* The live master's pid, or 0 after printing "not running" to stderr. */
static pid_t ctl_running(const struct labd_config *c, int quiet)
{
    char path[PATH_MAX + 16];
    pid_t pid;

    ctl_path(path, sizeof(path), c, PIDFILE_NAME);
    pid = pidfile_owner(path);
    if (pid < 0) {
        fprintf(stderr, "labd: cannot read pid file %s: %s\n", path, strerror(errno));
        return 0;
    }
    if (pid == 0 && !quiet)
        fprintf(stderr, "labd: not running (no live server owns %s)\n", path);
    return pid;
}

/* The daemon side of `start`: detach from the terminal and run the master; never returns. */
static void ctl_daemon(const struct labd_config *c, const struct cli *cli, const char *cwd,
                       int lifeline_wr) __attribute__((noreturn));

static void ctl_daemon(const struct labd_config *c, const struct cli *cli, const char *cwd,
                       int lifeline_wr)
{
    static struct master_start ms;
    pid_t pid;
    int null_fd;

    setsid();
    pid = fork();
    if (pid < 0)
        log_die("fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    /* stdout is no business of a daemon; stderr stays until it is ready (errors). */
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        close(null_fd);
    }
    ms = (struct master_start){ .cli = cli, .lifeline_fd = lifeline_wr, .log_to_stderr = 0 };
    snprintf(ms.cwd, sizeof(ms.cwd), "%s", cwd);
    exit(master_main(c, &ms));
}

/* The lab link's record, when labd runs with --lab: 0, or -1. */
static int ctl_lab_link(const struct scoreboard *sb, struct lab_stats_link *l)
{
    const struct sb_lab *lab = sb_lab_at(sb);

    return lab ? sb_read(l, &lab->link, sizeof(*l)) : -1;
}

/*
 * labd status with --lab: the link's line ("lab: http://198.18.0.2:8080/ via
 * labd0 (MTU 1500, ...)") and the wire's counters, a line per direction.
 */
static void ctl_lab_status(const struct scoreboard *sb, FILE *out)
{
    struct lab_stats_link l;
    struct lab_stats w;
    char line[512];

    if (ctl_lab_link(sb, &l) < 0)
        return;
    lab_stats_status_line(&l, line, sizeof(line));
    fprintf(out, "%s\n", line);
    if (!l.wire) {
        fprintf(out, "wire: a kernel bridge (no knobs: nothing delayed or dropped)\n");
        return;
    }
    if (sb_read(&w, &sb_lab_at(sb)->wire, sizeof(w)) < 0 || w.wire_pid <= 0) {
        fprintf(out, "wire: not running\n");
        return;
    }
    fprintf(out, "wire: pid %d, loss seed %llu\n", (int)w.wire_pid, (unsigned long long)w.seed);
    for (int d = 0; d < LAB_STATS_NDIR; d++) {
        lab_stats_counters_line(&w, d, line, sizeof(line));
        fprintf(out, "  %s\n", line);
    }
}

/* labd start with --lab: where to point a browser. */
static void ctl_lab_started(const struct labd_config *c)
{
    char path[PATH_MAX + 32], url[64];
    struct lab_stats_link l;
    struct scoreboard sb;

    ctl_path(path, sizeof(path), c, SB_FILE);
    if (sb_open_read(&sb, path) < 0)
        return;
    if (ctl_lab_link(&sb, &l) == 0) {
        lab_stats_url(&l, url, sizeof(url));
        printf("labd: open %s in a browser on this machine (lab link %s: MTU %u, %s)\n", url,
               l.ifname, l.mtu, l.knobs);
    }
    sb_close(&sb);
}

enum ctl_exit ctl_start(const struct labd_config *c, const struct cli *cli, const char *cwd)
{
    char path[PATH_MAX + 16];
    int lifeline[2];
    pid_t pid, owner;
    char status;
    ssize_t n;

    /* Early, friendly check; the daemon checks again under the lock. */
    ctl_path(path, sizeof(path), c, PIDFILE_NAME);
    owner = pidfile_owner(path);
    if (owner > 0) {
        fprintf(stderr, "labd: already running (pid %d)\n", (int)owner);
        return CTL_FAIL;
    }
    if (pipe2(lifeline, O_CLOEXEC) < 0) {
        fprintf(stderr, "labd: pipe: %s\n", strerror(errno));
        return CTL_FAIL;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "labd: fork: %s\n", strerror(errno));
        close(lifeline[0]);
        close(lifeline[1]);
        return CTL_FAIL;
    }
    if (pid == 0) {
        close(lifeline[0]);
        ctl_daemon(c, cli, cwd, lifeline[1]);
    }
    close(lifeline[1]);
    waitpid(pid, NULL, 0);
    /* The daemon writes one zero byte once every worker is ready; EOF means it failed. */
    do {
        n = read(lifeline[0], &status, 1);
    } while (n < 0 && errno == EINTR);
    close(lifeline[0]);
    if (n != 1 || status != 0)
        return CTL_FAIL;
    printf("labd: started (pid %d), serving %s on port %d\n", (int)pidfile_owner(path), c->root,
           c->port);
    if (c->lab.on)
        ctl_lab_started(c);
    return CTL_OK;
}

enum ctl_exit ctl_run(const struct labd_config *c, const struct cli *cli, const char *cwd)
{
    static struct master_start ms;

    /* Under a supervisor or a terminal, stderr is the natural log unless one was named. */
    ms = (struct master_start){ .cli = cli, .lifeline_fd = -1, .log_to_stderr = 1 };
    snprintf(ms.cwd, sizeof(ms.cwd), "%s", cwd);
    for (int i = 0; i < cli->npairs; i++) {
        if (strcmp(cli->pairs[i].key, "error-log") == 0)
            ms.log_to_stderr = 0;
    }
    if (cli->config_file[0]) {
        struct labd_config d;
        char err[256];
        config_defaults(&d);
        /* An error-log in the config file counts as named too. */
        if (config_load_file(&d, cli->config_file, err, sizeof(err)) == 0 && d.error_log[0])
            ms.log_to_stderr = 0;
    }
    return master_main(c, &ms);
}

/*
 * What `stop` waits for besides the master, from the scoreboard: the pids
 * of the workers and of the lab wire, and with --lab the host's end of the
 * link (ifname, else ""), which goes with them.
 */
static int ctl_children(const struct labd_config *c, pid_t *pids, int max,
                        char ifname[LAB_STATS_IFNAME_MAX])
{
    char path[PATH_MAX + 32];
    struct scoreboard sb;
    struct lab_stats_link l;
    struct lab_stats w;
    int n = 0;

    ifname[0] = '\0';
    ctl_path(path, sizeof(path), c, SB_FILE);
    if (sb_open_read(&sb, path) < 0)
        return 0;
    for (uint32_t i = 0; i < sb.hdr->nslots && n < max; i++) {
        struct sb_worker wk;
        if (sb_read(&wk, sb_worker_at(&sb, i), sizeof(wk)) == 0 && wk.pid > 0 &&
            wk.state != SB_WORKER_FREE && wk.state != SB_WORKER_DEAD)
            pids[n++] = wk.pid;
    }
    if (ctl_lab_link(&sb, &l) == 0) {
        snprintf(ifname, LAB_STATS_IFNAME_MAX, "%.15s", l.ifname);
        if (n < max && sb_read(&w, &sb_lab_at(&sb)->wire, sizeof(w)) == 0 && w.wire_pid > 0)
            pids[n++] = w.wire_pid;
    }
    sb_close(&sb);
    return n;
}

enum ctl_exit ctl_stop(const struct labd_config *c, int fast)
{
    char path[PATH_MAX + 16], ifname[LAB_STATS_IFNAME_MAX];
    pid_t pids[256];
    pid_t master = ctl_running(c, 0);
    int npids, waited_ms = fast ? 15000 : c->grace_ms + 15000;
    int64_t until;

    if (master <= 0)
        return CTL_FAIL;
    npids = ctl_children(c, pids, 256, ifname);
    if (kill(master, fast ? SIGTERM : SIGQUIT) < 0) {
        fprintf(stderr, "labd: cannot signal pid %d: %s\n", (int)master, strerror(errno));
        return CTL_FAIL;
    }
    ctl_path(path, sizeof(path), c, PIDFILE_NAME);
    until = clock_mono_ms() + waited_ms;
    /*
     * Done when the pid file is free, the master is gone and so are its
     * children, and the lab link: the kernel deletes it a moment after its
     * namespaces lost their last process.
     */
    for (;;) {
        int left = pidfile_owner(path) > 0 || ctl_alive(master);
        for (int i = 0; !left && i < npids; i++)
            left = ctl_alive(pids[i]);
        if (!left && ifname[0] && if_nametoindex(ifname) != 0)
            left = 1;
        if (!left)
            return CTL_OK;
        if (clock_mono_ms() > until) {
            fprintf(stderr, "labd: still running %d s after SIG%s (pid %d)%s%s\n", waited_ms / 1000,
                    fast ? "TERM" : "QUIT", (int)master,
                    ifname[0] ? ", or its lab link is still there: " : "", ifname);
            return CTL_FAIL;
        }
        ctl_sleep_ms(20);
    }
}

static int ctl_generation(const struct labd_config *c, uint32_t *gen)
{
    char path[PATH_MAX + 32];
    struct scoreboard sb;
    struct sb_header h;
    int rc;

    ctl_path(path, sizeof(path), c, SB_FILE);
    if (sb_open_read(&sb, path) < 0)
        return -1;
    rc = sb_read(&h, sb.hdr, sizeof(h));
    sb_close(&sb);
    if (rc == 0)
        *gen = h.generation;
    return rc;
}

/* A "reload failed" line the master wrote to the error log after offset, if any. */
static int ctl_reload_failure(const char *log_path, off_t offset, char *line, size_t n)
{
    FILE *f = fopen(log_path, "r");
    int found = 0;

    if (!f)
        return 0;
    if (fseeko(f, offset, SEEK_SET) == 0) {
        char buf[2048];
        while (fgets(buf, sizeof(buf), f)) {
            if (strstr(buf, "reload failed")) {
                buf[strcspn(buf, "\n")] = '\0';
                snprintf(line, n, "%s", buf);
                found = 1;
            }
        }
    }
    fclose(f);
    return found;
}

enum ctl_exit ctl_reload(const struct labd_config *c)
{
    pid_t master = ctl_running(c, 0);
    uint32_t before = 0, now = 0;
    struct stat st;
    off_t log_size = 0;
    char line[2048];
    int64_t until;

    if (master <= 0)
        return CTL_FAIL;
    if (ctl_generation(c, &before) < 0) {
        fprintf(stderr, "labd: cannot read the scoreboard in %s\n", c->run_dir);
        return CTL_FAIL;
    }
    if (stat(c->error_log, &st) == 0)
        log_size = st.st_size;
    if (kill(master, SIGHUP) < 0) {
        fprintf(stderr, "labd: cannot signal pid %d: %s\n", (int)master, strerror(errno));
        return CTL_FAIL;
    }
    /* The generation number moves once the new workers serve and the old ones retire. */
    until = clock_mono_ms() + 20000;
    while (clock_mono_ms() < until) {
        if (ctl_generation(c, &now) == 0 && now != before)
            return CTL_OK;
        if (ctl_reload_failure(c->error_log, log_size, line, sizeof(line))) {
            fprintf(stderr, "labd: %s\n", line);
            return CTL_FAIL;
        }
        if (!ctl_alive(master)) {
            fprintf(stderr, "labd: the server exited during the reload; see %s\n", c->error_log);
            return CTL_FAIL;
        }
        ctl_sleep_ms(20);
    }
    fprintf(stderr, "labd: reload not finished after 20 s; see %s\n", c->error_log);
    return CTL_FAIL;
}

static const char *ctl_state_name(int state)
{
    switch (state) {
    case SB_WORKER_STARTING:
        return "starting";
    case SB_WORKER_READY:
        return "ready";
    case SB_WORKER_DRAINING:
        return "draining";
    case SB_WORKER_DEAD:
        return "dead";
    default:
        return "free";
    }
}

enum ctl_exit ctl_status(const struct labd_config *c, FILE *out)
{
    char path[PATH_MAX + 32];
    struct scoreboard sb;
    struct sb_header h;
    pid_t master = ctl_running(c, 1);
    long long up;

    if (master <= 0) {
        fprintf(out, "labd is not running (run dir %s)\n", c->run_dir);
        return CTL_NOT_RUNNING;
    }
    ctl_path(path, sizeof(path), c, SB_FILE);
    if (sb_open_read(&sb, path) < 0 || sb_read(&h, sb.hdr, sizeof(h)) < 0) {
        fprintf(out, "labd is running (pid %d); scoreboard %s unreadable: %s\n", (int)master, path,
                strerror(errno));
        return CTL_OK;
    }
    up = (clock_real_ns() - h.started_ns) / 1000000000LL;
    if (up < 0)
        up = 0;
    fprintf(out, "labd is running: pid %d, up %lldd %02lld:%02lld:%02lld, generation %u\n",
            (int)master, up / 86400, up / 3600 % 24, up / 60 % 60, up % 60, h.generation);
    for (int i = 0; i < h.nbinds && i < SB_MAX_BINDS; i++) {
        const char *b = h.binds[i];
        int v6 = strchr(b, ':') != NULL && b[0] != '[';
        fprintf(out, "listening: %s%s%s:%u\n", v6 ? "[" : "", b, v6 ? "]" : "", h.port);
    }
    fprintf(out, "root: %s\n", h.root);
    ctl_lab_status(&sb, out);
    fprintf(out, "workers: %u\n", h.nworkers);
    fprintf(out, "  %-6s %-8s %-9s %6s %10s %10s %4s\n", "worker", "pid", "state", "conns",
            "requests", "accepted", "gen");
    for (uint32_t i = 0; i < sb.hdr->nslots; i++) {
        struct sb_worker w;
        if (sb_read(&w, sb_worker_at(&sb, i), sizeof(w)) < 0 || w.state == SB_WORKER_FREE ||
            w.state == SB_WORKER_DEAD)
            continue;
        fprintf(out, "  %-6u %-8d %-9s %6u %10llu %10llu %4u\n", w.number, (int)w.pid,
                ctl_state_name(w.state), w.conns_now, (unsigned long long)w.requests,
                (unsigned long long)w.accepted, w.generation);
    }
    sb_close(&sb);
    return CTL_OK;
}
