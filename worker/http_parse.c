/* HTTP/1.1 request parser and request-body framing decoder (RFC 9112). */
#include "worker/http_parse.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

/* Which part of the header the parser is in (http_request.state). */
enum http_parse_state { HTTP_STATE_REQUEST_LINE, HTTP_STATE_FIELDS };

/* Leading empty lines before a request line (RFC 9112 §2.2) we tolerate. */
#define HTTP_MAX_LEADING_EMPTY 8
/* Chunk-size lines (with extensions) and trailer section are bounded too. */
#define HTTP_MAX_CHUNK_LINE 4096
#define HTTP_MAX_TRAILERS   8192

static const char http_slash[] = "/";

static const char *const http_method_names[] = {
    [HTTP_METHOD_UNKNOWN] = "UNKNOWN", [HTTP_METHOD_GET] = "GET",
    [HTTP_METHOD_HEAD] = "HEAD",       [HTTP_METHOD_POST] = "POST",
    [HTTP_METHOD_PUT] = "PUT",         [HTTP_METHOD_DELETE] = "DELETE",
    [HTTP_METHOD_CONNECT] = "CONNECT", [HTTP_METHOD_OPTIONS] = "OPTIONS",
    [HTTP_METHOD_TRACE] = "TRACE",     [HTTP_METHOD_PATCH] = "PATCH",
};

const char *http_method_name(enum http_method m)
{
    if ((unsigned)m >= sizeof(http_method_names) / sizeof(http_method_names[0]))
        return "UNKNOWN";
    return http_method_names[m];
}

/* tchar from RFC 9110 §5.6.2. */
static int http_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP or HTAB (obs-text allowed, as RFC 9110 §5.5 does). */
static int http_is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int http_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* unreserved or sub-delims (RFC 3986 §2.2, §2.3): a reg-name's bytes besides pct-encoded. */
static int http_is_host_char(unsigned char c)
{
    if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
        return 1;
    }
    return 0;
}

/* What is inside an IP-literal's brackets: an IPv6 address or "v" HEXDIG "." ... (IPvFuture). */
static int http_ip_literal_ok(const char *p, size_t len)
{
    char text[INET6_ADDRSTRLEN];
    struct in6_addr addr;
    size_t i = 1;

    if (len > 0 && (p[0] == 'v' || p[0] == 'V')) {
        while (i < len && http_hex_digit(p[i]) >= 0)
            i++;
        if (i == 1 || i + 1 >= len || p[i] != '.')
            return 0;
        for (i++; i < len; i++)
            if (!http_is_host_char((unsigned char)p[i]) && p[i] != ':')
                return 0;
        return 1;
    }
    if (len == 0 || len >= sizeof(text))
        return 0;
    memcpy(text, p, len);
    text[len] = '\0';
    return inet_pton(AF_INET6, text, &addr) == 1;
}

/*
 * uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): a non-empty
 * reg-name or IPv4 address (unreserved, sub-delims, pct-encoded) or an
 * [IP-literal], then port digits. So userinfo ('@'), '/', spaces and a port
 * that is not a number are invalid.
 */
