/*
 * The TUI's 'e' key: the selected connection's ladder and time-sequence
 * graph as SVG files and an HTML report of the session so far, named by
 * the client port and the time ("labmon-PORT-DATE-TIME.ladder.svg",
 * ".tsg.svg", ".html"), in --out-dir or else the current directory (else
 * /tmp: after labmon dropped root the current directory may not be its to
 * write).
 */
#ifndef LABMON_UI_EXPORT_H
#define LABMON_UI_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/flow.h"
#include "monitor/report.h"
#include "monitor/ui_flows.h"

struct ui_export_req {
    const char *dir; /* --out-dir; NULL: the current directory */
    uint32_t svg_max;
    int64_t now_sec;              /* wall clock, for the names */
    const struct flow *sel;       /* the selected connection (NULL: it left the table) */
    uint16_t cport;               /* its client port */
    const struct ui_flows *flows; /* the session's connections, for the report */
    const struct report_facts *facts;
};

/* Writes the three files; msg (n bytes) says where, or what failed. 0, or -1. */
int ui_export_write(const struct ui_export_req *r, char *msg, size_t n);

#endif
