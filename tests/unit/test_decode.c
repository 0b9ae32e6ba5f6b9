/* Tests for monitor/decode.c over hand-built frames: every link type, IPv6
 * extension headers, TCP options, and hostile lengths that must never read
 * past the captured bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "monitor/decode.h"
#include "monitor/flow.h"

/* Frame under construction. */
struct frame {
    uint8_t b[2048];
    size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
    if (n)
        memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put8(struct frame *f, uint8_t v)
{
    put(f, &v, 1);
}

static void put16(struct frame *f, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(f, b, 2);
}

static void put32(struct frame *f, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(f, b, 4);
}

/* TCP header (+ options, padded to 4) + payload. */
static void put_tcp(struct frame *f, uint8_t flags, const uint8_t *opts, size_t olen, size_t paylen)
{
    size_t padded = (olen + 3) & ~(size_t)3;
    put16(f, 40000);
    put16(f, 80);
    put32(f, 1000);
    put32(f, 2000);
    put8(f, (uint8_t)(((20 + padded) / 4) << 4));
    put8(f, flags);
    put16(f, 512);
    put16(f, 0);
    put16(f, 0);
    put(f, opts, olen);
    for (size_t i = olen; i < padded; i++)
        put8(f, 0);
    for (size_t i = 0; i < paylen; i++)
        put8(f, (uint8_t)('a' + i % 26));
}

static void put_ipv4(struct frame *f, uint16_t total, uint8_t proto)
{
    put8(f, 0x45);
    put8(f, 0);
    put16(f, total);
    put16(f, 1);
    put16(f, 0x4000);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put32(f, 0x0a000001);
    put32(f, 0x0a000002);
}

static void put_eth(struct frame *f, uint16_t type)
{
    static const uint8_t macs[12] = { 0 };
    put(f, macs, 12);
    put16(f, type);
}

/* Ethernet + IPv4 + TCP with payload. */
static void build_eth_v4(struct frame *f, uint8_t flags, size_t paylen)
{
    f->n = 0;
    put_eth(f, 0x0800);
    put_ipv4(f, (uint16_t)(20 + 20 + paylen), 6);
    put_tcp(f, flags, NULL, 0, paylen);
}

static enum decode_status dec(int dlt, const struct frame *f, size_t caplen, struct decode_seg *d)
{
    /* A heap copy of exactly caplen bytes, so ASan catches any overread. */
    uint8_t *copy = malloc(caplen ? caplen : 1);
    memcpy(copy, f->b, caplen);
    enum decode_status st = decode_packet(dlt, copy, (uint32_t)caplen, (uint32_t)f->n, 7, d);
    free(copy);
    return st;
}

static void test_ethernet_ipv4(void **state)
{
    (void)state;
    struct frame f;
    struct decode_seg d;
    build_eth_v4(&f, FLOW_TH_PSH | FLOW_TH_ACK, 10);
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_OK);
    assert_int_equal(d.af, 4);
    assert_int_equal(d.sport, 40000);
    assert_int_equal(d.dport, 80);
    assert_int_equal(d.seq, 1000);
    assert_int_equal(d.ack, 2000);
    assert_int_equal(d.win, 512);
    assert_int_equal(d.flags, FLOW_TH_PSH | FLOW_TH_ACK);
    assert_int_equal(d.payload_len, 10);
    assert_int_equal(d.payload_caplen, 10);
    assert_int_equal(d.ts_ns, 7);
    assert_memory_equal(d.src, "\x0a\x00\x00\x01", 4);
}

static void test_ethernet_padding_ignored(void **state)
{
    (void)state;
    struct frame f;
    struct decode_seg d;
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    for (int i = 0; i < 6; i++) /* minimum frame padding */
        put8(&f, 0);
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_OK);
    assert_int_equal(d.payload_len, 0);
}

static void test_snaplen_truncated_payload(void **state)
{
    (void)state;
    struct frame f;
    struct decode_seg d;
    build_eth_v4(&f, FLOW_TH_ACK, 1000);
    /* Captured 14+20+20+100 bytes of it: length from IP, captured part separate. */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, 154, &d), DECODE_OK);
    assert_int_equal(d.payload_len, 1000);
    assert_int_equal(d.payload_caplen, 100);
}

