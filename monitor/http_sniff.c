/*
 * HTTP sniffing over the two byte streams of one TCP connection: start lines
 * and a few headers, message framing, FIFO request <-> response matching.
 * All state is fixed-size and allocated once in http_sniff_new().
 */
#include "monitor/http_sniff.h"
#include "monitor/libc_mem.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * Capacities. Transactions keep their strings in a byte ring (the arena) so
 * that a typical transaction costs ~48 + ~90 bytes instead of the 650 of a
 * struct http_txn; the oldest transactions are dropped (and counted) when
 * either the ring or the arena is full.
 *
 * Both start small, inside the sniffer, and grow (doubling, moved to the
 * heap) up to these capacities before anything is dropped: most connections
 * carry one or two transactions, and a capture holds thousands of sniffers
 * at once (closed connections are kept a while for late segments), so 8 KiB
 * each cost more in page faults and cache misses than their parsing.
 */
#define SNIFF_RING     48
#define SNIFF_ARENA    4096 /* power of two: arena positions are kept mod 65536 */
#define SNIFF_RING0    2    /* ring slots inside the sniffer */
#define SNIFF_ARENA0   128  /* arena bytes inside the sniffer (power of two) */
#define SNIFF_LINE     288  /* longest line prefix kept: fits a full request line */
#define SNIFF_PENDING  64   /* outstanding requests tracked for framing (bit sets) */
#define SNIFF_MAX_BACK (1u << 30)

enum sniff_state {
    ST_START,      /* expecting a start line (empty lines skipped) */
    ST_HEADERS,    /* header lines until an empty line */
    ST_BODY_LEN,   /* Content-Length body: `remaining` bytes */
    ST_CHUNK_SIZE, /* chunk-size [; ext] line */
    ST_CHUNK_DATA, /* chunk data: `remaining` bytes */
    ST_CHUNK_CRLF, /* the CRLF after chunk data */
    ST_TRAILERS,   /* trailer lines after the last chunk */
    ST_BODY_CLOSE, /* body delimited by the end of the connection */
    ST_OPAQUE,     /* tunnel or switched protocol: no more HTTP */
    ST_UNKNOWN,    /* desynchronised: wait for a message start at a segment boundary */
};

/* Start-line validation phases (see sl_byte()). */
enum sniff_phase {
    PH_METHOD,  /* request: method token */
    PH_TARGET,  /* request: request-target */
    PH_VERSION, /* request: "HTTP/d.d" at the end; response: at the start */
    PH_STATUS,  /* response: three digits */
    PH_REASON,  /* response: reason phrase */
    PH_END,     /* CR seen: only LF may follow */
};

/* The strings of a transaction, kept in the arena as position mod 65536 and length. */
enum sniff_field { F_METHOD, F_URI, F_RANGE, F_REASON, F_CRANGE, F_CTYPE, F_COUNT };

#define TXN_URI_TRUNC 0x01
#define TXN_UNKNOWN   0x02
#define TXN_RESPONDED 0x04

struct sniff_txn {
    uint64_t req_ts;
    uint64_t resp_ts;
    int64_t content_length;
    uint16_t pos[F_COUNT];
    uint8_t len[F_COUNT];
    uint16_t status;
    char ver[2]; /* request's HTTP version digits, 0 if unknown */
    uint8_t flags;
};

struct sniff_dir {
    uint64_t remaining; /* body or chunk bytes still to skip */
    int64_t cl;         /* Content-Length of the message being parsed, -1 if none */
    uint64_t ts;        /* time of the segment that held the start line */
    uint64_t seg_ts;    /* time of the segment being fed */
    uint64_t lost_ts;   /* time of the last segment whose bytes were lost or skipped */
    uint32_t next_seq;
    uint32_t txn_id;   /* transaction this message belongs to (if txn_live) */
    uint16_t line_len; /* bytes kept in line[] */
    uint16_t sl_n;     /* bytes in the current start-line phase */
    uint8_t state, phase;
    uint8_t seq_known, had_gap, line_over, resync;
    uint8_t txn_live; /* txn_id names a recorded transaction */
    uint8_t in_line;  /* a start line has begun (first byte seen) */
    uint8_t chunked, te_other, cl_bad, no_body, interim, tunnel;
    char ver[2];
    char *line; /* SNIFF_LINE bytes for lines split across segments, NULL until one is */
};

/*
 * Everything before `ring0` is set by http_sniff_new(); the rest is only
 * read where it was written first (ring slots below next_id, arena bytes of
 * kept strings), so it is left uninitialised.
 */
struct http_sniff {
    uint32_t first_id;                /* oldest transaction kept */
    uint32_t first_slot;              /* its ring slot */
    uint32_t next_id;                 /* id of the next transaction */
    uint32_t resp_id;                 /* oldest transaction still waiting for its response */
    uint32_t lost_match;              /* responses owed to requests we stopped tracking */
    uint32_t arena_head, arena_write; /* monotonic byte positions */
    uint32_t ring_cap, arena_cap;     /* current capacities */
    uint64_t pend_head, pend_connect, pend_done; /* bit (id % 64) for ids >= resp_id */
    uint64_t dropped;
    struct sniff_txn *ring; /* ring0, or ring_cap slots on the heap */
    char *arena;            /* arena0, or arena_cap bytes on the heap */
    struct http_txn *view;  /* what http_sniff_get() returns, allocated by its first call */
    struct sniff_dir dir[2];
    struct sniff_txn ring0[SNIFF_RING0];
    char arena0[SNIFF_ARENA0];
};