static int http_authority_ok(struct http_slice a)
{
    const char *p = a.p;
    size_t len = a.len, i = 0;

    if (len > 0 && p[0] == '[') {
        const char *end = memchr(p, ']', len);
        if (end == NULL || !http_ip_literal_ok(p + 1, (size_t)(end - p) - 1))
            return 0;
        i = (size_t)(end - p) + 1;
    } else {
        while (i < len && p[i] != ':') {
            if (p[i] == '%') {
                if (i + 3 > len || http_hex_digit(p[i + 1]) < 0 || http_hex_digit(p[i + 2]) < 0)
                    return 0;
                i += 3;
            } else if (http_is_host_char((unsigned char)p[i])) {
                i++;
            } else {
                return 0;
            }
        }
        if (i == 0)
            return 0;
    }
    if (i < len && p[i++] != ':')
        return 0;
    for (; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static struct http_slice http_trim(const char *p, size_t len)
{
    while (len > 0 && http_is_ows(p[0])) {
        p++;
        len--;
    }
    while (len > 0 && http_is_ows(p[len - 1]))
        len--;
    return (struct http_slice){ p, len };
}

int http_slice_eq(struct http_slice s, const char *str)
{
    size_t n = strlen(str);
    return s.len == n && strncasecmp(s.p, str, n) == 0;
}

/* Call fn-like iteration over comma-separated list elements (trimmed, empty skipped). */
static int http_list_next(struct http_slice *rest, struct http_slice *elem)
{
    while (rest->len > 0) {
        const char *comma = memchr(rest->p, ',', rest->len);
        size_t n = comma ? (size_t)(comma - rest->p) : rest->len;
        *elem = http_trim(rest->p, n);
        rest->p += comma ? n + 1 : n;
        rest->len -= comma ? n + 1 : n;
        if (elem->len > 0)
            return 1;
    }
    return 0;
}

int http_list_has(struct http_slice s, const char *token)
{
    struct http_slice e;
    while (http_list_next(&s, &e))
        if (http_slice_eq(e, token))
            return 1;
    return 0;
}

const struct http_header *http_header_find(const struct http_request *req, const char *name)
{
    for (unsigned i = 0; i < req->nheaders; i++)
        if (http_slice_eq(req->headers[i].name, name))
            return &req->headers[i];
    return NULL;
}

unsigned http_header_count(const struct http_request *req, const char *name)
{
    unsigned n = 0;
    for (unsigned i = 0; i < req->nheaders; i++)
        if (http_slice_eq(req->headers[i].name, name))
            n++;
    return n;
}

void http_request_init(struct http_request *req, const struct http_limits *limits)
{
    /* Every field; of the header array (last) only the nheaders = 0 entries in use. */
    memset(req, 0, offsetof(struct http_request, headers));
    req->limits = *limits;
    if (req->limits.max_headers > HTTP_HEADERS_CAP)
        req->limits.max_headers = HTTP_HEADERS_CAP;
    req->state = HTTP_STATE_REQUEST_LINE;
}

static enum http_method http_method_lookup(const char *p, size_t len)
{
    for (unsigned m = HTTP_METHOD_GET; m <= HTTP_METHOD_PATCH; m++) {
        const char *name = http_method_names[m];
        if (strlen(name) == len && memcmp(name, p, len) == 0)
            return (enum http_method)m;
    }
    return HTTP_METHOD_UNKNOWN;
}

/* Split the target into path, query and (absolute form) host. */
static int http_parse_target(struct http_request *req)
{
    const char *p = req->target.p;
    size_t len = req->target.len;

    if (len == 1 && p[0] == '*') {
        req->path = req->target;
        return 0;
    }
    if (p[0] != '/') {
        size_t skip;
        if (len > 7 && strncasecmp(p, "http://", 7) == 0)
            skip = 7;
        else if (len > 8 && strncasecmp(p, "https://", 8) == 0)
            skip = 8;
        else
            return 400;
        const char *auth = p + skip;
        size_t alen = 0;
        while (skip + alen < len && auth[alen] != '/' && auth[alen] != '?')
            alen++;
        req->host = (struct http_slice){ auth, alen };
        /* Userinfo ("u:p@") in an http(s) target is treated as an error (RFC 9110 §4.2.4). */
        if (!http_authority_ok(req->host))
            return 400;
        p = auth + alen;
        len -= skip + alen;
        if (len == 0 || p[0] == '?') {
            /* "http://h" or "http://h?q": the path is "/" (RFC 9112 §3.2.2). */
            req->path = (struct http_slice){ http_slash, 1 };
            req->query = len ? (struct http_slice){ p + 1, len - 1 } : (struct http_slice){ p, 0 };
            return 0;
        }
    }
    const char *q = memchr(p, '?', len);
    if (q) {
        req->path = (struct http_slice){ p, (size_t)(q - p) };
        req->query = (struct http_slice){ q + 1, len - (size_t)(q - p) - 1 };
    } else {
        req->path = (struct http_slice){ p, len };
        req->query = (struct http_slice){ p + len, 0 };
    }
    return 0;
}

static int http_parse_request_line(struct http_request *req, const char *p, size_t len)
{
    size_t i = 0;

    while (i < len && http_is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= len || p[i] != ' ')
        return 400;
    req->method_name = (struct http_slice){ p, i };
    req->method = http_method_lookup(p, i);

    /* A fragment is never sent (RFC 9112 §3.2): '#' is refused, not looked up as a name. */
    size_t t = ++i;
    while (i < len && (unsigned char)p[i] > 0x20 && p[i] != 0x7f && p[i] != '#')
        i++;
    if (i == t || i >= len || p[i] != ' ')
        return 400;
    req->target = (struct http_slice){ p + t, i - t };
    i++;

    const char *v = p + i;
    size_t vlen = len - i;
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return 400;
    /* Another major version is refused; a later 1.x is served as 1.1, ours (RFC 9110 §2.5). */
    if (v[5] != '1')
        return 505;
    req->version_minor = v[7] > '1' ? 1 : v[7] - '0';
    req->request_line = (struct http_slice){ p, len };
    return http_parse_target(req);
}

static int http_parse_content_length(struct http_request *req, struct http_slice v)
{
    unsigned long long n = 0;

    if (v.len == 0 || v.len > 19)
        return 400;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 400;
        n = n * 10 + (unsigned)(v.p[i] - '0');
    }
    /* Repeated identical values are tolerated (RFC 9110 §8.6); differing ones are not. */
    if (req->has_cl && n != req->content_length)
        return 400;
    req->has_cl = 1;
    req->content_length = n;
    return 0;
}

static int http_parse_transfer_encoding(struct http_request *req, struct http_slice v)
{
    struct http_slice e;
    int any = 0;

    while (http_list_next(&v, &e)) {
        any = 1;
        /* chunked must be the last coding and applied once (RFC 9112 §6.1). */
        if (req->has_te == 2)
            return 400;
        const char *semi = memchr(e.p, ';', e.len);
        struct http_slice name = semi ? http_trim(e.p, (size_t)(semi - e.p)) : e;
        if (http_slice_eq(name, "chunked")) {
            if (semi)
                return 400;
            req->has_te = 2;
        } else if (http_slice_eq(name, "gzip") || http_slice_eq(name, "x-gzip") ||
                   http_slice_eq(name, "deflate") || http_slice_eq(name, "compress") ||
                   http_slice_eq(name, "x-compress")) {
            req->has_te = 1;
        } else {
            return 501;
        }
    }
    return any ? 0 : 400;
}

static int http_parse_field(struct http_request *req, const char *p, size_t len)
{
    size_t i = 0;

    if (http_is_ows(p[0]))
        return 400; /* obs-fold, rejected as RFC 9112 §5.2 allows */
    while (i < len && http_is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= len || p[i] != ':')
        return 400; /* includes whitespace between name and colon */
    for (size_t j = i + 1; j < len; j++)
        if (!http_is_field_char((unsigned char)p[j]))
            return 400;
    if (req->nheaders >= req->limits.max_headers)
        return 431;

    struct http_header *h = &req->headers[req->nheaders++];
    h->name = (struct http_slice){ p, i };
    h->value = http_trim(p + i + 1, len - i - 1);

    if (http_slice_eq(h->name, "Host")) {
        /*
         * An invalid Host is 400 (RFC 9112 §3.2). An empty one is not: the
         * target URI then has no authority, and the one site we serve is
         * the configured default RFC 9112 §3.3 allows.
         */
        if (h->value.len > 0 && !http_authority_ok(h->value))
            return 400;
        if (req->nhost++ == 0 && req->host.p == NULL)
            req->host = h->value;
    } else if (http_slice_eq(h->name, "Content-Length")) {
        return http_parse_content_length(req, h->value);
    } else if (http_slice_eq(h->name, "Transfer-Encoding")) {
        return http_parse_transfer_encoding(req, h->value);
    } else if (http_slice_eq(h->name, "Connection")) {
        if (http_list_has(h->value, "close"))
            req->conn_close = 1;
        if (http_list_has(h->value, "keep-alive"))
            req->conn_keepalive = 1;
    }
    return 0;
}

/* Checks that need the whole header: Host, body framing, persistence. Returns 0 or the status. */
static int http_finish_header(struct http_request *req)
{
    if (req->nhost > 1 || (req->version_minor == 1 && req->nhost == 0))
        return 400;
    if (req->has_te) {
        /* Both framings at once is how requests are smuggled: refuse. */
        if (req->has_cl || req->version_minor == 0 || req->has_te != 2)
            return 400;
        req->body = HTTP_BODY_CHUNKED;
    } else if (req->has_cl && req->content_length > 0) {
        if (req->content_length > req->limits.max_body)
            return 413;
        req->body = HTTP_BODY_LENGTH;
    }
    if (req->version_minor == 1)
        req->keep_alive = !req->conn_close;
    else
        req->keep_alive = req->conn_keepalive && !req->conn_close;
    return 0;
}

/*
 * Read the header's lines from req->pos on. Returns 0 (req->header_len > 0
 * once the header is complete), or the error status.
 */
static int http_scan(struct http_request *req, const char *buf, size_t len)
{
    const struct http_limits *lim = &req->limits;

    while (req->pos < len) {
        const char *nl = memchr(buf + req->pos, '\n', len - req->pos);
        if (nl == NULL) {
            req->pos = len;
            break;
        }
        size_t end = (size_t)(nl - buf);
        const char *line = buf + req->line_start;
        size_t line_len = end - req->line_start;
        req->pos = end + 1;
        req->line_start = end + 1;
        if (line_len > 0 && line[line_len - 1] == '\r')
            line_len--;
        /*
         * A CR anywhere else in the line is a bare CR (RFC 9112 §2.2): 400,
         * but only after the size limits, which an incomplete line already
         * meets; so the answer does not depend on how the bytes arrived.
         */
        int bare_cr = line_len > 0 && memchr(line, '\r', line_len) != NULL;
        int rc;

        if (req->state == HTTP_STATE_REQUEST_LINE) {
            if (line_len > lim->max_request_line)
                return 414;
            if (bare_cr)
                return 400;
            if (line_len == 0) {
                if (req->pos > HTTP_MAX_LEADING_EMPTY * 2)
                    return 400;
                req->head_start = req->pos;
                continue;
            }
            if ((rc = http_parse_request_line(req, line, line_len)) != 0)
                return rc;
            req->state = HTTP_STATE_FIELDS;
            req->fields_start = req->pos;
            continue;
        }
        if (req->pos - req->fields_start > lim->max_header_bytes)
            return 431;
        if (bare_cr)
            return 400;
        if (line_len == 0) {
            if ((rc = http_finish_header(req)) != 0)
                return rc;
            req->header_len = req->pos;
            return 0;
        }
        if ((rc = http_parse_field(req, line, line_len)) != 0)
            return rc;
    }

    /* Incomplete line: enforce the limits before the buffer fills. */
    if (req->state == HTTP_STATE_REQUEST_LINE) {
        if (len - req->line_start > lim->max_request_line + 1)
            return 414;
    } else if (len - req->fields_start > lim->max_header_bytes) {
        return 431;
    }
    return 0;
}

enum http_parse_result http_parse_request(struct http_request *req, const char *buf, size_t len)
{
    int status = req->header_len > 0 ? 0 : http_scan(req, buf, len);

    if (status != 0) {
        req->error_status = status;
        return HTTP_PARSE_ERROR;
    }
    return req->header_len > 0 ? HTTP_PARSE_DONE : HTTP_PARSE_AGAIN;
}

/*
 * Where the chunked decoder is; a closed set, kept in http_body.state. Its
 * lines end in CRLF only (RFC 9112 §7.1): the leniency the header parser
 * allows (a bare LF) is how two parsers that read the same chunked body
 * differently ("funky chunks") let a request hide in another's body.
 */
enum http_chunk_state {
    HTTP_CHUNK_SIZE,
    HTTP_CHUNK_SIZE_BWS, /* whitespace after the size: only a chunk-ext's ';' may follow */
    HTTP_CHUNK_EXT,
    HTTP_CHUNK_SIZE_LF,
    HTTP_CHUNK_DATA,
    HTTP_CHUNK_DATA_CR,
    HTTP_CHUNK_DATA_LF,
    HTTP_CHUNK_TRAILER_START,
    HTTP_CHUNK_TRAILER,
    HTTP_CHUNK_TRAILER_LF,
    HTTP_CHUNK_END_LF,
    HTTP_CHUNK_DONE,
};

void http_body_init(struct http_body *b, const struct http_request *req)
{
    memset(b, 0, sizeof(*b));
    b->kind = req->body;
    b->max = req->limits.max_body;
    if (b->kind == HTTP_BODY_LENGTH)
        b->remaining = req->content_length;
    b->state = b->kind == HTTP_BODY_CHUNKED ? HTTP_CHUNK_SIZE : HTTP_CHUNK_DONE;
}

/* The chunk-size line is complete: on to its data, or to the trailers after the last chunk. */
static int http_chunk_size_done(struct http_body *b)
{
    if (b->remaining == 0) {
        b->state = HTTP_CHUNK_TRAILER_START;
        b->line_len = 0;
        return 0;
    }
    b->total += b->remaining;
    if (b->total > b->max)
        return 413;
    b->state = HTTP_CHUNK_DATA;
    return 0;
}

/* The LF of a CRLF has come: where the line it ends leads. Returns 0, or the error status. */
static int http_chunk_line_end(struct http_body *b, int state)
{
    switch (state) {
    case HTTP_CHUNK_SIZE_LF:
        return http_chunk_size_done(b);
    case HTTP_CHUNK_DATA_LF:
        b->state = HTTP_CHUNK_SIZE;
        b->digits = 0;
        b->line_len = 0;
        break;
    case HTTP_CHUNK_TRAILER_LF:
        b->state = HTTP_CHUNK_TRAILER_START;
        break;
    default:
        b->state = HTTP_CHUNK_DONE;
        break;
    }
    return 0;
}

/*
 * One byte of chunked framing (anything but chunk data). Returns 0, or the
 * error status. Whitespace after the size is BWS, allowed only before a
 * chunk-ext's ';' ("5 ;x" is fine, "5 x" and "5 " are not); the extension
 * itself may be any field text (quoted strings included), but no CR or LF.
 */
static int http_chunk_byte(struct http_body *b, char c)
{
    int state = b->state, rc = 0, h;

    switch (state) {
    case HTTP_CHUNK_SIZE:
        if ((h = http_hex_digit(c)) >= 0) {
            if (++b->digits > 15)
                return 400;
            b->remaining = b->remaining * 16 + (unsigned)h;
        } else if (b->digits == 0) {
            return 400;
        } else if (c == ';') {
            b->state = HTTP_CHUNK_EXT;
        } else if (http_is_ows(c)) {
            b->state = HTTP_CHUNK_SIZE_BWS;
        } else if (c == '\r') {
            b->state = HTTP_CHUNK_SIZE_LF;
        } else {
            return 400; /* junk after the size, or a bare LF */
        }
        break;
    case HTTP_CHUNK_SIZE_BWS:
        if (c == ';')
            b->state = HTTP_CHUNK_EXT;
        else if (!http_is_ows(c))
            return 400;
        break;
    case HTTP_CHUNK_EXT:
    case HTTP_CHUNK_TRAILER:
        if (c == '\r')
            b->state = state == HTTP_CHUNK_EXT ? HTTP_CHUNK_SIZE_LF : HTTP_CHUNK_TRAILER_LF;
        else if (!http_is_field_char((unsigned char)c))
            return 400; /* a bare LF among them */
        break;
    case HTTP_CHUNK_DATA_CR:
        if (c != '\r')
            return 400;
        b->state = HTTP_CHUNK_DATA_LF;
        break;
    case HTTP_CHUNK_TRAILER_START:
        /* The empty line that ends the body, or a field line's name. */
        if (c == '\r')
            b->state = HTTP_CHUNK_END_LF;
        else if (http_is_tchar((unsigned char)c))
            b->state = HTTP_CHUNK_TRAILER;
        else
            return 400;
        break;
    case HTTP_CHUNK_SIZE_LF:
    case HTTP_CHUNK_DATA_LF:
    case HTTP_CHUNK_TRAILER_LF:
    case HTTP_CHUNK_END_LF:
        /* After a CR only its LF may come. */
        if (c != '\n')
            return 400;
        rc = http_chunk_line_end(b, state);
        break;
    }
    /* A chunk-size line (with extensions) and the trailer section are bounded. */
    if (state == HTTP_CHUNK_SIZE || state == HTTP_CHUNK_SIZE_BWS || state == HTTP_CHUNK_EXT)
        return ++b->line_len > HTTP_MAX_CHUNK_LINE ? 400 : rc;
    if (state == HTTP_CHUNK_TRAILER_START || state == HTTP_CHUNK_TRAILER)
        return ++b->line_len > HTTP_MAX_TRAILERS ? 400 : rc;
    return rc;
}

enum http_parse_result http_body_consume(struct http_body *b, const char *buf, size_t len,
                                         size_t *used)
{
    size_t i = 0;

    if (b->kind == HTTP_BODY_LENGTH) {
        size_t n = b->remaining < len ? (size_t)b->remaining : len;
        b->remaining -= n;
        b->total += n;
        *used = n;
        return b->remaining == 0 ? HTTP_PARSE_DONE : HTTP_PARSE_AGAIN;
    }
    while (i < len && b->state != HTTP_CHUNK_DONE) {
        if (b->state == HTTP_CHUNK_DATA) {
            size_t n = len - i < b->remaining ? len - i : (size_t)b->remaining;
            b->remaining -= n;
            i += n;
            if (b->remaining == 0)
                b->state = HTTP_CHUNK_DATA_CR;
            continue;
        }
        int status = http_chunk_byte(b, buf[i++]);
        if (status != 0) {
            b->error_status = status;
            *used = i;
            return HTTP_PARSE_ERROR;
        }
    }
    *used = i;
    return b->state == HTTP_CHUNK_DONE ? HTTP_PARSE_DONE : HTTP_PARSE_AGAIN;
}
