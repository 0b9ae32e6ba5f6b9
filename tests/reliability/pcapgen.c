/*
 * Capture files for labmon's robustness tests: a SYN flood of N distinct
 * connections (fast: one template frame, two fields changed per packet),
 * N whole HTTP connections, and a set of broken or hostile pcap/pcapng files.
 *
 *   pcapgen synflood N [FILE]   N SYNs to 127.0.0.1:8080 (stdout without FILE)
 *   pcapgen http N [FILE]       N HTTP connections to 127.0.0.1:8080: handshake,
 *                               one request (every tenth: three, keep-alive),
 *                               200, 304 or 404 with a body, FIN close
 *   pcapgen hostile DIR         writes DIR/<case>.pcap[ng], prints the names
 *
 * Built by the tests with `cc`; not part of labd or labmon.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_LEN 14
#define IP_LEN  20
#define TCP_LEN 20
#define FRAME   (ETH_LEN + IP_LEN + TCP_LEN)

struct pcap_file_hdr {
    uint32_t magic;
    uint16_t major, minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
    uint32_t sec, usec, caplen, len;
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

/* An Ethernet/IPv4/TCP SYN from src:sport to 127.0.0.1:8080 with valid checksums. */
static void make_syn(uint8_t *f, uint32_t src, uint16_t sport, uint32_t seq)
{
    memset(f, 0, FRAME);
    f[12] = 0x08; /* ethertype IPv4 */
    uint8_t *ip = f + ETH_LEN, *tcp = ip + IP_LEN;
    ip[0] = 0x45;
    put16(ip + 2, IP_LEN + TCP_LEN);
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, 0x7f000001);
    put16(ip + 10, csum_fold(csum_add(0, ip, IP_LEN)));
    put16(tcp, sport);
    put16(tcp + 2, 8080);
    put32(tcp + 4, seq);
    tcp[12] = 5 << 4;
    tcp[13] = 0x02; /* SYN */
    put16(tcp + 14, 65535);
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put16(pseudo + 10, TCP_LEN);
    put16(tcp + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, TCP_LEN)));
}

static void file_hdr(FILE *f, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
    struct pcap_file_hdr h = { magic, 2, 4, 0, 0, snaplen, linktype };
    fwrite(&h, sizeof h, 1, f);
}

/* A record header saying caplen and len, then n bytes of p (a lie when n != caplen). */
static void record_raw(FILE *f, uint32_t sec, uint32_t usec, uint32_t caplen, uint32_t len,
                       const uint8_t *p, size_t n)
{
    struct pcap_rec_hdr r = { sec, usec, caplen, len };
    fwrite(&r, sizeof r, 1, f);
    fwrite(p, 1, n, f);
}

static void record(FILE *f, uint32_t sec, uint32_t usec, const uint8_t *p, uint32_t caplen,
                   uint32_t len)
{
    record_raw(f, sec, usec, caplen, len, p, caplen);
}

/* An IPv4/TCP segment (no link header) from the client (dir 0) or the server, checksums valid. */
static size_t make_seg(uint8_t *f, int dir, uint32_t client, uint16_t cport, uint8_t flags,
                       uint32_t seq, uint32_t ack, const char *payload, size_t plen)
{
    uint8_t *tcp = f + IP_LEN, pseudo[12];
    size_t tot = IP_LEN + TCP_LEN + plen;

    memset(f, 0, IP_LEN + TCP_LEN);
    f[0] = 0x45;
    put16(f + 2, (uint16_t)tot);
    f[8] = 64;
    f[9] = 6;
    put32(f + 12, dir ? 0x7f000001 : client);
    put32(f + 16, dir ? client : 0x7f000001);
    put16(f + 10, csum_fold(csum_add(0, f, IP_LEN)));
    put16(tcp, dir ? 8080 : cport);
    put16(tcp + 2, dir ? cport : 8080);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    memcpy(tcp + TCP_LEN, payload, plen);
    memcpy(pseudo, f + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put16(pseudo + 10, (uint16_t)(TCP_LEN + plen));
    put16(tcp + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, TCP_LEN + plen)));
    return tot;
}

/* The state of one generated HTTP connection. */
struct http_conn {
    FILE *f;
    uint64_t t_us; /* capture time */
    uint32_t client;
    uint16_t cport;
    uint32_t cseq, sseq;
};

static void http_send(struct http_conn *c, int dir, uint8_t flags, const char *p, size_t n)
{
    static uint8_t frame[IP_LEN + TCP_LEN + 2048];
    size_t len = make_seg(frame, dir, c->client, c->cport, flags, dir ? c->sseq : c->cseq,
                          (flags & 0x10) ? (dir ? c->cseq : c->sseq) : 0, p, n);

    record(c->f, (uint32_t)(c->t_us / 1000000), (uint32_t)(c->t_us % 1000000), frame,
           (uint32_t)len, (uint32_t)len);
    if (dir)
        c->sseq += (uint32_t)n + ((flags & 0x03) ? 1 : 0);
    else
        c->cseq += (uint32_t)n + ((flags & 0x03) ? 1 : 0);
    c->t_us += 100;
}

