/*
 * labmon's TUI shell: one poll() loop over the keyboard, a 10 Hz timerfd and
 * the input (input.c); the engine does the tracking, the view model (view.c)
 * the layout, this file only moves cells to curses. ncurses sends only the
 * cells that changed, so nothing is cleared between frames.
 */
#define NCURSES_WIDECHAR 1
#include "monitor/ui.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "monitor/engine.h"
#include "monitor/input.h"
#include "monitor/labd_link.h"
#include "monitor/tsg.h"
#include "monitor/ui_export.h"
#include "monitor/ui_flows.h"
#include "monitor/ui_ladder.h"
#include "monitor/ui_pcap.h"
#include "monitor/ui_urls.h"
#include "monitor/view.h"
#include "shared/clock.h"

#define UI_TICK_NS    100000000LL   /* redraw period */
#define UI_SEGLOG_CAP 256           /* segments kept per flow for the ladder */
#define UI_RETIRE_NS  2000000000ULL /* closed and quiet this long: free the HTTP state */

struct ui {
    const struct ui_opts *o;
    struct input *in;
    enum input_kind kind;
    int dlt, eof;
    struct engine *eng;
    struct ui_flows *flows;
    struct labd_link *labd;
    struct ui_ladder *ladder;
    struct ui_pcap w;
    struct tsg graph;    /* the selected connection's, in the graph page */
    struct ui_urls urls; /* what the empty screen says to open */
    struct view_state vs;
    struct view_screen scr;
    int curses_on, color;
    FILE *tty;  /* "-r -": the keys come from /dev/tty */
    int kbd_fd; /* where the keys come from */
    int tfd;    /* the redraw timer */
    int ticks;
    char fail[512]; /* error that ends the loop, printed after endwin */
    char filter[160];
    char iface[PATH_MAX];
    char lab_if[LAB_STATS_IFNAME_MAX]; /* labd --lab: the link's host end, captured on */
    int lab_gone;                      /* that link went with labd: the view stays, reading ends */
    char lab[64], wire[160];           /* labd --lab: the header's words */

    /* time and the header's figures */
    uint64_t start_ns;          /* live: wall clock at start */
    uint64_t first_ts, last_ts; /* capture times seen */
    int fitted;                 /* the time axis was fitted to a replay (or zoomed by hand) */
    uint64_t bytes_total, rate_bytes, rate_ns;
    double rate;
    uint64_t drops;
};

static volatile sig_atomic_t ui_stop;

static void ui_on_stop(int sig)
{
    (void)sig;
    ui_stop = 1;
}

static void ui_failf(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ui_failf(struct ui *u, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(u->fail, sizeof(u->fail), fmt, ap);
    va_end(ap);
    ui_stop = 1;
}

/* The worker that served a client (the pid column), from labd's scoreboard. */
static int32_t ui_worker_pid(void *ctx, int family, const uint8_t *addr, uint16_t port,
                             uint64_t when)
{
    struct ui *u = ctx;

    return labd_link_worker_pid(u->labd, family, addr, port, when);
}

/* Every frame, from the input (a pipe's reader thread too, under the input's lock). */
static void ui_on_frame(void *ctx, uint64_t ts, uint32_t caplen, uint32_t wirelen, const uint8_t *b)
{
    struct ui *u = ctx;

    if (!u->first_ts)
        u->first_ts = ts;
    if (ts > u->last_ts)
        u->last_ts = ts;
    u->bytes_total += wirelen;
    engine_packet(u->eng, u->dlt, b, caplen, wirelen, ts);
    if (u->w.f && ui_pcap_write(&u->w, ts, caplen, wirelen, b) < 0) {
        ui_pcap_close(&u->w);
        snprintf(u->vs.msg, sizeof(u->vs.msg), "writing %s failed: %s", u->w.path, strerror(errno));
    }
}

/* ---- painting ----------------------------------------------------------- */

struct ui_attr_style {
    short fg, bg;
    attr_t color_attr; /* with colours */
    attr_t mono;       /* without */
};

static const struct ui_attr_style ui_styles[VIEW_A_COUNT] = {
    [VIEW_A_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_HEADER] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
    [VIEW_A_TITLE] = { COLOR_CYAN, -1, A_BOLD, A_BOLD | A_UNDERLINE },
    [VIEW_A_FOOTER] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
    [VIEW_A_WARN] = { COLOR_RED, -1, A_BOLD, A_BOLD },
    [VIEW_A_DIM] = { -1, -1, A_DIM, A_DIM },
    [VIEW_A_HANDSHAKE] = { COLOR_YELLOW, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_WAIT] = { COLOR_BLUE, -1, A_BOLD, A_NORMAL },
    [VIEW_A_DATA] = { COLOR_GREEN, -1, A_NORMAL, A_BOLD },
    [VIEW_A_IDLE] = { -1, -1, A_DIM, A_DIM },
    [VIEW_A_TEARDOWN] = { COLOR_MAGENTA, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_FIN] = { COLOR_MAGENTA, -1, A_BOLD, A_BOLD },
    [VIEW_A_RST] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
    [VIEW_A_RETRANS] = { COLOR_RED, -1, A_NORMAL, A_BOLD },
    [VIEW_A_WINUPD] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_OK] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_REDIRECT] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_ERROR] = { COLOR_RED, -1, A_BOLD, A_BOLD },
    [VIEW_A_C2S] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_S2C] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
    [VIEW_A_NOTE] = { COLOR_YELLOW, -1, A_NORMAL, A_NORMAL },
};

