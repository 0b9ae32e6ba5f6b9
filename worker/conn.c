/*
 * Connection state machine (read, parse, decide, discard body, respond) and
 * its pool. What a connection leaves on record (its scoreboard entry, its
 * access-log line) is in conn_record.c.
 */
#include "worker/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/config.h"
#include "shared/log.h"
#include "shared/scoreboard.h"
#include "worker/accesslog.h"
#include "worker/conn_int.h"
#include "worker/handler.h"
#include "worker/http_parse.h"
#include "worker/httpdate.h"
#include "worker/response.h"
#include "worker/timer.h"

/*
 * File body bytes one connection may send per event-loop turn: nginx's
 * sendfile_max_chunk default (2m). A socket buffer rarely takes more in one
 * call, so a smaller budget adds turns without making anything fairer.
 * A tail shorter than this goes with the turn before it (response_send).
 */
#define CONN_SEND_BUDGET (2 * 1024 * 1024)
/* How long a closing connection waits for the client's FIN (conn_linger). */
#define CONN_LINGER_MS 2000
/*
 * Graceful stop: how long after its accept a connection that has sent
 * nothing yet may still send its first request (conn_pool_drain).
 */
#define CONN_DRAIN_FRESH_MS 250

static void conn_process(struct conn_pool *p, struct conn *c);

/* ---- the ready list: the one place a connection joins or leaves it ---- */

static void conn_ready_add(struct conn_pool *p, struct conn *c)
{
    if (c->queued)
        return;
    c->queued = 1;
    TAILQ_INSERT_TAIL(&p->ready, c, ready_link);
}

static void conn_ready_del(struct conn_pool *p, struct conn *c)
{
    if (!c->queued)
        return;
    TAILQ_REMOVE(&p->ready, c, ready_link);
    c->queued = 0;
}

/* ---- life cycle ---- */

/*
 * Give c a work area, set up for a new request: a spare one (the last given
 * back, warm in the cache) or a new one. Returns 0, or -1 when out of memory.
 */
static int conn_work_take(struct conn_pool *p, struct conn *c)
{
    struct conn_work *w = TAILQ_FIRST(&p->work_spare);

    if (w != NULL) {
        TAILQ_REMOVE(&p->work_spare, w, link);
        p->nwork_spare--;
    } else if ((w = malloc(sizeof(*w) + p->in_cap)) == NULL) {
        return -1;
    }
    /* The large parts by their init functions; in[] and out.buf hold data
     * only up to their lengths, so they are not cleared. */
    w->in_len = 0;
    w->in_pos = 0;
    memset(&w->body, 0, sizeof(w->body));
    http_request_init(&w->req, &p->limits);
    response_plan_init(&w->plan);
    response_out_init(&w->out);
    c->w = w;
    return 0;
}

/* c is between requests, or closed: its work area goes back to the pool. */
static void conn_work_give(struct conn_pool *p, struct conn *c)
{
    struct conn_work *w = c->w;

    if (w == NULL)
        return;
    conn_sb_flush(p, c); /* while its request line is still there */
    response_plan_release(&w->plan);
    c->w = NULL;
    if (p->nwork_spare < CONN_SPARE_MAX) {
        TAILQ_INSERT_HEAD(&p->work_spare, w, link);
        p->nwork_spare++;
    } else {
        free(w);
    }
}

/* Nothing of a request in c's buffer, none begun: c needs no work area. */
static int conn_between_requests(const struct conn *c)
{
    return c->state == CONN_READING && c->w != NULL && c->w->in_len == 0 && !c->req_started;
}

/* A connection for an accepted socket, set up and in the pool; NULL when out of memory. */
static struct conn *conn_new(struct conn_pool *p, int fd, const struct sockaddr *peer,
                             const struct sockaddr *local)
{
    struct conn *c = TAILQ_FIRST(&p->spare);

    if (c != NULL) {
        TAILQ_REMOVE(&p->spare, c, link);
        p->nspare--;
    } else if ((c = malloc(sizeof(*c))) == NULL) {
        return NULL;
    }
    /* Every field; the work area comes with the first bytes (conn_process). */
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->state = CONN_READING;
    c->sb_index = -1;
    c->accepted_ns = p->real_ns;
    c->req_start_ns = conn_req_start(p);
    /* The address as numbers; its text is made only for a log line. */
    conn_sb_addr(peer, &c->peer_family, c->peer_addr, &c->peer_port);
    /* nginx-style: the header timeout runs from accept, a silent close if nothing came. */
    timer_arm(&p->t_header, &c->timer, p->now_ms);
    TAILQ_INSERT_TAIL(&p->all, c, link);
    p->nconns++;
    conn_sb_open(p, c, local);
    conn_sb_counters(p, 1, 1, 0, 0);
    return c;
}

