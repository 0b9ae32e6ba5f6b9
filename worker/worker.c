/* One worker process: signals, the epoll event loop, accepting, timers. */
#include "worker/worker.h"

#include <errno.h>
#include <sched.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "shared/sandbox.h"
#include "worker/accesslog.h"
#include "worker/conn.h"
#include "worker/handler.h"

/* epoll data tags below any heap address: listeners 0..N-1, the signalfd. */
#define WORKER_TAG_SIGNAL 4095
#define WORKER_MAX_EVENTS 128
/* Back-off when accept fails for lack of descriptors or memory. */
#define WORKER_ACCEPT_PAUSE_MS 100
#define WORKER_TRIM_IDLE_MS    1000 /* idle time before the heap is trimmed */
/* How long another worker's queued connections wait before this one takes them (the rescue). */
#define WORKER_RESCUE_MS 100

struct worker_state {
    const struct labd_config *cfg;
    pid_t pid;
    int epfd;
    int sfd;
    struct handler_ctx handler;
    struct accesslog alog;
    struct sb_worker *sbw; /* our scoreboard slot, NULL: none */
    struct conn_pool *conns;
    int64_t now_ms;  /* CLOCK_MONOTONIC, read once per loop turn */
    int64_t real_ns; /* the wall clock, read once per turn that serves */

    int listen_fds[WORKER_MAX_LISTEN]; /* -1: another worker's copy, closed for good */
    unsigned char listen_own[WORKER_MAX_LISTEN];
    int64_t rescue_at[WORKER_MAX_LISTEN]; /* another's copy had connections: look then; -1 */
    int rescues;                          /* rescue_at entries set: 0 skips the scans per turn */
    int nlisten;
    /* Each listener's own address; a wildcard one needs getsockname() per connection. */
    struct sockaddr_storage listen_addr[WORKER_MAX_LISTEN];
    unsigned char listen_wild[WORKER_MAX_LISTEN];
    int listening;      /* listeners are in the epoll set */
    unsigned max_conns; /* open connections at most; beyond, new ones wait for other workers */
    int64_t pause_until_ms;
    int stop_fast, stop_graceful, reopen;
    int draining;       /* graceful stop under way */
    unsigned peak;      /* most connections open at once since the heap was last trimmed */
    int64_t idle_since; /* when the last connection closed, -1 while busy */
};

/*
 * Listening sockets in the epoll set. EPOLLEXCLUSIVE wakes one waiting
 * worker per new connection instead of all of them (no thundering herd)
 * while the workers still share one accept queue, so a stuck worker strands
 * nothing. With accept reuseport or cpu a worker's own copies are its alone
 * (a reload's old and new worker may share them for a moment), and a stuck
 * worker would strand the connections queued on them: so every worker also
 * watches the next worker's copies (a ring: listen_worker_fds), once
 * (EPOLLONESHOT), and takes what is still queued there WORKER_RESCUE_MS
 * later (worker_rescue). A worker that runs empties its queue within
 * microseconds, so the rescue takes nothing from it but what arrived in
 * that instant.
 */
static void worker_listen(struct worker_state *s, int on)
{
    if (s->listening == on)
        return;
    for (int i = 0; i < s->nlisten; i++) {
        if (s->listen_fds[i] < 0)
            continue;
        s->rescue_at[i] = -1;
        s->rescues = 0;
        if (on) {
            struct epoll_event ev = { .events = s->listen_own[i] ? EPOLLIN | EPOLLEXCLUSIVE
                                                                 : EPOLLIN | EPOLLONESHOT,
                                      .data.u64 = (uint64_t)i };
            if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fds[i], &ev) < 0)
                log_error("worker: epoll_ctl add listener: %s", strerror(errno));
        } else {
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen_fds[i], NULL);
        }
    }
    s->listening = on;
}