static void ui_colors_init(struct ui *u)
{
    const char *nc = getenv("NO_COLOR");

    u->color = 0;
    if ((nc && *nc) || !has_colors() || start_color() == ERR)
        return;
    use_default_colors();
    for (int i = 1; i < VIEW_A_COUNT; i++)
        init_pair((short)i, ui_styles[i].fg, ui_styles[i].bg);
    u->color = 1;
}

static attr_t ui_cell_attr(const struct ui *u, uint8_t a, short *pair)
{
    int base = a & 0x7f;
    attr_t at;

    if (base >= VIEW_A_COUNT)
        base = VIEW_A_NORMAL;
    if (u->color) {
        at = ui_styles[base].color_attr;
        *pair = (short)base;
    } else {
        at = ui_styles[base].mono;
        *pair = 0;
    }
    if (a & VIEW_A_SELECTED)
        at ^= A_REVERSE;
    return at;
}

static void ui_paint(struct ui *u)
{
    const struct view_screen *s = &u->scr;

    for (int y = 0; y < s->h && y < LINES; y++) {
        for (int x = 0; x < s->w && x < COLS; x++) {
            const struct view_cell *c = &s->cell[(size_t)y * s->w + x];
            short pair;
            attr_t at;
            if (c->ch == 0)
                continue; /* right half of a wide character */
            at = ui_cell_attr(u, c->attr, &pair);
            if (c->ch < 0x80) {
                mvaddch(y, x, (chtype)c->ch | at | COLOR_PAIR(pair));
            } else {
                wchar_t wc[2] = { (wchar_t)c->ch, 0 };
                cchar_t cc;
                setcchar(&cc, wc, at, pair, NULL);
                mvadd_wch(y, x, &cc);
            }
        }
    }
    wnoutrefresh(stdscr);
    doupdate();
}

/* ---- frame -------------------------------------------------------------- */

/* The selected connection's ladder (rebuilt per frame: it is live). */
static size_t ui_ladder_view(struct ui *u, int width, const struct view_ladder_line **lines)
{
    uint64_t id;

    *lines = NULL;
    if (!view_selected(&u->vs, &id))
        return 0;
    return ui_ladder_lines(u->ladder, ui_flows_flow(u->flows, id), width, lines);
}

/* The selected connection's time-sequence graph for the graph page (rebuilt per frame: live). */
static void ui_graph_view(struct ui *u)
{
    uint64_t id;
    const struct flow *f = view_selected(&u->vs, &id) ? ui_flows_flow(u->flows, id) : NULL;

    u->vs.graph = f != NULL && tsg_build(&u->graph, f) == 0 ? &u->graph : NULL;
}

