/*
 * Per-segment TCP accounting. Three independent observers share the
 * segment: Wireshark's sequence analysis (so expert counts match tshark),
 * a textbook state machine for each endpoint, and Zeek's endpoint states
 * and history letters (so conn_state matches Zeek's conn.log).
 */
#include "monitor/tcp_track.h"

#include <stddef.h>
#include <string.h>

#define TCP_TRACK_SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define TCP_TRACK_SEQ_LE(a, b) ((int32_t)((a) - (b)) <= 0)
#define TCP_TRACK_SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define TCP_TRACK_SEQ_GE(a, b) ((int32_t)((a) - (b)) >= 0)

/* ---------------------------------------------------------------------- */
/* Wireshark: window scaling and tcp_analyze_sequence_number()            */
/* ---------------------------------------------------------------------- */

/* SYN options: record them and settle window scaling like Wireshark does. */
static void tcp_track_ws_syn_options(struct flow *f, enum flow_dir_id dir,
                                     const struct decode_seg *p)
{
    struct flow_dir *fwd = &f->d[dir], *rev = &f->d[!dir];
    const struct decode_tcp_opts *o = &p->opts;

    fwd->syn.present = 0;
    if (o->present & DECODE_OPT_MSS) {
        fwd->syn.present |= FLOW_SYNOPT_MSS;
        fwd->syn.mss = o->mss;
    }
    if (o->present & DECODE_OPT_SACK_PERM)
        fwd->syn.present |= FLOW_SYNOPT_SACK_PERM;
    if (o->present & DECODE_OPT_TS)
        fwd->syn.present |= FLOW_SYNOPT_TS;
    if (o->present & DECODE_OPT_TFO) {
        fwd->syn.present |= FLOW_SYNOPT_TFO;
        fwd->syn.tfo_cookie_len = o->tfo_len;
    }
    if (o->present & DECODE_OPT_WS) {
        fwd->syn.present |= FLOW_SYNOPT_WS;
        fwd->syn.wscale = o->wscale;
        /* RFC 7323: shifts above 14 are treated as 14. */
        fwd->win_shift = o->wscale > 14 ? 14 : o->wscale;
    }
    int is_synack = (p->flags & FLOW_TH_ACK) != 0;
    if (fwd->win_shift == -1) {
        /* This SYN offers no scaling: nobody will scale. */
        fwd->win_shift = -2;
        rev->win_shift = -2;
    } else if (is_synack && rev->win_shift == -2) {
        fwd->win_shift = -2;
    }
}

static uint32_t tcp_track_ws_window(const struct flow_dir *fwd, const struct decode_seg *p)
{
    if (!(p->flags & FLOW_TH_SYN) && fwd->win_shift >= 0)
        return (uint32_t)p->win << fwd->win_shift;
    return p->win;
}

/* The expert counter each mark adds to (Wireshark's tcp.analysis.* counts). */
static const struct tcp_track_counter {
    uint16_t mark;
    uint16_t off; /* of a uint32_t in struct flow_dir */
} tcp_track_counters[] = {
    { FLOW_SEG_RETRANS, offsetof(struct flow_dir, retrans) },
    { FLOW_SEG_FAST_RETRANS, offsetof(struct flow_dir, fast_retrans) },
    { FLOW_SEG_SPURIOUS, offsetof(struct flow_dir, spurious_retrans) },
    { FLOW_SEG_OUT_OF_ORDER, offsetof(struct flow_dir, out_of_order) },
    { FLOW_SEG_LOST, offsetof(struct flow_dir, lost_segments) },
    { FLOW_SEG_DUP_ACK, offsetof(struct flow_dir, dup_acks) },
    { FLOW_SEG_ZERO_WIN, offsetof(struct flow_dir, zero_windows) },
    { FLOW_SEG_WIN_UPDATE, offsetof(struct flow_dir, window_updates) },
    { FLOW_SEG_KEEPALIVE, offsetof(struct flow_dir, keep_alives) },
    { FLOW_SEG_ZWP, offsetof(struct flow_dir, zero_window_probes) },
};

static void tcp_track_count(struct flow_dir *d, uint16_t marks)
{
    uint32_t *n;
    size_t i;

    for (i = 0; marks != 0 && i < sizeof(tcp_track_counters) / sizeof(tcp_track_counters[0]); i++)
        if (marks & tcp_track_counters[i].mark) {
            n = (uint32_t *)(void *)((char *)d + tcp_track_counters[i].off);
            (*n)++;
        }
}

