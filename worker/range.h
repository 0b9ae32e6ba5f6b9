/*
 * Byte ranges (RFC 9110 §14): parsing "Range: bytes=...", deciding between
 * 200, 206 and 416, If-Range, and the multipart/byteranges framing with an
 * exact Content-Length. Pure: no I/O, the file size comes from the caller.
 */
#ifndef LABD_RANGE_H
#define LABD_RANGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * Hard cap on ranges answered (and on the parts of a multipart body); the
 * configured max_ranges may only be lower.
 */
#define RANGE_MAX_PARTS 32

/* Boundary of a multipart body: 20 decimal digits, like nginx's. */
#define RANGE_BOUNDARY_LEN 20

enum range_decision {
    RANGE_FULL = 200,          /* no Range, ignored, or the fallback: send everything */
    RANGE_PARTIAL = 206,       /* rs->n >= 1 parts (1: single part, more: multipart) */
    RANGE_UNSATISFIABLE = 416, /* answer 416 with Content-Range: bytes * / size */
};

struct range_part {
    off_t first; /* inclusive */
    off_t last;  /* inclusive */
};

struct range_set {
    int n;
    struct range_part part[RANGE_MAX_PARTS];
};

/*
 * Decide what a Range header value asks of a file of `size` bytes.
 * Malformed values are ignored (RFC 9110 §14.2): RANGE_FULL. More than
 * max_ranges satisfiable ranges, or ranges adding up to more than the file,
 * also give RANGE_FULL (the CVE-2011-3192 defence, as nginx does it).
 */
enum range_decision range_parse(const char *value, size_t len, off_t size, int max_ranges,
                                struct range_set *rs);

/*
 * If-Range (RFC 9110 §13.1.5): 1 when the Range header may be honoured —
 * the value is an entity-tag equal, byte for byte, to our strong etag (with
 * its quotes), or an HTTP date equal to mtime; 0 otherwise (weak tags, other
 * tags, other or invalid dates), and the full 200 is sent.
 */
int range_if_range_ok(const char *value, size_t len, const char *etag, time_t mtime);

/* Write the boundary for `seed` into buf (RANGE_BOUNDARY_LEN + 1 bytes). */
void range_boundary(uint64_t seed, char *buf);

/*
 * The framing before part i: CRLF "--" boundary CRLF "Content-Type: " type
 * CRLF "Content-Range: bytes a-b/size" CRLF CRLF. Returns the length (buf is
 * NUL-terminated; truncated output returns the full length, as snprintf).
 */
size_t range_part_header(const struct range_set *rs, int i, const char *boundary, const char *type,
                         off_t size, char *buf, size_t buflen);

/* The closing delimiter: CRLF "--" boundary "--" CRLF. */
size_t range_trailer(const char *boundary, char *buf, size_t buflen);

/* Content-Length of the whole multipart body: framing plus the parts' bytes. */
off_t range_multipart_length(const struct range_set *rs, const char *boundary, const char *type,
                             off_t size);

#endif