static uint64_t ui_view_now(const struct ui *u)
{
    uint64_t replay = input_replay_clock(u->in);

    if (u->kind == INPUT_LIVE)
        return (uint64_t)clock_real_ns();
    return replay ? replay : u->last_ts;
}

static void ui_update_rate(struct ui *u, uint64_t now)
{
    if (u->kind != INPUT_LIVE && u->kind != INPUT_PACED) {
        uint64_t span = u->last_ts > u->first_ts ? u->last_ts - u->first_ts : 0;
        u->rate = span ? (double)u->bytes_total * 1e9 / (double)span : 0;
        return;
    }
    if (!u->rate_ns || now < u->rate_ns) {
        u->rate_ns = now;
        u->rate_bytes = u->bytes_total;
    } else if (now - u->rate_ns >= 1000000000ULL) {
        u->rate = (double)(u->bytes_total - u->rate_bytes) * 1e9 / (double)(now - u->rate_ns);
        u->rate_ns = now;
        u->rate_bytes = u->bytes_total;
    }
}

static void ui_frame(struct ui *u)
{
    const struct view_conn *const *conns;
    const struct engine_counters *ec = engine_get_counters(u->eng);
    const struct labd_link_info *labd = labd_link_info(u->labd);
    const struct view_ladder_line *lines = NULL;
    struct view_stats st = { 0 };
    size_t n, nl = 0;
    int live = u->kind == INPUT_LIVE;
    uint64_t now = ui_view_now(u);

    ui_flows_sync(u->flows, engine_flows(u->eng));
    conns = ui_flows_conns(u->flows, &n);
    ui_update_rate(u, now);
    st.iface = u->iface;
    st.filter = u->filter;
    st.live = live;
    st.pkts = ec->packets;
    st.drops = u->drops;
    st.bytes_per_s = u->rate;
    st.now_ns = now;
    st.origin_ns = live ? u->start_ns : u->first_ts;
    st.labd_running = labd->running;
    st.labd_pid = labd->pid;
    st.labd_port = labd->port;
    st.labd_workers = labd->workers;
    labd_link_lab_text(labd, u->lab, sizeof(u->lab), u->wire, sizeof(u->wire));
    st.lab = u->lab;
    st.wire = u->wire;
    st.writing = u->w.f ? u->w.path : NULL;
    st.reading = !live && !u->eof;
    if (live && !u->o->cap.filter) {
        ui_urls_update(&u->urls, labd,
                       (uint16_t)(u->o->port > 0 ? u->o->port : CAPTURE_DEFAULT_PORT));
        st.urls = u->urls.list;
        st.nurls = u->urls.n;
    }
    u->vs.show_pid = labd->seen;
    if (!live && u->kind != INPUT_PACED && u->eof && !u->fitted) {
        view_zoom_fit(&u->vs, u->first_ts, u->last_ts, COLS, u->vs.show_pid);
        u->fitted = 1;
    }
    if (view_screen_resize(&u->scr, COLS, LINES) < 0) {
        ui_failf(u, "labmon: out of memory for a %dx%d screen", COLS, LINES);
        return;
    }
    if (u->vs.mode == VIEW_LADDER)
        nl = ui_ladder_view(u, COLS, &lines);
    if (u->vs.mode == VIEW_GRAPH)
        ui_graph_view(u);
    view_render(&u->vs, conns, n, &st, lines, nl, &u->scr);
    /* The ladder follows the selection the render settled on. */
    if (u->vs.mode == VIEW_LADDER) {
        size_t nl2 = ui_ladder_view(u, COLS, &lines);
        if (nl2 != nl)
            view_render(&u->vs, conns, n, &st, lines, nl2, &u->scr);
    }
    ui_paint(u);
}

/* ---- keys --------------------------------------------------------------- */