static void tcp_track_ws_analyze(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                                 uint32_t window, uint16_t *marks)
{
    struct flow_dir *fwd = &f->d[dir], *rev = &f->d[!dir];
    uint32_t seq = p->seq, ack = p->ack, seglen = p->payload_len;
    uint8_t flags = p->flags;
    uint64_t now = p->ts_ns;
    uint16_t m = 0;

    if (!fwd->isn_known) {
        fwd->isn = (flags & FLOW_TH_SYN) ? seq : seq - 1;
        fwd->isn_known = 1;
    }
    /* The peer's base comes from the first ACK (the SYN's ack field is junk). */
    if (!rev->isn_known && (flags & FLOW_TH_ACK)) {
        rev->isn = ack - 1;
        rev->isn_known = 1;
    }

    if (seglen == 1 && seq == fwd->next_seq && rev->ws_window == 0) {
        m |= FLOW_SEG_ZWP;
        goto finished_fwd;
    }
    if (window == 0 && !(flags & (FLOW_TH_RST | FLOW_TH_FIN | FLOW_TH_SYN)))
        m |= FLOW_SEG_ZERO_WIN;
    if (fwd->next_seq && TCP_TRACK_SEQ_GT(seq, fwd->next_seq) && !(flags & FLOW_TH_RST))
        m |= FLOW_SEG_LOST;
    if (seglen <= 1 && seq == fwd->next_seq - 1 &&
        !(flags & (FLOW_TH_SYN | FLOW_TH_FIN | FLOW_TH_RST)))
        m |= FLOW_SEG_KEEPALIVE;
    if (seglen == 0 && window && window != fwd->ws_window && seq == fwd->next_seq &&
        ack == fwd->last_ack && !(flags & (FLOW_TH_SYN | FLOW_TH_FIN | FLOW_TH_RST)))
        m |= FLOW_SEG_WIN_UPDATE;
    if (seglen == 0 && window && window == fwd->ws_window && seq == fwd->next_seq &&
        ack == fwd->last_ack && (rev->ws_lastsegflags & FLOW_SEG_KEEPALIVE) &&
        !(flags & (FLOW_TH_SYN | FLOW_TH_FIN | FLOW_TH_RST))) {
        m |= FLOW_SEG_KEEPALIVE_ACK;
        goto finished_fwd;
    }
    if (seglen == 0 && window == 0 && window == fwd->ws_window && seq == fwd->next_seq &&
        ack == fwd->last_ack && (rev->ws_lastsegflags & FLOW_SEG_ZWP) &&
        !(flags & (FLOW_TH_SYN | FLOW_TH_FIN | FLOW_TH_RST))) {
        m |= FLOW_SEG_ZWP_ACK;
        goto finished_fwd;
    }
    if (seglen == 0 && window && window == fwd->ws_window && seq == fwd->next_seq &&
        ack == fwd->last_ack && !(flags & (FLOW_TH_SYN | FLOW_TH_FIN | FLOW_TH_RST))) {
        fwd->ws_dupacknum = fwd->ws_dupacknum == -1 ? 1 : fwd->ws_dupacknum + 1;
        m |= FLOW_SEG_DUP_ACK;
    }

finished_fwd:
    if (ack != fwd->last_ack)
        fwd->ws_dupacknum = 0;

    /* ACKed unseen segment: only bookkeeping matters to later decisions. */
    if (rev->max_seq_acked && TCP_TRACK_SEQ_GT(ack, rev->max_seq_acked) && (flags & FLOW_TH_ACK)) {
        if (rev->max_seq_acked > rev->next_seq)
            rev->max_seq_acked = rev->next_seq;
        else
            rev->ws_dupacknum = -1;
    }

    if (seglen > 0 || (flags & (FLOW_TH_SYN | FLOW_TH_FIN))) {
        int not_advanced = fwd->next_seq && TCP_TRACK_SEQ_LT(seq, fwd->next_seq);
        if (m & FLOW_SEG_KEEPALIVE)
            goto finished_rexmit;
        if (seglen > 1 && fwd->next_seq - 1 == seq)
            not_advanced = 0;
        if (seglen > 0 && rev->last_ack && TCP_TRACK_SEQ_LE(seq + seglen, rev->last_ack)) {
            m |= FLOW_SEG_SPURIOUS | FLOW_SEG_RETRANS;
            goto finished_rexmit;
        }
        uint64_t t = now - rev->ws_lastack_ts_ns;
        if (not_advanced && rev->ws_dupacknum >= 2 && rev->last_ack == seq && t < 20000000) {
            m |= FLOW_SEG_FAST_RETRANS | FLOW_SEG_RETRANS;
            goto finished_rexmit;
        }
        t = now - fwd->ws_nextseq_ts_ns;
        uint64_t ooo = f->rtt_ns > 0 ? (uint64_t)f->rtt_ns : 3000000;
        if (not_advanced && t < ooo &&
            fwd->next_seq != seq + seglen + ((flags & (FLOW_TH_SYN | FLOW_TH_FIN)) ? 1 : 0)) {
            m |= FLOW_SEG_OUT_OF_ORDER;
            goto finished_rexmit;
        }
        if (not_advanced)
            m |= FLOW_SEG_RETRANS;
    }
finished_rexmit:;

    uint32_t nextseq = seq + seglen;
    if (seglen || (flags & (FLOW_TH_SYN | FLOW_TH_FIN))) {
        if (flags & (FLOW_TH_SYN | FLOW_TH_FIN))
            nextseq++;
    }
    if (TCP_TRACK_SEQ_GT(nextseq, fwd->next_seq) || !fwd->next_seq) {
        if (!(m & FLOW_SEG_ZWP)) {
            fwd->next_seq = nextseq;
            fwd->next_seq_known = 1;
            fwd->ws_nextseq_ts_ns = now;
        }
    }
    if (seq == fwd->max_seq_acked || !fwd->max_seq_acked) {
        if (!(m & FLOW_SEG_ZWP))
            fwd->max_seq_acked = fwd->next_seq;
    }
    fwd->ws_window = window;
    fwd->last_ack = ack;
    fwd->last_ack_known = 1;
    fwd->ws_lastack_ts_ns = now;
    fwd->ws_lastsegflags = m;

    tcp_track_count(fwd, m);
    *marks |= m;
}

