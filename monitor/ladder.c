/* Ladder rows and their text rendering, from a flow's segment log. */
#include "monitor/ladder.h"
#include "monitor/sniff.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* What a bit of a set is called in the ladder. */
struct ladder_name {
    uint16_t bit;
    const char *text;
};

/* TCP flags, in Wireshark's order. */
static const struct ladder_name ladder_flags[] = {
    { FLOW_TH_SYN, "SYN" }, { FLOW_TH_FIN, "FIN" }, { FLOW_TH_RST, "RST" }, { FLOW_TH_PSH, "PSH" },
    { FLOW_TH_ACK, "ACK" }, { FLOW_TH_URG, "URG" }, { FLOW_TH_ECE, "ECE" }, { FLOW_TH_CWR, "CWR" },
};

/* Expert marks, as Wireshark words them (a plain retransmission is noted apart). */
static const struct ladder_name ladder_marks[] = {
    { FLOW_SEG_FAST_RETRANS, "Fast Retransmission" },
    { FLOW_SEG_SPURIOUS, "Spurious Retransmission" },
    { FLOW_SEG_OUT_OF_ORDER, "Out-Of-Order" },
    { FLOW_SEG_LOST, "Previous segment not captured" },
    { FLOW_SEG_DUP_ACK, "Dup ACK" },
    { FLOW_SEG_WIN_UPDATE, "Window Update" },
    { FLOW_SEG_ZERO_WIN, "Zero Window" },
    { FLOW_SEG_ZWP, "Zero Window Probe" },
    { FLOW_SEG_KEEPALIVE, "Keep-Alive" },
    { FLOW_SEG_KEEPALIVE_ACK, "Keep-Alive ACK" },
};

void ladder_endpoint_str(uint8_t af, const uint8_t *addr, uint16_t port, char *buf, size_t n)
{
    char a[INET6_ADDRSTRLEN] = "?";
    inet_ntop(af == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
    if (af == 6)
        snprintf(buf, n, "[%s]:%u", a, port);
    else
        snprintf(buf, n, "%s:%u", a, port);
}

void ladder_flags_str(uint8_t flags, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(ladder_flags) / sizeof(ladder_flags[0]); i++) {
        if (!(flags & ladder_flags[i].bit))
            continue;
        int w = snprintf(buf + off, n - off, "%s%s", off ? "," : "", ladder_flags[i].text);
        if (w < 0 || (size_t)w >= n - off)
            break;
        off += (size_t)w;
    }
}

size_t ladder_count(const struct flow *f)
{
    uint32_t n = flow_seglog_count(f);
    return n + (f->log.skipped ? 1 : 0);
}

/* Append text to a note, never overflowing. */
static void ladder_note_add(char *note, const char *text)
{
    size_t used = strlen(note);
    if (used && used + 2 < LADDER_NOTE_MAX) {
        memcpy(note + used, "; ", 2);
        used += 2;
    }
    size_t room = LADDER_NOTE_MAX - 1 - used, len = strlen(text);
    if (len > room)
        len = room;
    memcpy(note + used, text, len);
    note[used + len] = 0;
}

static void ladder_syn_note(const struct flow_synopts *s, char *note)
{
    char buf[96] = "";
    size_t off = 0;
    if (s->present & FLOW_SYNOPT_MSS)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "MSS=%u ", s->mss);
    if (s->present & FLOW_SYNOPT_WS)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "WS=%u ",
                                1u << (s->wscale > 14 ? 14 : s->wscale));
    if (s->present & FLOW_SYNOPT_SACK_PERM)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "SACK_PERM ");
    if (s->present & FLOW_SYNOPT_TS)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "TS ");
    if (s->present & FLOW_SYNOPT_TFO)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "TFO ");
    if (off && buf[off - 1] == ' ')
        buf[off - 1] = 0;
    if (*buf)
        ladder_note_add(note, buf);
}

/* The HTTP transaction whose request (or response) rode on this segment. */
static const struct sniff_txn *ladder_txn_at(const struct flow *f, uint64_t ts, int response)
{
    if (!f->http)
        return NULL;
    size_t n = sniff_count(f->http);
    for (size_t i = 0; i < n; i++) {
        const struct sniff_txn *t = sniff_get(f->http, i);
        if (t && (response ? t->resp_ts_ns : t->req_ts_ns) == ts)
            return t;
    }
    return NULL;
}

