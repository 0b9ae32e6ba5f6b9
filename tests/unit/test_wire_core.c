/* Tests for master/wire_core.c: delay, rate and its queue, the hold, --lab-drop, seeded loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "master/wire_core.h"

#define MS   1000000LL
#define FIN  0x01
#define SYN  0x02
#define RST  0x04
#define PSH  0x08
#define ACK  0x10
#define C2S  LAB_OPTS_C2S
#define S2C  LAB_OPTS_S2C
#define MSS  1448
#define HOLD 100000

static struct wire_core W, W2;
static struct lab_opts O;
static uint8_t frame[2048];
static char err[256];
static uint16_t syn_mss; /* MSS option of the SYNs tcp_frame makes; 0 none */
static int syn_ts;       /* and a timestamp option */

/* A connection as the wire sees it: client (host side) and server (labd side). */
struct conn {
    int v6;
    uint16_t cport, sport;
    uint32_t cisn, sisn;
};
static const struct conn C0 = { 0, 40000, 8080, 1000, 5000 };

/* v as n bytes in network order at p. */
static void put_be(uint8_t *p, uint32_t v, int n)
{
    while (n-- > 0) {
        p[n] = (uint8_t)v;
        v >>= 8;
    }
}

/* An Ethernet frame with a TCP segment of c going dir; returns its length. */
static size_t tcp_frame(const struct conn *c, int dir, uint8_t flags, uint32_t seq, uint32_t ack,
                        uint32_t payload)
{
    uint8_t caddr[16] = { 198, 18, 0, 1 }, saddr[16] = { 198, 18, 0, 2 };
    const uint8_t *src = dir == C2S ? caddr : saddr, *dst = dir == C2S ? saddr : caddr;
    size_t ip = c->v6 ? 40 : 20, off = 14 + ip;
    size_t opts = (flags & SYN) && (syn_mss || syn_ts) ? 20 : 0, tcp = 20 + opts;

    memset(frame, 0, 14 + ip + tcp + payload);
    put_be(frame + 12, c->v6 ? 0x86dd : 0x0800, 2);
    if (c->v6) {
        caddr[0] = saddr[0] = 0xfd;
        frame[14] = 0x60;
        put_be(frame + 18, (uint32_t)(tcp + payload), 2);
        frame[20] = 6;
        memcpy(frame + 22, src, 16);
        memcpy(frame + 38, dst, 16);
    } else {
        frame[14] = 0x45;
        put_be(frame + 16, (uint32_t)(20 + tcp + payload), 2);
        frame[23] = 6;
        memcpy(frame + 26, src, 4);
        memcpy(frame + 30, dst, 4);
    }
    put_be(frame + off, dir == C2S ? c->cport : c->sport, 2);
    put_be(frame + off + 2, dir == C2S ? c->sport : c->cport, 2);
    put_be(frame + off + 4, seq, 4);
    put_be(frame + off + 8, ack, 4);
    frame[off + 12] = (uint8_t)((tcp / 4) << 4);
    frame[off + 13] = flags;
    if (opts) {
        /* MSS, then NOP NOP and timestamps (or NOPs), then NOP padding. */
        uint8_t *o = frame + off + 20;
        memset(o, 1, opts);
        if (syn_mss) {
            o[0] = 2;
            o[1] = 4;
            put_be(o + 2, syn_mss, 2);
        }
        if (syn_ts) {
            o[6] = 8;
            o[7] = 10;
        }
    }
    return off + tcp + payload;
}

static enum wire_core_verdict feed(struct wire_core *w, const struct conn *c, int dir,
                                   uint8_t flags, uint32_t seq, uint32_t ack, uint32_t payload,
                                   int64_t now, struct wire_core_note *note)
{
    int64_t rel = -1;
    size_t len = tcp_frame(c, dir, flags, seq, ack, payload);
    enum wire_core_verdict v =
        wire_core_frame(w, (enum lab_opts_dir)dir, frame, len, now, &rel, note);

    if (v == WIRE_CORE_PASS) {
        assert_true(rel >= now);
        wire_core_sent(w, (enum lab_opts_dir)dir, 1);
    }
    return v;
}

