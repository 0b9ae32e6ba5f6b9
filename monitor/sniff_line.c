/*
 * The sniffer's line grammar: start lines (RFC 9112 §3, §4) checked as they come,
 * and the header fields and chunk-size lines that frame a message.
 */
#include "monitor/sniff_line.h"
#include "monitor/sniff.h"

#include <string.h>

static int sniff_line_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* ---- start lines ---- */

/* Method bytes: upper-case letters, '-' and '_' (what clients send). */
static const uint8_t sniff_line_method_byte[256] = { ['A' ... 'Z'] = 1, ['-'] = 1, ['_'] = 1 };

/* Request-target bytes after the first: visible bytes and obs-text, no blanks. */
static const uint8_t sniff_line_target_byte[256] = { [0x21 ... 0x7e] = 1, [0x80 ... 0xff] = 1 };

/* Reason phrase bytes: HTAB, SP, visible bytes, obs-text. */
static const uint8_t sniff_line_reason_byte[256] = { ['\t'] = 1,
                                                     [0x20 ... 0x7e] = 1,
                                                     [0x80 ... 0xff] = 1 };

static int sniff_line_is_method(unsigned char c)
{
    return sniff_line_method_byte[c];
}

/* First byte of a request-target: origin form '/', '*', or a scheme or host letter. */
static int sniff_line_is_target_first(unsigned char c)
{
    return c == '/' || c == '*' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static int sniff_line_is_target(unsigned char c)
{
    return sniff_line_target_byte[c];
}

static int sniff_line_is_reason(unsigned char c)
{
    return sniff_line_reason_byte[c];
}

/*
 * The grammar, one function per phase. Each takes as many bytes of p[0..len)
 * as belong to its phase and, if the byte after them moves the line on to
 * the next phase, that byte too; it returns how many it took. Where it
 * stops without a phase change, the next byte cannot be there (or is the
 * LF, which only the caller judges). So a line is checked the same whether
 * it comes whole, in pieces or byte by byte (tests/fuzz/fuzz_sniff_line.c
 * holds sniff_line_scan() to that).
 */

static size_t sniff_line_next(struct sniff_line *l, enum sniff_line_phase phase, size_t taken)
{
    l->phase = (uint8_t)phase;
    l->n = 0;
    return taken + 1;
}

/* The method token (at most SNIFF_METHOD_MAX - 1 bytes, at least 3), then SP. */
static inline __attribute__((always_inline)) size_t sniff_line_method(struct sniff_line *l,
                                                                      const uint8_t *p, size_t len)
{
    size_t i = 0, max = SNIFF_METHOD_MAX - 1 - l->n;

    while (i < len && i < max && sniff_line_is_method(p[i]))
        i++;
    l->n = (uint16_t)(l->n + i);
    if (i < len && p[i] == ' ' && l->n >= 3)
        return sniff_line_next(l, SNIFF_LINE_TARGET, i);
    return i;
}

/* The request-target (its length saturates at UINT16_MAX), then SP. */
static inline __attribute__((always_inline)) size_t sniff_line_target(struct sniff_line *l,
                                                                      const uint8_t *p, size_t len)
{
    size_t i = 0;

    if (l->n == 0) { /* the first byte has its own class */
        if (len == 0 || !sniff_line_is_target_first(p[0]))
            return 0;
        i = 1;
    }
    while (i < len && sniff_line_is_target(p[i]))
        i++;
    l->n = (uint16_t)(l->n + i > UINT16_MAX ? UINT16_MAX : l->n + i);
    if (i < len && p[i] == ' ')
        return sniff_line_next(l, SNIFF_LINE_VERSION, i);
    return i;
}

/* "HTTP/d.d" (digits kept), then CR to end a request line or SP to go on to a status code. */
static inline __attribute__((always_inline)) size_t
sniff_line_version(struct sniff_line *l, int request, const uint8_t *p, size_t len)
{
    static const char http[] = "HTTP/";
    size_t i = 0;
    unsigned char c;

    if (l->n == 0 && len >= 8 && memcmp(p, http, 5) == 0 && sniff_line_is_digit(p[5]) &&
        p[6] == '.' && sniff_line_is_digit(p[7])) { /* all here: the loop's checks in one go */
        l->ver[0] = (char)p[5];
        l->ver[1] = (char)p[7];
        l->n = 8;
        i = 8;
    }
    for (; i < len && l->n < 8; i++, l->n++) {
        c = p[i];
        if (l->n < 5    ? c != (unsigned char)http[l->n]
            : l->n == 6 ? c != '.'
                        : !sniff_line_is_digit(c))
            return i;
        if (l->n == 5 || l->n == 7)
            l->ver[l->n == 7] = (char)c;
    }
    if (i < len && p[i] == (request ? '\r' : ' '))
        return sniff_line_next(l, request ? SNIFF_LINE_END : SNIFF_LINE_STATUS, i);
    return i;
}

/* Three digits, 100-599 (RFC 9110 §15), then SP and a reason, or CR. */
static inline __attribute__((always_inline)) size_t
sniff_line_status_code(struct sniff_line *l, const uint8_t *p, size_t len)
{
    size_t i = 0;

    if (l->n == 0 && len >= 3 && p[0] >= '1' && p[0] <= '5' && sniff_line_is_digit(p[1]) &&
        sniff_line_is_digit(p[2])) { /* all here: the loop's checks in one go */
        l->n = 3;
        i = 3;
    }
    while (i < len && l->n < 3 && sniff_line_is_digit(p[i]) &&
           (l->n > 0 || (p[i] >= '1' && p[i] <= '5'))) {
        i++;
        l->n++;
    }
    if (l->n == 3 && i < len && (p[i] == ' ' || p[i] == '\r'))
        return sniff_line_next(l, p[i] == ' ' ? SNIFF_LINE_REASON : SNIFF_LINE_END, i);
    return i;
}

/* The reason phrase, then CR. */
static inline __attribute__((always_inline)) size_t sniff_line_reason(struct sniff_line *l,
                                                                      const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len && sniff_line_is_reason(p[i]))
        i++;
    if (i < len && p[i] == '\r')
        return sniff_line_next(l, SNIFF_LINE_END, i);
    return i;
}