static void worker_accept(struct worker_state *s, int li)
{
    int lfd = s->listen_fds[li];

    for (;;) {
        struct sockaddr_storage peer, local;
        socklen_t plen = sizeof(peer), llen = sizeof(local);

        if (conn_pool_count(s->conns) >= s->max_conns) {
            /* At the limit: leave new connections queued for other workers. */
            worker_listen(s, 0);
            return;
        }
        int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINVAL) {
                /* The master shut this copy down: its worker is gone for good (listen_retire). */
                epoll_ctl(s->epfd, EPOLL_CTL_DEL, lfd, NULL);
                close(lfd);
                s->listen_fds[li] = -1;
                return;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warn("worker: accept: %s; pausing accepts for %d ms", strerror(errno),
                         WORKER_ACCEPT_PAUSE_MS);
                worker_listen(s, 0);
                s->pause_until_ms = s->now_ms + WORKER_ACCEPT_PAUSE_MS;
                return;
            }
            log_error("worker: accept: %s", strerror(errno));
            return;
        }
        const struct sockaddr_storage *at = &s->listen_addr[li];
        if (s->listen_wild[li]) {
            /* Only a wildcard listener leaves the local address to find out. */
            if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
                memset(&local, 0, sizeof(local));
            at = &local;
        }
        if (conn_accept(s->conns, fd, (struct sockaddr *)&peer, (const struct sockaddr *)at) < 0) {
            log_error("worker: no memory for a new connection");
            close(fd);
        }
    }
}

static void worker_read_signals(struct worker_state *s)
{
    struct signalfd_siginfo si;

    while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            s->stop_fast = 1;
            break;
        case SIGQUIT:
            s->stop_graceful = 1;
            break;
        case SIGUSR1:
            s->reopen = 1;
            break;
        default:
            break;
        }
    }
}

static void worker_set_state(struct worker_state *s, int state)
{
    if (s->sbw == NULL)
        return;
    sb_write_begin(&s->sbw->seq);
    s->sbw->state = (uint8_t)state;
    s->sbw->pid = (int32_t)s->pid;
    sb_write_end(&s->sbw->seq);
}

static void worker_handle_signals(struct worker_state *s)
{
    if (s->reopen) {
        s->reopen = 0;
        if (log_reopen() < 0)
            log_error("worker: reopen error log: %s", strerror(errno));
        if (accesslog_reopen(&s->alog) < 0)
            log_error("worker: reopen access log %s: %s", s->alog.path, strerror(errno));
    }
    if (s->stop_graceful && !s->draining) {
        s->draining = 1;
        worker_listen(s, 0);
        worker_set_state(s, SB_WORKER_DRAINING);
        conn_pool_drain(s->conns);
    }
    if (s->stop_fast)
        conn_pool_close_all(s->conns);
}

/*
 * epoll_wait for at most timeout ms. After a turn that had work, the worker
 * first lets whatever else is runnable on its CPU go (sched_yield) and looks
 * again without sleeping; only if nothing came does it sleep. On CPUs shared
 * with the clients (a developer's machine, the bench) the next requests are
 * usually there by then, and going to sleep and being woken cost more than
 * serving a cached page (measured: labd.8, CPU AFFINITY). With the CPU to
 * itself the worker pays one sched_yield and one empty epoll_wait per busy
 * spell.
 */
static int worker_wait(struct worker_state *s, struct epoll_event *evs, int timeout, int after_work)
{
    if (after_work && timeout != 0) {
        sched_yield();
        int n = epoll_wait(s->epfd, evs, WORKER_MAX_EVENTS, 0);
        if (n != 0)
            return n;
    }
    return epoll_wait(s->epfd, evs, WORKER_MAX_EVENTS, timeout);
}

/*
 * --user: give up root once the sockets are inherited and the files open.
 * Group first (setgid needs root), and setuid last so it cannot be undone.
 */
static int worker_switch_user(const struct worker_start *ws)
{
    if (setgroups(0, NULL) < 0 || setgid(ws->gid) < 0 || setuid(ws->uid) < 0) {
        log_error("worker: cannot switch to user %s: %s", ws->cfg->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        log_error("worker: still root after switching to user %s", ws->cfg->user);
        return -1;
    }
    /* A change of credentials clears the parent-death signal: ask again. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return -1;
    return 0;
}

/*
 * The listener's address is every accepted connection's local address unless
 * it is a wildcard ([::] or 0.0.0.0). Returns 1 for a wildcard (or unknown).
 */
static int worker_listen_addr(int lfd, struct sockaddr_storage *ss)
{
    socklen_t len = sizeof(*ss);

    memset(ss, 0, sizeof(*ss));
    if (getsockname(lfd, (struct sockaddr *)ss, &len) < 0)
        return 1;
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ss)->sin6_addr);
    if (ss->ss_family == AF_INET)
        return ((struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    return 1;
}

/* Another worker's copy had connections queued: look again in WORKER_RESCUE_MS. */
static void worker_rescue_arm(struct worker_state *s, int li)
{
    if (s->rescue_at[li] < 0) {
        s->rescue_at[li] = s->now_ms + WORKER_RESCUE_MS;
        s->rescues++;
    }
}

/*
 * The rescue: take what is still queued on the copies whose time came, then
 * watch them again. The wait is there so that the copy's own worker, on the
 * client's CPU, takes its connections first.
 */
static void worker_rescue(struct worker_state *s)
{
    for (int i = 0; s->rescues > 0 && i < s->nlisten; i++) {
        if (s->rescue_at[i] < 0 || s->now_ms < s->rescue_at[i])
            continue;
        s->rescue_at[i] = -1;
        s->rescues--;
        worker_accept(s, i);
        if (!s->listening || s->listen_fds[i] < 0)
            continue;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = (uint64_t)i };
        epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fds[i], &ev);
    }
}

