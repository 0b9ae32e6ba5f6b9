/*
 * The sniffer's two byte streams: sequence tracking per direction, message
 * framing (start line, headers, bodies by length, by chunks or up to the
 * close, tunnels), and resynchronisation after lost bytes.
 *
 * Allocation: sniff_new() allocates the sniffer (its store starts inside
 * it, see sniff_store.h); a direction allocates its SNIFF_KEPT_LINE line
 * buffer when a line first goes on past the end of a segment. Lines whole
 * in a segment, nearly all of them, are parsed where they lie. A sniffer
 * made in a pool (sniff_pool_new) takes both from the pool's objpools.
 */
#include "monitor/sniff.h"
#include "monitor/objpool.h"
#include "monitor/sniff_line.h"
#include "monitor/sniff_store.h"

#include <stdlib.h>
#include <string.h>

#define SNIFF_KEPT_LINE 288        /* longest line prefix kept: fits a full request line */
#define SNIFF_MAX_BACK  (1u << 30) /* a seq at most this far behind is a retransmission */

/* What a direction expects next. */
enum sniff_state {
    SNIFF_IN_START,      /* a start line (empty lines skipped) */
    SNIFF_IN_HEADERS,    /* header lines until an empty line */
    SNIFF_IN_BODY_LEN,   /* Content-Length body: `remaining` bytes */
    SNIFF_IN_CHUNK_SIZE, /* chunk-size [; ext] line */
    SNIFF_IN_CHUNK_DATA, /* chunk data: `remaining` bytes */
    SNIFF_IN_CHUNK_CRLF, /* the CRLF after chunk data */
    SNIFF_IN_TRAILERS,   /* trailer lines after the last chunk */
    SNIFF_IN_BODY_CLOSE, /* body delimited by the end of the connection */
    SNIFF_IN_OPAQUE,     /* tunnel or switched protocol: no more HTTP */
    SNIFF_IN_UNKNOWN,    /* desynchronised: wait for a message start at a segment boundary */
};

struct sniff_dir {
    uint64_t remaining; /* body or chunk bytes still to skip */
    int64_t cl;         /* Content-Length of the message being parsed, -1 if none */
    uint64_t ts;        /* time of the segment that held the start line */
    uint64_t seg_ts;    /* time of the segment being fed */
    uint64_t lost_ts;   /* time of the last segment whose bytes were lost or skipped */
    uint32_t next_seq;
    uint32_t txn_id;      /* transaction this message belongs to (if txn_live) */
    uint16_t line_len;    /* bytes kept in line[] */
    struct sniff_line sl; /* the start line's grammar state */
    uint8_t state;        /* enum sniff_state */
    uint8_t seq_known, had_gap, line_over, resync;
    uint8_t txn_live; /* txn_id names a recorded transaction */
    uint8_t in_line;  /* a start line has begun (first byte seen) */
    uint8_t chunked, te_other, cl_bad, no_body, interim, tunnel;
    char *line; /* SNIFF_KEPT_LINE bytes for lines split across segments, NULL until one is */
};

struct sniff {
    struct sniff_dir dir[2]; /* indexed by enum flow_dir_id */
    struct sniff_pool *pool; /* where this sniffer and its lines come from; NULL: the heap */
    struct sniff_store store;
};

/* Sniffers and their line buffers, for one engine. */
struct sniff_pool {
    struct objpool sniffs, lines;
};

struct sniff_pool *sniff_pool_new(void)
{
    struct sniff_pool *pool = malloc(sizeof(*pool));

    if (pool == NULL)
        return NULL;
    objpool_init(&pool->sniffs, sizeof(struct sniff));
    objpool_init(&pool->lines, SNIFF_KEPT_LINE);
    return pool;
}

void sniff_pool_free(struct sniff_pool *pool)
{
    if (pool == NULL)
        return;
    objpool_free(&pool->sniffs);
    objpool_free(&pool->lines);
    free(pool);
}

struct sniff *sniff_new(void)
{
    return sniff_new_in(NULL);
}

struct sniff *sniff_new_in(struct sniff_pool *pool)
{
    struct sniff *s = pool ? objpool_get(&pool->sniffs) : malloc(sizeof(*s));
    int i;

