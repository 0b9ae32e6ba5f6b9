/* Byte ranges: Range parsing, the 200/206/416 decision, If-Range, multipart framing. */
#include "worker/range.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "worker/httpdate.h"

#define RANGE_OFF_MAX ((off_t)INT64_MAX)

struct range_cur {
    const char *p;
    const char *end;
};

static void range_skip_ows(struct range_cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int range_is_digit(const struct range_cur *c)
{
    return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* Digits into *v, saturating at RANGE_OFF_MAX: no file is that long anyway. */
static void range_number(struct range_cur *c, off_t *v)
{
    off_t n = 0;

    while (range_is_digit(c)) {
        int d = *c->p++ - '0';
        n = n > (RANGE_OFF_MAX - d) / 10 ? RANGE_OFF_MAX : n * 10 + d;
    }
    *v = n;
}

static enum range_decision range_decide(const char *value, size_t len, off_t size, int max_ranges,
                                        struct range_set *rs)
{
    struct range_cur c = { value, value + len };
    int limit = max_ranges < RANGE_MAX_PARTS ? max_ranges : RANGE_MAX_PARTS;
    int any_spec = 0, zero_start = 0;
    off_t total = 0;

    rs->n = 0;
    range_skip_ows(&c);
    if (c.end - c.p < 6 || strncasecmp(c.p, "bytes", 5) != 0)
        return RANGE_FULL;
    c.p += 5;
    range_skip_ows(&c);
    if (c.p >= c.end || *c.p != '=')
        return RANGE_FULL;
    c.p++;

    /*
     * range-set = 1#range-spec: empty list elements are allowed (RFC 9110
     * §5.6.1.2) and, like nginx, spaces around '-' too. A spec that breaks
     * the grammar (letters, last < first, no digits) makes the whole header
     * invalid, and an invalid Range is ignored. nginx answers 416 there
     * instead; we follow the RFC.
     */
    for (;;) {
        off_t first = -1, last = -1;

        range_skip_ows(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p >= c.end)
            break;
        if (range_is_digit(&c)) {
            range_number(&c, &first);
            range_skip_ows(&c);
            if (c.p >= c.end || *c.p != '-')
                return RANGE_FULL;
            c.p++;
            range_skip_ows(&c);
            if (range_is_digit(&c)) {
                range_number(&c, &last);
                if (last < first)
                    return RANGE_FULL;
            }
        } else if (*c.p == '-') {
            c.p++;
            range_skip_ows(&c);
            if (!range_is_digit(&c))
                return RANGE_FULL;
            range_number(&c, &last); /* the suffix length */
            if (size == 0 && last > 0)
                zero_start = 1;
            if (last == 0) {
                /* "-0": valid, never satisfiable. */
                first = RANGE_OFF_MAX;
                last = RANGE_OFF_MAX;
            } else {
                first = last >= size ? 0 : size - last;
                last = size - 1;
            }
        } else {
            return RANGE_FULL;
        }
        range_skip_ows(&c);
        if (c.p < c.end && *c.p != ',')
            return RANGE_FULL;
        any_spec = 1;

        if (first == 0)
            zero_start = 1;
        if (first >= size)
            continue; /* unsatisfiable: dropped; 416 if none remain */
        if (last < 0 || last >= size)
            last = size - 1;
        if (rs->n == limit)
            return RANGE_FULL;
        /* Over the file already (the CVE-2011-3192 rule below): stop before
         * the sum can overflow when size is near OFF_T_MAX. */
        if (last - first + 1 > size - total)
            return RANGE_FULL;
        rs->part[rs->n].first = first;
        rs->part[rs->n].last = last;
        rs->n++;
        total += last - first + 1; /* stays <= size */
    }
    if (!any_spec)
        return RANGE_FULL;
    if (rs->n == 0) {
        /*
         * Nothing satisfiable. An empty file cannot have a 206, but a
         * player asking for "bytes=0-" of it gets the (empty) 200, as nginx
         * answers, rather than a 416.
         */
        return size == 0 && zero_start ? RANGE_FULL : RANGE_UNSATISFIABLE;
    }
    /*
     * CVE-2011-3192: many small or overlapping ranges multiply the work and
     * the response. nginx's rule (ngx_http_range_parse): when the ranges add
     * up to more than the file, send the file once, with 200.
     */
    if (total > size)
        return RANGE_FULL;
    return RANGE_PARTIAL;
}

enum range_decision range_parse(const char *value, size_t len, off_t size, int max_ranges,
                                struct range_set *rs)
{
    enum range_decision d = range_decide(value, len, size, max_ranges, rs);

    if (d != RANGE_PARTIAL)
        rs->n = 0;
    return d;
}

int range_if_range_ok(const char *value, size_t len, const char *etag, time_t mtime)
{
    time_t t;

    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0)
        return 0;
    /* An entity-tag: W/"..." or "...". Strong comparison: weak never matches. */
    if (value[0] == '"' || (len >= 2 && value[0] == 'W' && value[1] == '/'))
        return strlen(etag) == len && memcmp(value, etag, len) == 0 && value[0] == '"';
    if (httpdate_parse(value, len, &t) < 0)
        return 0;
    return t == mtime;
}

void range_boundary(uint64_t seed, char *buf)
{
    snprintf(buf, RANGE_BOUNDARY_LEN + 1, "%020" PRIu64,
             (uint64_t)(seed % 10000000000000000000ULL));
}

size_t range_part_header(const struct range_set *rs, int i, const char *boundary, const char *type,
                         off_t size, char *buf, size_t buflen)
{
    int n = snprintf(
        buf, buflen, "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %lld-%lld/%lld\r\n\r\n",
        boundary, type, (long long)rs->part[i].first, (long long)rs->part[i].last, (long long)size);
    return n < 0 ? 0 : (size_t)n;
}

size_t range_trailer(const char *boundary, char *buf, size_t buflen)
{
    int n = snprintf(buf, buflen, "\r\n--%s--\r\n", boundary);
    return n < 0 ? 0 : (size_t)n;
}

off_t range_multipart_length(const struct range_set *rs, const char *boundary, const char *type,
                             off_t size)
{
    char tmp[512];
    off_t total = 0;

    for (int i = 0; i < rs->n; i++) {
        total += (off_t)range_part_header(rs, i, boundary, type, size, tmp, sizeof(tmp));
        total += rs->part[i].last - rs->part[i].first + 1;
    }
    return total + (off_t)range_trailer(boundary, tmp, sizeof(tmp));
}
