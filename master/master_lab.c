/*
 * labd --lab in the master: the lab link (master/lab_net.c) built before the
 * listening sockets, which go inside it; the wire process (master/lab_wire.c)
 * supervised like a worker when the link has knobs; reload and stop.
 */
#include "master/master_int.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/lab_wire.h"
#include "shared/clock.h"
#include "shared/log.h"

#define MASTER_LAB_KILL_MS   1000  /* a wire told to stop is killed after this */
#define MASTER_LAB_NOBODY_ID 65534 /* the wire runs as this without --user nor "nobody" */

/*
 * Whom the wire runs as: the workers' user (--user) when there is one, else
 * "nobody" when labd is root. It needs no privilege once its packet sockets
 * are open.
 */
static void master_lab_wire_user(void)
{
    const struct passwd *pw;

    master.wire.switch_user = master.cred.on || geteuid() == 0;
    if (master.cred.on) {
        master.wire.uid = master.cred.uid;
        master.wire.gid = master.cred.gid;
        return;
    }
    pw = getpwnam("nobody");
    master.wire.uid = pw ? pw->pw_uid : MASTER_LAB_NOBODY_ID;
    master.wire.gid = pw ? pw->pw_gid : MASTER_LAB_NOBODY_ID;
}

int master_lab_open(char *err, size_t errlen)
{
    char line[512];

    master.lab = (struct lab_net){ .host_ns = -1, .lab_ns = -1, .wire_ns = -1 };
    master.wire = (struct master_wire){ .pid = 0 };
    if (!master.cfg.lab.on)
        return 0;
    /* Inside the link only its address is reachable from the host: --bind has no say. */
    if (master.cfg.nbinds > 0) {
        snprintf(err, errlen,
                 "--bind and --lab do not go together: with --lab labd listens on its end of "
                 "the lab link (leave --bind out)");
        return -1;
    }
    if (lab_net_open(&master.cfg.lab, &master.lab, err, errlen) < 0)
        return -1;
    master_lab_wire_user();
    struct lab_stats_link l = { 0 };
    lab_stats_link_fill(&l, master.lab.net, master.lab.host_if, master.cfg.port, &master.cfg.lab);
    lab_stats_status_line(&l, line, sizeof(line));
    log_notice("%s%s", line, master.lab.bridged ? "" : "; the lab wire process carries it");
    return 0;
}

/* Move the master's thread to where a socket must be made (no-op without --lab). */
static int master_lab_enter(enum lab_net_where where)
{
    return master.cfg.lab.on ? lab_net_enter(&master.lab, where) : 0;
}

int master_lab_listen(const struct labd_config *c, struct listen_set *ls, int grow, char *err,
                      size_t errlen)
{
    int rc;

    if (master_lab_enter(LAB_NET_LABD) < 0) {
        snprintf(err, errlen, "--lab: entering labd's namespace: %s", strerror(errno));
        return -1;
    }
    rc = grow ? listen_grow(ls, c->workers, err, errlen) : listen_open(c, ls, err, errlen);
    /* Stranded in the lab namespace, the master would make its next sockets there. */
    if (master_lab_enter(LAB_NET_HOST) < 0)
        log_die("--lab: back to the host's namespace: %s", strerror(errno));
    return rc;
}

void master_lab_publish(void)
{
    struct lab_stats_link *l;

    if (!master.cfg.lab.on)
        return;
    if (!master.sb_lab)
        master.sb_lab = sb_lab_enable(&master.sb);
    l = &master.sb_lab->link;
    sb_write_begin(&l->seq);
    lab_stats_link_fill(l, master.lab.net, master.lab.host_if, master.cfg.port, &master.cfg.lab);
    /* A kernel without bridges needs the wire even without knobs. */
    l->wire = (uint8_t)!master.lab.bridged;
    sb_write_end(&l->seq);
}

/* No capability left, in any set: the wire keeps only the sockets it was given. */
static int master_lab_drop_caps(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(data, 0, sizeof(data));
    return (int)syscall(SYS_capset, &hdr, data);
}

/* In the child: become the wire, with the sockets fd, and never return. */
static void master_lab_become_wire(int fd[LAB_OPTS_NDIR], pid_t master_pid)
    __attribute__((noreturn));

