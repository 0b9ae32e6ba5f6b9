/* The ladder as an SVG figure (see svg_ladder.h), from ladder.c's rows. */
#include "monitor/svg_ladder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/ladder.h"
#include "monitor/sniff.h"
#include "monitor/tcp_track.h"

/* The figure's geometry, in pixels (11 px monospace: about 6.6 px a character). */
#define SVG_LADDER_W       1180
#define SVG_LADDER_X_TIME  8
#define SVG_LADDER_X_C     190 /* client lifeline */
#define SVG_LADDER_X_S     650 /* server lifeline */
#define SVG_LADDER_X_NOTE  750
#define SVG_LADDER_TOP     104 /* first row */
#define SVG_LADDER_ROW     26
#define SVG_LADDER_SLOPE   10             /* an arrow lands this much lower: it takes time */
#define SVG_LADDER_LEGEND  64             /* below the last row */
#define SVG_LADDER_NOTE_CP 64             /* note characters shown; the whole note is the tooltip */
#define SVG_LADDER_HEAD    9              /* arrow head length */
#define SVG_LADDER_TO      "\xe2\x86\x92" /* U+2192 RIGHTWARDS ARROW */

/* How a packet's arrow is drawn: what tells the kinds apart without colour. */
struct svg_ladder_style {
    const char *width; /* stroke width */
    const char *dash;  /* stroke-dasharray, NULL solid */
    int filled;        /* arrow head filled (data) or open (no payload) */
    int cross;         /* a cross at the head: a reset */
    int bold;          /* the label in bold: SYN and FIN */
};

/* A bit of a set and the class it gives a packet. */
struct svg_ladder_class {
    uint16_t bit;
    const char *cls;
};

static const struct svg_ladder_class svg_ladder_flag_classes[] = {
    { FLOW_TH_SYN, "syn" },
    { FLOW_TH_FIN, "fin" },
    { FLOW_TH_RST, "rst" },
    { FLOW_TH_PSH, "psh" },
};

static const struct svg_ladder_class svg_ladder_mark_classes[] = {
    { FLOW_SEG_RETRANS, "retrans" },   { FLOW_SEG_FAST_RETRANS, "fastretrans" },
    { FLOW_SEG_SPURIOUS, "spurious" }, { FLOW_SEG_DUP_ACK, "dupack" },
    { FLOW_SEG_WIN_UPDATE, "winupd" }, { FLOW_SEG_ZERO_WIN, "zerowin" },
    { FLOW_SEG_ZWP, "zwp" },           { FLOW_SEG_KEEPALIVE, "keepalive" },
    { FLOW_SEG_OUT_OF_ORDER, "ooo" },  { FLOW_SEG_LOST, "lost" },
    { FLOW_SEG_HTTP_REQ, "req" },      { FLOW_SEG_HTTP_RESP, "resp" },
    { FLOW_SEG_HANDSHAKE_DONE, "hs" },
};

#define SVG_LADDER_N(a) (sizeof(a) / sizeof((a)[0]))

/* "pkt c2s syn ack data ..." for a row. */
static void svg_ladder_classes(const struct ladder_row *r, uint8_t flags, char *buf, size_t n)
{
    size_t off = (size_t)snprintf(buf, n, "pkt %s", r->dir == FLOW_C2S ? "c2s" : "s2c");

    for (size_t i = 0; i < SVG_LADDER_N(svg_ladder_flag_classes) && off < n; i++)
        if (flags & svg_ladder_flag_classes[i].bit)
            off += (size_t)snprintf(buf + off, n - off, " %s", svg_ladder_flag_classes[i].cls);
    if (off < n && r->len > 0)
        off += (size_t)snprintf(buf + off, n - off, " data");
    else if (off < n &&
             (flags & (FLOW_TH_ACK | FLOW_TH_SYN | FLOW_TH_FIN | FLOW_TH_RST)) == FLOW_TH_ACK)
        off += (size_t)snprintf(buf + off, n - off, " ack");
    for (size_t i = 0; i < SVG_LADDER_N(svg_ladder_mark_classes) && off < n; i++)
        if (r->marks & svg_ladder_mark_classes[i].bit)
            off += (size_t)snprintf(buf + off, n - off, " %s", svg_ladder_mark_classes[i].cls);
}

