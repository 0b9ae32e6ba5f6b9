/*
 * The HTML report of a capture: one self-contained page (inline SVG and
 * CSS, no script, nothing loaded from elsewhere) with the capture's facts,
 * the waterfall of every connection on one time axis, the --summary table
 * and, for the busiest connections, their ladder and time-sequence graph,
 * linked both ways with the table. Connections are added as they finish
 * (the flow's records go away after that); the page is written at the end.
 * Bounded whatever the capture: at most REPORT_ROWS rows in the table
 * (the facts count all connections by state), the waterfall in groups of
 * consecutive connections beyond REPORT_GROUPS of them, figures for at most
 * REPORT_FIGURES connections. Pure: the
 * text goes into a struct svg_buf, whose flush callback writes it.
 */
#ifndef LABMON_REPORT_H
#define LABMON_REPORT_H

#include <stdint.h>

#include "monitor/engine.h"
#include "monitor/flow.h"
#include "monitor/svg.h"
#include "monitor/view.h"

#define REPORT_ROWS    10000 /* connections listed in the table and drawn one a row */
#define REPORT_GROUPS  1000  /* waterfall rows when connections are drawn in groups */
#define REPORT_FIGURES 100   /* connections with a ladder and a graph: the busiest */

/* What the report says about the capture, from the shell. */
struct report_facts {
    const char *source; /* the file read ("-": standard input), or the interface */
    const char *filter; /* BPF filter, NULL or "" none */
    const char *link;   /* link type name */
    int live;           /* a live capture: drops are known */
    uint64_t drops, if_drops;
    uint64_t first_ns, last_ns; /* the first and the last packet's times (0: none) */
    const struct engine_counters *counters;
    uint64_t connections, evicted; /* created in the flow table, evicted from it */
    const char *version;           /* labmon's, for the page's last line */
};

/*
 * The facts of a run: what was read (source, filter, link type, the first
 * and the last packet's times) and what its engine counted; drops, live
 * and version are the caller's to add.
 */
void report_facts_init(struct report_facts *f, struct engine *e, const char *source,
                       const char *filter, const char *link, uint64_t first_ns, uint64_t last_ns);

struct report;

/* A report whose ladders draw at most svg_max packets (0: all). NULL when out of memory. */
struct report *report_new(uint32_t svg_max);
void report_free(struct report *r);

/*
 * Adds a finished (or, at the end, a remaining) connection: its row, and
 * its figures when it is among the busiest so far. row may be NULL (made
 * from f); the TUI passes the row it kept, with requests f no longer has.
 * Returns 0, or -1 when out of memory (the report then says what it lacks).
 */
int report_add(struct report *r, const struct flow *f, const struct view_conn *row);

/* Writes the page. 0, or -1 when out of memory or the buffer's flush failed. */
int report_write(struct report *r, const struct report_facts *facts, struct svg_buf *out);

#endif