/* ---------------------------------------------------------------------- */
/* Observer state machine (RFC 9293 states as seen from the wire)          */
/* ---------------------------------------------------------------------- */

static void tcp_track_set_state(struct flow_dir *d, enum flow_tcp_state s, uint8_t *events)
{
    if (d->state != s) {
        d->state = s;
        *events |= TCP_TRACK_EV_STATE;
    }
}

static int tcp_track_is_open(enum flow_tcp_state s)
{
    return s == FLOW_TCPS_ESTABLISHED || s == FLOW_TCPS_SYN_RECEIVED || s == FLOW_TCPS_SYN_SENT ||
           s == FLOW_TCPS_UNKNOWN || s == FLOW_TCPS_LISTEN;
}

static int tcp_track_is_done(enum flow_tcp_state s)
{
    return s == FLOW_TCPS_CLOSED || s == FLOW_TCPS_TIME_WAIT;
}

static void tcp_track_states(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                             uint8_t *events)
{
    struct flow_dir *x = &f->d[dir], *y = &f->d[!dir];
    uint8_t fl = p->flags;

    if (fl & FLOW_TH_RST) {
        if (x->state != FLOW_TCPS_CLOSED || y->state != FLOW_TCPS_CLOSED) {
            tcp_track_set_state(x, FLOW_TCPS_CLOSED, events);
            tcp_track_set_state(y, FLOW_TCPS_CLOSED, events);
        }
        return;
    }
    if (fl & FLOW_TH_SYN) {
        if (!(fl & FLOW_TH_ACK)) {
            if (x->state == FLOW_TCPS_UNKNOWN || x->state == FLOW_TCPS_CLOSED ||
                x->state == FLOW_TCPS_SYN_SENT || x->state == FLOW_TCPS_TIME_WAIT)
                tcp_track_set_state(x, FLOW_TCPS_SYN_SENT, events);
            if (y->state == FLOW_TCPS_UNKNOWN)
                tcp_track_set_state(y, FLOW_TCPS_LISTEN, events);
            else if (y->state == FLOW_TCPS_SYN_SENT) /* simultaneous open */
                tcp_track_set_state(y, FLOW_TCPS_SYN_RECEIVED, events);
        } else {
            if (x->state == FLOW_TCPS_UNKNOWN || x->state == FLOW_TCPS_LISTEN ||
                x->state == FLOW_TCPS_SYN_SENT)
                tcp_track_set_state(x, FLOW_TCPS_SYN_RECEIVED, events);
            if (y->state == FLOW_TCPS_SYN_SENT || y->state == FLOW_TCPS_UNKNOWN)
                tcp_track_set_state(y, FLOW_TCPS_ESTABLISHED, events);
        }
    } else if (x->state == FLOW_TCPS_UNKNOWN && y->state == FLOW_TCPS_UNKNOWN) {
        /* Picked up mid-stream: both sides must have been established. */
        f->midstream = 1;
        tcp_track_set_state(x, FLOW_TCPS_ESTABLISHED, events);
        tcp_track_set_state(y, FLOW_TCPS_ESTABLISHED, events);
    } else if (x->state == FLOW_TCPS_UNKNOWN) {
        tcp_track_set_state(x, FLOW_TCPS_ESTABLISHED, events);
    }

    /* The ACK part: what of y's sequence space does x acknowledge? */
    if (fl & FLOW_TH_ACK) {
        if (y->state == FLOW_TCPS_SYN_RECEIVED && !(fl & FLOW_TH_SYN) && y->isn_known &&
            TCP_TRACK_SEQ_GT(p->ack, y->isn)) {
            tcp_track_set_state(y, FLOW_TCPS_ESTABLISHED, events);
            if (x->state == FLOW_TCPS_SYN_SENT || x->state == FLOW_TCPS_SYN_RECEIVED)
                tcp_track_set_state(x, FLOW_TCPS_ESTABLISHED, events);
        }
        if (y->fin_seen && TCP_TRACK_SEQ_GT(p->ack, y->fin_seq)) {
            if (y->state == FLOW_TCPS_FIN_WAIT_1)
                tcp_track_set_state(y, FLOW_TCPS_FIN_WAIT_2, events);
            else if (y->state == FLOW_TCPS_CLOSING)
                tcp_track_set_state(y, FLOW_TCPS_TIME_WAIT, events);
            else if (y->state == FLOW_TCPS_LAST_ACK)
                tcp_track_set_state(y, FLOW_TCPS_CLOSED, events);
        }
    }
    if (fl & FLOW_TH_FIN) {
        /* A FIN that does not acknowledge the peer's FIN crossed it on the
         * wire: a simultaneous close, so x goes through CLOSING. */
        int crossed = y->fin_seen && (!(fl & FLOW_TH_ACK) || !TCP_TRACK_SEQ_GT(p->ack, y->fin_seq));
        if (x->state == FLOW_TCPS_CLOSE_WAIT && crossed)
            tcp_track_set_state(x, FLOW_TCPS_CLOSING, events);
        else if (x->state == FLOW_TCPS_CLOSE_WAIT)
            tcp_track_set_state(x, FLOW_TCPS_LAST_ACK, events);
        else if (tcp_track_is_open(x->state))
            tcp_track_set_state(x, FLOW_TCPS_FIN_WAIT_1, events);
        /* y receives the FIN. */
        if (tcp_track_is_open(y->state))
            tcp_track_set_state(y, FLOW_TCPS_CLOSE_WAIT, events);
        else if (y->state == FLOW_TCPS_FIN_WAIT_1)
            tcp_track_set_state(y, FLOW_TCPS_CLOSING, events);
        else if (y->state == FLOW_TCPS_FIN_WAIT_2)
            tcp_track_set_state(y, FLOW_TCPS_TIME_WAIT, events);
    }
}