/*
 * A closed connection's memory. One that epoll never saw (a request answered
 * and closed at its accept) is reused at once, with its memory still in the
 * cache; any other waits for the end of the turn (conn_pool_free_dead), as
 * an event already returned may name it.
 */
static void conn_retire(struct conn_pool *p, struct conn *c)
{
    if (!c->in_epoll && p->nspare < CONN_SPARE_MAX) {
        TAILQ_INSERT_HEAD(&p->spare, c, link);
        p->nspare++;
    } else {
        TAILQ_INSERT_TAIL(&p->dead, c, link);
    }
}

/* Close now (fast stop, errors); conn_retire says when the memory is reused. */
static void conn_close(struct conn_pool *p, struct conn *c)
{
    if (c->state == CONN_DEAD)
        return;
    if (!c->logged && c->status != 0 && c->w != NULL)
        conn_log(p, c); /* a response cut short (send timeout, reset, stop) */
    conn_work_give(p, c);
    close(c->fd);
    c->fd = -1;
    timer_cancel(&c->timer);
    conn_ready_del(p, c);
    TAILQ_REMOVE(&p->all, c, link);
    conn_retire(p, c);
    conn_sb_close(p, c);
    conn_sb_counters(p, 0, -1, 0, 0);
    p->nconns--;
    c->state = CONN_DEAD;
}

int conn_accept(struct conn_pool *p, int fd, const struct sockaddr *peer,
                const struct sockaddr *local)
{
    struct conn *c = conn_new(p, fd, peer, local);

    if (c == NULL)
        return -1;
    /*
     * Serve what came with the handshake first: a request answered with
     * Connection: close is then closed without epoll ever seeing it.
     */
    conn_process(p, c);
    if (c->state == CONN_DEAD)
        return 0;
    /*
     * Edge-triggered: adding reports the socket's present state, so nothing
     * that came while it was unregistered is missed.
     */
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
    if (epoll_ctl(p->env.epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        log_error("worker: epoll_ctl: %s", strerror(errno));
        conn_close(p, c);
        return 0;
    }
    c->in_epoll = 1;
    return 0;
}

/*
 * Decide: err != 0 plans that error status (the request could not be read,
 * so the connection closes after the answer); else the handler decides.
 */
static void conn_decide(struct conn_pool *p, struct conn *c, int err)
{
    response_plan_release(&c->w->plan);
    response_plan_init(&c->w->plan);
    if (err) {
        c->w->plan.status = err;
        c->parse_error = 1;
    } else {
        handler_decide(p->env.handler, &c->w->req, p->now_ms, p->date_sec, &c->w->plan);
    }
}

/* Respond: render the plan decided for the request and start sending it. */
static void conn_respond(struct conn_pool *p, struct conn *c)
{
    const struct labd_config *cfg = p->env.cfg;
    struct response_env env;

    env.date = p->date;
    /* keepalive-timeout 0 turns keep-alive off, as nginx's keepalive_timeout 0. */
    env.keep_alive = !c->parse_error && !c->body_unread && c->w->req.keep_alive && !p->draining &&
                     cfg->keepalive_timeout_ms > 0 &&
                     c->requests < (unsigned)cfg->max_requests_per_conn;
    env.head = !c->parse_error && c->w->req.method == HTTP_METHOD_HEAD;
    env.boundary_id = ++p->boundary_seq;
    if (response_prepare(&c->w->out, &c->w->plan, &env) < 0)
        log_error("response headers for \"%.*s\" do not fit: answering 500",
                  (int)c->w->req.request_line.len, c->w->req.request_line.p);
    c->keep_alive = !c->w->out.closing;
    c->status = c->w->out.status;
    c->logged = 0;
    c->state = CONN_WRITING;
    timer_arm(&p->t_send, &c->timer, p->now_ms);
    conn_sb_update(p, c, SB_CONN_WRITING, 0);
}

/* An error answer: plan it and send it; the connection closes afterwards. */
static void conn_fail(struct conn_pool *p, struct conn *c, int status)
{
    conn_decide(p, c, status);
    conn_respond(p, c);
}

/*
 * The request header is complete. The answer never depends on a body, so it
 * is decided now; a body is then read and discarded before it is sent.
 */
static void conn_request_ready(struct conn_pool *p, struct conn *c)
{
    c->requests++;
    conn_sb_update(p, c, SB_CONN_READING, 1);
    conn_decide(p, c, 0);
    if (c->w->req.body == HTTP_BODY_NONE) {
        conn_respond(p, c);
        return;
    }
    http_body_init(&c->w->body, &c->w->req);
    c->w->in_pos = c->w->req.header_len;
    c->state = CONN_BODY;
    const struct http_header *h = http_header_find(&c->w->req, "Expect");
    if (h && c->w->req.version_minor == 1 && http_slice_eq(h->value, "100-continue") &&
        c->w->in_pos == c->w->in_len) {
        if (c->w->plan.status >= 400) {
            /*
             * A refusal goes at once, never after "100 Continue" (RFC 9110
             * §10.1.1): the client need not send the body. Whether it does
             * is unknown, so the connection closes after the answer.
             */
            c->body_unread = 1;
            conn_respond(p, c);
            return;
        }
        /* Best effort: a client that gets no 100 sends the body after a pause anyway. */
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        ssize_t n = send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL);
        (void)n;
    }
}