static void svg_ladder_style_of(const struct ladder_row *r, uint8_t flags,
                                struct svg_ladder_style *st)
{
    *st = (struct svg_ladder_style){ .width = r->len > 0 ? "2" : "1", .filled = r->len > 0 };
    st->bold = (flags & (FLOW_TH_SYN | FLOW_TH_FIN)) != 0;
    if (flags & FLOW_TH_RST) {
        st->width = "2.5";
        st->cross = 1;
    } else if (r->marks & FLOW_SEG_RETRANS) {
        st->dash = "8 4";
    } else if (r->marks & FLOW_SEG_DUP_ACK) {
        st->dash = "2 3";
    } else if (r->marks & (FLOW_SEG_WIN_UPDATE | FLOW_SEG_ZERO_WIN | FLOW_SEG_ZWP)) {
        st->dash = "6 3 2 3";
    }
}

/* One arrow from one lifeline to the other, y at its tail. */
static void svg_ladder_arrow(struct svg_buf *s, int c2s, double x1, double x2, double y,
                             const struct svg_ladder_style *st)
{
    double y2 = y + SVG_LADDER_SLOPE, back = c2s ? -SVG_LADDER_HEAD : SVG_LADDER_HEAD;
    char attrs[96];

    snprintf(attrs, sizeof(attrs), "stroke=\"#333\" stroke-width=\"%s\"%s%s%s", st->width,
             st->dash ? " stroke-dasharray=\"" : "", st->dash ? st->dash : "",
             st->dash ? "\"" : "");
    svg_line(s, x1, y, x2, y2, "arrow", attrs);
    svg_printf(s,
               "<path class=\"head%s\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" stroke=\"#333\" "
               "fill=\"%s\"/>\n",
               st->filled ? " fill" : "", x2, y2, x2 + back, y2 - 3.5, x2 + back, y2 + 3.5,
               st->filled ? "#333" : "#ffffff");
    if (st->cross) {
        svg_line(s, x2 + back - 5, y2 - 6, x2 + back + 3, y2 + 6, "head",
                 "stroke=\"#333\" "
                 "stroke-width=\"2\"");
        svg_line(s, x2 + back - 5, y2 + 6, x2 + back + 3, y2 - 6, "head",
                 "stroke=\"#333\" "
                 "stroke-width=\"2\"");
    }
}

/* The state labels beside the lifelines, for the sides whose state changed. */
static void svg_ladder_states(struct svg_buf *s, const struct ladder_row *r, uint8_t *pc,
                              uint8_t *ps, double y)
{
    if (r->cstate != *pc && r->cstate != FLOW_TCPS_UNKNOWN)
        svg_text(s, SVG_LADDER_X_C - 8, y + SVG_LADDER_SLOPE, SVG_END, "state",
                 flow_tcp_state_name((enum flow_tcp_state)r->cstate), 0);
    if (r->sstate != *ps && r->sstate != FLOW_TCPS_UNKNOWN)
        svg_text(s, SVG_LADDER_X_S + 8, y + SVG_LADDER_SLOPE, SVG_START, "state",
                 flow_tcp_state_name((enum flow_tcp_state)r->sstate), 0);
    *pc = r->cstate;
    *ps = r->sstate;
}

/* The row's note, and its SACK blocks (which the text ladder leaves out). */
static void svg_ladder_note(struct svg_buf *s, const struct ladder_row *r, double y)
{
    char note[LADDER_NOTE_MAX + 96];
    size_t off = (size_t)snprintf(note, sizeof(note), "%s", r->note);

    for (uint8_t i = 0; i < r->nsack && i < FLOW_SEG_SACK_MAX && off < sizeof(note); i++)
        off += (size_t)snprintf(note + off, sizeof(note) - off, "%sSACK %u-%u",
                                off ? (i ? " " : "; ") : "", r->sack[i][0], r->sack[i][1]);
    if (note[0])
        svg_text(s, SVG_LADDER_X_NOTE, y + 9, SVG_START, "note", note, SVG_LADDER_NOTE_CP);
}

/*
 * One packet: its group (classes and numbers), time, arrow, label, note and
 * the state changes it caused (*pc, *ps: the states of the row drawn before).
 */
