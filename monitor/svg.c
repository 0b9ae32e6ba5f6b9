/* SVG text: the buffer, the escape for untrusted bytes, elements and axis ticks (see svg.h). */
#include "monitor/svg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void svg_buf_init(struct svg_buf *s, svg_flush_fn flush, void *ctx)
{
    *s = (struct svg_buf){ .flush = flush, .ctx = ctx };
}

void svg_buf_free(struct svg_buf *s)
{
    free(s->b);
    s->b = NULL;
    s->n = s->cap = 0;
}

/* Hands the text so far to the flush callback. */
static void svg_buf_drain(struct svg_buf *s)
{
    if (s->flush == NULL || s->n == 0)
        return;
    if (!s->failed && s->flush(s->ctx, s->b, s->n) < 0)
        s->failed = 1;
    s->n = 0;
}

int svg_buf_finish(struct svg_buf *s)
{
    svg_buf_drain(s);
    return s->failed ? -1 : 0;
}

/* Room for k more bytes; NULL (and failed set) when out of memory. */
static char *svg_room(struct svg_buf *s, size_t k)
{
    if (s->flush != NULL && s->n + k > SVG_FLUSH_AT)
        svg_buf_drain(s);
    if (s->n + k > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *b;
        while (cap < s->n + k)
            cap *= 2;
        b = realloc(s->b, cap);
        if (b == NULL) {
            s->failed = 1;
            return NULL;
        }
        s->b = b;
        s->cap = cap;
    }
    return s->b + s->n;
}

void svg_mem(struct svg_buf *s, const char *p, size_t n)
{
    char *d = svg_room(s, n);

    if (d == NULL)
        return;
    memcpy(d, p, n);
    s->n += n;
}

void svg_raw(struct svg_buf *s, const char *text)
{
    svg_mem(s, text, strlen(text));
}

void svg_printf(struct svg_buf *s, const char *fmt, ...)
{
    va_list ap;
    char *d = svg_room(s, 256);
    int w;

    if (d == NULL)
        return;
    va_start(ap, fmt);
    w = vsnprintf(d, 256, fmt, ap);
    va_end(ap);
    if (w >= 256) { /* long: once more with room for all of it */
        d = svg_room(s, (size_t)w + 1);
        if (d == NULL)
            return;
        va_start(ap, fmt);
        vsnprintf(d, (size_t)w + 1, fmt, ap);
        va_end(ap);
    }
    if (w > 0)
        s->n += (size_t)w;
}

/*
 * Length of the valid UTF-8 sequence at p (at most n bytes), with its code
 * point in *cp; 0 if the bytes there are not one (a bad lead or
 * continuation byte, cut short, overlong, a surrogate, above U+10FFFF).
 */
static size_t svg_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
    static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len;
    uint32_t c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (len == 0 || c > 0xf4 || len > n)
        return 0;
    c &= 0x7f >> len;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* The text that stands for code point c (len bytes at p), or NULL when it stands for itself. */
static const char *svg_esc_one(uint32_t c, char tmp[16])
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    case '\\':
        return "\\\\";
    default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, 16, "\\x%02X", (unsigned)c);
        return tmp;
    }
    if ((c >= 0x80 && c <= 0x9f) || c == 0xfffe || c == 0xffff) {
        snprintf(tmp, 16, "\\u%04X", (unsigned)c);
        return tmp;
    }
    return NULL;
}

void svg_esc(struct svg_buf *s, const char *p, size_t n, size_t max_cp)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0, cps = 0;
    char tmp[16];

    while (i < n) {
        uint32_t c = 0;
        size_t len = svg_utf8_seq(u + i, n - i, &c);
        const char *e;

        if (max_cp && cps == max_cp) {
            svg_raw(s, "\xe2\x80\xa6"); /* U+2026 HORIZONTAL ELLIPSIS */
            return;
        }
        if (len == 0) {
            snprintf(tmp, sizeof(tmp), "\\x%02X", u[i]);
            svg_raw(s, tmp);
            i++;
        } else {
            e = svg_esc_one(c, tmp);
            if (e != NULL)
                svg_raw(s, e);
            else
                svg_mem(s, p + i, len);
            i += len;
        }
        cps++;
    }
}

void svg_esc_str(struct svg_buf *s, const char *str, size_t max_cp)
{
    svg_esc(s, str, strlen(str), max_cp);
}

const char *svg_css(void)
{
    return ".fig .c2s .arrow,.fig .c2s .head{stroke:#1f5fa8}.fig .c2s .head.fill{fill:#1f5fa8}"
           ".fig .c2s .lbl{fill:#1f5fa8}.fig .s2c .arrow,.fig .s2c .head{stroke:#2e7d32}"
           ".fig .s2c .head.fill{fill:#2e7d32}.fig .s2c .lbl{fill:#2e7d32}"
           ".fig .retrans .arrow,.fig .rst .arrow,.fig .rst .head{stroke:#c62828}"
           ".fig .retrans .lbl,.fig .rst .lbl{fill:#c62828}"
           ".fig .dupack .arrow{stroke:#ef6c00}.fig .dupack .lbl{fill:#ef6c00}"
           ".fig .winupd .arrow,.fig .zerowin .arrow{stroke:#6a1b9a}"
           ".fig .winupd .lbl,.fig .zerowin .lbl{fill:#6a1b9a}"
           ".fig .note{fill:#5d4037}.fig .state{fill:#37474f}.fig .gap{fill:#757575}"
           ".fig .lifeline{stroke:#9e9e9e}.fig .endpoint{fill:#eceff1;stroke:#546e7a}"
           ".fig .seg{stroke:#1f5fa8}.fig .seg.retrans{stroke:#c62828}"
           ".fig .ackline{stroke:#2e7d32}.fig .winline{stroke:#b8860b}"
           ".fig .sack{stroke:#6a1b9a}.fig .grid{stroke:#e0e0e0}.fig .notkept{fill:#f5f5f5}";
}

