/*
 * labmon's TUI shell: one poll() loop over the capture's selectable fd, the
 * keyboard and a 10 Hz timerfd; the engine does the tracking, the view model
 * (view.c) the layout, this file only moves cells to curses. ncurses sends
 * only the cells that changed, so nothing is cleared between frames.
 */
#define NCURSES_WIDECHAR 1
#include "monitor/ui.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "monitor/engine.h"
#include "monitor/ladder.h"
#include "monitor/ui_flow.h"
#include "monitor/ui_pcap.h"
#include "monitor/ui_pids.h"
#include "monitor/view.h"
#include "shared/config.h"
#include "shared/scoreboard.h"

#define TICK_NS       100000000LL /* redraw period */
#define SEGLOG_CAP    256         /* segments kept per flow for the ladder */
#define REPLAY_BATCH  5000        /* frames read per loop turn from a file */
#define LIVE_BATCHES  64          /* pcap_dispatch calls per turn before the UI runs */
#define LADDER_LINE_W 320
#define RETIRE_NS     2000000000ULL /* closed and quiet this long: free the HTTP state */

struct ui {
    const struct ui_opts *o;
    struct capture *cap;
    int dlt, live, eof;
    struct engine *eng;
    struct ui_flows *flows;
    struct view_state vs;
    struct view_screen scr;
    int curses_on, color;
    char fail[512]; /* error that ends the loop, printed after endwin */

    /* labd link */
    char run_dir[PATH_MAX];
    struct scoreboard sb;
    int sb_open;
    struct ui_pids *pids; /* index of sb, rebuilt on misses */
    uint64_t pids_built_ns;
    ino_t sb_ino;
    int labd_running, labd_workers, labd_seen;
    int32_t labd_pid;
    uint16_t labd_port;

    char filter[160];
    char iface[PATH_MAX];

    /* time */
    uint64_t start_ns;          /* live: wall clock at start */
    uint64_t first_ts, last_ts; /* capture times seen */
    uint64_t wall0_ns, cap0_ns; /* paced replay: monotonic start, first packet */
    int paced, have_pending, fitted;
    uint8_t *pending;
    uint32_t pend_caplen, pend_wirelen, pend_cap;
    uint64_t pend_ts;

    /* header figures */
    uint64_t bytes_total, rate_bytes, rate_ns;
    double rate;
    uint64_t drops;

    struct ui_pcap w;
    char wpath[64];

    /*
     * "-r -": frames come from a pipe (e.g. ssh host tcpdump -U -w -) that
     * blocks, so a thread reads it while the keys come from /dev/tty. The
     * UI thread holds the lock except while it waits in poll().
     */
    int piped;
    FILE *tty;
    int kbd_fd;
    pthread_t reader;
    int reader_on;
    pthread_mutex_t lock;
    int locked; /* the UI thread holds lock */

    /* ladder of the selected connection */
    struct ladder_row *rows;
    size_t rows_cap;
    struct view_ladder_line *lines;
    char *text;
    size_t lines_cap;
};

static volatile sig_atomic_t ui_stop;