static void master_lab_become_wire(int fd[LAB_OPTS_NDIR], pid_t master_pid)
{
    const struct master_wire *w = &master.wire;

    master_child_setup(NULL, master_pid, "labd: wire", master.cfg.run_dir);
    if (w->switch_user && (setgroups(0, NULL) < 0 || setgid(w->gid) < 0 || setuid(w->uid) < 0)) {
        log_error("lab wire: cannot switch to uid %d: %s", (int)w->uid, strerror(errno));
        _exit(1);
    }
    if (master_lab_drop_caps() < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        log_error("lab wire: cannot drop privileges: %s", strerror(errno));
        _exit(1);
    }
    /* A change of credentials clears the parent-death signal: ask again, and look. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != master_pid)
        _exit(1);
    exit(lab_wire_run(&(struct lab_wire_args){ .fd = { fd[0], fd[1] },
                                               .opts = &master.cfg.lab,
                                               .seed = lab_wire_seed(&master.cfg.lab),
                                               .stats = &master.sb_lab->wire,
                                               .trace_fd = -1 }));
}

int master_lab_wire_start(char *err, size_t errlen)
{
    int fd[LAB_OPTS_NDIR];
    pid_t pid, master_pid = getpid();

    master.wire.respawn_at_ms = 0;
    if (!master.cfg.lab.on || master.lab.bridged)
        return 0;
    /* Fresh sockets each time: nothing queued for a dead wire is sent twice. */
    if (lab_wire_open(&master.lab, fd, err, errlen) < 0)
        return -1;
    pid = fork();
    if (pid == 0)
        master_lab_become_wire(fd, master_pid);
    close(fd[0]);
    close(fd[1]);
    if (pid < 0) {
        snprintf(err, errlen, "--lab: fork for the wire: %s", strerror(errno));
        return -1;
    }
    master.wire.pid = pid;
    master.wire.started_ms = clock_mono_ms();
    master.wire.kill_at_ms = 0;
    master.wire.restart = 0;
    log_info("lab wire started (pid %d): %s", (int)pid, master.sb_lab->link.knobs);
    return 0;
}

/* Start the wire now, or, when that fails, in a second. */
static void master_lab_wire_respawn(void)
{
    char err[512];

    if (master_lab_wire_start(err, sizeof(err)) < 0) {
        log_error("%s; trying again in a second", err);
        master.wire.respawn_at_ms = clock_mono_ms() + 1000;
    }
}

int master_lab_reaped(pid_t pid, int status)
{
    struct master_wire *w = &master.wire;
    int64_t now = clock_mono_ms(), delay;

    if (pid != w->pid || pid <= 0)
        return 0;
    w->pid = 0;
    w->kill_at_ms = 0;
    /* The record is the master's again, as a dead worker's slot is: no wire runs. */
    sb_write_begin(&master.sb_lab->wire.seq);
    master.sb_lab->wire.wire_pid = 0;
    sb_write_end(&master.sb_lab->wire.seq);
    if (w->stopping || master.phase == MASTER_PHASE_STOPPING)
        return 1;
    if (w->restart) {
        master_lab_wire_respawn();
        return 1;
    }
    /* It has no ready byte; it was ready once it forwarded, so never give up on it. */
    delay = respawn_delay(&w->rs, 1, now - w->started_ms);
    log_error("lab wire (pid %d) %s %d; the link carries nothing until it is back in %lld ms",
              (int)pid, WIFSIGNALED(status) ? "killed by signal" : "exited with status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), (long long)delay);
    w->respawn_at_ms = now + delay;
    return 1;
}

int master_lab_reload_check(const struct labd_config *next, char *err, size_t errlen)
{
    const struct lab_opts *a = &master.cfg.lab, *b = &next->lab;

    if (lab_opts_same_link(a, b))
        return 0;
    if (a->on != b->on)
        snprintf(err, errlen, "--lab cannot be switched %s by a reload: restart labd",
                 b->on ? "on" : "off");
    else if (a->net != b->net)
        snprintf(err, errlen, "--lab-net cannot change by a reload: restart labd");
    else
        snprintf(err, errlen,
                 "knobs cannot be %s by a reload (the wire process %s the link): restart labd",
                 b->wire ? "added to a lab link without them" : "all taken away",
                 b->wire ? "would join" : "would leave");
    return -1;
}

void master_lab_reload_commit(const struct lab_opts *old)
{
    struct master_wire *w = &master.wire;

    if (!master.cfg.lab.on || master.lab.bridged || lab_opts_same_knobs(old, &master.cfg.lab))
        return;
    log_notice("lab: new knobs (%s): the wire restarts with them", master.sb_lab->link.knobs);
    if (w->pid > 0) {
        kill(w->pid, SIGTERM);
        w->restart = 1;
        w->kill_at_ms = clock_mono_ms() + MASTER_LAB_KILL_MS;
    } else {
        master_lab_wire_respawn();
    }
}

int master_lab_stopping(void)
{
    struct master_wire *w = &master.wire;

    w->respawn_at_ms = 0;
    if (w->pid <= 0)
        return 0;
    if (!w->stopping) {
        kill(w->pid, SIGTERM);
        w->stopping = 1;
        w->kill_at_ms = clock_mono_ms() + MASTER_LAB_KILL_MS;
    }
    return 1;
}

int64_t master_lab_timers(int64_t now)
{
    struct master_wire *w = &master.wire;

    if (w->pid > 0 && w->kill_at_ms && w->kill_at_ms <= now) {
        log_warn("lab wire (pid %d) still running: SIGKILL", (int)w->pid);
        kill(w->pid, SIGKILL);
        w->kill_at_ms = 0;
    }
    if (w->pid == 0 && w->respawn_at_ms && w->respawn_at_ms <= now &&
        master.phase != MASTER_PHASE_STOPPING)
        master_lab_wire_respawn();
    if (w->pid > 0 && w->kill_at_ms)
        return w->kill_at_ms;
    return w->pid == 0 && w->respawn_at_ms ? w->respawn_at_ms : -1;
}