struct http_sniff *http_sniff_new(void)
{
    struct http_sniff *s = malloc(sizeof(*s));
    int i;

    if (s == NULL)
        return NULL;
    memset(s, 0, offsetof(struct http_sniff, ring0));
    s->ring = s->ring0;
    s->ring_cap = SNIFF_RING0;
    s->arena = s->arena0;
    s->arena_cap = SNIFF_ARENA0;
    for (i = 0; i < 2; i++) {
        s->dir[i].state = ST_START;
        s->dir[i].cl = -1;
    }
    return s;
}

void http_sniff_free(struct http_sniff *s)
{
    if (s == NULL)
        return;
    free(s->dir[0].line);
    free(s->dir[1].line);
    if (s->ring != s->ring0)
        free(s->ring);
    if (s->arena != s->arena0)
        free(s->arena);
    free(s->view);
    free(s);
}

size_t http_sniff_size(void)
{
    return sizeof(struct http_sniff) + SNIFF_RING * sizeof(struct sniff_txn) + SNIFF_ARENA +
           sizeof(struct http_txn) + 2 * SNIFF_LINE;
}

/* ---- transactions and their strings ---- */

static uint64_t bit(uint32_t id)
{
    return (uint64_t)1 << (id % SNIFF_PENDING);
}

/* Slot of the i-th kept transaction (i < ring_cap; first_slot < ring_cap). */
static struct sniff_txn *slot(const struct http_sniff *s, uint32_t i)
{
    uint32_t j = s->first_slot + i;

    return &s->ring[j < s->ring_cap ? j : j - s->ring_cap];
}

static struct sniff_txn *txn_at(struct http_sniff *s, uint32_t id)
{
    uint32_t i = id - s->first_id;

    if (i >= s->next_id - s->first_id)
        return NULL;
    return slot(s, i);
}

/* Doubles the ring (up to SNIFF_RING), oldest first from slot 0: 0, or -1 without memory. */
static int ring_grow(struct http_sniff *s)
{
    uint32_t cap = s->ring_cap * 2 < SNIFF_RING ? s->ring_cap * 2 : SNIFF_RING, i;
    struct sniff_txn *r = malloc(cap * sizeof(*r));

    if (r == NULL)
        return -1;
    for (i = 0; i < s->next_id - s->first_id; i++)
        r[i] = *slot(s, i);
    if (s->ring != s->ring0)
        free(s->ring);
    s->ring = r;
    s->ring_cap = cap;
    s->first_slot = 0;
    return 0;
}

/* Grows the arena to hold need live bytes (<= SNIFF_ARENA): 0, or -1 without memory. */
static int arena_grow(struct http_sniff *s, size_t need)
{
    uint32_t cap = s->arena_cap, p;
    char *a;

    while (cap < need)
        cap *= 2;
    a = malloc(cap);
    if (a == NULL)
        return -1;
    /* Positions are kept mod 65536: each live byte moves to its place mod cap. */
    for (p = s->arena_head; p != s->arena_write; p++)
        a[p & (cap - 1)] = s->arena[p & (s->arena_cap - 1)];
    if (s->arena != s->arena0)
        free(s->arena);
    s->arena = a;
    s->arena_cap = cap;
    return 0;
}

static void ring_evict(struct http_sniff *s)
{
    s->first_id++;
    s->first_slot = s->first_slot + 1 < s->ring_cap ? s->first_slot + 1 : 0;
    s->dropped++;
    if (s->first_id == s->next_id) {
        s->arena_head = s->arena_write;
    } else {
        /* The oldest kept transaction's first string starts the live arena. */
        uint16_t pos = s->ring[s->first_slot].pos[F_METHOD];
        s->arena_head = s->arena_write - (uint16_t)((uint16_t)s->arena_write - pos);
    }
}

/*
 * Makes room for n more bytes: the arena grows up to SNIFF_ARENA (without
 * memory for that, it is full at its current size), then the oldest
 * transactions go; if even an empty ring leaves too little, the arena
 * starts over.
 */
static __attribute__((noinline)) void arena_room(struct http_sniff *s, size_t n)
{
    size_t need = s->arena_write - s->arena_head + n;

    if (s->arena_cap < SNIFF_ARENA && arena_grow(s, need < SNIFF_ARENA ? need : SNIFF_ARENA) < 0) {
        while (s->arena_write - s->arena_head + n > s->arena_cap && s->first_id != s->next_id)
            ring_evict(s);
    }
    while (s->arena_write - s->arena_head + n > SNIFF_ARENA && s->first_id != s->next_id)
        ring_evict(s);
    if (s->arena_write - s->arena_head + n > s->arena_cap)
        s->arena_head = s->arena_write;
}

/* Copies n (<= 255) bytes into the arena, dropping old transactions to make room. */
static uint16_t arena_put(struct http_sniff *s, const char *p, size_t n)
{
    uint16_t pos;
    size_t at, first;

    if (s->arena_write - s->arena_head + n > s->arena_cap)
        arena_room(s, n);
    pos = (uint16_t)s->arena_write;
    at = s->arena_write & (s->arena_cap - 1);
    first = s->arena_cap - at;
    if (n <= first) {
        libc_memcpy(s->arena + at, p, n);
    } else { /* wraps around the end of the arena */
        memcpy(s->arena + at, p, first);
        memcpy(s->arena, p + first, n - first);
    }
    s->arena_write += (uint32_t)n;
    return pos;
}