static int ui_map_key(int rc, wint_t wc)
{
    if (rc == KEY_CODE_YES) {
        switch (wc) {
        case KEY_UP:
            return VIEW_KEY_UP;
        case KEY_DOWN:
            return VIEW_KEY_DOWN;
        case KEY_LEFT:
            return VIEW_KEY_LEFT;
        case KEY_RIGHT:
            return VIEW_KEY_RIGHT;
        case KEY_PPAGE:
            return VIEW_KEY_PGUP;
        case KEY_NPAGE:
            return VIEW_KEY_PGDN;
        case KEY_HOME:
            return VIEW_KEY_HOME;
        case KEY_END:
            return VIEW_KEY_END;
        case KEY_ENTER:
            return VIEW_KEY_ENTER;
        case KEY_BACKSPACE:
            return VIEW_KEY_BACKSPACE;
        default:
            return -1;
        }
    }
    switch (wc) {
    case 27:
        return VIEW_KEY_ESC;
    case '\n':
    case '\r':
        return VIEW_KEY_ENTER;
    case 127:
    case 8:
        return VIEW_KEY_BACKSPACE;
    case 3: /* Ctrl-C when the terminal does not send SIGINT */
        return 'q';
    case 12: /* Ctrl-L: repaint everything */
        clearok(curscr, TRUE);
        return -1;
    default:
        return (int)wc;
    }
}

/* 'e': the selected connection's figures and the session's report, said in the footer. */
static void ui_export(struct ui *u)
{
    uint64_t id = 0;
    int sel = view_selected(&u->vs, &id);
    const struct flow *f = sel ? ui_flows_flow(u->flows, id) : NULL;
    struct report_facts facts;
    struct ui_export_req req = { .dir = u->o->out_dir,
                                 .svg_max = u->o->svg_max,
                                 .now_sec = clock_real_sec(),
                                 .sel = f,
                                 .cport = f ? f->cport : 0,
                                 .flows = u->flows,
                                 .facts = &facts };

    report_facts_init(&facts, u->eng, u->iface, u->filter, capture_link_name(input_capture(u->in)),
                      u->first_ts, u->last_ts);
    facts.live = u->kind == INPUT_LIVE;
    facts.drops = u->drops;
    facts.version = LABD_VERSION;

    ui_export_write(&req, u->vs.msg, sizeof(u->vs.msg));
}

/* Returns 1 if something changed on screen. */
static int ui_read_keys(struct ui *u)
{
    wint_t wc;
    int rc, changed = 0;

    while ((rc = get_wch(&wc)) != ERR) {
        int key;
        if (rc == KEY_CODE_YES && wc == KEY_RESIZE) {
            changed = 1;
            continue;
        }
        key = ui_map_key(rc, wc);
        if (key < 0) {
            changed = 1;
            continue;
        }
        switch (view_key(&u->vs, key, ui_view_now(u))) {
        case VIEW_ACT_QUIT:
            ui_stop = 1;
            return 0;
        case VIEW_ACT_TOGGLE_WRITE:
            ui_pcap_toggle(&u->w, u->dlt, u->vs.msg, sizeof(u->vs.msg));
            changed = 1;
            break;
        case VIEW_ACT_EXPORT:
            ui_export(u);
            changed = 1;
            break;
        case VIEW_ACT_REDRAW:
            changed = 1;
            break;
        default:
            break;
        }
        if (key == '+' || key == '-' || key == '=' || key == '_')
            u->fitted = 1; /* the user chose a zoom: keep it */
    }
    return changed;
}

/* ---- set-up and the loop ------------------------------------------------ */

static int ui_curses_start(struct ui *u)
{
    const char *cs;

    setlocale(LC_ALL, "");
    cs = nl_langinfo(CODESET);
    if (u->tty) {
        SCREEN *scr = newterm(NULL, stdout, u->tty);
        if (!scr)
            return -1;
        set_term(scr);
    } else if (!initscr()) {
        return -1;
    }
    u->curses_on = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    ui_colors_init(u);
    view_state_init(&u->vs,
                    cs && strcmp(cs, "UTF-8") == 0 ? &view_glyphs_utf8 : &view_glyphs_ascii);
    u->vs.mono = !u->color;
    return 0;
}

static void ui_on_evict(void *ctx, struct flow *f)
{
    struct ui *u = ctx;

    if (u->flows)
        ui_flows_forget(u->flows, f);
}

static void ui_on_retire(void *ctx, struct flow *f)
{
    struct ui *u = ctx;

    if (u->flows)
        ui_flows_retire(u->flows, f);
}