    if (s == NULL)
        return NULL;
    s->pool = pool;
    memset(s->dir, 0, sizeof(s->dir));
    for (i = 0; i < 2; i++) {
        s->dir[i].state = SNIFF_IN_START;
        s->dir[i].cl = -1;
    }
    sniff_store_init(&s->store);
    return s;
}

void sniff_free(struct sniff *s)
{
    if (s == NULL)
        return;
    sniff_store_free(&s->store);
    if (s->pool != NULL) {
        objpool_put(&s->pool->lines, s->dir[0].line);
        objpool_put(&s->pool->lines, s->dir[1].line);
        objpool_put(&s->pool->sniffs, s);
        return;
    }
    free(s->dir[0].line);
    free(s->dir[1].line);
    free(s);
}

size_t sniff_size(void)
{
    return sizeof(struct sniff) + sniff_store_heap_max() + 2 * SNIFF_KEPT_LINE;
}

size_t sniff_count(const struct sniff *s)
{
    return s ? sniff_store_count(&s->store) : 0;
}

const struct sniff_txn *sniff_get(const struct sniff *s, size_t i)
{
    return s ? sniff_store_get(&s->store, i) : NULL;
}

int sniff_get_copy(const struct sniff *s, size_t i, struct sniff_txn *out)
{
    return s ? sniff_store_get_copy(&s->store, i, out) : -1;
}

uint64_t sniff_dropped(const struct sniff *s)
{
    return s ? s->store.dropped : 0;
}

int sniff_had_gap(const struct sniff *s, enum flow_dir_id dir)
{
    if (s == NULL || (dir != FLOW_C2S && dir != FLOW_S2C))
        return 0;
    return s->dir[dir].had_gap;
}

/* Announces the request (or response) of transaction id, if it is still kept. */
static void sniff_fire(struct sniff *s, uint32_t id, int response, const struct sniff_cb *cb)
{
    void (*fn)(void *, const struct sniff_txn *);
    struct sniff_txn view;

    if (cb == NULL || !sniff_store_has(&s->store, id))
        return;
    fn = response ? cb->on_response : cb->on_request;
    if (fn == NULL)
        return;
    if (cb->no_txn)
        fn(cb->ctx, NULL);
    else if (sniff_store_copy_id(&s->store, id, &view) == 0)
        fn(cb->ctx, &view);
}

/* ---- lines ---- */

/* The kept prefix of a line split across segments ("" before the buffer exists). */
static const char *sniff_kept(const struct sniff_dir *d)
{
    return d->line ? d->line : "";
}

/*
 * Appends n bytes to the kept line prefix, or marks the line cut where the
 * buffer (allocated by the first split line; without memory, none) ends.
 */
static void sniff_keep(struct sniff *s, struct sniff_dir *d, const uint8_t *p, size_t n)
{
    size_t room;

    if (d->line == NULL &&
        (d->line = s->pool ? objpool_get(&s->pool->lines) : malloc(SNIFF_KEPT_LINE)) == NULL) {
        if (n > 0)
            d->line_over = 1;
        return;
    }
    room = SNIFF_KEPT_LINE - d->line_len;
    memcpy(d->line + d->line_len, p, n < room ? n : room);
    d->line_len += (uint16_t)(n < room ? n : room);
    if (n > room)
        d->line_over = 1;
}

/* Records a request from its start line (complete, or cut short by lost bytes). */
static void sniff_request(struct sniff *s, struct sniff_dir *d, const char *p, size_t n,
                          int complete)
{
    enum sniff_store_kind kind = SNIFF_STORE_PLAIN;
    struct sniff_line_request rq;

    if (sniff_line_request(p, n, &rq) < 0)
        return;
    if (sniff_line_name_is(rq.method, rq.method_len, "head"))
        kind = SNIFF_STORE_HEAD;
    else if (sniff_line_name_is(rq.method, rq.method_len, "connect"))
        kind = SNIFF_STORE_CONNECT;
    d->txn_id =
        sniff_store_request(&s->store, d->ts, rq.method, rq.method_len, rq.target, rq.target_len,
                            rq.target_cut || rq.target_len > SNIFF_URI_MAX - 1,
                            complete && d->sl.phase >= SNIFF_LINE_VERSION ? d->sl.ver : NULL, kind);
    d->txn_live = 1;
}

