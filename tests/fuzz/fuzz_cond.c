/*
 * libFuzzer target: worker/cond.c. Input: 8 bytes of mtime, then up to four
 * header values separated by '\n' (If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since); an empty value means absent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker/cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cond_value v[4];
    struct cond_request rq;
    char etag[COND_ETAG_MAX];
    const char *p, *end, *nl;
    uint64_t raw = 0;
    enum cond_result r;
    size_t n;
    int i;

    if (size < 8)
        return 0;
    for (i = 7; i >= 0; i--)
        raw = raw << 8 | data[i];
    p = (const char *)data + 8;
    end = (const char *)data + size;
    memset(v, 0, sizeof(v));
    for (i = 0; i < 4 && p <= end; i++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0) {
            v[i].p = p;
            v[i].len = n;
        }
        p += n + 1;
    }
    n = cond_etag(raw, (off_t)(raw >> 3), (time_t)(raw >> 1), etag);
    if (n >= COND_ETAG_MAX || n != strlen(etag) || etag[0] != '"' || etag[n - 1] != '"')
        abort();
    memset(&rq, 0, sizeof(rq));
    rq.if_match = v[0];
    rq.if_none_match = v[1];
    rq.if_modified_since = v[2];
    rq.if_unmodified_since = v[3];
    rq.get_or_head = (int)(raw & 1);
    rq.now = (time_t)(int64_t)(raw ^ (raw >> 7));
    r = cond_evaluate(&rq, etag, (time_t)(int64_t)raw);
    if (r != COND_PROCEED && r != COND_NOT_MODIFIED && r != COND_PRECONDITION_FAILED)
        abort();
    if (r == COND_NOT_MODIFIED && !rq.get_or_head)
        abort();
    for (i = 0; i < 2; i++)
        if (v[i].p != NULL) {
            (void)cond_list_match(v[i].p, v[i].len, etag, 0);
            /* A strong match is also a weak one. */
            if (cond_list_match(v[i].p, v[i].len, etag, 0) &&
                !cond_list_match(v[i].p, v[i].len, etag, 1))
                abort();
        }
    return 0;
}
