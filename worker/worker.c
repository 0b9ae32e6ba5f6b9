/* One worker process: signals, the epoll event loop, accepting, timers. */
#include "worker/worker.h"

#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
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
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/sandbox.h"
#include "worker/conn.h"

/* epoll data tags below any heap address: listeners 0..N-1, the signalfd. */
#define WORKER_TAG_SIGNAL 4095
#define WORKER_MAX_EVENTS 128
/* Back-off when accept fails for lack of descriptors or memory. */
#define WORKER_ACCEPT_PAUSE_MS 100
#define WORKER_TRIM_IDLE_MS    1000 /* idle time before the heap is trimmed */

struct worker_state {
    struct worker_ctx w;
    const int *listen_fds;
    int nlisten;
    /* Each listener's own address; a wildcard one needs getsockname() per connection. */
    struct sockaddr_storage listen_addr[WORKER_MAX_LISTEN];
    unsigned char listen_wild[WORKER_MAX_LISTEN];
    int listening; /* listeners are in the epoll set */
    int64_t pause_until_ms;
    int sfd;
    int stop_fast, stop_graceful, reopen;
};

static int worker_limit(int v, int def)
{
    return v > 0 ? v : def;
}

static void worker_listen(struct worker_state *s, int on)
{
    if (s->listening == on)
        return;
    for (int i = 0; i < s->nlisten; i++) {
        if (on) {
            /*
             * EPOLLEXCLUSIVE wakes one waiting worker per new connection
             * instead of all of them (no thundering herd) while the workers
             * still share one accept queue, so a stuck worker strands nothing.
             * With accept reuseport the sockets are this worker's own (a
             * reload's old and new worker may share them for a moment).
             */
            struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = (uint64_t)i };
            if (epoll_ctl(s->w.epfd, EPOLL_CTL_ADD, s->listen_fds[i], &ev) < 0)
                log_error("worker: epoll_ctl add listener: %s", strerror(errno));
        } else {
            epoll_ctl(s->w.epfd, EPOLL_CTL_DEL, s->listen_fds[i], NULL);
        }
    }
    s->listening = on;
}

