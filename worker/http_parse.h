/*
 * HTTP/1.1 request parser (RFC 9112): pure and incremental, zero-copy over
 * the caller's input buffer. Also the request-body framing decoder used to
 * read and discard bodies (Content-Length or chunked).
 */
#ifndef LABD_HTTP_PARSE_H
#define LABD_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* What parsing made of the bytes so far. */
enum http_parse_result {
    HTTP_PARSE_AGAIN, /* need more bytes */
    HTTP_PARSE_DONE,  /* complete (the request header, or the body) */
    HTTP_PARSE_ERROR, /* answer error_status, then close the connection */
};

/* Capacity of the header array; the configured limit may only be lower. */
#define HTTP_HEADERS_CAP 100

enum http_method {
    HTTP_METHOD_UNKNOWN = 0, /* a well-formed token we do not know */
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_CONNECT,
    HTTP_METHOD_OPTIONS,
    HTTP_METHOD_TRACE,
    HTTP_METHOD_PATCH,
};

enum http_body_kind {
    HTTP_BODY_NONE = 0,
    HTTP_BODY_LENGTH, /* Content-Length */
    HTTP_BODY_CHUNKED,
};

/* A byte range of the input buffer; not NUL-terminated. */
struct http_slice {
    const char *p;
    size_t len;
};

struct http_header {
    struct http_slice name;
    struct http_slice value; /* leading and trailing whitespace removed */
};

struct http_limits {
    size_t max_request_line;     /* bytes without the line end; more -> 414 */
    size_t max_header_bytes;     /* bytes of all header lines with line ends; more -> 431 */
    unsigned max_headers;        /* header fields; more -> 431 (capped at HTTP_HEADERS_CAP) */
    unsigned long long max_body; /* Content-Length over this -> 413 */
};

struct http_request {
    /* Parsed result, valid once http_parse_request returned HTTP_PARSE_DONE. */
    struct http_slice request_line; /* "GET / HTTP/1.1" as received */
    struct http_slice method_name;
    enum http_method method;
    struct http_slice target; /* as received: origin, absolute or asterisk form */
    struct http_slice path;   /* path part of the target (still percent-encoded) */
    struct http_slice query;  /* after '?', without it; len 0 when none */
    struct http_slice host;   /* Host header, or the authority of an absolute target */
    int version_minor;        /* HTTP/1.x: 0 or 1 (a later minor counts as 1) */
    int keep_alive;           /* after this request, by version and Connection */
    enum http_body_kind body;
    unsigned long long content_length;
    unsigned nheaders;
    size_t header_len; /* bytes of request line + headers + empty line; 0 until complete */
    int error_status;  /* after HTTP_PARSE_ERROR: 400, 413, 414, 431, 501 or 505 */

    /* Parser state. */
    struct http_limits limits;
    size_t pos;        /* next byte to examine */
    size_t line_start; /* start of the line being read */
    size_t head_start; /* start of the request line (after empty lines) */
    size_t fields_start;
    int state;
    unsigned nhost;
    int has_cl;
    int has_te;
    int conn_close;
    int conn_keepalive;

    struct http_header headers[HTTP_HEADERS_CAP]; /* the first nheaders are in use */
};

/* Prepare req for a new request (buffer offsets restart at 0). */
void http_request_init(struct http_request *req, const struct http_limits *limits);

/*
 * Parse the request at the start of buf (len bytes so far; the same buffer,
 * only ever appended to, on every call). Returns HTTP_PARSE_AGAIN,
 * HTTP_PARSE_DONE (req->header_len bytes form the header) or
 * HTTP_PARSE_ERROR with req->error_status: 400 malformed (also an invalid
 * Host, userinfo in an absolute target, a '#' in the target), 413 body too
 * large, 414 request line too long, 431 header fields too large or too many,
 * 501 unknown transfer coding, 505 a major version other than 1 (HTTP/1.2
 * and later minors are parsed as 1.1).
 */
enum http_parse_result http_parse_request(struct http_request *req, const char *buf, size_t len);

/* First header with this name (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_request *req, const char *name);

/* Number of header fields with this name. */
unsigned http_header_count(const struct http_request *req, const char *name);

/* Case-insensitive comparison of a slice with a C string. */
int http_slice_eq(struct http_slice s, const char *str);

/*
 * Does the comma-separated list in s hold this token (case-insensitive)?
 * E.g. the Connection header's "keep-alive, Upgrade".
 */
int http_list_has(struct http_slice s, const char *token);

const char *http_method_name(enum http_method m);

/* The value of a hexadecimal digit, or -1 for another byte (inline: path.c links alone). */
static inline int http_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Request body decoder: counts and skips the body's bytes. */
struct http_body {
    enum http_body_kind kind;
    unsigned long long remaining; /* bytes left in the body or current chunk */
    unsigned long long total;     /* body bytes seen so far */
    unsigned long long max;       /* more -> 413 */
    int state;
    unsigned line_len; /* chunk-size/extension/trailer line length so far */
    int digits;
    int error_status; /* after HTTP_PARSE_ERROR: 400 or 413 */
};

void http_body_init(struct http_body *b, const struct http_request *req);

/*
 * Consume up to len bytes of body framing and data; *used says how many
 * belonged to the body. Returns HTTP_PARSE_AGAIN (all used, more needed),
 * HTTP_PARSE_DONE (body complete; the rest of buf is the next request) or
 * HTTP_PARSE_ERROR with b->error_status: 400 (bad chunk framing) or 413
 * (over max).
 */
enum http_parse_result http_body_consume(struct http_body *b, const char *buf, size_t len,
                                         size_t *used);

#endif
