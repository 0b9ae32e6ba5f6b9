/*
 * Access log: Combined Log Format plus the client port, the worker pid and
 * the request's duration in microseconds. Lines are buffered per worker and
 * written whole (O_APPEND) by accesslog_flush, once per event-loop turn.
 */
#ifndef LABD_ACCESSLOG_H
#define LABD_ACCESSLOG_H

#include <stddef.h>
#include <time.h>

#define ACCESSLOG_BUF 65536

struct accesslog {
    int fd; /* -1: disabled ("off") or not open */
    char path[4096];
    char buf[ACCESSLOG_BUF];
    size_t len;
    time_t stamp_sec; /* cached "[24/Nov/2026:04:20:00 +0000]" for this second */
    char stamp[40];
};

struct accesslog_entry {
    const char *client; /* address text */
    unsigned client_port;
    time_t when;
    const char *request; /* request line, not NUL-terminated; NULL: "-" */
    size_t request_len;
    int status;
    unsigned long long bytes; /* body bytes sent */
    const char *referer;      /* NULL: "-" */
    size_t referer_len;
    const char *user_agent; /* NULL: "-" */
    size_t user_agent_len;
    int pid;
    long long duration_us;
};

/* path "off" disables the log. Returns 0, or -1 with errno (log stays disabled). */
int accesslog_open(struct accesslog *al, const char *path);

/* After rotation (SIGUSR1): flush, then reopen the same path. */
int accesslog_reopen(struct accesslog *al);

void accesslog_close(struct accesslog *al);

/* Lines are written (the log is open): worth the work of making one. */
static inline int accesslog_on(const struct accesslog *al)
{
    return al->fd >= 0;
}

/* Queue one line; flushes first when the buffer is nearly full. */
void accesslog_add(struct accesslog *al, const struct accesslog_entry *e);

/* Write the buffered lines (one write, whole lines). */
void accesslog_flush(struct accesslog *al);

/*
 * Format one line with its newline into buf (pure). Quotes, backslashes and
 * control bytes in the request, Referer and User-Agent are escaped as \xHH,
 * long fields truncated. Returns the length (< cap).
 */
size_t accesslog_format(char *buf, size_t cap, const struct accesslog_entry *e, const char *stamp);

/* "[24/Nov/2026:04:20:00 +0000]" for t, in UTC. */
void accesslog_stamp(time_t t, char *buf, size_t cap);

#endif