/* ---------------------------------------------------------------------- */
/* Zeek: endpoint states, history letters, conn_state                     */
/* ---------------------------------------------------------------------- */

#define TCP_TRACK_HIST_SYN        0x001
#define TCP_TRACK_HIST_FIN        0x002
#define TCP_TRACK_HIST_RST        0x004
#define TCP_TRACK_HIST_FIN_RST    0x008
#define TCP_TRACK_HIST_DATA       0x010
#define TCP_TRACK_HIST_ACK        0x020
#define TCP_TRACK_HIST_MULTI_FLAG 0x040

/* Zeek's likely_server_ports from the default analyzers' registered ports. */
static const uint16_t tcp_track_zeek_server_ports[] = {
    21,   22,   23,   25,   53,   67,   69,   80,   81,   88,   110,  111,  123,  135,   137,  139,
    143,  161,  162,  179,  389,  443,  445,  502,  512,  513,  514,  563,  585,  587,   614,  631,
    636,  989,  990,  992,  993,  995,  1080, 1723, 1812, 2049, 2811, 3128, 3306, 3389,  5060, 5222,
    5223, 5269, 5353, 5355, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
};

int tcp_track_likely_server_port(uint16_t port)
{
    for (size_t i = 0;
         i < sizeof(tcp_track_zeek_server_ports) / sizeof(tcp_track_zeek_server_ports[0]); i++)
        if (tcp_track_zeek_server_ports[i] == port)
            return 1;
    return 0;
}

static void tcp_track_z_add(struct flow *f, char c)
{
    if ((size_t)f->history_len + 1 < sizeof(f->history)) {
        f->history[f->history_len++] = c;
        f->history[f->history_len] = 0;
    }
}

static int tcp_track_z_is_orig(const struct flow *f, enum flow_dir_id dir)
{
    return (uint8_t)dir == f->zeek_orig;
}

static char tcp_track_z_code(const struct flow *f, enum flow_dir_id dir, char upper)
{
    return tcp_track_z_is_orig(f, dir) ? upper : (char)(upper - 'A' + 'a');
}

/* Zeek's Connection::CheckHistory: true if the letter was already recorded. */
static int tcp_track_z_check(struct flow *f, enum flow_dir_id dir, uint32_t mask, char upper)
{
    if (!tcp_track_z_is_orig(f, dir))
        mask <<= 16;
    if (!(f->zeek_hist_seen & mask)) {
        f->zeek_hist_seen |= mask;
        tcp_track_z_add(f, tcp_track_z_code(f, dir, upper));
        return 0;
    }
    return 1;
}

/* Logarithmic letters: recorded at the 1st, 10th, 100th ... event. */
enum { TCP_TRACK_ZL_C = 0, TCP_TRACK_ZL_G, TCP_TRACK_ZL_T, TCP_TRACK_ZL_W };

static void tcp_track_z_scaled(struct flow *f, enum flow_dir_id dir, int which, char upper)
{
    struct flow_dir *d = &f->d[dir];
    if (d->z_log_next[which] == 0)
        d->z_log_next[which] = 1;
    if (++d->z_log_count[which] == d->z_log_next[which]) {
        tcp_track_z_add(f, tcp_track_z_code(f, dir, upper));
        if (d->z_log_next[which] < UINT32_MAX / 10)
            d->z_log_next[which] *= 10;
    }
}

static void tcp_track_z_set_state(struct flow_dir *d, enum flow_zeek_state s)
{
    if (d->zstate != s) {
        d->zprev_state = d->zstate;
        d->zstate = s;
    }
}

/* The first packet decides Zeek's originator (TCPAnalyzer::WantConnection). */
static void tcp_track_z_first_packet(struct flow *f, enum flow_dir_id dir,
                                     const struct decode_seg *p)
{
    f->zeek_orig = (uint8_t)dir;
    if (!(p->flags & FLOW_TH_SYN) || (p->flags & FLOW_TH_ACK)) {
        int flip = 0;
        if (tcp_track_likely_server_port(p->sport)) {
            if (tcp_track_likely_server_port(p->dport))
                flip = !(p->flags & FLOW_TH_SYN) && p->sport < p->dport;
            else
                flip = 1;
        }
        if (flip) {
            f->zeek_orig = (uint8_t)!dir;
            f->zeek_flipped = 1;
            tcp_track_z_add(f, '^');
        }
    }
}

