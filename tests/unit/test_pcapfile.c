/*
 * Unit tests for monitor/pcapfile.c (classic pcap headers and records as
 * bytes) and for capture.c's own reader built on it: every file is also
 * read with libpcap alone, and both must hand up the same packets and end
 * the same way (end of file, or libpcap's error for a damaged record).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "monitor/capture.h"
#include "monitor/pcapfile.h"

/* ---- building files ---- */

struct file {
    uint8_t *p;
    size_t n, cap;
    int swap;
};

static void put(struct file *f, const void *p, size_t n)
{
    if (f->n + n > f->cap) {
        f->cap = (f->n + n) * 2;
        f->p = realloc(f->p, f->cap);
        assert_non_null(f->p);
    }
    memcpy(f->p + f->n, p, n);
    f->n += n;
}

static void put32(struct file *f, uint32_t v)
{
    if (f->swap)
        v = __builtin_bswap32(v);
    put(f, &v, 4);
}

static void put16(struct file *f, uint16_t v)
{
    if (f->swap)
        v = __builtin_bswap16(v);
    put(f, &v, 2);
}

static void file_header(struct file *f, int swap, int nano, uint32_t snaplen)
{
    memset(f, 0, sizeof(*f));
    f->swap = swap;
    put32(f, nano ? 0xa1b23c4du : 0xa1b2c3d4u);
    put16(f, 2);
    put16(f, 4);
    put32(f, 0);
    put32(f, 0);
    put32(f, snaplen);
    put32(f, 1); /* Ethernet */
}

/* A record of caplen bytes (a recognisable pattern), claimed wire length len. */
static void record(struct file *f, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len)
{
    put32(f, sec);
    put32(f, frac);
    put32(f, caplen);
    put32(f, len);
    for (uint32_t i = 0; i < caplen; i++) {
        uint8_t b = (uint8_t)(i * 7 + sec);

        put(f, &b, 1);
    }
}

static char *write_temp(const struct file *f)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/labmon-pcapfile-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f->p, f->n), (ssize_t)f->n);
    close(fd);
    return path;
}

/* ---- reading them both ways ---- */

struct seen {
    size_t count;
    uint64_t ts[8];     /* the first few stamps */
    uint32_t caplen[8]; /* ... lengths */
    uint32_t len[8];
    uint64_t digest; /* over every packet's stamp, lengths and bytes */
    int error;       /* reading ended in an error */
    char msg[PCAP_ERRBUF_SIZE];
    size_t stop_after; /* capture_break() after this many (0 = never) */
    struct capture *cap;
};

static void note(struct seen *s, uint64_t ts, uint32_t caplen, uint32_t len, const uint8_t *b)
{
    if (s->count < 8) {
        s->ts[s->count] = ts;
        s->caplen[s->count] = caplen;
        s->len[s->count] = len;
    }
    s->digest = s->digest * 1000003u ^ ts ^ (uint64_t)caplen << 32 ^ len;
    for (uint32_t i = 0; i < caplen; i++)
        s->digest = s->digest * 31u + b[i];
    s->count++;
}

static void on_frame(void *ctx, uint64_t ts, uint32_t caplen, uint32_t len, const uint8_t *b)
{
    struct seen *s = ctx;

    note(s, ts, caplen, len, b);
    if (s->stop_after && s->count == s->stop_after)
        capture_break(s->cap);
}

/* labmon's way: capture_open() and capture_dispatch() as main.c's loop calls them. */
static void read_capture(const char *path, struct seen *s)
{
    struct capture_opts o = { .read_file = path };
    char err[256];
    int n;

    s->cap = capture_open(&o, err, sizeof(err));
    assert_non_null(s->cap);
    for (;;) {
        n = capture_dispatch(s->cap, 4096, on_frame, s);
        if (n < 0) {
            s->error = 1;
            snprintf(s->msg, sizeof(s->msg), "%s", capture_error(s->cap));
            break;
        }
        if (capture_eof(s->cap) || (s->stop_after && s->count >= s->stop_after))
            break;
    }
    capture_close(s->cap);
}