static void svg_ladder_packet(struct svg_buf *s, const struct ladder_row *r, size_t n, double y,
                              uint8_t *pc, uint8_t *ps)
{
    uint8_t flags = r->th;
    int c2s = r->dir == FLOW_C2S;
    struct svg_ladder_style st;
    char cls[160], label[96], t[32];

    svg_ladder_classes(r, flags, cls, sizeof(cls));
    svg_ladder_style_of(r, flags, &st);
    snprintf(t, sizeof(t), "%.6f", r->rel_s);
    snprintf(label, sizeof(label), "%s seq=%u ack=%u len=%u win=%u", r->flags[0] ? r->flags : "-",
             r->seq, r->ack, r->len, r->win);
    svg_printf(s,
               "<g class=\"%s\" data-n=\"%zu\" data-t=\"%s\" data-flags=\"%s\" data-seq=\"%u\" "
               "data-ack=\"%u\" data-len=\"%u\" data-win=\"%u\">\n<title>",
               cls, n, t, r->flags, r->seq, r->ack, r->len, r->win);
    svg_esc_str(s, t, 0);
    svg_raw(s, " ");
    svg_esc_str(s, label, 0);
    if (r->note[0]) {
        svg_raw(s, ": ");
        svg_esc_str(s, r->note, 0);
    }
    svg_raw(s, "</title>\n");
    svg_text(s, SVG_LADDER_X_TIME, y + 4, SVG_START, "t", t, 0);
    svg_ladder_arrow(s, c2s, c2s ? SVG_LADDER_X_C : SVG_LADDER_X_S,
                     c2s ? SVG_LADDER_X_S : SVG_LADDER_X_C, y, &st);
    svg_printf(s, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" class=\"lbl\"%s>",
               (SVG_LADDER_X_C + SVG_LADDER_X_S) / 2, y - 1,
               st.bold ? " font-weight=\"bold\"" : "");
    svg_esc_str(s, label, 0);
    svg_raw(s, "</text>\n");
    svg_ladder_note(s, r, y);
    svg_ladder_states(s, r, pc, ps, y);
    svg_raw(s, "</g>\n");
}

/* A row for packets not drawn: the log's dropped middle or the figure's own limit. */
static void svg_ladder_gap(struct svg_buf *s, const char *what, double y)
{
    svg_text(s, (SVG_LADDER_X_C + SVG_LADDER_X_S) / 2.0, y + 8, SVG_MIDDLE, "gap", what, 0);
}

void svg_ladder_title(const struct flow *f, char *buf, size_t n)
{
    char c[64], sv[64];
    const struct sniff_txn *t = f->http && sniff_count(f->http) ? sniff_get(f->http, 0) : NULL;
    size_t more = f->http ? sniff_count(f->http) + sniff_dropped(f->http) : 0;
    int w;

    ladder_endpoint_str(f->af, f->client, f->cport, c, sizeof(c));
    ladder_endpoint_str(f->af, f->server, f->sport, sv, sizeof(sv));
    w = snprintf(buf, n, "stream %llu: %s " SVG_LADDER_TO " %s", (unsigned long long)f->id, c, sv);
    if (t == NULL || w < 0 || (size_t)w >= n)
        return;
    if (t->status)
        snprintf(buf + w, n - (size_t)w, ", %s %s " SVG_LADDER_TO " %d%s", t->method, t->uri,
                 t->status, more > 1 ? " \xe2\x80\xa6" : "");
    else
        snprintf(buf + w, n - (size_t)w, ", %s %s%s", t->method, t->uri,
                 more > 1 ? " \xe2\x80\xa6" : "");
}

/* Title, the totals (the numbers --json gives), the endpoint boxes and the lifelines. */
static void svg_ladder_head(struct svg_buf *s, const struct flow *f, double bottom)
{
    const struct flow_dir *c = &f->d[FLOW_C2S], *sv = &f->d[FLOW_S2C];
    char buf[640], ep[64], rtt[32] = "unknown";

    if (f->rtt_ns >= 0)
        snprintf(rtt, sizeof(rtt), "%.3f ms", (double)f->rtt_ns / 1e6);
    svg_ladder_title(f, buf, sizeof(buf));
    svg_text(s, SVG_LADDER_X_TIME, 18, SVG_START, "title", buf, 150);
    snprintf(
        buf, sizeof(buf),
        "%llu packets (%llu client" SVG_LADDER_TO "server, %llu server" SVG_LADDER_TO "client), "
        "payload %llu / %llu bytes, %u retransmissions, RTT %s, %s %s",
        (unsigned long long)(c->pkts + sv->pkts), (unsigned long long)c->pkts,
        (unsigned long long)sv->pkts, (unsigned long long)c->bytes, (unsigned long long)sv->bytes,
        c->retrans + sv->retrans, rtt, tcp_track_conn_state(f), f->history);
    svg_text(s, SVG_LADDER_X_TIME, 36, SVG_START, "caption", buf, 0);
    for (int side = 0; side < 2; side++) {
        double x = side ? SVG_LADDER_X_S : SVG_LADDER_X_C;
        ladder_endpoint_str(f->af, side ? f->server : f->client, side ? f->sport : f->cport, ep,
                            sizeof(ep));
        svg_rect(s, x - 95, 50, 190, 34, "endpoint", "fill=\"#ffffff\" stroke=\"#333\"");
        svg_text(s, x, 64, SVG_MIDDLE, "role", side ? "server" : "client", 0);
        svg_text(s, x, 78, SVG_MIDDLE, "addr", ep, 0);
        svg_line(s, x, 84, x, bottom, "lifeline", "stroke=\"#333\"");
    }
    svg_text(s, SVG_LADDER_X_TIME, 78, SVG_START, "t", "time (s)", 0);
}