void svg_doc_open(struct svg_buf *s, const struct svg_fig *o, int w, int h, const char *cls,
                  const char *title)
{
    if (o->standalone)
        svg_raw(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    svg_printf(s,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" class=\"fig %s\" font-family=\"DejaVu Sans Mono, Menlo, "
               "Consolas, monospace\" font-size=\"11\"",
               w, h, w, h, cls);
    if (o->id != NULL)
        svg_printf(s, " id=\"%s\"", o->id);
    svg_raw(s, ">\n<title>");
    svg_esc_str(s, title, 0);
    svg_raw(s, "</title>\n");
    if (o->standalone) {
        svg_raw(s, "<style>");
        svg_raw(s, svg_css());
        svg_raw(s, "</style>\n");
    }
    svg_rect(s, 0, 0, w, h, NULL, "fill=\"#ffffff\"");
}

void svg_doc_close(struct svg_buf *s)
{
    svg_raw(s, "</svg>\n");
}

/* ' class="cls"' and the extra attributes, then "/>". */
static void svg_tail(struct svg_buf *s, const char *cls, const char *attrs)
{
    if (cls != NULL)
        svg_printf(s, " class=\"%s\"", cls);
    if (attrs != NULL) {
        svg_raw(s, " ");
        svg_raw(s, attrs);
    }
    svg_raw(s, "/>\n");
}

void svg_line(struct svg_buf *s, double x1, double y1, double x2, double y2, const char *cls,
              const char *attrs)
{
    svg_printf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", x1, y1, x2, y2);
    svg_tail(s, cls, attrs);
}

void svg_rect(struct svg_buf *s, double x, double y, double w, double h, const char *cls,
              const char *attrs)
{
    svg_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x, y, w, h);
    svg_tail(s, cls, attrs);
}

void svg_text(struct svg_buf *s, double x, double y, enum svg_anchor a, const char *cls,
              const char *text, size_t max_cp)
{
    static const char *const anchor[] = { "start", "middle", "end" };

    svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
    if (a != SVG_START)
        svg_printf(s, " text-anchor=\"%s\"", anchor[a]);
    if (cls != NULL)
        svg_printf(s, " class=\"%s\"", cls);
    svg_raw(s, ">");
    svg_esc_str(s, text, max_cp);
    svg_raw(s, "</text>\n");
}

/* floor and ceil for the tick arithmetic (|x| well below 2^62), without libm. */
static double svg_floor(double x)
{
    double i = (double)(int64_t)x;

    return i > x ? i - 1 : i;
}

static double svg_ceil(double x)
{
    double i = (double)(int64_t)x;

    return i < x ? i + 1 : i;
}

/* The power of ten at or just below x (x > 0). */
static double svg_mag(double x)
{
    double m = 1;

    while (m * 10 <= x)
        m *= 10;
    while (m > x)
        m /= 10;
    return m;
}

void svg_ticks_choose(double lo, double hi, int want, struct svg_ticks *t)
{
    static const double nice[] = { 1, 2, 5, 10 };
    double span = hi - lo, raw, mag, step = 1, first;

    memset(t, 0, sizeof(*t));
    if (want < 2)
        want = 2;
    if (want > SVG_TICKS_MAX)
        want = SVG_TICKS_MAX;
    if (!(span > 0) || span > 1e15 || lo < -1e15 || hi > 1e15) {
        t->n = 1;
        t->v[0] = lo;
        t->step = 1;
        /* Digits enough for the one value, up to six. */
        for (double x = lo < 0 ? -lo : lo; x < 1e9 && t->decimals < 6 && x - svg_floor(x) > 1e-9;
             x *= 10)
            t->decimals++;
        return;
    }
    raw = span / (want - 1);
    mag = svg_mag(raw);
    for (size_t i = 0; i < sizeof(nice) / sizeof(nice[0]); i++) {
        step = nice[i] * mag;
        if (step >= raw * (1 - 1e-9))
            break;
    }
    /* Rounding may leave one tick too many: the step after fits. */
    while (svg_floor(hi / step + 1e-9) - svg_ceil(lo / step - 1e-9) + 1 > SVG_TICKS_MAX)
        step *= 2;
    first = svg_ceil(lo / step - 1e-9);
    for (double k = first; (k * step) <= hi + step * 1e-9 && t->n < SVG_TICKS_MAX; k++)
        t->v[t->n++] = k * step;
    t->step = step;
    for (double d = step; d < 1 - 1e-9 && t->decimals < 12; d *= 10)
        t->decimals++;
}

void svg_tick_label(const struct svg_ticks *t, double v, char *buf, size_t n)
{
    double half = 0.5;

    for (int i = 0; i < t->decimals; i++)
        half /= 10;
    if (v < half && v > -half)
        v = 0; /* never "-0" */
    snprintf(buf, n, "%.*f", t->decimals, v);
}

void svg_unit_choose(enum svg_quantity q, double max, struct svg_unit *u)
{
    if (q == SVG_SECONDS) {
        if (max < 1e-3)
            *u = (struct svg_unit){ "\xc2\xb5s", 1e-6 };
        else if (max < 1)
            *u = (struct svg_unit){ "ms", 1e-3 };
        else
            *u = (struct svg_unit){ "s", 1 };
        return;
    }
    if (max < 1e4)
        *u = (struct svg_unit){ "bytes", 1 };
    else if (max < 1e7)
        *u = (struct svg_unit){ "kB", 1e3 };
    else
        *u = (struct svg_unit){ "MB", 1e6 };
}