/* libpcap alone, at nanosecond precision. */
static void read_libpcap(const char *path, struct seen *s)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    struct pcap_pkthdr *h;
    const u_char *b;
    int rc;

    assert_non_null(p);
    while ((rc = pcap_next_ex(p, &h, &b)) == 1)
        note(s, (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec, h->caplen, h->len,
             b);
    if (rc == -1) {
        s->error = 1;
        snprintf(s->msg, sizeof(s->msg), "%s", pcap_geterr(p));
    }
    pcap_close(p);
}

/* Both readers agree on f; returns what they saw. */
static void both_agree(const struct file *f, struct seen *out)
{
    char *path = write_temp(f);
    struct seen a = { 0 }, b = { 0 };

    read_capture(path, &a);
    read_libpcap(path, &b);
    unlink(path);
    assert_int_equal(a.count, b.count);
    assert_memory_equal(a.ts, b.ts, sizeof(a.ts));
    assert_memory_equal(a.caplen, b.caplen, sizeof(a.caplen));
    assert_memory_equal(a.len, b.len, sizeof(a.len));
    assert_int_equal(a.digest, b.digest);
    assert_int_equal(a.error, b.error);
    assert_string_equal(a.msg, b.msg);
    *out = a;
}

/* ---- pcapfile.c on its own ---- */

static void test_header(void **state)
{
    struct file f;
    struct pcapfile_hdr h;

    (void)state;
    file_header(&f, 0, 0, 512);
    assert_int_equal(pcapfile_header(f.p, f.n, &h), 0);
    assert_false(h.swapped);
    assert_false(h.nano);
    assert_int_equal(h.snaplen, 512);
    assert_int_equal(h.linktype, 1);
    assert_int_equal(pcapfile_header(f.p, f.n - 1, &h), -1); /* short */
    free(f.p);

    file_header(&f, 1, 1, 65535);
    assert_int_equal(pcapfile_header(f.p, f.n, &h), 0);
    assert_true(h.swapped);
    assert_true(h.nano);
    assert_int_equal(h.snaplen, 65535);
    f.p[6] = f.p[7] = 0; /* version 2.0: left to libpcap */
    assert_int_equal(pcapfile_header(f.p, f.n, &h), -1);
    free(f.p);

    file_header(&f, 0, 0, 512);
    memcpy(f.p, "\x0a\x0d\x0d\x0a", 4); /* pcapng */
    assert_int_equal(pcapfile_header(f.p, f.n, &h), -1);
    memcpy(f.p, "\x34\xcd\xb2\xa1", 4); /* the "modified" pcap format */
    assert_int_equal(pcapfile_header(f.p, f.n, &h), -1);
    free(f.p);
}

