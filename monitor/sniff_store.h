/*
 * The transaction store of the HTTP sniffer (part of the sniff module, see
 * sniff.h): a bounded ring of compact transactions whose strings live in a
 * byte arena, and the FIFO matching of responses to requests. Transactions
 * are named by ids that count up from 0; a dropped one is simply not found.
 *
 * Allocation: the ring and the arena start inside struct sniff_store
 * (SNIFF_STORE_RING0 slots, SNIFF_STORE_ARENA0 bytes) and move to the heap,
 * doubling, when they fill, up to SNIFF_STORE_RING slots and
 * SNIFF_STORE_ARENA bytes; then (or when malloc fails) the oldest
 * transactions are dropped and counted. Most connections carry one or two
 * transactions while a capture holds thousands of sniffers at once, so
 * full-size buffers for each would cost more in page faults and cache
 * misses than the parsing. sniff_store_get() allocates one expanded
 * transaction on its first call.
 */
#ifndef LABMON_SNIFF_STORE_H
#define LABMON_SNIFF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/sniff.h"

#define SNIFF_STORE_RING    48
#define SNIFF_STORE_ARENA   4096 /* power of two: arena positions are kept mod 65536 */
#define SNIFF_STORE_RING0   2    /* ring slots inside the store */
#define SNIFF_STORE_ARENA0  128  /* arena bytes inside the store (power of two) */
#define SNIFF_STORE_PENDING 64   /* outstanding requests tracked for matching (bit sets) */

/* The strings of a transaction, kept in the arena as position mod 65536 and length. */
enum sniff_store_field {
    SNIFF_STORE_METHOD,
    SNIFF_STORE_URI,
    SNIFF_STORE_RANGE,
    SNIFF_STORE_REASON,
    SNIFF_STORE_CRANGE,
    SNIFF_STORE_CTYPE,
    SNIFF_STORE_NFIELDS
};

/* Bits of sniff_store_txn.flags. */
enum sniff_store_flag {
    SNIFF_STORE_URI_CUT = 0x01,
    SNIFF_STORE_UNKNOWN = 0x02,   /* the response was lost */
    SNIFF_STORE_RESPONDED = 0x04, /* a response was recorded */
};

/* A transaction as stored: struct sniff_txn without its string buffers. */
struct sniff_store_txn {
    uint64_t req_ts;
    uint64_t resp_ts;
    int64_t content_length;
    uint16_t pos[SNIFF_STORE_NFIELDS];
    uint8_t len[SNIFF_STORE_NFIELDS];
    uint16_t status;
    char ver[2]; /* request's HTTP version digits, 0 if unknown */
    uint8_t flags;
};

/* What a request asks for that changes how its response is framed. */
enum sniff_store_kind {
    SNIFF_STORE_PLAIN,
    SNIFF_STORE_HEAD,    /* the response has no body */
    SNIFF_STORE_CONNECT, /* a 2xx response opens a tunnel */
};

/* How a final response was recorded. */
enum sniff_store_answer {
    SNIFF_STORE_OWED,    /* it answers a request no longer tracked: not recorded */
    SNIFF_STORE_ORPHAN,  /* recorded as a response whose request is unknown */
    SNIFF_STORE_MATCHED, /* recorded with the request it answers */
};

struct sniff_store {
    uint32_t first_id;                /* oldest transaction kept */
    uint32_t first_slot;              /* its ring slot */
    uint32_t next_id;                 /* id of the next transaction */
    uint32_t resp_id;                 /* oldest transaction still waiting for its response */
    uint32_t lost_match;              /* responses owed to requests we stopped tracking */
    uint32_t arena_head, arena_write; /* monotonic byte positions */
    uint32_t ring_cap, arena_cap;     /* current capacities */
    uint64_t pend_head, pend_connect, pend_done; /* bit (id % 64) for ids >= resp_id */
    uint64_t dropped;
    struct sniff_store_txn *ring; /* ring0, or ring_cap slots on the heap */
    char *arena;                  /* arena0, or arena_cap bytes on the heap */
    struct sniff_txn *view;       /* what sniff_store_get() returns, allocated by its first call */
    struct sniff_store_txn ring0[SNIFF_STORE_RING0];
    char arena0[SNIFF_STORE_ARENA0];
};

