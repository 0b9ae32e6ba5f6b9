/*
 * labmon's view model: connections + view state -> a screen of cells.
 * Everything here is pure so that the waterfall, the ladder page and the help
 * page can be tested as text, and benchmarked, without a terminal.
 */
#include "monitor/view.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct view_glyphs view_glyphs_ascii = {
    .handshake = '=',
    .wait = '.',
    .data = '#',
    .idle = '-',
    .teardown = '~',
    .fin = '|',
    .rst = 'X',
    .retrans = '!',
    .winupd = 'w',
    .arrow = "->",
    .ellipsis = "..",
    .arrow_w = 2,
    .ellipsis_w = 2,
};

const struct view_glyphs view_glyphs_utf8 = {
    .handshake = 0x2550, /* ═ */
    .wait = 0x00b7,      /* · */
    .data = 0x2588,      /* █ */
    .idle = 0x2500,      /* ─ */
    .teardown = 0x2504,  /* ┄ */
    .fin = 0x2524,       /* ┤ */
    .rst = 'X',
    .retrans = '!',
    .winupd = 'w',
    .arrow = "\xe2\x86\x92",    /* → */
    .ellipsis = "\xe2\x80\xa6", /* … */
    .arrow_w = 1,
    .ellipsis_w = 1,
};

/* Zoom levels: 1-2-5 steps from 1 us to 100 s per column. */
static const uint64_t zoom_ns[] = {
    1000ULL,       2000ULL,        5000ULL,        10000ULL,       20000ULL,
    50000ULL,      100000ULL,      200000ULL,      500000ULL,      1000000ULL,
    2000000ULL,    5000000ULL,     10000000ULL,    20000000ULL,    50000000ULL,
    100000000ULL,  200000000ULL,   500000000ULL,   1000000000ULL,  2000000000ULL,
    5000000000ULL, 10000000000ULL, 20000000000ULL, 50000000000ULL, 100000000000ULL,
};
#define ZOOM_COUNT   ((int)(sizeof(zoom_ns) / sizeof(zoom_ns[0])))
#define ZOOM_DEFAULT 17 /* 500 ms per column: a 5 s keep-alive and its close fit at 80x24 */

static const char *const sort_names[VIEW_SORT_COUNT] = {
    "start", "bytes", "pkts", "duration", "rtt", "state", "port", "pid",
};

/* ---- connection builders ---------------------------------------------- */

/*
 * Record payload at ts: extend the last span when the gap is small, else
 * open a new one; when full, merge the two spans closest in time so that the
 * list stays bounded and still covers every byte's time.
 */
void view_conn_add_data(struct view_conn *c, uint64_t ts_ns, uint64_t merge_gap_ns)
{
    struct view_span *last = c->nspan ? &c->span[c->nspan - 1] : NULL;

    if (last && ts_ns >= last->start_ns && ts_ns <= last->end_ns + merge_gap_ns) {
        if (ts_ns > last->end_ns)
            last->end_ns = ts_ns;
        return;
    }
    if (last && ts_ns < last->start_ns) { /* out of order: widen the last span */
        last->start_ns = ts_ns;
        return;
    }
    if (c->nspan == VIEW_SPAN_MAX) {
        int best = 0;
        uint64_t best_gap = UINT64_MAX;
        for (int i = 0; i + 1 < c->nspan; i++) {
            uint64_t gap = c->span[i + 1].start_ns - c->span[i].end_ns;
            if (gap < best_gap) {
                best_gap = gap;
                best = i;
            }
        }
        c->span[best].end_ns = c->span[best + 1].end_ns;
        memmove(&c->span[best + 1], &c->span[best + 2],
                (size_t)(c->nspan - best - 2) * sizeof(c->span[0]));
        c->nspan--;
    }
    c->span[c->nspan].start_ns = ts_ns;
    c->span[c->nspan].end_ns = ts_ns;
    c->nspan++;
}

/* Marks beyond the capacity replace the newest one: the bar keeps the first and the latest. */
void view_conn_add_mark(struct view_conn *c, uint64_t ts_ns, enum view_mark_kind kind)
{
    int i = c->nmark < VIEW_MARK_MAX ? c->nmark++ : VIEW_MARK_MAX - 1;

    c->mark[i].ts_ns = ts_ns;
    c->mark[i].kind = (uint8_t)kind;
}

/* Requests beyond the capacity are only counted. */
struct view_req *view_conn_add_req(struct view_conn *c, const char *method, const char *uri,
                                   uint64_t req_ns)
{
    struct view_req *r;

    c->nreq_total++;
    if (c->nreq >= VIEW_REQ_MAX)
        return NULL;
    r = &c->req[c->nreq++];
    memset(r, 0, sizeof(*r));
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->uri, sizeof(r->uri), "%s", uri);
    r->req_ns = req_ns;
    return r;
}

/* ---- screen and text --------------------------------------------------- */

int view_screen_resize(struct view_screen *s, int w, int h)
{
    struct view_cell *cell;

    if (w < 1 || h < 1)
        return -1;
    if (s->cell && s->w == w && s->h == h)
        return 0;
    cell = calloc((size_t)w * (size_t)h, sizeof(*cell));
    if (!cell)
        return -1;
    free(s->cell);
    s->cell = cell;
    s->w = w;
    s->h = h;
    return 0;
}

void view_screen_free(struct view_screen *s)
{
    free(s->cell);
    s->cell = NULL;
    s->w = s->h = 0;
}

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t view_screen_line(const struct view_screen *s, int y, char *buf, size_t size)
{
    size_t len = 0, keep = 0;

    if (size == 0)
        return 0;
    if (y >= 0 && y < s->h) {
        for (int x = 0; x < s->w; x++) {
            uint32_t cp = s->cell[(size_t)y * s->w + x].ch;
            if (cp == 0)
                continue;
            if (len + 4 >= size)
                break;
            len += utf8_put(buf + len, cp);
            if (cp != ' ')
                keep = len;
        }
    }
    buf[keep] = '\0';
    return keep;
}

/* Decode one UTF-8 character; invalid input yields U+FFFD and advances one byte. */
static uint32_t utf8_next(const char **sp)
{
    const unsigned char *s = (const unsigned char *)*sp;
    uint32_t cp;
    int n;

    if (s[0] < 0x80) {
        *sp += 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        cp = s[0] & 0x1f;
        n = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        cp = s[0] & 0x0f;
        n = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        cp = s[0] & 0x07;
        n = 3;
    } else {
        *sp += 1;
        return 0xfffd;
    }
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *sp += 1;
            return 0xfffd;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        *sp += 1;
        return 0xfffd;
    }
    *sp += n + 1;
    return cp;
}

