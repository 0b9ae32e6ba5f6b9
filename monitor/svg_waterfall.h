/*
 * The waterfall of a capture as one SVG picture: a row per connection on
 * one time axis (handshake, waiting for an answer, data, idle, closing, and
 * how it ended, as the TUI's time bar shows them), or, for more connections
 * than rows, a row per group of consecutive connections. Readable in black
 * and white (bar heights, dashes, end marks). Pure: rows in, text out.
 */
#ifndef LABMON_SVG_WATERFALL_H
#define LABMON_SVG_WATERFALL_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/svg.h"
#include "monitor/view.h"

/* Consecutive connections drawn as one row when there are too many for a row each. */
struct svg_waterfall_group {
    uint64_t first_id;     /* stream index of the first */
    uint32_t n;            /* connections in it */
    uint32_t fin, rst;     /* of them: closed with FINs, reset */
    uint32_t data;         /* of them: carried payload */
    uint64_t t0_ns, t1_ns; /* the first one's start, the last one's end */
};

/* One row: a connection (conn set) or a group. */
struct svg_waterfall_row {
    const struct view_conn *conn;
    const struct svg_waterfall_group *group;
    const char *href; /* where the row links ("#c12"), NULL none */
};

/* The picture: rows[0..n) on the axis [t0_ns, t1_ns] (t0 is "0 s"). */
void svg_waterfall_write(struct svg_buf *s, const struct svg_fig *o,
                         const struct svg_waterfall_row *rows, size_t n, uint64_t t0_ns,
                         uint64_t t1_ns);

/* Rows at most drawn with their labels; more are drawn thin, the label a tooltip. */
#define SVG_WATERFALL_LABELLED 400

#endif
