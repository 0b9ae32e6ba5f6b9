/*
 * What a connection leaves on record: its live entry in the scoreboard (and
 * the worker's counters), written once per loop turn, and its access-log
 * line. Part of worker/conn (conn_int.h).
 */
#include "worker/conn_int.h"

#include <string.h>

#include "shared/clock.h"
#include "worker/accesslog.h"

/* ---- scoreboard ---- */

/*
 * The scoreboard is written once per loop turn, not at each step of each
 * request: a reader (labmon, ten times a second) sees every connection as
 * it ended the turn, and the worker spends one locked write per connection
 * per turn instead of four (2 % of a worker's CPU under S1, perf).
 */
void conn_sb_counters_flush(struct conn_pool *p)
{
    struct sb_worker *sbw = p->sbw;

    if (!p->sb_pending.dirty)
        return;
    if (sbw != NULL) {
        sb_write_begin(&sbw->seq);
        sbw->accepted += p->sb_pending.accepted;
        sbw->conns_now = (uint32_t)((int)sbw->conns_now + p->sb_pending.conns_delta);
        sbw->bytes_sent += p->sb_pending.bytes;
        sbw->requests += p->sb_pending.requests;
        sb_write_end(&sbw->seq);
    }
    memset(&p->sb_pending, 0, sizeof(p->sb_pending));
}

void conn_sb_addr(const struct sockaddr *sa, uint8_t *family, uint8_t *addr, uint16_t *port)
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

void conn_sb_open(struct conn_pool *p, struct conn *c, const struct sockaddr *local)
{
    if (p->sbw == NULL || p->sb_nfree == 0)
        return;
    c->sb_index = (int)p->sb_free[--p->sb_nfree];
    struct sb_conn *r = sb_conn_at(p->env.sb, p->env.slot, (uint32_t)c->sb_index);
    uint8_t sfam = 0;
    sb_write_begin(&r->seq);
    memcpy(r->client_addr, c->peer_addr, sizeof(r->client_addr));
    r->client_port = c->peer_port;
    conn_sb_addr(local, &sfam, r->server_addr, &r->server_port);
    r->family = c->peer_family;
    r->state = SB_CONN_READING;
    r->status = 0;
    r->pid = (int32_t)p->env.pid;
    r->accepted_ns = c->accepted_ns;
    r->last_ns = c->accepted_ns;
    r->requests = 0;
    r->request[0] = 0;
    sb_write_end(&r->seq);
}

/* Write c's record, if anything changed since it was last written. */
void conn_sb_flush(struct conn_pool *p, struct conn *c)
{
    if (!c->sb_dirty || c->sb_index < 0)
        return;
    struct sb_conn *r = sb_conn_at(p->env.sb, p->env.slot, (uint32_t)c->sb_index);
    sb_write_begin(&r->seq);
    r->state = c->sb_state;
    r->status = (uint16_t)c->status;
    r->requests = c->requests;
    r->last_ns = p->real_ns;
    if (c->sb_with_request && c->w != NULL) {
        size_t n = c->w->req.request_line.len;
        if (n > SB_REQUEST_MAX - 1)
            n = SB_REQUEST_MAX - 1;
        memcpy(r->request, c->w->req.request_line.p, n);
        r->request[n] = 0;
    }
    sb_write_end(&r->seq);
    c->sb_dirty = 0;
    c->sb_with_request = 0;
}

/* Copy the record into the recent ring and free it. */
void conn_sb_close(struct conn_pool *p, struct conn *c)
{
    if (c->sb_index < 0)
        return;
    conn_sb_flush(p, c);
    struct scoreboard *sb = p->env.sb;
    struct sb_conn *r = sb_conn_at(sb, p->env.slot, (uint32_t)c->sb_index);
    uint32_t nrecent = sb->hdr->recent_per_slot;
    if (nrecent > 0) {
        uint32_t i = p->sbw->recent_next % nrecent;
        struct sb_conn *dst = sb_recent_at(sb, p->env.slot, i);
        sb_write_begin(&dst->seq);
        uint32_t seq = dst->seq;
        memcpy((char *)dst + sizeof(uint32_t), (char *)r + sizeof(uint32_t),
               sizeof(*dst) - sizeof(uint32_t));
        dst->seq = seq;
        dst->state = SB_CONN_CLOSED;
        dst->status = (uint16_t)c->status;
        dst->last_ns = p->real_ns;
        sb_write_end(&dst->seq);
        sb_write_begin(&p->sbw->seq);
        p->sbw->recent_next++;
        sb_write_end(&p->sbw->seq);
    }
    sb_write_begin(&r->seq);
    r->state = SB_CONN_FREE;
    sb_write_end(&r->seq);
    p->sb_free[p->sb_nfree++] = (uint32_t)c->sb_index;
    c->sb_index = -1;
}

/* ---- access log ---- */

void conn_log(struct conn_pool *p, struct conn *c)
{
    struct accesslog_entry e = { 0 };
    const struct http_header *h;

    c->logged = 1;
    if (!accesslog_on(p->env.alog))
        return;
    if (c->peer_text[0] == 0 && inet_ntop(c->peer_family == AF_INET ? AF_INET : AF_INET6,
                                          c->peer_addr, c->peer_text, sizeof(c->peer_text)) == NULL)
        strcpy(c->peer_text, "-");
    e.client = c->peer_text;
    e.client_port = c->peer_port;
    e.when = p->date_sec;
    if (c->w->req.request_line.p) {
        e.request = c->w->req.request_line.p;
        e.request_len = c->w->req.request_line.len;
    } else if (c->w->in_len > 0) {
        /* Unparsable request: log what its first line held. */
        size_t n = 0;
        while (n < c->w->in_len && n < 1024 && c->w->in[n] != '\r' && c->w->in[n] != '\n')
            n++;
        if (n > 0) {
            e.request = c->w->in;
            e.request_len = n;
        }
    }
    e.status = c->status;
    e.bytes = c->w->out.sent > c->w->out.head_len ? c->w->out.sent - c->w->out.head_len : 0;
    if ((h = http_header_find(&c->w->req, "Referer")) != NULL) {
        e.referer = h->value.p;
        e.referer_len = h->value.len;
    }
    if ((h = http_header_find(&c->w->req, "User-Agent")) != NULL) {
        e.user_agent = h->value.p;
        e.user_agent_len = h->value.len;
    }
    e.pid = (int)p->env.pid;
    /* The log was off when the request began (it opened on USR1): no duration. */
    e.duration_us = c->req_start_ns > 0 ? (clock_mono_ns() - c->req_start_ns) / 1000 : 0;
    accesslog_add(p->env.alog, &e);
}

/* When a request begins, for its log line's duration: a clock read only when lines are written. */
int64_t conn_req_start(const struct conn_pool *p)
{
    return accesslog_on(p->env.alog) ? clock_mono_ns() : 0;
}
