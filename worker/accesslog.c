/* Access log in Combined Log Format plus port, pid and duration. */
#include "worker/accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Longest line we write; longer fields are cut so a line always fits. */
#define ACCESSLOG_LINE_MAX 4096

static const char accesslog_months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void accesslog_stamp(time_t t, char *buf, size_t cap)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, cap, "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
             accesslog_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int accesslog_open_fd(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int accesslog_open(struct accesslog *al, const char *path)
{
    memset(al, 0, sizeof(*al));
    al->fd = -1;
    al->stamp_sec = -1;
    if (strcmp(path, "off") == 0)
        return 0;
    if (strlen(path) >= sizeof(al->path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(al->path, path);
    al->fd = accesslog_open_fd(path);
    return al->fd < 0 ? -1 : 0;
}

int accesslog_reopen(struct accesslog *al)
{
    if (al->path[0] == 0)
        return 0;
    accesslog_flush(al);
    int fd = accesslog_open_fd(al->path);
    if (fd < 0)
        return -1;
    if (al->fd >= 0)
        close(al->fd);
    al->fd = fd;
    return 0;
}

void accesslog_close(struct accesslog *al)
{
    accesslog_flush(al);
    if (al->fd >= 0)
        close(al->fd);
    al->fd = -1;
}

/* Append s (len bytes, or "-" when NULL) escaped, at most max bytes of output. */
static size_t accesslog_escape(char *out, size_t room, const char *s, size_t len, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    if (s == NULL) {
        if (room > 1)
            out[n++] = '-';
        return n;
    }
    if (max > room)
        max = room;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            if (n + 4 > max)
                break;
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            if (n + 1 > max)
                break;
            out[n++] = (char)c;
        }
    }
    return n;
}

size_t accesslog_format(char *buf, size_t cap, const struct accesslog_entry *e, const char *stamp)
{
    size_t n;
    int k;

    if (cap < 256)
        return 0;
    k = snprintf(buf, cap, "%s - - %s \"", e->client, stamp);
    n = (size_t)k < cap ? (size_t)k : cap - 1;
    /* Leave room for the fixed tail (status, bytes, port, pid, us: < 120 bytes). */
    n += accesslog_escape(buf + n, cap - n - 200, e->request, e->request_len, 2048);
    k = snprintf(buf + n, cap - n, "\" %d %llu \"", e->status, e->bytes);
    n += (size_t)k;
    n += accesslog_escape(buf + n, cap - n - 160, e->referer, e->referer_len, 512);
    memcpy(buf + n, "\" \"", 3);
    n += 3;
    n += accesslog_escape(buf + n, cap - n - 100, e->user_agent, e->user_agent_len, 512);
    k = snprintf(buf + n, cap - n, "\" port=%u pid=%d us=%lld\n", e->client_port, e->pid,
                 e->duration_us);
    n += (size_t)k;
    return n < cap ? n : cap - 1;
}

void accesslog_flush(struct accesslog *al)
{
    size_t off = 0;

    while (al->fd >= 0 && off < al->len) {
        ssize_t w = write(al->fd, al->buf + off, al->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* disk full or similar: drop rather than block serving */
        off += (size_t)w;
    }
    al->len = 0;
}

void accesslog_add(struct accesslog *al, const struct accesslog_entry *e)
{
    if (al->fd < 0)
        return;
    if (al->len + ACCESSLOG_LINE_MAX > sizeof(al->buf))
        accesslog_flush(al);
    if (e->when != al->stamp_sec) {
        accesslog_stamp(e->when, al->stamp, sizeof(al->stamp));
        al->stamp_sec = e->when;
    }
    al->len += accesslog_format(al->buf + al->len, ACCESSLOG_LINE_MAX, e, al->stamp);
}