/* Where the keys come from: the terminal, which "-r -" cannot be. Returns 0 or -1. */
static int ui_keyboard(struct ui *u, int piped)
{
    u->kbd_fd = STDIN_FILENO;
    if (piped && isatty(STDOUT_FILENO)) {
        u->tty = fopen("/dev/tty", "r+e");
        u->kbd_fd = u->tty ? fileno(u->tty) : -1;
    }
    return u->kbd_fd >= 0 && isatty(u->kbd_fd) && isatty(STDOUT_FILENO) ? 0 : -1;
}

/* Opens the input as the options and labd say; the header names what it reads. */
static int ui_open_input(struct ui *u, int piped, char *err, size_t errlen)
{
    struct input_opts io = { .cap = u->o->cap, .speed = u->o->speed, .threaded = piped };

    if (!io.cap.read_file)
        labd_link_poll(u->labd);
    labd_link_capture_defaults(labd_link_info(u->labd), u->o->port, &io.cap, u->filter,
                               sizeof(u->filter), u->lab_if);
    if (io.cap.filter != u->filter)
        snprintf(u->filter, sizeof(u->filter), "%s", io.cap.filter ? io.cap.filter : "");
    snprintf(u->iface, sizeof(u->iface), "%s",
             io.cap.read_file ? io.cap.read_file
             : io.cap.iface   ? io.cap.iface
                              : "any");
    u->in = input_open(&io, ui_on_frame, u, err, errlen);
    if (!u->in)
        return -1;
    u->kind = input_kind(u->in);
    u->dlt = capture_datalink(input_capture(u->in));
    return 0;
}