void sniff_store_init(struct sniff_store *st);
void sniff_store_free(struct sniff_store *st);
/* Heap bytes one store may hold at most. */
size_t sniff_store_heap_max(void);

/* The pending bit of transaction id in pend_head, pend_connect and pend_done. */
static inline uint64_t sniff_store_bit(uint32_t id)
{
    return (uint64_t)1 << (id % SNIFF_STORE_PENDING);
}

/* Slot of the i-th kept transaction (i < ring_cap; first_slot < ring_cap). */
static inline struct sniff_store_txn *sniff_store_slot(const struct sniff_store *st, uint32_t i)
{
    uint32_t j = st->first_slot + i;

    return &st->ring[j < st->ring_cap ? j : j - st->ring_cap];
}

/* Transaction id, or NULL if it was dropped (or never made). */
static inline struct sniff_store_txn *sniff_store_at(const struct sniff_store *st, uint32_t id)
{
    uint32_t i = id - st->first_id;

    if (i >= st->next_id - st->first_id)
        return NULL;
    return sniff_store_slot(st, i);
}

/* Whether transaction id is still kept. */
static inline int sniff_store_has(const struct sniff_store *st, uint32_t id)
{
    return sniff_store_at(st, id) != NULL;
}

/* Records a request: its id (the transaction may be dropped later). */
uint32_t sniff_store_request(struct sniff_store *st, uint64_t ts, const char *method,
                             size_t method_len, const char *uri, size_t uri_len, int uri_cut,
                             const char *ver, enum sniff_store_kind kind);
/* What request id asked for (valid while it waits for its final response). */
static inline enum sniff_store_kind sniff_store_kind(const struct sniff_store *st, uint32_t id)
{
    if (st->pend_head & sniff_store_bit(id))
        return SNIFF_STORE_HEAD;
    if (st->pend_connect & sniff_store_bit(id))
        return SNIFF_STORE_CONNECT;
    return SNIFF_STORE_PLAIN;
}

/*
 * Records a final response that began at time ts: FIFO, with two exceptions.
 * A response seen before a request cannot answer it. After responses were
 * lost (resync: bytes before it were lost, last at lost_ts), the requests
 * seen before the last lost bytes may or may not have been answered in them:
 * the response is matched only when a single request can be its cause;
 * otherwise those requests are marked unknown and the response is kept
 * without request. *id is the transaction recorded (not for SNIFF_STORE_OWED).
 */
enum sniff_store_answer sniff_store_response(struct sniff_store *st, uint64_t ts, uint64_t lost_ts,
                                             int resync, uint16_t status, uint32_t *id);
/* Responses were lost: every request still waiting is marked unknown. */
void sniff_store_lose_responses(struct sniff_store *st);

/* Stores a string of at most cap-1 bytes as field f of transaction id, if still kept. */
void sniff_store_set(struct sniff_store *st, uint32_t id, enum sniff_store_field f, const char *p,
                     size_t n, size_t cap);
/* Sets a response's Content-Length (-1: none or invalid), if still kept. */
static inline void sniff_store_set_length(struct sniff_store *st, uint32_t id, int64_t len)
{
    struct sniff_store_txn *t = sniff_store_at(st, id);

    if (t != NULL)
        t->content_length = len;
}

/* Expands transaction id into *out: 0, or -1 if it is no longer kept. */
int sniff_store_copy_id(const struct sniff_store *st, uint32_t id, struct sniff_txn *out);

/* The public view (see sniff.h): i-th kept transaction, oldest first. */
static inline size_t sniff_store_count(const struct sniff_store *st)
{
    return st->next_id - st->first_id;
}

const struct sniff_txn *sniff_store_get(const struct sniff_store *st, size_t i);
int sniff_store_get_copy(const struct sniff_store *st, size_t i, struct sniff_txn *out);

#endif