static void worker_accept(struct worker_state *s, int li)
{
    int lfd = s->listen_fds[li];
    struct worker_ctx *w = &s->w;
    unsigned max = (unsigned)worker_limit(w->cfg->max_conns_per_worker, 1024);

    for (;;) {
        struct sockaddr_storage peer, local;
        socklen_t plen = sizeof(peer), llen = sizeof(local);

        if (w->nconns >= max) {
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
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warn("worker: accept: %s; pausing accepts for %d ms", strerror(errno),
                         WORKER_ACCEPT_PAUSE_MS);
                worker_listen(s, 0);
                s->pause_until_ms = w->now_ms + WORKER_ACCEPT_PAUSE_MS;
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
        struct conn *c = conn_new(w, fd, (struct sockaddr *)&peer, (const struct sockaddr *)at);
        if (c == NULL) {
            log_error("worker: no memory for a new connection");
            close(fd);
            continue;
        }
        conn_start(w, c);
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

static void worker_set_state(struct worker_ctx *w, int state)
{
    if (w->sbw == NULL)
        return;
    sb_write_begin(&w->sbw->seq);
    w->sbw->state = (uint8_t)state;
    w->sbw->pid = (int32_t)w->pid;
    sb_write_end(&w->sbw->seq);
}

static void worker_close_all(struct worker_ctx *w)
{
    struct conn *c = w->all.head;
    while (c) {
        struct conn *next = c->next;
        conn_close(w, c);
        c = next;
    }
}

/*
 * Graceful stop: idle keep-alive connections are not closed now, because a
 * client may have sent its next request at this very instant and would get
 * a reset or EOF instead of an answer. They stay until their next request,
 * which is answered with "Connection: close" (conn.c), or until they have
 * been idle for the keep-alive timeout, as any idle connection. (nginx
 * closes idle keep-alive connections at once and leaves the retry to the
 * client; we trade a slower stop for never dropping a request.) That wait
 * is cut to half the grace period so the master's forced stop never has to
 * close an idle connection.
 */
static void worker_drain_idle(struct worker_ctx *w)
{
    int64_t idle_ms = w->t_keepalive.timeout_ms;

    if (w->cfg->grace_ms > 0 && idle_ms > w->cfg->grace_ms / 2)
        idle_ms = w->cfg->grace_ms / 2;
    if (idle_ms == w->t_keepalive.timeout_ms)
        return;
    /* Re-arm the later deadlines at the tail: the list stays in deadline order. */
    w->t_keepalive.timeout_ms = idle_ms;
    for (struct conn *c = w->all.head; c; c = c->next) {
        if (c->timer.list == &w->t_keepalive && c->timer.deadline_ms > w->now_ms + idle_ms)
            timer_arm(&w->t_keepalive, &c->timer, w->now_ms);
    }
}

static void worker_handle_signals(struct worker_state *s)
{
    struct worker_ctx *w = &s->w;

    if (s->reopen) {
        s->reopen = 0;
        if (log_reopen() < 0)
            log_error("worker: reopen error log: %s", strerror(errno));
        if (accesslog_reopen(&w->alog) < 0)
            log_error("worker: reopen access log %s: %s", w->alog.path, strerror(errno));
    }
    if (s->stop_graceful && !w->draining) {
        w->draining = 1;
        worker_listen(s, 0);
        worker_set_state(w, SB_WORKER_DRAINING);
        worker_drain_idle(w);
    }
    if (s->stop_fast)
        worker_close_all(w);
}

/*
 * epoll_wait for at most timeout ms. After a turn that had work, the worker
 * first lets whatever else is runnable on its CPU go (sched_yield) and looks
 * again without sleeping; only if nothing came does it sleep. On CPUs shared
 * with the clients (a developer's machine, the bench) the next requests are
 * usually there by then, and going to sleep and being woken cost more than
 * serving a cached page. Measured against a plain epoll_wait (alternated, 4
 * rounds each of wrk -t2 -c100 on 2 CPUs): keep-alive req/s 1.10-1.13x and
 * CPU per request 0.87-0.90x; Connection: close req/s 1.01-1.02x. With the
 * CPU to itself the worker pays one sched_yield and one empty epoll_wait per
 * busy spell.
 */
static int worker_wait(struct worker_ctx *w, struct epoll_event *evs, int timeout, int after_work)
{
    if (after_work && timeout != 0) {
        sched_yield();
        int n = epoll_wait(w->epfd, evs, WORKER_MAX_EVENTS, 0);
        if (n != 0)
            return n;
    }
    return epoll_wait(w->epfd, evs, WORKER_MAX_EVENTS, timeout);
}

static void worker_run_timers(struct worker_ctx *w)
{
    struct timer_list *lists[] = { &w->t_header, &w->t_keepalive, &w->t_send, &w->t_linger };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        struct timer_node *t;
        while ((t = timer_expired(lists[i], w->now_ms)) != NULL)
            conn_timeout(w, (struct conn *)((char *)t - offsetof(struct conn, timer)));
    }
}

/* Run connections that yielded last turn, each once (they may queue again). */
static void worker_run_ready(struct worker_ctx *w)
{
    unsigned n = 0;
    for (struct conn *c = w->ready.head; c; c = c->rnext)
        n++;
    while (n-- > 0 && w->ready.head) {
        struct conn *c = w->ready.head;
        w->ready.head = c->rnext;
        if (w->ready.head)
            w->ready.head->rprev = NULL;
        else
            w->ready.tail = NULL;
        c->rnext = c->rprev = NULL;
        c->queued = 0;
        conn_process(w, c);
    }
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

static int worker_setup(struct worker_state *s, const struct worker_start *ws)
{
    struct worker_ctx *w = &s->w;
    const struct labd_config *cfg = ws->cfg;
    sigset_t set;
    char path[PATH_MAX + 16];

    w->cfg = cfg;
    w->pid = getpid();
    s->listen_fds = ws->listen_fds;
    s->nlisten = ws->nlisten;
    if (s->nlisten > WORKER_MAX_LISTEN) {
        log_error("worker: %d listening sockets, at most %d", s->nlisten, WORKER_MAX_LISTEN);
        return -1;
    }
    s->sfd = -1;

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

    w->limits.max_request_line = (size_t)worker_limit(cfg->max_request_line, 8192);
    w->limits.max_header_bytes = (size_t)worker_limit(cfg->max_header_bytes, 16384);
    w->limits.max_headers = (unsigned)worker_limit(cfg->max_headers, 100);
    w->limits.max_body = cfg->max_body_bytes > 0 ? (unsigned long long)cfg->max_body_bytes : 0;
    /* Room for the largest acceptable header plus the line ends around it. */
    w->in_cap = w->limits.max_request_line + w->limits.max_header_bytes + 8;
    if (w->in_cap < 4096)
        w->in_cap = 4096;

    timer_list_init(&w->t_header, worker_limit(cfg->header_timeout_ms, 20000));
    timer_list_init(&w->t_keepalive, worker_limit(cfg->keepalive_timeout_ms, 5000));
    timer_list_init(&w->t_send, worker_limit(cfg->send_timeout_ms, 60000));
    timer_list_init(&w->t_linger, CONN_LINGER_MS);
    conn_clock_update(w);

    if (handler_init(&w->handler, cfg) < 0) {
        log_error("worker: cannot open document root %s: %s", cfg->root, strerror(errno));
        return -1;
    }
    if (cfg->access_log[0] == 0)
        snprintf(path, sizeof(path), "%s/access.log", cfg->run_dir);
    else
        snprintf(path, sizeof(path), "%s", cfg->access_log);
    if (accesslog_open(&w->alog, path) < 0)
        log_error("worker: cannot open access log %s: %s (access logging off)", path,
                  strerror(errno));
    if (ws->switch_user && worker_switch_user(ws) < 0)
        return -1;

    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) {
        log_error("worker: epoll_create1: %s", strerror(errno));
        return -1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WORKER_TAG_SIGNAL };
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->sfd, &ev);

    if (ws->sb && ws->sb->hdr && ws->slot < ws->sb->hdr->nslots) {
        w->sb = ws->sb;
        w->slot = ws->slot;
        w->sbw = sb_worker_at(ws->sb, ws->slot);
        uint32_t n = ws->sb->hdr->conns_per_slot;
        w->sb_free = calloc(n ? n : 1, sizeof(uint32_t));
        if (w->sb_free == NULL)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            w->sb_free[i] = n - 1 - i;
        w->sb_nfree = n;
    }
    /*
     * Accepted sockets inherit TCP_NODELAY from their listener on Linux, so
     * setting it here once saves a setsockopt() per connection.
     */
    for (int i = 0; i < s->nlisten; i++) {
        int one = 1;
        setsockopt(s->listen_fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        s->listen_wild[i] = worker_listen_addr(s->listen_fds[i], &s->listen_addr[i]);
    }
    if (sandbox_worker_enter() < 0)
        return -1;
    worker_listen(s, 1);
    worker_set_state(w, SB_WORKER_READY);
    if (ws->ready_fd >= 0) {
        char one = 1;
        ssize_t n = write(ws->ready_fd, &one, 1);
        (void)n;
        close(ws->ready_fd);
    }
    return 0;
}

/*
 * After a burst of more connections than the spare list keeps, the heap
 * stays at its peak (44 KB per connection: 10 MB per worker after 1000
 * clients). Once the worker has had no connection for WORKER_TRIM_IDLE_MS,
 * give that memory back to the kernel. Waiting matters: trimming each time
 * the count touches 0 made Connection: close traffic regrow the heap with
 * page faults on every connection (CPU per request 61 -> 110 us).
 */
static void worker_trim(struct worker_ctx *w, unsigned *peak, int64_t *idle_since)
{
    if (w->nconns > *peak)
        *peak = w->nconns;
    if (w->nconns > 0 || *peak <= CONN_SPARE_MAX) {
        *idle_since = -1;
        return;
    }
    if (*idle_since < 0) {
        *idle_since = w->now_ms;
        return;
    }
    if (w->now_ms - *idle_since < WORKER_TRIM_IDLE_MS)
        return;
    *peak = 0;
    *idle_since = -1;
    conn_free_spare(w);
    malloc_trim(0);
}

int worker_main(const struct worker_start *ws)
{
    static struct worker_state state;
    struct worker_state *s = &state;
    struct worker_ctx *w = &s->w;
    struct epoll_event evs[WORKER_MAX_EVENTS];
    int status = 0;

    memset(s, 0, sizeof(*s));
    if (worker_setup(s, ws) < 0) {
        if (ws->ready_fd >= 0)
            close(ws->ready_fd);
        return 1;
    }
    unsigned max_conns = (unsigned)worker_limit(w->cfg->max_conns_per_worker, 1024);
    unsigned peak = 0;       /* most connections open at once since the heap was last trimmed */
    int64_t idle_since = -1; /* when the last connection closed, -1 while busy */
    int busy = 0;            /* the last turn had events */

    for (;;) {
        if (s->stop_fast || (w->draining && w->nconns == 0))
            break;
        struct timer_list *lists[] = { &w->t_header, &w->t_keepalive, &w->t_send, &w->t_linger };
        conn_clock_update(w);
        int timeout = w->ready.head ? 0 : timer_wait_ms(lists, 4, w->now_ms);
        if (!s->listening && s->pause_until_ms > 0) {
            int64_t left = s->pause_until_ms - w->now_ms;
            if (left < 0)
                left = 0;
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }
        if (idle_since >= 0) {
            int64_t left = idle_since + WORKER_TRIM_IDLE_MS - w->now_ms;
            if (left < 0)
                left = 0;
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }
        int n = worker_wait(w, evs, timeout, busy);
        busy = n > 0;
        if (n < 0 && errno != EINTR) {
            log_error("worker: epoll_wait: %s", strerror(errno));
            status = 1;
            break;
        }
        conn_clock_update(w);
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == WORKER_TAG_SIGNAL)
                worker_read_signals(s);
            else if (tag < (uint64_t)s->nlisten)
                worker_accept(s, (int)tag);
            else {
                struct conn *c = evs[i].data.ptr;
                /*
                 * The events are the socket's state when epoll_wait looked:
                 * without EPOLLIN nothing was there to read (a new
                 * connection is writable before its request comes), and
                 * what comes later brings another event.
                 */
                c->rx_empty = !(evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR));
                conn_process(w, c);
            }
        }
        worker_run_ready(w);
        worker_run_timers(w);
        worker_handle_signals(s);
        if (!s->listening && !w->draining && !s->stop_fast && w->nconns < max_conns &&
            (s->pause_until_ms == 0 || w->now_ms >= s->pause_until_ms)) {
            s->pause_until_ms = 0;
            worker_listen(s, 1);
        }
        accesslog_flush(&w->alog);
        conn_free_dead(w);
        worker_trim(w, &peak, &idle_since);
    }
    worker_close_all(w);
    conn_free_dead(w);
    conn_free_spare(w);
    accesslog_close(&w->alog);
    handler_fini(&w->handler);
    close(w->epfd);
    close(s->sfd);
    free(w->sb_free);
    return status;
}
