/* Tests for monitor/tsg.c: the time-sequence graph's data from a flow's segment log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "monitor/engine.h"
#include "monitor/tsg.h"
#include "tests/unit/lib_exchange.h"

/* Feeds one decoded segment: from the client (from_server 0) or the server. */
static void feed(struct engine *e, int from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                 uint32_t len, uint64_t ts, const uint32_t *sack, int nsack)
{
    struct decode_seg d = lib_exchange_seg(from_server, flags, seq, ack, ts);

    d.payload_len = len;
    for (int i = 0; i < nsack; i++) {
        d.opts.present = DECODE_OPT_SACK;
        d.opts.sack[i][0] = sack[2 * i];
        d.opts.sack[i][1] = sack[2 * i + 1];
    }
    d.opts.nsack = (uint8_t)nsack;
    engine_segment(e, &d);
}

#define ACK FLOW_TH_ACK

/* A download: the server's data, a lost segment, the client's SACK, the retransmission. */
static void test_tsg_download(void **state)
{
    struct engine_config cfg = { .max_flows = 4, .seglog_cap = 64 };
    struct engine *e = engine_new(&cfg);
    const uint32_t C = 100, S = 0xffffff00u; /* the server's numbers wrap */
    struct tsg g;

    (void)state;
    feed(e, 0, FLOW_TH_SYN, C, 0, 0, 1000, NULL, 0);
    feed(e, 1, FLOW_TH_SYN | ACK, S, C + 1, 0, 2000, NULL, 0);
    feed(e, 0, ACK, C + 1, S + 1, 0, 3000, NULL, 0);
    feed(e, 0, ACK | FLOW_TH_PSH, C + 1, S + 1, 50, 4000, NULL, 0); /* the request */
    feed(e, 1, ACK, S + 1, C + 51, 1000, 5000, NULL, 0);
    feed(e, 1, ACK, S + 1001, C + 51, 1000, 5100, NULL, 0); /* lost on the way */
    feed(e, 1, ACK, S + 2001, C + 51, 1000, 5200, NULL, 0);
    uint32_t blk[2] = { S + 2001, S + 3001 };
    feed(e, 0, ACK, C + 51, S + 1001, 0, 6000, blk, 1);
    feed(e, 1, ACK, S + 1001, C + 51, 1000, 90000000, NULL, 0); /* retransmitted */
    feed(e, 0, ACK, C + 51, S + 3001, 0, 90001000, NULL, 0);
    /* A late reset: no ACK point (its window means nothing), no change. */
    feed(e, 0, ACK | FLOW_TH_RST, C + 51, S + 3001, 0, 900000000, NULL, 0);

    struct flow *f = flow_table_next(engine_flows(e), NULL);
    tsg_init(&g);
    assert_int_equal(tsg_build(&g, f), 0);
    assert_int_equal(g.dir, FLOW_S2C);
    assert_int_equal(g.bytes, 4000);
    assert_int_equal(g.nseg, 4);
    assert_int_equal(g.seg[0].seq, 1);
    assert_int_equal(g.seg[0].end, 1001);
    /* Past the 32-bit wrap the numbers keep growing. */
    assert_int_equal(g.seg[2].seq, 2001);
    assert_int_equal(g.seg[3].seq, 1001);
    assert_int_equal(g.seg[3].retrans, 1);
    assert_int_equal(g.retrans, 1);
    /* The client's ACKs of the server's data: the handshake ACK, the request, two more. */
    assert_int_equal(g.nack, 4);
    assert_int_equal(g.ack[0].ack, 1);
    assert_int_equal(g.ack[2].ack, 1001);
    assert_int_equal(g.ack[2].win_end, 2001);
    assert_int_equal(g.ack[3].ack, 3001);
    assert_int_equal(g.nsack, 1);
    assert_int_equal(g.sack[0].left, 2001);
    assert_int_equal(g.sack[0].right, 3001);
    assert_int_equal(g.sack[0].t_ns, 6000);
    assert_int_equal(g.lo, 1);
    assert_int_equal(g.hi, 3001);
    assert_int_equal(g.win_hi, 4001);
    assert_int_equal(g.t0_ns, 1000);
    assert_int_equal(g.t1_ns, 900000000);
    assert_int_equal(g.t_end_ns, 90001000);
    assert_int_equal(g.fin_t_ns, 0);
    assert_int_equal(g.not_kept, 0);

    /* Built again into the same arrays: the same result. */
    assert_int_equal(tsg_build(&g, f), 0);
    assert_int_equal(g.nseg, 4);
    assert_int_equal(g.nsack, 1);
    tsg_free(&g);
    engine_free(e);
}

/* An upload is graphed from the client; the log's dropped middle is a time gap. */
static void test_tsg_upload_gap(void **state)
{
    struct engine_config cfg = { .max_flows = 4, .seglog_cap = 8 };
    struct engine *e = engine_new(&cfg);
    struct tsg g;

    (void)state;
    feed(e, 0, FLOW_TH_SYN, 0, 0, 0, 1000, NULL, 0);
    feed(e, 1, FLOW_TH_SYN | ACK, 500, 1, 0, 2000, NULL, 0);
    for (uint32_t i = 0; i < 20; i++)
        feed(e, 0, ACK, 1 + 100 * i, 501, 100, 3000 + 1000 * i, NULL, 0);
    feed(e, 0, ACK | FLOW_TH_FIN, 2001, 501, 0, 30000, NULL, 0);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    tsg_init(&g);
    assert_int_equal(tsg_build(&g, f), 0);
    assert_int_equal(g.dir, FLOW_C2S);
    assert_int_equal(g.not_kept, 15);
    assert_int_equal(g.nseg, 5);
    assert_int_equal(g.gap_t0, 4000);  /* the last of the kept head */
    assert_int_equal(g.gap_t1, 20000); /* the first of the kept tail */
    assert_int_equal(g.fin_t_ns, 30000);
    assert_int_equal(g.fin_seq, 2001);
    assert_int_equal(g.t_end_ns, 30000);
    assert_int_equal(g.seg[4].end, 2001);
    tsg_free(&g);

    /* A flow without segments: an empty graph. */
    struct flow empty;
    memset(&empty, 0, sizeof(empty));
    tsg_init(&g);
    assert_int_equal(tsg_build(&g, &empty), 0);
    assert_int_equal(g.nseg + g.nack + g.nsack, 0);
    assert_int_equal(g.lo, g.hi);
    tsg_free(&g);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsg_download),
        cmocka_unit_test(test_tsg_upload_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
