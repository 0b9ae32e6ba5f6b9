/* Tests for monitor/tcp_track.c on hand-built segment sequences: observer
 * states, Wireshark's expert marks, RTT, Zeek conn_state and history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "monitor/flow.h"
#include "monitor/tcp_track.h"

#define C     FLOW_C2S
#define S     FLOW_S2C
#define ISN_C 1000u
#define ISN_S 5000u

struct conn {
    struct flow_table *t;
    struct flow *f;
    struct tcp_track_seg last;
};

static const uint8_t ip_c[4] = { 10, 0, 0, 1 }, ip_s[4] = { 10, 0, 0, 2 };

/* One segment; seq/ack relative to the sender's / peer's ISN; ts in ms. */
static void seg_opts(struct conn *c, enum flow_dir_id dir, uint8_t flags, uint32_t rseq,
                     uint32_t rack, uint32_t len, uint16_t win, uint64_t ms,
                     const struct decode_tcp_opts *opts)
{
    struct decode_seg d;
    memset(&d, 0, sizeof(d));
    d.af = 4;
    memcpy(d.src, dir == C ? ip_c : ip_s, 4);
    memcpy(d.dst, dir == C ? ip_s : ip_c, 4);
    d.sport = dir == C ? 40000 : 80;
    d.dport = dir == C ? 80 : 40000;
    d.seq = (dir == C ? ISN_C : ISN_S) + rseq;
    d.ack = (flags & FLOW_TH_ACK) ? (dir == C ? ISN_S : ISN_C) + rack : 0;
    d.flags = flags;
    d.win = win;
    d.payload_len = d.payload_caplen = len;
    d.ts_ns = ms * 1000000ULL;
    if (opts)
        d.opts = *opts;
    enum flow_dir_id got;
    c->f =
        flow_table_lookup(c->t, 4, d.src, d.dst, d.sport, d.dport, d.flags, d.seq, d.ts_ns, &got);
    assert_non_null(c->f);
    assert_int_equal(got, dir);
    tcp_track_observe(c->f, dir, &d, &c->last);
}

static void seg(struct conn *c, enum flow_dir_id dir, uint8_t flags, uint32_t rseq, uint32_t rack,
                uint32_t len, uint16_t win, uint64_t ms)
{
    seg_opts(c, dir, flags, rseq, rack, len, win, ms, NULL);
}

static int setup(void **state)
{
    static struct conn c;
    memset(&c, 0, sizeof(c));
    c.t = flow_table_new(16, 0);
    *state = &c;
    return 0;
}

static int teardown(void **state)
{
    struct conn *c = *state;
    flow_table_free(c->t);
    return 0;
}

static void handshake(struct conn *c)
{
    struct decode_tcp_opts o = { .present = DECODE_OPT_MSS | DECODE_OPT_WS | DECODE_OPT_SACK_PERM,
                                 .mss = 1460,
                                 .wscale = 7 };
    seg_opts(c, C, FLOW_TH_SYN, 0, 0, 0, 64240, 0, &o);
    assert_int_equal(c->f->d[C].state, FLOW_TCPS_SYN_SENT);
    assert_int_equal(c->f->d[S].state, FLOW_TCPS_LISTEN);
    o.wscale = 2;
    seg_opts(c, S, FLOW_TH_SYN | FLOW_TH_ACK, 0, 1, 0, 65160, 10, &o);
    assert_int_equal(c->f->d[S].state, FLOW_TCPS_SYN_RECEIVED);
    assert_int_equal(c->f->d[C].state, FLOW_TCPS_ESTABLISHED);
    seg(c, C, FLOW_TH_ACK, 1, 1, 0, 502, 12);
    assert_int_equal(c->f->d[S].state, FLOW_TCPS_ESTABLISHED);
    assert_true(c->last.events & TCP_TRACK_EV_HANDSHAKE);
}

