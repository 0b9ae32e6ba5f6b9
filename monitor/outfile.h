/*
 * The file-writing shell of the figures and the report: a pure writer
 * renders into a struct svg_buf, whose chunks go to the file as they come.
 * The file can be opened early (before labmon drops root, as tcpdump -w
 * does) and written at the end. Plain open, write, close (and unlink of a
 * file that was never written).
 */
#ifndef LABMON_OUTFILE_H
#define LABMON_OUTFILE_H

#include <stddef.h>

#include "monitor/svg.h"

/* Renders the file's text into s: 0, or -1 (out of memory). */
typedef int (*outfile_render_fn)(void *ctx, struct svg_buf *s);

struct outfile {
    int fd; /* -1: not open */
    const char *path;
};

/* Creates (or empties) path. 0, or -1 with a one-line reason in err. */
int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen);

/* Writes render(ctx, ...) into the open file and closes it. 0, or -1 with a reason in err. */
int outfile_finish(struct outfile *o, outfile_render_fn render, void *ctx, char *err,
                   size_t errlen);

/* A file opened but not to be written: closed and removed (if labmon still may). */
void outfile_discard(struct outfile *o);

/* outfile_open() then outfile_finish(). */
int outfile_write(const char *path, outfile_render_fn render, void *ctx, char *err, size_t errlen);

#endif