/* SYN, SYN-ACK, ACK, each sent again while lost; nothing else may stop them. */
static void handshake(struct wire_core *w, const struct conn *c)
{
    enum wire_core_verdict v;
    int tries = 0;

    while ((v = feed(w, c, C2S, SYN, c->cisn, 0, 0, 0, NULL)) == WIRE_CORE_LOST)
        assert_true(++tries < 20);
    assert_int_equal(v, WIRE_CORE_PASS);
    while ((v = feed(w, c, S2C, SYN | ACK, c->sisn, c->cisn + 1, 0, 0, NULL)) == WIRE_CORE_LOST)
        assert_true(++tries < 20);
    assert_int_equal(v, WIRE_CORE_PASS);
    while ((v = feed(w, c, C2S, ACK, c->cisn + 1, c->sisn + 1, 0, 0, NULL)) == WIRE_CORE_LOST)
        assert_true(++tries < 20);
    assert_int_equal(v, WIRE_CORE_PASS);
}

/* The kth (1-based) full data segment from the server. */
static enum wire_core_verdict server_seg(struct wire_core *w, const struct conn *c, uint32_t k,
                                         struct wire_core_note *note)
{
    uint32_t mss = c->v6 ? MSS - 20 : MSS; /* what an MTU of 1500 leaves */

    return feed(w, c, S2C, ACK | PSH, c->sisn + 1 + (k - 1) * mss, c->cisn + 1, mss, 0, note);
}

static void knobs(struct lab_opts *o, const char *key, const char *value)
{
    o->on = 1;
    assert_int_equal(lab_opts_set(o, key, value, err, sizeof(err)), 0);
}

/* W afresh with the knobs set so far and key=value (NULL: none), this seed and hold. */
static void start(const char *key, const char *value, uint64_t seed, uint32_t hold)
{
    if (key)
        knobs(&O, key, value);
    wire_core_init(&W, &O, seed, hold);
}

/* Every test starts without knobs. */
static int no_knobs(void **state)
{
    (void)state;
    lab_opts_init(&O);
    return 0;
}

static void test_no_knobs_pass_at_once(void **state)
{
    struct conn c = C0;
    uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
    int64_t rel = 0;

    (void)state;
    start(NULL, NULL, 1, 4);
    handshake(&W, &c);
    for (uint32_t k = 1; k <= 20; k++)
        assert_int_equal(server_seg(&W, &c, k, NULL), WIRE_CORE_PASS);
    assert_int_equal(wire_core_frame(&W, C2S, arp, sizeof(arp), 5 * MS, &rel, NULL),
                     WIRE_CORE_PASS);
    assert_int_equal(rel, 5 * MS);
    assert_int_equal(wire_core_frame(&W, C2S, frame, WIRE_CORE_FRAME_MAX + 1, 5 * MS, &rel, NULL),
                     WIRE_CORE_OVERSIZE);
    assert_int_equal(W.counts[S2C].frames, 21);
    assert_int_equal(W.counts[S2C].forwarded, 21);
    assert_int_equal(W.counts[S2C].delayed, 0);
    assert_int_equal(W.counts[S2C].bytes, 14 + 20 + 20 + 20 * (14 + 40 + MSS));
    assert_int_equal(W.counts[C2S].frames, 4);
    assert_int_equal(W.counts[C2S].oversize, 1);
}

