/* Response writer: header block, body segments, writev/sendfile in bounded turns. */
#include "worker/response.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "worker/httpdate.h"

#ifndef LABD_VERSION
#define LABD_VERSION "0"
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
    p->status = 200;
    p->close = 0;
    p->content_type = NULL;
    p->last_modified = -1;
    p->fd = -1;
    p->file_size = 0;
    p->offset = 0;
    p->length = 0;
    p->nranges = 0;
    p->body = NULL;
    p->body_len = 0;
    p->extra[0] = 0;
    p->extra_len = 0;
}

void response_plan_release(struct response_plan *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

int response_add_header(struct response_plan *p, const char *name, const char *fmt, ...)
{
    size_t room = sizeof(p->extra) - p->extra_len;
    int n = snprintf(p->extra + p->extra_len, room, "%s: ", name);
    if (n < 0 || (size_t)n >= room)
        goto toolong;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(p->extra + p->extra_len + n, room - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)(n + m + 2) >= room)
        goto toolong;
    memcpy(p->extra + p->extra_len + n + m, "\r\n", 3);
    p->extra_len += (size_t)(n + m + 2);
    return 0;
toolong:
    p->extra[p->extra_len] = 0;
    return -1;
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

size_t response_head_build(char *buf, size_t cap, const struct response_plan *plan,
                           const struct response_env *env, const char *content_type,
                           long long content_length)
{
    struct response_buf b = { buf, 0, cap, 1 };
    const char *type = content_type ? content_type : plan->content_type;

    response_put(&b, "HTTP/1.1 %d %s\r\nServer: labd/%s\r\nDate: %s\r\n", plan->status,
                 response_reason(plan->status), LABD_VERSION, env->date);
    if (type && plan->status != 304)
        response_put(&b, "Content-Type: %s\r\n", type);
    if (content_length >= 0)
        response_put(&b, "Content-Length: %lld\r\n", content_length);
    if (plan->last_modified != -1) {
        char date[HTTPDATE_LEN + 1];
        httpdate_format(plan->last_modified, date);
        response_put(&b, "Last-Modified: %s\r\n", date);
    }
    response_put(&b, "Connection: %s\r\n", env->keep_alive ? "keep-alive" : "close");
    if (plan->fd >= 0 && plan->nranges == 1)
        response_put(&b, "Content-Range: bytes %lld-%lld/%lld\r\n",
                     (long long)plan->ranges[0].first, (long long)plan->ranges[0].last,
                     (long long)plan->file_size);
    if (plan->extra_len > 0)
        response_put(&b, "%.*s", (int)plan->extra_len, plan->extra);
    response_put(&b, "\r\n");
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

static void response_seg_file(struct response_out *out, int fd, off_t off, size_t len)
{
    if (len == 0)
        return;
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
    size_t starts[RESPONSE_MAX_RANGES + 1];
    unsigned long long total = 0;

    if (plan->nranges > RESPONSE_MAX_RANGES)
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
        response_seg_file(out, plan->fd, r->first, (size_t)(r->last - r->first + 1));
    }
    response_seg_mem(out, b.p + starts[plan->nranges], b.len - starts[plan->nranges]);
    return 0;
}

int response_prepare(struct response_out *out, const struct response_plan *plan,
                     const struct response_env *env)
{
    const char *type = NULL;
    const char *body = NULL;
    long long clen = -1;
    off_t foff = 0;
    size_t flen = 0;
    char page[256];

    out->nsegs = out->cur = 0;
    out->head_len = 0;
    out->body_len = 0;
    out->sent = 0;

    if (plan->fd >= 0 && plan->nranges >= 2)
        return response_prepare_multipart(out, plan, env);

    if (plan->fd >= 0) {
        if (plan->nranges == 1) {
            foff = plan->ranges[0].first;
            flen = (size_t)(plan->ranges[0].last - plan->ranges[0].first + 1);
        } else {
            foff = plan->offset;
            flen = (size_t)plan->length;
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
    if (plan->fd >= 0) {
        response_seg_file(out, plan->fd, foff, flen);
    } else if (body == page) {
        /* The generated page is copied beside the header: page is a local. */
        memcpy(out->buf + RESPONSE_HEAD_MAX, page, (size_t)clen);
        response_seg_mem(out, out->buf + RESPONSE_HEAD_MAX, (size_t)clen);
    } else {
        response_seg_mem(out, body, (size_t)clen);
    }
    return 0;
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

int response_send(struct response_out *out, int sock, size_t budget)
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
            /* MSG_MORE holds a header back until the file's first bytes join it,
             * so a small response leaves in one segment even with TCP_NODELAY. */
            struct msghdr msg = { .msg_iov = iov, .msg_iovlen = k };
            int flags = MSG_NOSIGNAL | (i < out->nsegs ? MSG_MORE : 0);
            n = sendmsg(sock, &msg, flags);
        } else {
            size_t want = s->len;
            if (want > budget - turn)
                want = budget - turn;
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