static void on_stop(int sig)
{
    (void)sig;
    ui_stop = 1;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
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

/* ---- labd link ---------------------------------------------------------- */

static void default_run_dir(const char *given, char *out, size_t n)
{
    if (given && *given)
        snprintf(out, n, "%s", given);
    else
        config_default_run_dir((unsigned)getuid(), getenv("XDG_RUNTIME_DIR"), out, n);
}

static int pid_alive(int32_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int ui_labd_probe(const char *run_dir, uint16_t *port, int *workers, int32_t *pid)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    struct scoreboard sb;
    int ok;

    default_run_dir(run_dir, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, SB_FILE);
    if (sb_open_read(&sb, path) < 0)
        return 0;
    ok = pid_alive(sb.hdr->master_pid);
    if (ok) {
        *port = sb.hdr->port;
        *workers = (int)sb.hdr->nworkers;
        *pid = sb.hdr->master_pid;
    }
    sb_close(&sb);
    return ok;
}

/* Follow labd starting, stopping and restarting (a new scoreboard file) while we run. */
static void labd_poll(struct ui *u)
{
    char path[PATH_MAX + 32];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", u->run_dir, SB_FILE);
    if (u->sb_open) {
        /*
         * After the capture dropped root, a private run dir may be out of
         * reach: keep the mapping while labd's master lives.
         */
        int gone = !pid_alive(u->sb.hdr->master_pid);
        if (!gone && stat(path, &st) < 0)
            gone = errno != EACCES && errno != EPERM;
        else if (!gone)
            gone = st.st_ino != u->sb_ino;
        if (gone) {
            sb_close(&u->sb);
            u->sb_open = 0;
            u->pids_built_ns = 0;
        }
    }
    if (!u->sb_open && stat(path, &st) == 0 && sb_open_read(&u->sb, path) == 0) {
        if (pid_alive(u->sb.hdr->master_pid)) {
            u->sb_open = 1;
            u->sb_ino = st.st_ino;
        } else {
            sb_close(&u->sb);
        }
    }
    u->labd_running = u->sb_open;
    if (u->sb_open) {
        u->labd_seen = 1;
        u->labd_pid = u->sb.hdr->master_pid;
        u->labd_port = u->sb.hdr->port;
        u->labd_workers = (int)u->sb.hdr->nworkers;
    }
}

/*
 * The worker that served a client, from an index of the scoreboard. A miss
 * rebuilds the index, at most four times a second: the worker registers a
 * connection only after accept(), a moment after its SYN was captured.
 */
static int32_t ui_pid(void *ctx, int family, const uint8_t *addr, uint16_t port, uint64_t when)
{
    struct ui *u = ctx;
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    int32_t pid;

    if (!u->sb_open || !u->pids)
        return 0;
    pid = ui_pids_find(u->pids, family, addr, port, (int64_t)when);
    if (pid || (u->pids_built_ns && now - u->pids_built_ns < 250000000ULL))
        return pid;
    u->pids_built_ns = now;
    if (ui_pids_build(u->pids, &u->sb) < 0)
        return 0;
    return ui_pids_find(u->pids, family, addr, port, (int64_t)when);
}

/* ---- capture ------------------------------------------------------------ */

static void feed(struct ui *u, uint64_t ts, uint32_t caplen, uint32_t wirelen, const uint8_t *b)
{
    if (!u->first_ts)
        u->first_ts = ts;
    if (ts > u->last_ts)
        u->last_ts = ts;
    u->bytes_total += wirelen;
    engine_packet(u->eng, u->dlt, b, caplen, wirelen, ts);
    if (u->w.f && ui_pcap_write(&u->w, ts, caplen, wirelen, b) < 0) {
        ui_pcap_close(&u->w);
        snprintf(u->vs.msg, sizeof(u->vs.msg), "writing %s failed: %s", u->wpath, strerror(errno));
    }
}

/* Paced replay: the capture time that corresponds to now. */
static uint64_t replay_clock(const struct ui *u)
{
    double dt = (double)(clock_ns(CLOCK_MONOTONIC) - u->wall0_ns) * u->o->speed;
    return u->cap0_ns + (uint64_t)dt;
}

static void on_frame(void *ctx, uint64_t ts, uint32_t caplen, uint32_t wirelen,
                     const uint8_t *bytes)
{
    struct ui *u = ctx;

    if (u->paced) {
        if (!u->cap0_ns) {
            u->cap0_ns = ts;
            u->wall0_ns = clock_ns(CLOCK_MONOTONIC);
        }
        if (ts > replay_clock(u)) { /* not due yet: hold it */
            if (caplen > u->pend_cap) {
                uint8_t *p = realloc(u->pending, caplen);
                if (!p) {
                    ui_failf(u, "labmon: out of memory for a %u-byte frame", caplen);
                    return;
                }
                u->pending = p;
                u->pend_cap = caplen;
            }
            memcpy(u->pending, bytes, caplen);
            u->pend_caplen = caplen;
            u->pend_wirelen = wirelen;
            u->pend_ts = ts;
            u->have_pending = 1;
            return;
        }
    }
    feed(u, ts, caplen, wirelen, bytes);
}

static void read_capture(struct ui *u)
{
    int n;

    if (u->live) {
        for (int i = 0; i < LIVE_BATCHES; i++) {
            n = capture_dispatch(u->cap, -1, on_frame, u);
            if (n < 0)
                ui_failf(u, "labmon: capture failed: %s", capture_error(u->cap));
            if (n <= 0)
                break;
        }
        return;
    }
    if (u->eof)
        return;
    if (!u->paced) {
        n = capture_dispatch(u->cap, REPLAY_BATCH, on_frame, u);
    } else {
        if (u->have_pending) {
            if (u->pend_ts > replay_clock(u))
                return;
            u->have_pending = 0;
            feed(u, u->pend_ts, u->pend_caplen, u->pend_wirelen, u->pending);
        }
        do
            n = capture_dispatch(u->cap, 1, on_frame, u);
        while (n > 0 && !u->have_pending);
    }
    if (n < 0)
        ui_failf(u, "labmon: reading %s failed: %s", u->o->cap.read_file, capture_error(u->cap));
    else if (capture_eof(u->cap) && !u->have_pending)
        u->eof = 1;
}

static void on_frame_locked(void *ctx, uint64_t ts, uint32_t caplen, uint32_t wirelen,
                            const uint8_t *bytes)
{
    struct ui *u = ctx;
    int old;

    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_mutex_lock(&u->lock);
    feed(u, ts, caplen, wirelen, bytes);
    pthread_mutex_unlock(&u->lock);
    pthread_setcancelstate(old, NULL);
}

/* The pipe reader: blocks in read() outside the lock; cancelled at exit. */
static void *pipe_reader(void *arg)
{
    struct ui *u = arg;
    int n;

    for (;;) {
        n = capture_dispatch(u->cap, 64, on_frame_locked, u);
        if (n < 0 || capture_eof(u->cap))
            break;
    }
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    pthread_mutex_lock(&u->lock);
    if (n < 0)
        ui_failf(u, "labmon: reading standard input failed: %s", capture_error(u->cap));
    u->eof = 1;
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

/* ---- painting ----------------------------------------------------------- */

struct attr_style {
    short fg, bg;
    attr_t color_attr; /* with colours */
    attr_t mono;       /* without */
};

static const struct attr_style styles[VIEW_A_COUNT] = {
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

static void colors_init(struct ui *u)
{
    const char *nc = getenv("NO_COLOR");

    u->color = 0;
    if ((nc && *nc) || !has_colors() || start_color() == ERR)
        return;
    use_default_colors();
    for (int i = 1; i < VIEW_A_COUNT; i++)
        init_pair((short)i, styles[i].fg, styles[i].bg);
    u->color = 1;
}

static attr_t cell_attr(const struct ui *u, uint8_t a, short *pair)
{
    int base = a & 0x7f;
    attr_t at;

    if (base >= VIEW_A_COUNT)
        base = VIEW_A_NORMAL;
    if (u->color) {
        at = styles[base].color_attr;
        *pair = (short)base;
    } else {
        at = styles[base].mono;
        *pair = 0;
    }
    if (a & VIEW_A_SELECTED)
        at ^= A_REVERSE;
    return at;
}

static void paint(struct ui *u)
{
    const struct view_screen *s = &u->scr;

    for (int y = 0; y < s->h && y < LINES; y++) {
        for (int x = 0; x < s->w && x < COLS; x++) {
            const struct view_cell *c = &s->cell[(size_t)y * s->w + x];
            short pair;
            attr_t at;
            if (c->ch == 0)
                continue; /* right half of a wide character */
            at = cell_attr(u, c->attr, &pair);
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

/* ---- ladder ------------------------------------------------------------- */

static int ladder_reserve(struct ui *u, size_t n)
{
    struct ladder_row *rows;
    struct view_ladder_line *lines;
    char *text;
    size_t cap = u->lines_cap ? u->lines_cap : 64;

    if (n <= u->lines_cap)
        return 0;
    while (cap < n)
        cap *= 2;
    rows = realloc(u->rows, cap * sizeof(*rows));
    if (!rows)
        return -1;
    u->rows = rows;
    lines = realloc(u->lines, cap * sizeof(*lines));
    if (!lines)
        return -1;
    u->lines = lines;
    text = realloc(u->text, cap * LADDER_LINE_W);
    if (!text)
        return -1;
    u->text = text;
    u->lines_cap = cap;
    return 0;
}

static uint8_t ladder_attr(const struct ladder_row *r)
{
    if (r->kind == LADDER_GAP)
        return VIEW_A_DIM;
    if (strstr(r->flags, "RST"))
        return VIEW_A_RST;
    if (r->marks & FLOW_SEG_RETRANS)
        return VIEW_A_RETRANS;
    if (r->marks & FLOW_SEG_WIN_UPDATE)
        return VIEW_A_WINUPD;
    return r->dir == FLOW_C2S ? VIEW_A_C2S : VIEW_A_S2C;
}

/* The selected connection's sequence diagram as lines (rebuilt per frame: it is live). */
static size_t ladder_lines(struct ui *u, int width)
{
    static const char gone[] = "  (this connection left the flow table)";
    struct flow *f;
    uint64_t id;
    size_t n, k = 0;

    if (!view_selected(&u->vs, &id))
        return 0;
    f = ui_flows_flow(u->flows, id);
    if (ladder_reserve(u, (f ? ladder_count(f) : 0) + 2) < 0)
        return 0;
    if (!f) {
        snprintf(u->text, LADDER_LINE_W, "%s", gone);
        u->lines[0] = (struct view_ladder_line){ u->text, VIEW_A_DIM };
        return 1;
    }
    ladder_format_header(f, width, u->text, LADDER_LINE_W);
    u->lines[k++] = (struct view_ladder_line){ u->text, VIEW_A_TITLE };
    n = ladder_build(f, u->rows, u->lines_cap - 1);
    for (size_t i = 0; i < n; i++, k++) {
        char *t = u->text + k * LADDER_LINE_W;
        ladder_format_row(f, &u->rows[i], width, t, LADDER_LINE_W);
        u->lines[k] = (struct view_ladder_line){ t, ladder_attr(&u->rows[i]) };
    }
    return k;
}

/* ---- frame -------------------------------------------------------------- */

static uint64_t view_now(const struct ui *u)
{
    if (u->live)
        return clock_ns(CLOCK_REALTIME);
    if (u->paced && !u->eof && u->cap0_ns)
        return replay_clock(u);
    return u->last_ts;
}

static void update_rate(struct ui *u, uint64_t now)
{
    if (!u->live && !u->paced) {
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

static void frame(struct ui *u)
{
    const struct view_conn *const *conns;
    const struct engine_counters *ec = engine_get_counters(u->eng);
    struct view_stats st = { 0 };
    size_t n, nl = 0;
    uint64_t now = view_now(u);

    ui_flows_sync(u->flows, engine_flows(u->eng));
    conns = ui_flows_conns(u->flows, &n);
    update_rate(u, now);
    st.iface = u->iface;
    st.filter = u->filter;
    st.live = u->live;
    st.pkts = ec->packets;
    st.drops = u->drops;
    st.bytes_per_s = u->rate;
    st.now_ns = now;
    st.origin_ns = u->live ? u->start_ns : u->first_ts;
    st.labd_running = u->labd_running;
    st.labd_pid = u->labd_pid;
    st.labd_port = u->labd_port;
    st.labd_workers = u->labd_workers;
    st.writing = u->w.f ? u->wpath : NULL;
    st.reading = !u->live && !u->eof;
    u->vs.show_pid = u->labd_seen;
    if (!u->live && u->eof && !u->paced && !u->fitted) {
        view_zoom_fit(&u->vs, u->first_ts, u->last_ts, COLS, u->vs.show_pid);
        u->fitted = 1;
    }
    if (view_screen_resize(&u->scr, COLS, LINES) < 0) {
        ui_failf(u, "labmon: out of memory for a %dx%d screen", COLS, LINES);
        return;
    }
    if (u->vs.mode == VIEW_LADDER)
        nl = ladder_lines(u, COLS);
    view_render(&u->vs, conns, n, &st, u->lines, nl, &u->scr);
    /* The ladder follows the selection the render settled on. */
    if (u->vs.mode == VIEW_LADDER) {
        size_t nl2 = ladder_lines(u, COLS);
        if (nl2 != nl)
            view_render(&u->vs, conns, n, &st, u->lines, nl2, &u->scr);
    }
    paint(u);
}

static void toggle_write(struct ui *u)
{
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;

    if (u->w.f) {
        uint64_t frames = u->w.frames;
        if (ui_pcap_close(&u->w) < 0)
            snprintf(u->vs.msg, sizeof(u->vs.msg), "writing %s failed: %s", u->wpath,
                     strerror(errno));
        else
            snprintf(u->vs.msg, sizeof(u->vs.msg), "wrote %llu packets to %s",
                     (unsigned long long)frames, u->wpath);
        return;
    }
    localtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(u->wpath, sizeof(u->wpath), "labmon-%s.pcap", stamp);
    /*
     * 262144: a replay may hold whole frames. After dropping root the
     * current directory may not be ours to write: then /tmp.
     */
    if (ui_pcap_open(&u->w, u->wpath, u->dlt, 262144) < 0 && (errno == EACCES || errno == EROFS)) {
        snprintf(u->wpath, sizeof(u->wpath), "/tmp/labmon-%s.pcap", stamp);
        ui_pcap_open(&u->w, u->wpath, u->dlt, 262144);
    }
    if (!u->w.f)
        snprintf(u->vs.msg, sizeof(u->vs.msg), "cannot write %s: %s", u->wpath, strerror(errno));
    else
        snprintf(u->vs.msg, sizeof(u->vs.msg), "writing new packets to %s ('w' stops)", u->wpath);
}

static int map_key(int rc, wint_t wc)
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

/* Returns 1 if something changed on screen. */
static int read_keys(struct ui *u)
{
    wint_t wc;
    int rc, changed = 0;

    while ((rc = get_wch(&wc)) != ERR) {
        int key;
        if (rc == KEY_CODE_YES && wc == KEY_RESIZE) {
            changed = 1;
            continue;
        }
        key = map_key(rc, wc);
        if (key < 0) {
            changed = 1;
            continue;
        }
        switch (view_key(&u->vs, key, view_now(u))) {
        case VIEW_ACT_QUIT:
            ui_stop = 1;
            return 0;
        case VIEW_ACT_TOGGLE_WRITE:
            toggle_write(u);
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

static int curses_start(struct ui *u)
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
    colors_init(u);
    view_state_init(&u->vs,
                    cs && strcmp(cs, "UTF-8") == 0 ? &view_glyphs_utf8 : &view_glyphs_ascii);
    return 0;
}

static void ui_cleanup(struct ui *u)
{
    if (u->curses_on) {
        endwin();
        u->curses_on = 0;
    }
    if (u->locked) {
        pthread_mutex_unlock(&u->lock);
        u->locked = 0;
    }
    if (u->reader_on) {
        pthread_cancel(u->reader);
        pthread_join(u->reader, NULL);
        u->reader_on = 0;
    }
    if (u->tty)
        fclose(u->tty);
    if (u->w.f)
        ui_pcap_close(&u->w);
    if (u->flows && u->eng)
        ui_flows_sync(u->flows, engine_flows(u->eng)); /* adopt rows made by on_retire */
    if (u->flows)
        ui_flows_free(u->flows);
    if (u->eng)
        engine_free(u->eng);
    if (u->cap)
        capture_close(u->cap);
    if (u->sb_open)
        sb_close(&u->sb);
    ui_pids_free(u->pids);
    view_state_free(&u->vs);
    view_screen_free(&u->scr);
    free(u->pending);
    free(u->rows);
    free(u->lines);
    free(u->text);
}

static void on_evict(void *ctx, struct flow *f)
{
    struct ui *u = ctx;

    if (u->flows)
        ui_flows_forget(u->flows, f);
}

static void on_retire(void *ctx, struct flow *f)
{
    struct ui *u = ctx;

    if (u->flows)
        ui_flows_retire(u->flows, f);
}

static int open_capture(struct ui *u, struct capture_opts *co, char *err, size_t errlen)
{
    int port;

    u->live = !co->read_file;
    if (u->live) {
        labd_poll(u);
        if (!co->filter) {
            port = u->o->port > 0 ? u->o->port : u->labd_running ? u->labd_port : 0;
            capture_default_filter(port, u->filter, sizeof(u->filter));
            co->filter = u->filter;
        } else {
            snprintf(u->filter, sizeof(u->filter), "%s", co->filter);
        }
        snprintf(u->iface, sizeof(u->iface), "%s", co->iface ? co->iface : "any");
    } else {
        snprintf(u->filter, sizeof(u->filter), "%s", co->filter ? co->filter : "");
        snprintf(u->iface, sizeof(u->iface), "%s", co->read_file);
    }
    u->cap = capture_open(co, err, errlen);
    if (!u->cap)
        return -1;
    if (capture_drop_privileges(err, errlen) < 0)
        return -1;
    u->dlt = capture_datalink(u->cap);
    return 0;
}

int ui_run(const struct ui_opts *o)
{
    struct ui u;
    struct capture_opts co = o->cap;
    struct engine_config ec = { 0 };
    struct sigaction sa = { 0 };
    struct itimerspec its = { { 0, TICK_NS }, { 0, TICK_NS } };
    char err[512];
    int tfd = -1, ticks = 0, rc = 0;

    memset(&u, 0, sizeof(u));
    u.o = o;
    ui_stop = 0;
    /* As in main.c: connections come and go by the thousand; keep freed heap for the next. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    u.piped = co.read_file && strcmp(co.read_file, "-") == 0;
    u.kbd_fd = STDIN_FILENO;
    if (u.piped && isatty(STDOUT_FILENO)) {
        u.tty = fopen("/dev/tty", "r+e");
        u.kbd_fd = u.tty ? fileno(u.tty) : -1;
    }
    if (u.kbd_fd < 0 || !isatty(u.kbd_fd) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "labmon: the interactive view needs a terminal; for scripts use "
                        "--summary, --json or --events\n");
        if (u.tty)
            fclose(u.tty);
        return 2;
    }
    pthread_mutex_init(&u.lock, NULL);
    default_run_dir(o->run_dir, u.run_dir, sizeof(u.run_dir));
    u.paced = co.read_file && o->speed > 0 && !u.piped;
    if (open_capture(&u, &co, err, sizeof(err)) < 0) {
        fprintf(stderr, "labmon: %s\n", err);
        ui_cleanup(&u);
        return 1;
    }
    ec.max_flows = o->max_flows;
    ec.seglog_cap = SEGLOG_CAP;
    ec.on_evict = on_evict;
    ec.evict_ctx = &u;
    /* Closed connections keep their rows; their HTTP parsers are freed after a quiet while. */
    ec.retire_closed_ns = RETIRE_NS;
    ec.on_retire = on_retire;
    ec.retire_ctx = &u;
    u.eng = engine_new(&ec);
    u.flows = ui_flows_new();
    u.pids = ui_pids_new();
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!u.eng || !u.flows || !u.pids || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
        fprintf(stderr, "labmon: cannot start: %s\n",
                u.eng && u.flows && u.pids ? strerror(errno) : "out of memory");
        rc = 1;
        goto done;
    }
    ui_flows_set_pid_lookup(u.flows, ui_pid, &u);
    u.start_ns = clock_ns(CLOCK_REALTIME);

    sa.sa_handler = on_stop; /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (curses_start(&u) < 0) {
        fprintf(stderr, "labmon: cannot initialise the terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        rc = 1;
        goto done;
    }
    pthread_mutex_lock(&u.lock);
    u.locked = 1;
    if (u.piped) {
        if (pthread_create(&u.reader, NULL, pipe_reader, &u) != 0) {
            ui_failf(&u, "labmon: cannot start the reader: %s", strerror(errno));
            goto done;
        }
        u.reader_on = 1;
    }
    frame(&u);

    while (!ui_stop) {
        struct pollfd pfd[3];
        int nfd = 0, timeout = -1, capi = -1, redraw = 0;

        pfd[nfd++] = (struct pollfd){ .fd = u.kbd_fd, .events = POLLIN };
        pfd[nfd++] = (struct pollfd){ .fd = tfd, .events = POLLIN };
        if (u.live && capture_fd(u.cap) >= 0) {
            capi = nfd;
            pfd[nfd++] = (struct pollfd){ .fd = capture_fd(u.cap), .events = POLLIN };
        }
        if (!u.live && !u.eof && !u.piped)
            timeout = u.paced ? 10 : 0;
        pthread_mutex_unlock(&u.lock); /* the pipe reader runs while we wait */
        u.locked = 0;
        rc = poll(pfd, (nfds_t)nfd, timeout);
        pthread_mutex_lock(&u.lock);
        u.locked = 1;
        if (rc < 0 && errno != EINTR) {
            ui_failf(&u, "labmon: poll: %s", strerror(errno));
            break;
        }
        rc = 0;
        if (ui_stop)
            break;
        if ((!u.live && !u.piped) || (capi >= 0 && (pfd[capi].revents & (POLLIN | POLLERR))))
            read_capture(&u);
        if (pfd[0].revents & (POLLHUP | POLLERR)) {
            ui_failf(&u, "labmon: the terminal went away");
            break;
        }
        /* Always: a SIGWINCH interrupts poll() and shows up as KEY_RESIZE here. */
        redraw = read_keys(&u);
        if (pfd[1].revents & POLLIN) {
            uint64_t expirations;
            if (read(tfd, &expirations, sizeof(expirations)) > 0) {
                redraw = 1;
                if (ticks++ % 10 == 0) {
                    uint64_t recv, drop, ifdrop;
                    if (u.live)
                        labd_poll(&u);
                    if (u.live && capture_stats(u.cap, &recv, &drop, &ifdrop) == 0)
                        u.drops = drop + ifdrop;
                    if (u.w.f)
                        fflush(u.w.f);
                }
            }
        }
        if (redraw && !ui_stop)
            frame(&u);
    }
done:
    if (tfd >= 0)
        close(tfd);
    if (u.fail[0])
        rc = 1;
    ui_cleanup(&u);
    if (u.fail[0])
        fprintf(stderr, "%s\n", u.fail);
    return rc;
}