/* One request and its answer: a status line, headers and a body in one or two segments. */
static void http_exchange(struct http_conn *c, long i, int k)
{
    static const int statuses[] = { 200, 200, 200, 304, 200, 404, 200 };
    int status = statuses[(i + k) % 7];
    char req[128], resp[4096];
    size_t body = status == 200 ? 1000 + (size_t)(i % 7) * 250 : status == 404 ? 120 : 0;
    int n = snprintf(req, sizeof(req), "GET /page/%ld-%d.html HTTP/1.1\r\nHost: lab\r\n\r\n", i, k);
    int h = snprintf(resp, sizeof(resp), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n\r\n", status,
                     status == 200 ? "OK" : status == 304 ? "Not Modified" : "Not Found", body);

    http_send(c, 0, 0x18, req, (size_t)n);
    c->t_us += 300;
    memset(resp + h, 'x', body);
    if ((size_t)h + body > 1448) { /* two segments, as a 1500-byte link carries it */
        http_send(c, 1, 0x10, resp, 1448);
        http_send(c, 1, 0x18, resp + 1448, (size_t)h + body - 1448);
    } else {
        http_send(c, 1, 0x18, resp, (size_t)h + body);
    }
    http_send(c, 0, 0x10, NULL, 0);
}

static int http(long n, const char *path)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    static char buf[1 << 20];

    if (!f) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    setvbuf(f, buf, _IOFBF, sizeof buf);
    file_hdr(f, 0xa1b2c3d4, 262144, 228); /* LINKTYPE_IPV4 */
    for (long i = 0; i < n; i++) {
        /* One connection every millisecond, each over in a few. */
        struct http_conn c = { f, 1700000000000000ULL + (uint64_t)i * 1000,
                               0x0a010000u | (uint32_t)(i / 50000 + 1),
                               (uint16_t)(10000 + i % 50000), (uint32_t)i * 2654435761u,
                               (uint32_t)i * 40503u };
        http_send(&c, 0, 0x02, NULL, 0);
        http_send(&c, 1, 0x12, NULL, 0);
        http_send(&c, 0, 0x10, NULL, 0);
        for (int k = 0; k < (i % 10 == 9 ? 3 : 1); k++)
            http_exchange(&c, i, k);
        http_send(&c, 0, 0x11, NULL, 0);
        http_send(&c, 1, 0x11, NULL, 0);
        http_send(&c, 0, 0x10, NULL, 0);
    }
    if (fflush(f) != 0 || (path && fclose(f) != 0)) {
        fprintf(stderr, "pcapgen: write: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

static int synflood(long n, const char *path)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    file_hdr(f, 0xa1b2c3d4, 262144, 1);
    uint8_t frame[FRAME];
    for (long i = 0; i < n; i++) {
        /* Distinct 4-tuples: 10.0.0.0/8 sources x 50000 ports. */
        uint32_t src = 0x0a000000u | (uint32_t)(i / 50000 + 1);
        uint16_t sport = (uint16_t)(10000 + i % 50000);
        make_syn(frame, src, sport, (uint32_t)i * 2654435761u);
        /* 100 000 SYNs per second of capture time. */
        record(f, 1700000000u + (uint32_t)(i / 100000), (uint32_t)(i % 100000) * 10, frame, FRAME,
               FRAME);
    }
    if (fflush(f) != 0 || (path && fclose(f) != 0)) {
        fprintf(stderr, "pcapgen: write: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

static FILE *open_case(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    printf("%s\n", name);
    return f;
}

/* DIR/NAME with a pcap file header and a first record holding the whole frame. */
static FILE *open_pcap(const char *dir, const char *name, uint32_t magic, uint32_t snaplen,
                       uint32_t linktype, const uint8_t *frame)
{
    FILE *f = open_case(dir, name);
    file_hdr(f, magic, snaplen, linktype);
    record(f, 1, 0, frame, FRAME, FRAME);
    return f;
}

static void pcapng_block(FILE *f, uint32_t type, uint32_t total_len, const void *body,
                         size_t body_len, uint32_t trailer_len)
{
    fwrite(&type, 4, 1, f);
    fwrite(&total_len, 4, 1, f);
    fwrite(body, 1, body_len, f);
    fwrite(&trailer_len, 4, 1, f);
}

static int hostile(const char *dir)
{
    uint8_t frame[FRAME];
    make_syn(frame, 0x0a000001, 40000, 1);
    FILE *f;

    /* A valid two-packet file, to show the others fail for their defect only. */
    f = open_pcap(dir, "good.pcap", 0xa1b2c3d4, 65535, 1, frame);
    record(f, 1, 10, frame, FRAME, FRAME);
    fclose(f);

    fclose(open_case(dir, "empty.pcap"));
    fclose(open_pcap(dir, "bad_magic.pcap", 0xdeadbeef, 65535, 1, frame));

    f = open_case(dir, "short_file_header.pcap");
    fwrite("\xd4\xc3\xb2\xa1\x02\x00", 1, 6, f);
    fclose(f);

    fclose(open_pcap(dir, "snaplen0.pcap", 0xa1b2c3d4, 0, 1, frame));

    f = open_pcap(dir, "huge_caplen.pcap", 0xa1b2c3d4, 65535, 1, frame);
    record_raw(f, 1, 5, 0x7ffffff0u, 0x7ffffff0u, frame, FRAME);
    fclose(f);

    f = open_case(dir, "caplen_gt_len.pcap");
    file_hdr(f, 0xa1b2c3d4, 65535, 1);
    record(f, 1, 0, frame, FRAME, 20); /* caplen 54 > wire length 20 */
    fclose(f);

    f = open_pcap(dir, "truncated_record_header.pcap", 0xa1b2c3d4, 65535, 1, frame);
    fwrite("\x01\x00\x00\x00\x00\x00\x00", 1, 7, f);
    fclose(f);

    f = open_pcap(dir, "truncated_record_body.pcap", 0xa1b2c3d4, 65535, 1, frame);
    record_raw(f, 1, 5, FRAME, FRAME, frame, 10);
    fclose(f);

    /* Frames too short for the headers they claim (decoder bounds). */
    f = open_case(dir, "short_frames.pcap");
    file_hdr(f, 0xa1b2c3d4, 65535, 1);
    for (uint32_t n = 0; n <= FRAME; n++)
        record(f, 1, n, frame, n, FRAME);
    {
        uint8_t bad[FRAME];
        memcpy(bad, frame, FRAME);
        bad[ETH_LEN] = 0x4f; /* IHL 60 bytes in a 54-byte frame */
        record(f, 2, 0, bad, FRAME, FRAME);
        memcpy(bad, frame, FRAME);
        bad[ETH_LEN + IP_LEN + 12] = 0xf0; /* TCP data offset 60 */
        record(f, 2, 1, bad, FRAME, FRAME);
        memcpy(bad, frame, FRAME);
        put16(bad + ETH_LEN + 2, 65535); /* IP total length beyond the frame */
        record(f, 2, 2, bad, FRAME, FRAME);
        memcpy(bad, frame, FRAME);
        put16(bad + ETH_LEN + 2, 4); /* IP total length below the header */
        record(f, 2, 3, bad, FRAME, FRAME);
    }
    fclose(f);

    fclose(open_pcap(dir, "unknown_linktype.pcap", 0xa1b2c3d4, 65535, 4242, frame));

    /* pcapng: a section header block whose lengths disagree or are absurd. */
    uint8_t shb[16] = { 0x4d, 0x3c, 0x2b, 0x1a, 1,    0,    0,    0,
                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    f = open_case(dir, "pcapng_bad_block_length.pcapng");
    pcapng_block(f, 0x0a0d0d0a, 28, shb, sizeof shb, 29);
    fclose(f);

    f = open_case(dir, "pcapng_huge_block_length.pcapng");
    pcapng_block(f, 0x0a0d0d0a, 0xfffffff0u, shb, sizeof shb, 0xfffffff0u);
    fclose(f);

    /* A valid SHB, then an interface block with a length below the minimum. */
    f = open_case(dir, "pcapng_short_idb.pcapng");
    pcapng_block(f, 0x0a0d0d0a, 28, shb, sizeof shb, 28);
    {
        uint8_t idb[8] = { 1, 0, 0, 0, 0xff, 0xff, 0, 0 };
        pcapng_block(f, 1, 8, idb, sizeof idb, 8);
    }
    fclose(f);

    /* A valid SHB and IDB, then an enhanced packet block claiming more than it holds. */
    f = open_case(dir, "pcapng_truncated_epb.pcapng");
    pcapng_block(f, 0x0a0d0d0a, 28, shb, sizeof shb, 28);
    {
        uint8_t idb[8] = { 1, 0, 0, 0, 0xff, 0xff, 0, 0 };
        pcapng_block(f, 1, 20, idb, sizeof idb, 20);
        uint8_t epb[20 + FRAME + 2] = { 0 };
        uint32_t caplen = 0x00ffffff, len = FRAME;
        memcpy(epb + 12, &caplen, 4);
        memcpy(epb + 16, &len, 4);
        memcpy(epb + 20, frame, FRAME);
        pcapng_block(f, 6, 12 + sizeof epb, epb, sizeof epb, 12 + sizeof epb);
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "synflood") == 0)
        return synflood(atol(argv[2]), argc > 3 ? argv[3] : NULL);
    if (argc >= 3 && strcmp(argv[1], "http") == 0)
        return http(atol(argv[2]), argc > 3 ? argv[3] : NULL);
    if (argc == 3 && strcmp(argv[1], "hostile") == 0)
        return hostile(argv[2]);
    fprintf(stderr, "usage: pcapgen synflood N [FILE] | pcapgen http N [FILE] | pcapgen hostile DIR\n");
    return 2;
}
