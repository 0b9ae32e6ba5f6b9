/*
 * labmon's view model: turns connection records and the user's view state
 * (sort, filter, zoom, scroll, pause) into a screen of cells with attributes.
 * Pure: no curses, no clock, no I/O. monitor/ui.c paints the cells; the unit
 * tests and the frame benchmark read them as text.
 */
#ifndef LABMON_VIEW_H
#define LABMON_VIEW_H

#include <stddef.h>
#include <stdint.h>

/* An endpoint's TCP state as an observer infers it. */
enum view_tcp_state {
    VIEW_ST_NONE = 0, /* not known (e.g. picked up mid-stream, before any flag) */
    VIEW_ST_SYN_SENT,
    VIEW_ST_SYN_RECEIVED,
    VIEW_ST_ESTABLISHED,
    VIEW_ST_FIN_WAIT_1,
    VIEW_ST_FIN_WAIT_2,
    VIEW_ST_CLOSING,
    VIEW_ST_TIME_WAIT,
    VIEW_ST_CLOSE_WAIT,
    VIEW_ST_LAST_ACK,
    VIEW_ST_CLOSED,
    VIEW_ST_COUNT
};

/* How a connection ended. */
enum view_end {
    VIEW_END_OPEN = 0,
    VIEW_END_FIN, /* orderly close: both FINs acknowledged */
    VIEW_END_RST, /* reset by either side */
};

enum view_mark_kind {
    VIEW_MARK_RETRANS = 1, /* a retransmitted segment */
    VIEW_MARK_WINUPD,      /* a window update (Wireshark's definition) */
};

#define VIEW_REQ_MAX    6  /* requests kept per connection (the first ones) */
#define VIEW_RUNS_MAX   8  /* runs of equal statuses kept per connection */
#define VIEW_SPAN_MAX   12 /* data-transfer spans per connection */
#define VIEW_MARK_MAX   12 /* retransmission / window-update marks per connection */
#define VIEW_URI_MAX    96
#define VIEW_METHOD_MAX 12

struct view_req {
    char method[VIEW_METHOD_MAX];
    char uri[VIEW_URI_MAX]; /* as on the wire (percent-encoded) */
    int status;             /* 0: no response yet, -1: response lost (gap) */
    uint64_t req_ns;        /* request line seen */
    uint64_t resp_ns;       /* status line seen, 0 none */
};

/*
 * Requests in a row that got the same answer: with req[] bounded, these keep
 * every request's status (as struct view_req's: -1 lost), in answer order,
 * so that a 304 or 404 on a long keep-alive connection always shows.
 */
struct view_status_run {
    int16_t status;
    uint16_t count;
};

/* An interval during which payload flowed (either direction). */
struct view_span {
    uint64_t start_ns, end_ns;
};

struct view_mark {
    uint64_t ts_ns;
    uint8_t kind; /* enum view_mark_kind */
};

/*
 * One connection as the views need it. Filled by an adapter from the flow
 * engine (ui_flows.c) or by hand in tests. Times are capture timestamps in ns.
 */
