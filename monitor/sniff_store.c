/* The sniffer's transactions: a ring of compact records, strings in an arena, FIFO matching. */
#include "monitor/sniff_store.h"
#include "monitor/libc_mem.h"

#include <stdlib.h>
#include <string.h>

void sniff_store_init(struct sniff_store *st)
{
    memset(st, 0, sizeof(*st));
    st->ring = st->ring0;
    st->ring_cap = SNIFF_STORE_RING0;
    st->arena = st->arena0;
    st->arena_cap = SNIFF_STORE_ARENA0;
}

void sniff_store_free(struct sniff_store *st)
{
    if (st->ring != st->ring0)
        free(st->ring);
    if (st->arena != st->arena0)
        free(st->arena);
    free(st->view);
}

size_t sniff_store_heap_max(void)
{
    return SNIFF_STORE_RING * sizeof(struct sniff_store_txn) + SNIFF_STORE_ARENA +
           sizeof(struct sniff_txn);
}

/* Doubles the ring (up to SNIFF_STORE_RING), oldest first from slot 0: 0, or -1 without memory. */
static int sniff_store_ring_grow(struct sniff_store *st)
{
    uint32_t cap = st->ring_cap * 2 < SNIFF_STORE_RING ? st->ring_cap * 2 : SNIFF_STORE_RING, i;
    struct sniff_store_txn *r = malloc(cap * sizeof(*r));

    if (r == NULL)
        return -1;
    for (i = 0; i < st->next_id - st->first_id; i++)
        r[i] = *sniff_store_slot(st, i);
    if (st->ring != st->ring0)
        free(st->ring);
    st->ring = r;
    st->ring_cap = cap;
    st->first_slot = 0;
    return 0;
}

/* Grows the arena to hold need live bytes (<= SNIFF_STORE_ARENA): 0, or -1 without memory. */
static int sniff_store_arena_grow(struct sniff_store *st, size_t need)
{
    uint32_t cap = st->arena_cap, p;
    char *a;

    while (cap < need)
        cap *= 2;
    a = malloc(cap);
    if (a == NULL)
        return -1;
    /* Positions are kept mod 65536: each live byte moves to its place mod cap. */
    for (p = st->arena_head; p != st->arena_write; p++)
        a[p & (cap - 1)] = st->arena[p & (st->arena_cap - 1)];
    if (st->arena != st->arena0)
        free(st->arena);
    st->arena = a;
    st->arena_cap = cap;
    return 0;
}

static void sniff_store_evict(struct sniff_store *st)
{
    st->first_id++;
    st->first_slot = st->first_slot + 1 < st->ring_cap ? st->first_slot + 1 : 0;
    st->dropped++;
    if (st->first_id == st->next_id) {
        st->arena_head = st->arena_write;
    } else {
        /* The oldest kept transaction's first string starts the live arena. */
        uint16_t pos = st->ring[st->first_slot].pos[SNIFF_STORE_METHOD];
        st->arena_head = st->arena_write - (uint16_t)((uint16_t)st->arena_write - pos);
    }
}

/*
 * Makes room for n more bytes: the arena grows up to SNIFF_STORE_ARENA
 * (without memory for that, it is full at its current size), then the
 * oldest transactions go; if even an empty ring leaves too little, the
 * arena starts over.
 */
static __attribute__((noinline)) void sniff_store_arena_room(struct sniff_store *st, size_t n)
{
    size_t need = st->arena_write - st->arena_head + n;

    if (st->arena_cap < SNIFF_STORE_ARENA &&
        sniff_store_arena_grow(st, need < SNIFF_STORE_ARENA ? need : SNIFF_STORE_ARENA) < 0) {
        while (st->arena_write - st->arena_head + n > st->arena_cap && st->first_id != st->next_id)
            sniff_store_evict(st);
    }
    while (st->arena_write - st->arena_head + n > SNIFF_STORE_ARENA && st->first_id != st->next_id)
        sniff_store_evict(st);
    if (st->arena_write - st->arena_head + n > st->arena_cap)
        st->arena_head = st->arena_write;
}

/* Copies n bytes between the arena at position pos and buf, in either direction. */
static void sniff_store_arena_copy(const struct sniff_store *st, uint32_t pos, char *buf, size_t n,
                                   int into_arena)
{
    size_t at = pos & (st->arena_cap - 1), first = st->arena_cap - at;
    char *a = st->arena + at;

    if (n <= first) {
        if (into_arena)
            libc_mem_copy(a, buf, n);
        else
            libc_mem_copy(buf, a, n);
    } else if (into_arena) { /* wraps around the end of the arena */
        memcpy(a, buf, first);
        memcpy(st->arena, buf + first, n - first);
    } else {
        memcpy(buf, a, first);
        memcpy(buf + first, st->arena, n - first);
    }
}