static void test_delay_is_half_the_rtt(void **state)
{
    struct conn c = C0;
    int64_t rel = 0;
    size_t len;

    (void)state;
    start("lab-rtt", "40", 1, HOLD);
    len = tcp_frame(&c, C2S, SYN, c.cisn, 0, 0);
    assert_int_equal(wire_core_frame(&W, C2S, frame, len, 100 * MS, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, 120 * MS);
    len = tcp_frame(&c, S2C, SYN | ACK, c.sisn, c.cisn + 1, 0);
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 121 * MS, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, 141 * MS);
    assert_int_equal(W.counts[C2S].delayed, 1);
    assert_int_equal(W.counts[S2C].delayed, 1);
    /* An odd round trip splits to the nanosecond; time going back never reorders frames. */
    start("lab-rtt", "0.001", 1, HOLD);
    assert_int_equal(wire_core_frame(&W, C2S, frame, len, 10 * MS, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, 10 * MS + 500);
    assert_int_equal(wire_core_frame(&W, C2S, frame, len, 9 * MS, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, 10 * MS + 500);
}

static void test_hold_bound(void **state)
{
    int64_t rel;
    size_t len;
    struct conn c = C0;

    (void)state;
    start("lab-rtt", "10", 1, 3);
    len = tcp_frame(&c, C2S, ACK, 1, 1, 100);
    for (int i = 0; i < 3; i++)
        assert_int_equal(wire_core_frame(&W, C2S, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(wire_core_frame(&W, C2S, frame, len, 0, &rel, NULL), WIRE_CORE_QUEUE_FULL);
    /* The other direction has its own hold. */
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    wire_core_sent(&W, C2S, 1);
    assert_int_equal(wire_core_frame(&W, C2S, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    wire_core_sent(&W, C2S, 10);
    assert_int_equal(W.way[C2S].held, 0);
    assert_int_equal(W.counts[C2S].queue_drops, 1);
}

static void test_rate_spaces_frames_and_bounds_the_queue(void **state)
{
    struct conn c = C0;
    int64_t rel, prev = 0;
    /* A full frame is 1514 bytes, 1538 on the line: 1.2304 ms at 10 Mbit/s. */
    const int64_t tx = 1538LL * 8 * 1000000000 / 10000000;
    int passed = 0;
    size_t len = tcp_frame(&c, S2C, ACK, 1, 1, MSS + 12);

    (void)state;
    assert_int_equal(len, 1514);
    start("lab-rate", "10mbit", 1, HOLD);
    for (int i = 0; i < 100; i++) {
        if (wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL) != WIRE_CORE_PASS)
            continue;
        passed++;
        assert_int_equal(rel, (int64_t)passed * tx);
        prev = rel;
    }
    /* 50 ms of sending is 40 frames; the rest of the burst is tail-dropped. */
    assert_int_equal(passed, 40);
    assert_int_equal(W.counts[S2C].queue_drops, 60);
    assert_int_equal(W.counts[S2C].delayed, 40);
    /* Once the queue drained a little, it takes frames again, behind the others. */
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 2 * tx, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, prev + tx);
    /* After a quiet spell a frame goes straight onto the line. */
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 1000 * MS, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, 1000 * MS + tx);

    /* With a delay too: the line first, then the way along it. */
    start("lab-rtt", "40", 1, HOLD);
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, tx + 20 * MS);
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    assert_int_equal(rel, 2 * tx + 20 * MS);

    /* A slow line keeps room for a few full frames however long they take. */
    knobs(&O, "lab-rate", "8kbit");
    start("lab-rtt", "0", 1, HOLD);
    passed = 0;
    for (int i = 0; i < 40; i++)
        passed += wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL) == WIRE_CORE_PASS;
    assert_int_equal(passed, WIRE_CORE_QUEUE_MIN);
}

static void test_drop_nth_data_segment(void **state)
{
    struct conn c = C0;
    struct wire_core_note note;

    (void)state;
    start("lab-drop", "s2c:5,s2c:7,c2s:2", 1, HOLD);
    for (int round = 0; round < 3; round++) {
        /* Round 1 is another client port, round 2 the same ports with a new ISN. */
        if (round == 1)
            c.cport = 40001;
        if (round == 2)
            c.cisn += 100000;
        handshake(&W, &c);
        /* Client data: a request, then a second one; the second is dropped, then resent. */
        assert_int_equal(feed(&W, &c, C2S, ACK | PSH, c.cisn + 1, c.sisn + 1, 100, 0, NULL),
                         WIRE_CORE_PASS);
        assert_int_equal(feed(&W, &c, C2S, ACK | PSH, c.cisn + 101, c.sisn + 1, 100, 0, &note),
                         WIRE_CORE_RULED);
        assert_int_equal(note.nth, 2);
        assert_int_equal(feed(&W, &c, C2S, ACK | PSH, c.cisn + 101, c.sisn + 1, 100, 0, &note),
                         WIRE_CORE_PASS);
        assert_int_equal(note.retx, 1);
        for (uint32_t k = 1; k <= 10; k++) {
            enum wire_core_verdict v = server_seg(&W, &c, k, &note);

            assert_int_equal(note.tracked, 1);
            assert_int_equal(note.nth, k);
            assert_int_equal(note.rel_seq, (k - 1) * MSS);
            assert_int_equal(v, k == 5 || k == 7 ? WIRE_CORE_RULED : WIRE_CORE_PASS);
        }
        /* Pure ACKs and the retransmissions of 5 and 7 are not counted and pass. */
        assert_int_equal(feed(&W, &c, C2S, ACK, c.cisn + 201, c.sisn + 1 + 4 * MSS, 0, 0, &note),
                         WIRE_CORE_PASS);
        assert_int_equal(note.nth, 0);
        assert_int_equal(server_seg(&W, &c, 5, &note), WIRE_CORE_PASS);
        assert_int_equal(note.retx, 1);
        assert_int_equal(server_seg(&W, &c, 7, &note), WIRE_CORE_PASS);
        assert_int_equal(server_seg(&W, &c, 11, &note), WIRE_CORE_PASS);
        assert_int_equal(note.nth, 11);
    }
    assert_int_equal(W.counts[S2C].ruled, 6);
    assert_int_equal(W.counts[C2S].ruled, 3);
}

static void test_drop_first_syn(void **state)
{
    struct conn c = C0;

    (void)state;
    start("lab-drop", "syn", 1, HOLD);
    assert_int_equal(feed(&W, &c, C2S, SYN, c.cisn, 0, 0, 0, NULL), WIRE_CORE_RULED);
    assert_int_equal(feed(&W, &c, C2S, SYN, c.cisn, 0, 0, 1000 * MS, NULL), WIRE_CORE_PASS);
    assert_int_equal(feed(&W, &c, S2C, SYN | ACK, c.sisn, c.cisn + 1, 0, 0, NULL), WIRE_CORE_PASS);
    assert_int_equal(feed(&W, &c, C2S, SYN, c.cisn, 0, 0, 3000 * MS, NULL), WIRE_CORE_PASS);
    /* Each new connection loses its first SYN; a SYN-ACK is never taken for one. */
    c.cport++;
    assert_int_equal(feed(&W, &c, S2C, SYN | ACK, c.sisn, c.cisn + 1, 0, 0, NULL), WIRE_CORE_PASS);
    assert_int_equal(feed(&W, &c, C2S, SYN, c.cisn, 0, 0, 0, NULL), WIRE_CORE_RULED);
    c.cisn = 77;
    assert_int_equal(feed(&W, &c, C2S, SYN, c.cisn, 0, 0, 0, NULL), WIRE_CORE_RULED);
    assert_int_equal(W.counts[C2S].ruled, 3);
}

static void test_drop_rules_on_ipv6(void **state)
{
    struct conn c = { 1, 40000, 8080, 0xfffffff0u, 0xfffffffeu }; /* sequence numbers wrap */

    (void)state;
    start("lab-drop", "s2c:3", 1, HOLD);
    handshake(&W, &c);
    for (uint32_t k = 1; k <= 5; k++)
        assert_int_equal(server_seg(&W, &c, k, NULL), k == 3 ? WIRE_CORE_RULED : WIRE_CORE_PASS);
    assert_int_equal(server_seg(&W, &c, 3, NULL), WIRE_CORE_PASS);
    /* The same ports over IPv4 are another connection, never seen opening. */
    c.v6 = 0;
    for (uint32_t k = 1; k <= 5; k++)
        assert_int_equal(server_seg(&W, &c, k, NULL), WIRE_CORE_PASS);
}

/*
 * n server segments of `size` bytes after one of `first` bytes (0: none),
 * the client ACKing each. Returns the blocks of the new data lost, in out.
 */
static int transfer_cut(struct wire_core *w, const struct conn *c, uint32_t first, uint32_t size,
                        uint32_t n, int64_t *out, int max)
{
    struct wire_core_note note;
    uint32_t off = 0;
    int nlost = 0;

    handshake(w, c);
    for (uint32_t k = 0; k <= n; k++) {
        uint32_t len = k == 0 ? first : size;

        if (len == 0)
            continue;
        if (feed(w, c, S2C, ACK, c->sisn + 1 + off, c->cisn + 1, len, 0, &note) == WIRE_CORE_LOST) {
            assert_true(nlost < max);
            out[nlost++] = note.block;
        }
        off += len;
        feed(w, c, C2S, ACK, c->cisn + 1, c->sisn + 1 + off, 0, 0, NULL);
    }
    return nlost;
}

static void test_seeded_loss_survives_a_short_segment(void **state)
{
    struct conn c = C0;
    static int64_t a[1024], b[1024];
    int na, nb;

    (void)state;
    knobs(&O, "lab-loss", "5");
    /* The SYN's options fix the block: MSS 1460 less the timestamps. */
    syn_mss = 1460;
    syn_ts = 1;
    start(NULL, NULL, 3, HOLD);
    na = transfer_cut(&W, &c, 0, MSS, 2000, a, 1024);
    /* The same bytes, but the sender cut its first segment short: all later ones shift. */
    wire_core_init(&W2, &O, 3, HOLD);
    nb = transfer_cut(&W2, &c, 500, MSS, 2000, b, 1024);
    syn_mss = 0;
    syn_ts = 0;
    assert_true(na > 50 && na < 150);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof(a[0]));
    /* Without timestamps the block is the whole MSS: segments of 1448 now shift against it. */
    syn_mss = 1460;
    wire_core_init(&W2, &O, 3, HOLD);
    nb = transfer_cut(&W2, &c, 0, MSS, 2000, b, 1024);
    syn_mss = 0;
    assert_true(nb != na || memcmp(a, b, (size_t)na * sizeof(a[0])) != 0);
}