/* Records a status line: interim ones only say that the final one follows. */
static void sniff_status(struct sniff *s, struct sniff_dir *d, const char *line, size_t len)
{
    const char *reason;
    size_t reason_len;
    uint16_t status = sniff_line_status(line, len, &reason, &reason_len);
    enum sniff_store_kind kind;
    uint32_t id;

    if (status >= 100 && status < 200 && status != 101) {
        d->interim = 1; /* 100 Continue, 103 Early Hints: the final one follows */
        d->no_body = 1;
        return;
    }
    switch (sniff_store_response(&s->store, d->ts, d->lost_ts, d->resync, status, &id)) {
    case SNIFF_STORE_OWED:
        d->txn_live = 0;
        break;
    case SNIFF_STORE_MATCHED:
        kind = sniff_store_kind(&s->store, id);
        if (kind == SNIFF_STORE_HEAD)
            d->no_body = 1;
        if (kind == SNIFF_STORE_CONNECT && status >= 200 && status < 300)
            d->tunnel = 1;
        /* fall through */
    case SNIFF_STORE_ORPHAN:
        d->txn_id = id;
        d->txn_live = 1;
        break;
    }
    d->resync = 0;
    if (status == 101)
        d->tunnel = 1;
    if (status < 200 || status == 204 || status == 304)
        d->no_body = 1;
    if (d->txn_live)
        sniff_store_set(&s->store, d->txn_id, SNIFF_STORE_REASON, reason, reason_len,
                        sizeof(((struct sniff_txn *)0)->reason));
}

/* One header line (without CR LF; d->line_over if it was cut): framing and recorded values. */
static void sniff_header(struct sniff *s, struct sniff_dir *d, int request, const char *p, size_t n)
{
    enum sniff_store_field f;
    const char *v;
    size_t vn;
    int64_t len;

    switch (sniff_line_header(p, n, &v, &vn)) {
    case SNIFF_LINE_HDR_CONTENT_LENGTH:
        len = d->line_over ? -1 : sniff_line_length(v, vn);
        if (len < 0 || (d->cl >= 0 && len != d->cl))
            d->cl_bad = 1;
        else
            d->cl = len;
        /* A response's Content-Length is recorded with it (the value
         * changes only here; the transaction starts with -1). */
        if (!request && d->txn_live)
            sniff_store_set_length(&s->store, d->txn_id, d->cl_bad ? -1 : d->cl);
        return;
    case SNIFF_LINE_HDR_TRANSFER_ENCODING:
        d->chunked = (uint8_t)(!d->line_over && sniff_line_chunked(v, vn));
        d->te_other = !d->chunked;
        return;
    case SNIFF_LINE_HDR_CONTENT_TYPE: /* recorded with responses */
        f = SNIFF_STORE_CTYPE;
        break;
    case SNIFF_LINE_HDR_CONTENT_RANGE:
        f = SNIFF_STORE_CRANGE;
        break;
    case SNIFF_LINE_HDR_RANGE: /* recorded with requests */
        if (request && d->txn_live)
            sniff_store_set(&s->store, d->txn_id, SNIFF_STORE_RANGE, v, vn, SNIFF_VALUE_MAX);
        return;
    default:
        return;
    }
    if (!request && d->txn_live)
        sniff_store_set(&s->store, d->txn_id, f, v, vn, SNIFF_VALUE_MAX);
}

/* ---- state changes ---- */

/* Forgets any line begun in d: the next byte may start a request (or status) line. */
static void sniff_forget_line(struct sniff_dir *d, int request)
{
    sniff_line_start(&d->sl, request);
    d->in_line = 0;
    d->line_len = 0;
    d->line_over = 0;
}

static void sniff_message_start(struct sniff_dir *d, int request)
{
    d->state = SNIFF_IN_START;
    sniff_forget_line(d, request);
}

/* Starts parsing a message head in d: framing fields reset. */
static void sniff_head_reset(struct sniff_dir *d)
{
    d->cl = -1;
    d->chunked = d->te_other = d->cl_bad = 0;
    d->no_body = d->interim = d->tunnel = 0;
    d->txn_live = 0;
}