/*
 * Closing after a response: shut our side down and read until the client's
 * FIN, so unread request bytes do not turn our close into an RST that could
 * destroy the response before the client has read it (nginx's lingering close).
 */
static void conn_linger(struct conn_pool *p, struct conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    timer_arm(&p->t_linger, &c->timer, p->now_ms);
}

static void conn_finish_response(struct conn_pool *p, struct conn *c)
{
    conn_log(p, c);
    conn_sb_counters(p, 0, 0, c->w->out.sent, 1);
    response_plan_release(&c->w->plan);
    size_t used = c->w->req.body != HTTP_BODY_NONE ? c->w->in_pos : c->w->req.header_len;
    /*
     * A graceful stop that began during a keep-alive response goes on as
     * keep-alive: a request already sent is answered (with Connection:
     * close), an idle connection is closed by conn_process.
     */
    if (!c->keep_alive) {
        /*
         * Linger only when the client may still be sending: an error cut its
         * request short, a refused request's body may follow, or it
         * pipelined more. Otherwise close at once, as nginx's
         * "lingering_close on" does. FIONREAD is asked only when the last
         * read may have left bytes behind or readable data was signalled
         * since (rx_empty).
         */
        int pending = 0;
        if (c->parse_error || c->body_unread || c->w->in_len > used ||
            (!c->rx_empty && (ioctl(c->fd, FIONREAD, &pending) < 0 || pending > 0)))
            conn_linger(p, c);
        else
            conn_close(p, c);
        return;
    }
    memmove(c->w->in, c->w->in + used, c->w->in_len - used);
    c->w->in_len -= used;
    c->w->in_pos = 0;
    c->state = CONN_READING;
    c->req_started = c->w->in_len > 0;
    if (c->req_started)
        http_request_init(&c->w->req, &p->limits); /* a pipelined request follows */
    else
        conn_work_give(p, c);
    c->req_start_ns = conn_req_start(p);
    if (c->req_started)
        timer_arm(&p->t_header, &c->timer, p->now_ms);
    else
        timer_arm(&p->t_keepalive, &c->timer, p->now_ms);
    conn_sb_update(p, c, c->req_started ? SB_CONN_READING : SB_CONN_KEEPALIVE, 0);
}

/* Read into the input buffer. */
static enum conn_fill_result conn_fill(struct conn_pool *p, struct conn *c)
{
    /*
     * The last read emptied the socket and no readable event came since:
     * a read now could only say EAGAIN, and new bytes will bring an event
     * (edge-triggered), as nginx's rev->ready. Saves a read per keep-alive
     * request.
     */
    if (c->rx_empty)
        return CONN_FILL_WAIT;
    for (;;) {
        size_t room = p->in_cap - c->w->in_len;
        ssize_t n = read(c->fd, c->w->in + c->w->in_len, room);
        if (n > 0) {
            c->rx_empty = (size_t)n < room;
            if (!c->req_started) {
                c->req_started = 1;
                c->req_start_ns = conn_req_start(p);
                if (c->timer.list != &p->t_header)
                    timer_arm(&p->t_header, &c->timer, p->now_ms);
                conn_sb_update(p, c, SB_CONN_READING, 0);
            }
            c->w->in_len += (size_t)n;
            return CONN_FILL_GOT;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->rx_empty = 1;
            return CONN_FILL_WAIT;
        }
        conn_close(p, c); /* EOF or error */
        return CONN_FILL_CLOSED;
    }
}