static void test_record(void **state)
{
    struct file f;
    struct pcapfile_hdr h;
    struct pcapfile_rec r;
    const uint8_t *p;

    (void)state;
    file_header(&f, 1, 0, 512);
    record(&f, 0x7fffffffu, 999999, 60, 1514);
    record(&f, 5, 0, 512, 512);
    record(&f, 6, 0, 513, 600);
    assert_int_equal(pcapfile_header(f.p, f.n, &h), 0);
    p = f.p + PCAPFILE_HDR_LEN;
    for (size_t n = 0; n < PCAPFILE_REC_LEN + 60; n++)
        assert_int_equal(pcapfile_record(&h, 512, p, n, &r), PCAPFILE_MORE);
    assert_int_equal(pcapfile_record(&h, 512, p, PCAPFILE_REC_LEN + 60, &r), PCAPFILE_OK);
    assert_int_equal(r.ts_ns, 0x7fffffffull * 1000000000u + 999999000u);
    assert_int_equal(r.caplen, 60);
    assert_int_equal(r.len, 1514);
    p += PCAPFILE_REC_LEN + 60;
    assert_int_equal(pcapfile_record(&h, 512, p, 1000, &r), PCAPFILE_OK);
    assert_int_equal(r.ts_ns, 5000000000ull);
    /* Stamps libpcap versions read differently are left to the one linked. */
    memcpy((uint8_t *)p + 4, "\x00\x0f\x42\x40", 4); /* 1000000 us, swapped */
    assert_int_equal(pcapfile_record(&h, 512, p, 1000, &r), PCAPFILE_ODD);
    memcpy((uint8_t *)p + 4, "\x00\x0f\x42\x3f", 4); /* 999999 us */
    assert_int_equal(pcapfile_record(&h, 512, p, 1000, &r), PCAPFILE_OK);
    memcpy((uint8_t *)p, "\x80\x00\x00\x00", 4); /* 2^31 s */
    assert_int_equal(pcapfile_record(&h, 512, p, 1000, &r), PCAPFILE_ODD);
    p += PCAPFILE_REC_LEN + 512;
    /* Beyond the snapshot or the maximum: libpcap's to judge, even if complete. */
    assert_int_equal(pcapfile_record(&h, 512, p, PCAPFILE_REC_LEN + 513, &r), PCAPFILE_ODD);
    assert_int_equal(pcapfile_record(&h, 1000, p, PCAPFILE_REC_LEN + 513, &r), PCAPFILE_OK);
    assert_int_equal(pcapfile_record(&h, 0xffffffffu, p, PCAPFILE_REC_LEN, &r), PCAPFILE_MORE);
    memcpy((uint8_t *)p + 8, "\x00\x04\x00\x01", 4); /* caplen 262145, swapped */
    assert_int_equal(pcapfile_record(&h, 0xffffffffu, p, 1 << 20, &r), PCAPFILE_ODD);
    free(f.p);
}

/* ---- the own reader against libpcap ---- */

static void test_reader_orders_and_precisions(void **state)
{
    struct seen s;
    struct file f;

    (void)state;
    for (int swap = 0; swap < 2; swap++)
        for (int nano = 0; nano < 2; nano++) {
            file_header(&f, swap, nano, 256);
            record(&f, 1796130237u, nano ? 704382123u : 704382u, 54, 54);
            record(&f, 7, 8, 256, 70000);                 /* len > caplen */
            record(&f, 3, 1, 0, 0);                       /* an empty record, earlier stamp */
            record(&f, 0xfffffff0u, 0xfffffff0u, 20, 20); /* libpcap's from here on */
            record(&f, 9, 0, 20, 20);
            both_agree(&f, &s);
            assert_int_equal(s.count, 5);
            assert_false(s.error);
            assert_int_equal(s.ts[0],
                             1796130237ull * 1000000000u + (nano ? 704382123u : 704382000u));
            assert_int_equal(s.len[1], 70000);
            free(f.p);
        }
}

static void test_reader_across_blocks(void **state)
{
    struct seen s;
    struct file f;
    uint32_t i;

    (void)state;
    /* ~2.5 MiB: records straddle the reader's 1 MiB blocks at many offsets. */
    file_header(&f, 0, 0, 65535);
    for (i = 0; i < 400; i++)
        record(&f, i, i, 1 + (i * 7919) % 12000, 1 + (i * 7919) % 12000);
    both_agree(&f, &s);
    assert_int_equal(s.count, 400);
    assert_false(s.error);
    free(f.p);
}

static void test_reader_damaged(void **state)
{
    struct seen s;
    struct file f;

    (void)state;
    /* The last record's data is cut short. */
    file_header(&f, 0, 0, 512);
    record(&f, 1, 0, 100, 100);
    record(&f, 2, 0, 100, 100);
    f.n -= 30;
    both_agree(&f, &s);
    assert_int_equal(s.count, 1);
    assert_true(s.error);
    assert_non_null(strstr(s.msg, "truncated"));
    free(f.p);

    /* The file ends inside a record header. */
    file_header(&f, 1, 1, 512);
    record(&f, 1, 0, 100, 100);
    record(&f, 2, 0, 100, 100);
    f.n -= 100 + 9;
    both_agree(&f, &s);
    assert_int_equal(s.count, 1);
    assert_true(s.error);
    free(f.p);

    /* A record above the snapshot length, then a normal one. */
    file_header(&f, 0, 0, 128);
    record(&f, 1, 0, 100, 100);
    record(&f, 2, 0, 200, 200);
    record(&f, 3, 0, 100, 100);
    both_agree(&f, &s);
    assert_true(s.count >= 1);
    free(f.p);

    /* An absurd capture length. */
    file_header(&f, 0, 0, 0);
    record(&f, 1, 0, 100, 100);
    put32(&f, 2);
    put32(&f, 0);
    put32(&f, 0x7fffffffu);
    put32(&f, 100);
    both_agree(&f, &s);
    assert_int_equal(s.count, 1);
    assert_true(s.error);
    free(f.p);

    /* Only the file header. */
    file_header(&f, 0, 1, 512);
    both_agree(&f, &s);
    assert_int_equal(s.count, 0);
    assert_false(s.error);
    free(f.p);
}