/* The bytes the current phase takes (after a CR, none: only the LF may follow). */
static inline __attribute__((always_inline)) size_t
sniff_line_phase(struct sniff_line *l, int request, const uint8_t *p, size_t len)
{
    switch ((enum sniff_line_phase)l->phase) {
    case SNIFF_LINE_METHOD:
        return sniff_line_method(l, p, len);
    case SNIFF_LINE_TARGET:
        return sniff_line_target(l, p, len);
    case SNIFF_LINE_VERSION:
        return sniff_line_version(l, request, p, len);
    case SNIFF_LINE_STATUS:
        return sniff_line_status_code(l, p, len);
    case SNIFF_LINE_REASON:
        return sniff_line_reason(l, p, len);
    default:
        return 0;
    }
}

enum sniff_line_verdict sniff_line_byte(struct sniff_line *l, int request, unsigned char c)
{
    if (c == '\n')
        return SNIFF_LINE_BAD; /* line ends are the caller's */
    return sniff_line_phase(l, request, &c, 1) == 1 ? SNIFF_LINE_MORE : SNIFF_LINE_BAD;
}

size_t sniff_line_scan(struct sniff_line *l, int request, const uint8_t *p, size_t len,
                       enum sniff_line_verdict *v)
{
    size_t i = 0;

    /* Phases only go forward: from the current one, each phase that is
     * reached takes its bytes in turn (a phase not reached takes none). */
    switch ((enum sniff_line_phase)l->phase) {
    case SNIFF_LINE_METHOD:
        i += sniff_line_method(l, p, len);
        /* fall through */
    case SNIFF_LINE_TARGET:
        if (l->phase == SNIFF_LINE_TARGET)
            i += sniff_line_target(l, p + i, len - i);
        /* fall through */
    case SNIFF_LINE_VERSION:
        if (l->phase == SNIFF_LINE_VERSION)
            i += sniff_line_version(l, request, p + i, len - i);
        /* fall through */
    case SNIFF_LINE_STATUS:
        if (l->phase == SNIFF_LINE_STATUS)
            i += sniff_line_status_code(l, p + i, len - i);
        /* fall through */
    case SNIFF_LINE_REASON:
        if (l->phase == SNIFF_LINE_REASON)
            i += sniff_line_reason(l, p + i, len - i);
        /* fall through */
    default:
        break;
    }
    /* Stopped short: at the LF, or at a byte no phase could take. */
    if (i < len)
        *v = p[i] == '\n' ? SNIFF_LINE_LF : SNIFF_LINE_BAD;
    else
        *v = SNIFF_LINE_MORE;
    return i;
}

int sniff_line_request(const char *p, size_t n, struct sniff_line_request *out)
{
    const char *sp = memchr(p, ' ', n);

    if (sp == NULL)
        return -1;
    out->method = p;
    out->method_len = (size_t)(sp - p);
    out->target = sp + 1;
    n -= out->method_len + 1;
    sp = memchr(out->target, ' ', n);
    out->target_cut = sp == NULL;
    out->target_len = sp != NULL ? (size_t)(sp - out->target) : n;
    return 0;
}