/*
 * Loses sync in one direction: what was parsed of the current head is kept
 * (and announced), the rest is unknown until a message start at a segment
 * boundary. lost: bytes were lost (a gap), not found malformed.
 */
static void sniff_desync(struct sniff *s, enum flow_dir_id dir, int lost, const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];

    if (lost && dir == FLOW_C2S && d->state == SNIFF_IN_START && d->in_line &&
        d->sl.phase >= SNIFF_LINE_TARGET) {
        /* Method and some target were seen. */
        sniff_request(s, d, sniff_kept(d), d->line_len, 0);
        sniff_fire(s, d->txn_id, 0, cb);
    } else if (d->state == SNIFF_IN_HEADERS && d->txn_live && !d->interim) {
        sniff_fire(s, d->txn_id, dir == FLOW_S2C, cb);
    }
    /* Requests waiting now may have had their response in the lost bytes. */
    if (dir == FLOW_S2C)
        sniff_store_lose_responses(&s->store);
    d->state = SNIFF_IN_UNKNOWN;
    d->lost_ts = d->seg_ts;
    d->had_gap = 1;
    d->resync = 1;
    d->txn_live = 0;
    d->line_len = 0;
    d->line_over = 0;
}

/* The empty line after a head: announce it and choose how the body is framed. */
static void sniff_head_done(struct sniff *s, enum flow_dir_id dir, const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir], *c = &s->dir[FLOW_C2S];
    int request = dir == FLOW_C2S;

    if (!request && d->interim) { /* the final response follows */
        sniff_message_start(d, 0);
        return;
    }
    if (d->txn_live)
        sniff_fire(s, d->txn_id, !request, cb);
    if (!request) {
        if (d->tunnel) {
            c->state = SNIFF_IN_OPAQUE;
            d->state = SNIFF_IN_OPAQUE;
            return;
        }
        if (d->txn_live && sniff_store_kind(&s->store, d->txn_id) == SNIFF_STORE_CONNECT &&
            c->state == SNIFF_IN_OPAQUE && c->tunnel) {
            /* CONNECT refused: the client may speak HTTP again. */
            sniff_message_start(c, 1);
            c->tunnel = 0;
        }
        if (d->no_body) {
            sniff_message_start(d, 0);
            return;
        }
    }
    if (d->chunked) {
        d->state = SNIFF_IN_CHUNK_SIZE;
    } else if (d->te_other && !request) {
        d->state = SNIFF_IN_BODY_CLOSE;
    } else if (d->te_other || d->cl_bad) {
        sniff_desync(s, dir, 0, cb); /* a body we cannot delimit */
        return;
    } else if (d->cl > 0) {
        d->state = SNIFF_IN_BODY_LEN;
        d->remaining = (uint64_t)d->cl;
    } else if (d->cl == 0 || request) {
        sniff_message_start(d, request);
        if (request && d->txn_live &&
            sniff_store_kind(&s->store, d->txn_id) == SNIFF_STORE_CONNECT) {
            d->state = SNIFF_IN_OPAQUE; /* until the response says whether a tunnel opened */
            d->tunnel = 1;
        }
        return;
    } else {
        d->state = SNIFF_IN_BODY_CLOSE;
    }
    d->line_len = 0;
    d->line_over = 0;
}

/*
 * A complete line (without CR LF) in a line-oriented state: n bytes at line,
 * either d->line or in place in the segment; d->line_over if it was cut.
 */
