/* Files written from a renderer, chunk by chunk (see outfile.h). */
#include "monitor/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Where the text goes, and the first error. */
struct outfile_sink {
    int fd;
    int err;
};

static int outfile_flush(void *ctx, const char *p, size_t n)
{
    struct outfile_sink *k = ctx;

    while (n > 0) {
        ssize_t w = write(k->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            k->err = w < 0 ? errno : EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen)
{
    o->path = path;
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void outfile_discard(struct outfile *o)
{
    if (o->fd < 0)
        return;
    close(o->fd);
    o->fd = -1;
    unlink(o->path);
}

int outfile_finish(struct outfile *o, outfile_render_fn render, void *ctx, char *err, size_t errlen)
{
    struct outfile_sink k = { .fd = o->fd };
    struct svg_buf s;

    svg_buf_init(&s, outfile_flush, &k);
    if (render(ctx, &s) < 0 && k.err == 0)
        k.err = ENOMEM;
    if (svg_buf_finish(&s) < 0 && k.err == 0)
        k.err = ENOMEM;
    svg_buf_free(&s);
    if (close(o->fd) < 0 && k.err == 0)
        k.err = errno;
    o->fd = -1;
    if (k.err != 0) {
        snprintf(err, errlen, "cannot write %s: %s", o->path, strerror(k.err));
        return -1;
    }
    return 0;
}

int outfile_write(const char *path, outfile_render_fn render, void *ctx, char *err, size_t errlen)
{
    struct outfile o;

    if (outfile_open(&o, path, err, errlen) < 0)
        return -1;
    return outfile_finish(&o, render, ctx, err, errlen);
}
