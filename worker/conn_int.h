/*
 * Inside worker/conn: the connection and pool structures, shared by conn.c
 * (the state machine and the pool) and conn_record.c (what a connection
 * leaves on record: its scoreboard entry and its access-log line). Nothing
 * outside worker/conn*.c includes this; conn.h is the interface.
 */
#ifndef LABD_CONN_INT_H
#define LABD_CONN_INT_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "shared/scoreboard.h"
#include "worker/conn.h"
#include "worker/http_parse.h"
#include "worker/httpdate.h"
#include "worker/response.h"
#include "worker/timer.h"

enum conn_state {
    CONN_READING, /* request line and header fields */
    CONN_BODY,    /* discarding a request body */
    CONN_WRITING, /* sending a response */
    CONN_LINGER,  /* our side shut down, draining the client's last bytes */
    CONN_DEAD,    /* closed, freed at the end of the loop turn */
};

/* What a read into the input buffer found. */
enum conn_fill_result {
    CONN_FILL_GOT,    /* bytes */
    CONN_FILL_WAIT,   /* nothing yet: wait for the next event */
    CONN_FILL_CLOSED, /* end of stream or error: the connection is closed */
};

/*
 * What a connection needs only while a request is in progress: the input
 * buffer, the parse, the plan and the output. A connection between two
 * requests (keep-alive, nothing of the next one read) gives it back to the
 * pool, so an idle connection costs its small struct conn alone, and the
 * few work areas in use go round warm (nginx frees its request and header
 * buffers of an idle connection alike). 10 000 keep-alive connections held
 * 16 kB each with the parts inside struct conn (S5).
 */
struct conn_work {
    TAILQ_ENTRY(conn_work) link; /* in the pool's spare list */
    size_t in_len;               /* bytes in in[] */
    size_t in_pos;               /* body: bytes of in[] consumed so far */
    struct http_body body;
    struct http_request req;
    struct response_plan plan;
    struct response_out out;
    char in[]; /* pool->in_cap bytes */
};

struct conn {
    int fd;
    enum conn_state state;
    struct timer_node timer;
    TAILQ_ENTRY(conn) link;       /* in the pool's all, dead or spare list */
    TAILQ_ENTRY(conn) ready_link; /* in its ready list while queued */
    int queued;

    /* NULL between requests (see struct conn_work); conn_process takes one. */
    struct conn_work *w;
    int req_started;      /* some bytes of the current request arrived */
    int64_t req_start_ns; /* CLOCK_MONOTONIC; 0 while the access log is off */
    unsigned requests;    /* requests begun on this connection */
    int keep_alive;       /* of the response being written */
    int status;           /* of the response being written, 0 none */
    int parse_error;      /* the request could not be parsed: close after answering */
    int body_unread; /* refused before its body was asked for (Expect): close after answering */
    int logged;
    /* The last read emptied the receive queue and no readable event came since. */
    int rx_empty;
    int in_epoll; /* registered: an event of this turn may still name it */

    uint8_t peer_family; /* AF_INET (also for IPv4-mapped IPv6), AF_INET6, 0 unknown */
    uint16_t peer_port;
    uint8_t peer_addr[16];
    char peer_text[INET6_ADDRSTRLEN]; /* made for the first log line; "" until then */
    int sb_index;                     /* live record in the scoreboard, -1 none */
    /* The record's news, written once at the end of the turn (conn_sb_flush). */
    uint8_t sb_dirty, sb_with_request, sb_state;
    int64_t accepted_ns;
};

TAILQ_HEAD(conn_list, conn);
TAILQ_HEAD(conn_work_list, conn_work);

struct conn_pool {
    struct conn_env env;
    struct http_limits limits;
    size_t in_cap; /* input buffer per connection */

    struct sb_worker *sbw; /* NULL: no scoreboard */
    uint32_t *sb_free;     /* free live-connection records of our slot */
    uint32_t sb_nfree;

    struct timer_list t_header, t_keepalive, t_send, t_linger;
    /* This loop turn's time: no connection reads a clock unless it logs. */
    int64_t now_ms;  /* CLOCK_MONOTONIC */
    int64_t real_ns; /* the wall clock: the scoreboard's times */
    time_t date_sec;
    char date[HTTPDATE_LEN + 1];

    struct conn_list all;   /* every open connection */
    struct conn_list ready; /* connections that yielded with work left */
    struct conn_list dead;  /* closed this turn, freed at its end */
    struct conn_list spare; /* freed connections kept for reuse */
    unsigned nspare;
    struct conn_work_list work_spare; /* work areas given back, kept for reuse */
    unsigned nwork_spare;
    unsigned nconns;
    int draining; /* graceful stop: each next request answered with "Connection: close" */
    /* The worker's counters, added up during a turn and written at its end. */
    struct {
        uint64_t accepted, bytes, requests;
        int conns_delta;
        int dirty;
    } sb_pending;
    unsigned long long boundary_seq;
};

/* ---- conn_record.c: the scoreboard, written once per loop turn ---- */

/* Add to the worker's counters (written at the end of the turn). */
static inline void conn_sb_counters(struct conn_pool *p, int accepted, int conns_delta,
                                    unsigned long long bytes, int requests)
{
    p->sb_pending.accepted += (uint64_t)accepted;
    p->sb_pending.conns_delta += conns_delta;
    p->sb_pending.bytes += bytes;
    p->sb_pending.requests += (uint64_t)requests;
    p->sb_pending.dirty = 1;
}

/* Write the worker's counters added up this turn. */
void conn_sb_counters_flush(struct conn_pool *p);

/* An address as the scoreboard keeps it: family, 16 bytes (IPv4 first), port. */
void conn_sb_addr(const struct sockaddr *sa, uint8_t *family, uint8_t *addr, uint16_t *port);

/* Give c a live record, if one is free. */
void conn_sb_open(struct conn_pool *p, struct conn *c, const struct sockaddr *local);

/* c's record will say state (and the request line, with_request) at the end of the turn. */
static inline void conn_sb_update(struct conn_pool *p, struct conn *c, int state, int with_request)
{
    (void)p;
    if (c->sb_index < 0)
        return;
    c->sb_state = (uint8_t)state;
    c->sb_with_request |= (uint8_t)with_request;
    c->sb_dirty = 1;
}

/* Write c's record, if anything changed since it was last written. */
void conn_sb_flush(struct conn_pool *p, struct conn *c);

/* Copy c's record into the recent ring and free it. */
void conn_sb_close(struct conn_pool *p, struct conn *c);

/* ---- conn_record.c: the access log ---- */

/* c's response is done (or cut short): its log line, when the log is on. */
void conn_log(struct conn_pool *p, struct conn *c);

/* When a request begins, for its log line's duration: a clock read only when lines are written. */
int64_t conn_req_start(const struct conn_pool *p);

#endif