static void test_vlan_and_qinq(void **state)
{
    (void)state;
    struct frame f = { .n = 0 };
    struct decode_seg d;
    put_eth(&f, 0x88a8);
    put16(&f, 100);
    put16(&f, 0x8100);
    put16(&f, 200);
    put16(&f, 0x0800);
    put_ipv4(&f, 40, 6);
    put_tcp(&f, FLOW_TH_SYN, NULL, 0, 0);
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_OK);
    assert_int_equal(d.nvlan, 2);
    assert_int_equal(d.vlan[0], 100);
    assert_int_equal(d.vlan[1], 200);
    /* Cut inside the second tag. */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, 20, &d), DECODE_TRUNC_LINK);
}

static void test_sll_sll2_null_loop_raw(void **state)
{
    (void)state;
    struct frame f = { .n = 0 };
    struct decode_seg d;
    /* Linux cooked v1: 16 bytes, protocol at 14. */
    for (int i = 0; i < 14; i++)
        put8(&f, 0);
    put16(&f, 0x0800);
    put_ipv4(&f, 40, 6);
    put_tcp(&f, FLOW_TH_ACK, NULL, 0, 0);
    assert_int_equal(dec(DECODE_DLT_SLL, &f, f.n, &d), DECODE_OK);
    /* Linux cooked v2: protocol first, 20 bytes. */
    f.n = 0;
    put16(&f, 0x0800);
    for (int i = 0; i < 18; i++)
        put8(&f, 0);
    put_ipv4(&f, 40, 6);
    put_tcp(&f, FLOW_TH_ACK, NULL, 0, 0);
    assert_int_equal(dec(DECODE_DLT_SLL2, &f, f.n, &d), DECODE_OK);
    /* BSD NULL, little-endian AF_INET, and LOOP, big-endian AF_INET6 (30). */
    f.n = 0;
    put32(&f, 0x02000000);
    put_ipv4(&f, 40, 6);
    put_tcp(&f, FLOW_TH_ACK, NULL, 0, 0);
    assert_int_equal(dec(DECODE_DLT_NULL, &f, f.n, &d), DECODE_OK);
    f.n = 0;
    put32(&f, 2);
    put_ipv4(&f, 40, 6);
    put_tcp(&f, FLOW_TH_ACK, NULL, 0, 0);
    assert_int_equal(dec(DECODE_DLT_LOOP, &f, f.n, &d), DECODE_OK);
    /* Raw IPv4 under every raw link type. */
    f.n = 0;
    put_ipv4(&f, 40, 6);
    put_tcp(&f, FLOW_TH_ACK, NULL, 0, 0);
    assert_int_equal(dec(DECODE_DLT_RAW, &f, f.n, &d), DECODE_OK);
    assert_int_equal(dec(DECODE_LINKTYPE_RAW, &f, f.n, &d), DECODE_OK);
    assert_int_equal(dec(DECODE_LINKTYPE_IPV4, &f, f.n, &d), DECODE_OK);
    assert_int_equal(dec(DECODE_LINKTYPE_IPV6, &f, f.n, &d), DECODE_BAD_IP);
    assert_int_equal(dec(147, &f, f.n, &d), DECODE_BAD_LINK);
    assert_false(decode_dlt_supported(147));
}

/* IPv6 with hop-by-hop, destination options and a first fragment header. */
static void build_v6(struct frame *f, int frag_offset)
{
    f->n = 0;
    put_eth(f, 0x86dd);
    put32(f, 0x60000000);
    put16(f, 8 + 8 + 8 + 20 + 5); /* payload length */
    put8(f, 0);                   /* hop-by-hop */
    put8(f, 64);
    for (int i = 0; i < 16; i++)
        put8(f, (uint8_t)(i == 15 ? 1 : 0));
    for (int i = 0; i < 16; i++)
        put8(f, (uint8_t)(i == 15 ? 2 : 0));
    put8(f, 60); /* HBH -> dest opts */
    put8(f, 0);
    put32(f, 0x01040000);
    put16(f, 0);
    put8(f, 44); /* dest opts -> fragment */
    put8(f, 0);
    put32(f, 0x01040000);
    put16(f, 0);
    put8(f, 6); /* fragment -> TCP */
    put8(f, 0);
    put16(f, (uint16_t)(frag_offset << 3));
    put32(f, 0x1234);
    put_tcp(f, FLOW_TH_PSH | FLOW_TH_ACK, NULL, 0, 5);
}

