/*
 * libFuzzer target: worker/http_parse.c. The first byte picks the limits and
 * a split point; the rest is what a client sends. The request is parsed whole,
 * then again in two pieces (an incremental parser must agree with itself),
 * and the bytes after the header go through the body decoder.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(struct http_slice s, const char *buf, size_t len)
{
    if (s.len == 0)
        return 1;
    return s.p >= buf && s.len <= len && (size_t)(s.p - buf) <= len - s.len;
}

/* A request's error status is one of those the header documents. */
static int valid_status(int status)
{
    switch (status) {
    case 400:
    case 413:
    case 414:
    case 431:
    case 501:
    case 505:
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_request req; /* large: keep it off the stack */
    struct http_limits lim = { 8192, 16384, HTTP_HEADERS_CAP, 1ull << 40 };
    struct http_body body;
    const char *buf;
    size_t len, split, used, off;
    enum http_parse_result whole, rc;
    int whole_status;
    unsigned i;

    if (size < 1)
        return 0;
    if (data[0] & 1) { /* tight limits, as in the unit tests */
        lim.max_request_line = 64;
        lim.max_header_bytes = 256;
        lim.max_headers = 8;
        lim.max_body = 1000;
    }
    buf = (const char *)data + 1;
    len = size - 1;
    split = len ? (size_t)(data[0] >> 1) * len / 128 : 0;

    http_request_init(&req, &lim);
    whole = http_parse_request(&req, buf, len);
    if (whole == HTTP_PARSE_ERROR && !valid_status(req.error_status))
        abort();
    whole_status = req.error_status;
    if (whole == HTTP_PARSE_DONE) {
        if (req.header_len > len || req.nheaders > lim.max_headers)
            abort();
        if (!inside(req.request_line, buf, len) || !inside(req.method_name, buf, len) ||
            !inside(req.target, buf, len) ||
            /* "http://h" has the path "/", which is not in the input */
            !(inside(req.path, buf, len) || (req.path.len == 1 && req.path.p[0] == '/')) ||
            !inside(req.query, buf, len) || !inside(req.host, buf, len))
            abort();
        for (i = 0; i < req.nheaders; i++)
            if (!inside(req.headers[i].name, buf, len) || !inside(req.headers[i].value, buf, len))
                abort();
        (void)http_header_find(&req, "host");
        (void)http_header_count(&req, "content-length");
        (void)http_method_name(req.method);
        /* The rest is the body, then perhaps the next request. */
        http_body_init(&body, &req);
        off = req.header_len;
        used = SIZE_MAX; /* set on every return, errors included */
        rc = http_body_consume(&body, buf + off, len - off, &used);
        if (rc == HTTP_PARSE_ERROR && body.error_status != 400 && body.error_status != 413)
            abort();
        if (used > len - off)
            abort();
        if (rc == HTTP_PARSE_AGAIN && used != len - off)
            abort();
    }

    /* Fed in two pieces, the answer is the same, errors included. */
    http_request_init(&req, &lim);
    rc = http_parse_request(&req, buf, split);
    if (rc == HTTP_PARSE_AGAIN)
        rc = http_parse_request(&req, buf, len);
    if (rc != whole || (rc == HTTP_PARSE_ERROR && req.error_status != whole_status))
        abort();
    return 0;
}
