/*
 * Response writer: the handler decides a response and describes it, as
 * data, in a struct response_plan (status, validators, header fields, what
 * body); response_prepare renders it once, into the header text plus a list
 * of body segments (memory or file ranges), and response_send writes them
 * to a non-blocking socket with writev/sendfile in bounded turns. No
 * allocation on the way.
 */
#ifndef LABD_RESPONSE_H
#define LABD_RESPONSE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "worker/range.h"

#define RESPONSE_ETAG_MAX     56    /* a quoted entity-tag and its NUL (cond.h's COND_ETAG_MAX) */
#define RESPONSE_LOCATION_MAX 1024  /* a redirect target and its NUL, and its header line */
#define RESPONSE_HEAD_MAX     3072  /* the whole header block */
#define RESPONSE_OUT_MAX      12288 /* header block + generated body text */
#define RESPONSE_SEGS_MAX     (2 * RANGE_MAX_PARTS + 2)

/* How far response_send got. */
enum response_send_result {
    RESPONSE_DONE,  /* all of it sent */
    RESPONSE_AGAIN, /* socket full: wait for EPOLLOUT */
    RESPONSE_YIELD, /* turn's budget used: let other connections run */
    RESPONSE_ERROR, /* peer gone (EPIPE, ECONNRESET, ...) or file error: close */
};

struct response_range {
    off_t first, last; /* inclusive byte positions, first <= last < file_size */
};

/*
 * What to answer. Besides the fields every response has (Server, Date,
 * Content-Length, Connection), the header carries what is set here, in this
 * order: Content-Type (not for 304), Last-Modified, Content-Range of a
 * single range, ETag, Accept-Ranges, Content-Range of a 416, Location,
 * Allow. The body is, in order of precedence:
 *   fd >= 0, nranges >= 2   multipart/byteranges of those ranges of the file
 *   fd >= 0, nranges == 1   that range (with its Content-Range)
 *   fd >= 0                 the whole file, file_size bytes
 * (file_mem != NULL stands for fd >= 0: the file's bytes already in memory)
 *   body != NULL            body_len bytes of memory
 *   otherwise               a small generated HTML page naming the status
 *                           (none for 1xx, 204 and 304)
 * 304 responses carry neither Content-Length nor Content-Type.
 */
struct response_plan {
    int status;
    const char *content_type; /* NULL: none (generated pages set their own) */

    /* Validators. */
    char etag[RESPONSE_ETAG_MAX];   /* quoted entity-tag; "" none */
    int accept_ranges;              /* "Accept-Ranges: bytes" */
    time_t last_modified;           /* -1: no Last-Modified */
    const char *last_modified_text; /* its IMF-fixdate when already formatted, else NULL */

    /* Other header fields (and location, below). */
    int range_unsatisfiable; /* 416: a Content-Range of "*" and file_size */
    const char *allow;       /* "Allow" methods; NULL none */

    /* The body. */
    int fd;               /* file body, closed by response_plan_release; -1 none */
    const char *file_mem; /* file body held in memory (file_size bytes); NULL none */
    /* called by response_plan_release: lets go of file_mem, or of fd, which is then not
     * closed (a cache's shared descriptor) */
    void (*release)(void *);
    void *release_arg;
    off_t file_size; /* full size of the file */
    unsigned nranges;
    const char *body; /* must outlive the response */
    size_t body_len;

    /* Data arrays, last: only what location[0] and nranges say is in use is ever read. */
    char location[RESPONSE_LOCATION_MAX]; /* redirect target, percent-encoded; "" none */
    struct response_range ranges[RANGE_MAX_PARTS];
};

/*
 * An empty plan: status 200, no header fields, no body. Every field is set;
 * the data arrays at the end are not cleared, only marked empty.
 */
void response_plan_init(struct response_plan *p);

/* Close the plan's file, if any (or let the release hook have it and file_mem back). */
void response_plan_release(struct response_plan *p);

/* Per-response facts that are not the handler's business. */
struct response_env {
    const char *date;               /* IMF-fixdate of now */
    int keep_alive;                 /* Connection: keep-alive, else close */
    int head;                       /* HEAD request: same headers, no body */
    unsigned long long boundary_id; /* makes the multipart boundary unique */
};

struct response_seg {
    const char *mem; /* memory segment when fd < 0 */
    int fd;
    off_t off;
    size_t len;
};

struct response_out {
    int status;  /* of the response prepared */
    int closing; /* the connection is closed after this response */
    size_t head_len;
    unsigned long long body_len; /* bytes of body that will be sent */
    unsigned long long sent;     /* bytes written so far, header included */
    unsigned nsegs, cur;
    struct response_seg segs[RESPONSE_SEGS_MAX];
    char buf[RESPONSE_OUT_MAX];
};

/* An empty output: nothing to send. */
void response_out_init(struct response_out *out);

/* "Not Found" for 404; "Unknown" for codes we do not know. */
const char *response_reason(int status);

/*
 * Build the header block for the plan into buf (pure). content_length < 0
 * means no Content-Length; content_type overrides plan->content_type when
 * not NULL. Returns the length, or 0 when it does not fit in cap.
 */
size_t response_head_build(char *buf, size_t cap, const struct response_plan *plan,
                           const struct response_env *env, const char *content_type,
                           long long content_length);

/*
 * Render the plan into out, once. Returns 0; or -1 when its headers or
 * multipart framing do not fit, and out holds a 500 and closes instead
 * (out->status and out->closing say what will be sent).
 */
int response_prepare(struct response_out *out, const struct response_plan *plan,
                     const struct response_env *env);

/*
 * Write as much as the socket takes, about budget bytes this turn: a file
 * segment is cut at the budget only when at least another budget of it
 * remains, so a turn sends less than twice the budget and never leaves a
 * short tail for the next one. Returns RESPONSE_DONE, _AGAIN, _YIELD or
 * _ERROR (errno set).
 */
enum response_send_result response_send(struct response_out *out, int sock, size_t budget);

#endif