/* A held wire, and c's handshake with the client's SYN saying MSS 1000: blocks of 1000 bytes. */
static void start_mss_1000(struct conn *c)
{
    start(NULL, NULL, 1, HOLD);
    syn_mss = 1000;
    handshake(&W, c);
    syn_mss = 0;
}

/* A piece of a block, cut short by the sender where timing said, is never lost at random. */
static void test_pieces_of_a_block_are_not_lost(void **state)
{
    struct conn c = C0;
    struct wire_core_note note;

    (void)state;
    start_mss_1000(&c);
    W.knobs.loss_ppm = LAB_OPTS_LOSS_ONE; /* from now on every frame that may be lost is */
    assert_int_equal(feed(&W, &c, S2C, ACK, c.sisn + 1 + 3001, c.cisn + 1, 500, 0, &note),
                     WIRE_CORE_PASS);
    assert_int_equal(note.block, -1);
    assert_int_equal(feed(&W, &c, S2C, ACK, c.sisn + 1 + 3501, c.cisn + 1, 1000, 0, &note),
                     WIRE_CORE_LOST);
    assert_int_equal(note.block, 4);
}

static void test_block_from_syn_options(void **state)
{
    struct conn c = C0;
    struct wire_core_note note;

    (void)state;
    start_mss_1000(&c);
    feed(&W, &c, S2C, ACK, c.sisn + 1 + 2500, c.cisn + 1, 1000, 0, &note);
    assert_int_equal(note.block, 3);
    assert_int_equal(note.rel_seq, 2500);
    feed(&W, &c, S2C, ACK, c.sisn + 1 + 3001, c.cisn + 1, 500, 0, &note);
    assert_int_equal(note.block, -1);
    /* The SYN-ACK said MSS 1000 too: so are the client's blocks. */
    feed(&W, &c, C2S, ACK, c.cisn + 1 + 1900, c.sisn + 1, 200, 0, &note);
    assert_int_equal(note.block, 2);
    /* Without options, a full Ethernet segment with timestamps. */
    c.cport++;
    handshake(&W, &c);
    feed(&W, &c, C2S, ACK, c.cisn + 1 + 1448, c.sisn + 1, 100, 0, &note);
    assert_int_equal(note.block, 1);
}

