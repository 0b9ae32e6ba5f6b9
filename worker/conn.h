/*
 * One client connection's state machine: read a request, read and discard
 * its body, have the handler decide, write the response, then wait for the
 * next request (keep-alive), or linger briefly and close. Also the worker's
 * shared context the state machine needs (timers, logs, scoreboard).
 */
#ifndef LABD_CONN_H
#define LABD_CONN_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "shared/config.h"
#include "shared/scoreboard.h"
#include "worker/accesslog.h"
#include "worker/handler.h"
#include "worker/http_parse.h"
#include "worker/httpdate.h"
#include "worker/response.h"
#include "worker/timer.h"

/*
 * File body bytes one connection may send per event-loop turn: nginx's
 * sendfile_max_chunk default (2m). 256 KiB cost 11 % of whole-file MB/s
 * on loopback (make bench S3: 0.89 -> 1.00 of nginx) for no fairness gain,
 * since a socket buffer rarely takes more than that in one call anyway.
 * A tail shorter than this goes with the turn before it (response_send).
 */
#define CONN_SEND_BUDGET (2 * 1024 * 1024)
/* How long a closing connection waits for the client's FIN (see conn.c). */
#define CONN_LINGER_MS 2000
/* Closed connections kept for reuse: a new connection then costs no malloc,
 * no heap growth and no page faults on its ~40 KB of buffers. */
#define CONN_SPARE_MAX 64

enum conn_state {
    CONN_READING, /* request line and header fields */
    CONN_BODY,    /* discarding a request body */
    CONN_WRITING, /* sending a response */
    CONN_LINGER,  /* our side shut down, draining the client's last bytes */
    CONN_DEAD,    /* closed, freed at the end of the loop turn */
};

struct conn;

struct conn_list {
    struct conn *head, *tail;
};

struct worker_ctx {
    const struct labd_config *cfg;
    int epfd;
    pid_t pid;
    struct http_limits limits;
    size_t in_cap; /* input buffer per connection */
    struct handler_ctx handler;
    struct accesslog alog;

    struct scoreboard *sb; /* NULL: no scoreboard */
    unsigned slot;
    struct sb_worker *sbw;
    uint32_t *sb_free; /* free live-connection records of our slot */
    uint32_t sb_nfree;

    struct timer_list t_header, t_keepalive, t_send, t_linger;
    int64_t now_ms; /* CLOCK_MONOTONIC, updated every loop turn */
    time_t date_sec;
    char date[HTTPDATE_LEN + 1];

    struct conn_list all;   /* every open connection */
    struct conn_list ready; /* connections that yielded with work left */
    struct conn_list dead;  /* closed this turn, freed at its end */
    struct conn_list spare; /* freed connections kept for reuse */
    unsigned nspare;
    unsigned nconns;
    int draining; /* graceful stop: each next request answered with "Connection: close" */
    unsigned long long boundary_seq;
};

struct conn {
    int fd;
    enum conn_state state;
    struct timer_node timer;
    struct conn *prev, *next;   /* in w->all or w->dead */
    struct conn *rprev, *rnext; /* in w->ready */
    int queued;

    size_t in_len;   /* bytes in in[] */
    size_t in_pos;   /* body: bytes of in[] consumed so far */
    int req_started; /* some bytes of the current request arrived */
    int64_t req_start_ns;
    unsigned requests; /* requests begun on this connection */
    int keep_alive;    /* of the response being written */
    int status;        /* of the response being written, 0 none */
    int parse_error;   /* the request could not be parsed: close after answering */
    int logged;
    /* The last read emptied the receive queue and no readable event came since. */
    int rx_empty;

    char peer_text[INET6_ADDRSTRLEN];
    unsigned peer_port;
    int sb_index; /* live record in the scoreboard, -1 none */
    int64_t accepted_ns;

    /* Large parts, set up by their init functions rather than zeroed. */
    struct http_request req;
    struct http_body body;
    struct response_plan plan;
    struct response_out out;
    char in[]; /* w->in_cap bytes */
};

/* Set up a connection for an accepted socket; NULL when out of memory. */
struct conn *conn_new(struct worker_ctx *w, int fd, const struct sockaddr *peer,
                      const struct sockaddr *local);

/* Make as much progress as the socket allows. */
void conn_process(struct worker_ctx *w, struct conn *c);

/*
 * Serve a new connection as far as its first bytes allow, then register it
 * with epoll if it is still open: a request that came with the handshake is
 * answered and, with Connection: close, closed without epoll ever seeing it.
 */
void conn_start(struct worker_ctx *w, struct conn *c);

/* The connection's timer expired. */
void conn_timeout(struct worker_ctx *w, struct conn *c);

/* Close now (fast stop, errors); the memory is freed by conn_free_dead. */
void conn_close(struct worker_ctx *w, struct conn *c);

/* Free the connections closed during this loop turn (keeping a few for reuse). */
void conn_free_dead(struct worker_ctx *w);

/* Free the spare connections too (at exit). */
void conn_free_spare(struct worker_ctx *w);

/* Refresh w->now_ms and the cached Date header text. */
void conn_clock_update(struct worker_ctx *w);

#endif