static void sniff_line_trim(const char **p, size_t *n)
{
    while (*n > 0 && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

uint16_t sniff_line_status(const char *p, size_t n, const char **reason, size_t *reason_len)
{
    const char *code = p + 9; /* "HTTP/d.d " */

    *reason = code + 3;
    *reason_len = n > 12 ? n - 12 : 0;
    sniff_line_trim(reason, reason_len);
    return (uint16_t)((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
}

/* ---- header lines ---- */

/*
 * sniff_line_name_is() for names of at least 8 bytes, n already equal to
 * the name's length, 8 bytes at a time. name holds lowercase letters and
 * '-' only: where it has a letter, p may differ by the case bit (0x20)
 * alone, which makes the same letter in the other case and nothing else;
 * where it has a '-', p must match exactly.
 */
static int sniff_line_name_is_long(const char *p, size_t n, const char *name)
{
    uint64_t a, b;
    size_t i;

    for (i = 0;; i += 8) {
        if (i + 8 > n)
            i = n - 8; /* the last word overlaps the one before */
        memcpy(&a, p + i, 8);
        memcpy(&b, name + i, 8);
        if ((a ^ b) & (0xdfdfdfdfdfdfdfdfull | ((~b & 0x4040404040404040ull) >> 1)))
            return 0;
        if (i + 8 == n)
            return 1;
    }
}

/* The names that matter, grouped by first letter; long ones are compared by words. */
static const struct sniff_line_field {
    uint8_t len;
    enum sniff_line_header h;
    const char *name;
} sniff_line_fields[] = {
    { 14, SNIFF_LINE_HDR_CONTENT_LENGTH, "content-length" },
    { 12, SNIFF_LINE_HDR_CONTENT_TYPE, "content-type" },
    { 13, SNIFF_LINE_HDR_CONTENT_RANGE, "content-range" },
    { 17, SNIFF_LINE_HDR_TRANSFER_ENCODING, "transfer-encoding" },
    { 5, SNIFF_LINE_HDR_RANGE, "range" },
};

/*
 * The first letter and the colon right after a candidate name rule out
 * almost every other line without looking for its colon (a name made of
 * letters and '-' cannot hide an earlier one). Folded lines start with a
 * blank, so they never match.
 */
enum sniff_line_header sniff_line_header(const char *p, size_t n, const char **v, size_t *vn)
{
    const struct sniff_line_field *f, *end;

    if (n == 0)
        return SNIFF_LINE_HDR_OTHER;
    switch (p[0] | 0x20) { /* the letter from either case; no other byte maps to one */
    case 'c':
        f = &sniff_line_fields[0];
        end = f + 3;
        break;
    case 't':
        f = &sniff_line_fields[3];
        end = f + 1;
        break;
    case 'r':
        f = &sniff_line_fields[4];
        end = f + 1;
        break;
    default:
        return SNIFF_LINE_HDR_OTHER;
    }
    for (; f < end; f++) {
        if (n <= f->len || p[f->len] != ':')
            continue;
        if (f->len >= 8 ? !sniff_line_name_is_long(p, f->len, f->name)
                        : !sniff_line_name_is(p, f->len, f->name))
            continue;
        *v = p + f->len + 1;
        *vn = n - f->len - 1;
        sniff_line_trim(v, vn);
        return f->h;
    }
    return SNIFF_LINE_HDR_OTHER;
}

int64_t sniff_line_length(const char *p, size_t n)
{
    int64_t first = -1, v;
    size_t i = 0;

    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n || !sniff_line_is_digit((unsigned char)p[i]))
            return -1;
        v = 0;
        while (i < n && sniff_line_is_digit((unsigned char)p[i])) {
            int dgt = p[i++] - '0';

            if (v > (INT64_MAX - dgt) / 10)
                return -1;
            v = v * 10 + dgt;
        }
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i < n && p[i++] != ',')
            return -1;
        if (first >= 0 && v != first)
            return -1;
        first = v;
    }
    return first;
}

int sniff_line_chunked(const char *p, size_t n)
{
    const char *c = memrchr(p, ',', n);
    const char *e;

    if (c != NULL) {
        n -= (size_t)(c + 1 - p);
        p = c + 1;
    }
    e = memchr(p, ';', n);
    if (e != NULL)
        n = (size_t)(e - p);
    sniff_line_trim(&p, &n);
    return sniff_line_name_is(p, n, "chunked");
}

int sniff_line_chunk_size(const char *p, size_t n, uint64_t *size)
{
    uint64_t v = 0;
    size_t i;
    int c;

    for (i = 0; i < n; i++) {
        c = (unsigned char)p[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (sniff_line_is_digit(c))
            c -= '0';
        else if (c >= 'a' && c <= 'f')
            c -= 'a' - 10;
        else
            break;
        if (v >> 59)
            break; /* absurd size: rejected below */
        v = v * 16 + (uint64_t)c;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == 0 || (i < n && p[i] != ';') || (v >> 59))
        return -1;
    *size = v;
    return 0;
}
