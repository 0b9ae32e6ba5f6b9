/*
 * libFuzzer target: the figure and report writers (svg_ladder.c, svg_tsg.c,
 * svg_waterfall.c, report.c, report_html.c over svg.c) on a connection made
 * of whatever the input says: the bytes of its two HTTP streams (so sniffed
 * URIs, reasons and headers hold anything), segment log entries with any
 * flags, marks, numbers and SACK blocks, and the report's capture name.
 * Aborts unless every output is well formed: valid UTF-8, no control byte
 * but the newline, every '<' starting one of the writers' own tags, every
 * '&' one of their entities, and the elements balanced.
 *
 * Input: byte 0 (bit 0 IPv6, bits 1-2 segment log size: 4 to 32, bit 3 the
 * report too, which draws the figures again inline), byte 1 (--svg-max),
 * then three chunks of 2-byte length + bytes (requests, responses, the
 * capture's name), then 16-byte segment records.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/figure.h"
#include "monitor/report.h"
#include "monitor/sniff.h"
#include "monitor/svg_waterfall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What may follow a '<' the writers wrote. */
static const char *const fuzz_figures_tags[] = {
    "?xml ",    "!DOCTYPE html>",
    "svg ",     "/svg>",
    "title>",   "/title>",
    "style>",   "/style>",
    "g ",       "/g>",
    "text ",    "/text>",
    "line ",    "rect ",
    "path ",    "circle ",
    "a href=",  "/a>",
    "html ",    "/html>",
    "head>",    "/head>",
    "meta ",    "body ",
    "/body>",   "h1>",
    "/h1>",     "h2 ",
    "/h2>",     "h3>",
    "/h3>",     "p>",
    "p ",       "/p>",
    "table",    "/table>",
    "tr>",      "tr ",
    "/tr>",     "th>",
    "/th>",     "td>",
    "td ",      "/td>",
    "section ", "/section>",
};

static const char *const fuzz_figures_entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };

/*
 * The checks read every output byte: without coverage tracing of their own
 * comparisons (which is for the code under test) they cost little.
 */
#define FUZZ_FIGURES_QUIET __attribute__((no_sanitize("coverage")))

/* Length of the valid UTF-8 sequence at p, 0 if there is none. */
FUZZ_FIGURES_QUIET static size_t fuzz_figures_utf8(const unsigned char *p, size_t n)
{
    size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;

    if (len == 0 || len > n || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return len;
}

/* Whether p[0..n) starts with one of set[0..k) (compared by hand: memcmp is traced). */
FUZZ_FIGURES_QUIET static int fuzz_figures_starts(const char *p, size_t n, const char *const *set,
                                                  size_t k)
{
    for (size_t i = 0; i < k; i++) {
        size_t j = 0;
        while (set[i][j] && j < n && p[j] == set[i][j])
            j++;
        if (set[i][j] == 0)
            return 1;
    }
    return 0;
}

/* How often pattern occurs in p[0..n). */
FUZZ_FIGURES_QUIET static size_t fuzz_figures_count(const char *p, size_t n, const char *pattern)
{
    size_t c = 0, k = strlen(pattern);

    for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), pattern, k)) != NULL; q += k)
        c++;
    return c;
}

FUZZ_FIGURES_QUIET static void fuzz_figures_check(const struct svg_buf *s)
{
    const char *p = s->b;
    size_t n = s->n;

    if (s->failed)
        return; /* out of memory: nothing promised */
    for (size_t i = 0; i < n;) {
        const unsigned char c = (unsigned char)p[i];
        size_t len = fuzz_figures_utf8((const unsigned char *)p + i, n - i);
        if (len == 0 || (c < 0x20 && c != '\n') || c == 0x7f)
            abort(); /* invalid UTF-8 or a control byte */
        if (c == '<' && !fuzz_figures_starts(p + i + 1, n - i - 1, fuzz_figures_tags,
                                             sizeof(fuzz_figures_tags) / sizeof(char *)))
            abort(); /* markup the writers did not write */
        if (c == '&' && !fuzz_figures_starts(p + i, n - i, fuzz_figures_entities,
                                             sizeof(fuzz_figures_entities) / sizeof(char *)))
            abort();
        i += len;
    }
    if (fuzz_figures_count(p, n, "<svg ") != fuzz_figures_count(p, n, "</svg>") ||
        fuzz_figures_count(p, n, "<g ") != fuzz_figures_count(p, n, "</g>") ||
        fuzz_figures_count(p, n, "<text ") != fuzz_figures_count(p, n, "</text>") ||
        fuzz_figures_count(p, n, "<title>") != fuzz_figures_count(p, n, "</title>"))
        abort();
}

