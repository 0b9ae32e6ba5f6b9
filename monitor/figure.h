/*
 * One connection's figure, by kind: its ladder (svg_ladder.c) or its
 * time-sequence graph (svg_tsg.c) as SVG; --svg names the kind and the
 * connection. figure_render() is pure; figure_write() is its stdio shell.
 */
#ifndef LABMON_FIGURE_H
#define LABMON_FIGURE_H

#include <stdio.h>

#include "monitor/flow.h"
#include "monitor/svg.h"

enum figure_kind {
    FIGURE_LADDER = 0, /* the sequence diagram */
    FIGURE_TSG,        /* the time-sequence graph */
};

/* What a --svg argument says. */
enum figure_parse_result {
    FIGURE_PARSE_OK = 0,
    FIGURE_PARSE_BAD, /* not "ladder:SEL" or "tsg:SEL" */
};

/* "ladder:SEL" or "tsg:SEL": the kind, and in *sel the selector after the colon. */
enum figure_parse_result figure_parse(const char *spec, enum figure_kind *kind, const char **sel);

/* The figure into s. 0, or -1 when out of memory. */
int figure_render(struct svg_buf *s, const struct flow *f, enum figure_kind kind,
                  const struct svg_fig *o);

/* A standalone figure with at most max_rows ladder rows, written to out. 0, or -1 (errno). */
int figure_write(FILE *out, const struct flow *f, enum figure_kind kind, uint32_t max_rows);

#endif
