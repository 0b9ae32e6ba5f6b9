/* Response writer: header block, body segments, writev/sendfile in bounded turns. */
#include "worker/response.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "worker/httpdate.h"

/* LABD_VERSION comes from the build (Makefile). */
#ifdef LABD_VERSION
#define RESPONSE_SERVER "labd/" LABD_VERSION
#else
#define RESPONSE_SERVER "labd/0"
#endif

struct response_status {
    int code;
    const char *reason;
};

static const struct response_status response_statuses[] = {
    { 100, "Continue" },
    { 200, "OK" },
    { 204, "No Content" },
    { 206, "Partial Content" },
    { 301, "Moved Permanently" },
    { 302, "Found" },
    { 304, "Not Modified" },
    { 307, "Temporary Redirect" },
    { 308, "Permanent Redirect" },
    { 400, "Bad Request" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 408, "Request Timeout" },
    { 411, "Length Required" },
    { 412, "Precondition Failed" },
    { 413, "Content Too Large" },
    { 414, "URI Too Long" },
    { 415, "Unsupported Media Type" },
    { 416, "Range Not Satisfiable" },
    { 417, "Expectation Failed" },
    { 431, "Request Header Fields Too Large" },
    { 500, "Internal Server Error" },
    { 501, "Not Implemented" },
    { 503, "Service Unavailable" },
    { 505, "HTTP Version Not Supported" },
};

const char *response_reason(int status)
{
    for (size_t i = 0; i < sizeof(response_statuses) / sizeof(response_statuses[0]); i++)
        if (response_statuses[i].code == status)
            return response_statuses[i].reason;
    return "Unknown";
}

void response_plan_init(struct response_plan *p)
{
    memset(p, 0, offsetof(struct response_plan, location));
    p->status = 200;
    p->last_modified = -1;
    p->fd = -1;
    p->location[0] = '\0';
}

void response_plan_release(struct response_plan *p)
{
    if (p->fd >= 0 && p->release == NULL)
        close(p->fd);
    p->fd = -1;
    if (p->release != NULL)
        p->release(p->release_arg);
    p->release = NULL;
    p->release_arg = NULL;
    p->file_mem = NULL;
}

/* The body is (part of) a file, on disk or in memory. */
static int response_has_file(const struct response_plan *p)
{
    return p->fd >= 0 || p->file_mem != NULL;
}

/* Bounded appender: once it overflows, everything after is dropped and ok = 0. */
struct response_buf {
    char *p;
    size_t len, cap;
    int ok;
};