/* A chunk: 2-byte length and the bytes; *p and *n move past it. */
static const uint8_t *fuzz_figures_chunk(const uint8_t **p, size_t *n, size_t *len)
{
    const uint8_t *c;

    if (*n < 2) {
        *len = 0;
        return *p;
    }
    *len = (size_t)((*p)[0] | (*p)[1] << 8);
    if (*len > *n - 2)
        *len = *n - 2;
    c = *p + 2;
    *p += 2 + *len;
    *n -= 2 + *len;
    return c;
}

/* The segment log from 16-byte records. */
static void fuzz_figures_log(struct flow *f, const uint8_t *p, size_t n)
{
    uint64_t t = f->first_ts_ns;

    for (; n >= 16; p += 16, n -= 16) {
        struct flow_seg e;
        memset(&e, 0, sizeof(e));
        t += (uint64_t)(p[0] | p[1] << 8) * 997;
        e.ts_ns = t;
        e.dir = p[2] & 1;
        e.flags = p[3];
        e.marks = (uint16_t)(p[4] | p[5] << 8);
        e.len = (uint32_t)(p[6] | p[7] << 8);
        memcpy(&e.rel_seq, p + 8, 4);
        memcpy(&e.rel_ack, p + 12, 4);
        e.win = (uint32_t)p[2] << 8;
        e.cstate = (uint8_t)(p[2] >> 1 & 0x7);
        e.sstate = (uint8_t)(p[2] >> 4 & 0xf);
        e.nsack = (uint8_t)(p[3] % (FLOW_SEG_SACK_MAX + 1));
        for (int i = 0; i < e.nsack; i++) {
            e.sack[i][0] = e.rel_ack + (uint32_t)p[4 + i] * 100;
            e.sack[i][1] = e.sack[i][0] + (uint32_t)p[5 + i] * 77;
        }
        flow_seglog_append(f, &e);
        f->d[e.dir].pkts++;
        f->d[e.dir].bytes += e.len;
        f->last_ts_ns = t;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct flow f;
    struct svg_fig o = { .standalone = 1 };
    struct engine_counters counters = { .packets = size };
    struct report_facts facts = { .link = "EN10MB", .counters = &counters, .version = "fuzz" };
    const uint8_t *req, *resp, *name;
    size_t nreq, nresp, nname;
    struct report *r;
    struct svg_buf s;
    char source[256];
    uint8_t flags;

    if (size < 2)
        return 0;
    flags = data[0];
    memset(&f, 0, sizeof(f));
    f.af = (data[0] & 1) ? 6 : 4;
    f.client[0] = 10;
    f.server[0] = 10;
    f.cport = 40000;
    f.sport = 80;
    f.first_ts_ns = f.last_ts_ns = 1700000000000000000ULL;
    f.rtt_ns = -1;
    f.closed_by = f.reset_by = FLOW_BY_NONE;
    f.log.cap = 4u << ((data[0] >> 1) & 3);
    o.max_rows = data[1];
    data += 2;
    size -= 2;
    req = fuzz_figures_chunk(&data, &size, &nreq);
    resp = fuzz_figures_chunk(&data, &size, &nresp);
    name = fuzz_figures_chunk(&data, &size, &nname);
    f.http = sniff_new();
    if (f.http) {
        sniff_segment(f.http, FLOW_C2S, 1, req, nreq, f.first_ts_ns, NULL);
        sniff_segment(f.http, FLOW_S2C, 1, resp, nresp, f.first_ts_ns + 1000, NULL);
    }
    fuzz_figures_log(&f, data, size);

    for (int kind = FIGURE_LADDER; kind <= FIGURE_TSG; kind++) {
        svg_buf_init(&s, NULL, NULL);
        figure_render(&s, &f, (enum figure_kind)kind, &o);
        fuzz_figures_check(&s);
        svg_buf_free(&s);
    }
    memcpy(source, name, nname < sizeof(source) - 1 ? nname : sizeof(source) - 1);
    source[nname < sizeof(source) - 1 ? nname : sizeof(source) - 1] = 0;
    facts.source = source;
    facts.filter = source;
    facts.first_ns = f.first_ts_ns;
    facts.last_ns = f.last_ts_ns;
    r = (flags & 8) ? report_new(o.max_rows) : NULL;
    if (r != NULL) {
        report_add(r, &f, NULL);
        svg_buf_init(&s, NULL, NULL);
        report_write(r, &facts, &s);
        fuzz_figures_check(&s);
        svg_buf_free(&s);
        report_free(r);
    }
    sniff_free(f.http);
    free(f.log.e);
    return 0;
}