static void sniff_on_line(struct sniff *s, enum flow_dir_id dir, const char *line, size_t n,
                          const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    int request = dir == FLOW_C2S;
    int empty = n == 0 && !d->line_over;
    uint64_t size;

    switch (d->state) {
    case SNIFF_IN_START:
        if (!sniff_line_complete(&d->sl, request)) {
            sniff_desync(s, dir, 0, cb);
            return;
        }
        sniff_head_reset(d);
        if (request) {
            sniff_request(s, d, line, n, 1);
            d->resync = 0;
        } else {
            sniff_status(s, d, line, n);
        }
        d->state = SNIFF_IN_HEADERS;
        break;
    case SNIFF_IN_HEADERS:
        if (empty)
            sniff_head_done(s, dir, cb);
        else
            sniff_header(s, d, request, line, n);
        break;
    case SNIFF_IN_CHUNK_SIZE:
        if (sniff_line_chunk_size(line, n, &size) < 0) {
            sniff_desync(s, dir, 0, cb);
            return;
        }
        if (size == 0) {
            d->state = SNIFF_IN_TRAILERS;
        } else {
            d->state = SNIFF_IN_CHUNK_DATA;
            d->remaining = size;
        }
        break;
    case SNIFF_IN_CHUNK_CRLF:
        if (!empty) {
            sniff_desync(s, dir, 0, cb);
            return;
        }
        d->state = SNIFF_IN_CHUNK_SIZE;
        break;
    case SNIFF_IN_TRAILERS:
        if (empty)
            sniff_message_start(d, request);
        break;
    default:
        break;
    }
    d->line_len = 0;
    d->line_over = 0;
}

/* The kept line ends at an LF. */
static void sniff_kept_done(struct sniff *s, enum flow_dir_id dir, const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];

    if (d->line_len > 0 && d->line[d->line_len - 1] == '\r' && !d->line_over)
        d->line_len--;
    sniff_on_line(s, dir, sniff_kept(d), d->line_len, cb);
}

/* ---- framing ---- */

/* n body or chunk bytes (<= remaining) go by. */
static void sniff_skip(struct sniff_dir *d, int request, uint64_t n)
{
    d->remaining -= n;
    if (d->remaining > 0)
        return;
    if (d->state == SNIFF_IN_BODY_LEN)
        sniff_message_start(d, request);
    else
        d->state = SNIFF_IN_CHUNK_CRLF;
}

/*
 * The length of a line whole in this segment (run bytes before its LF),
 * parsed where it lies: cut and CR-stripped as it would have been kept.
 */
static size_t sniff_cut(struct sniff_dir *d, const uint8_t *p, size_t run)
{
    if (run > SNIFF_KEPT_LINE) {
        d->line_over = 1;
        return SNIFF_KEPT_LINE;
    }
    return run > 0 && p[run - 1] == '\r' ? run - 1 : run;
}

/* run bytes of a line split across segments are kept; at its LF (at_lf), it is done. */
static size_t sniff_kept_run(struct sniff *s, enum flow_dir_id dir, const uint8_t *p, size_t run,
                             int at_lf, const struct sniff_cb *cb)
{
    sniff_keep(s, &s->dir[dir], p, run);
    if (!at_lf)
        return run;
    sniff_kept_done(s, dir, cb);
    return run + 1;
}

/* Bytes of a start line, checked by the grammar as they come. */
static size_t sniff_feed_start(struct sniff *s, enum flow_dir_id dir, const uint8_t *p, size_t len,
                               const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    enum sniff_line_verdict v;
    int whole = 0;
    size_t n;

    if (!d->in_line) {
        if (*p == '\r' || *p == '\n')
            return 1; /* empty lines before a start line are tolerated */
        d->in_line = 1;
        d->ts = d->seg_ts;
        whole = 1;
    }
    n = sniff_line_scan(&d->sl, dir == FLOW_C2S, p, len, &v);
    if (v == SNIFF_LINE_BAD) {
        sniff_desync(s, dir, 0, cb);
        return n;
    }
    if (v == SNIFF_LINE_LF && whole && n < SNIFF_KEPT_LINE) {
        sniff_on_line(s, dir, (const char *)p, sniff_cut(d, p, n), cb);
        return n + 1;
    }
    return sniff_kept_run(s, dir, p, n, v == SNIFF_LINE_LF, cb);
}

/*
 * Lines of headers, trailers or a chunk size. Lines whole in this segment
 * are parsed where they lie; header lines, most of a head, follow one
 * another in one loop, and only those that can matter are looked at.
 */
