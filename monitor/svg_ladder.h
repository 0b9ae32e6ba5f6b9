/*
 * A connection's ladder (sequence diagram) as an SVG figure: two lifelines
 * headed by the endpoints, one arrow per logged segment with its time,
 * flags, relative seq/ack, length and window, the notes of the text ladder
 * (ladder.c) and each side's state changes. Every packet is an element of
 * class "pkt" plus classes for its kind. Readable in black and white: line
 * width, dashes and arrow heads tell the kinds apart; colour only adds.
 * Pure: a struct flow in, text into a struct svg_buf out.
 */
#ifndef LABMON_SVG_LADDER_H
#define LABMON_SVG_LADDER_H

#include <stddef.h>

#include "monitor/flow.h"
#include "monitor/svg.h"

/* Packets drawn by default before the middle of a long connection is left out. */
#define SVG_LADDER_MAX_DEFAULT 400

/* Writes the figure. 0, or -1 when out of memory (the buffer says failed then too). */
int svg_ladder_write(struct svg_buf *s, const struct flow *f, const struct svg_fig *o);

/*
 * The line that names a connection in the figures and the report: "stream
 * N: CLIENT → SERVER" and its first request with its status (plain text:
 * the writers escape it).
 */
void svg_ladder_title(const struct flow *f, char *buf, size_t n);

#endif
