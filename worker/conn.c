/* Connection state machine: read, parse, discard body, decide, write, keep-alive or close. */
#include "worker/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"

static int64_t conn_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t conn_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void conn_clock_update(struct worker_ctx *w)
{
    w->now_ms = conn_mono_ns() / 1000000;
    time_t now = time(NULL);
    if (now != w->date_sec) {
        w->date_sec = now;
        httpdate_format(now, w->date);
    }
}

/* Intrusive lists: `all`/`dead` use prev/next, `ready` uses rprev/rnext. */
static void conn_list_add(struct conn_list *l, struct conn *c)
{
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

static void conn_list_del(struct conn_list *l, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
}

static void conn_ready_add(struct worker_ctx *w, struct conn *c)
{
    if (c->queued)
        return;
    c->queued = 1;
    c->rprev = w->ready.tail;
    c->rnext = NULL;
    if (w->ready.tail)
        w->ready.tail->rnext = c;
    else
        w->ready.head = c;
    w->ready.tail = c;
}

static void conn_ready_del(struct worker_ctx *w, struct conn *c)
{
    if (!c->queued)
        return;
    if (c->rprev)
        c->rprev->rnext = c->rnext;
    else
        w->ready.head = c->rnext;
    if (c->rnext)
        c->rnext->rprev = c->rprev;
    else
        w->ready.tail = c->rprev;
    c->rprev = c->rnext = NULL;
    c->queued = 0;
}

/* ---- scoreboard ---- */

static void conn_sb_counters(struct worker_ctx *w, int accepted, int conns_delta,
                             unsigned long long bytes, int requests)
{
    if (w->sbw == NULL)
        return;
    sb_write_begin(&w->sbw->seq);
    w->sbw->accepted += (uint64_t)accepted;
    w->sbw->conns_now = (uint32_t)((int)w->sbw->conns_now + conns_delta);
    w->sbw->bytes_sent += bytes;
    w->sbw->requests += (uint64_t)requests;
    sb_write_end(&w->sbw->seq);
}

static void conn_sb_addr(const struct sockaddr *sa, uint8_t *family, uint8_t *addr, uint16_t *port)
{
    memset(addr, 0, 16);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        *family = AF_INET;
        memcpy(addr, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            *family = AF_INET;
            memcpy(addr, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            *family = AF_INET6;
            memcpy(addr, &in6->sin6_addr, 16);
        }
        *port = ntohs(in6->sin6_port);
    }
}

static void conn_sb_open(struct worker_ctx *w, struct conn *c, const struct sockaddr *peer,
                         const struct sockaddr *local)
{
    if (w->sb == NULL || w->sb_nfree == 0)
        return;
    c->sb_index = (int)w->sb_free[--w->sb_nfree];
    struct sb_conn *r = sb_conn_at(w->sb, w->slot, (uint32_t)c->sb_index);
    uint8_t fam = 0, sfam = 0;
    sb_write_begin(&r->seq);
    conn_sb_addr(peer, &fam, r->client_addr, &r->client_port);
    conn_sb_addr(local, &sfam, r->server_addr, &r->server_port);
    r->family = fam;
    r->state = SB_CONN_READING;
    r->status = 0;
    r->pid = (int32_t)w->pid;
    r->accepted_ns = c->accepted_ns;
    r->last_ns = c->accepted_ns;
    r->requests = 0;
    r->request[0] = 0;
    sb_write_end(&r->seq);
}

static void conn_sb_update(struct worker_ctx *w, struct conn *c, int state, int with_request)
{
    if (c->sb_index < 0)
        return;
    struct sb_conn *r = sb_conn_at(w->sb, w->slot, (uint32_t)c->sb_index);
    sb_write_begin(&r->seq);
    r->state = (uint8_t)state;
    r->status = (uint16_t)c->status;
    r->requests = c->requests;
    r->last_ns = conn_real_ns();
    if (with_request) {
        size_t n = c->req.request_line.len;
        if (n > SB_REQUEST_MAX - 1)
            n = SB_REQUEST_MAX - 1;
        memcpy(r->request, c->req.request_line.p, n);
        r->request[n] = 0;
    }
    sb_write_end(&r->seq);
}

/* Copy the record into the recent ring and free it. */
static void conn_sb_close(struct worker_ctx *w, struct conn *c)
{
    if (c->sb_index < 0)
        return;
    struct sb_conn *r = sb_conn_at(w->sb, w->slot, (uint32_t)c->sb_index);
    uint32_t nrecent = w->sb->hdr->recent_per_slot;
    if (nrecent > 0) {
        uint32_t i = w->sbw->recent_next % nrecent;
        struct sb_conn *dst = sb_recent_at(w->sb, w->slot, i);
        sb_write_begin(&dst->seq);
        uint32_t seq = dst->seq;
        memcpy((char *)dst + sizeof(uint32_t), (char *)r + sizeof(uint32_t),
               sizeof(*dst) - sizeof(uint32_t));
        dst->seq = seq;
        dst->state = SB_CONN_CLOSED;
        dst->status = (uint16_t)c->status;
        dst->last_ns = conn_real_ns();
        sb_write_end(&dst->seq);
        sb_write_begin(&w->sbw->seq);
        w->sbw->recent_next++;
        sb_write_end(&w->sbw->seq);
    }
    sb_write_begin(&r->seq);
    r->state = SB_CONN_FREE;
    sb_write_end(&r->seq);
    w->sb_free[w->sb_nfree++] = (uint32_t)c->sb_index;
    c->sb_index = -1;
}

/* ---- access log ---- */

static void conn_log(struct worker_ctx *w, struct conn *c)
{
    struct accesslog_entry e = { 0 };
    const struct http_header *h;

    c->logged = 1;
    e.client = c->peer_text;
    e.client_port = c->peer_port;
    e.when = w->date_sec;
    if (c->req.request_line.p) {
        e.request = c->req.request_line.p;
        e.request_len = c->req.request_line.len;
    } else if (c->in_len > 0) {
        /* Unparsable request: log what its first line held. */
        size_t n = 0;
        while (n < c->in_len && n < 1024 && c->in[n] != '\r' && c->in[n] != '\n')
            n++;
        if (n > 0) {
            e.request = c->in;
            e.request_len = n;
        }
    }
    e.status = c->status;
    e.bytes = c->out.sent > c->out.head_len ? c->out.sent - c->out.head_len : 0;
    if ((h = http_header_find(&c->req, "Referer")) != NULL) {
        e.referer = h->value.p;
        e.referer_len = h->value.len;
    }
    if ((h = http_header_find(&c->req, "User-Agent")) != NULL) {
        e.user_agent = h->value.p;
        e.user_agent_len = h->value.len;
    }
    e.pid = (int)w->pid;
    e.duration_us = (conn_mono_ns() - c->req_start_ns) / 1000;
    accesslog_add(&w->alog, &e);
}

/* ---- life cycle ---- */

static void conn_peer_text(struct conn *c, const struct sockaddr *sa)
{
    uint8_t fam = 0, addr[16];
    uint16_t port = 0;

    conn_sb_addr(sa, &fam, addr, &port);
    c->peer_port = port;
    if (inet_ntop(fam == AF_INET ? AF_INET : AF_INET6, addr, c->peer_text, sizeof(c->peer_text)) ==
        NULL)
        strcpy(c->peer_text, "-");
}

struct conn *conn_new(struct worker_ctx *w, int fd, const struct sockaddr *peer,
                      const struct sockaddr *local)
{
    /* Only the small head is zeroed: the buffers (some 40 KB) need no clearing. */
    struct conn *c = w->spare.head;
    if (c != NULL) {
        conn_list_del(&w->spare, c);
        w->nspare--;
    } else if ((c = malloc(sizeof(*c) + w->in_cap)) == NULL) {
        return NULL;
    }
    memset(c, 0, offsetof(struct conn, req));
    c->out.nsegs = c->out.cur = 0;
    c->out.head_len = 0;
    c->out.body_len = c->out.sent = 0;
    c->fd = fd;
    c->state = CONN_READING;
    c->sb_index = -1;
    c->accepted_ns = conn_real_ns();
    c->req_start_ns = conn_mono_ns();
    http_request_init(&c->req, &w->limits);
    response_plan_init(&c->plan);
    conn_peer_text(c, peer);
    /* nginx-style: the header timeout runs from accept, a silent close if nothing came. */
    timer_arm(&w->t_header, &c->timer, w->now_ms);
    conn_list_add(&w->all, c);
    w->nconns++;
    conn_sb_open(w, c, peer, local);
    conn_sb_counters(w, 1, 1, 0, 0);
    return c;
}

void conn_start(struct worker_ctx *w, struct conn *c)
{
    conn_process(w, c);
    if (c->state == CONN_DEAD)
        return;
    /*
     * Edge-triggered: adding reports the socket's present state, so nothing
     * that came while it was unregistered is missed.
     */
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        log_error("worker: epoll_ctl: %s", strerror(errno));
        conn_close(w, c);
        return;
    }
}