/* The key to the line styles, drawn as the packets are. */
static void svg_ladder_legend(struct svg_buf *s, double y)
{
    static const struct {
        struct svg_ladder_style st;
        const char *what;
    } keys[] = {
        { { "2", NULL, 1, 0, 0 }, "data" },
        { { "1", NULL, 0, 0, 0 }, "ACK only" },
        { { "2", "8 4", 1, 0, 0 }, "retransmission" },
        { { "1", "2 3", 0, 0, 0 }, "duplicate ACK" },
        { { "1", "6 3 2 3", 0, 0, 0 }, "window update / zero window" },
        { { "2.5", NULL, 0, 1, 0 }, "reset (RST)" },
    };

    double x = SVG_LADDER_X_TIME;

    for (size_t i = 0; i < SVG_LADDER_N(keys); i++) {
        svg_ladder_arrow(s, 1, x, x + 60, y, &keys[i].st);
        svg_text(s, x + 66, y + 9, SVG_START, "key", keys[i].what, 0);
        x += 66 + 6.7 * (double)strlen(keys[i].what) + 28;
    }
    svg_text(s, SVG_LADDER_X_TIME, y + 34, SVG_START, "key",
             "bold label: SYN or FIN; state names beside a lifeline: that side's TCP state "
             "after the packet; times in seconds since the first packet",
             0);
}

/* Which rows are drawn: all, or the first and last half of max with a gap between. */
struct svg_ladder_pick {
    size_t head, tail_from, n; /* rows [0, head) and [tail_from, n) */
};

static void svg_ladder_choose(size_t n, uint32_t max, struct svg_ladder_pick *p)
{
    p->n = n;
    p->head = n;
    p->tail_from = n;
    if (max == 0 || n <= max)
        return;
    p->head = max / 2;
    p->tail_from = n - (max - max / 2);
}

int svg_ladder_write(struct svg_buf *s, const struct flow *f, const struct svg_fig *o)
{
    size_t cap = ladder_count(f), n;
    struct ladder_row *rows = calloc(cap ? cap : 1, sizeof(*rows));
    struct svg_ladder_pick pick;
    uint8_t pc = FLOW_TCPS_UNKNOWN, ps = FLOW_TCPS_UNKNOWN;
    char title[640], gap[96];
    double y = SVG_LADDER_TOP;
    size_t drawn, num = 0;

    if (rows == NULL) {
        s->failed = 1;
        return -1;
    }
    n = ladder_build(f, rows, cap);
    svg_ladder_choose(n, o->max_rows, &pick);
    drawn = pick.head + (pick.n - pick.tail_from) + (pick.head < pick.tail_from);
    svg_ladder_title(f, title, sizeof(title));
    svg_doc_open(s, o, SVG_LADDER_W,
                 (int)(SVG_LADDER_TOP + drawn * SVG_LADDER_ROW + SVG_LADDER_LEGEND), "ladder",
                 title);
    svg_ladder_head(s, f, SVG_LADDER_TOP + (double)drawn * SVG_LADDER_ROW);
    for (size_t i = 0; i < n; i++, y += SVG_LADDER_ROW) {
        if (i == pick.head && pick.head < pick.tail_from) {
            snprintf(gap, sizeof(gap),
                     "\xe2\x8b\xaf %zu packets not drawn (--svg-max %u) \xe2\x8b\xaf",
                     pick.tail_from - pick.head, o->max_rows);
            svg_ladder_gap(s, gap, y);
            for (; i < pick.tail_from; i++)
                num += rows[i].kind == LADDER_SEGMENT;
            i--;
            pc = ps = FLOW_TCPS_UNKNOWN;
            continue;
        }
        if (rows[i].kind == LADDER_GAP) {
            snprintf(gap, sizeof(gap), "\xe2\x8b\xaf %u segments not kept by labmon \xe2\x8b\xaf",
                     rows[i].len);
            svg_ladder_gap(s, gap, y);
            pc = ps = FLOW_TCPS_UNKNOWN;
            continue;
        }
        svg_ladder_packet(s, &rows[i], num++, y, &pc, &ps);
    }
    svg_ladder_legend(s, y + 12);
    svg_doc_close(s);
    free(rows);
    return s->failed ? -1 : 0;
}
