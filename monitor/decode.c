/*
 * Decoders, one per layer, each checking the captured length before every
 * read. IP lengths set the payload length; the capture length only limits
 * how much of it can be looked at.
 */
#include "monitor/decode.h"
#include "monitor/libc_mem.h"

#include <string.h>

static uint16_t decode_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t decode_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *const decode_status_names[DECODE_STATUS_COUNT] = {
    [DECODE_OK] = "ok",
    [DECODE_NOT_IP] = "not_ip",
    [DECODE_NOT_TCP] = "not_tcp",
    [DECODE_FRAGMENT] = "fragment",
    [DECODE_BAD_LINK] = "bad_link",
    [DECODE_TRUNC_LINK] = "truncated_link",
    [DECODE_TRUNC_IP] = "truncated_ip",
    [DECODE_TRUNC_TCP] = "truncated_tcp",
    [DECODE_BAD_IP] = "bad_ip",
    [DECODE_BAD_IPV6_EXT] = "bad_ipv6_ext",
    [DECODE_BAD_TCP] = "bad_tcp",
};

const char *decode_status_name(enum decode_status s)
{
    return (unsigned)s < DECODE_STATUS_COUNT ? decode_status_names[s] : "?";
}

enum decode_class decode_status_class(enum decode_status s)
{
    switch (s) {
    case DECODE_OK:
        return DECODE_CLASS_OK;
    case DECODE_TRUNC_LINK:
    case DECODE_TRUNC_IP:
    case DECODE_TRUNC_TCP:
        return DECODE_CLASS_TRUNCATED;
    case DECODE_BAD_IP:
    case DECODE_BAD_IPV6_EXT:
    case DECODE_BAD_TCP:
        return DECODE_CLASS_MALFORMED;
    default:
        return DECODE_CLASS_NOT_TCP;
    }
}

int decode_dlt_supported(int dlt)
{
    switch (dlt) {
    case DECODE_DLT_NULL:
    case DECODE_DLT_EN10MB:
    case DECODE_DLT_RAW:
    case DECODE_DLT_RAW_BSD:
    case DECODE_LINKTYPE_RAW:
    case DECODE_DLT_LOOP:
    case DECODE_DLT_SLL:
    case DECODE_LINKTYPE_IPV4:
    case DECODE_LINKTYPE_IPV6:
    case DECODE_DLT_SLL2:
        return 1;
    default:
        return 0;
    }
}

void decode_tcp_options(const uint8_t *p, uint32_t len, struct decode_tcp_opts *o)
{
    uint32_t i = 0;
    /* NOP NOP TS: what Linux puts on nearly every segment, decoded as the loop would. */
    if (len == 12 && p[0] == 1 && p[1] == 1 && p[2] == 8 && p[3] == 10) {
        o->present |= DECODE_OPT_TS;
        o->tsval = decode_rd32(p + 4);
        o->tsecr = decode_rd32(p + 8);
        return;
    }
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len) {
            o->malformed = 1;
            break;
        }
        uint8_t olen = p[i + 1];
        if (olen < 2 || olen > len - i) {
            o->malformed = 1;
            break;
        }
        const uint8_t *v = p + i + 2;
        uint32_t vlen = olen - 2u;
        switch (kind) {
        case 2: /* MSS */
            if (vlen == 2) {
                o->present |= DECODE_OPT_MSS;
                o->mss = decode_rd16(v);
            } else
                o->malformed = 1;
            break;
        case 3: /* window scale */
            if (vlen == 1) {
                o->present |= DECODE_OPT_WS;
                o->wscale = v[0];
            } else
                o->malformed = 1;
            break;
        case 4: /* SACK permitted */
            if (vlen == 0)
                o->present |= DECODE_OPT_SACK_PERM;
            else
                o->malformed = 1;
            break;
        case 5: /* SACK blocks */
            if (vlen % 8 == 0 && vlen > 0) {
                o->present |= DECODE_OPT_SACK;
                o->nsack = 0;
                for (uint32_t k = 0; k + 8 <= vlen && o->nsack < DECODE_SACK_MAX; k += 8) {
                    o->sack[o->nsack][0] = decode_rd32(v + k);
                    o->sack[o->nsack][1] = decode_rd32(v + k + 4);
                    o->nsack++;
                }
            } else
                o->malformed = 1;
            break;
        case 8: /* timestamps */
            if (vlen == 8) {
                o->present |= DECODE_OPT_TS;
                o->tsval = decode_rd32(v);
                o->tsecr = decode_rd32(v + 4);
            } else
                o->malformed = 1;
            break;
        case 30: /* MPTCP */
            o->present |= DECODE_OPT_MPTCP;
            break;
        case 34: /* TCP Fast Open cookie (RFC 7413): empty = request */
            if (vlen <= 16 && (vlen == 0 || vlen >= 4)) {
                o->present |= DECODE_OPT_TFO;
                o->tfo_len = (uint8_t)vlen;
                memcpy(o->tfo_cookie, v, vlen);
            } else
                o->malformed = 1;
            break;
        default:
            break;
        }
        i += olen;
    }
}

