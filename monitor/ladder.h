/*
 * The ladder (sequence diagram) of one connection as data: one row per
 * logged segment with its annotation, so the text output and the TUI draw
 * the same thing. Pure: reads a struct flow, writes rows.
 */
#ifndef LABMON_LADDER_H
#define LABMON_LADDER_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/flow.h"

#define LADDER_NOTE_MAX 192

enum ladder_row_kind {
    LADDER_SEGMENT = 0, /* one segment: an arrow */
    LADDER_GAP,         /* segments dropped from the bounded log (count in len) */
};

struct ladder_row {
    enum ladder_row_kind kind;
    uint8_t dir; /* enum flow_dir_id: C2S arrow points right */
    uint64_t ts_ns;
    double rel_s;   /* seconds since the flow's first segment */
    char flags[12]; /* "SYN", "SYN,ACK", "FIN,ACK", "PSH,ACK", ... */
    uint8_t th;     /* the same flags as bits, FLOW_TH_* */
    uint32_t seq, ack, len, win;
    uint16_t marks; /* FLOW_SEG_* */
    uint8_t nsack;  /* SACK blocks the segment carried (kept ones), relative as ack */
    uint32_t sack[FLOW_SEG_SACK_MAX][2];
    uint8_t cstate, sstate;
    char note[LADDER_NOTE_MAX];
};

/* Number of rows ladder_build will produce for f. */
size_t ladder_count(const struct flow *f);

/* Fill up to max rows; returns how many were written. */
size_t ladder_build(const struct flow *f, struct ladder_row *rows, size_t max);

/* TCP flags as "SYN,ACK" (names in Wireshark's order). */
void ladder_flags_str(uint8_t flags, char *buf, size_t n);

/* Render one row as a line of text, about `width` columns wide (>= 60). */
void ladder_format_row(const struct flow *f, const struct ladder_row *r, int width, char *buf,
                       size_t n);

/* The two header lines (client and server column titles). */
void ladder_format_header(const struct flow *f, int width, char *buf, size_t n);

/* "10.0.0.1:80" or "[::1]:80". */
void ladder_endpoint_str(uint8_t af, const uint8_t *addr, uint16_t port, char *buf, size_t n);

#endif