static void response_put(struct response_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void response_put(struct response_buf *b, const char *fmt, ...)
{
    if (!b->ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->ok = 0;
    else
        b->len += (size_t)n;
}

static int response_has_no_body(int status)
{
    return status < 200 || status == 204 || status == 304;
}

/* Append len bytes; once it overflows, everything after is dropped and ok = 0. */
static void response_cat(struct response_buf *b, const char *s, size_t len)
{
    if (!b->ok)
        return;
    if (len >= b->cap - b->len) {
        b->ok = 0;
        return;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static void response_cat_str(struct response_buf *b, const char *s)
{
    response_cat(b, s, strlen(s));
}

static void response_cat_num(struct response_buf *b, unsigned long long v)
{
    char d[24];
    size_t i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    response_cat(b, d + i, sizeof(d) - i);
}

/* A header line "name: value\r\n"; name comes with its ": ". */
static void response_cat_line(struct response_buf *b, const char *name_colon, size_t nlen,
                              const char *value)
{
    response_cat(b, name_colon, nlen);
    response_cat_str(b, value);
    response_cat(b, "\r\n", 2);
}

#define RESPONSE_LIT(s) s, sizeof(s) - 1

/* Written with memcpy, not printf: it runs for every response and printf was half its cost. */
size_t response_head_build(char *buf, size_t cap, const struct response_plan *plan,
                           const struct response_env *env, const char *content_type,
                           long long content_length)
{
    struct response_buf b = { buf, 0, cap, cap > 0 };
    const char *type = content_type ? content_type : plan->content_type;

    response_cat(&b, RESPONSE_LIT("HTTP/1.1 "));
    if (plan->status >= 100 && plan->status <= 999)
        response_cat_num(&b, (unsigned long long)plan->status);
    else
        b.ok = 0;
    response_cat(&b, " ", 1);
    response_cat_str(&b, response_reason(plan->status));
    response_cat(&b, RESPONSE_LIT("\r\nServer: " RESPONSE_SERVER "\r\n"));
    response_cat_line(&b, RESPONSE_LIT("Date: "), env->date);
    if (type && plan->status != 304)
        response_cat_line(&b, RESPONSE_LIT("Content-Type: "), type);
    if (content_length >= 0) {
        response_cat(&b, RESPONSE_LIT("Content-Length: "));
        response_cat_num(&b, (unsigned long long)content_length);
        response_cat(&b, "\r\n", 2);
    }
    if (plan->last_modified != -1) {
        char date[HTTPDATE_LEN + 1];
        const char *lm = plan->last_modified_text;
        if (lm == NULL) {
            httpdate_format(plan->last_modified, date);
            lm = date;
        }
        response_cat_line(&b, RESPONSE_LIT("Last-Modified: "), lm);
    }
    if (env->keep_alive)
        response_cat(&b, RESPONSE_LIT("Connection: keep-alive\r\n"));
    else
        response_cat(&b, RESPONSE_LIT("Connection: close\r\n"));
    if (response_has_file(plan) && plan->nranges == 1)
        response_put(&b, "Content-Range: bytes %lld-%lld/%lld\r\n",
                     (long long)plan->ranges[0].first, (long long)plan->ranges[0].last,
                     (long long)plan->file_size);
    if (plan->etag[0] != '\0')
        response_cat_line(&b, RESPONSE_LIT("ETag: "), plan->etag);
    if (plan->accept_ranges)
        response_cat(&b, RESPONSE_LIT("Accept-Ranges: bytes\r\n"));
    if (plan->range_unsatisfiable) {
        response_cat(&b, RESPONSE_LIT("Content-Range: bytes */"));
        response_cat_num(&b, (unsigned long long)plan->file_size);
        response_cat(&b, "\r\n", 2);
    }
    if (plan->location[0] != '\0')
        response_cat_line(&b, RESPONSE_LIT("Location: "), plan->location);
    if (plan->allow != NULL)
        response_cat_line(&b, RESPONSE_LIT("Allow: "), plan->allow);
    response_cat(&b, "\r\n", 2);
    return b.ok ? b.len : 0;
}

static void response_seg_mem(struct response_out *out, const char *p, size_t len)
{
    if (len == 0)
        return;
    struct response_seg *s = &out->segs[out->nsegs++];
    s->mem = p;
    s->fd = -1;
    s->off = 0;
    s->len = len;
}

static void response_seg_file(struct response_out *out, const struct response_plan *plan, off_t off,
                              size_t len)
{
    if (len == 0)
        return;
    if (plan->file_mem != NULL) {
        response_seg_mem(out, plan->file_mem + off, len);
        return;
    }
    int fd = plan->fd;
    struct response_seg *s = &out->segs[out->nsegs++];
    s->mem = NULL;
    s->fd = fd;
    s->off = off;
    s->len = len;
}

/* Multipart framing goes after the header area of out->buf; segments point at it. */
static int response_prepare_multipart(struct response_out *out, const struct response_plan *plan,
                                      const struct response_env *env)
{
    char boundary[40], type[96];
    struct response_buf b = { out->buf + RESPONSE_HEAD_MAX, 0, RESPONSE_OUT_MAX - RESPONSE_HEAD_MAX,
                              1 };
    size_t starts[RANGE_MAX_PARTS + 1];
    unsigned long long total = 0;

    if (plan->nranges > RANGE_MAX_PARTS)
        return -1;
    snprintf(boundary, sizeof(boundary), "labd%020llu", env->boundary_id);
    snprintf(type, sizeof(type), "multipart/byteranges; boundary=%s", boundary);
    for (unsigned i = 0; i < plan->nranges; i++) {
        const struct response_range *r = &plan->ranges[i];
        starts[i] = b.len;
        response_put(&b, "\r\n--%s\r\n", boundary);
        if (plan->content_type)
            response_put(&b, "Content-Type: %s\r\n", plan->content_type);
        response_put(&b, "Content-Range: bytes %lld-%lld/%lld\r\n\r\n", (long long)r->first,
                     (long long)r->last, (long long)plan->file_size);
        total += (unsigned long long)(r->last - r->first + 1);
    }
    starts[plan->nranges] = b.len;
    response_put(&b, "\r\n--%s--\r\n", boundary);
    if (!b.ok)
        return -1;
    total += b.len;

    out->head_len =
        response_head_build(out->buf, RESPONSE_HEAD_MAX, plan, env, type, (long long)total);
    if (out->head_len == 0)
        return -1;
    response_seg_mem(out, out->buf, out->head_len);
    if (env->head)
        return 0;
    out->body_len = total;
    for (unsigned i = 0; i < plan->nranges; i++) {
        const struct response_range *r = &plan->ranges[i];
        response_seg_mem(out, b.p + starts[i], starts[i + 1] - starts[i]);
        response_seg_file(out, plan, r->first, (size_t)(r->last - r->first + 1));
    }
    response_seg_mem(out, b.p + starts[plan->nranges], b.len - starts[plan->nranges]);
    return 0;
}

void response_out_init(struct response_out *out)
{
    /* The buffers hold data only up to head_len and nsegs: not cleared. */
    out->status = 0;
    out->closing = 0;
    out->head_len = 0;
    out->body_len = 0;
    out->sent = 0;
    out->nsegs = out->cur = 0;
}

/* Render the plan; -1 when it does not fit. */
static int response_render(struct response_out *out, const struct response_plan *plan,
                           const struct response_env *env)
{
    const char *type = NULL;
    const char *body = NULL;
    long long clen = -1;
    off_t foff = 0;
    size_t flen = 0;
    char page[256];

    response_out_init(out);
    out->status = plan->status;
    out->closing = !env->keep_alive;

    if (response_has_file(plan) && plan->nranges >= 2)
        return response_prepare_multipart(out, plan, env);

    if (response_has_file(plan)) {
        if (plan->nranges == 1) {
            foff = plan->ranges[0].first;
            flen = (size_t)(plan->ranges[0].last - plan->ranges[0].first + 1);
        } else {
            flen = (size_t)plan->file_size;
        }
        clen = (long long)flen;
    } else if (plan->body) {
        body = plan->body;
        clen = (long long)plan->body_len;
    } else if (!response_has_no_body(plan->status)) {
        int n = snprintf(page, sizeof(page),
                         "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
                         "<body><h1>%d %s</h1><hr><p>labd</p></body></html>\n",
                         plan->status, response_reason(plan->status), plan->status,
                         response_reason(plan->status));
        body = page;
        clen = n;
        type = "text/html; charset=utf-8";
    }
    if (plan->status == 304)
        clen = -1;

    out->head_len = response_head_build(out->buf, RESPONSE_HEAD_MAX, plan, env, type, clen);
    if (out->head_len == 0)
        return -1;
    response_seg_mem(out, out->buf, out->head_len);
    if (env->head || clen <= 0)
        return 0;
    out->body_len = (unsigned long long)clen;
    if (response_has_file(plan)) {
        response_seg_file(out, plan, foff, flen);
    } else if (body == page) {
        /* The generated page is copied beside the header: page is a local. */
        memcpy(out->buf + RESPONSE_HEAD_MAX, page, (size_t)clen);
        response_seg_mem(out, out->buf + RESPONSE_HEAD_MAX, (size_t)clen);
    } else {
        response_seg_mem(out, body, (size_t)clen);
    }
    return 0;
}

int response_prepare(struct response_out *out, const struct response_plan *plan,
                     const struct response_env *env)
{
    struct response_plan fallback;
    struct response_env closing = *env;

    if (response_render(out, plan, env) == 0)
        return 0;
    /* Too big to say: a 500 instead, and the connection closes after it. */
    response_plan_init(&fallback);
    fallback.status = 500;
    closing.keep_alive = 0;
    response_render(out, &fallback, &closing);
    return -1;
}

/* Account n written bytes against the segments from out->cur on. */
static void response_advance(struct response_out *out, size_t n)
{
    out->sent += n;
    while (n > 0 && out->cur < out->nsegs) {
        struct response_seg *s = &out->segs[out->cur];
        size_t k = n < s->len ? n : s->len;
        if (s->fd < 0)
            s->mem += k;
        else
            s->off += (off_t)k;
        s->len -= k;
        n -= k;
        if (s->len == 0)
            out->cur++;
    }
}

enum response_send_result response_send(struct response_out *out, int sock, size_t budget)
{
    size_t turn = 0;

    while (out->cur < out->nsegs) {
        struct response_seg *s = &out->segs[out->cur];
        ssize_t n;

        if (s->fd < 0) {
            /* Gather consecutive memory segments into one writev. */
            struct iovec iov[8];
            unsigned k = 0, i = out->cur;
            while (i < out->nsegs && out->segs[i].fd < 0 && k < 8) {
                iov[k].iov_base = (void *)out->segs[i].mem;
                iov[k].iov_len = out->segs[i].len;
                k++;
                i++;
            }
            /*
             * MSG_MORE holds a header back until the file's first bytes join
             * it, so a small response leaves in one segment even with
             * TCP_NODELAY; and the end of a response the connection closes
             * after, so that the FIN of the close (or of the lingering
             * shutdown) leaves in the same segment: one packet less for
             * both ends, as nginx's tcp_nopush gives it.
             */
            struct msghdr msg = { .msg_iov = iov, .msg_iovlen = k };
            int flags = MSG_NOSIGNAL | (i < out->nsegs || out->closing ? MSG_MORE : 0);
            n = sendmsg(sock, &msg, flags);
        } else {
            /*
             * Stop at the budget only if at least a whole budget would be
             * left for a later turn: a shorter tail goes now. Splitting a
             * response that fits in two budgets costs a pass through the
             * event loop (worker CPU per download: README, "Whole files")
             * for little fairness (a turn stays under two budgets).
             */
            size_t want = s->len;
            size_t room = budget - turn;
            if (want > room && want - room >= budget)
                want = room;
            n = sendfile(sock, s->fd, &s->off, want);
            if (n > 0) {
                /* sendfile moved s->off already; undo so response_advance does it once. */
                s->off -= n;
            } else if (n == 0) {
                errno = EIO; /* the file shrank under us: the stream is broken */
                return RESPONSE_ERROR;
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return RESPONSE_AGAIN;
            return RESPONSE_ERROR;
        }
        response_advance(out, (size_t)n);
        turn += (size_t)n;
        if (turn >= budget && out->cur < out->nsegs)
            return RESPONSE_YIELD;
    }
    return RESPONSE_DONE;
}
