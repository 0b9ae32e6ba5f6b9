/*
 * Classic pcap file records, read without libpcap: the header and record
 * layout (either byte order, micro- or nanosecond stamps) as pure functions
 * over bytes. Anything unusual is left to libpcap (see capture.c).
 */
#ifndef LABMON_PCAPFILE_H
#define LABMON_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define PCAPFILE_HDR_LEN 24
#define PCAPFILE_REC_LEN 16
/* libpcap's largest caplen for the link types labmon decodes (MAXIMUM_SNAPLEN). */
#define PCAPFILE_MAX_CAPLEN 262144u

struct pcapfile_hdr {
    int swapped;       /* written in the other byte order */
    int nano;          /* nanosecond stamps (magic 0xa1b23c4d) */
    uint32_t snaplen;  /* as written in the header */
    uint32_t linktype; /* as written, LINKTYPE_ value and flag bits */
};

/*
 * A file header this reader handles: classic pcap, version 2.4. Returns 0 and
 * fills *h, or -1 (too short, another magic such as pcapng or the modified
 * formats, another version): then only libpcap may read the file.
 */
int pcapfile_header(const uint8_t *p, size_t n, struct pcapfile_hdr *h);

struct pcapfile_rec {
    uint64_t ts_ns;  /* seconds * 10^9 + fraction, as libpcap at nanosecond precision */
    uint32_t caplen; /* bytes of packet data after the 16-byte record header */
    uint32_t len;    /* length on the wire */
};

enum pcapfile_status {
    PCAPFILE_OK,   /* *r filled; the record is PCAPFILE_REC_LEN + r->caplen bytes */
    PCAPFILE_MORE, /* the record does not end within n bytes */
    PCAPFILE_ODD,  /* caplen above snapshot or the maximum, a stamp past 2038 or
                    * a fraction of a second past 1 s: libpcap's to judge */
};

/*
 * The record at p, n bytes available. snapshot is libpcap's snapshot length
 * for the file (pcap_snapshot(), the header's snaplen made sane). Never
 * reads beyond p + n.
 */
enum pcapfile_status pcapfile_record(const struct pcapfile_hdr *h, uint32_t snapshot,
                                     const uint8_t *p, size_t n, struct pcapfile_rec *r);

#endif