static void ladder_fill_note(const struct flow *f, const struct flow_seg *e,
                             const struct flow_seg *prev, struct ladder_row *r)
{
    char buf[512];
    const char *side = e->dir == FLOW_C2S ? "client" : "server";
    if (e->flags & FLOW_TH_SYN)
        ladder_syn_note(&f->d[e->dir].syn, r->note);
    if (e->marks & FLOW_SEG_HANDSHAKE_DONE) {
        if (f->rtt_ns >= 0)
            snprintf(buf, sizeof(buf), "3-way handshake done, RTT %.3f ms", f->rtt_ns / 1e6);
        else
            snprintf(buf, sizeof(buf), "3-way handshake done");
        ladder_note_add(r->note, buf);
    }
    if ((e->marks & FLOW_SEG_RETRANS) && !(e->marks & (FLOW_SEG_FAST_RETRANS | FLOW_SEG_SPURIOUS)))
        ladder_note_add(r->note, "Retransmission");
    for (size_t i = 0; i < sizeof(ladder_marks) / sizeof(ladder_marks[0]); i++)
        if (e->marks & ladder_marks[i].bit)
            ladder_note_add(r->note, ladder_marks[i].text);
    if (e->marks & FLOW_SEG_HTTP_REQ) {
        const struct sniff_txn *t = ladder_txn_at(f, e->ts_ns, 0);
        if (t) {
            snprintf(buf, sizeof(buf), "%s %s%s%s", t->method, t->uri, *t->range ? " Range: " : "",
                     t->range);
            ladder_note_add(r->note, buf);
        }
    }
    if (e->marks & FLOW_SEG_HTTP_RESP) {
        const struct sniff_txn *t = ladder_txn_at(f, e->ts_ns, 1);
        if (t) {
            snprintf(buf, sizeof(buf), "%d %s%s%s", t->status, t->reason,
                     *t->content_range ? " " : "", t->content_range);
            ladder_note_add(r->note, buf);
        }
    }
    uint8_t pc = prev ? prev->cstate : FLOW_TCPS_UNKNOWN,
            ps = prev ? prev->sstate : FLOW_TCPS_UNKNOWN;
    if ((e->flags & (FLOW_TH_FIN | FLOW_TH_RST)) ||
        (prev && (pc != e->cstate || ps != e->sstate) && e->cstate >= FLOW_TCPS_FIN_WAIT_1 &&
         !(e->flags & FLOW_TH_SYN))) {
        if (e->flags & FLOW_TH_RST)
            snprintf(buf, sizeof(buf), "RST from %s: client %s, server %s", side,
                     flow_tcp_state_name(e->cstate), flow_tcp_state_name(e->sstate));
        else if (e->flags & FLOW_TH_FIN)
            snprintf(buf, sizeof(buf), "FIN from %s: client %s, server %s", side,
                     flow_tcp_state_name(e->cstate), flow_tcp_state_name(e->sstate));
        else
            snprintf(buf, sizeof(buf), "client %s, server %s", flow_tcp_state_name(e->cstate),
                     flow_tcp_state_name(e->sstate));
        ladder_note_add(r->note, buf);
    }
}

size_t ladder_build(const struct flow *f, struct ladder_row *rows, size_t max)
{
    uint32_t n = flow_seglog_count(f), gap = flow_seglog_gap_index(f);
    size_t out = 0;
    const struct flow_seg *prev = NULL;
    for (uint32_t i = 0; i < n && out < max; i++) {
        if (i == gap && f->log.skipped) {
            struct ladder_row *g = &rows[out++];
            memset(g, 0, sizeof(*g));
            g->kind = LADDER_GAP;
            g->len = (uint32_t)(f->log.skipped > UINT32_MAX ? UINT32_MAX : f->log.skipped);
            snprintf(g->note, sizeof(g->note), "... %llu segments not kept ...",
                     (unsigned long long)f->log.skipped);
            if (out >= max)
                break;
            prev = NULL;
        }
        const struct flow_seg *e = flow_seglog_get(f, i);
        struct ladder_row *r = &rows[out++];
        memset(r, 0, sizeof(*r));
        r->kind = LADDER_SEGMENT;
        r->dir = e->dir;
        r->ts_ns = e->ts_ns;
        r->rel_s = (double)(e->ts_ns - f->first_ts_ns) / 1e9;
        ladder_flags_str(e->flags, r->flags, sizeof(r->flags));
        r->th = e->flags;
        r->seq = e->rel_seq;
        r->ack = e->rel_ack;
        r->len = e->len;
        r->win = e->win;
        r->marks = e->marks;
        r->nsack = e->nsack;
        memcpy(r->sack, e->sack, sizeof(r->sack));
        r->cstate = e->cstate;
        r->sstate = e->sstate;
        ladder_fill_note(f, e, prev, r);
        prev = e;
    }
    return out;
}

void ladder_format_header(const struct flow *f, int width, char *buf, size_t n)
{
    char c[64], s[64];
    ladder_endpoint_str(f->af, f->client, f->cport, c, sizeof(c));
    ladder_endpoint_str(f->af, f->server, f->sport, s, sizeof(s));
    int arrow = width < 60 ? 60 : width;
    arrow = arrow > 200 ? 200 : arrow;
    /* time (11) + client column, arrow area, server column */
    snprintf(buf, n, "%10s  %-22s %*s  %s", "time", c, 36, "", s);
    (void)arrow;
}

void ladder_format_row(const struct flow *f, const struct ladder_row *r, int width, char *buf,
                       size_t n)
{
    (void)f;
    if (r->kind == LADDER_GAP) {
        snprintf(buf, n, "%10s  %s", "", r->note);
        return;
    }
    char label[96];
    snprintf(label, sizeof(label), "%s seq=%u ack=%u len=%u win=%u", r->flags, r->seq, r->ack,
             r->len, r->win);
    int span = 56; /* arrow length between the two columns */
    if (width > 120)
        span = 64;
    char arrow[128];
    int ll = (int)strlen(label);
    if (ll > span - 4)
        ll = span - 4;
    int dashes = span - ll - 2;
    int left = dashes / 2, right = dashes - left;
    char *p = arrow;
    if (r->dir == FLOW_C2S) {
        for (int i = 0; i < left; i++)
            *p++ = '-';
        *p++ = ' ';
        memcpy(p, label, (size_t)ll);
        p += ll;
        *p++ = ' ';
        for (int i = 0; i < right - 1; i++)
            *p++ = '-';
        *p++ = '>';
    } else {
        *p++ = '<';
        for (int i = 0; i < left - 1; i++)
            *p++ = '-';
        *p++ = ' ';
        memcpy(p, label, (size_t)ll);
        p += ll;
        *p++ = ' ';
        for (int i = 0; i < right; i++)
            *p++ = '-';
    }
    *p = 0;
    snprintf(buf, n, "%10.6f  |%s|  %s", r->rel_s, arrow, r->note);
}