/* Write what the socket takes; returns 1 when the state machine goes on, 0 to wait. */
static int conn_write(struct conn_pool *p, struct conn *c)
{
    unsigned long long before = c->w->out.sent;

    switch (response_send(&c->w->out, c->fd, CONN_SEND_BUDGET)) {
    case RESPONSE_DONE:
        timer_cancel(&c->timer);
        conn_finish_response(p, c);
        return 1;
    case RESPONSE_ERROR:
        /* EPIPE/ECONNRESET: the client left; an ordinary event. */
        conn_close(p, c);
        return 0;
    case RESPONSE_YIELD:
        conn_ready_add(p, c);
        break;
    case RESPONSE_AGAIN:
        break;
    }
    if (c->w->out.sent != before)
        timer_arm(&p->t_send, &c->timer, p->now_ms);
    return 0;
}

/* Lingering: read and drop what the client still sends, until its FIN. */
static void conn_linger_read(struct conn_pool *p, struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->w->in, p->in_cap);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(p, c);
        return;
    }
}

/*
 * Graceful stop, and c is between two requests with no byte of the next
 * one: close it now, as nginx does, rather than hold the stop until the
 * keep-alive timeout. But ask the socket itself first (not the last event):
 * a request that has arrived is still read and answered, with Connection:
 * close. A client whose request crosses our FIN gets no answer and, the
 * connection being a reused one, may retry it (RFC 9112 §9.3.1): the race
 * every HTTP/1.1 server that closes idle connections has.
 */
static void conn_drain_idle(struct conn_pool *p, struct conn *c)
{
    c->rx_empty = 0;
    if (conn_fill(p, c) == CONN_FILL_WAIT)
        conn_close(p, c);
}

/*
 * What a parse step of the header (CONN_READING) or the body (CONN_BODY)
 * found: complete, on to the answer; unreadable, error_status and a close.
 * Returns 1 when the state machine moved on, 0 when more bytes are needed.
 */
static int conn_parsed(struct conn_pool *p, struct conn *c, enum http_parse_result rc,
                       int error_status)
{
    switch (rc) {
    case HTTP_PARSE_DONE:
        if (c->state == CONN_READING)
            conn_request_ready(p, c);
        else
            conn_respond(p, c);
        return 1;
    case HTTP_PARSE_ERROR:
        conn_fail(p, c, error_status);
        return 1;
    case HTTP_PARSE_AGAIN:
        break;
    }
    return 0;
}

/* Run c's state machine as far as it goes now. */
static void conn_advance(struct conn_pool *p, struct conn *c)
{
    for (;;) {
        enum http_parse_result rc;
        size_t used;

        switch (c->state) {
        case CONN_READING:
            if (c->w == NULL) {
                /* Between requests: the socket is empty (rx_empty) unless a
                 * graceful stop asks it (conn_drain_idle). */
                if (c->rx_empty && !(p->draining && c->requests > 0))
                    return;
                if (conn_work_take(p, c) < 0) {
                    log_error("worker: no memory for a request: closing its connection");
                    conn_close(p, c);
                    return;
                }
            }
            if (c->w->in_len > 0) {
                rc = http_parse_request(&c->w->req, c->w->in, c->w->in_len);
                if (conn_parsed(p, c, rc, c->w->req.error_status))
                    continue;
            } else if (p->draining && c->requests > 0) {
                conn_drain_idle(p, c);
                continue;
            }
            if (c->w->in_len == p->in_cap) {
                /* Limits fit the buffer, so this is only a safety net. */
                conn_fail(p, c, 431);
                continue;
            }
            if (conn_fill(p, c) != CONN_FILL_GOT) {
                if (conn_between_requests(c))
                    conn_work_give(p, c);
                return;
            }
            continue;

        case CONN_BODY:
            if (c->w->in_pos < c->w->in_len) {
                rc = http_body_consume(&c->w->body, c->w->in + c->w->in_pos,
                                       c->w->in_len - c->w->in_pos, &used);
                c->w->in_pos += used;
                if (conn_parsed(p, c, rc, c->w->body.error_status))
                    continue;
            }
            /* Body bytes are discarded: reuse the space after the header. */
            c->w->in_len = c->w->in_pos = c->w->req.header_len;
            if (conn_fill(p, c) != CONN_FILL_GOT)
                return;
            continue;

        case CONN_WRITING:
            if (!conn_write(p, c))
                return;
            continue;

        case CONN_LINGER:
            conn_linger_read(p, c);
            return;

        case CONN_DEAD:
            return;
        }
    }
}