/*
 * A transfer of n server segments; the client ACKs every `every` segments.
 * Lost segments are sent again after the flight, as TCP would. Returns the
 * lost (offset, sending) pairs packed in out.
 */
static int transfer(struct wire_core *w, const struct conn *c, uint32_t n, uint32_t every,
                    uint64_t *out, int max)
{
    struct wire_core_note note;
    uint32_t pending[4096];
    int npending = 0, nlost = 0;

    handshake(w, c);
    for (uint32_t k = 1; k <= n; k++) {
        if (server_seg(w, c, k, &note) == WIRE_CORE_LOST) {
            assert_true(nlost < max && npending < 4096);
            out[nlost++] = (uint64_t)note.rel_seq << 8;
            pending[npending++] = k;
        }
        if (k % every == 0)
            feed(w, c, C2S, ACK, c->cisn + 1, c->sisn + 1 + k * MSS, 0, 0, NULL);
    }
    for (int i = 0; i < npending; i++) {
        for (uint32_t tries = 1; server_seg(w, c, pending[i], &note) == WIRE_CORE_LOST; tries++) {
            assert_true(nlost < max && tries < 20);
            out[nlost++] = (uint64_t)note.rel_seq << 8 | tries;
        }
    }
    return nlost;
}

static void test_seeded_loss_is_the_same_every_run(void **state)
{
    struct conn c = C0;
    struct conn d = { 0, 51234, 8080, 0xdeadbeefu, 0x12345678u };
    static uint64_t a[4096], b[4096], e[4096];
    int na, nb, ne;

    (void)state;
    knobs(&O, "lab-loss", "2");
    knobs(&O, "lab-seed", "7");
    /* Other ports, ISNs and ACK timing: the data segments lost are the same. */
    start(NULL, NULL, 7, HOLD);
    na = transfer(&W, &c, 2500, 2, a, 4096);
    wire_core_init(&W2, &O, 7, HOLD);
    nb = transfer(&W2, &d, 2500, 1, b, 4096);
    assert_true(na > 25 && na < 100);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof(a[0]));
    /* Another seed, other losses. */
    wire_core_init(&W2, &O, 8, HOLD);
    ne = transfer(&W2, &c, 2500, 2, e, 4096);
    assert_true(ne > 25 && ne < 100);
    assert_true(ne != na || memcmp(a, e, (size_t)na * sizeof(a[0])) != 0);
}

