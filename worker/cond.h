/*
 * Validators and conditional requests (RFC 9110 §8.8, §13): the strong ETag
 * of a file, and the 304 / 412 decision in §13.2.2's order. Pure.
 */
#ifndef LABD_COND_H
#define LABD_COND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* "\"" 16 hex "-" 16 hex "-" 16 hex "\"" and the NUL. */
#define COND_ETAG_MAX 56

/*
 * The strong ETag of a file: "INO-SIZE-MTIME" in lower-case hex, quoted
 * (nginx uses "MTIME-SIZE"; the inode also tells apart two files replaced
 * within the same second with the same size). Returns the length.
 */
size_t cond_etag(uint64_t ino, off_t size, time_t mtime, char *buf);

/* The request's conditional header values; p == NULL when absent. */
struct cond_value {
    const char *p;
    size_t len;
};

struct cond_request {
    struct cond_value if_match;
    struct cond_value if_none_match;
    struct cond_value if_modified_since;
    struct cond_value if_unmodified_since;
    int get_or_head; /* method is GET or HEAD */
    time_t now;      /* the server's clock: a later If-Modified-Since is invalid */
};

enum cond_result {
    COND_PROCEED = 0,
    COND_NOT_MODIFIED = 304,
    COND_PRECONDITION_FAILED = 412,
};

/*
 * Evaluate the preconditions for a file with this (quoted, strong) etag and
 * modification time, in RFC 9110 §13.2.2's order: If-Match (strong) else
 * If-Unmodified-Since -> 412; If-None-Match (weak) else If-Modified-Since ->
 * 304 for GET/HEAD (412 for other methods). Invalid dates are ignored, and
 * so is an If-Modified-Since later than rq->now (RFC 2616 §14.25, Apache):
 * a client with a fast clock would otherwise keep a stale copy.
 */
enum cond_result cond_evaluate(const struct cond_request *rq, const char *etag, time_t mtime);

/*
 * Does the If-Match / If-None-Match list ("*", or comma-separated entity
 * tags) match etag? weak = 1 uses the weak comparison (W/ prefixes ignored),
 * 0 the strong one (a weak tag never matches). A malformed member ends the
 * list: members before it still count.
 */
int cond_list_match(const char *list, size_t len, const char *etag, int weak);

#endif
