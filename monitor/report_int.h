/*
 * What the report's two files share (report.h is the interface):
 * report.c collects the connections, report_html.c writes the page.
 */
#ifndef LABMON_REPORT_INT_H
#define LABMON_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/report.h"
#include "monitor/svg_waterfall.h"

#define REPORT_STATES 24 /* Zeek has 13 connection states */

/* A connection in the table (and, with few enough, a row of the waterfall). */
struct report_row {
    struct view_conn c;
    char zeek[8];           /* Zeek's conn_state */
    char history[32];       /* Zeek's history letters */
    uint8_t cstate, sstate; /* enum flow_tcp_state */
    uint32_t rtx;           /* retransmissions, both ways */
    int figure;             /* its figures are in the report */
};

/* One of the busiest connections: its ladder and graph, inline SVG. */
struct report_figure {
    uint64_t id;
    uint64_t pkts;
    char *svg;
    size_t len;
    char title[320];
};

struct report {
    uint32_t svg_max;
    uint64_t total; /* connections added */
    uint64_t lost;  /* ... of which a row or figure was lost to memory */
    struct report_row *rows;
    size_t nrows, caprows;
    struct {
        char name[8];
        uint64_t count;
    } states[REPORT_STATES];
    size_t nstates;
    /* Every connection, in groups of group_w consecutive stream indexes. */
    struct svg_waterfall_group groups[REPORT_GROUPS];
    uint64_t group_w;
    struct report_figure fig[REPORT_FIGURES];
    size_t nfig;
};

#endif