static void tcp_track_z_state_machine(struct flow *f, enum flow_dir_id dir,
                                      const struct decode_seg *p, int is_orig)
{
    struct flow_dir *ep = &f->d[dir], *peer = &f->d[!dir];
    struct flow_dir *orig = &f->d[f->zeek_orig];
    uint8_t fl = p->flags;

    switch (ep->zstate) {
    case FLOW_ZEEK_INACTIVE:
        if (fl & FLOW_TH_SYN) {
            if (is_orig) {
                tcp_track_z_set_state(ep, (fl & FLOW_TH_ACK) ? FLOW_ZEEK_SYN_ACK_SENT
                                                             : FLOW_ZEEK_SYN_SENT);
            } else {
                if (!(fl & FLOW_TH_ACK) && peer->zstate == FLOW_ZEEK_SYN_ACK_SENT &&
                    p->seq == ep->z_start_seq) {
                    /* SYN / SYN-ACK reversal: Zeek flips the roles. */
                    f->zeek_orig = (uint8_t)dir;
                    f->zeek_flipped = !f->zeek_flipped;
                    tcp_track_z_add(f, '^');
                    tcp_track_z_set_state(peer, FLOW_ZEEK_ESTABLISHED);
                }
                if (peer->zstate == FLOW_ZEEK_SYN_SENT)
                    tcp_track_z_set_state(peer, FLOW_ZEEK_ESTABLISHED);
                tcp_track_z_set_state(ep, FLOW_ZEEK_ESTABLISHED);
            }
        }
        if (fl & FLOW_TH_FIN)
            tcp_track_z_set_state(ep, FLOW_ZEEK_CLOSED);
        if (fl & FLOW_TH_RST)
            tcp_track_z_set_state(ep, FLOW_ZEEK_RESET);
        if (ep->zstate == FLOW_ZEEK_INACTIVE) {
            if (!is_orig && p->payload_len == 0 && orig->zstate == FLOW_ZEEK_SYN_SENT)
                ; /* an ACK before the SYN reply: not a partial connection */
            else if ((fl & FLOW_TH_ACK) && peer->zstate == FLOW_ZEEK_ESTABLISHED)
                tcp_track_z_set_state(ep, FLOW_ZEEK_ESTABLISHED);
            else
                tcp_track_z_set_state(ep, FLOW_ZEEK_PARTIAL);
        }
        break;
    case FLOW_ZEEK_SYN_SENT:
    case FLOW_ZEEK_SYN_ACK_SENT:
        if (fl & FLOW_TH_FIN)
            tcp_track_z_set_state(ep, FLOW_ZEEK_CLOSED);
        if (fl & FLOW_TH_RST)
            tcp_track_z_set_state(ep, FLOW_ZEEK_RESET);
        break;
    case FLOW_ZEEK_ESTABLISHED:
    case FLOW_ZEEK_PARTIAL:
        if ((fl & FLOW_TH_SYN) && ep->zstate == FLOW_ZEEK_PARTIAL &&
            peer->zstate == FLOW_ZEEK_INACTIVE && !(fl & FLOW_TH_ACK))
            tcp_track_z_set_state(ep, FLOW_ZEEK_SYN_SENT);
        if ((fl & FLOW_TH_FIN) && !(fl & FLOW_TH_RST)) {
            tcp_track_z_set_state(ep, FLOW_ZEEK_CLOSED);
            if (peer->zstate == FLOW_ZEEK_RESET && peer->zprev_state == FLOW_ZEEK_CLOSED)
                tcp_track_z_set_state(peer, FLOW_ZEEK_CLOSED);
        }
        if (fl & FLOW_TH_RST)
            tcp_track_z_set_state(ep, FLOW_ZEEK_RESET);
        break;
    case FLOW_ZEEK_CLOSED:
        if ((fl & FLOW_TH_RST) && peer->zstate != FLOW_ZEEK_CLOSED)
            tcp_track_z_set_state(ep, FLOW_ZEEK_RESET);
        break;
    case FLOW_ZEEK_RESET:
        break;
    }
}

/* Zeek's init_endpoint: where the endpoint's sequence space starts (again, after a new SYN). */
static void tcp_track_z_init(struct flow_dir *ep, const struct decode_seg *p, int syn,
                             uint32_t seq_past)
{
    int restart;

    switch (ep->zstate) {
    case FLOW_ZEEK_INACTIVE:
        if (!syn) {
            ep->z_start_seq = ep->z_ack_seq = p->seq - 1;
            ep->z_last_seq_ep = p->seq;
            return;
        }
        restart = 1;
        break;
    case FLOW_ZEEK_SYN_SENT:
    case FLOW_ZEEK_SYN_ACK_SENT:
        restart = syn && p->seq != ep->z_start_seq;
        break;
    case FLOW_ZEEK_ESTABLISHED:
    case FLOW_ZEEK_PARTIAL:
        restart = syn;
        break;
    case FLOW_ZEEK_RESET:
        restart = syn && ep->zprev_state == FLOW_ZEEK_INACTIVE;
        break;
    default:
        restart = 0;
        break;
    }
    if (restart) {
        ep->z_start_seq = ep->z_ack_seq = p->seq;
        ep->z_last_seq_ep = seq_past;
    }
}

