/* The master's loop: signals, reaping and respawning workers, reload and stop. */
#include "master/master_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "shared/sandbox.h"

#define MASTER_FAST_KILLMS 1000 /* fast stop: SIGKILL what TERM did not end */

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

static void master_reload_commit(void)
{
    unsigned old = master.generation;
    struct lab_opts old_lab = master.cfg.lab;

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
    master_lab_reload_commit(&old_lab);
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
    if (master_lab_reload_check(&c, err, sizeof(err)) < 0) {
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
    char why[64];
    if (c.accept != master.cfg.accept && c.accept != CONFIG_ACCEPT_AUTO) {
        log_warn("reload: accept cannot change while running (restart instead); keeping %s",
                 config_accept_name(master.cfg.accept));
    } else if (c.accept == CONFIG_ACCEPT_AUTO &&
               listen_accept_resolve(&c, why, sizeof(why)) != master.cfg.accept) {
        log_warn("reload: accept auto would now choose %s (%s); keeping %s until a restart",
                 config_accept_name(c.accept), why, config_accept_name(master.cfg.accept));
    }
    c.accept = master.cfg.accept;
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
    if (listen_same(&c, &master.cfg)
            ? master_lab_listen(&c, &master.ls, 1, err, sizeof(err)) < 0
            : master_lab_listen(&c, &master.next_ls, 0, err, sizeof(err)) < 0) {
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
 * The channel of w has something: its seccomp listener (kept; the ready
 * byte follows), its ready byte, or EOF if it died first. Once the ready
 * byte or EOF is read the channel has done its job and is closed; only a
 * read that was interrupted leaves it for the next turn, unless w is gone
 * (dead).
 */
static void master_read_ready(struct master_proc *w, int dead)
{
    int fd, n;
    char b;

    for (;;) {
        n = sandbox_channel_read(w->ready_rd, &fd, &b);
        if (n < 0 && (errno == EINTR || errno == EAGAIN) && !dead)
            return;
        if (n != 1 || fd < 0)
            break;
        if (w->notify_fd >= 0)
            close(w->notify_fd);
        w->notify_fd = fd;
    }
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
        if (!w) {
            master_lab_reaped(pid, status);
            continue;
        }
        if (w->ready_rd >= 0)
            master_read_ready(w, 1);
        master_reopen_release(w);
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
    int64_t lab_at = master_lab_timers(now);
    if (lab_at >= 0)
        master_next(&next, lab_at);
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

/* The loop: phase changes, timers, ready pipes and signals, until the last worker is gone. */
enum ctl_exit master_supervise(void)
{
    int rc;

    for (;;) {
        struct pollfd pfd[1 + 2 * MASTER_MAX_SLOTS];
        struct master_proc *who[1 + 2 * MASTER_MAX_SLOTS];
        int nfd = 0, timeout;

        if (master.phase == MASTER_PHASE_STARTING &&
            master_generation_ready(0, master.cfg.workers)) {
            master.phase = MASTER_PHASE_RUNNING;
            master_notify_started();
        }
        if (master.phase == MASTER_PHASE_RELOADING &&
            master_generation_ready(master.generation + 1, master.next.workers))
            master_reload_commit();
        /* The wire carries the last goodbyes: it stops after the workers. */
        if (master.phase == MASTER_PHASE_STOPPING && master_alive_count() == 0 &&
            !master_lab_stopping())
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
            struct master_proc *w = &master.procs[i];
            if (w->pid > 0 && w->ready_rd >= 0) {
                pfd[nfd] = (struct pollfd){ .fd = w->ready_rd, .events = POLLIN };
                who[nfd++] = w;
            }
            if (w->pid > 0 && w->notify_fd >= 0) {
                pfd[nfd] = (struct pollfd){ .fd = w->notify_fd, .events = POLLIN };
                who[nfd++] = w;
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
            else if ((pfd[i].revents & POLLIN) && who[i]->notify_fd == pfd[i].fd)
                master_answer_reopen(who[i]);
            else if (pfd[i].revents && who[i]->notify_fd == pfd[i].fd)
                master_reopen_release(who[i]); /* its filter is gone: nothing more comes */
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