/* Stores a string of at most cap-1 bytes as field f of transaction id, if still kept. */
static void txn_set(struct http_sniff *s, uint32_t id, enum sniff_field f, const char *p, size_t n,
                    size_t cap)
{
    struct sniff_txn *t;
    uint16_t pos;

    if (n > cap - 1)
        n = cap - 1;
    if (txn_at(s, id) == NULL)
        return;
    pos = arena_put(s, p, n);
    t = txn_at(s, id);
    if (t != NULL) {
        t->pos[f] = pos;
        t->len[f] = (uint8_t)n;
    }
}

/* Starts a new transaction (request, or a response without a known request). */
static uint32_t txn_new(struct http_sniff *s, uint64_t ts)
{
    struct sniff_txn *t;
    uint32_t id;
    int f;

    /* Framing of outstanding requests is tracked in 64-bit sets: beyond that,
     * stop matching them but remember how many responses are still owed. */
    if (s->next_id - s->resp_id >= SNIFF_PENDING) {
        for (id = s->resp_id; id != s->next_id; id++) {
            if (s->pend_done & bit(id))
                continue;
            s->lost_match++;
            t = txn_at(s, id);
            if (t != NULL)
                t->flags |= TXN_UNKNOWN;
        }
        s->resp_id = s->next_id;
    }
    if (s->next_id - s->first_id == s->ring_cap && (s->ring_cap == SNIFF_RING || ring_grow(s) < 0))
        ring_evict(s); /* full (or no memory to grow): the oldest goes */
    id = s->next_id++;
    s->pend_head &= ~bit(id);
    s->pend_connect &= ~bit(id);
    s->pend_done &= ~bit(id);
    t = txn_at(s, id);
    memset(t, 0, sizeof(*t));
    for (f = 0; f < F_COUNT; f++)
        t->pos[f] = (uint16_t)s->arena_write;
    t->content_length = -1;
    t->req_ts = ts;
    if (s->first_id + 1 == s->next_id)
        s->arena_head = s->arena_write;
    return id;
}

static void str_out(const struct http_sniff *s, const struct sniff_txn *t, enum sniff_field f,
                    char *out)
{
    size_t at = t->pos[f] & (s->arena_cap - 1), n = t->len[f], first = s->arena_cap - at;

    if (n <= first) {
        libc_memcpy(out, s->arena + at, n);
    } else { /* wraps around the end of the arena */
        memcpy(out, s->arena + at, first);
        memcpy(out + first, s->arena, n - first);
    }
    out[n] = '\0';
}

/* Every field is written (strings NUL-terminated; bytes past the NUL are not
 * part of the value), so no 650-byte memset per expansion. */
static void txn_expand(const struct http_sniff *s, const struct sniff_txn *t, struct http_txn *out)
{
    str_out(s, t, F_METHOD, out->method);
    str_out(s, t, F_URI, out->uri);
    str_out(s, t, F_RANGE, out->range);
    str_out(s, t, F_REASON, out->reason);
    str_out(s, t, F_CRANGE, out->content_range);
    str_out(s, t, F_CTYPE, out->content_type);
    memset(out->version, 0, sizeof(out->version));
    if (t->ver[0] != 0)
        memcpy(out->version, (char[]){ 'H', 'T', 'T', 'P', '/', t->ver[0], '.', t->ver[1] }, 8);
    out->status = t->status;
    out->content_length = t->content_length;
    out->req_ts_ns = t->req_ts;
    out->resp_ts_ns = t->resp_ts;
    out->uri_truncated = (t->flags & TXN_URI_TRUNC) != 0;
    out->unknown_response = (t->flags & TXN_UNKNOWN) != 0;
}

static void fire(struct http_sniff *s, uint32_t id, int response, const struct http_sniff_cb *cb)
{
    struct http_txn view;
    struct sniff_txn *t = txn_at(s, id);
    void (*fn)(void *, const struct http_txn *);

    if (cb == NULL || t == NULL)
        return;
    fn = response ? cb->on_response : cb->on_request;
    if (fn == NULL)
        return;
    if (cb->no_txn) {
        fn(cb->ctx, NULL);
        return;
    }
    txn_expand(s, t, &view);
    fn(cb->ctx, &view);
}

size_t http_sniff_count(const struct http_sniff *s)
{
    return s ? s->next_id - s->first_id : 0;
}

const struct http_txn *http_sniff_get(const struct http_sniff *s, size_t i)
{
    struct http_sniff *w = (struct http_sniff *)s; /* the view is a cache, not state */

    if (s == NULL || i >= http_sniff_count(s))
        return NULL;
    if (w->view == NULL && (w->view = malloc(sizeof(*w->view))) == NULL)
        return NULL;
    txn_expand(s, slot(s, (uint32_t)i), w->view);
    return w->view;
}

int http_sniff_get_copy(const struct http_sniff *s, size_t i, struct http_txn *out)
{
    if (s == NULL || out == NULL || i >= http_sniff_count(s))
        return -1;
    txn_expand(s, slot(s, (uint32_t)i), out);
    return 0;
}

uint64_t http_sniff_dropped(const struct http_sniff *s)
{
    return s ? s->dropped : 0;
}

int http_sniff_had_gap(const struct http_sniff *s, enum http_dir dir)
{
    if (s == NULL || (dir != HTTP_C2S && dir != HTTP_S2C))
        return 0;
    return s->dir[dir].had_gap;
}

