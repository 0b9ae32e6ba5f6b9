/*
 * libFuzzer target: the start-line grammar of monitor/sniff_line.c against
 * its fast paths. sniff_line_scan() takes each phase's bytes in a run and a
 * whole version or status code in one comparison; this feeds the same
 * bytes, split at arbitrary points, through sniff_line_scan() and, one byte
 * at a time, through sniff_line_byte() (where no run or block comparison
 * can apply), and aborts unless both stop at the same byte for the same
 * reason with the same grammar state, at every split point and at the end.
 *
 * Input: a flags byte (bit 0: a request line, else a status line), a count
 * k (at most 32, taken mod 33), k chunk lengths (0: the rest), then the
 * bytes of the line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "monitor/sniff_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the one-byte-at-a-time grammar stands. */
struct fuzz_sniff_line_ref {
    struct sniff_line l;
    size_t at;                 /* bytes accepted */
    enum sniff_line_verdict v; /* SNIFF_LINE_MORE until it stopped */
};

/* Advances the reference over p[ref->at .. to), stopping as sniff_line_scan() must. */
static void fuzz_sniff_line_ref_to(struct fuzz_sniff_line_ref *ref, int request, const uint8_t *p,
                                   size_t to)
{
    while (ref->v == SNIFF_LINE_MORE && ref->at < to) {
        if (p[ref->at] == '\n')
            ref->v = SNIFF_LINE_LF;
        else if (sniff_line_byte(&ref->l, request, p[ref->at]) == SNIFF_LINE_BAD)
            ref->v = SNIFF_LINE_BAD;
        else
            ref->at++;
    }
}

static void fuzz_sniff_line_same(const struct sniff_line *a, const struct sniff_line *b,
                                 int request)
{
    if (a->phase != b->phase || a->n != b->n || a->ver[0] != b->ver[0] || a->ver[1] != b->ver[1] ||
        sniff_line_complete(a, request) != sniff_line_complete(b, request))
        abort(); /* the fast path left another grammar state */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_sniff_line_ref ref = { .v = SNIFF_LINE_MORE };
    struct sniff_line fast;
    const uint8_t *cuts, *p;
    size_t k, i, off = 0, len, chunk, n;
    enum sniff_line_verdict v = SNIFF_LINE_MORE;
    int request;

    if (size < 2)
        return 0;
    request = data[0] & 1;
    k = data[1] % 33;
    if (size < 2 + k)
        return 0;
    cuts = data + 2;
    p = data + 2 + k;
    len = size - 2 - k;
    sniff_line_start(&fast, request);
    sniff_line_start(&ref.l, request);
    for (i = 0; i <= k && v == SNIFF_LINE_MORE && off < len; i++) {
        chunk = i < k && cuts[i] != 0 ? cuts[i] : len - off;
        if (chunk > len - off)
            chunk = len - off;
        n = sniff_line_scan(&fast, request, p + off, chunk, &v);
        if (n > chunk || (v == SNIFF_LINE_MORE && n != chunk) ||
            (v == SNIFF_LINE_LF && p[off + n] != '\n'))
            abort(); /* sniff_line_scan() broke its own contract */
        off += n;
        fuzz_sniff_line_ref_to(&ref, request, p, v == SNIFF_LINE_MORE ? off : len);
        if (ref.at != off || ref.v != v)
            abort(); /* the fast path stopped elsewhere, or for another reason */
        fuzz_sniff_line_same(&fast, &ref.l, request);
    }
    return 0;
}
