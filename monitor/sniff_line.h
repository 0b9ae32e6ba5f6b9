/*
 * The line grammar of the HTTP sniffer (part of the sniff module, see
 * sniff.h): start lines checked as their bytes arrive, and the few header
 * fields and chunk-size lines that decide message framing. Pure functions
 * over bytes; no allocation.
 */
#ifndef LABMON_SNIFF_LINE_H
#define LABMON_SNIFF_LINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Where a start line is in its grammar (the order matters: see sniff.c). */
enum sniff_line_phase {
    SNIFF_LINE_METHOD,  /* request: method token */
    SNIFF_LINE_TARGET,  /* request: request-target */
    SNIFF_LINE_VERSION, /* request: "HTTP/d.d" at the end; response: at the start */
    SNIFF_LINE_STATUS,  /* response: three digits */
    SNIFF_LINE_REASON,  /* response: reason phrase */
    SNIFF_LINE_END,     /* CR seen: only LF may follow */
};

/* A start line being checked. */
struct sniff_line {
    uint16_t n;    /* bytes in the current phase (saturates in a long target) */
    uint8_t phase; /* enum sniff_line_phase */
    char ver[2];   /* HTTP version digits once seen, else 0 */
};

/* What the grammar made of the bytes it was given. */
enum sniff_line_verdict {
    SNIFF_LINE_MORE, /* all accepted; the line goes on */
    SNIFF_LINE_LF,   /* stopped at an LF: the line ends there */
    SNIFF_LINE_BAD,  /* stopped at a byte no start line can hold there */
};

/* Starts checking a request line (request != 0) or a status line. */
static inline void sniff_line_start(struct sniff_line *l, int request)
{
    l->phase = request ? SNIFF_LINE_METHOD : SNIFF_LINE_VERSION;
    l->n = 0;
    l->ver[0] = l->ver[1] = 0;
}

/*
 * The grammar over p[0..len), the bytes that follow those already checked:
 * returns how many it accepted and in *v why it stopped (at an LF, at a
 * byte no start line can hold there, or at len). Checking as bytes come
 * rejects a binary stream at its first bytes instead of at a line end that
 * may never come. Each phase takes its bytes in a run (and a whole version
 * or status code in one comparison); tests/fuzz/fuzz_sniff_line.c holds
 * that to the same result for every split of the bytes, down to one at a
 * time.
 */
size_t sniff_line_scan(struct sniff_line *l, int request, const uint8_t *p, size_t len,
                       enum sniff_line_verdict *v);

/* One byte (an LF is SNIFF_LINE_BAD: line ends are the caller's): MORE or BAD. */
enum sniff_line_verdict sniff_line_byte(struct sniff_line *l, int request, unsigned char c);

/* Whether a line that ends here (at its LF) is a whole start line. */
static inline int sniff_line_complete(const struct sniff_line *l, int request)
{
    switch ((enum sniff_line_phase)l->phase) {
    case SNIFF_LINE_END:
        return 1;
    case SNIFF_LINE_VERSION:
        return request && l->n == 8;
    case SNIFF_LINE_STATUS:
        return !request && l->n == 3;
    case SNIFF_LINE_REASON:
        return !request;
    default:
        return 0;
    }
}

/* A request line's method and request-target (the line may be cut short). */
struct sniff_line_request {
    const char *method, *target;
    size_t method_len, target_len;
    int target_cut; /* no space after the target: the line ended inside it */
};

/* Splits a request line that passed the grammar up to its target: 0, or -1 without a method. */
int sniff_line_request(const char *p, size_t n, struct sniff_line_request *out);

/* A complete status line's code and reason phrase (trimmed). */
uint16_t sniff_line_status(const char *p, size_t n, const char **reason, size_t *reason_len);

/* The header fields that matter to the sniffer. */
enum sniff_line_header {
    SNIFF_LINE_HDR_OTHER,
    SNIFF_LINE_HDR_CONTENT_LENGTH,
    SNIFF_LINE_HDR_CONTENT_TYPE,
    SNIFF_LINE_HDR_CONTENT_RANGE,
    SNIFF_LINE_HDR_TRANSFER_ENCODING,
    SNIFF_LINE_HDR_RANGE,
};

/*
 * Which field the header line p[0..n) is (without CR LF), and its value with
 * blanks trimmed in *v, *vn (unset for SNIFF_LINE_HDR_OTHER).
 */
enum sniff_line_header sniff_line_header(const char *p, size_t n, const char **v, size_t *vn);

/*
 * Whether a header line starting with byte c can be one of those fields
 * (their first letters, either case, as sniff_line_header() switches on
 * them): most lines are ruled out here without a call.
 */
static inline int sniff_line_header_maybe(char c)
{
    return (c | 0x20) == 'c' || (c | 0x20) == 't' || (c | 0x20) == 'r';
}

/* Content-Length: digits, or a list of identical values ("5, 5"). -1 if invalid. */
int64_t sniff_line_length(const char *p, size_t n);

/* Whether the last coding of a Transfer-Encoding value is "chunked". */
int sniff_line_chunked(const char *p, size_t n);

/* A chunk-size line ("1a2b [; ext]"): 0 and the size in *size, or -1 if malformed. */
int sniff_line_chunk_size(const char *p, size_t n, uint64_t *size);

/* Whether p[0..n) is name, ASCII case-insensitively (name in lower case). */
static inline int sniff_line_name_is(const char *p, size_t n, const char *name)
{
    size_t i;

    if (strlen(name) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + ('a' - 'A') : p[i]) != name[i])
            return 0;
    return 1;
}

#endif
