/*
 * SVG and the HTML around it, written as text: a growing buffer, an escape
 * for every byte that comes from a capture (a capture is hostile input: a
 * sniffed URI must never become markup), a few element primitives and the
 * "nice" axis ticks the figures share. Pure: the buffer hands full chunks to
 * a callback the caller supplies (a file writer), or keeps all the text.
 */
#ifndef LABMON_SVG_H
#define LABMON_SVG_H

#include <stddef.h>
#include <stdint.h>

/* Takes n bytes of finished text: 0, or -1 (the output is then marked failed). */
typedef int (*svg_flush_fn)(void *ctx, const char *p, size_t n);

struct svg_buf {
    char *b;
    size_t n, cap;
    svg_flush_fn flush; /* NULL: everything stays in b */
    void *ctx;
    int failed; /* out of memory or a flush failed: the text is incomplete */
};

/* The buffer hands out chunks of about this size when it has a flush callback. */
#define SVG_FLUSH_AT (64u << 10)

void svg_buf_init(struct svg_buf *s, svg_flush_fn flush, void *ctx);
/* Hands the rest to the flush callback. 0, or -1 when anything failed. */
int svg_buf_finish(struct svg_buf *s);
void svg_buf_free(struct svg_buf *s);

/* Markup this program wrote (never bytes from a capture). */
void svg_raw(struct svg_buf *s, const char *text);
void svg_mem(struct svg_buf *s, const char *p, size_t n);
void svg_printf(struct svg_buf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Untrusted bytes p[0..n) as text that is safe in element content and in a
 * quoted attribute value, in XML and in HTML: & < > " ' as entities, valid
 * UTF-8 as it is, and as visible text instead of the byte itself: each byte
 * of invalid UTF-8 and each control byte (NUL included) as \xNN, a C1
 * control or U+FFFE/U+FFFF as \uNNNN, and the backslash as \\ so that the
 * escapes are not ambiguous. At most max_cp characters are written (0: no
 * limit), then "…". Output is always valid UTF-8 with no raw '<' or '&'.
 */
void svg_esc(struct svg_buf *s, const char *p, size_t n, size_t max_cp);
/* svg_esc() of a NUL-terminated string. */
void svg_esc_str(struct svg_buf *s, const char *str, size_t max_cp);

/* How a figure is written. */
struct svg_fig {
    int standalone; /* 1: a file of its own (XML declaration, its own style); 0: inline in HTML */
    const char *id; /* id of the <svg> element inline (unique in the page), NULL none */
    uint32_t max_rows; /* ladder: packets drawn before the middle is left out (0: all) */
};

/*
 * The figures' style: colours by class (presentation attributes already
 * draw them in black and white), for a standalone figure's <style> or once
 * in an HTML page's head. No '<' or '&' in it.
 */
const char *svg_css(void);

/* <?xml ...?> (standalone only) and <svg ...> with a <title> (escaped) and a class. */
void svg_doc_open(struct svg_buf *s, const struct svg_fig *o, int w, int h, const char *cls,
                  const char *title);
void svg_doc_close(struct svg_buf *s);

/* A line, with optional class (NULL none) and extra trusted attributes (NULL none). */
void svg_line(struct svg_buf *s, double x1, double y1, double x2, double y2, const char *cls,
              const char *attrs);
void svg_rect(struct svg_buf *s, double x, double y, double w, double h, const char *cls,
              const char *attrs);

/* Where a text's x is: its start, middle or end. */
enum svg_anchor { SVG_START = 0, SVG_MIDDLE, SVG_END };

/* <text> with untrusted content (escaped, at most max_cp characters). */
void svg_text(struct svg_buf *s, double x, double y, enum svg_anchor a, const char *cls,
              const char *text, size_t max_cp);

/* Axis ticks at "nice" values (1, 2 or 5 times a power of ten) within [lo, hi]. */
#define SVG_TICKS_MAX 16

struct svg_ticks {
    int n;
    double step;
    double v[SVG_TICKS_MAX];
    int decimals; /* digits after the point that tell the ticks apart */
};

/* About want ticks (2 to SVG_TICKS_MAX) between lo and hi; one at lo when hi <= lo. */
void svg_ticks_choose(double lo, double hi, int want, struct svg_ticks *t);
/* A tick's label: v with t->decimals digits, "-0" written as "0". */
void svg_tick_label(const struct svg_ticks *t, double v, char *buf, size_t n);

/* What an axis counts, for its unit. */
enum svg_quantity { SVG_SECONDS = 0, SVG_BYTES };

/* A unit for values up to max: its name ("ms", "kB", ...) and what one unit is worth. */
struct svg_unit {
    const char *name;
    double size;
};

void svg_unit_choose(enum svg_quantity q, double max, struct svg_unit *u);

#endif
