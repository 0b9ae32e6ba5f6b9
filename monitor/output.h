/*
 * Non-interactive outputs over the engine's records: one JSON object per
 * connection, a summary table, JSON-lines events and the text ladder.
 */
#ifndef LABMON_OUTPUT_H
#define LABMON_OUTPUT_H

#include <stdio.h>

#include "monitor/engine.h"
#include "monitor/flow.h"

/* One connection as a single-line JSON object (with trailing newline). */
void output_flow_json(FILE *out, const struct flow *f);

/* The summary table: header once, then one line per flow. */
void output_summary_header(FILE *out);
void output_summary_row(FILE *out, const struct flow *f);

/* One event as a JSON line. */
void output_event_json(FILE *out, const struct engine_event *ev);

/* The ladder of one flow as text. */
void output_ladder(FILE *out, const struct flow *f, int width);

/*
 * Totals line(s) for the end of --summary (counters; for a live capture,
 * have_drops set: drops and what the kernel filter passed).
 */
void output_counters(FILE *out, const struct engine_counters *c, uint64_t flows, uint64_t evicted,
                     int have_drops, uint64_t received, uint64_t drops, uint64_t if_drops);

/* Write s as a JSON string literal (with quotes). */
void output_json_string(FILE *out, const char *s);

/* Whether a flow matches a --ladder selector (values as the callers compare them). */
enum output_match {
    OUTPUT_MATCH_BAD = -1, /* the selector is malformed */
    OUTPUT_MATCH_NO = 0,
    OUTPUT_MATCH_YES = 1,
};

/*
 * Does flow f match a --ladder selector? "N" = stream index N, ":P" = a
 * connection with client (or server) port P, "ADDR:PORT" = client or
 * server endpoint ADDR:PORT ("[v6]:port" for IPv6).
 */
enum output_match output_selector_match(const char *sel, const struct flow *f);

#endif