static void test_loss_rate_and_extremes(void **state)
{
    struct conn c = C0;
    uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
    int64_t rel;
    int lost = 0;

    (void)state;
    start("lab-loss", "2", 99, HOLD);
    /* Untracked frames draw from the stream: about 2 % of 100 000. */
    for (int i = 0; i < 100000; i++)
        lost += feed(&W, &c, C2S, ACK, 1, (uint32_t)i, 0, 0, NULL) == WIRE_CORE_LOST;
    assert_in_range(lost, 1700, 2300);
    assert_int_equal(W.counts[C2S].lost, lost);

    start("lab-loss", "100", 99, HOLD);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(feed(&W, &c, S2C, ACK, 1, (uint32_t)i, 10, 0, NULL), WIRE_CORE_LOST);
    /* ARP is never lost, so the link always finds its ends. */
    assert_int_equal(wire_core_frame(&W, C2S, arp, sizeof(arp), 0, &rel, NULL), WIRE_CORE_PASS);

    start("lab-loss", "0", 99, HOLD);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(feed(&W, &c, S2C, ACK, 1, (uint32_t)i, 10, 0, NULL), WIRE_CORE_PASS);
}

static void test_odd_frames(void **state)
{
    struct conn c = C0;
    int64_t rel;
    size_t len;

    (void)state;
    start("lab-drop", "s2c:1", 1, HOLD);
    handshake(&W, &c);
    /* Every truncation of a data segment is read safely; a cut TCP header is not TCP. */
    len = tcp_frame(&c, S2C, ACK, c.sisn + 1, c.cisn + 1, 100);
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(wire_core_frame(&W, S2C, frame, cut, 0, &rel, NULL), WIRE_CORE_PASS);
    /* An IP header claiming more than the frame, a fragment, a short IHL: not TCP. */
    put_be(frame + 16, 2000, 2);
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    len = tcp_frame(&c, S2C, ACK, c.sisn + 1, c.cisn + 1, 100);
    put_be(frame + 20, 0x0010, 2);
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    len = tcp_frame(&c, S2C, ACK, c.sisn + 1, c.cisn + 1, 100);
    frame[14] = 0x44;
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    /* A TCP data offset beyond the segment. */
    len = tcp_frame(&c, S2C, ACK, c.sisn + 1, c.cisn + 1, 10);
    frame[14 + 20 + 12] = 15 << 4;
    assert_int_equal(wire_core_frame(&W, S2C, frame, len, 0, &rel, NULL), WIRE_CORE_PASS);
    /* Behind a VLAN tag the segment is read, and the rule finds its first data segment. */
    len = tcp_frame(&c, S2C, ACK, c.sisn + 1, c.cisn + 1, 100);
    memmove(frame + 16, frame + 12, len - 12);
    put_be(frame + 12, 0x8100, 2);
    assert_int_equal(wire_core_frame(&W, S2C, frame, len + 4, 0, &rel, NULL), WIRE_CORE_RULED);
}