static void conn_process(struct conn_pool *p, struct conn *c)
{
    conn_advance(p, c);
    if (c->state != CONN_DEAD)
        conn_sb_flush(p, c);
}

void conn_event(struct conn_pool *p, struct conn *c, uint32_t events)
{
    /*
     * The events are the socket's state when epoll_wait looked: without
     * EPOLLIN nothing was there to read (a new connection is writable
     * before its request comes), and what comes later brings another event.
     */
    c->rx_empty = !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR));
    conn_process(p, c);
}

/* c's timer expired. */
static void conn_timeout(struct conn_pool *p, struct conn *c)
{
    struct timer_list *l = c->timer.list;

    timer_cancel(&c->timer);
    if (l == &p->t_header && (c->state == CONN_READING || c->state == CONN_BODY) &&
        c->req_started) {
        /* Some bytes came but not a whole request: say so, then close (nginx: 408). */
        conn_fail(p, c, 408);
        conn_process(p, c);
        return;
    }
    if (l == &p->t_send) {
        /* A stalled reader: reset, so the kernel drops the queued bytes now
         * instead of holding them for an orphaned socket (nginx's
         * reset_timedout_connection). */
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    /* Idle keep-alive, silent new connection, stalled reader, lingering close. */
    conn_close(p, c);
}

/* ---- the pool ---- */

struct conn_pool *conn_pool_new(const struct conn_env *env, int64_t now_ms, int64_t real_ns)
{
    const struct labd_config *cfg = env->cfg;
    struct conn_pool *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->env = *env;
    p->limits.max_request_line = (size_t)cfg->max_request_line;
    p->limits.max_header_bytes = (size_t)cfg->max_header_bytes;
    p->limits.max_headers = (unsigned)cfg->max_headers;
    p->limits.max_body = (unsigned long long)cfg->max_body_bytes;
    /* Room for the largest acceptable header plus the line ends around it. */
    p->in_cap = p->limits.max_request_line + p->limits.max_header_bytes + 8;
    if (p->in_cap < 4096)
        p->in_cap = 4096;
    if (env->sb != NULL) {
        uint32_t n = env->sb->hdr->conns_per_slot;
        p->sbw = sb_worker_at(env->sb, env->slot);
        p->sb_free = calloc(n ? n : 1, sizeof(uint32_t));
        if (p->sb_free == NULL) {
            free(p);
            return NULL;
        }
        for (uint32_t i = 0; i < n; i++)
            p->sb_free[i] = n - 1 - i;
        p->sb_nfree = n;
    }
    /*
     * Timers run on the coarse clock, read once per loop turn: the time a
     * timer is armed with can be a tick older than the real moment, so each
     * timeout gets one tick more, and a client never sees it end early.
     */
    int64_t lag = clock_coarse_lag_ms();
    timer_list_init(&p->t_header, cfg->header_timeout_ms + lag);
    timer_list_init(&p->t_keepalive, cfg->keepalive_timeout_ms + lag);
    timer_list_init(&p->t_send, cfg->send_timeout_ms + lag);
    timer_list_init(&p->t_linger, CONN_LINGER_MS);
    TAILQ_INIT(&p->all);
    TAILQ_INIT(&p->ready);
    TAILQ_INIT(&p->dead);
    TAILQ_INIT(&p->spare);
    TAILQ_INIT(&p->work_spare);
    p->date_sec = -1;
    conn_pool_clock(p, now_ms, real_ns);
    return p;
}

void conn_pool_free(struct conn_pool *p)
{
    conn_pool_close_all(p);
    conn_pool_free_dead(p);
    conn_pool_free_spare(p);
    free(p->sb_free);
    free(p);
}

void conn_pool_clock(struct conn_pool *p, int64_t now_ms, int64_t real_ns)
{
    time_t now_sec = (time_t)(real_ns / 1000000000);

    p->now_ms = now_ms;
    p->real_ns = real_ns;
    if (now_sec != p->date_sec) {
        p->date_sec = now_sec;
        httpdate_format(now_sec, p->date);
    }
}

void conn_pool_run(struct conn_pool *p)
{
    struct timer_list *lists[] = { &p->t_header, &p->t_keepalive, &p->t_send, &p->t_linger };
    struct timer_node *t;
    struct conn *c;
    unsigned n = 0;

    /* Those that yielded last turn, each once: they may queue again, at the tail. */
    TAILQ_FOREACH(c, &p->ready, ready_link)
    n++;
    while (n-- > 0 && (c = TAILQ_FIRST(&p->ready)) != NULL) {
        conn_ready_del(p, c);
        conn_process(p, c);
    }
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        while ((t = timer_expired(lists[i], p->now_ms)) != NULL)
            conn_timeout(p, (struct conn *)((char *)t - offsetof(struct conn, timer)));
    conn_sb_counters_flush(p);
}

int conn_pool_wait_ms(const struct conn_pool *p)
{
    const struct timer_list *lists[] = { &p->t_header, &p->t_keepalive, &p->t_send, &p->t_linger };

    if (!TAILQ_EMPTY(&p->ready))
        return 0;
    return timer_wait_ms(lists, 4, p->now_ms);
}

unsigned conn_pool_count(const struct conn_pool *p)
{
    return p->nconns;
}

void conn_pool_drain(struct conn_pool *p)
{
    int64_t fresh_ms =
        p->t_header.timeout_ms < CONN_DRAIN_FRESH_MS ? p->t_header.timeout_ms : CONN_DRAIN_FRESH_MS;
    struct conn *c, *next;

    p->draining = 1;
    /*
     * A connection that has sent nothing since its accept may be a client
     * that has just connected, its first request on the way; clients do
     * not retry a request that fails on a new connection as they do on a
     * reused one. So it gets until CONN_DRAIN_FRESH_MS after its accept,
     * then it is taken for a browser's spare connection and closed. The
     * keep-alive list serves for that wait: its own connections leave it
     * below (closed, or on the header timer with a request that came). The
     * deadlines stay in order because the pool's list is in accept order,
     * and each header timer, armed at accept, tells when that was.
     */
    p->t_keepalive.timeout_ms = fresh_ms;
    for (c = TAILQ_FIRST(&p->all); c != NULL; c = next) {
        next = TAILQ_NEXT(c, link); /* c may close, no other one */
        if (c->state != CONN_READING || (c->w != NULL && c->w->in_len > 0))
            continue; /* a request or a response in progress: it finishes */
        if (c->requests > 0)
            conn_process(p, c);
        else
            timer_arm(&p->t_keepalive, &c->timer, c->timer.deadline_ms - p->t_header.timeout_ms);
    }
}

void conn_pool_close_all(struct conn_pool *p)
{
    struct conn *c;

    while ((c = TAILQ_FIRST(&p->all)) != NULL)
        conn_close(p, c);
    conn_sb_counters_flush(p);
}

void conn_pool_free_dead(struct conn_pool *p)
{
    struct conn *c;

    while ((c = TAILQ_FIRST(&p->dead)) != NULL) {
        TAILQ_REMOVE(&p->dead, c, link);
        if (p->nspare < CONN_SPARE_MAX) {
            /* Last in, first out: the next connection gets the warmest memory. */
            TAILQ_INSERT_HEAD(&p->spare, c, link);
            p->nspare++;
        } else {
            free(c);
        }
    }
}

void conn_pool_free_spare(struct conn_pool *p)
{
    struct conn *c;
    struct conn_work *w;

    while ((c = TAILQ_FIRST(&p->spare)) != NULL) {
        TAILQ_REMOVE(&p->spare, c, link);
        free(c);
    }
    p->nspare = 0;
    while ((w = TAILQ_FIRST(&p->work_spare)) != NULL) {
        TAILQ_REMOVE(&p->work_spare, w, link);
        free(w);
    }
    p->nwork_spare = 0;
}