static void test_normal_close_by_client(void **state)
{
    struct conn *c = *state;
    handshake(c);
    struct flow *f = c->f;
    assert_true(f->handshake_done);
    assert_int_equal(f->rtt_ns, 12000000);
    assert_int_equal(f->d[C].syn.mss, 1460);
    assert_int_equal(f->d[C].win_shift, 7);
    assert_int_equal(c->last.win, 502u << 7); /* scaled after the handshake */
    seg(c, C, FLOW_TH_PSH | FLOW_TH_ACK, 1, 1, 100, 502, 13);
    assert_int_equal(c->last.rel_seq, 1);
    seg(c, S, FLOW_TH_ACK, 1, 101, 0, 509, 14);
    seg(c, S, FLOW_TH_PSH | FLOW_TH_ACK, 1, 101, 3000, 509, 15);
    seg(c, C, FLOW_TH_ACK, 101, 3001, 0, 502, 16);
    seg(c, C, FLOW_TH_FIN | FLOW_TH_ACK, 101, 3001, 0, 502, 20);
    assert_true(c->last.events & TCP_TRACK_EV_FIN);
    assert_int_equal(f->d[C].state, FLOW_TCPS_FIN_WAIT_1);
    assert_int_equal(f->d[S].state, FLOW_TCPS_CLOSE_WAIT);
    assert_true(f->half_closed);
    seg(c, S, FLOW_TH_ACK, 3001, 102, 0, 509, 21);
    assert_int_equal(f->d[C].state, FLOW_TCPS_FIN_WAIT_2);
    seg(c, S, FLOW_TH_FIN | FLOW_TH_ACK, 3001, 102, 0, 509, 22);
    assert_int_equal(f->d[S].state, FLOW_TCPS_LAST_ACK);
    assert_int_equal(f->d[C].state, FLOW_TCPS_TIME_WAIT);
    assert_false(c->last.events & TCP_TRACK_EV_CLOSED);
    seg(c, C, FLOW_TH_ACK, 102, 3002, 0, 502, 23);
    assert_int_equal(f->d[S].state, FLOW_TCPS_CLOSED);
    assert_true(c->last.events & TCP_TRACK_EV_CLOSED);
    assert_int_equal(f->closed_by, C);
    assert_int_equal(f->reset_by, FLOW_BY_NONE);
    assert_false(f->half_closed);
    assert_int_equal(f->d[C].pkts, 6);
    assert_int_equal(f->d[S].pkts, 5);
    assert_int_equal(f->d[C].bytes, 100);
    assert_int_equal(f->d[S].bytes, 3000);
    assert_string_equal(tcp_track_conn_state(f), "SF");
    assert_string_equal(f->history, "ShADadFf");
    assert_int_equal(f->d[C].retrans + f->d[S].retrans, 0);
}

static void test_server_closes_first_and_simultaneous(void **state)
{
    struct conn *c = *state;
    handshake(c);
    struct flow *f = c->f;
    seg(c, S, FLOW_TH_FIN | FLOW_TH_ACK, 1, 1, 0, 509, 20);
    assert_int_equal(f->d[S].state, FLOW_TCPS_FIN_WAIT_1);
    assert_int_equal(f->d[C].state, FLOW_TCPS_CLOSE_WAIT);
    /* The client's FIN also acks the server's: server FIN_WAIT_1 -> TIME_WAIT. */
    seg(c, C, FLOW_TH_FIN | FLOW_TH_ACK, 1, 2, 0, 502, 21);
    assert_int_equal(f->d[C].state, FLOW_TCPS_LAST_ACK);
    assert_int_equal(f->d[S].state, FLOW_TCPS_TIME_WAIT);
    seg(c, S, FLOW_TH_ACK, 2, 2, 0, 509, 22);
    assert_int_equal(f->d[C].state, FLOW_TCPS_CLOSED);
    assert_int_equal(f->closed_by, S);
    assert_string_equal(tcp_track_conn_state(f), "SF");
}

static void test_simultaneous_close(void **state)
{
    struct conn *c = *state;
    handshake(c);
    struct flow *f = c->f;
    seg(c, C, FLOW_TH_FIN | FLOW_TH_ACK, 1, 1, 0, 502, 20);
    seg(c, S, FLOW_TH_FIN | FLOW_TH_ACK, 1, 1, 0, 509,
        20); /* crossed: does not ack the client FIN */
    assert_int_equal(f->d[S].state, FLOW_TCPS_CLOSING);
    assert_int_equal(f->d[C].state, FLOW_TCPS_CLOSING);
    seg(c, C, FLOW_TH_ACK, 2, 2, 0, 502, 21);
    seg(c, S, FLOW_TH_ACK, 2, 2, 0, 509, 21);
    assert_int_equal(f->d[C].state, FLOW_TCPS_TIME_WAIT);
    assert_int_equal(f->d[S].state, FLOW_TCPS_TIME_WAIT);
}

static void test_rejected_and_reset(void **state)
{
    struct conn *c = *state;
    seg(c, C, FLOW_TH_SYN, 0, 0, 0, 64240, 0);
    assert_string_equal(tcp_track_conn_state(c->f), "S0");
    seg(c, S, FLOW_TH_RST | FLOW_TH_ACK, 0, 1, 0, 0, 1);
    assert_string_equal(tcp_track_conn_state(c->f), "REJ");
    assert_string_equal(c->f->history, "Sr");
    assert_int_equal(c->f->reset_by, S);
    assert_int_equal(c->f->d[C].state, FLOW_TCPS_CLOSED);
    assert_true(c->last.events & TCP_TRACK_EV_RST);
    assert_true(c->last.events & TCP_TRACK_EV_CLOSED);
    /* A RST from the server is not a zero window (Wireshark skips RST). */
    assert_int_equal(c->f->d[S].zero_windows, 0);
}