/* Copies n (<= 255) bytes into the arena, dropping old transactions to make room. */
static uint16_t sniff_store_arena_put(struct sniff_store *st, const char *p, size_t n)
{
    uint16_t pos;

    if (st->arena_write - st->arena_head + n > st->arena_cap)
        sniff_store_arena_room(st, n);
    pos = (uint16_t)st->arena_write;
    sniff_store_arena_copy(st, st->arena_write, (char *)p, n, 1);
    st->arena_write += (uint32_t)n;
    return pos;
}

void sniff_store_set(struct sniff_store *st, uint32_t id, enum sniff_store_field f, const char *p,
                     size_t n, size_t cap)
{
    struct sniff_store_txn *t;
    uint16_t pos;

    if (n > cap - 1)
        n = cap - 1;
    if (sniff_store_at(st, id) == NULL)
        return;
    pos = sniff_store_arena_put(st, p, n);
    t = sniff_store_at(st, id); /* making room may have dropped it */
    if (t != NULL) {
        t->pos[f] = pos;
        t->len[f] = (uint8_t)n;
    }
}

/* Starts a new transaction (request, or a response without a known request). */
static uint32_t sniff_store_new(struct sniff_store *st, uint64_t ts)
{
    struct sniff_store_txn *t;
    uint32_t id;
    int f;

    /* Matching of outstanding requests is tracked in 64-bit sets: beyond
     * that, stop matching them but remember how many responses are owed. */
    if (st->next_id - st->resp_id >= SNIFF_STORE_PENDING) {
        for (id = st->resp_id; id != st->next_id; id++) {
            if (st->pend_done & sniff_store_bit(id))
                continue;
            st->lost_match++;
            t = sniff_store_at(st, id);
            if (t != NULL)
                t->flags |= SNIFF_STORE_UNKNOWN;
        }
        st->resp_id = st->next_id;
    }
    if (st->next_id - st->first_id == st->ring_cap &&
        (st->ring_cap == SNIFF_STORE_RING || sniff_store_ring_grow(st) < 0))
        sniff_store_evict(st); /* full (or no memory to grow): the oldest goes */
    id = st->next_id++;
    st->pend_head &= ~sniff_store_bit(id);
    st->pend_connect &= ~sniff_store_bit(id);
    st->pend_done &= ~sniff_store_bit(id);
    t = sniff_store_at(st, id);
    memset(t, 0, sizeof(*t));
    for (f = 0; f < SNIFF_STORE_NFIELDS; f++)
        t->pos[f] = (uint16_t)st->arena_write;
    t->content_length = -1;
    t->req_ts = ts;
    if (st->first_id + 1 == st->next_id)
        st->arena_head = st->arena_write;
    return id;
}

uint32_t sniff_store_request(struct sniff_store *st, uint64_t ts, const char *method,
                             size_t method_len, const char *uri, size_t uri_len, int uri_cut,
                             const char *ver, enum sniff_store_kind kind)
{
    uint32_t id = sniff_store_new(st, ts);
    struct sniff_store_txn *t;

    sniff_store_set(st, id, SNIFF_STORE_METHOD, method, method_len, SNIFF_METHOD_MAX);
    sniff_store_set(st, id, SNIFF_STORE_URI, uri, uri_len, SNIFF_URI_MAX);
    t = sniff_store_at(st, id);
    if (t != NULL) {
        if (uri_cut)
            t->flags |= SNIFF_STORE_URI_CUT;
        if (ver != NULL) {
            t->ver[0] = ver[0];
            t->ver[1] = ver[1];
        }
    }
    if (kind == SNIFF_STORE_HEAD)
        st->pend_head |= sniff_store_bit(id);
    else if (kind == SNIFF_STORE_CONNECT)
        st->pend_connect |= sniff_store_bit(id);
    return id;
}

/* Moves resp_id past the requests already answered. */
static void sniff_store_skip_done(struct sniff_store *st)
{
    while (st->resp_id != st->next_id && (st->pend_done & sniff_store_bit(st->resp_id)))
        st->resp_id++;
}

/* Marks the first n waiting requests answered but unknown (their responses were lost). */
static void sniff_store_give_up(struct sniff_store *st, uint32_t n)
{
    struct sniff_store_txn *t;
    uint32_t id;

    for (id = st->resp_id; id != st->next_id && n > 0; id++) {
        if (st->pend_done & sniff_store_bit(id))
            continue;
        n--;
        st->pend_done |= sniff_store_bit(id);
        t = sniff_store_at(st, id);
        if (t != NULL)
            t->flags |= SNIFF_STORE_UNKNOWN;
    }
}

