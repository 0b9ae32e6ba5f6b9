/*
 * What the view's files share and nothing outside the view needs; view.h is
 * the public interface. One file per part:
 *   view.c            a frame: state, header and footer lines, page choice
 *   view_cell.c       the screen of cells, UTF-8, widths, the pen, glyphs
 *   view_fmt.c        numbers, durations, addresses, URIs, state names as text
 *   view_conn.c       the bounded lists of a struct view_conn
 *   view_filter.c     the filter language
 *   view_layout.c     zoom, the time axis and the waterfall's columns
 *   view_sort.c       which rows are shown, in what order, and the selection
 *   view_status.c     the compressed statuses at the end of a row's requests
 *   view_waterfall.c  the waterfall page
 *   view_ladder.c     the ladder page
 *   view_graph.c      the graph page (the time-sequence graph in the terminal)
 *   view_keys.c       what each key does, and the help page that lists them
 */
#ifndef LABMON_VIEW_INT_H
#define LABMON_VIEW_INT_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/view.h"

/* ---- view_cell.c --------------------------------------------------------- */

/* Writes text into one line of the screen, clipped before column end. */
struct view_pen {
    struct view_screen *s;
    int y, x, end;
    uint8_t attr;
};

size_t view_utf8_put(char *out, uint32_t cp);
uint32_t view_utf8_next(const char **sp);
uint32_t view_cp_safe(uint32_t cp);
int view_text_width(const char *s);

void view_pen_cp(struct view_pen *p, uint32_t cp);
void view_pen_str(struct view_pen *p, const char *s);
void view_pen_trunc(struct view_pen *p, const char *s, int w, const struct view_glyphs *g);
void view_pen_right(struct view_pen *p, const char *s, int w);
void view_pen_keep_tail(struct view_pen *p, const char *s, int w, int headw,
                        const struct view_glyphs *g);

void view_screen_clear(struct view_screen *s);
void view_screen_line_attr(struct view_screen *s, int y, uint8_t attr);

/* The bar glyph of a time-bar attribute (VIEW_A_HANDSHAKE .. VIEW_A_WINUPD), else ' '. */
uint32_t view_phase_glyph(const struct view_glyphs *g, enum view_attr a);

/* ---- view_fmt.c ---------------------------------------------------------- */

/* "ESTABLISHED", "TIME_WAIT", ... ("NONE" when out of range). */
const char *view_state_full(unsigned st);
void view_format_addr(char *buf, size_t size, int family, const uint8_t *a, uint16_t port);
void view_format_ip(char *buf, size_t size, int family, const uint8_t *a);
/* The handshake RTT as a duration, "-" when unknown. */
void view_format_rtt(char *buf, size_t size, int64_t rtt_ns);
void view_uri_display(char *out, size_t size, const char *uri);

/* ---- view_layout.c ------------------------------------------------------- */

#define VIEW_ZOOM_COUNT   25 /* entries in view_layout.c's zoom table */
#define VIEW_ZOOM_DEFAULT 17 /* 500 ms per column: a 5 s keep-alive and its close fit at 80x24 */

/* One zoom step: dir < 0 finer (fewer ns per column), dir > 0 coarser; stops at the ends. */
void view_zoom_step(struct view_state *vs, int dir);

/* The waterfall's columns: x and width of each. */
struct view_layout {
    int client_x, client_w, pid_x, pid_w, state_x, state_w, req_x, req_w;
    int bytes_x, bytes_w, pkts_x, pkts_w, rtt_x, rtt_w, bar_x, bar_w;
    int wide;
    char common[48]; /* all shown clients share this address: rows show ":port" */
};

/* The time axis of the bar. */
struct view_axis {
    uint64_t a0, ns; /* time of column 0, ns per column */
    int w;
    uint64_t now;
};

void view_layout_compute(struct view_layout *L, int w, int show_pid, int client_w);
/* Columns for the rows on screen (the client column fits their addresses). */
void view_layout_rows(struct view_layout *L, const struct view_state *vs,
                      const struct view_conn *const *conns, int rows, int w);
/* The axis for a bar_w-wide bar ending at now (live) or at the paused end. */
void view_axis_place(struct view_axis *ax, struct view_state *vs, const struct view_stats *st,
                     int bar_w);

/* ---- view_status.c ------------------------------------------------------- */

/* The statuses of the requests after the first k of a row, as it shows them. */
struct view_status_tail {
    int left;    /* requests from the k-th on (0: nothing to show) */
    int pending; /* some of them have no answer yet */
    int counts;  /* items show their counts ("304x3") */
    int cut;     /* less telling statuses left out for room */
    int n;
    struct view_status_run item[VIEW_RUNS_MAX];
};

/* Fills t for requests k.. of c, compressed until it fits room columns (if it can). */
void view_status_tail(const struct view_conn *c, int k, int room, const struct view_glyphs *g,
                      struct view_status_tail *t);
int view_status_tail_width(const struct view_status_tail *t, const struct view_glyphs *g);
void view_status_tail_draw(struct view_pen *p, const struct view_status_tail *t,
                           const struct view_glyphs *g, uint8_t base);
/* The attribute of a status: OK, redirect or error (lost counts as an error). */
uint8_t view_status_attr(int status);

/* ---- view_sort.c --------------------------------------------------------- */

const char *view_sort_name(enum view_sort s);
/* Filter, hide cleared rows, sort; fills vs->order and vs->nshown. */
void view_sort_rows(struct view_state *vs, const struct view_conn *const *conns, size_t n);
/* Place the selection and the scroll offset after the list changed. */
void view_sort_place_selection(struct view_state *vs, int rows);

/* ---- the pages ----------------------------------------------------------- */

void view_waterfall_draw(struct view_screen *s, struct view_state *vs,
                         const struct view_conn *const *conns, size_t n,
                         const struct view_stats *st);
void view_ladder_draw(struct view_screen *s, struct view_state *vs, const struct view_conn *c,
                      const struct view_ladder_line *lines, size_t nlines);
void view_help_draw(struct view_screen *s, const struct view_state *vs);
void view_graph_draw(struct view_screen *s, struct view_state *vs, const struct view_conn *c,
                     const struct tsg *g);

#endif