/* Zeek's update_history: the flag and data letters, a repeated SYN, FIN or RST recorded again. */
static void tcp_track_z_history(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                                uint32_t rel_seq)
{
    struct flow_dir *ep = &f->d[dir];
    uint8_t fl = p->flags;
    uint32_t len = p->payload_len;
    int syn = (fl & FLOW_TH_SYN) != 0, fin = (fl & FLOW_TH_FIN) != 0, rst = (fl & FLOW_TH_RST) != 0;
    char code;

    if (syn + fin + rst > 1) {
        if (fin && rst)
            tcp_track_z_check(f, dir, TCP_TRACK_HIST_FIN_RST, 'I');
        else
            tcp_track_z_check(f, dir, TCP_TRACK_HIST_MULTI_FLAG, 'Q');
    } else if (syn) {
        code = (fl & FLOW_TH_ACK) ? 'H' : 'S';
        if (tcp_track_z_check(f, dir, TCP_TRACK_HIST_SYN, code) && rel_seq != ep->z_last_seq[0])
            tcp_track_z_add(f, tcp_track_z_code(f, dir, code));
        ep->z_last_seq[0] = rel_seq;
    } else if (fin) {
        if (tcp_track_z_check(f, dir, TCP_TRACK_HIST_FIN, 'F') &&
            rel_seq + len != ep->z_last_seq[1])
            tcp_track_z_add(f, tcp_track_z_code(f, dir, 'F'));
        ep->z_last_seq[1] = rel_seq + len;
    } else if (rst) {
        if (tcp_track_z_check(f, dir, TCP_TRACK_HIST_RST, 'R') && rel_seq != ep->z_last_seq[2])
            tcp_track_z_add(f, tcp_track_z_code(f, dir, 'R'));
        ep->z_last_seq[2] = rel_seq;
    } else if (len) {
        tcp_track_z_check(f, dir, TCP_TRACK_HIST_DATA, 'D');
    } else if (fl & FLOW_TH_ACK) {
        tcp_track_z_check(f, dir, TCP_TRACK_HIST_ACK, 'A');
    }
}

/* The peer's acknowledged sequence space; returns the ack relative to the peer's start (0: none).
 */
static uint32_t tcp_track_z_ack(struct flow_dir *peer, const struct decode_seg *p, int rst)
{
    int32_t ra, da;

    if (!(p->flags & FLOW_TH_ACK))
        return 0;
    if (peer->zstate == FLOW_ZEEK_INACTIVE) {
        peer->z_start_seq = peer->z_ack_seq = peer->z_last_seq_ep = p->ack - 1;
        return 1;
    }
    ra = (int32_t)(p->ack - peer->z_start_seq);
    if (ra < 0)
        return 0;
    if (!rst) {
        da = (int32_t)(p->ack - peer->z_ack_seq);
        if (!(p->ack == 0 && da > 1048576) && da > 0)
            peer->z_ack_seq = p->ack;
    }
    return (uint32_t)ra;
}

/* Zeek's update_last_seq: the highest sequence sent; data below it is retransmitted ('T'). */
static void tcp_track_z_last_seq(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                                 uint32_t seq_past)
{
    struct flow_dir *ep = &f->d[dir];
    int32_t delta_last = (int32_t)(seq_past - ep->z_last_seq_ep);

    if ((p->flags & (FLOW_TH_SYN | FLOW_TH_RST)) && (delta_last > 1048576 || delta_last < -1048576))
        return;
    if ((p->flags & FLOW_TH_FIN) && ep->z_last_seq_ep == ep->z_start_seq + 1)
        ep->z_last_seq_ep = seq_past;
    else if (ep->zstate == FLOW_ZEEK_RESET)
        return;
    else if (delta_last > 0)
        ep->z_last_seq_ep = seq_past;
    else if (p->payload_len > 0)
        tcp_track_z_scaled(f, dir, TCP_TRACK_ZL_T, 'T');
}

/*
 * Content gaps: the peer acknowledged data of ours never seen. Zeek
 * reassembles only once there is payload, and ignores gaps revealed at the
 * close (FIN/RST) and the faked first byte of partial connections.
 */
