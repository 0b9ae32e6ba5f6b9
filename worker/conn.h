/*
 * The connections of one worker: each one's state machine (read a request,
 * decide, discard its body, respond, log; then the next request or a
 * lingering close) and the pool they live in, with their timers, the
 * connections that yielded with work left, and closed ones kept for reuse.
 */
#ifndef LABD_CONN_H
#define LABD_CONN_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

struct accesslog;
struct handler_ctx;
struct labd_config;
struct scoreboard;

/*
 * Closed connections kept for reuse: a new connection then costs no malloc,
 * no heap growth and no page faults on its buffers.
 */
#define CONN_SPARE_MAX 64

/* What the connections share with their worker, which owns every part. */
struct conn_env {
    const struct labd_config *cfg;
    int epfd; /* connections register themselves here (data.ptr: the struct conn) */
    pid_t pid;
    const struct handler_ctx *handler;
    struct accesslog *alog;
    struct scoreboard *sb; /* NULL: no scoreboard */
    unsigned slot;         /* the worker's slot in sb */
};

struct conn_pool;
struct conn;

/*
 * A pool for env's connections at the loop's time (see conn_pool_clock).
 * NULL when out of memory.
 */
struct conn_pool *conn_pool_new(const struct conn_env *env, int64_t now_ms, int64_t real_ns);

/* Close every connection and free the pool, spares included. */
void conn_pool_free(struct conn_pool *p);

/*
 * The loop's time for this turn: CLOCK_MONOTONIC milliseconds (timers, the
 * file cache) and the wall clock in nanoseconds (its second for Date, log
 * lines and conditions; the scoreboard's times). Connections read no clock
 * of their own, but for the access log's durations.
 */
void conn_pool_clock(struct conn_pool *p, int64_t now_ms, int64_t real_ns);

/*
 * Take an accepted socket: its first bytes are served at once and, unless
 * that closed it, the connection is registered with epoll. Returns 0, or
 * -1 when out of memory (the caller keeps fd).
 */
int conn_accept(struct conn_pool *p, int fd, const struct sockaddr *peer,
                const struct sockaddr *local);

/* epoll reported events (EPOLLIN, ...) for c: make as much progress as the socket allows. */
void conn_event(struct conn_pool *p, struct conn *c, uint32_t events);

/*
 * Once per loop turn, after the events: run the connections that yielded
 * with work left (each once), then the expired timers.
 */
void conn_pool_run(struct conn_pool *p);

/* An epoll_wait timeout: 0 when connections wait to run, else the next timer's (-1 none). */
int conn_pool_wait_ms(const struct conn_pool *p);

/* Open connections. */
unsigned conn_pool_count(const struct conn_pool *p);

/*
 * Graceful stop: a connection receiving a request or sending a response
 * finishes it (answered with "Connection: close"); one idle between
 * requests is closed now, after a last look for a request that has arrived;
 * one that has sent nothing yet gets a moment after its accept for its
 * first request. Each closes once it has nothing more to do.
 */
void conn_pool_drain(struct conn_pool *p);

/* Fast stop: close every connection now. */
void conn_pool_close_all(struct conn_pool *p);

/* Free the connections closed during this loop turn (keeping up to CONN_SPARE_MAX for reuse). */
void conn_pool_free_dead(struct conn_pool *p);

/* Free the spare connections and work areas too (the worker has been idle). */
void conn_pool_free_spare(struct conn_pool *p);

#endif