static void test_ipv6_extension_headers(void **state)
{
    (void)state;
    struct frame f;
    struct decode_seg d;
    build_v6(&f, 0);
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_OK);
    assert_int_equal(d.af, 6);
    assert_int_equal(d.payload_len, 5);
    assert_int_equal(d.dst[15], 2);
    /* A later fragment carries no TCP header. */
    build_v6(&f, 100);
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_FRAGMENT);
    /* Every cut inside the headers is truncation, never a read past the end. */
    build_v6(&f, 0);
    for (size_t cut = 14; cut < 14 + 40 + 24 + 20; cut++) {
        enum decode_status st = dec(DECODE_DLT_EN10MB, &f, cut, &d);
        assert_int_equal(decode_status_class(st), DECODE_CLASS_TRUNCATED);
    }
}

static void test_ipv6_ext_length_beyond_packet(void **state)
{
    (void)state;
    struct frame f;
    struct decode_seg d;
    build_v6(&f, 0);
    f.b[14 + 40 + 1] = 200; /* hop-by-hop claims 1608 bytes */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_BAD_IPV6_EXT);
}

static void test_ipv4_hostile_lengths(void **state)
{
    (void)state;
    struct frame f;
    struct decode_seg d;
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    f.b[14] = 0x44; /* IHL 4: below minimum */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_BAD_IP);
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    f.b[14] = 0x4f; /* IHL 15 = 60 bytes, only 40 captured */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_TRUNC_IP);
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    f.b[16] = 0;
    f.b[17] = 10; /* total length smaller than the header */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_BAD_IP);
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    f.b[14 + 20 + 12] = 0x40; /* TCP data offset 4 */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_BAD_TCP);
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    f.b[14 + 20 + 12] = 0xf0; /* TCP header of 60 bytes in a 40-byte IP packet */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_BAD_TCP);
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    f.b[14] = 0x65; /* version 6 in an IPv4 ethertype */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_BAD_IP);
    /* UDP and later fragments are not TCP. */
    f.n = 0;
    put_eth(&f, 0x0800);
    put_ipv4(&f, 28, 17);
    for (int i = 0; i < 8; i++)
        put8(&f, 0);
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_NOT_TCP);
    f.b[14 + 6] = 0x20;
    f.b[14 + 7] = 0x10;
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_FRAGMENT);
    f.n = 0;
    put_eth(&f, 0x0806); /* ARP */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_NOT_IP);
    /* Every cut of a valid frame is classified, never over-read (ASan). */
    build_eth_v4(&f, FLOW_TH_ACK, 0);
    for (size_t cut = 0; cut < 54; cut++) {
        enum decode_status st = dec(DECODE_DLT_EN10MB, &f, cut, &d);
        assert_int_equal(decode_status_class(st), DECODE_CLASS_TRUNCATED);
    }
}

static void test_syn_options(void **state)
{
    (void)state;
    static const uint8_t opts[] = { 2,  4,  0x05, 0xb4,                   /* MSS 1460 */
                                    1,  3,  3,    7,                      /* NOP, WS 7 */
                                    4,  2,                                /* SACK_PERM */
                                    8,  10, 0,    0,    0, 1, 0, 0, 0, 2, /* TS 1, 2 */
                                    34, 2 };                              /* TFO cookie request */
    struct frame f = { .n = 0 };
    struct decode_seg d;
    put_eth(&f, 0x0800);
    put_ipv4(&f, (uint16_t)(20 + 20 + 24), 6);
    put_tcp(&f, FLOW_TH_SYN, opts, sizeof(opts), 0);
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_OK);
    assert_int_equal(d.opts.present, DECODE_OPT_MSS | DECODE_OPT_WS | DECODE_OPT_SACK_PERM |
                                         DECODE_OPT_TS | DECODE_OPT_TFO);
    assert_int_equal(d.opts.mss, 1460);
    assert_int_equal(d.opts.wscale, 7);
    assert_int_equal(d.opts.tsval, 1);
    assert_int_equal(d.opts.tsecr, 2);
    assert_int_equal(d.opts.tfo_len, 0);
    assert_false(d.opts.malformed);
}

