/* Test helper: raw IPv4/TCP frames and a whole HTTP exchange for the engine. */
#include "tests/unit/lib_exchange.h"

#include <string.h>

size_t lib_exchange_frame(uint8_t *b, int from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                          const char *payload)
{
    size_t plen = payload ? strlen(payload) : 0, tot = 20 + 20 + plen;
    memset(b, 0, 40);
    b[0] = 0x45;
    b[2] = (uint8_t)(tot >> 8);
    b[3] = (uint8_t)tot;
    b[8] = 64;
    b[9] = 6;
    uint8_t c[4] = { 192, 168, 1, 10 }, s[4] = { 192, 168, 1, 1 };
    memcpy(b + 12, from_server ? s : c, 4);
    memcpy(b + 16, from_server ? c : s, 4);
    uint16_t cp = 50000, sp = 8080;
    uint16_t src = from_server ? sp : cp, dst = from_server ? cp : sp;
    uint8_t *t = b + 20;
    t[0] = (uint8_t)(src >> 8);
    t[1] = (uint8_t)src;
    t[2] = (uint8_t)(dst >> 8);
    t[3] = (uint8_t)dst;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = 0xff;
    t[15] = 0xff;
    if (plen)
        memcpy(t + 20, payload, plen);
    return tot;
}

struct decode_seg lib_exchange_seg(int from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                                   uint64_t ts_ns)
{
    struct decode_seg d;
    uint8_t c[4] = { 10, 0, 0, 1 }, s[4] = { 10, 0, 0, 2 };

    memset(&d, 0, sizeof(d));
    d.ts_ns = ts_ns;
    d.af = 4;
    memcpy(d.src, from_server ? s : c, 4);
    memcpy(d.dst, from_server ? c : s, 4);
    d.sport = from_server ? 80 : 40000;
    d.dport = from_server ? 40000 : 80;
    d.flags = flags;
    d.seq = seq;
    d.ack = ack;
    d.win = 1000;
    return d;
}

void lib_exchange_run(struct engine *e)
{
    uint8_t b[256];
    const uint32_t C = 100, S = 9000;
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    uint64_t t = 1000000000ULL;
    size_t n;
#define LIB_EXCHANGE_FEED(...)                                                                     \
    do {                                                                                           \
        n = lib_exchange_frame(b, __VA_ARGS__);                                                    \
        engine_packet(e, DECODE_LINKTYPE_RAW, b, (uint32_t)n, (uint32_t)n, t);                     \
        t += 1000000;                                                                              \
    } while (0)
    LIB_EXCHANGE_FEED(0, FLOW_TH_SYN, C, 0, NULL);
    LIB_EXCHANGE_FEED(1, FLOW_TH_SYN | FLOW_TH_ACK, S, C + 1, NULL);
    LIB_EXCHANGE_FEED(0, FLOW_TH_ACK, C + 1, S + 1, NULL);
    LIB_EXCHANGE_FEED(0, FLOW_TH_PSH | FLOW_TH_ACK, C + 1, S + 1, req);
    uint32_t c2 = C + 1 + (uint32_t)strlen(req);
    LIB_EXCHANGE_FEED(1, FLOW_TH_PSH | FLOW_TH_ACK, S + 1, c2, resp);
    uint32_t s2 = S + 1 + (uint32_t)strlen(resp);
    LIB_EXCHANGE_FEED(0, FLOW_TH_FIN | FLOW_TH_ACK, c2, s2, NULL);
    LIB_EXCHANGE_FEED(1, FLOW_TH_FIN | FLOW_TH_ACK, s2, c2 + 1, NULL);
    LIB_EXCHANGE_FEED(0, FLOW_TH_ACK, c2 + 1, s2 + 1, NULL);
#undef LIB_EXCHANGE_FEED
    /* Junk: a truncated frame and a UDP datagram. */
    uint8_t junk[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17 };
    engine_packet(e, DECODE_LINKTYPE_RAW, junk, 10, 28, t);
    engine_packet(e, DECODE_LINKTYPE_RAW, junk, 28, 28, t);
}