/* Display width without the locale: East Asian wide ranges are 2. */
static int cp_width(uint32_t cp)
{
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
        (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

/* Control characters never reach the terminal. */
static uint32_t cp_safe(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
        return '?';
    return cp;
}

static int text_width(const char *s)
{
    int w = 0;

    while (*s)
        w += cp_width(cp_safe(utf8_next(&s)));
    return w;
}

struct pen {
    struct view_screen *s;
    int y, x, end; /* writes stop before column end */
    uint8_t attr;
};

static void pen_cp(struct pen *p, uint32_t cp)
{
    int w;
    struct view_cell *row;

    cp = cp_safe(cp);
    w = cp_width(cp);
    if (p->y < 0 || p->y >= p->s->h || p->x + w > p->end || p->x < 0)
        return;
    row = &p->s->cell[(size_t)p->y * p->s->w];
    row[p->x].ch = cp;
    row[p->x].attr = p->attr;
    if (w == 2) {
        row[p->x + 1].ch = 0;
        row[p->x + 1].attr = p->attr;
    }
    p->x += w;
}

static void pen_str(struct pen *p, const char *s)
{
    while (*s && p->x < p->end) {
        uint32_t cp = utf8_next(&s);
        if (p->x + cp_width(cp_safe(cp)) > p->end)
            break;
        pen_cp(p, cp);
    }
}

static void pen_fill(struct pen *p, uint32_t cp, int n)
{
    for (int i = 0; i < n && p->x < p->end; i++)
        pen_cp(p, cp);
}

/* Write s into at most w columns, ending with the ellipsis when cut. */
static void pen_trunc(struct pen *p, const char *s, int w, const struct view_glyphs *g)
{
    int end = p->end;

    if (text_width(s) <= w) {
        if (p->x + w < end)
            p->end = p->x + w;
        pen_str(p, s);
        p->end = end;
        return;
    }
    if (w <= g->ellipsis_w) {
        if (p->x + w < end)
            p->end = p->x + w;
        pen_str(p, s);
        p->end = end;
        return;
    }
    if (p->x + w - g->ellipsis_w < end)
        p->end = p->x + w - g->ellipsis_w;
    pen_str(p, s);
    p->end = end;
    pen_str(p, g->ellipsis);
}

/* Right-align s in w columns. */
static void pen_right(struct pen *p, const char *s, int w)
{
    int tw = text_width(s);

    if (tw < w)
        pen_fill(p, ' ', w - tw);
    pen_str(p, s);
}

/*
 * Write s into at most w columns keeping its end (the file name of a URI,
 * the port of an address): "/cn/…/Lab2.html", "…:1]:54321".
 */
static void pen_keep_tail(struct pen *p, const char *s, int w, int headw,
                          const struct view_glyphs *g)
{
    uint32_t cps[VIEW_URI_MAX * 2];
    int n = 0, total = 0, tail_start, tailw = 0, head;

    if (text_width(s) <= w) {
        pen_str(p, s);
        return;
    }
    while (*s && n < (int)(sizeof(cps) / sizeof(cps[0]))) {
        cps[n] = cp_safe(utf8_next(&s));
        total += cp_width(cps[n]);
        n++;
    }
    if (headw > (w - g->ellipsis_w) / 2)
        headw = (w - g->ellipsis_w) / 2;
    if (headw < 0)
        headw = 0;
    /* Prefer the whole last path segment ("/Lab2.html") when it fits. */
    for (tail_start = n; tail_start > 0 && cps[tail_start - 1] != '/'; tail_start--)
        tailw += cp_width(cps[tail_start - 1]);
    if (tail_start > 1 && tailw + 1 <= w - g->ellipsis_w - 1) {
        tail_start--;
        tailw++;
    } else {
        tail_start = n;
        tailw = 0;
        while (tail_start > 0 &&
               tailw + cp_width(cps[tail_start - 1]) <= w - g->ellipsis_w - headw) {
            tail_start--;
            tailw += cp_width(cps[tail_start]);
        }
    }
    head = w - g->ellipsis_w - tailw;
    for (int i = 0, hw = 0; i < tail_start && hw + cp_width(cps[i]) <= head; i++) {
        hw += cp_width(cps[i]);
        pen_cp(p, cps[i]);
    }
    pen_str(p, g->ellipsis);
    for (int i = tail_start; i < n; i++)
        pen_cp(p, cps[i]);
    (void)total;
}

static void screen_clear(struct view_screen *s)
{
    for (size_t i = 0; i < (size_t)s->w * s->h; i++) {
        s->cell[i].ch = ' ';
        s->cell[i].attr = VIEW_A_NORMAL;
    }
}

static void line_attr(struct view_screen *s, int y, uint8_t attr)
{
    for (int x = 0; x < s->w; x++)
        s->cell[(size_t)y * s->w + x].attr = attr;
}

/* ---- formatting --------------------------------------------------------- */

static const char *const state_short[VIEW_ST_COUNT] = {
    "?", "SS", "SR", "EST", "FW1", "FW2", "CLG", "TW", "CW", "LA", "CL",
};
static const char *const state_wide[VIEW_ST_COUNT] = {
    "?",       "SYN_SNT", "SYN_RCV", "ESTAB",   "FIN_WT1", "FIN_WT2",
    "CLOSING", "TIME_WT", "CLOS_WT", "LAST_AK", "CLOSED",
};
static const char *const state_full[VIEW_ST_COUNT] = {
    "NONE",    "SYN_SENT",  "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
    "CLOSING", "TIME_WAIT", "CLOSE_WAIT",   "LAST_ACK",    "CLOSED",
};

const char *view_state_code(enum view_tcp_state st, int wide)
{
    if ((unsigned)st >= VIEW_ST_COUNT)
        st = VIEW_ST_NONE;
    return wide ? state_wide[st] : state_short[st];
}

size_t view_format_bytes(char *buf, size_t size, uint64_t n)
{
    static const char units[] = "KMGTP";
    double v = (double)n;
    int u = -1;
    int len;

    if (n < 1000) {
        len = snprintf(buf, size, "%llu", (unsigned long long)n);
        return len < 0 ? 0 : (size_t)len;
    }
    while (v >= 999.5 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (v < 9.95)
        len = snprintf(buf, size, "%.1f%c", v, units[u]);
    else
        len = snprintf(buf, size, "%.0f%c", v, units[u]);
    return len < 0 ? 0 : (size_t)len;
}

size_t view_format_duration(char *buf, size_t size, int64_t ns)
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t a = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    double v;
    int len;

    if (a < 1000) {
        len = snprintf(buf, size, "%s%lluns", sign, (unsigned long long)a);
    } else if (a < 1000000) {
        v = (double)a / 1e3;
        len = snprintf(buf, size, v < 9.95 ? "%s%.1fus" : "%s%.0fus", sign, v);
    } else if (a < 1000000000) {
        v = (double)a / 1e6;
        len = snprintf(buf, size, v < 9.95 ? "%s%.1fms" : "%s%.0fms", sign, v);
    } else if (a < 3600000000000ULL) {
        v = (double)a / 1e9;
        len = snprintf(buf, size, v < 99.95 ? "%s%.1fs" : "%s%.0fs", sign, v);
    } else {
        uint64_t m = a / 60000000000ULL;
        len = snprintf(buf, size, "%s%lluh%02llum", sign, (unsigned long long)(m / 60),
                       (unsigned long long)(m % 60));
    }
    return len < 0 ? 0 : (size_t)len;
}

static void format_addr(char *buf, size_t size, int family, const uint8_t *a, uint16_t port)
{
    char ip[INET6_ADDRSTRLEN];

    if (family == 6) {
        inet_ntop(AF_INET6, a, ip, sizeof(ip));
        snprintf(buf, size, "[%s]:%u", ip, port);
    } else {
        snprintf(buf, size, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
    }
}

static void format_ip(char *buf, size_t size, int family, const uint8_t *a)
{
    if (family == 6)
        inet_ntop(AF_INET6, a, buf, (socklen_t)size);
    else
        snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Percent-decode a URI for display ("/cn/%E9%9F%B3.mp3" -> "/cn/音.mp3") when
 * the result is valid UTF-8 without control characters; otherwise keep it.
 */
static void uri_display(char *out, size_t size, const char *uri)
{
    size_t n = 0;
    const char *s;
    int changed = 0;

    for (s = uri; *s && n + 1 < size; s++) {
        int hi, lo;
        if (s[0] == '%' && (hi = hexval((unsigned char)s[1])) >= 0 &&
            (lo = hexval((unsigned char)s[2])) >= 0) {
            out[n++] = (char)(hi * 16 + lo);
            s += 2;
            changed = 1;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    if (!changed)
        return;
    for (s = out; *s;) {
        uint32_t cp = utf8_next(&s);
        if (cp == 0xfffd || cp_safe(cp) != cp) {
            snprintf(out, size, "%s", uri);
            return;
        }
    }
}

/* ---- filter ------------------------------------------------------------- */

enum term_kind { T_PORT = 1, T_ADDR, T_STATE, T_PID, T_STATUS, T_URI };

#define ST_BIT(s) (1u << (s))
#define T_OPEN    (1u << 24) /* pseudo-states in view_term.states */
#define T_FIN     (1u << 25)
#define T_RST     (1u << 26)
#define T_CLOSEDX (1u << 27)

static const struct {
    const char *name;
    uint32_t bits;
} state_words[] = {
    { "est", ST_BIT(VIEW_ST_ESTABLISHED) },
    { "estab", ST_BIT(VIEW_ST_ESTABLISHED) },
    { "established", ST_BIT(VIEW_ST_ESTABLISHED) },
    { "syn", ST_BIT(VIEW_ST_SYN_SENT) | ST_BIT(VIEW_ST_SYN_RECEIVED) },
    { "ss", ST_BIT(VIEW_ST_SYN_SENT) },
    { "syn_sent", ST_BIT(VIEW_ST_SYN_SENT) },
    { "sr", ST_BIT(VIEW_ST_SYN_RECEIVED) },
    { "syn_received", ST_BIT(VIEW_ST_SYN_RECEIVED) },
    { "fw1", ST_BIT(VIEW_ST_FIN_WAIT_1) },
    { "fin_wait_1", ST_BIT(VIEW_ST_FIN_WAIT_1) },
    { "fw2", ST_BIT(VIEW_ST_FIN_WAIT_2) },
    { "fin_wait_2", ST_BIT(VIEW_ST_FIN_WAIT_2) },
    { "clg", ST_BIT(VIEW_ST_CLOSING) },
    { "closing", ST_BIT(VIEW_ST_CLOSING) },
    { "tw", ST_BIT(VIEW_ST_TIME_WAIT) },
    { "time_wait", ST_BIT(VIEW_ST_TIME_WAIT) },
    { "cw", ST_BIT(VIEW_ST_CLOSE_WAIT) },
    { "close_wait", ST_BIT(VIEW_ST_CLOSE_WAIT) },
    { "la", ST_BIT(VIEW_ST_LAST_ACK) },
    { "last_ack", ST_BIT(VIEW_ST_LAST_ACK) },
    { "cl", T_CLOSEDX },
    { "closed", T_CLOSEDX },
    { "open", T_OPEN },
    { "fin", T_FIN },
    { "rst", T_RST },
    { "reset", T_RST },
};

static uint32_t state_word(const char *w)
{
    for (size_t i = 0; i < sizeof(state_words) / sizeof(state_words[0]); i++)
        if (strcasecmp(w, state_words[i].name) == 0)
            return state_words[i].bits;
    return 0;
}

static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!isdigit((unsigned char)*s))
        return -1;
    v = strtoul(s, &end, 10);
    if (*end || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int looks_like_addr(const char *s)
{
    int dots = 0, colons = 0;

    for (; *s; s++) {
        if (*s == '.')
            dots++;
        else if (*s == ':')
            colons++;
        else if (!isxdigit((unsigned char)*s))
            return 0;
    }
    return dots > 0 || colons > 1;
}

static int term_value(struct view_term *t, const char *key, const char *v, char *err, size_t errlen)
{
    if (strlen(v) >= sizeof(t->text)) {
        snprintf(err, errlen, "filter: '%.20s...' is too long", v);
        return -1;
    }
    snprintf(t->text, sizeof(t->text), "%s", v);
    switch (t->kind) {
    case T_PORT:
        if (parse_uint(v, 65535, &t->num) == 0)
            return 0;
        snprintf(err, errlen, "filter: %s needs a port number, not '%s'", key, v);
        return -1;
    case T_PID:
        if (parse_uint(v, 0x7fffffff, &t->num) == 0)
            return 0;
        snprintf(err, errlen, "filter: pid needs a number, not '%s'", v);
        return -1;
    case T_STATUS:
        if (strlen(v) == 3 && v[0] >= '1' && v[0] <= '5' && tolower((unsigned char)v[1]) == 'x' &&
            tolower((unsigned char)v[2]) == 'x') {
            t->num = (uint32_t)(v[0] - '0');
            return 0;
        }
        if (parse_uint(v, 999, &t->num) == 0 && t->num >= 100)
            return 0;
        snprintf(err, errlen, "filter: status needs a code like 304 or 2xx, not '%s'", v);
        return -1;
    case T_STATE:
        t->states = state_word(v);
        if (t->states)
            return 0;
        snprintf(err, errlen, "filter: unknown state '%s' (try est, tw, fin, rst, open)", v);
        return -1;
    default:
        return 0;
    }
}

int view_filter_parse(struct view_filter *f, const char *text, char *err, size_t errlen)
{
    static const struct {
        const char *key;
        uint8_t kind;
    } keys[] = {
        { "port", T_PORT }, { "addr", T_ADDR },     { "host", T_ADDR }, { "state", T_STATE },
        { "pid", T_PID },   { "status", T_STATUS }, { "uri", T_URI },
    };
    char buf[VIEW_FILTER_TEXT];
    char *save = NULL, *tok;
    struct view_filter nf;

    memset(&nf, 0, sizeof(nf));
    if (strlen(text) >= sizeof(buf)) {
        snprintf(err, errlen, "filter: too long");
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", text);
    for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        struct view_term *t;
        const char *val = NULL;
        char *eq;
        int neg = 0;

        if (nf.nterms == VIEW_FILTER_TERMS) {
            snprintf(err, errlen, "filter: at most %d terms", VIEW_FILTER_TERMS);
            return -1;
        }
        t = &nf.term[nf.nterms];
        while (*tok == '!') {
            neg = !neg;
            tok++;
        }
        if (!*tok) {
            snprintf(err, errlen, "filter: '!' needs a term after it");
            return -1;
        }
        t->neg = (uint8_t)neg;
        eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            if (strcasecmp(tok, keys[k].key) == 0) {
                t->kind = keys[k].kind;
                break;
            }
        }
        if (t->kind) {
            val = eq ? eq + 1 : strtok_r(NULL, " \t", &save);
            if (!val || !*val) {
                snprintf(err, errlen, "filter: '%s' needs a value", tok);
                return -1;
            }
            if (term_value(t, tok, val, err, errlen) < 0)
                return -1;
        } else {
            if (eq)
                *eq = '=';
            if (parse_uint(tok, 65535, &t->num) == 0)
                t->kind = T_PORT;
            else if ((t->states = state_word(tok)) != 0)
                t->kind = T_STATE;
            else if (looks_like_addr(tok))
                t->kind = T_ADDR;
            else
                t->kind = T_URI;
            if (term_value(t, tok, tok, err, errlen) < 0)
                return -1;
        }
        nf.nterms++;
    }
    *f = nf;
    return 0;
}

static int ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    int first = tolower((unsigned char)needle[0]);

    if (n == 0)
        return 1;
    for (; *hay; hay++)
        if (tolower((unsigned char)*hay) == first && strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int term_match(const struct view_term *t, const struct view_conn *c)
{
    char buf[VIEW_URI_MAX * 2];

    switch (t->kind) {
    case T_PORT:
        return c->cport == t->num || c->sport == t->num;
    case T_PID:
        return c->pid > 0 && (uint32_t)c->pid == t->num;
    case T_ADDR:
        format_ip(buf, sizeof(buf), c->family, c->caddr);
        if (strncasecmp(buf, t->text, strlen(t->text)) == 0)
            return 1;
        format_ip(buf, sizeof(buf), c->family, c->saddr);
        return strncasecmp(buf, t->text, strlen(t->text)) == 0;
    case T_STATE: {
        int closed = c->end != VIEW_END_OPEN;
        if ((t->states & T_OPEN) && !closed)
            return 1;
        if ((t->states & T_CLOSEDX) &&
            (closed || (c->cstate == VIEW_ST_CLOSED && c->sstate == VIEW_ST_CLOSED)))
            return 1;
        if ((t->states & T_FIN) && (c->fin_ns || c->end == VIEW_END_FIN))
            return 1;
        if ((t->states & T_RST) && c->end == VIEW_END_RST)
            return 1;
        return (t->states & (ST_BIT(c->cstate) | ST_BIT(c->sstate))) != 0;
    }
    case T_STATUS:
        for (int i = 0; i < c->nreq; i++) {
            int s = c->req[i].status;
            if (t->num < 10 ? s / 100 == (int)t->num : s == (int)t->num)
                return 1;
        }
        return 0;
    case T_URI:
        for (int i = 0; i < c->nreq; i++) {
            if (ci_contains(c->req[i].uri, t->text) || ci_contains(c->req[i].method, t->text))
                return 1;
            if (!strchr(c->req[i].uri, '%'))
                continue;
            uri_display(buf, sizeof(buf), c->req[i].uri);
            if (ci_contains(buf, t->text))
                return 1;
        }
        return 0;
    }
    return 0;
}

int view_filter_match(const struct view_filter *f, const struct view_conn *c)
{
    for (int i = 0; i < f->nterms; i++)
        if (term_match(&f->term[i], c) == f->term[i].neg)
            return 0;
    return 1;
}

/* ---- state, zoom, layout ---------------------------------------------- */

void view_state_init(struct view_state *vs, const struct view_glyphs *g)
{
    memset(vs, 0, sizeof(*vs));
    vs->glyphs = g ? g : &view_glyphs_ascii;
    vs->zoom = ZOOM_DEFAULT;
    vs->follow = 1;
    vs->sel = -1;
}

void view_state_free(struct view_state *vs)
{
    free(vs->order);
    free(vs->order_id);
    free(vs->sort_items);
    vs->order = NULL;
    vs->order_id = NULL;
    vs->sort_items = NULL;
    vs->cap = 0;
}

uint64_t view_ns_per_col(const struct view_state *vs)
{
    int z = vs->zoom < 0 ? 0 : vs->zoom >= ZOOM_COUNT ? ZOOM_COUNT - 1 : vs->zoom;
    return zoom_ns[z];
}

struct layout {
    int client_x, client_w, pid_x, pid_w, state_x, state_w, req_x, req_w;
    int bytes_x, bytes_w, pkts_x, pkts_w, rtt_x, rtt_w, bar_x, bar_w;
    int wide;
    char common[48]; /* all shown clients share this address: rows show ":port" */
};

/*
 * Columns for a w-wide screen. 80 columns keep the essentials (client,
 * worker, states, requests, bytes and the bar); packets and RTT join from
 * 100 columns; wider screens give the requests and the bar the rest.
 */
static void layout_compute(struct layout *L, int w, int show_pid, int client_w)
{
    int x = 1, rest;
    int tier = w >= 140 ? 2 : w >= 100 ? 1 : 0;
    int cap = tier == 0 ? 21 : tier == 1 ? 27 : 47;

    memset(L, 0, sizeof(*L));
    L->wide = tier == 2;
    if (client_w < 6)
        client_w = 6;
    if (client_w > cap)
        client_w = cap;
    if (w < 80 && client_w > 15)
        client_w = 15;
    L->client_x = x;
    L->client_w = client_w;
    x += client_w + 1;
    if (show_pid) {
        L->pid_x = x;
        L->pid_w = 7;
        x += 8;
    }
    L->state_x = x;
    L->state_w = L->wide ? 15 : 7;
    x += L->state_w + 1;
    L->req_x = x;
    rest = w - x - 10; /* bytes column */
    if (tier >= 1)
        rest -= 14; /* packets and RTT */
    if (rest < 20)
        rest = 20;
    L->req_w = rest / 2 > 60 ? 60 : rest / 2; /* the bar takes what is left */
    x += L->req_w + 1;
    L->bytes_x = x;
    L->bytes_w = 9;
    x += 10;
    if (tier >= 1) {
        L->pkts_x = x;
        L->pkts_w = 6;
        x += 7;
        L->rtt_x = x;
        L->rtt_w = 6;
        x += 7;
    }
    L->bar_x = x;
    L->bar_w = w - x;
    if (L->bar_w < 0)
        L->bar_w = 0;
}

int view_bar_width(int w, int show_pid)
{
    struct layout L;

    layout_compute(&L, w, show_pid, 15);
    return L.bar_w;
}

void view_zoom_fit(struct view_state *vs, uint64_t first_ns, uint64_t last_ns, int w, int show_pid)
{
    int bw = view_bar_width(w, show_pid);
    uint64_t span = last_ns > first_ns ? last_ns - first_ns : 0;

    if (bw < 1)
        bw = 1;
    for (vs->zoom = 0; vs->zoom < ZOOM_COUNT - 1; vs->zoom++)
        if (zoom_ns[vs->zoom] * (uint64_t)(bw - 1) >= span)
            break;
}

static void format_scale(char *buf, size_t size, uint64_t ns)
{
    view_format_duration(buf, size, (int64_t)ns);
}

/* ---- sorting ------------------------------------------------------------ */

static uint64_t conn_duration(const struct view_conn *c)
{
    uint64_t end = c->end_ns ? c->end_ns : c->last_ns;
    return end > c->first_ns ? end - c->first_ns : 0;
}

/*
 * The sort as one ascending key per connection (largest-first sorts store
 * the complement); ties go by first packet, then id: a stable order that
 * does not jump around between frames. Sorting precomputed keys keeps a
 * 10 000-row frame well under the 5 ms budget.
 */
static uint64_t sort_key(const struct view_conn *c, enum view_sort s)
{
    switch (s) {
    case VIEW_SORT_BYTES:
        return ~(c->bytes_c2s + c->bytes_s2c);
    case VIEW_SORT_PKTS:
        return ~(c->pkts_c2s + c->pkts_s2c);
    case VIEW_SORT_DURATION:
        return ~conn_duration(c);
    case VIEW_SORT_RTT:
        return ~(uint64_t)(c->rtt_ns < 0 ? 0 : c->rtt_ns);
    case VIEW_SORT_STATE:
        return (uint64_t)c->cstate << 8 | c->sstate;
    case VIEW_SORT_PORT:
        return c->cport;
    case VIEW_SORT_PID:
        return (uint64_t)(c->pid < 0 ? 0 : c->pid);
    default:
        return c->first_ns;
    }
}

struct view_sort_item {
    uint64_t key, first, id;
    uint32_t idx;
};

static int sort_item_cmp(const void *pa, const void *pb)
{
    const struct view_sort_item *a = pa, *b = pb;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int order_grow(struct view_state *vs, size_t n)
{
    uint32_t *o;
    uint64_t *id;
    struct view_sort_item *it;
    size_t cap = vs->cap ? vs->cap : 64;

    if (n <= vs->cap)
        return 0;
    while (cap < n)
        cap *= 2;
    o = realloc(vs->order, cap * sizeof(*o));
    if (!o)
        return -1;
    vs->order = o;
    id = realloc(vs->order_id, cap * sizeof(*id));
    if (!id)
        return -1;
    vs->order_id = id;
    it = realloc(vs->sort_items, cap * sizeof(*it));
    if (!it)
        return -1;
    vs->sort_items = it;
    vs->cap = cap;
    return 0;
}

/* Filter, hide cleared rows, sort; fills vs->order and vs->nshown. */
static void build_order(struct view_state *vs, const struct view_conn *const *conns, size_t n)
{
    struct view_sort_item *it;
    size_t k = 0;
    int sorted = 1;

    if (order_grow(vs, n) < 0)
        n = vs->cap;
    it = vs->sort_items;
    for (size_t i = 0; i < n; i++) {
        const struct view_conn *c = conns[i];
        if (vs->clear_ns && c->end != VIEW_END_OPEN && c->end_ns <= vs->clear_ns)
            continue;
        if (vs->filter.nterms && !view_filter_match(&vs->filter, c))
            continue;
        it[k] = (struct view_sort_item){ sort_key(c, vs->sort), c->first_ns, c->id, (uint32_t)i };
        if (k && sorted && sort_item_cmp(&it[k - 1], &it[k]) > 0)
            sorted = 0;
        k++;
    }
    if (!sorted)
        qsort(it, k, sizeof(it[0]), sort_item_cmp);
    for (size_t i = 0; i < k; i++) {
        vs->order[i] = it[i].idx;
        vs->order_id[i] = it[i].id;
    }
    vs->nshown = k;
}

/* Place the selection and the scroll offset after the list changed. */
static void place_selection(struct view_state *vs, int rows)
{
    int n = (int)vs->nshown;

    if (n == 0) {
        vs->sel = -1;
        vs->top = 0;
        return;
    }
    if (vs->follow && vs->sort == VIEW_SORT_START) {
        vs->sel = n - 1;
    } else {
        int found = -1;
        if (vs->sel >= 0 && vs->sel < n && vs->order_id[vs->sel] == vs->sel_id)
            found = vs->sel;
        for (int i = 0; found < 0 && i < n; i++)
            if (vs->order_id[i] == vs->sel_id)
                found = i;
        if (found >= 0)
            vs->sel = found;
        else if (vs->sel >= n)
            vs->sel = n - 1;
        else if (vs->sel < 0)
            vs->sel = n - 1;
    }
    vs->sel_id = vs->order_id[vs->sel];
    if (rows < 1)
        rows = 1;
    if (vs->sel < vs->top)
        vs->top = vs->sel;
    if (vs->sel >= vs->top + rows)
        vs->top = vs->sel - rows + 1;
    if (vs->top > n - rows)
        vs->top = n - rows > 0 ? n - rows : 0;
    if (vs->top < 0)
        vs->top = 0;
}

int view_selected(const struct view_state *vs, uint64_t *id)
{
    if (vs->sel < 0 || (size_t)vs->sel >= vs->nshown)
        return 0;
    *id = vs->sel_id;
    return 1;
}

/* ---- waterfall ---------------------------------------------------------- */

struct axis {
    uint64_t a0, ns; /* time of column 0, ns per column */
    int w;
    uint64_t now;
};

static int overlaps(uint64_t s, uint64_t e, uint64_t t0, uint64_t t1)
{
    return s < t1 && e >= t0;
}

/* What a connection was doing during [t0, t1): the most telling phase wins. */
static enum view_attr bar_phase(const struct view_conn *c, uint64_t t0, uint64_t t1, uint64_t now)
{
    uint64_t tend = c->end_ns ? c->end_ns : (now > c->last_ns ? now : c->last_ns);

    if (t1 <= c->first_ns || t0 > tend)
        return VIEW_A_NORMAL;
    if (c->end_ns && c->end_ns >= t0 && c->end_ns < t1)
        return c->end == VIEW_END_RST ? VIEW_A_RST : VIEW_A_FIN;
    for (int i = 0; i < c->nmark; i++)
        if (c->mark[i].ts_ns >= t0 && c->mark[i].ts_ns < t1 && c->mark[i].kind == VIEW_MARK_RETRANS)
            return VIEW_A_RETRANS;
    for (int i = 0; i < c->nmark; i++)
        if (c->mark[i].ts_ns >= t0 && c->mark[i].ts_ns < t1 && c->mark[i].kind == VIEW_MARK_WINUPD)
            return VIEW_A_WINUPD;
    for (int i = 0; i < c->nspan; i++)
        if (overlaps(c->span[i].start_ns, c->span[i].end_ns, t0, t1))
            return VIEW_A_DATA;
    if (c->syn_ns && overlaps(c->syn_ns, c->est_ns ? c->est_ns : tend, t0, t1))
        return VIEW_A_HANDSHAKE;
    for (int i = 0; i < c->nreq; i++) {
        const struct view_req *r = &c->req[i];
        if (overlaps(r->req_ns, r->resp_ns ? r->resp_ns : tend, t0, t1))
            return VIEW_A_WAIT;
    }
    if (c->fin_ns && t1 > c->fin_ns)
        return VIEW_A_TEARDOWN;
    return VIEW_A_IDLE;
}

static uint32_t phase_glyph(const struct view_glyphs *g, enum view_attr a)
{
    switch (a) {
    case VIEW_A_HANDSHAKE:
        return g->handshake;
    case VIEW_A_WAIT:
        return g->wait;
    case VIEW_A_DATA:
        return g->data;
    case VIEW_A_IDLE:
        return g->idle;
    case VIEW_A_TEARDOWN:
        return g->teardown;
    case VIEW_A_FIN:
        return g->fin;
    case VIEW_A_RST:
        return g->rst;
    case VIEW_A_RETRANS:
        return g->retrans;
    case VIEW_A_WINUPD:
        return g->winupd;
    default:
        return ' ';
    }
}

static void draw_bar(struct pen *p, const struct view_conn *c, const struct axis *ax,
                     const struct view_glyphs *g, uint8_t sel)
{
    for (int i = 0; i < ax->w; i++) {
        uint64_t t0 = ax->a0 + (uint64_t)i * ax->ns;
        enum view_attr a = bar_phase(c, t0, t0 + ax->ns, ax->now);
        p->attr = (uint8_t)((a == VIEW_A_NORMAL ? VIEW_A_NORMAL : a) | sel);
        pen_cp(p, phase_glyph(g, a));
    }
}

static uint8_t status_attr(int status)
{
    if (status < 0 || status >= 400)
        return VIEW_A_ERROR;
    if (status >= 300)
        return VIEW_A_REDIRECT;
    return VIEW_A_OK;
}

static void status_text(char *buf, size_t size, const struct view_req *r,
                        const struct view_glyphs *g)
{
    if (r->status > 0)
        snprintf(buf, size, "%d", r->status);
    else if (r->status < 0)
        snprintf(buf, size, "?");
    else
        snprintf(buf, size, "%s", g->ellipsis);
}

/* "GET /cn/Lab2.html → 304" items, oldest first, "+N" for those that don't fit. */
static void draw_requests(struct pen *p, const struct view_conn *c, int w,
                          const struct view_glyphs *g, uint8_t base)
{
    int x0 = p->x, shown = 0;
    char uri[VIEW_URI_MAX * 2], st[16], more[16];

    for (int i = 0; i < c->nreq; i++) {
        const struct view_req *r = &c->req[i];
        int used = p->x - x0;
        int sep = i ? 2 : 0;
        int left = (int)c->nreq_total - i - 1;
        int morew = left > 0 ? snprintf(more, sizeof(more), " +%d", left) : 0;
        int mw = text_width(r->method), uw, sw, need, avail;

        uri_display(uri, sizeof(uri), r->uri);
        status_text(st, sizeof(st), r, g);
        uw = text_width(uri);
        sw = text_width(st);
        need = sep + mw + 1 + uw + 1 + g->arrow_w + 1 + sw;
        avail = w - used - morew;
        /*
         * A method repeated from the previous request is left out, and so is
         * "GET" when room is short: it is what a browser sends anyway.
         */
        if ((i > 0 && strcmp(r->method, c->req[i - 1].method) == 0) ||
            (need > avail && strcmp(r->method, "GET") == 0)) {
            need -= mw + 1;
            mw = -1;
        }
        if (need > avail) {
            int uri_room = avail - (need - uw);
            if (i > 0 || uri_room < 4)
                break;
            uw = uri_room;
        }
        p->attr = base;
        if (sep)
            pen_str(p, ", ");
        if (mw >= 0) {
            pen_str(p, r->method);
            pen_cp(p, ' ');
        }
        pen_keep_tail(p, uri, uw, 4, g);
        pen_cp(p, ' ');
        pen_str(p, g->arrow);
        pen_cp(p, ' ');
        p->attr = (uint8_t)((r->status ? status_attr(r->status) : base) | (base & VIEW_A_SELECTED));
        pen_str(p, st);
        shown++;
    }
    if ((uint32_t)shown < c->nreq_total) {
        int left = (int)c->nreq_total - shown;
        p->attr = base;
        snprintf(more, sizeof(more), "%s+%d", shown ? " " : "", left);
        if (p->x - x0 + text_width(more) <= w)
            pen_str(p, more);
    }
}

static void draw_row(struct view_screen *s, int y, const struct layout *L,
                     const struct view_conn *c, const struct axis *ax, const struct view_glyphs *g,
                     int selected)
{
    struct pen p = { s, y, 0, s->w, VIEW_A_NORMAL };
    uint8_t sel = selected ? VIEW_A_SELECTED : 0;
    uint8_t base = (uint8_t)((c->end != VIEW_END_OPEN ? VIEW_A_DIM : VIEW_A_NORMAL) | sel);
    char buf[96], a[16], b[16];

    for (int x = 0; x < s->w; x++)
        s->cell[(size_t)y * s->w + x].attr = base;
    p.attr = base;
    pen_cp(&p, selected ? '>' : ' ');

    if (L->common[0])
        snprintf(buf, sizeof(buf), ":%u", c->cport);
    else
        format_addr(buf, sizeof(buf), c->family, c->caddr, c->cport);
    p.x = L->client_x;
    p.end = L->client_x + L->client_w;
    pen_keep_tail(&p, buf, L->client_w, 0, g);
    p.end = s->w;

    if (L->pid_w) {
        p.x = L->pid_x;
        if (c->pid > 0)
            snprintf(buf, sizeof(buf), "%d", c->pid);
        else
            snprintf(buf, sizeof(buf), "-");
        pen_right(&p, buf, L->pid_w);
    }

    p.x = L->state_x;
    snprintf(buf, sizeof(buf), "%s/%s", view_state_code(c->cstate, L->wide),
             view_state_code(c->sstate, L->wide));
    if (c->end == VIEW_END_RST)
        p.attr = VIEW_A_RST | sel;
    pen_trunc(&p, buf, L->state_w, g);
    p.attr = base;

    p.x = L->req_x;
    p.end = L->req_x + L->req_w;
    draw_requests(&p, c, L->req_w, g, base);
    p.end = s->w;
    p.attr = base;

    view_format_bytes(a, sizeof(a), c->bytes_c2s);
    view_format_bytes(b, sizeof(b), c->bytes_s2c);
    snprintf(buf, sizeof(buf), "%s/%s", a, b);
    p.x = L->bytes_x;
    pen_right(&p, buf, L->bytes_w);

    if (L->pkts_w) {
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(c->pkts_c2s + c->pkts_s2c));
        p.x = L->pkts_x;
        pen_right(&p, buf, L->pkts_w);
    }
    if (L->rtt_w) {
        if (c->rtt_ns >= 0)
            view_format_duration(buf, sizeof(buf), c->rtt_ns);
        else
            snprintf(buf, sizeof(buf), "-");
        p.x = L->rtt_x;
        pen_right(&p, buf, L->rtt_w);
    }
    p.x = L->bar_x;
    draw_bar(&p, c, ax, g, sel);
}

struct hseg {
    char text[160];
    uint8_t attr;
    int prio; /* lower survives longer */
};

static void draw_header(struct view_screen *s, const struct view_state *vs,
                        const struct view_conn *const *conns, size_t n, const struct view_stats *st)
{
    struct hseg seg[10];
    int ns = 0, total = 0;
    unsigned counts[VIEW_ST_COUNT] = { 0 };
    unsigned nfin = 0, nrst = 0;
    char a[32];
    struct pen p = { s, 0, 0, s->w, VIEW_A_HEADER };

    line_attr(s, 0, VIEW_A_HEADER);
    for (size_t i = 0; i < n; i++) {
        const struct view_conn *c = conns[i];
        if (c->end == VIEW_END_FIN)
            nfin++;
        else if (c->end == VIEW_END_RST)
            nrst++;
        else
            counts[c->cstate < VIEW_ST_COUNT ? c->cstate : 0]++;
    }

#define SEG(prio_, attr_, ...)                                                                     \
    do {                                                                                           \
        snprintf(seg[ns].text, sizeof(seg[ns].text), __VA_ARGS__);                                 \
        seg[ns].attr = (attr_);                                                                    \
        seg[ns].prio = (prio_);                                                                    \
        ns++;                                                                                      \
    } while (0)

    SEG(0, VIEW_A_HEADER, "labmon");
    SEG(1, VIEW_A_HEADER, "%s%s%s", st->live ? "LIVE" : "REPLAY",
        !st->live && st->reading ? " reading..." : "", vs->paused ? " PAUSED" : "");
    SEG(3, VIEW_A_HEADER, "%s%s%s", st->iface ? st->iface : "?",
        st->filter && *st->filter ? ": " : "", st->filter ? st->filter : "");
    SEG(0, st->drops ? VIEW_A_WARN : VIEW_A_HEADER, "pkts %llu drops %llu",
        (unsigned long long)st->pkts, (unsigned long long)st->drops);
    if (st->labd_running)
        SEG(2, VIEW_A_HEADER, "labd %d :%u x%d", st->labd_pid, st->labd_port, st->labd_workers);
    else if (st->live)
        SEG(2, VIEW_A_WARN, "labd not running");
    {
        char cbuf[160];
        int len = snprintf(cbuf, sizeof(cbuf), "%zu conn%s%s", n, n == 1 ? "" : "s", n ? ":" : "");
        for (int i = 0; i < VIEW_ST_COUNT && len < (int)sizeof(cbuf); i++)
            if (counts[i])
                len += snprintf(cbuf + len, sizeof(cbuf) - (size_t)len, " %u %s", counts[i],
                                state_short[i]);
        if (nfin && len < (int)sizeof(cbuf))
            len += snprintf(cbuf + len, sizeof(cbuf) - (size_t)len, " %u fin", nfin);
        if (nrst && len < (int)sizeof(cbuf))
            snprintf(cbuf + len, sizeof(cbuf) - (size_t)len, " %u rst", nrst);
        SEG(4, VIEW_A_HEADER, "%s", cbuf);
    }
    view_format_bytes(a, sizeof(a), (uint64_t)(st->bytes_per_s > 0 ? st->bytes_per_s : 0));
    SEG(6, VIEW_A_HEADER, "%sB/s", a);
    if (st->writing)
        SEG(5, VIEW_A_WARN, "writing %s", st->writing);
    if (st->note)
        SEG(7, VIEW_A_WARN, "%s", st->note);
#undef SEG

    for (int i = 0; i < ns; i++)
        total += text_width(seg[i].text) + (i ? 2 : 0);
    /* Drop the least important segments until the rest fits. */
    for (int prio = 7; total > s->w && prio > 0; prio--) {
        for (int i = ns - 1; i >= 0 && total > s->w; i--) {
            if (seg[i].prio == prio && seg[i].text[0]) {
                total -= text_width(seg[i].text) + 2;
                seg[i].text[0] = '\0';
            }
        }
    }
    for (int i = 0; i < ns; i++) {
        if (!seg[i].text[0])
            continue;
        if (p.x > 0)
            pen_str(&p, "  ");
        p.attr = seg[i].attr;
        pen_str(&p, seg[i].text);
        p.attr = VIEW_A_HEADER;
    }
}

static void draw_titles(struct view_screen *s, const struct layout *L, const struct axis *ax,
                        const struct view_stats *st)
{
    struct pen p = { s, 1, 0, s->w, VIEW_A_TITLE };
    char l[24], r[24], m[24];
    int lw, rw, mw;

    line_attr(s, 1, VIEW_A_TITLE);
    p.x = L->client_x;
    pen_trunc(&p, L->common[0] ? L->common : "CLIENT", L->client_w, &view_glyphs_ascii);
    if (L->pid_w) {
        p.x = L->pid_x;
        pen_right(&p, "PID", L->pid_w);
    }
    p.x = L->state_x;
    pen_str(&p, L->wide ? "CLIENT/SERVER" : "C/S");
    p.x = L->req_x;
    pen_str(&p, "REQUESTS");
    p.x = L->bytes_x;
    pen_right(&p, "C>S/S>C", L->bytes_w);
    if (L->pkts_w) {
        p.x = L->pkts_x;
        pen_right(&p, "PKTS", L->pkts_w);
    }
    if (L->rtt_w) {
        p.x = L->rtt_x;
        pen_right(&p, "RTT", L->rtt_w);
    }
    /* Bar title: time of the first column, the scale, time of the last. */
    view_format_duration(l, sizeof(l), (int64_t)(ax->a0 - st->origin_ns));
    view_format_duration(r, sizeof(r),
                         (int64_t)(ax->a0 + (uint64_t)ax->w * ax->ns - st->origin_ns));
    format_scale(m, sizeof(m), ax->ns);
    snprintf(m + strlen(m), sizeof(m) - strlen(m), "/col");
    lw = text_width(l);
    rw = text_width(r);
    mw = text_width(m);
    p.x = L->bar_x;
    if (ax->w >= lw + rw + mw + 2) {
        pen_str(&p, l);
        p.x = L->bar_x + (ax->w - mw) / 2;
        pen_str(&p, m);
        p.x = L->bar_x + ax->w - rw;
        pen_str(&p, r);
    } else if (ax->w >= mw) {
        pen_str(&p, m);
    }
}

static void draw_footer(struct view_screen *s, const struct view_state *vs, size_t ntotal)
{
    struct pen p = { s, s->h - 1, 0, s->w, VIEW_A_FOOTER };
    char buf[256];

    line_attr(s, s->h - 1, VIEW_A_FOOTER);
    if (vs->editing) {
        pen_str(&p, "filter: ");
        pen_str(&p, vs->edit);
        pen_cp(&p, '_');
        pen_str(&p, "   (Enter apply, Esc cancel; port N, addr A, state S, status N, text)");
        return;
    }
    if (vs->msg[0]) {
        p.attr = VIEW_A_WARN;
        pen_str(&p, vs->msg);
        return;
    }
    if (vs->mode == VIEW_LADDER) {
        pen_str(&p, "Esc back  Up/Dn PgUp/PgDn scroll  Home/End  p pause  w write  ? help  q quit");
        return;
    }
    if (vs->filter_text[0]) {
        snprintf(buf, sizeof(buf), "[%s: %zu/%zu]  ", vs->filter_text, vs->nshown, ntotal);
        p.attr = VIEW_A_WARN;
        pen_str(&p, buf);
        p.attr = VIEW_A_FOOTER;
    }
    /* The most helpful hint line that fits. */
    for (int v = 0; v < 3; v++) {
        const char *pause = vs->paused ? "resume" : "pause";
        if (v == 0)
            snprintf(buf, sizeof(buf),
                     "q quit  Enter ladder  / filter  s sort:%s  +/- zoom  p %s  c clear  "
                     "w write  ? help",
                     sort_names[vs->sort], pause);
        else if (v == 1)
            snprintf(buf, sizeof(buf),
                     "q quit Enter ladder / filter s sort +/- zoom p %s c clear w write ? help",
                     pause);
        else
            snprintf(buf, sizeof(buf), "q quit Enter ladder / filter s sort +/- zoom p %s ? help",
                     pause);
        if (p.x + text_width(buf) <= s->w)
            break;
    }
    pen_str(&p, buf);
}

static void draw_help(struct view_screen *s, const struct view_state *vs)
{
    const struct view_glyphs *g = vs->glyphs;
    static const char *const keys[] = {
        "Up/Down        select a connection (Down on the last row follows new ones)",
        "PgUp/PgDn      a page up/down",
        "Home/End       first / newest connection (End follows new ones)",
        "Left/Right     move the time axis back/forward (pauses it)",
        "Enter          ladder of the selected connection (sequence diagram)",
        "Esc/Backspace  back to the waterfall; in the waterfall: clear the filter",
        "p              pause/resume the time axis and the auto-follow",
        "/              filter: port N, addr A, state S, pid N, status N, !term,",
        "               other text matches method or URI (all terms must match)",
        "s              cycle sort: start bytes pkts duration rtt state port pid",
        "+ / -          zoom the time axis in/out",
        "c              clear closed connections from the view",
        "w              start/stop writing the capture to a pcap file",
        "q              quit",
    };
    struct pen p = { s, 0, 0, s->w, VIEW_A_HEADER };
    char buf[160];
    int y = 1;

    line_attr(s, 0, VIEW_A_HEADER);
    pen_str(&p, "labmon help  (any key: back, q: quit)");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && y < s->h; i++, y++) {
        p = (struct pen){ s, y, 2, s->w, VIEW_A_NORMAL };
        pen_str(&p, keys[i]);
    }
    if (y < s->h) {
        p = (struct pen){ s, y++, 2, s->w, VIEW_A_TITLE };
        pen_str(&p, "Time bar:");
    }
    {
        static const struct {
            enum view_attr a;
            const char *what;
        } legend[] = {
            { VIEW_A_HANDSHAKE, "handshake" },
            { VIEW_A_WAIT, "request waiting" },
            { VIEW_A_DATA, "data" },
            { VIEW_A_IDLE, "idle (keep-alive)" },
            { VIEW_A_TEARDOWN, "FIN sent, closing" },
            { VIEW_A_FIN, "closed (FIN)" },
            { VIEW_A_RST, "reset (RST)" },
            { VIEW_A_RETRANS, "retransmission" },
            { VIEW_A_WINUPD, "window update" },
        };
        p = (struct pen){ s, y, 2, s->w, VIEW_A_NORMAL };
        for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
            int w = 4 + text_width(legend[i].what);
            if (p.x + w > s->w - 1) {
                if (++y >= s->h)
                    break;
                p = (struct pen){ s, y, 2, s->w, VIEW_A_NORMAL };
            }
            p.attr = legend[i].a;
            pen_cp(&p, phase_glyph(g, legend[i].a));
            p.attr = VIEW_A_NORMAL;
            pen_cp(&p, ' ');
            pen_str(&p, legend[i].what);
            pen_str(&p, "  ");
        }
        y++;
    }
    if (y < s->h) {
        p = (struct pen){ s, y, 2, s->w, VIEW_A_NORMAL };
        snprintf(buf, sizeof(buf),
                 "States (client/server): SS SYN_SENT, SR SYN_RECEIVED, EST ESTABLISHED,");
        pen_str(&p, buf);
        p = (struct pen){ s, ++y, 2, s->w, VIEW_A_NORMAL };
        pen_str(&p, "FW1/FW2 FIN_WAIT_1/2, CLG CLOSING, TW TIME_WAIT, CW CLOSE_WAIT, LA LAST_ACK,");
        p = (struct pen){ s, ++y, 2, s->w, VIEW_A_NORMAL };
        pen_str(&p, "CL CLOSED.  C>S/S>C: payload bytes client->server / server->client.");
    }
}

static void draw_ladder(struct view_screen *s, struct view_state *vs, const struct view_conn *c,
                        const struct view_ladder_line *lines, size_t nlines)
{
    struct pen p = { s, 1, 0, s->w, VIEW_A_TITLE };
    char buf[256], cl[80], sv[80], rtt[16];
    int rows = s->h - 3;

    line_attr(s, 1, VIEW_A_TITLE);
    format_addr(cl, sizeof(cl), c->family, c->caddr, c->cport);
    format_addr(sv, sizeof(sv), c->family, c->saddr, c->sport);
    if (c->rtt_ns >= 0)
        view_format_duration(rtt, sizeof(rtt), c->rtt_ns);
    else
        snprintf(rtt, sizeof(rtt), "-");
    snprintf(buf, sizeof(buf), "LADDER %s %s %s  %s/%s  rtt %s", cl, vs->glyphs->arrow, sv,
             state_full[c->cstate < VIEW_ST_COUNT ? c->cstate : 0],
             state_full[c->sstate < VIEW_ST_COUNT ? c->sstate : 0], rtt);
    pen_str(&p, buf);
    if (c->pid > 0) {
        snprintf(buf, sizeof(buf), "  worker %d", c->pid);
        pen_str(&p, buf);
    }
    if (rows < 1)
        rows = 1;
    vs->page_rows = rows;
    vs->nladder = (int)nlines;
    if (vs->ladder_follow || vs->ladder_top > (int)nlines - rows)
        vs->ladder_top = (int)nlines - rows;
    if (vs->ladder_top < 0)
        vs->ladder_top = 0;
    for (int i = 0; i < rows && (size_t)(vs->ladder_top + i) < nlines; i++) {
        const struct view_ladder_line *ln = &lines[vs->ladder_top + i];
        p = (struct pen){ s, 2 + i, 0, s->w, ln->attr };
        pen_str(&p, ln->text);
    }
    if (nlines == 0) {
        p = (struct pen){ s, 2, 1, s->w, VIEW_A_DIM };
        pen_str(&p, "(no segments kept for this connection)");
    }
}

void view_render(struct view_state *vs, const struct view_conn *const *conns, size_t n,
                 const struct view_stats *st, const struct view_ladder_line *ladder, size_t nladder,
                 struct view_screen *scr)
{
    const struct view_glyphs *g = vs->glyphs;
    struct layout L;
    struct axis ax;
    int rows, client_w = 11;
    uint64_t end;

    screen_clear(scr);
    if (scr->w < 20 || scr->h < 4) {
        struct pen p = { scr, 0, 0, scr->w, VIEW_A_WARN };
        pen_str(&p, "labmon: terminal too small");
        return;
    }
    if (vs->mode == VIEW_HELP) {
        draw_help(scr, vs);
        return;
    }
    rows = scr->h - 3;
    vs->page_rows = rows;
    build_order(vs, conns, n);
    place_selection(vs, rows);
    if (vs->mode == VIEW_LADDER && vs->sel < 0)
        vs->mode = VIEW_WATERFALL;

    draw_header(scr, vs, conns, n, st);
    draw_footer(scr, vs, n);
    if (vs->mode == VIEW_LADDER) {
        draw_ladder(scr, vs, conns[vs->order[vs->sel]], ladder, nladder);
        return;
    }

    /*
     * Size the client column to the rows on screen. Below 100 columns, when
     * they all share one address (a browser on one host, loopback), the
     * address moves into the title and the rows show ":port".
     */
    {
        char common[48] = "", buf[96];
        int same = scr->w < 100 && vs->nshown > 0;
        for (int i = 0; i < rows && (size_t)(vs->top + i) < vs->nshown; i++) {
            const struct view_conn *c = conns[vs->order[vs->top + i]];
            const struct view_conn *c0 = conns[vs->order[vs->top]];
            int w;
            format_addr(buf, sizeof(buf), c->family, c->caddr, c->cport);
            w = (int)strlen(buf);
            if (w > client_w)
                client_w = w;
            if (c->family != c0->family || memcmp(c->caddr, c0->caddr, 16) != 0)
                same = 0;
        }
        if (same) {
            const struct view_conn *c0 = conns[vs->order[vs->top]];
            format_ip(buf, sizeof(buf), c0->family, c0->caddr);
            snprintf(common, sizeof(common), c0->family == 6 ? "[%s]" : "%s", buf);
            client_w = (int)strlen(common) > 6 ? (int)strlen(common) : 6;
        }
        layout_compute(&L, scr->w, vs->show_pid, client_w);
        snprintf(L.common, sizeof(L.common), "%s", common);
    }

    /* Column boundaries on multiples of the scale, so the bar moves a cell at a time. */
    ax.ns = view_ns_per_col(vs);
    ax.w = L.bar_w;
    ax.now = st->now_ns;
    end = vs->paused ? vs->axis_end_ns : st->now_ns;
    /* Live: the column holding now is the last; paused: the stored (aligned) end. */
    end = vs->paused ? (end + ax.ns - 1) / ax.ns * ax.ns : (end / ax.ns + 1) * ax.ns;
    if (!vs->paused)
        vs->axis_end_ns = end;
    ax.a0 = end > (uint64_t)ax.w * ax.ns ? end - (uint64_t)ax.w * ax.ns : 0;
    draw_titles(scr, &L, &ax, st);

    for (int i = 0; i < rows && (size_t)(vs->top + i) < vs->nshown; i++) {
        int idx = vs->top + i;
        draw_row(scr, 2 + i, &L, conns[vs->order[idx]], &ax, g, idx == vs->sel);
    }
    if (vs->nshown == 0) {
        struct pen p = { scr, 2, 1, scr->w, VIEW_A_DIM };
        pen_str(&p, n ? "(no connection matches the filter)" : "(waiting for connections)");
    }
}

/* ---- keys --------------------------------------------------------------- */

static void sel_move(struct view_state *vs, int delta)
{
    int n = (int)vs->nshown;

    if (n == 0)
        return;
    vs->sel += delta;
    if (vs->sel < 0)
        vs->sel = 0;
    if (vs->sel >= n)
        vs->sel = n - 1;
    vs->sel_id = vs->order_id[vs->sel];
    vs->follow = vs->sel == n - 1 && delta > 0;
}

static enum view_action key_edit(struct view_state *vs, int key)
{
    size_t len = strlen(vs->edit);
    char err[128];

    switch (key) {
    case VIEW_KEY_ESC:
        vs->editing = 0;
        return VIEW_ACT_REDRAW;
    case VIEW_KEY_ENTER:
    case '\n':
    case '\r':
        if (view_filter_parse(&vs->filter, vs->edit, err, sizeof(err)) < 0) {
            snprintf(vs->msg, sizeof(vs->msg), "%s", err);
            vs->editing = 0;
            return VIEW_ACT_REDRAW;
        }
        snprintf(vs->filter_text, sizeof(vs->filter_text), "%s", vs->edit);
        vs->editing = 0;
        vs->top = 0;
        return VIEW_ACT_REDRAW;
    case 21: /* Ctrl-U: clear the line */
        vs->edit[0] = '\0';
        return VIEW_ACT_REDRAW;
    case VIEW_KEY_BACKSPACE:
    case 127:
    case 8:
        while (len > 0 && ((unsigned char)vs->edit[len - 1] & 0xc0) == 0x80)
            len--;
        if (len > 0)
            len--;
        vs->edit[len] = '\0';
        return VIEW_ACT_REDRAW;
    default:
        if (key >= 0x20 && key < 0x110000 && key != 0x7f) {
            char u[4];
            size_t k = utf8_put(u, (uint32_t)key);
            if (len + k < sizeof(vs->edit)) {
                memcpy(vs->edit + len, u, k);
                vs->edit[len + k] = '\0';
            }
        }
        return VIEW_ACT_REDRAW;
    }
}

enum view_action view_key(struct view_state *vs, int key, uint64_t now_ns)
{
    int page = vs->page_rows > 1 ? vs->page_rows - 1 : 1;

    if (vs->editing)
        return key_edit(vs, key);
    vs->msg[0] = '\0';
    if (vs->mode == VIEW_HELP) {
        if (key == 'q')
            return VIEW_ACT_QUIT;
        vs->mode = vs->help_from;
        return VIEW_ACT_REDRAW;
    }
    switch (key) {
    case 'q':
    case 'Q':
        return VIEW_ACT_QUIT;
    case '?':
    case 'h':
        vs->help_from = vs->mode;
        vs->mode = VIEW_HELP;
        return VIEW_ACT_REDRAW;
    case 'w':
        return VIEW_ACT_TOGGLE_WRITE;
    case 'p':
    case ' ':
        vs->paused = !vs->paused;
        if (vs->paused)
            vs->follow = 0;
        else if (vs->mode == VIEW_WATERFALL && vs->sel == (int)vs->nshown - 1)
            vs->follow = 1;
        return VIEW_ACT_REDRAW;
    default:
        break;
    }
    if (vs->mode == VIEW_LADDER) {
        switch (key) {
        case VIEW_KEY_ESC:
        case VIEW_KEY_BACKSPACE:
        case VIEW_KEY_LEFT:
        case 127:
        case 8:
            vs->mode = VIEW_WATERFALL;
            break;
        case VIEW_KEY_UP:
            vs->ladder_top--;
            vs->ladder_follow = 0;
            break;
        case VIEW_KEY_DOWN:
            vs->ladder_top++;
            break;
        case VIEW_KEY_PGUP:
            vs->ladder_top -= page;
            vs->ladder_follow = 0;
            break;
        case VIEW_KEY_PGDN:
            vs->ladder_top += page;
            break;
        case VIEW_KEY_HOME:
            vs->ladder_top = 0;
            vs->ladder_follow = 0;
            break;
        case VIEW_KEY_END:
            vs->ladder_follow = 1;
            break;
        default:
            return VIEW_ACT_NONE;
        }
        if (vs->ladder_top < 0)
            vs->ladder_top = 0;
        return VIEW_ACT_REDRAW;
    }
    switch (key) {
    case VIEW_KEY_UP:
        sel_move(vs, -1);
        break;
    case VIEW_KEY_DOWN:
        sel_move(vs, 1);
        break;
    case VIEW_KEY_PGUP:
        sel_move(vs, -page);
        break;
    case VIEW_KEY_PGDN:
        sel_move(vs, page);
        break;
    case VIEW_KEY_HOME:
        sel_move(vs, -(int)vs->nshown);
        vs->follow = 0;
        break;
    case VIEW_KEY_END:
        sel_move(vs, (int)vs->nshown);
        vs->follow = 1;
        break;
    case VIEW_KEY_LEFT:
    case VIEW_KEY_RIGHT: {
        uint64_t step = view_ns_per_col(vs) * 10;
        vs->paused = 1;
        vs->follow = 0;
        if (key == VIEW_KEY_LEFT)
            vs->axis_end_ns = vs->axis_end_ns > step ? vs->axis_end_ns - step : 0;
        else
            vs->axis_end_ns += step;
        break;
    }
    case VIEW_KEY_ENTER:
    case '\n':
    case '\r':
        if (vs->sel >= 0 && vs->nshown) {
            vs->mode = VIEW_LADDER;
            vs->ladder_top = 0;
            vs->ladder_follow = 0;
        }
        break;
    case VIEW_KEY_ESC:
    case VIEW_KEY_BACKSPACE:
        if (vs->filter_text[0]) {
            vs->filter_text[0] = '\0';
            vs->filter.nterms = 0;
        }
        break;
    case '/':
        vs->editing = 1;
        snprintf(vs->edit, sizeof(vs->edit), "%s", vs->filter_text);
        break;
    case 's':
        vs->sort = (enum view_sort)((vs->sort + 1) % VIEW_SORT_COUNT);
        if (vs->sort != VIEW_SORT_START)
            vs->follow = 0;
        snprintf(vs->msg, sizeof(vs->msg), "sort: %s", sort_names[vs->sort]);
        break;
    case 'S':
        vs->sort = (enum view_sort)((vs->sort + VIEW_SORT_COUNT - 1) % VIEW_SORT_COUNT);
        snprintf(vs->msg, sizeof(vs->msg), "sort: %s", sort_names[vs->sort]);
        break;
    case '+':
    case '=':
        if (vs->zoom > 0)
            vs->zoom--;
        break;
    case '-':
    case '_':
        if (vs->zoom < ZOOM_COUNT - 1)
            vs->zoom++;
        break;
    case 'c':
        vs->clear_ns = now_ns;
        snprintf(vs->msg, sizeof(vs->msg), "closed connections cleared");
        break;
    default:
        return VIEW_ACT_NONE;
    }
    return VIEW_ACT_REDRAW;
}
