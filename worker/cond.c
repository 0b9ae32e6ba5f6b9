/* Validators and conditional requests: ETag, If-Match, If-None-Match, dates. */
#include "worker/cond.h"

#include <stdio.h>
#include <string.h>

#include "worker/httpdate.h"

size_t cond_etag(uint64_t ino, off_t size, time_t mtime, char *buf)
{
    int n = snprintf(buf, COND_ETAG_MAX, "\"%llx-%llx-%llx\"", (unsigned long long)ino,
                     (unsigned long long)size, (unsigned long long)mtime);
    return n < 0 ? 0 : (size_t)n;
}

static int cond_ows(char c)
{
    return c == ' ' || c == '\t';
}

int cond_list_match(const char *list, size_t len, const char *etag, int weak)
{
    const char *p = list, *end = list + len;
    size_t elen = strlen(etag);

    while (p < end && cond_ows(*p))
        p++;
    if (end - p >= 1 && *p == '*') {
        const char *q = p + 1;
        while (q < end && cond_ows(*q))
            q++;
        if (q == end)
            return 1;
        return 0;
    }
    while (p < end) {
        int is_weak = 0;
        const char *open, *close;

        while (p < end && (cond_ows(*p) || *p == ','))
            p++;
        if (p == end)
            break;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
            is_weak = 1;
            p += 2;
        }
        if (p == end || *p != '"')
            return 0;
        open = p;
        /* etagc = %x21 / %x23-7E / obs-text: anything but DQUOTE, controls and space */
        for (p++; p < end && *p != '"'; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                return 0;
        if (p == end)
            return 0;
        close = p++;
        if ((size_t)(close - open + 1) == elen && memcmp(open, etag, elen) == 0 &&
            (weak || !is_weak))
            return 1;
        while (p < end && cond_ows(*p))
            p++;
        if (p < end && *p != ',')
            return 0;
    }
    return 0;
}

enum cond_result cond_evaluate(const struct cond_request *rq, const char *etag, time_t mtime)
{
    time_t t;

    /* 1-2: the client's copy must still be current, or a write would lose data. */
    if (rq->if_match.p != NULL) {
        if (!cond_list_match(rq->if_match.p, rq->if_match.len, etag, 0))
            return COND_PRECONDITION_FAILED;
    } else if (rq->if_unmodified_since.p != NULL &&
               httpdate_parse(rq->if_unmodified_since.p, rq->if_unmodified_since.len, &t) == 0) {
        if (mtime > t)
            return COND_PRECONDITION_FAILED;
    }
    /* 3-4: the client's cached copy is still good. If-None-Match wins over the date. */
    if (rq->if_none_match.p != NULL) {
        if (cond_list_match(rq->if_none_match.p, rq->if_none_match.len, etag, 1))
            return rq->get_or_head ? COND_NOT_MODIFIED : COND_PRECONDITION_FAILED;
    } else if (rq->get_or_head && rq->if_modified_since.p != NULL &&
               httpdate_parse(rq->if_modified_since.p, rq->if_modified_since.len, &t) == 0) {
        /*
         * RFC 9110: not modified when mtime <= the date. nginx by default
         * ("if_modified_since exact") wants equality; we follow the RFC
         * (nginx's "if_modified_since before").
         */
        if (mtime <= t && t <= rq->now)
            return COND_NOT_MODIFIED;
    }
    return COND_PROCEED;
}