static void tcp_track_z_gaps(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                             uint32_t rel_seq, uint32_t rel_ack)
{
    struct flow_dir *ep = &f->d[dir], *peer = &f->d[!dir];
    uint32_t len = p->payload_len, up_to;
    int rst = (p->flags & FLOW_TH_RST) != 0;
    uint32_t data_seq = (p->flags & FLOW_TH_SYN) ? rel_seq + 1 : rel_seq;

    if (len > 0 && !rst)
        f->zeek_reassembling = 1;
    /* Only payload actually captured reaches Zeek's reassembler. */
    if (len > 0 && !rst && p->payload_caplen >= len) {
        if (ep->z_reassem == 0)
            ep->z_reassem = 1;
        if (TCP_TRACK_SEQ_LE(data_seq, ep->z_reassem) &&
            TCP_TRACK_SEQ_GT(data_seq + len, ep->z_reassem))
            ep->z_reassem = data_seq + len;
    }
    if (!(p->flags & FLOW_TH_ACK) || !f->zeek_reassembling || !rel_ack)
        return;
    up_to = rel_ack;
    if (peer->z_fin_cnt > 0 && TCP_TRACK_SEQ_GE(up_to, peer->z_last_seq[3]))
        up_to = peer->z_last_seq[3] - 1;
    if (peer->z_reassem == 0)
        peer->z_reassem = 1;
    if (TCP_TRACK_SEQ_GT(up_to, peer->z_reassem)) {
        int partial_start = up_to <= 2 && (f->midstream || !f->client_by_syn);
        if (!partial_start && peer->zstate == FLOW_ZEEK_ESTABLISHED &&
            ep->zstate == FLOW_ZEEK_ESTABLISHED)
            tcp_track_z_scaled(f, (enum flow_dir_id) !dir, TCP_TRACK_ZL_G, 'G');
        peer->z_reassem = up_to;
    }
}

/* One segment as Zeek's TCP analyzer sees it, in its order of steps. */
static void tcp_track_zeek_observe(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p)
{
    struct flow_dir *ep = &f->d[dir], *peer = &f->d[!dir];
    uint8_t fl = p->flags;
    uint32_t len = p->payload_len, rel_seq, rel_ack;
    int syn = (fl & FLOW_TH_SYN) != 0, fin = (fl & FLOW_TH_FIN) != 0, rst = (fl & FLOW_TH_RST) != 0;
    int32_t seg_len = (int32_t)len + syn + fin - (rst ? (int32_t)len : 0);
    uint32_t seq_past = p->seq + (uint32_t)seg_len;
    int is_orig;

    if (f->d[0].pkts + f->d[1].pkts == 1)
        tcp_track_z_first_packet(f, dir, p);
    is_orig = tcp_track_z_is_orig(f, dir);
    tcp_track_z_init(ep, p, syn, seq_past);
    rel_seq = p->seq - ep->z_start_seq;
    tcp_track_z_history(f, dir, p, rel_seq);
    /* update_window: zero windows */
    if (p->win == 0 && !rst && peer->zstate != FLOW_ZEEK_CLOSED && ep->zstate != FLOW_ZEEK_RESET)
        tcp_track_z_scaled(f, dir, TCP_TRACK_ZL_W, 'W');
    if (fin) {
        ep->z_fin_cnt++;
        ep->z_last_seq[3] = rel_seq + (uint32_t)seg_len; /* Zeek's FIN_seq */
    }
    rel_ack = tcp_track_z_ack(peer, p, rst);
    tcp_track_z_last_seq(f, dir, p, seq_past);
    tcp_track_z_state_machine(f, dir, p, is_orig);
    tcp_track_z_gaps(f, dir, p, rel_seq, rel_ack);
}

const char *tcp_track_conn_state(const struct flow *f)
{
    const struct flow_dir *o = &f->d[f->zeek_orig], *r = &f->d[!f->zeek_orig];
    enum flow_zeek_state os = o->zstate, rs = r->zstate;
    int o_inactive = os == FLOW_ZEEK_INACTIVE || os == FLOW_ZEEK_PARTIAL;
    int r_inactive = rs == FLOW_ZEEK_INACTIVE || rs == FLOW_ZEEK_PARTIAL;

    if (rs == FLOW_ZEEK_RESET) {
        if (os == FLOW_ZEEK_SYN_SENT || os == FLOW_ZEEK_SYN_ACK_SENT ||
            (os == FLOW_ZEEK_RESET && o->zsize == 0 && r->zsize == 0))
            return "REJ";
        if (o_inactive)
            return "RSTRH";
        return "RSTR";
    }
    if (os == FLOW_ZEEK_RESET) {
        if (r_inactive) {
            /* /^\^?S[^HAFGIQ]*R.*$/ on the history */
            const char *h = f->history;
            if (*h == '^')
                h++;
            if (*h == 'S') {
                h++;
                while (*h && !strchr("HAFGIQ", *h) && *h != 'R')
                    h++;
                if (*h == 'R')
                    return "RSTOS0";
            }
            return "OTH";
        }
        return "RSTO";
    }
    if (rs == FLOW_ZEEK_CLOSED && os == FLOW_ZEEK_CLOSED)
        return "SF";
    if (os == FLOW_ZEEK_CLOSED)
        return r_inactive ? "SH" : "S2";
    if (rs == FLOW_ZEEK_CLOSED)
        return o_inactive ? "SHR" : "S3";
    if (os == FLOW_ZEEK_SYN_SENT && rs == FLOW_ZEEK_INACTIVE)
        return "S0";
    if (os == FLOW_ZEEK_ESTABLISHED && rs == FLOW_ZEEK_ESTABLISHED)
        return "S1";
    return "OTH";
}