/* TCP header at p; ip_plen is the IP payload length (from the IP header). */
static enum decode_status decode_tcp(const uint8_t *p, uint32_t avail, uint32_t ip_plen,
                                     struct decode_seg *d)
{
    if (avail < 20)
        return ip_plen < 20 ? DECODE_BAD_TCP : DECODE_TRUNC_TCP;
    uint32_t hlen = (uint32_t)(p[12] >> 4) * 4;
    if (hlen < 20 || hlen > ip_plen)
        return DECODE_BAD_TCP;
    if (hlen > avail)
        return DECODE_TRUNC_TCP;
    d->sport = decode_rd16(p);
    d->dport = decode_rd16(p + 2);
    d->seq = decode_rd32(p + 4);
    d->ack = decode_rd32(p + 8);
    d->flags_hi = p[12] & 0x0f;
    d->flags = p[13];
    d->win = decode_rd16(p + 14);
    d->urp = decode_rd16(p + 18);
    d->tcp_hlen = (uint16_t)hlen;
    decode_tcp_options(p + 20, hlen - 20, &d->opts);
    d->payload = p + hlen;
    d->payload_len = ip_plen - hlen;
    uint32_t cap = avail - hlen;
    d->payload_caplen = cap < d->payload_len ? cap : d->payload_len;
    return DECODE_OK;
}

/* The fixed part of an IP header: len bytes captured, and the version it should claim. */
static enum decode_status decode_ip_fixed(const uint8_t *p, uint32_t avail, uint32_t len,
                                          int version)
{
    if (avail < len)
        return DECODE_TRUNC_IP;
    if (p[0] >> 4 != version)
        return DECODE_BAD_IP;
    return DECODE_OK;
}

static enum decode_status decode_ipv4(const uint8_t *p, uint32_t avail, uint32_t wire,
                                      struct decode_seg *d)
{
    enum decode_status st = decode_ip_fixed(p, avail, 20, 4);

    if (st != DECODE_OK)
        return st;
    uint32_t hlen = (uint32_t)(p[0] & 0x0f) * 4;
    if (hlen < 20)
        return DECODE_BAD_IP;
    if (hlen > avail)
        return DECODE_TRUNC_IP;
    uint32_t tot = decode_rd16(p + 2);
    /* Total length 0: a TSO/GSO super-packet; the frame length is the truth. */
    if (tot == 0)
        tot = wire;
    if (tot < hlen)
        return DECODE_BAD_IP;
    d->af = 4;
    d->ttl = p[8];
    memcpy(d->src, p + 12, 4);
    memcpy(d->dst, p + 16, 4);
    uint16_t frag = decode_rd16(p + 6);
    if (frag & 0x1fff)
        return DECODE_FRAGMENT;
    if (p[9] != 6)
        return DECODE_NOT_TCP;
    return decode_tcp(p + hlen, avail - hlen, tot - hlen, d);
}

static enum decode_status decode_ipv6(const uint8_t *p, uint32_t avail, uint32_t wire,
                                      struct decode_seg *d)
{
    enum decode_status st = decode_ip_fixed(p, avail, 40, 6);

    if (st != DECODE_OK)
        return st;
    uint32_t plen = decode_rd16(p + 4);
    /* Payload length 0 (jumbogram or GSO): use what the frame carried. */
    if (plen == 0 && wire > 40)
        plen = wire - 40;
    d->af = 6;
    d->ttl = p[7];
    memcpy(d->src, p + 8, 16);
    memcpy(d->dst, p + 24, 16);
    uint8_t nh = p[6];
    uint32_t off = 40;
    uint32_t end = 40 + plen; /* end of the IPv6 packet */
    for (int guard = 0; guard < 16; guard++) {
        uint32_t elen;
        switch (nh) {
        case 6:
            if (off > end)
                return DECODE_BAD_IPV6_EXT;
            return decode_tcp(p + off, avail - off, end - off, d);
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
            if (off + 2 > avail)
                return off + 2 > end ? DECODE_BAD_IPV6_EXT : DECODE_TRUNC_IP;
            elen = ((uint32_t)p[off + 1] + 1) * 8;
            break;
        case 44: /* fragment */
            if (off + 8 > avail)
                return off + 8 > end ? DECODE_BAD_IPV6_EXT : DECODE_TRUNC_IP;
            if (decode_rd16(p + off + 2) & 0xfff8)
                return DECODE_FRAGMENT;
            elen = 8;
            break;
        case 51: /* AH: length in 4-byte units, minus 2 */
            if (off + 2 > avail)
                return off + 2 > end ? DECODE_BAD_IPV6_EXT : DECODE_TRUNC_IP;
            elen = ((uint32_t)p[off + 1] + 2) * 4;
            break;
        default:
            return DECODE_NOT_TCP;
        }
        if (off + elen > end)
            return DECODE_BAD_IPV6_EXT;
        if (off + elen > avail)
            return DECODE_TRUNC_IP;
        nh = p[off];
        off += elen;
    }
    return DECODE_BAD_IPV6_EXT;
}