void conn_close(struct worker_ctx *w, struct conn *c)
{
    if (c->state == CONN_DEAD)
        return;
    if (!c->logged && c->status != 0)
        conn_log(w, c); /* a response cut short (send timeout, reset, stop) */
    response_plan_release(&c->plan);
    close(c->fd);
    c->fd = -1;
    timer_cancel(&c->timer);
    conn_ready_del(w, c);
    conn_list_del(&w->all, c);
    conn_list_add(&w->dead, c);
    conn_sb_close(w, c);
    conn_sb_counters(w, 0, -1, 0, 0);
    w->nconns--;
    c->state = CONN_DEAD;
}

void conn_free_dead(struct worker_ctx *w)
{
    struct conn *c;
    while ((c = w->dead.head) != NULL) {
        conn_list_del(&w->dead, c);
        if (w->nspare < CONN_SPARE_MAX) {
            conn_list_add(&w->spare, c);
            w->nspare++;
        } else {
            free(c);
        }
    }
}

void conn_free_spare(struct worker_ctx *w)
{
    struct conn *c;
    while ((c = w->spare.head) != NULL) {
        conn_list_del(&w->spare, c);
        free(c);
    }
    w->nspare = 0;
}

/* Begin answering: err != 0 answers that error status and closes afterwards. */
static void conn_respond(struct worker_ctx *w, struct conn *c, int err)
{
    struct response_env env;
    const struct labd_config *cfg = w->cfg;

    response_plan_release(&c->plan);
    response_plan_init(&c->plan);
    if (err) {
        c->plan.status = err;
        c->parse_error = 1;
    } else {
        handler_decide(&w->handler, &c->req, &c->plan);
    }
    env.date = w->date;
    /* keepalive-timeout 0 turns keep-alive off, as nginx's keepalive_timeout 0. */
    env.keep_alive = !c->parse_error && c->req.keep_alive && !c->plan.close && !w->draining &&
                     cfg->keepalive_timeout_ms > 0 &&
                     c->requests < (unsigned)cfg->max_requests_per_conn;
    env.head = !err && c->req.method == HTTP_METHOD_HEAD;
    env.boundary_id = ++w->boundary_seq;
    if (response_prepare(&c->out, &c->plan, &env) < 0) {
        log_error("response headers for \"%.*s\" do not fit: answering 500",
                  (int)c->req.request_line.len, c->req.request_line.p);
        response_plan_release(&c->plan);
        response_plan_init(&c->plan);
        c->plan.status = 500;
        env.keep_alive = 0;
        response_prepare(&c->out, &c->plan, &env);
    }
    c->keep_alive = env.keep_alive;
    c->status = c->plan.status;
    c->logged = 0;
    c->state = CONN_WRITING;
    timer_arm(&w->t_send, &c->timer, w->now_ms);
    conn_sb_update(w, c, SB_CONN_WRITING, 0);
}

