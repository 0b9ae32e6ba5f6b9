/*
 * Packet decoding: link layer -> IPv4/IPv6 -> TCP, as a pure function from
 * captured bytes to a decoded segment. Every read is checked against the
 * captured length first; lengths from the packet are never trusted.
 */
#ifndef LABMON_DECODE_H
#define LABMON_DECODE_H

#include <stdint.h>

/* Link types (pcap LINKTYPE_ / DLT_ values) the decoder understands. */
#define DECODE_DLT_NULL      0
#define DECODE_DLT_EN10MB    1
#define DECODE_DLT_RAW       12 /* DLT_RAW on most systems */
#define DECODE_DLT_RAW_BSD   14 /* DLT_RAW on OpenBSD */
#define DECODE_LINKTYPE_RAW  101
#define DECODE_DLT_LOOP      108
#define DECODE_DLT_SLL       113
#define DECODE_LINKTYPE_IPV4 228
#define DECODE_LINKTYPE_IPV6 229
#define DECODE_DLT_SLL2      276

/* Outcome of decoding; everything but DECODE_OK is counted by the engine. */
enum decode_status {
    DECODE_OK = 0,
    DECODE_NOT_IP,       /* ARP, LLC, unknown ethertype or address family */
    DECODE_NOT_TCP,      /* IP, but another protocol (UDP, ICMP, ...) */
    DECODE_FRAGMENT,     /* a non-first IP fragment: no TCP header in it */
    DECODE_BAD_LINK,     /* unsupported link type */
    DECODE_TRUNC_LINK,   /* capture ends inside the link header */
    DECODE_TRUNC_IP,     /* ... inside the IP header or its extension headers */
    DECODE_TRUNC_TCP,    /* ... inside the TCP header (incl. options) */
    DECODE_BAD_IP,       /* bad version, header length or total length */
    DECODE_BAD_IPV6_EXT, /* extension header chain runs past the packet */
    DECODE_BAD_TCP,      /* data offset < 5 or beyond the IP payload */
    DECODE_STATUS_COUNT
};

/* Classes of decode_status for the counters. */
enum decode_class {
    DECODE_CLASS_OK,
    DECODE_CLASS_NOT_TCP, /* NOT_IP, NOT_TCP, FRAGMENT, BAD_LINK */
    DECODE_CLASS_TRUNCATED,
    DECODE_CLASS_MALFORMED,
};

/* Option bits of struct decode_tcp_opts.present. */
#define DECODE_OPT_MSS       0x01
#define DECODE_OPT_WS        0x02
#define DECODE_OPT_SACK_PERM 0x04
#define DECODE_OPT_TS        0x08
#define DECODE_OPT_TFO       0x10
#define DECODE_OPT_SACK      0x20
#define DECODE_OPT_MPTCP     0x40

#define DECODE_SACK_MAX 4

struct decode_tcp_opts {
    uint8_t present;   /* DECODE_OPT_* */
    uint8_t malformed; /* an option's length was bad: parsing stopped there */
    uint8_t wscale;    /* shift as sent */
    uint8_t nsack;
    uint16_t mss;
    uint8_t tfo_len; /* cookie length (0 = cookie request) */
    uint8_t tfo_cookie[16];
    uint32_t tsval, tsecr;
    uint32_t sack[DECODE_SACK_MAX][2];
};

struct decode_seg {
    uint64_t ts_ns;
    uint32_t caplen, wirelen;
    uint8_t af; /* 4 or 6 */
    uint8_t nvlan;
    uint8_t ttl;
    uint8_t flags;    /* TCP flags byte (FLOW_TH_* in flow.h) */
    uint8_t flags_hi; /* low 4 bits of byte 12: the AE/NS bit and reserved bits */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t win; /* raw window field */
    uint16_t urp;
    uint16_t vlan[2];
    uint16_t tcp_hlen;
    struct decode_tcp_opts opts;
    const uint8_t *payload;  /* start of the TCP payload in the captured bytes */
    uint32_t payload_len;    /* from the IP length: what was on the wire */
    uint32_t payload_caplen; /* how much of it was captured (<= payload_len) */
};

/*
 * Decode one captured frame. ts_ns is the capture time in nanoseconds.
 * On DECODE_OK, *out describes the TCP segment; otherwise *out is partial.
 */
enum decode_status decode_packet(int dlt, const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
                                 uint64_t ts_ns, struct decode_seg *out);

/* Parse TCP options (bytes after the fixed header). Never reads past len. */
void decode_tcp_options(const uint8_t *p, uint32_t len, struct decode_tcp_opts *o);

enum decode_class decode_status_class(enum decode_status s);
const char *decode_status_name(enum decode_status s);
/* Whether the decoder handles this link type. */
int decode_dlt_supported(int dlt);

#endif