static void test_hostile_options(void **state)
{
    (void)state;
    struct decode_tcp_opts o;
    /* Length 0 would loop forever; length past the end must stop parsing. */
    static const uint8_t zero_len[] = { 2, 0, 5, 0xb4 };
    memset(&o, 0, sizeof(o));
    decode_tcp_options(zero_len, sizeof(zero_len), &o);
    assert_true(o.malformed);
    assert_int_equal(o.present, 0);
    static const uint8_t past_end[] = { 1, 8, 40, 0, 0 };
    memset(&o, 0, sizeof(o));
    decode_tcp_options(past_end, sizeof(past_end), &o);
    assert_true(o.malformed);
    static const uint8_t kind_only[] = { 1, 1, 3 };
    memset(&o, 0, sizeof(o));
    decode_tcp_options(kind_only, sizeof(kind_only), &o);
    assert_true(o.malformed);
    /* Wrong fixed lengths are ignored, not misread. */
    static const uint8_t bad_mss[] = { 2, 3, 5, 3, 3, 9 };
    memset(&o, 0, sizeof(o));
    decode_tcp_options(bad_mss, sizeof(bad_mss), &o);
    assert_false(o.present & DECODE_OPT_MSS);
    assert_true(o.present & DECODE_OPT_WS);
    assert_int_equal(o.wscale, 9);
    /* SACK blocks: at most four kept. */
    uint8_t sack[2 + 8 * 4] = { 5, 34 };
    for (int i = 0; i < 32; i++)
        sack[2 + i] = (uint8_t)i;
    memset(&o, 0, sizeof(o));
    decode_tcp_options(sack, sizeof(sack), &o);
    assert_int_equal(o.nsack, 4);
    assert_int_equal(o.sack[0][0], 0x00010203);
    /* EOL stops; what follows is not parsed. */
    static const uint8_t eol[] = { 0, 2, 4, 5, 0xb4 };
    memset(&o, 0, sizeof(o));
    decode_tcp_options(eol, sizeof(eol), &o);
    assert_int_equal(o.present, 0);
    assert_false(o.malformed);
    /* Linux's usual NOP NOP TS, its last byte changed to another length, and
     * the same option as its own 10 bytes, are read as the general loop reads. */
    static const uint8_t nop_ts[12] = { 1, 1, 8, 10, 0, 0, 1, 2, 3, 4, 5, 6 };
    memset(&o, 0, sizeof(o));
    decode_tcp_options(nop_ts, sizeof(nop_ts), &o);
    assert_int_equal(o.present, DECODE_OPT_TS);
    assert_int_equal(o.tsval, 0x0102);
    assert_int_equal(o.tsecr, 0x03040506);
    assert_false(o.malformed);
    memset(&o, 0, sizeof(o));
    decode_tcp_options(nop_ts + 2, 10, &o);
    assert_int_equal(o.present, DECODE_OPT_TS);
    assert_int_equal(o.tsecr, 0x03040506);
    static const uint8_t nop_ts_bad[12] = { 1, 1, 8, 11, 0, 0, 1, 2, 3, 4, 5, 6 };
    memset(&o, 0, sizeof(o));
    decode_tcp_options(nop_ts_bad, sizeof(nop_ts_bad), &o);
    assert_int_equal(o.present, 0);
    assert_true(o.malformed);
    /* Random bytes: never crash, never read past len (ASan). */
    srand(42);
    for (int round = 0; round < 2000; round++) {
        uint8_t len = (uint8_t)(rand() % 41);
        uint8_t *buf = malloc(len ? len : 1);
        for (int i = 0; i < len; i++)
            buf[i] = (uint8_t)rand();
        memset(&o, 0, sizeof(o));
        decode_tcp_options(buf, len, &o);
        assert_true(o.nsack <= DECODE_SACK_MAX);
        free(buf);
    }
}

static void test_gso_total_length_zero(void **state)
{
    (void)state;
    struct frame f;
    struct decode_seg d;
    build_eth_v4(&f, FLOW_TH_ACK, 100);
    f.b[16] = 0;
    f.b[17] = 0; /* TSO: length from the frame */
    assert_int_equal(dec(DECODE_DLT_EN10MB, &f, f.n, &d), DECODE_OK);
    assert_int_equal(d.payload_len, 100);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(decode_status_name(DECODE_TRUNC_TCP), "truncated_tcp");
    assert_int_equal(decode_status_class(DECODE_BAD_TCP), DECODE_CLASS_MALFORMED);
    assert_int_equal(decode_status_class(DECODE_NOT_IP), DECODE_CLASS_NOT_TCP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ipv4),
        cmocka_unit_test(test_ethernet_padding_ignored),
        cmocka_unit_test(test_snaplen_truncated_payload),
        cmocka_unit_test(test_vlan_and_qinq),
        cmocka_unit_test(test_sll_sll2_null_loop_raw),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_ipv6_ext_length_beyond_packet),
        cmocka_unit_test(test_ipv4_hostile_lengths),
        cmocka_unit_test(test_syn_options),
        cmocka_unit_test(test_hostile_options),
        cmocka_unit_test(test_gso_total_length_zero),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