static void test_client_reset_established(void **state)
{
    struct conn *c = *state;
    handshake(c);
    seg(c, C, FLOW_TH_PSH | FLOW_TH_ACK, 1, 1, 10, 502, 13);
    seg(c, C, FLOW_TH_RST | FLOW_TH_ACK, 11, 1, 0, 0, 14);
    assert_string_equal(tcp_track_conn_state(c->f), "RSTO");
    assert_int_equal(c->f->closed_by, C);
    assert_int_equal(c->f->reset_by, C);
    assert_string_equal(c->f->history, "ShADR");
}

static void test_expert_marks(void **state)
{
    struct conn *c = *state;
    handshake(c);
    struct flow *f = c->f;
    seg(c, S, FLOW_TH_ACK, 1, 1, 1000, 509, 20);
    seg(c, S, FLOW_TH_ACK, 1001, 1, 1000, 509, 21);
    /* Same data again, long after: a retransmission. */
    seg(c, S, FLOW_TH_ACK, 1001, 1, 1000, 509, 300);
    assert_true(c->last.marks & FLOW_SEG_RETRANS);
    assert_int_equal(f->d[S].retrans, 1);
    /* Client acks the first segment, then twice more the same: duplicate ACKs. */
    seg(c, C, FLOW_TH_ACK, 1, 1001, 0, 502, 301);
    assert_false(c->last.marks & FLOW_SEG_DUP_ACK);
    seg(c, C, FLOW_TH_ACK, 1, 1001, 0, 502, 302);
    assert_true(c->last.marks & FLOW_SEG_DUP_ACK);
    seg(c, C, FLOW_TH_ACK, 1, 1001, 0, 502, 303);
    assert_int_equal(f->d[C].dup_acks, 2);
    /* Same ack, new window: window update (not a dup ACK). */
    seg(c, C, FLOW_TH_ACK, 1, 1001, 0, 600, 304);
    assert_true(c->last.marks & FLOW_SEG_WIN_UPDATE);
    assert_false(c->last.marks & FLOW_SEG_DUP_ACK);
    /* Window 0: zero window. */
    seg(c, C, FLOW_TH_ACK, 1, 2001, 0, 0, 305);
    assert_true(c->last.marks & FLOW_SEG_ZERO_WIN);
    assert_int_equal(f->d[C].zero_windows, 1);
    /* A 1-byte probe at the next seq into a zero window. */
    seg(c, S, FLOW_TH_ACK, 2001, 1, 1, 509, 306);
    assert_true(c->last.marks & FLOW_SEG_ZWP);
    /* Keep-alive: seq one below next, no data. */
    seg(c, C, FLOW_TH_ACK, 0, 2001, 0, 600, 400);
    assert_true(c->last.marks & FLOW_SEG_KEEPALIVE);
    /* Data beyond the next expected seq: previous segment lost. */
    seg(c, S, FLOW_TH_ACK, 5001, 1, 100, 509, 500);
    assert_true(c->last.marks & FLOW_SEG_LOST);
    assert_int_equal(f->d[C].window_updates, 1);
    assert_int_equal(f->d[C].keep_alives, 1);
}

static void test_midstream_pickup(void **state)
{
    struct conn *c = *state;
    /* First segment is server data: heuristic makes port 80 the server. */
    seg(c, S, FLOW_TH_PSH | FLOW_TH_ACK, 501, 201, 100, 509, 0);
    struct flow *f = c->f;
    assert_true(f->midstream);
    assert_false(f->client_by_syn);
    assert_int_equal(f->d[C].state, FLOW_TCPS_ESTABLISHED);
    assert_int_equal(f->d[S].state, FLOW_TCPS_ESTABLISHED);
    assert_int_equal(c->last.rel_seq, 1); /* Wireshark: first seen seq is 1 */
    seg(c, C, FLOW_TH_ACK, 201, 601, 0, 502, 1);
    assert_int_equal(c->last.rel_seq, 1);
    assert_int_equal(c->last.rel_ack, 101);
    assert_int_equal(f->rtt_ns, -1);
    assert_false(f->handshake_done);
    /* Zeek: the first packet came from port 80, a likely server port: flipped. */
    assert_string_equal(f->history, "^dA");
    assert_string_equal(tcp_track_conn_state(f), "OTH");
}

static void test_port_reuse_new_record(void **state)
{
    struct conn *c = *state;
    handshake(c);
    struct flow *first = c->f;
    seg(c, C, FLOW_TH_RST | FLOW_TH_ACK, 1, 1, 0, 0, 20);
    /* A new SYN with another ISN on the same 4-tuple. */
    struct decode_seg d;
    memset(&d, 0, sizeof(d));
    enum flow_dir_id dir;
    struct flow *g = flow_table_lookup(c->t, 4, ip_c, ip_s, 40000, 80, FLOW_TH_SYN, ISN_C + 99999,
                                       30000000, &dir);
    assert_ptr_not_equal(first, g);
    assert_int_equal(g->id, first->id + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_normal_close_by_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_closes_first_and_simultaneous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_reset_established, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expert_marks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_midstream_pickup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_reuse_new_record, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