/* ---- small parsing helpers ---- */

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int name_is(const char *p, size_t n, const char *name)
{
    size_t i;

    if (strlen(name) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower((unsigned char)p[i]) != name[i])
            return 0;
    return 1;
}

/*
 * name_is() for names of at least 8 bytes, n already equal to the name's
 * length, 8 bytes at a time. name holds lowercase letters and '-' only:
 * where it has a letter, p may differ by the case bit (0x20) alone, which
 * makes the same letter in the other case and nothing else; where it has a
 * '-', p must match exactly.
 */
static int name_is_long(const char *p, size_t n, const char *name)
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

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* Content-Length: digits, or a list of identical values ("5, 5"). -1 if invalid. */
static int64_t parse_length(const char *p, size_t n)
{
    int64_t first = -1, v;
    size_t i = 0;

    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n || !is_digit((unsigned char)p[i]))
            return -1;
        v = 0;
        while (i < n && is_digit((unsigned char)p[i])) {
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

/* Whether the last coding of a Transfer-Encoding value is "chunked". */
static int last_coding_chunked(const char *p, size_t n)
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
    trim(&p, &n);
    return name_is(p, n, "chunked");
}

/* ---- start lines ---- */

/*
 * Checks one byte of a start line against the grammar, so that a binary
 * stream is rejected at its first bytes instead of at a line end that may
 * never come. Returns 0 when the byte cannot belong to a start line.
 */