/* The engine, the rows, the ladder and the timer. Returns 0, or -1 after saying why. */
static int ui_open_model(struct ui *u)
{
    struct itimerspec its = { { 0, UI_TICK_NS }, { 0, UI_TICK_NS } };
    struct engine_config ec = {
        .max_flows = u->o->max_flows,
        .seglog_cap = UI_SEGLOG_CAP,
        .on_evict = ui_on_evict,
        .evict_ctx = u,
        /* Closed connections keep their rows; their HTTP parsers are freed after a quiet while. */
        .retire_closed_ns = UI_RETIRE_NS,
        .on_retire = ui_on_retire,
        .retire_ctx = u,
    };

    u->eng = engine_new(&ec);
    u->flows = ui_flows_new(ui_worker_pid, u);
    u->ladder = ui_ladder_new(UI_SEGLOG_CAP);
    if (!u->eng || !u->flows || !u->ladder) {
        fprintf(stderr, "labmon: cannot start: out of memory\n");
        return -1;
    }
    u->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (u->tfd < 0 || timerfd_settime(u->tfd, 0, &its, NULL) < 0) {
        fprintf(stderr, "labmon: cannot start: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Everything up to the first frame. Returns 0, or the exit status after saying why. */
static int ui_start(struct ui *u)
{
    const char *file = u->o->cap.read_file;
    int piped = file && strcmp(file, "-") == 0;
    struct sigaction sa = { 0 };
    char err[512];

    if (ui_keyboard(u, piped) < 0) {
        fprintf(stderr, "labmon: the interactive view needs a terminal; for scripts use "
                        "--summary, --json or --events\n");
        return 2;
    }
    u->labd = labd_link_new(u->o->run_dir);
    if (!u->labd) {
        fprintf(stderr, "labmon: cannot start: out of memory\n");
        return 1;
    }
    ui_urls_collect(&u->urls); /* before the capture is opened (and root dropped) */
    if (ui_open_input(u, piped, err, sizeof(err)) < 0) {
        fprintf(stderr, "labmon: %s\n", err);
        return 1;
    }
    if (ui_open_model(u) < 0)
        return 1;
    u->start_ns = (uint64_t)clock_real_ns();
    sa.sa_handler = ui_on_stop; /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (ui_curses_start(u) < 0) {
        fprintf(stderr, "labmon: cannot initialise the terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        return 1;
    }
    if (input_start(u->in) < 0)
        ui_failf(u, "labmon: cannot start the reader: %s", strerror(errno));
    return 0;
}

/* Reading frames failed: say what was read. */
static void ui_fail_read(struct ui *u)
{
    const char *why = input_error(u->in);

    if (u->kind == INPUT_LIVE && labd_link_lab_gone(u->lab_if)) {
        u->lab_gone = 1;
        snprintf(u->vs.msg, sizeof(u->vs.msg), "the lab link %s is gone (labd stopped): q quits",
                 u->lab_if);
    } else if (u->kind == INPUT_LIVE)
        ui_failf(u, "labmon: capture failed: %s", why);
    else if (u->kind == INPUT_PIPE)
        ui_failf(u, "labmon: reading standard input failed: %s", why);
    else
        ui_failf(u, "labmon: reading %s failed: %s", u->o->cap.read_file, why);
}

/* A timer tick: redraw; once a second also look at labd, the kernel's drops and the 'w' file. */
static int ui_tick(struct ui *u)
{
    uint64_t expirations, recv, drop, ifdrop;

    if (read(u->tfd, &expirations, sizeof(expirations)) <= 0)
        return 0;
    if (u->ticks++ % 10 == 0) {
        if (u->kind == INPUT_LIVE) {
            labd_link_poll(u->labd);
            if (capture_stats(input_capture(u->in), &recv, &drop, &ifdrop) == 0)
                u->drops = drop + ifdrop;
        }
        if (u->w.f)
            fflush(u->w.f);
    }
    return 1;
}

/* One turn of the input; once the lab link is gone only the keys and the timer are left. */
static enum input_status ui_turn(struct ui *u, struct pollfd *pfd)
{
    if (!u->lab_gone)
        return input_turn(u->in, pfd, 2, -1);
    if (poll(pfd, 2, -1) < 0 && errno != EINTR)
        return INPUT_POLL_FAIL;
    return INPUT_OK;
}

static void ui_loop(struct ui *u)
{
    ui_frame(u);
    while (!ui_stop) {
        /* The input adds the capture's fd as the third. */
        struct pollfd pfd[3] = { { .fd = u->kbd_fd, .events = POLLIN },
                                 { .fd = u->tfd, .events = POLLIN } };
        int redraw;

        switch (ui_turn(u, pfd)) {
        case INPUT_OK:
            break;
        case INPUT_EOF:
            u->eof = 1;
            break;
        case INPUT_POLL_FAIL:
            ui_failf(u, "labmon: poll: %s", strerror(errno));
            return;
        case INPUT_READ_FAIL:
            ui_fail_read(u);
            break;
        }
        if (ui_stop)
            break;
        if (pfd[0].revents & (POLLHUP | POLLERR)) {
            ui_failf(u, "labmon: the terminal went away");
            break;
        }
        /* Always: a SIGWINCH interrupts poll() and shows up as KEY_RESIZE here. */
        redraw = ui_read_keys(u);
        if ((pfd[1].revents & POLLIN) && ui_tick(u))
            redraw = 1;
        if (redraw && !ui_stop)
            ui_frame(u);
    }
}

static void ui_cleanup(struct ui *u)
{
    if (u->curses_on) {
        endwin();
        u->curses_on = 0;
    }
    input_close(u->in); /* first: a pipe's reader thread feeds the engine */
    if (u->tty)
        fclose(u->tty);
    if (u->tfd >= 0)
        close(u->tfd);
    if (u->w.f)
        ui_pcap_close(&u->w);
    if (u->flows && u->eng)
        ui_flows_sync(u->flows, engine_flows(u->eng)); /* adopt rows made by on_retire */
    ui_flows_free(u->flows);
    engine_free(u->eng);
    labd_link_free(u->labd);
    ui_ladder_free(u->ladder);
    tsg_free(&u->graph);
    view_state_free(&u->vs);
    view_screen_free(&u->scr);
}

int ui_run(const struct ui_opts *o)
{
    struct ui u;
    int rc;

    memset(&u, 0, sizeof(u));
    u.o = o;
    u.tfd = -1;
    ui_stop = 0;
    rc = ui_start(&u);
    if (rc == 0 && !ui_stop)
        ui_loop(&u);
    if (u.fail[0])
        rc = 1;
    ui_cleanup(&u);
    if (u.fail[0])
        fprintf(stderr, "%s\n", u.fail);
    return rc;
}