/* IP version 4 or 6 at p; any other version is not IP. */
static enum decode_status decode_ip(int version, const uint8_t *p, uint32_t avail, uint32_t wire,
                                    struct decode_seg *d)
{
    if (version == 4)
        return decode_ipv4(p, avail, wire, d);
    if (version == 6)
        return decode_ipv6(p, avail, wire, d);
    return DECODE_NOT_IP;
}

/* Dispatch on an ethertype (after any VLAN tags). */
static enum decode_status decode_ethertype(uint16_t type, const uint8_t *p, uint32_t avail,
                                           uint32_t wire, struct decode_seg *d)
{
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (avail < 4)
            return DECODE_TRUNC_LINK;
        if (d->nvlan < 2)
            d->vlan[d->nvlan] = decode_rd16(p) & 0x0fff;
        d->nvlan++;
        type = decode_rd16(p + 2);
        p += 4;
        avail -= 4;
        wire = wire >= 4 ? wire - 4 : 0;
    }
    return decode_ip(type == 0x0800 ? 4 : type == 0x86dd ? 6 : 0, p, avail, wire, d);
}

/* Raw IP: the version nibble says which. */
static enum decode_status decode_raw(const uint8_t *p, uint32_t avail, uint32_t wire,
                                     struct decode_seg *d)
{
    if (avail < 1)
        return DECODE_TRUNC_IP;
    return decode_ip(p[0] >> 4, p, avail, wire, d);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). */
static enum decode_status decode_null(const uint8_t *p, uint32_t avail, uint32_t wire,
                                      struct decode_seg *d)
{
    if (avail < 4)
        return DECODE_TRUNC_LINK;
    uint32_t be = decode_rd32(p);
    uint32_t le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    /* The value is small: whichever byte order gives a small number is the one. */
    uint32_t af = be < 0x10000 ? be : le;
    p += 4;
    avail -= 4;
    wire = wire >= 4 ? wire - 4 : 0;
    /* AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
    return decode_ip(af == 2                                          ? 4
                     : (af == 10 || af == 24 || af == 28 || af == 30) ? 6
                                                                      : 0,
                     p, avail, wire, d);
}

enum decode_status decode_packet(int dlt, const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
                                 uint64_t ts_ns, struct decode_seg *out)
{
    libc_mem_set(out, 0, sizeof(*out));
    out->ts_ns = ts_ns;
    out->caplen = caplen;
    out->wirelen = wirelen < caplen ? caplen : wirelen;
    uint32_t wire = out->wirelen;

    switch (dlt) {
    case DECODE_DLT_EN10MB:
        if (caplen < 14)
            return DECODE_TRUNC_LINK;
        return decode_ethertype(decode_rd16(pkt + 12), pkt + 14, caplen - 14, wire - 14, out);
    case DECODE_DLT_SLL:
        if (caplen < 16)
            return DECODE_TRUNC_LINK;
        return decode_ethertype(decode_rd16(pkt + 14), pkt + 16, caplen - 16, wire - 16, out);
    case DECODE_DLT_SLL2:
        if (caplen < 20)
            return DECODE_TRUNC_LINK;
        return decode_ethertype(decode_rd16(pkt), pkt + 20, caplen - 20, wire - 20, out);
    case DECODE_DLT_NULL:
    case DECODE_DLT_LOOP:
        return decode_null(pkt, caplen, wire, out);
    case DECODE_DLT_RAW:
    case DECODE_DLT_RAW_BSD:
    case DECODE_LINKTYPE_RAW:
        return decode_raw(pkt, caplen, wire, out);
    case DECODE_LINKTYPE_IPV4:
        if (caplen >= 1 && pkt[0] >> 4 != 4)
            return DECODE_BAD_IP;
        return decode_raw(pkt, caplen, wire, out);
    case DECODE_LINKTYPE_IPV6:
        if (caplen >= 1 && pkt[0] >> 4 != 6)
            return DECODE_BAD_IP;
        return decode_raw(pkt, caplen, wire, out);
    default:
        return DECODE_BAD_LINK;
    }
}