/* The request header is complete. */
static void conn_request_ready(struct worker_ctx *w, struct conn *c)
{
    c->requests++;
    conn_sb_update(w, c, SB_CONN_READING, 1);
    if (c->req.body == HTTP_BODY_NONE) {
        conn_respond(w, c, 0);
        return;
    }
    http_body_init(&c->body, &c->req);
    c->in_pos = c->req.header_len;
    c->state = CONN_BODY;
    const struct http_header *h = http_header_find(&c->req, "Expect");
    if (h && c->req.version_minor == 1 && http_slice_eq(h->value, "100-continue") &&
        c->in_pos == c->in_len) {
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
static void conn_linger(struct worker_ctx *w, struct conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    timer_arm(&w->t_linger, &c->timer, w->now_ms);
}

static void conn_finish_response(struct worker_ctx *w, struct conn *c)
{
    conn_log(w, c);
    conn_sb_counters(w, 0, 0, c->out.sent, 1);
    response_plan_release(&c->plan);
    size_t used = c->req.body != HTTP_BODY_NONE ? c->in_pos : c->req.header_len;
    if (!c->keep_alive || w->draining) {
        /*
         * Linger only when the client may still be sending: an error cut its
         * request short, it pipelined more, or we had promised keep-alive.
         * Otherwise close at once, as nginx's "lingering_close on" does.
         * FIONREAD is asked only when the last read may have left bytes
         * behind or readable data was signalled since (rx_empty).
         */
        int pending = 0;
        if (c->parse_error || c->keep_alive || c->in_len > used ||
            (!c->rx_empty && (ioctl(c->fd, FIONREAD, &pending) < 0 || pending > 0)))
            conn_linger(w, c);
        else
            conn_close(w, c);
        return;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    c->in_pos = 0;
    http_request_init(&c->req, &w->limits);
    c->state = CONN_READING;
    c->req_started = c->in_len > 0;
    c->req_start_ns = conn_mono_ns();
    if (c->req_started)
        timer_arm(&w->t_header, &c->timer, w->now_ms);
    else
        timer_arm(&w->t_keepalive, &c->timer, w->now_ms);
    conn_sb_update(w, c, c->req_started ? SB_CONN_READING : SB_CONN_KEEPALIVE, 0);
}

/* Read into the input buffer: 1 got bytes, 0 wait for more, -1 closed. */
static int conn_fill(struct worker_ctx *w, struct conn *c)
{
    /*
     * The last read emptied the socket and no readable event came since:
     * a read now could only say EAGAIN, and new bytes will bring an event
     * (edge-triggered), as nginx's rev->ready. Saves a read per keep-alive
     * request.
     */
    if (c->rx_empty)
        return 0;
    for (;;) {
        size_t room = w->in_cap - c->in_len;
        ssize_t n = read(c->fd, c->in + c->in_len, room);
        if (n > 0) {
            c->rx_empty = (size_t)n < room;
            if (!c->req_started) {
                c->req_started = 1;
                c->req_start_ns = conn_mono_ns();
                if (c->timer.list != &w->t_header)
                    timer_arm(&w->t_header, &c->timer, w->now_ms);
                conn_sb_update(w, c, SB_CONN_READING, 0);
            }
            c->in_len += (size_t)n;
            return 1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->rx_empty = 1;
            return 0;
        }
        conn_close(w, c); /* EOF or error */
        return -1;
    }
}

void conn_process(struct worker_ctx *w, struct conn *c)
{
    for (;;) {
        int rc;
        size_t used;

        switch (c->state) {
        case CONN_READING:
            if (c->in_len > 0) {
                rc = http_parse_request(&c->req, c->in, c->in_len);
                if (rc == HTTP_PARSE_DONE) {
                    conn_request_ready(w, c);
                    continue;
                }
                if (rc == HTTP_PARSE_ERROR) {
                    conn_respond(w, c, c->req.error_status);
                    continue;
                }
            }
            if (c->in_len == w->in_cap) {
                /* Limits fit the buffer, so this is only a safety net. */
                conn_respond(w, c, 431);
                continue;
            }
            if (conn_fill(w, c) <= 0)
                return;
            continue;

        case CONN_BODY:
            if (c->in_pos < c->in_len) {
                rc = http_body_consume(&c->body, c->in + c->in_pos, c->in_len - c->in_pos, &used);
                c->in_pos += used;
                if (rc == HTTP_PARSE_DONE) {
                    conn_respond(w, c, 0);
                    continue;
                }
                if (rc == HTTP_PARSE_ERROR) {
                    conn_respond(w, c, c->body.error_status);
                    continue;
                }
            }
            /* Body bytes are discarded: reuse the space after the header. */
            c->in_len = c->in_pos = c->req.header_len;
            if (conn_fill(w, c) <= 0)
                return;
            continue;

        case CONN_WRITING: {
            unsigned long long before = c->out.sent;
            rc = response_send(&c->out, c->fd, CONN_SEND_BUDGET);
            if (rc == RESPONSE_DONE) {
                timer_cancel(&c->timer);
                conn_finish_response(w, c);
                continue;
            }
            if (rc == RESPONSE_ERROR) {
                /* EPIPE/ECONNRESET: the client left; an ordinary event. */
                conn_close(w, c);
                return;
            }
            if (c->out.sent != before)
                timer_arm(&w->t_send, &c->timer, w->now_ms);
            if (rc == RESPONSE_YIELD)
                conn_ready_add(w, c);
            return;
        }

        case CONN_LINGER:
            for (;;) {
                ssize_t n = read(c->fd, c->in, w->in_cap);
                if (n > 0)
                    continue;
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    return;
                conn_close(w, c);
                return;
            }

        case CONN_DEAD:
            return;
        }
    }
}

void conn_timeout(struct worker_ctx *w, struct conn *c)
{
    struct timer_list *l = c->timer.list;

    timer_cancel(&c->timer);
    if (l == &w->t_header && (c->state == CONN_READING || c->state == CONN_BODY) &&
        c->req_started) {
        /* Some bytes came but not a whole request: say so, then close (nginx: 408). */
        conn_respond(w, c, 408);
        conn_process(w, c);
        return;
    }
    if (l == &w->t_send) {
        /* A stalled reader: reset, so the kernel drops the queued bytes now
         * instead of holding them for an orphaned socket (nginx's
         * reset_timedout_connection). */
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    /* Idle keep-alive, silent new connection, stalled reader, lingering close. */
    conn_close(w, c);
}