enum sniff_store_answer sniff_store_response(struct sniff_store *st, uint64_t ts, uint64_t lost_ts,
                                             int resync, uint16_t status, uint32_t *id)
{
    enum sniff_store_answer answer = SNIFF_STORE_MATCHED;
    struct sniff_store_txn *t;
    uint32_t i, n = 0, tainted = 0;

    sniff_store_skip_done(st);
    for (i = st->resp_id; i != st->next_id; i++)
        if (!(st->pend_done & sniff_store_bit(i))) {
            t = sniff_store_at(st, i);
            if (t != NULL && t->req_ts > ts)
                break; /* sent after this response began: not a candidate */
            n++;
            if (t == NULL || t->req_ts <= lost_ts)
                tainted++;
        }
    if (st->lost_match > 0) {
        st->lost_match--;
        return SNIFF_STORE_OWED;
    }
    if (n == 0) {
        answer = SNIFF_STORE_ORPHAN;
    } else if (resync && tainted > 0 && n > 1) {
        sniff_store_give_up(st, n);
        answer = SNIFF_STORE_ORPHAN;
    }
    *id = answer == SNIFF_STORE_ORPHAN ? sniff_store_new(st, ts) : st->resp_id;
    st->pend_done |= sniff_store_bit(*id);
    sniff_store_skip_done(st);
    t = sniff_store_at(st, *id);
    if (t != NULL) {
        t->status = status;
        t->resp_ts = ts;
        t->flags = (uint8_t)((t->flags & ~SNIFF_STORE_UNKNOWN) | SNIFF_STORE_RESPONDED);
    }
    return answer;
}

void sniff_store_lose_responses(struct sniff_store *st)
{
    struct sniff_store_txn *t;
    uint32_t id;

    for (id = st->resp_id; id != st->next_id; id++) {
        t = sniff_store_at(st, id);
        if (t != NULL && !(st->pend_done & sniff_store_bit(id)))
            t->flags |= SNIFF_STORE_UNKNOWN;
    }
}

/* Every field is written (strings NUL-terminated; bytes past the NUL are not
 * part of the value), so no memset of the whole struct per expansion. */
static void sniff_store_expand(const struct sniff_store *st, const struct sniff_store_txn *t,
                               struct sniff_txn *out)
{
    static const size_t field_at[SNIFF_STORE_NFIELDS] = {
        [SNIFF_STORE_METHOD] = offsetof(struct sniff_txn, method),
        [SNIFF_STORE_URI] = offsetof(struct sniff_txn, uri),
        [SNIFF_STORE_RANGE] = offsetof(struct sniff_txn, range),
        [SNIFF_STORE_REASON] = offsetof(struct sniff_txn, reason),
        [SNIFF_STORE_CRANGE] = offsetof(struct sniff_txn, content_range),
        [SNIFF_STORE_CTYPE] = offsetof(struct sniff_txn, content_type),
    };
    int f;

    for (f = 0; f < SNIFF_STORE_NFIELDS; f++) {
        char *s = (char *)out + field_at[f];

        sniff_store_arena_copy(st, t->pos[f], s, t->len[f], 0);
        s[t->len[f]] = '\0';
    }
    memset(out->version, 0, sizeof(out->version));
    if (t->ver[0] != 0)
        memcpy(out->version, (char[]){ 'H', 'T', 'T', 'P', '/', t->ver[0], '.', t->ver[1] }, 8);
    out->status = t->status;
    out->content_length = t->content_length;
    out->req_ts_ns = t->req_ts;
    out->resp_ts_ns = t->resp_ts;
    out->uri_truncated = (t->flags & SNIFF_STORE_URI_CUT) != 0;
    out->unknown_response = (t->flags & SNIFF_STORE_UNKNOWN) != 0;
}

int sniff_store_copy_id(const struct sniff_store *st, uint32_t id, struct sniff_txn *out)
{
    const struct sniff_store_txn *t = sniff_store_at(st, id);

    if (t == NULL)
        return -1;
    sniff_store_expand(st, t, out);
    return 0;
}

const struct sniff_txn *sniff_store_get(const struct sniff_store *st, size_t i)
{
    struct sniff_store *w = (struct sniff_store *)st; /* the view is a cache, not state */

    if (i >= sniff_store_count(st))
        return NULL;
    if (w->view == NULL && (w->view = malloc(sizeof(*w->view))) == NULL)
        return NULL;
    sniff_store_expand(st, sniff_store_slot(st, (uint32_t)i), w->view);
    return w->view;
}

int sniff_store_get_copy(const struct sniff_store *st, size_t i, struct sniff_txn *out)
{
    if (out == NULL || i >= sniff_store_count(st))
        return -1;
    sniff_store_expand(st, sniff_store_slot(st, (uint32_t)i), out);
    return 0;
}
