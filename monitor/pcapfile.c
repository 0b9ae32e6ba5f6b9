/* Classic pcap file headers and records as pure functions over bytes. */
#include "monitor/pcapfile.h"

#include <string.h>

#define PCAPFILE_MAGIC_USEC 0xa1b2c3d4u
#define PCAPFILE_MAGIC_NSEC 0xa1b23c4du

static uint32_t pcapfile_rd32(const uint8_t *p, int swapped)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

static uint16_t pcapfile_rd16(const uint8_t *p, int swapped)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return swapped ? __builtin_bswap16(v) : v;
}

int pcapfile_header(const uint8_t *p, size_t n, struct pcapfile_hdr *h)
{
    uint32_t magic;

    if (n < PCAPFILE_HDR_LEN)
        return -1;
    magic = pcapfile_rd32(p, 0);
    if (magic == PCAPFILE_MAGIC_USEC || magic == PCAPFILE_MAGIC_NSEC) {
        h->swapped = 0;
    } else if (__builtin_bswap32(magic) == PCAPFILE_MAGIC_USEC ||
               __builtin_bswap32(magic) == PCAPFILE_MAGIC_NSEC) {
        h->swapped = 1;
        magic = __builtin_bswap32(magic);
    } else {
        return -1;
    }
    /* 2.4 only: older minor versions swapped caplen and len in some writers. */
    if (pcapfile_rd16(p + 4, h->swapped) != 2 || pcapfile_rd16(p + 6, h->swapped) != 4)
        return -1;
    h->nano = magic == PCAPFILE_MAGIC_NSEC;
    h->snaplen = pcapfile_rd32(p + 16, h->swapped);
    h->linktype = pcapfile_rd32(p + 20, h->swapped);
    return 0;
}

enum pcapfile_status pcapfile_record(const struct pcapfile_hdr *h, uint32_t snapshot,
                                     const uint8_t *p, size_t n, struct pcapfile_rec *r)
{
    uint32_t sec, frac, caplen;

    if (n < PCAPFILE_REC_LEN)
        return PCAPFILE_MORE;
    caplen = pcapfile_rd32(p + 8, h->swapped);
    /* libpcap cuts such records to the snapshot or rejects them. */
    if (caplen > snapshot || caplen > PCAPFILE_MAX_CAPLEN)
        return PCAPFILE_ODD;
    if (n - PCAPFILE_REC_LEN < caplen)
        return PCAPFILE_MORE;
    sec = pcapfile_rd32(p, h->swapped);
    frac = pcapfile_rd32(p + 4, h->swapped);
    /* libpcap versions differ on stamps past 2038 or fractions past a second
     * (signed or unsigned fields): whichever is linked decides those. */
    if (sec > INT32_MAX || frac >= (h->nano ? 1000000000u : 1000000u))
        return PCAPFILE_ODD;
    r->ts_ns = (uint64_t)sec * 1000000000u + (h->nano ? frac : (uint64_t)frac * 1000u);
    r->caplen = caplen;
    r->len = pcapfile_rd32(p + 12, h->swapped);
    return PCAPFILE_OK;
}