static int worker_setup(struct worker_state *s, const struct worker_start *ws)
{
    const struct labd_config *cfg = ws->cfg;
    sigset_t set;

    s->cfg = cfg;
    s->pid = getpid();
    s->epfd = -1;
    s->sfd = -1;
    s->nlisten = ws->nlisten;
    if (s->nlisten > WORKER_MAX_LISTEN) {
        log_error("worker: %d listening sockets, at most %d", s->nlisten, WORKER_MAX_LISTEN);
        return -1;
    }
    for (int i = 0; i < s->nlisten; i++) {
        s->listen_fds[i] = ws->listen_fds[i];
        s->listen_own[i] = ws->listen_own == NULL || ws->listen_own[i];
        s->rescue_at[i] = -1;
    }
    /* The config holds every default: its values are used as given. */
    s->max_conns = (unsigned)cfg->max_conns_per_worker;
    s->idle_since = -1;

    /* The master may be gone already (then we were re-parented before the prctl). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return -1;
    char title[16];
    snprintf(title, sizeof(title), "labd: worker %u", ws->number);
    prctl(PR_SET_NAME, title);

    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    s->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sfd < 0) {
        log_error("worker: signalfd: %s", strerror(errno));
        return -1;
    }

    if (handler_init(&s->handler, cfg) < 0) {
        log_error("worker: cannot open document root %s: %s", cfg->root, strerror(errno));
        return -1;
    }
    /* config_finish made it RUN_DIR/access.log when none was given. */
    if (accesslog_open(&s->alog, cfg->access_log) < 0)
        log_error("worker: cannot open access log %s: %s (access logging off)", cfg->access_log,
                  strerror(errno));
    if (ws->switch_user && worker_switch_user(ws) < 0)
        return -1;

    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        log_error("worker: epoll_create1: %s", strerror(errno));
        return -1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WORKER_TAG_SIGNAL };
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sfd, &ev);

    struct conn_env env = {
        .cfg = cfg, .epfd = s->epfd, .pid = s->pid, .handler = &s->handler, .alog = &s->alog
    };
    if (ws->sb && ws->sb->hdr && ws->slot < ws->sb->hdr->nslots) {
        env.sb = ws->sb;
        env.slot = ws->slot;
        s->sbw = sb_worker_at(ws->sb, ws->slot);
    }
    s->now_ms = clock_coarse_ms();
    s->real_ns = clock_real_coarse_ns();
    s->conns = conn_pool_new(&env, s->now_ms, s->real_ns);
    if (s->conns == NULL) {
        log_error("worker: no memory for the connection pool");
        return -1;
    }
    /*
     * Accepted sockets inherit TCP_NODELAY and TCP_NOTSENT_LOWAT from their
     * listener on Linux, so setting them here once saves a setsockopt() per
     * connection. The low-water mark keeps a big file from being queued in
     * the kernel whole: the worker sends the rest as the client reads, on
     * its own CPU, instead of leaving the kernel to push it from the
     * client's ACKs (labd.8, ACCEPT STRATEGY).
     */
    for (int i = 0; i < s->nlisten; i++) {
        int one = 1;
        setsockopt(s->listen_fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (cfg->send_lowat > 0)
            setsockopt(s->listen_fds[i], IPPROTO_TCP, TCP_NOTSENT_LOWAT, &cfg->send_lowat,
                       sizeof(cfg->send_lowat));
        s->listen_wild[i] = worker_listen_addr(s->listen_fds[i], &s->listen_addr[i]);
    }
    if (sandbox_worker_enter() < 0)
        return -1;
    worker_listen(s, 1);
    worker_set_state(s, SB_WORKER_READY);
    if (ws->ready_fd >= 0) {
        char one = 1;
        ssize_t n = write(ws->ready_fd, &one, 1);
        (void)n;
        close(ws->ready_fd);
    }
    return 0;
}