static int sl_byte(struct sniff_dir *d, int request, unsigned char c)
{
    static const char http[] = "HTTP/";

    if (c == '\n')
        return 0; /* line ends are handled by the caller */
    if (d->phase == PH_END)
        return 0;
    if (c == '\r') {
        if (request ? (d->phase == PH_VERSION && d->sl_n == 8)
                    : (d->phase == PH_REASON || (d->phase == PH_STATUS && d->sl_n == 3))) {
            d->phase = PH_END;
            return 1;
        }
        return 0;
    }
    switch (d->phase) {
    case PH_METHOD:
        if (c == ' ' && d->sl_n >= 3) {
            d->phase = PH_TARGET;
            d->sl_n = 0;
            return 1;
        }
        if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_') || d->sl_n >= HTTP_METHOD_MAX - 1)
            return 0;
        break;
    case PH_TARGET:
        if (c == ' ' && d->sl_n > 0) {
            d->phase = PH_VERSION;
            d->sl_n = 0;
            return 1;
        }
        if (c <= 0x20 || c == 0x7f)
            return 0;
        if (d->sl_n == 0 && c != '/' && c != '*' && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return 0;
        if (d->sl_n < UINT16_MAX)
            d->sl_n++;
        return 1;
    case PH_VERSION:
        if (d->sl_n < 5) {
            if (c != (unsigned char)http[d->sl_n])
                return 0;
        } else if (d->sl_n == 5 || d->sl_n == 7) {
            if (!is_digit(c))
                return 0;
            d->ver[d->sl_n == 7] = (char)c;
        } else if (d->sl_n == 6) {
            if (c != '.')
                return 0;
        } else if (!request && d->sl_n == 8 && c == ' ') {
            d->phase = PH_STATUS;
            d->sl_n = 0;
            return 1;
        } else {
            return 0;
        }
        break;
    case PH_STATUS:
        if (d->sl_n == 3 && c == ' ') {
            d->phase = PH_REASON;
            d->sl_n = 0;
            return 1;
        }
        if (d->sl_n >= 3 || !is_digit(c) || (d->sl_n == 0 && (c < '1' || c > '5')))
            return 0; /* RFC 9110 §15: codes outside 100-599 are invalid */
        break;
    case PH_REASON:
        if (c < 0x20 && c != '\t')
            return 0;
        if (c == 0x7f)
            return 0;
        return 1;
    }
    d->sl_n++;
    return 1;
}

/*
 * The bytes at p that sl_byte() would accept without changing phase: the
 * rest of a request-target or of a reason phrase. Returns how many (0 in
 * the other phases); the caller appends them to the line in one go instead
 * of byte by byte (URIs are most of a start line).
 */
static size_t sl_run(struct sniff_dir *d, const uint8_t *p, size_t len)
{
    size_t i = 0;

    if (d->phase == PH_TARGET && d->sl_n > 0) {
        while (i < len && p[i] > 0x20 && p[i] != 0x7f)
            i++;
        d->sl_n = (uint16_t)(d->sl_n + i > UINT16_MAX ? UINT16_MAX : d->sl_n + i);
    } else if (d->phase == PH_REASON) {
        while (i < len && ((p[i] >= 0x20 && p[i] != 0x7f) || p[i] == '\t'))
            i++;
    }
    return i;
}

/*
 * A whole, valid start line at p (common case: it fits one segment and in
 * d->line): returns its length with the LF, having set d's phase and version
 * as sl_byte() would have, or 0 (nothing changed) to go byte by byte, which
 * also finds what is wrong with a line.
 */
static size_t sl_whole(struct sniff_dir *d, int request, const uint8_t *p, size_t len)
{
    const uint8_t *lf = memchr(p, '\n', len < SNIFF_LINE ? len : SNIFF_LINE), *ver;
    size_t n, i = 0;

    if (lf == NULL)
        return 0;
    n = (size_t)(lf - p); /* the line without LF, CR included: at most SNIFF_LINE - 1 */
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (request) {
        while (i < n && ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_'))
            i++;
        if (i < 3 || i > HTTP_METHOD_MAX - 1 || i == n || p[i] != ' ')
            return 0;
        i++;
        if (i == n ||
            !(p[i] == '/' || p[i] == '*' || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z')))
            return 0;
        while (i < n && p[i] > 0x20 && p[i] != 0x7f)
            i++;
        if (i == n || p[i] != ' ')
            return 0;
        i++;
    }
    if (n - i < 8 || memcmp(p + i, "HTTP/", 5) != 0 || !is_digit(p[i + 5]) || p[i + 6] != '.' ||
        !is_digit(p[i + 7]))
        return 0;
    ver = p + i + 5;
    i += 8;
    if (request) {
        if (i != n)
            return 0;
    } else {
        if (n - i < 4 || p[i] != ' ' || p[i + 1] < '1' || p[i + 1] > '5' || !is_digit(p[i + 2]) ||
            !is_digit(p[i + 3]))
            return 0;
        i += 4;
        if (i < n) {
            if (p[i] != ' ')
                return 0;
            for (i++; i < n; i++)
                if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
                    return 0;
        }
    }
    d->phase = PH_END;
    d->ver[0] = (char)ver[0];
    d->ver[1] = (char)ver[2];
    return (size_t)(lf - p) + 1;
}

/* Whether a complete start line ended where the grammar allows it to. */
static int sl_complete(const struct sniff_dir *d, int request)
{
    if (d->phase == PH_END)
        return 1;
    if (request)
        return d->phase == PH_VERSION && d->sl_n == 8;
    return d->phase == PH_REASON || (d->phase == PH_STATUS && d->sl_n == 3);
}

static void sl_reset(struct sniff_dir *d, int request)
{
    d->phase = request ? PH_METHOD : PH_VERSION;
    d->sl_n = 0;
    d->in_line = 0;
    d->line_len = 0;
    d->line_over = 0;
    d->ver[0] = d->ver[1] = 0;
}

/* Starts parsing a message head in d: framing fields reset. */
static void head_reset(struct sniff_dir *d)
{
    d->cl = -1;
    d->chunked = d->te_other = d->cl_bad = 0;
    d->no_body = d->interim = d->tunnel = 0;
    d->txn_live = 0;
}

/* The kept prefix of a line split across segments ("" before the buffer exists). */
static const char *line_of(const struct sniff_dir *d)
{
    return d->line ? d->line : "";
}

/*
 * Appends n bytes to the kept line prefix, or marks the line cut where the
 * buffer (allocated by the first split line; without memory, none) ends.
 */
static void line_add(struct sniff_dir *d, const uint8_t *p, size_t n)
{
    size_t room;

    if (d->line == NULL && (d->line = malloc(SNIFF_LINE)) == NULL) {
        if (n > 0)
            d->line_over = 1;
        return;
    }
    room = SNIFF_LINE - d->line_len;
    memcpy(d->line + d->line_len, p, n < room ? n : room);
    d->line_len += (uint16_t)(n < room ? n : room);
    if (n > room)
        d->line_over = 1;
}

/* Records a request from its start line (complete or cut short). */
static void request_line(struct http_sniff *s, struct sniff_dir *d, const char *p, size_t n,
                         int complete)
{
    const char *t, *sp;
    size_t mlen, tlen, rest;
    struct sniff_txn *txn;
    uint32_t id;
    int trunc = 0;

    sp = memchr(p, ' ', n);
    if (sp == NULL)
        return;
    mlen = (size_t)(sp - p);
    t = sp + 1;
    rest = n - mlen - 1;
    sp = memchr(t, ' ', rest);
    if (sp != NULL) {
        tlen = (size_t)(sp - t);
    } else {
        tlen = rest; /* the line was cut (too long, or a gap) before the version */
        trunc = 1;
    }
    if (tlen > HTTP_URI_MAX - 1 || (d->line_over && sp == NULL))
        trunc = 1;
    id = txn_new(s, d->ts);
    txn_set(s, id, F_METHOD, p, mlen, HTTP_METHOD_MAX);
    txn_set(s, id, F_URI, t, tlen, HTTP_URI_MAX);
    txn = txn_at(s, id);
    if (txn != NULL) {
        if (trunc)
            txn->flags |= TXN_URI_TRUNC;
        if (complete && d->phase >= PH_VERSION) {
            txn->ver[0] = d->ver[0];
            txn->ver[1] = d->ver[1];
        }
    }
    if (name_is(p, mlen, "head"))
        s->pend_head |= bit(id);
    if (name_is(p, mlen, "connect"))
        s->pend_connect |= bit(id);
    d->txn_id = id;
    d->txn_live = 1;
}

/*
 * Chooses the request a final response answers: FIFO, with two exceptions.
 * A response seen before a request cannot answer it. After responses were
 * lost (a gap, or bytes skipped while desynchronised), the requests seen
 * before the last lost bytes may or may not have been answered in them: the
 * response is matched only when a single request can be its cause; otherwise
 * those requests are marked unknown and the response is kept without request.
 */
static void response_match(struct http_sniff *s, struct sniff_dir *d, uint16_t status)
{
    struct sniff_txn *t;
    uint32_t id, n = 0, tainted = 0;
    int orphan = 0;

    while (s->resp_id != s->next_id && (s->pend_done & bit(s->resp_id)))
        s->resp_id++;
    for (id = s->resp_id; id != s->next_id; id++)
        if (!(s->pend_done & bit(id))) {
            t = txn_at(s, id);
            if (t != NULL && t->req_ts > d->ts)
                break; /* sent after this response began: not a candidate */
            n++;
            if (t == NULL || t->req_ts <= d->lost_ts)
                tainted++;
        }
    if (s->lost_match > 0) {
        s->lost_match--;
        d->txn_live = 0;
        d->resync = 0;
        return;
    }
    if (n == 0) {
        orphan = 1;
    } else if (d->resync && tainted > 0 && n > 1) {
        for (id = s->resp_id; id != s->next_id && n > 0; id++) {
            if (s->pend_done & bit(id))
                continue;
            n--;
            s->pend_done |= bit(id);
            t = txn_at(s, id);
            if (t != NULL)
                t->flags |= TXN_UNKNOWN;
        }
        orphan = 1;
    }
    d->resync = 0;
    if (orphan) {
        id = txn_new(s, d->ts);
        s->pend_done |= bit(id);
    } else {
        id = s->resp_id;
        s->pend_done |= bit(id);
        if (s->pend_head & bit(id))
            d->no_body = 1;
        if ((s->pend_connect & bit(id)) && status >= 200 && status < 300)
            d->tunnel = 1;
    }
    while (s->resp_id != s->next_id && (s->pend_done & bit(s->resp_id)))
        s->resp_id++;
    t = txn_at(s, id);
    if (t != NULL) {
        t->status = status;
        t->resp_ts = d->ts;
        t->flags = (uint8_t)((t->flags & ~TXN_UNKNOWN) | TXN_RESPONDED);
    }
    d->txn_id = id;
    d->txn_live = 1;
}

static void status_line(struct http_sniff *s, struct sniff_dir *d, const char *line, size_t len)
{
    const char *p = line + 9, *r;
    uint16_t status;
    size_t n;

    status = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
    if (status >= 100 && status < 200 && status != 101) {
        d->interim = 1; /* 100 Continue, 103 Early Hints: the final one follows */
        d->no_body = 1;
        return;
    }
    response_match(s, d, status);
    if (status == 101)
        d->tunnel = 1;
    if (status < 200 || status == 204 || status == 304)
        d->no_body = 1;
    r = p + 3;
    n = len > 12 ? len - 12 : 0;
    trim(&r, &n);
    if (d->txn_live)
        txn_set(s, d->txn_id, F_REASON, r, n, sizeof(((struct http_txn *)0)->reason));
}

/* ---- header lines ---- */

/* Whether the line at p (n bytes) is header `name` (len >= 8 bytes), up to its colon. */
static int header_is(const char *p, size_t n, const char *name, size_t len)
{
    return n > len && p[len] == ':' && name_is_long(p, len, name);
}

/*
 * One header line (without CR LF; d->line_over if it was cut). Only five
 * names matter: the first letter and the colon right after a candidate name
 * rule out almost every other line without looking for its colon (a name
 * made of letters and '-' cannot hide an earlier one).
 */
static void header_line(struct http_sniff *s, struct sniff_dir *d, int request, const char *p,
                        size_t n)
{
    const char *v;
    size_t vn;
    struct sniff_txn *t;
    int64_t len;
    enum sniff_field f;

    if (n == 0)
        return;
    switch (p[0] | 0x20) { /* 'c' from 'C' or 'c' only; folded lines start with a blank */
    case 'c':
        if (header_is(p, n, "content-length", 14)) {
            v = p + 15;
            vn = n - 15;
            trim(&v, &vn);
            len = d->line_over ? -1 : parse_length(v, vn);
            if (len < 0 || (d->cl >= 0 && len != d->cl))
                d->cl_bad = 1;
            else
                d->cl = len;
            /* A response's Content-Length is recorded with it (the value
             * changes only here; the transaction starts with -1). */
            if (!request && d->txn_live) {
                t = txn_at(s, d->txn_id);
                if (t != NULL)
                    t->content_length = d->cl_bad ? -1 : d->cl;
            }
            return;
        }
        if (request || !d->txn_live)
            return;
        if (header_is(p, n, "content-type", 12)) {
            f = F_CTYPE;
            v = p + 13;
        } else if (header_is(p, n, "content-range", 13)) {
            f = F_CRANGE;
            v = p + 14;
        } else {
            return;
        }
        break;
    case 't':
        if (!header_is(p, n, "transfer-encoding", 17))
            return;
        if (d->line_over) {
            d->chunked = 0;
            d->te_other = 1;
        } else {
            v = p + 18;
            vn = n - 18;
            trim(&v, &vn);
            d->chunked = (uint8_t)last_coding_chunked(v, vn);
            d->te_other = !d->chunked;
        }
        return;
    case 'r':
        if (!request || !d->txn_live || n <= 5 || p[5] != ':' || !name_is(p, 5, "range"))
            return;
        f = F_RANGE;
        v = p + 6;
        break;
    default:
        return;
    }
    vn = n - (size_t)(v - p);
    trim(&v, &vn);
    txn_set(s, d->txn_id, f, v, vn, HTTP_VALUE_MAX);
}

/* ---- state changes ---- */

static void message_start(struct sniff_dir *d, int request)
{
    d->state = ST_START;
    sl_reset(d, request);
}

static void desync(struct http_sniff *s, enum http_dir dir, int lost,
                   const struct http_sniff_cb *cb);

/* The empty line after a head: announce it and choose how the body is framed. */
static void head_done(struct http_sniff *s, enum http_dir dir, const struct http_sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    int request = dir == HTTP_C2S;

    if (request && d->txn_live)
        fire(s, d->txn_id, 0, cb);
    if (!request && d->interim) {
        message_start(d, 0);
        return;
    }
    if (!request && d->txn_live)
        fire(s, d->txn_id, 1, cb);
    if (!request) {
        if (d->tunnel) {
            s->dir[HTTP_C2S].state = ST_OPAQUE;
            d->state = ST_OPAQUE;
            return;
        }
        if (d->txn_live && (s->pend_connect & bit(d->txn_id)) &&
            s->dir[HTTP_C2S].state == ST_OPAQUE && s->dir[HTTP_C2S].tunnel) {
            /* CONNECT refused: the client may speak HTTP again. */
            message_start(&s->dir[HTTP_C2S], 1);
            s->dir[HTTP_C2S].tunnel = 0;
        }
        if (d->no_body) {
            message_start(d, 0);
            return;
        }
    }
    if (d->chunked) {
        d->state = ST_CHUNK_SIZE;
    } else if (d->te_other) {
        if (request) {
            desync(s, dir, 0, cb); /* a request body we cannot delimit */
            return;
        }
        d->state = ST_BODY_CLOSE;
    } else if (d->cl_bad) {
        desync(s, dir, 0, cb);
        return;
    } else if (d->cl > 0) {
        d->state = ST_BODY_LEN;
        d->remaining = (uint64_t)d->cl;
    } else if (d->cl == 0 || request) {
        message_start(d, request);
        if (request && d->txn_live && (s->pend_connect & bit(d->txn_id))) {
            d->state = ST_OPAQUE; /* until the response says whether a tunnel opened */
            d->tunnel = 1;
        }
        return;
    } else {
        d->state = ST_BODY_CLOSE;
    }
    d->line_len = 0;
    d->line_over = 0;
}

/*
 * Loses sync in one direction: what was parsed of the current head is kept
 * (and announced), the rest is unknown until a message start at a segment
 * boundary.
 */
static void desync(struct http_sniff *s, enum http_dir dir, int lost,
                   const struct http_sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    struct sniff_txn *t;
    uint32_t id;

    if (lost && dir == HTTP_C2S && d->state == ST_START && d->in_line && d->phase >= PH_TARGET) {
        request_line(s, d, line_of(d), d->line_len, 0); /* method and some target were seen */
        fire(s, d->txn_id, 0, cb);
    } else if (d->state == ST_HEADERS && d->txn_live && !d->interim) {
        fire(s, d->txn_id, dir == HTTP_S2C, cb);
    }
    if (dir == HTTP_S2C) {
        /* Requests waiting now may have had their response in the lost bytes. */
        for (id = s->resp_id; id != s->next_id; id++) {
            t = txn_at(s, id);
            if (t != NULL && !(s->pend_done & bit(id)))
                t->flags |= TXN_UNKNOWN;
        }
    }
    d->state = ST_UNKNOWN;
    d->lost_ts = d->seg_ts;
    d->had_gap = 1;
    d->resync = 1;
    d->txn_live = 0;
    d->line_len = 0;
    d->line_over = 0;
}

/*
 * A complete line (without CR LF) in a line-oriented state: n bytes at line,
 * either d->line or in place in the segment; d->line_over if it was cut.
 */
static void line_done(struct http_sniff *s, enum http_dir dir, const char *line, size_t n,
                      const struct http_sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    int request = dir == HTTP_C2S;
    uint64_t v;
    size_t i;
    int c;

    switch (d->state) {
    case ST_START:
        if (!sl_complete(d, request)) {
            desync(s, dir, 0, cb);
            return;
        }
        head_reset(d);
        if (request) {
            request_line(s, d, line, n, 1);
            d->resync = 0;
        } else {
            status_line(s, d, line, n);
        }
        d->state = ST_HEADERS;
        break;
    case ST_HEADERS:
        if (n == 0 && !d->line_over)
            head_done(s, dir, cb);
        else
            header_line(s, d, request, line, n);
        break;
    case ST_CHUNK_SIZE:
        v = 0;
        for (i = 0; i < n; i++) {
            c = lower((unsigned char)line[i]);
            if (is_digit(c))
                c -= '0';
            else if (c >= 'a' && c <= 'f')
                c -= 'a' - 10;
            else
                break;
            if (v >> 59)
                break; /* absurd size: caught below */
            v = v * 16 + (uint64_t)c;
        }
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == 0 || (i < n && line[i] != ';') || (v >> 59)) {
            desync(s, dir, 0, cb);
            return;
        }
        if (v == 0) {
            d->state = ST_TRAILERS;
        } else {
            d->state = ST_CHUNK_DATA;
            d->remaining = v;
        }
        break;
    case ST_CHUNK_CRLF:
        if (n != 0 || d->line_over) {
            desync(s, dir, 0, cb);
            return;
        }
        d->state = ST_CHUNK_SIZE;
        break;
    case ST_TRAILERS:
        if (n == 0 && !d->line_over)
            message_start(d, request);
        break;
    default:
        break;
    }
    d->line_len = 0;
    d->line_over = 0;
}

/* Consumes the bytes of one in-order run. */
static void feed(struct http_sniff *s, enum http_dir dir, const uint8_t *p, size_t len,
                 const struct http_sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    int request = dir == HTTP_C2S, c;
    size_t n;

    while (len > 0) {
        switch (d->state) {
        case ST_UNKNOWN:
        case ST_OPAQUE:
        case ST_BODY_CLOSE:
            return;
        case ST_BODY_LEN:
        case ST_CHUNK_DATA:
            n = len < d->remaining ? len : (size_t)d->remaining;
            p += n;
            len -= n;
            d->remaining -= n;
            if (d->remaining == 0) {
                if (d->state == ST_BODY_LEN)
                    message_start(d, request);
                else
                    d->state = ST_CHUNK_CRLF;
            }
            continue;
        default:
            break;
        }
        if (d->state == ST_HEADERS || d->state == ST_TRAILERS || d->state == ST_CHUNK_SIZE) {
            /* Whole runs up to the line end: only a line's prefix is kept. */
            const uint8_t *lf = memchr(p, '\n', len);
            size_t run = lf ? (size_t)(lf - p) : len;
            int took = 0;

            /*
             * Lines whole in this segment are parsed where they lie, cut and
             * CR-stripped as if copied to d->line. Header lines follow one
             * another here; only those starting with c, t or r can be one
             * of the five that matter (see header_line()).
             */
            while (lf != NULL && d->line_len == 0) {
                n = run;
                if (n > SNIFF_LINE) {
                    n = SNIFF_LINE;
                    d->line_over = 1;
                } else if (n > 0 && p[n - 1] == '\r') {
                    n--;
                }
                if (d->state != ST_HEADERS || (n == 0 && !d->line_over)) {
                    line_done(s, dir, (const char *)p, n, cb);
                    p = lf + 1;
                    len -= run + 1;
                    took = 1; /* the state may have changed: start over */
                    break;
                }
                c = p[0] | 0x20;
                if (c == 'c' || c == 't' || c == 'r')
                    header_line(s, d, request, (const char *)p, n);
                d->line_over = 0;
                p = lf + 1;
                len -= run + 1;
                lf = memchr(p, '\n', len);
                run = lf ? (size_t)(lf - p) : len;
            }
            if (took)
                continue;
            line_add(d, p, run);
            p += run;
            len -= run;
            if (lf == NULL)
                return;
        }
        /* The start line and chunk CRLFs, one byte at a time: they are validated. */
        if (d->state == ST_START) {
            if (!d->in_line && (*p == '\r' || *p == '\n')) {
                p++;
                len--;
                continue; /* empty lines before a start line are tolerated */
            }
            if (!d->in_line) {
                d->in_line = 1;
                d->ts = d->seg_ts;
                n = sl_whole(d, request, p, len);
                if (n > 0) {
                    line_done(s, dir, (const char *)p, n - 1 - (n >= 2 && p[n - 2] == '\r'), cb);
                    p += n;
                    len -= n;
                    continue;
                }
            }
            n = sl_run(d, p, len);
            if (n > 0) {
                line_add(d, p, n);
                p += n;
                len -= n;
                continue;
            }
            if (*p != '\n' && !sl_byte(d, request, *p)) {
                desync(s, dir, 0, cb);
                return;
            }
        }
        if (*p == '\n') {
            if (d->line_len > 0 && d->line[d->line_len - 1] == '\r' && !d->line_over)
                d->line_len--;
            line_done(s, dir, line_of(d), d->line_len, cb);
        } else if (d->state == ST_CHUNK_CRLF && *p != '\r') {
            desync(s, dir, 0, cb);
            return;
        } else {
            line_add(d, p, 1);
        }
        p++;
        len--;
    }
}

/* A hole of n bytes before the data: skipped exactly when inside a known-length body. */
static void skip_gap(struct http_sniff *s, enum http_dir dir, uint32_t n,
                     const struct http_sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];

    switch (d->state) {
    case ST_UNKNOWN:
    case ST_OPAQUE:
    case ST_BODY_CLOSE:
        return;
    case ST_BODY_LEN:
    case ST_CHUNK_DATA:
        if (n <= d->remaining) {
            d->remaining -= n;
            if (d->remaining == 0) {
                if (d->state == ST_BODY_LEN)
                    message_start(d, dir == HTTP_C2S);
                else
                    d->state = ST_CHUNK_CRLF;
            }
            return;
        }
        break;
    default:
        break;
    }
    desync(s, dir, 1, cb);
}

void http_sniff_segment(struct http_sniff *s, enum http_dir dir, uint32_t seq, const uint8_t *data,
                        size_t len, uint64_t ts_ns, const struct http_sniff_cb *cb)
{
    struct sniff_dir *d;
    uint32_t ahead, back;

    if (s == NULL || (dir != HTTP_C2S && dir != HTTP_S2C) || data == NULL || len == 0)
        return;
    d = &s->dir[dir];
    if (len > UINT32_MAX / 2)
        len = UINT32_MAX / 2; /* no TCP segment is this long; keeps seq arithmetic exact */
    if (!d->seq_known) {
        d->seq_known = 1;
        d->next_seq = seq;
        sl_reset(d, dir == HTTP_C2S);
    } else {
        ahead = seq - d->next_seq;
        back = d->next_seq - seq;
        if (ahead != 0 && back <= SNIFF_MAX_BACK) {
            /* Retransmitted or overlapping bytes were already consumed. */
            if (back >= len)
                return;
            data += back;
            len -= back;
            seq += back;
        } else if (ahead != 0) {
            skip_gap(s, dir, ahead, cb);
        }
    }
    d->next_seq = seq + (uint32_t)len;
    if (d->state == ST_UNKNOWN) {
        /* Only a segment boundary can start a message we can trust again. */
        d->state = ST_START;
        sl_reset(d, dir == HTTP_C2S);
    }
    d->seg_ts = ts_ns;
    feed(s, dir, data, len, cb);
}