/* Zeek's TCP_Endpoint::Size(): bytes of sequence space, SYN/FIN excluded. */
static uint64_t tcp_track_zeek_size(const struct flow_dir *d, const struct flow_dir *peer)
{
    if (d->zprev_state == FLOW_ZEEK_SYN_SENT && d->zstate == FLOW_ZEEK_RESET &&
        peer->zstate == FLOW_ZEEK_INACTIVE && d->z_ack_seq != d->z_start_seq)
        return 0;
    uint32_t last = d->z_last_seq_ep - d->z_start_seq;
    uint32_t ack = d->z_ack_seq - d->z_start_seq;
    uint64_t size = TCP_TRACK_SEQ_GT(d->z_last_seq_ep, d->z_ack_seq) ? last : ack;
    if (size)
        size--;
    if (d->z_fin_cnt && size)
        size--;
    return size;
}

/* ---------------------------------------------------------------------- */

void tcp_track_observe(struct flow *f, enum flow_dir_id dir, const struct decode_seg *p,
                       struct tcp_track_seg *out)
{
    struct flow_dir *x = &f->d[dir], *y = &f->d[!dir];
    uint8_t fl = p->flags;

    memset(out, 0, sizeof(*out));
    if (x->pkts == 0)
        x->first_ts_ns = p->ts_ns;
    x->pkts++;
    x->bytes += p->payload_len;
    x->last_ts_ns = p->ts_ns;
    f->last_ts_ns = p->ts_ns;

    if (fl & FLOW_TH_SYN)
        tcp_track_ws_syn_options(f, dir, p);
    uint32_t win = tcp_track_ws_window(x, p);
    x->win_raw = p->win;
    x->win = win;
    x->win_known = 1;

    tcp_track_ws_analyze(f, dir, p, win, &out->marks);

    /* Handshake times and RTT (SYN -> SYN/ACK -> ACK). */
    const struct flow_dir *cl = &f->d[FLOW_C2S], *sv = &f->d[FLOW_S2C];
    if ((fl & (FLOW_TH_SYN | FLOW_TH_ACK)) == FLOW_TH_SYN && dir == FLOW_C2S) {
        if (!x->syn_seen)
            f->syn_ts_ns = p->ts_ns;
        x->syn_seen = 1;
    } else if ((fl & (FLOW_TH_SYN | FLOW_TH_ACK)) == (FLOW_TH_SYN | FLOW_TH_ACK)) {
        if (!x->syn_seen) {
            f->synack_ts_ns = p->ts_ns;
            if (cl->syn_seen)
                f->rtt_server_ns = (int64_t)(p->ts_ns - f->syn_ts_ns);
        }
        x->syn_seen = 1;
    } else if ((fl & FLOW_TH_ACK) && !(fl & (FLOW_TH_SYN | FLOW_TH_RST)) && dir == FLOW_C2S &&
               sv->syn_seen && !f->handshake_done && y->isn_known && p->ack == y->isn + 1) {
        f->handshake_done = 1;
        f->ack_ts_ns = p->ts_ns;
        if (cl->syn_seen)
            f->rtt_ns = (int64_t)(p->ts_ns - f->syn_ts_ns);
        out->events |= TCP_TRACK_EV_HANDSHAKE;
        out->marks |= FLOW_SEG_HANDSHAKE_DONE;
    }

    tcp_track_states(f, dir, p, &out->events);

    if ((fl & FLOW_TH_FIN) && !x->fin_seen) {
        x->fin_seen = 1;
        x->fin_seq = p->seq + p->payload_len;
        out->events |= TCP_TRACK_EV_FIN;
        if (f->closed_by == FLOW_BY_NONE)
            f->closed_by = (int8_t)dir;
    }
    if ((fl & FLOW_TH_RST) && !x->rst_seen) {
        x->rst_seen = 1;
        out->events |= TCP_TRACK_EV_RST;
        if (f->reset_by == FLOW_BY_NONE)
            f->reset_by = (int8_t)dir;
        if (f->closed_by == FLOW_BY_NONE)
            f->closed_by = (int8_t)dir;
    }
    f->half_closed = (x->fin_seen != y->fin_seen) && !x->rst_seen && !y->rst_seen;
    if ((x->fin_seen && y->fin_seen) || x->rst_seen || y->rst_seen)
        f->closed = 1;
    /* "closed" is reported once both endpoints are done: after the last ACK
     * of a FIN exchange (CLOSED / TIME_WAIT on both sides) or on a RST. */
    if (f->closed && !f->close_reported && tcp_track_is_done(x->state) &&
        tcp_track_is_done(y->state)) {
        f->close_reported = 1;
        out->events |= TCP_TRACK_EV_CLOSED;
    }

    tcp_track_zeek_observe(f, dir, p);
    f->d[0].zsize = tcp_track_zeek_size(&f->d[0], &f->d[1]);
    f->d[1].zsize = tcp_track_zeek_size(&f->d[1], &f->d[0]);

    out->rel_seq = x->isn_known ? p->seq - x->isn : p->seq;
    out->rel_ack = (fl & FLOW_TH_ACK) && y->isn_known ? p->ack - y->isn : 0;
    out->win = win;
    x->last_marks = out->marks;
}
