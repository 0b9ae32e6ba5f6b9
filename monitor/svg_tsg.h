/*
 * The time-sequence graph (Stevens / tcptrace style) of one connection as an
 * SVG figure: the busier direction's data segments as vertical bars over
 * their sequence ranges, the receiver's ACK line and advertised-window
 * line, retransmissions and SACK blocks marked, axes with units and "nice"
 * ticks, and a title naming the connection and its request. Readable in
 * black and white (bar shapes, dashes, markers). Pure: struct tsg in, text
 * into a struct svg_buf out.
 */
#ifndef LABMON_SVG_TSG_H
#define LABMON_SVG_TSG_H

#include "monitor/flow.h"
#include "monitor/svg.h"
#include "monitor/tsg.h"

/*
 * Segments (and SACK blocks) drawn one element each up to this many; above
 * it they are merged per pixel column, so a figure stays a few hundred kB.
 */
#define SVG_TSG_DETAIL_MAX 2000

/* Writes the figure of g (made by tsg_build from f). 0, or -1 when out of memory. */
int svg_tsg_write(struct svg_buf *s, const struct flow *f, const struct tsg *g,
                  const struct svg_fig *o);

#endif