static size_t sniff_feed_lines(struct sniff *s, enum flow_dir_id dir, const uint8_t *p, size_t len,
                               const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    const uint8_t *lf = memchr(p, '\n', len);
    size_t used = 0, run, n;

    if (lf == NULL || d->line_len > 0)
        return sniff_kept_run(s, dir, p, lf ? (size_t)(lf - p) : len, lf != NULL, cb);
    for (;;) {
        run = (size_t)(lf - p);
        n = sniff_cut(d, p, run);
        used += run + 1;
        if (d->state != SNIFF_IN_HEADERS || (n == 0 && !d->line_over)) {
            sniff_on_line(s, dir, (const char *)p, n, cb); /* may end the head */
            return used;
        }
        if (sniff_line_header_maybe((char)p[0]))
            sniff_header(s, d, dir == FLOW_C2S, (const char *)p, n);
        d->line_over = 0;
        p = lf + 1;
        len -= run + 1;
        lf = memchr(p, '\n', len);
        if (lf == NULL)
            return used;
    }
}

/* The CRLF after chunk data, a byte at a time: a bare CR or LF is tolerated. */
static size_t sniff_feed_crlf(struct sniff *s, enum flow_dir_id dir, const uint8_t *p,
                              const struct sniff_cb *cb)
{
    if (*p == '\n')
        sniff_kept_done(s, dir, cb);
    else if (*p == '\r')
        sniff_keep(s, &s->dir[dir], p, 1);
    else
        sniff_desync(s, dir, 0, cb);
    return 1;
}

/* Bytes are ignored until the next segment (unknown) or for good (tunnel, body up to the close). */
static int sniff_ignoring(const struct sniff_dir *d)
{
    return d->state == SNIFF_IN_UNKNOWN || d->state == SNIFF_IN_OPAQUE ||
           d->state == SNIFF_IN_BODY_CLOSE;
}

/* Bytes are counted, not parsed: a body of known length or chunk data. */
static int sniff_counting(const struct sniff_dir *d)
{
    return d->state == SNIFF_IN_BODY_LEN || d->state == SNIFF_IN_CHUNK_DATA;
}

/* Consumes the bytes of one in-order run. */
static void sniff_feed(struct sniff *s, enum flow_dir_id dir, const uint8_t *p, size_t len,
                       const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];
    size_t n;

    while (len > 0 && !sniff_ignoring(d)) {
        if (sniff_counting(d)) {
            n = len < d->remaining ? len : (size_t)d->remaining;
            sniff_skip(d, dir == FLOW_C2S, n);
        } else if (d->state == SNIFF_IN_START) {
            n = sniff_feed_start(s, dir, p, len, cb);
        } else if (d->state == SNIFF_IN_CHUNK_CRLF) {
            n = sniff_feed_crlf(s, dir, p, cb);
        } else {
            n = sniff_feed_lines(s, dir, p, len, cb);
        }
        p += n;
        len -= n;
    }
}

/* A hole of n bytes before the data: skipped exactly when inside a known-length body. */
static void sniff_skip_gap(struct sniff *s, enum flow_dir_id dir, uint32_t n,
                           const struct sniff_cb *cb)
{
    struct sniff_dir *d = &s->dir[dir];

    if (sniff_ignoring(d))
        return;
    if (sniff_counting(d) && n <= d->remaining)
        sniff_skip(d, dir == FLOW_C2S, n);
    else
        sniff_desync(s, dir, 1, cb);
}

void sniff_segment(struct sniff *s, enum flow_dir_id dir, uint32_t seq, const uint8_t *data,
                   size_t len, uint64_t ts_ns, const struct sniff_cb *cb)
{
    struct sniff_dir *d;
    uint32_t ahead, back;

    if (s == NULL || (dir != FLOW_C2S && dir != FLOW_S2C) || data == NULL || len == 0)
        return;
    d = &s->dir[dir];
    if (len > UINT32_MAX / 2)
        len = UINT32_MAX / 2; /* no TCP segment is this long; keeps seq arithmetic exact */
    if (!d->seq_known) {
        d->seq_known = 1;
        d->next_seq = seq;
        sniff_forget_line(d, dir == FLOW_C2S); /* the state may be a tunnel already */
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
            sniff_skip_gap(s, dir, ahead, cb);
        }
    }
    d->next_seq = seq + (uint32_t)len;
    if (d->state == SNIFF_IN_UNKNOWN) /* only a segment boundary can start a message we can trust */
        sniff_message_start(d, dir == FLOW_C2S);
    d->seg_ts = ts_ns;
    sniff_feed(s, dir, data, len, cb);
}