static void test_reader_break(void **state)
{
    struct file f;
    struct seen s = { .stop_after = 5 };
    char *path;

    (void)state;
    file_header(&f, 0, 0, 512);
    for (uint32_t i = 0; i < 20; i++)
        record(&f, i, 0, 40, 40);
    path = write_temp(&f);
    read_capture(path, &s);
    unlink(path);
    assert_int_equal(s.count, 5);
    assert_false(s.error);
    free(f.p);
}

/* Records appended after the file was opened are read too (by libpcap, after the mapped part). */
static void test_reader_growing_file(void **state)
{
    struct file f, more;
    struct seen s = { 0 };
    struct capture_opts o = { 0 };
    char err[256], *path;
    FILE *fp;
    int n;

    (void)state;
    file_header(&f, 0, 0, 512);
    for (uint32_t i = 0; i < 3; i++)
        record(&f, i, 0, 40, 40);
    path = write_temp(&f);
    o.read_file = path;
    s.cap = capture_open(&o, err, sizeof(err));
    assert_non_null(s.cap);
    assert_int_equal(capture_dispatch(s.cap, 1, on_frame, &s), 1);
    memset(&more, 0, sizeof(more));
    for (uint32_t i = 3; i < 5; i++)
        record(&more, i, 0, 40, 40);
    fp = fopen(path, "ab");
    assert_non_null(fp);
    assert_int_equal(fwrite(more.p, 1, more.n, fp), more.n);
    fclose(fp);
    while ((n = capture_dispatch(s.cap, 4096, on_frame, &s)) > 0 || !capture_eof(s.cap))
        assert_true(n >= 0);
    capture_close(s.cap);
    unlink(path);
    assert_int_equal(s.count, 5);
    assert_int_equal(s.ts[4], 4000000000ull);
    free(f.p);
    free(more.p);
}

/* A file cut short while it is read: one clear line and exit status 1, not a crash. */
static void test_reader_shrinking_file(void **state)
{
    struct file f;
    char *path;
    int pipefd[2], status;
    char msg[128] = "";
    pid_t pid;

    (void)state;
    file_header(&f, 0, 0, 65535);
    for (uint32_t i = 0; i < 64; i++)
        record(&f, i, 0, 4000, 4000);
    path = write_temp(&f);
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct seen s = { 0 };
        struct capture_opts o = { .read_file = path };
        char err[256];

        dup2(pipefd[1], 2);
        s.cap = capture_open(&o, err, sizeof(err));
        if (s.cap == NULL || truncate(path, 4096) != 0)
            _exit(3);
        while (capture_dispatch(s.cap, 4096, on_frame, &s) > 0)
            ;
        _exit(2); /* the reader must not get here */
    }
    close(pipefd[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(read(pipefd[0], msg, sizeof(msg) - 1) > 0);
    close(pipefd[0]);
    unlink(path);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_non_null(strstr(msg, "shrank"));
    free(f.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_reader_orders_and_precisions),
        cmocka_unit_test(test_reader_across_blocks),
        cmocka_unit_test(test_reader_damaged),
        cmocka_unit_test(test_reader_break),
        cmocka_unit_test(test_reader_growing_file),
        cmocka_unit_test(test_reader_shrinking_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
