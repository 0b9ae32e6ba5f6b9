/*
 * The screen of cells and the text in it: UTF-8 in and out, display widths,
 * the pen that writes clipped text into a line, and the bar glyph sets.
 */
#include "monitor/view_int.h"

#include <errno.h>
#include <stdlib.h>

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
    .times = "x",
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
    .times = "\xc3\x97",        /* × */
    .ellipsis = "\xe2\x80\xa6", /* … */
    .arrow_w = 1,
    .ellipsis_w = 1,
};

uint32_t view_phase_glyph(const struct view_glyphs *g, enum view_attr a)
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

int view_screen_resize(struct view_screen *s, int w, int h)
{
    struct view_cell *cell;

    if (w < 1 || h < 1) {
        errno = EINVAL;
        return -1;
    }
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

void view_screen_clear(struct view_screen *s)
{
    for (size_t i = 0; i < (size_t)s->w * s->h; i++) {
        s->cell[i].ch = ' ';
        s->cell[i].attr = VIEW_A_NORMAL;
    }
}

void view_screen_line_attr(struct view_screen *s, int y, uint8_t attr)
{
    for (int x = 0; x < s->w; x++)
        s->cell[(size_t)y * s->w + x].attr = attr;
}

size_t view_utf8_put(char *out, uint32_t cp)
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
            len += view_utf8_put(buf + len, cp);
            if (cp != ' ')
                keep = len;
        }
    }
    buf[keep] = '\0';
    return keep;
}

/* Decode one UTF-8 character; invalid input yields U+FFFD and advances one byte. */
uint32_t view_utf8_next(const char **sp)
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
static int view_cp_width(uint32_t cp)
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
uint32_t view_cp_safe(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
        return '?';
    return cp;
}

int view_text_width(const char *s)
{
    int w = 0;

    while (*s)
        w += view_cp_width(view_cp_safe(view_utf8_next(&s)));
    return w;
}

void view_pen_cp(struct view_pen *p, uint32_t cp)
{
    int w;
    struct view_cell *row;

    cp = view_cp_safe(cp);
    w = view_cp_width(cp);
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

void view_pen_str(struct view_pen *p, const char *s)
{
    while (*s && p->x < p->end) {
        uint32_t cp = view_utf8_next(&s);
        if (p->x + view_cp_width(view_cp_safe(cp)) > p->end)
            break;
        view_pen_cp(p, cp);
    }
}

static void view_pen_fill(struct view_pen *p, uint32_t cp, int n)
{
    for (int i = 0; i < n && p->x < p->end; i++)
        view_pen_cp(p, cp);
}

/* Write s with the pen's end moved to at most column end (restored after). */
static void view_pen_str_until(struct view_pen *p, const char *s, int end)
{
    int was = p->end;

    if (end < was)
        p->end = end;
    view_pen_str(p, s);
    p->end = was;
}

/* Write s into at most w columns, ending with the ellipsis when cut. */
void view_pen_trunc(struct view_pen *p, const char *s, int w, const struct view_glyphs *g)
{
    if (view_text_width(s) <= w || w <= g->ellipsis_w) {
        view_pen_str_until(p, s, p->x + w);
        return;
    }
    view_pen_str_until(p, s, p->x + w - g->ellipsis_w);
    view_pen_str(p, g->ellipsis);
}

/* Right-align s in w columns. */
void view_pen_right(struct view_pen *p, const char *s, int w)
{
    int tw = view_text_width(s);

    if (tw < w)
        view_pen_fill(p, ' ', w - tw);
    view_pen_str(p, s);
}

/*
 * Write s into at most w columns keeping its end (the file name of a URI,
 * the port of an address): "/cn/…/Lab2.html", "…:1]:54321".
 */
void view_pen_keep_tail(struct view_pen *p, const char *s, int w, int headw,
                        const struct view_glyphs *g)
{
    uint32_t cps[VIEW_URI_MAX * 2];
    int n = 0, tail_start, tailw = 0, head;

    if (view_text_width(s) <= w) {
        view_pen_str(p, s);
        return;
    }
    while (*s && n < (int)(sizeof(cps) / sizeof(cps[0])))
        cps[n++] = view_cp_safe(view_utf8_next(&s));
    if (headw > (w - g->ellipsis_w) / 2)
        headw = (w - g->ellipsis_w) / 2;
    if (headw < 0)
        headw = 0;
    /* Prefer the whole last path segment ("/Lab2.html") when it fits. */
    for (tail_start = n; tail_start > 0 && cps[tail_start - 1] != '/'; tail_start--)
        tailw += view_cp_width(cps[tail_start - 1]);
    if (tail_start > 1 && tailw + 1 <= w - g->ellipsis_w - 1) {
        tail_start--;
        tailw++;
    } else {
        tail_start = n;
        tailw = 0;
        while (tail_start > 0 &&
               tailw + view_cp_width(cps[tail_start - 1]) <= w - g->ellipsis_w - headw) {
            tail_start--;
            tailw += view_cp_width(cps[tail_start]);
        }
    }
    head = w - g->ellipsis_w - tailw;
    for (int i = 0, hw = 0; i < tail_start && hw + view_cp_width(cps[i]) <= head; i++) {
        hw += view_cp_width(cps[i]);
        view_pen_cp(p, cps[i]);
    }
    view_pen_str(p, g->ellipsis);
    for (int i = tail_start; i < n; i++)
        view_pen_cp(p, cps[i]);
}