struct view_conn {
    uint64_t id;                  /* stable identity (the engine's stream index) */
    uint8_t family;               /* 4 or 6 */
    uint8_t cstate, sstate;       /* enum view_tcp_state: client, server */
    uint8_t end;                  /* enum view_end */
    uint8_t reset_by;             /* 'c', 's' or 0 */
    uint8_t closed_by;            /* who sent the first FIN: 'c', 's' or 0 */
    uint8_t caddr[16], saddr[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t cport, sport;
    int32_t pid;                   /* labd worker that served it, 0 unknown */
    uint64_t bytes_c2s, bytes_s2c; /* TCP payload */
    uint64_t pkts_c2s, pkts_s2c;
    int64_t rtt_ns; /* handshake RTT, -1 unknown */
    uint64_t first_ns, last_ns;
    uint64_t syn_ns;      /* first SYN, 0 if not seen */
    uint64_t est_ns;      /* handshake completed, 0 if not (yet) */
    uint64_t fin_ns;      /* first FIN, 0 none */
    uint64_t end_ns;      /* closed (last ACK of the FINs) or reset, 0 while open */
    uint32_t nreq_total;  /* requests seen, may exceed nreq */
    uint8_t nreq;         /* requests kept in req[], oldest first */
    uint8_t nspan, nmark; /* used entries in span[], mark[] */
    uint8_t nruns;        /* used entries in run[] */
    struct view_req req[VIEW_REQ_MAX];
    struct view_span span[VIEW_SPAN_MAX];
    struct view_mark mark[VIEW_MARK_MAX];
    struct view_status_run run[VIEW_RUNS_MAX];
};

/* Builders for the bounded lists (they merge or drop, never overflow). */
void view_conn_add_data(struct view_conn *c, uint64_t ts_ns, uint64_t merge_gap_ns);
void view_conn_add_mark(struct view_conn *c, uint64_t ts_ns, enum view_mark_kind kind);
struct view_req *view_conn_add_req(struct view_conn *c, const char *method, const char *uri,
                                   uint64_t req_ns);
/* The next request's answer (in the order requests were made): a status, or -1 lost. */
void view_conn_add_status(struct view_conn *c, int status);

/* Cell attributes (what a cell means); the UI maps them to colours or mono. */
enum view_attr {
    VIEW_A_NORMAL = 0,
    VIEW_A_HEADER,    /* header/status line */
    VIEW_A_TITLE,     /* column titles */
    VIEW_A_FOOTER,    /* key hints */
    VIEW_A_WARN,      /* drops > 0, errors, "labd not running" */
    VIEW_A_DIM,       /* closed connections, secondary text */
    VIEW_A_HANDSHAKE, /* bar: SYN .. handshake done */
    VIEW_A_WAIT,      /* bar: request sent, waiting for the response */
    VIEW_A_DATA,      /* bar: payload flowing */
    VIEW_A_IDLE,      /* bar: established, nothing flowing */
    VIEW_A_TEARDOWN,  /* bar: first FIN .. closed */
    VIEW_A_FIN,       /* bar: orderly close */
    VIEW_A_RST,       /* bar: reset; also the state of a reset connection */
    VIEW_A_RETRANS,   /* bar: retransmission mark */
    VIEW_A_WINUPD,    /* bar: window update mark */
    VIEW_A_OK,        /* status 1xx-2xx */
    VIEW_A_REDIRECT,  /* status 3xx */
    VIEW_A_ERROR,     /* status 4xx-5xx or lost */
    VIEW_A_C2S,       /* ladder: client -> server arrow */
    VIEW_A_S2C,       /* ladder: server -> client arrow */
    VIEW_A_NOTE,      /* ladder annotations */
    VIEW_A_COUNT,
    VIEW_A_SELECTED = 0x80, /* flag: the selected row */
};

/* Bar glyphs by meaning, in the order of enum view_attr's bar entries. */
struct view_glyphs {
    uint32_t handshake, wait, data, idle, teardown, fin, rst, retrans, winupd;
    const char *arrow;    /* in "GET / -> 200" */
    const char *times;    /* in "304x3": three requests answered 304 */
    const char *ellipsis; /* shortened text */
    int arrow_w, ellipsis_w;
};

extern const struct view_glyphs view_glyphs_ascii;
extern const struct view_glyphs view_glyphs_utf8;

/* The screen: w*h cells. ch == 0 marks the right half of a wide character. */
struct view_cell {
    uint32_t ch;
    uint8_t attr;
};

struct view_screen {
    int w, h;
    struct view_cell *cell;
};

/* 0, or -1 with errno: EINVAL below 1x1, ENOMEM. */
int view_screen_resize(struct view_screen *s, int w, int h);
void view_screen_free(struct view_screen *s);
/* Line y as UTF-8 with trailing blanks removed; returns its length. */
size_t view_screen_line(const struct view_screen *s, int y, char *buf, size_t size);

/* Header facts from the capture side. */
struct view_stats {
    const char *iface;  /* "any", "lo", or the file name for a replay */
    const char *filter; /* BPF expression, "" none */
    int live;           /* 1 live capture, 0 replay */
    int reading;        /* replay: the file is still being read */
    uint64_t pkts, drops;
    double bytes_per_s; /* payload throughput, recent */
    uint64_t now_ns;    /* live: wall clock; replay: last packet's time */
    uint64_t origin_ns; /* time labels are relative to this (first packet) */
    int labd_running;   /* 1: scoreboard found */
    int32_t labd_pid;
    uint16_t labd_port;
    int labd_workers;
    const char *writing; /* pcap being written by 'w', NULL if none */
    /* Live, before the first connection: what to open (the lab's URL, or
     * this machine's addresses on labd's port), nurls of them. */
    const char *const *urls;
    int nurls;
    const char *note; /* extra header note, NULL if none */
    const char *lab;  /* labd --lab: "lab labd0 +40ms 1%", NULL or "" without */
    const char *wire; /* the lab wire's counters, NULL or "" when none */
};

enum view_mode { VIEW_WATERFALL = 0, VIEW_LADDER, VIEW_HELP, VIEW_GRAPH };

enum view_sort {
    VIEW_SORT_START = 0, /* order of appearance, newest at the bottom */
    VIEW_SORT_BYTES,     /* largest first */
    VIEW_SORT_PKTS,
    VIEW_SORT_DURATION,
    VIEW_SORT_RTT,
    VIEW_SORT_STATE,
    VIEW_SORT_PORT,
    VIEW_SORT_PID,
    VIEW_SORT_COUNT
};

#define VIEW_FILTER_TERMS 8
#define VIEW_FILTER_TEXT  128

struct view_term {
    uint8_t kind; /* internal */
    uint8_t neg;
    uint32_t num;
    uint32_t states; /* bit per enum view_tcp_state, for state terms */
    char text[64];
};

struct view_filter {
    int nterms;
    struct view_term term[VIEW_FILTER_TERMS];
};

/*
 * Filter language (all terms must match; '!' negates a term):
 *   port N | N            client or server port
 *   addr A | A            address prefix ("127.0.0.1", "10.1.", "::1")
 *   state S | S           est, syn, fin_wait_1, fw2, tw, time_wait, cw, closed,
 *                         open, fin, rst (either endpoint)
 *   pid N                 labd worker pid
 *   status N              a response status (or 2xx, 3xx, 4xx, 5xx)
 *   uri S | anything else substring of a request's method or URI
 * Returns 0, or -1 with a one-line reason in err.
 */
int view_filter_parse(struct view_filter *f, const char *text, char *err, size_t errlen);
int view_filter_match(const struct view_filter *f, const struct view_conn *c);

/* Ladder lines of the selected connection, supplied by the UI (see ui_ladder.h). */
struct view_ladder_line {
    const char *text; /* UTF-8 */
    uint8_t attr;     /* enum view_attr */
};

struct view_sort_item;
struct tsg;

/* Everything the UI remembers between frames. Initialise with view_state_init. */
struct view_state {
    enum view_mode mode;
    enum view_mode help_from; /* where '?' was pressed */
    enum view_sort sort;
    const struct view_glyphs *glyphs;
    struct view_filter filter;
    char filter_text[VIEW_FILTER_TEXT]; /* applied filter */
    int editing;                        /* '/' typed: editing edit[] */
    char edit[VIEW_FILTER_TEXT];
    char msg[128]; /* one-line message in the footer until the next key */
    int zoom;      /* index into the zoom table */
    int paused;    /* time axis frozen at axis_end_ns */
    uint64_t axis_end_ns;
    int follow;      /* selection follows the newest row */
    uint64_t sel_id; /* selected connection */
    int sel;         /* its index among the shown rows */
    int top;         /* first shown row on screen */
    int ladder_top;  /* first ladder line on screen */
    int ladder_follow;
    uint64_t clear_ns; /* 'c': hide connections closed before this time */
    int show_pid;      /* column present */
    /* Results of the last render, for key handling. */
    size_t nshown;
    size_t cap;
    /* One allocation (view_sort.c) holds these three: sort_items at its start. */
    uint32_t *order; /* indices into the conns array, as shown */
    uint64_t *order_id;
    struct view_sort_item *sort_items;
    int page_rows;
    int nladder;
    int mono; /* no colours: the graph draws letters, not dots */
    /* VIEW_GRAPH: the selected connection's time-sequence graph, set by the
     * UI before each render as the ladder lines are passed (not owned). */
    const struct tsg *graph;
};

enum view_action {
    VIEW_ACT_NONE = 0,
    VIEW_ACT_REDRAW,
    VIEW_ACT_QUIT,
    VIEW_ACT_TOGGLE_WRITE, /* 'w' */
    VIEW_ACT_EXPORT,       /* 'e': the selected connection's figures and a report */
};

/* Key codes beyond plain characters (the UI maps curses keys onto these). */
enum view_keycode {
    VIEW_KEY_UP = 0x110000,
    VIEW_KEY_DOWN,
    VIEW_KEY_LEFT,
    VIEW_KEY_RIGHT,
    VIEW_KEY_PGUP,
    VIEW_KEY_PGDN,
    VIEW_KEY_HOME,
    VIEW_KEY_END,
    VIEW_KEY_ENTER,
    VIEW_KEY_ESC,
    VIEW_KEY_BACKSPACE,
};

void view_state_init(struct view_state *vs, const struct view_glyphs *g);
void view_state_free(struct view_state *vs);

/* Nanoseconds per bar column at the current zoom. */
uint64_t view_ns_per_col(const struct view_state *vs);
/* Pick the finest zoom at which [first, last] fits in the bar of a w-wide screen. */
void view_zoom_fit(struct view_state *vs, uint64_t first_ns, uint64_t last_ns, int w, int show_pid);
/* Width of the time bar on a w-wide screen. */
int view_bar_width(int w, int show_pid);

/*
 * Apply one key. Selection and paging move over the rows of the last
 * view_render; now_ns is the time up to which 'c' hides closed connections.
 */
enum view_action view_key(struct view_state *vs, int key, uint64_t now_ns);

/*
 * Draw one frame: conns[0..n) in order of appearance. For VIEW_LADDER the
 * UI passes the selected connection's ladder lines (else NULL, 0).
 */
void view_render(struct view_state *vs, const struct view_conn *const *conns, size_t n,
                 const struct view_stats *st, const struct view_ladder_line *ladder, size_t nladder,
                 struct view_screen *scr);

/* The selected connection id, and whether there is one. */
int view_selected(const struct view_state *vs, uint64_t *id);

/* Short helpers shared by the view's files, exposed for the tests. */
const char *view_state_code(enum view_tcp_state st, int wide);
size_t view_format_bytes(char *buf, size_t size, uint64_t n);
size_t view_format_duration(char *buf, size_t size, int64_t ns);

#endif
