/*
 * libFuzzer target: monitor/decode.c. Byte 0 picks the link type, byte 1
 * how much longer the frame was on the wire; the rest is the captured frame.
 * A decoded segment must lie inside the captured bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {
    DECODE_DLT_EN10MB,    DECODE_DLT_SLL,       DECODE_DLT_SLL2,       DECODE_DLT_NULL,
    DECODE_DLT_LOOP,      DECODE_LINKTYPE_RAW,  DECODE_DLT_RAW,        DECODE_DLT_RAW_BSD,
    DECODE_LINKTYPE_IPV4, DECODE_LINKTYPE_IPV6, 147 /* unsupported */,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct decode_seg d;
    struct decode_tcp_opts o;
    enum decode_status st;
    const uint8_t *pkt;
    uint32_t caplen, wirelen;
    uint8_t *copy;
    int dlt;

    if (size < 2)
        return 0;
    dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
    caplen = (uint32_t)(size - 2);
    wirelen = caplen + (data[1] & 0x80 ? (uint32_t)data[1] << 4 : 0);
    /* An exact-size copy: any read past caplen is an ASan report. */
    copy = malloc(caplen ? caplen : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 2, caplen);
    pkt = copy;

    memset(&d, 0xa5, sizeof(d));
    st = decode_packet(dlt, pkt, caplen, wirelen, 12345, &d);
    if ((int)st < 0 || st >= DECODE_STATUS_COUNT || decode_status_name(st) == NULL)
        abort();
    if (decode_status_class(st) < DECODE_CLASS_OK ||
        decode_status_class(st) > DECODE_CLASS_MALFORMED)
        abort();
    if (st == DECODE_OK) {
        if (!decode_dlt_supported(dlt))
            abort();
        if (d.af != 4 && d.af != 6)
            abort();
        if (d.payload_caplen > d.payload_len || d.tcp_hlen < 20 || d.opts.nsack > DECODE_SACK_MAX)
            abort();
        if (d.payload_caplen > 0 &&
            (d.payload < pkt || d.payload + d.payload_caplen > pkt + caplen))
            abort();
        if (d.payload_caplen > 0 && d.payload[d.payload_caplen - 1] == 0x5a)
            d.urp ^= 1; /* touch the last payload byte: ASan checks it is ours */
    }
    /* The option parser on its own, over the same bytes. */
    memset(&o, 0, sizeof(o));
    decode_tcp_options(pkt, caplen > 40 ? 40 : caplen, &o);
    if (o.nsack > DECODE_SACK_MAX)
        abort();
    free(copy);
    return 0;
}