static void test_many_connections_reuse_the_oldest(void **state)
{
    struct conn c = { 0, 1, 8080, 1000, 5000 };

    (void)state;
    start("lab-drop", "s2c:2", 1, HOLD);
    /* Far more connections than slots: each new one is followed from its SYN. */
    for (uint32_t i = 0; i < 4 * WIRE_CORE_FLOWS; i++) {
        c.cport = (uint16_t)(1 + i);
        handshake(&W, &c);
        assert_int_equal(server_seg(&W, &c, 1, NULL), WIRE_CORE_PASS);
        assert_int_equal(server_seg(&W, &c, 2, NULL), WIRE_CORE_RULED);
    }
    assert_int_equal(W.counts[S2C].ruled, 4 * WIRE_CORE_FLOWS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_knobs_pass_at_once, no_knobs),
        cmocka_unit_test_setup(test_delay_is_half_the_rtt, no_knobs),
        cmocka_unit_test_setup(test_hold_bound, no_knobs),
        cmocka_unit_test_setup(test_rate_spaces_frames_and_bounds_the_queue, no_knobs),
        cmocka_unit_test_setup(test_drop_nth_data_segment, no_knobs),
        cmocka_unit_test_setup(test_drop_first_syn, no_knobs),
        cmocka_unit_test_setup(test_drop_rules_on_ipv6, no_knobs),
        cmocka_unit_test_setup(test_seeded_loss_is_the_same_every_run, no_knobs),
        cmocka_unit_test_setup(test_seeded_loss_survives_a_short_segment, no_knobs),
        cmocka_unit_test_setup(test_pieces_of_a_block_are_not_lost, no_knobs),
        cmocka_unit_test_setup(test_block_from_syn_options, no_knobs),
        cmocka_unit_test_setup(test_loss_rate_and_extremes, no_knobs),
        cmocka_unit_test_setup(test_odd_frames, no_knobs),
        cmocka_unit_test_setup(test_many_connections_reuse_the_oldest, no_knobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
