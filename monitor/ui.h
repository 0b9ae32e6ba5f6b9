/*
 * labmon's interactive view: the ncurses shell around the engine, the
 * input layer and the view model. main.c calls ui_run() when no
 * non-interactive output (--summary, --json, --events, --ladder) is asked.
 */
#ifndef LABMON_UI_H
#define LABMON_UI_H

#include <stdint.h>

#include "monitor/capture.h"

struct ui_opts {
    struct capture_opts cap; /* iface, filter, read_file, write_file, snaplen */
    int port;                /* -p: monitor this port; 0 = labd's, else 8080 */
    const char *run_dir;     /* labd's run dir; NULL = labd's default for this user */
    double speed;            /* replay pace (1 = real time); 0 = all at once */
    uint32_t max_flows;      /* flow table bound, 0 = engine default */
    const char *out_dir;     /* where 'e' writes; NULL = the current directory */
    uint32_t svg_max;        /* packets an exported ladder draws (0 = all) */
};

/* Run the TUI until q, Ctrl-C or SIGTERM. Returns the exit status. */
int ui_run(const struct ui_opts *o);

#endif
