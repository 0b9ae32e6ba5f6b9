/*
 * libFuzzer target: monitor/capture.c's own reader of classic pcap files
 * (monitor/pcapfile.c) against libpcap reading the same bytes.
 *
 * Input: a capture file. It is written to a memory file and read twice:
 * capture_open() + capture_dispatch() as labmon reads, and libpcap alone at
 * nanosecond precision. Both must open it or refuse it alike, hand up the
 * same packets (stamps, lengths, bytes) and end alike: end of file, or the
 * same error message.
 */
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "monitor/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    uint64_t digest;
    size_t count;
    int error;
    char msg[PCAP_ERRBUF_SIZE];
};

static void note(struct run *r, uint64_t ts, uint32_t caplen, uint32_t len, const uint8_t *b)
{
    r->digest = r->digest * 1000003u ^ ts ^ (uint64_t)caplen << 32 ^ len;
    for (uint32_t i = 0; i < caplen; i++)
        r->digest = r->digest * 31u + b[i];
    r->count++;
}

static void on_frame(void *ctx, uint64_t ts, uint32_t caplen, uint32_t len, const uint8_t *b)
{
    note(ctx, ts, caplen, len, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[256], ebuf[PCAP_ERRBUF_SIZE];
    struct capture_opts o = { .read_file = path };
    struct run a = { 0 }, b = { 0 };
    struct pcap_pkthdr *h;
    const u_char *pkt;
    struct capture *c;
    pcap_t *p;
    int fd, n, rc;

    fd = memfd_create("pcap", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    c = capture_open(&o, err, sizeof(err));
    if (p == NULL || c == NULL) {
        /* capture_open() also refuses link types labmon cannot decode. */
        if (p == NULL && c != NULL)
            abort();
        if (p)
            pcap_close(p);
        capture_close(c);
        close(fd);
        return 0;
    }
    for (;;) {
        n = capture_dispatch(c, 7, on_frame, &a); /* small batches cross the reader's paths */
        if (n < 0) {
            a.error = 1;
            snprintf(a.msg, sizeof(a.msg), "%s", capture_error(c));
            break;
        }
        if (capture_eof(c))
            break;
    }
    capture_close(c);
    while ((rc = pcap_next_ex(p, &h, &pkt)) == 1)
        note(&b, (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec, h->caplen, h->len,
             pkt);
    if (rc == -1) {
        b.error = 1;
        snprintf(b.msg, sizeof(b.msg), "%s", pcap_geterr(p));
    }
    pcap_close(p);
    close(fd);
    if (a.count != b.count || a.digest != b.digest || a.error != b.error ||
        strcmp(a.msg, b.msg) != 0)
        abort(); /* the own reader and libpcap disagree */
    return 0;
}