/*
 * The time for the worker and its connections, read once per loop turn,
 * after the wait (as nginx does): the coarse clocks, a tick (1-4 ms) old at
 * most, which is all timers of seconds, Date and the scoreboard need. The
 * precise ones cost a counter read each; three per turn were 3-4 % of a
 * worker's CPU under S1 (perf, Intel Xeon).
 */
static void worker_clock(struct worker_state *s)
{
    s->now_ms = clock_coarse_ms();
    s->real_ns = clock_real_coarse_ns();
    conn_pool_clock(s->conns, s->now_ms, s->real_ns);
}

/*
 * After a burst of more connections than the spare list keeps, the heap
 * stays at its peak. Once the worker has had no connection for
 * WORKER_TRIM_IDLE_MS, give that memory back to the kernel. Waiting
 * matters: trimming each time the count touches 0 made Connection: close
 * traffic regrow the heap with page faults on every connection.
 */
static void worker_trim(struct worker_state *s)
{
    unsigned n = conn_pool_count(s->conns);

    if (n > s->peak)
        s->peak = n;
    if (n > 0 || s->peak <= CONN_SPARE_MAX) {
        s->idle_since = -1;
        return;
    }
    if (s->idle_since < 0) {
        s->idle_since = s->now_ms;
        return;
    }
    if (s->now_ms - s->idle_since < WORKER_TRIM_IDLE_MS)
        return;
    s->peak = 0;
    s->idle_since = -1;
    conn_pool_free_spare(s->conns);
    malloc_trim(0);
}

/* The epoll_wait timeout: the next timer, a paused accept, the trim, or a rescue. */
static int worker_timeout(const struct worker_state *s)
{
    int timeout = conn_pool_wait_ms(s->conns);
    int64_t until[3] = { !s->listening && s->pause_until_ms > 0 ? s->pause_until_ms : -1,
                         s->idle_since >= 0 ? s->idle_since + WORKER_TRIM_IDLE_MS : -1, -1 };

    for (int i = 0; s->rescues > 0 && i < s->nlisten; i++) {
        if (s->rescue_at[i] >= 0 && (until[2] < 0 || s->rescue_at[i] < until[2]))
            until[2] = s->rescue_at[i];
    }
    for (int i = 0; i < 3; i++) {
        if (until[i] < 0)
            continue;
        int64_t left = until[i] > s->now_ms ? until[i] - s->now_ms : 0;
        if (timeout < 0 || left < timeout)
            timeout = (int)left;
    }
    return timeout;
}

int worker_main(const struct worker_start *ws)
{
    static struct worker_state state;
    struct worker_state *s = &state;
    struct epoll_event evs[WORKER_MAX_EVENTS];
    int status = 0;
    int busy = 0; /* the last turn had events */

    memset(s, 0, sizeof(*s));
    if (worker_setup(s, ws) < 0) {
        if (ws->ready_fd >= 0)
            close(ws->ready_fd);
        return 1;
    }
    for (;;) {
        if (s->stop_fast || (s->draining && conn_pool_count(s->conns) == 0))
            break;
        int n = worker_wait(s, evs, worker_timeout(s), busy);
        busy = n > 0;
        if (n < 0 && errno != EINTR) {
            log_error("worker: epoll_wait: %s", strerror(errno));
            status = 1;
            break;
        }
        worker_clock(s);
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == WORKER_TAG_SIGNAL)
                worker_read_signals(s);
            else if (tag < (uint64_t)s->nlisten && s->listen_own[tag])
                worker_accept(s, (int)tag);
            else if (tag < (uint64_t)s->nlisten)
                worker_rescue_arm(s, (int)tag);
            else
                conn_event(s->conns, evs[i].data.ptr, evs[i].events);
        }
        if (s->listening && s->rescues > 0)
            worker_rescue(s);
        conn_pool_run(s->conns);
        worker_handle_signals(s);
        if (!s->listening && !s->draining && !s->stop_fast &&
            conn_pool_count(s->conns) < s->max_conns &&
            (s->pause_until_ms == 0 || s->now_ms >= s->pause_until_ms)) {
            s->pause_until_ms = 0;
            worker_listen(s, 1);
        }
        accesslog_flush(&s->alog);
        conn_pool_free_dead(s->conns);
        worker_trim(s);
    }
    conn_pool_free(s->conns);
    accesslog_close(&s->alog);
    handler_fini(&s->handler);
    close(s->epfd);
    close(s->sfd);
    return status;
}
