/*
 * The bounded flow table: all records allocated up front, a chained hash on
 * the direction-independent 4-tuple, idle lists for open, closed and retired
 * flows (retired, then closed, evicted first), and a creation-order list for
 * the outputs. The lists are <sys/queue.h> tail queues through the records.
 */
#include "monitor/flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define FLOW_NIL UINT32_MAX /* end of a hash chain or of the free list */

TAILQ_HEAD(flow_list, flow);

struct flow_table {
    struct flow *slots;
    uint32_t max;
    uint32_t *buckets;
    uint32_t nbuckets;       /* power of two */
    uint32_t free_head;      /* freed slots, linked through hnext */
    uint32_t fresh_next;     /* first slot never used */
    uint64_t reuse_after_ns; /* retired slots are reused after this much quiet */
    uint32_t count;
    uint64_t created;
    uint64_t evicted;
    uint32_t seglog_cap;
    struct flow_list open_idle, closed_idle, retired_idle, age;
    flow_evict_fn evict_cb, release_cb;
    void *evict_ctx, *release_ctx;
};

#define FLOW_TCPS_NAME(name) #name,
static const char *const flow_tcp_state_names[FLOW_TCPS_COUNT] = { FLOW_TCP_STATES(
    FLOW_TCPS_NAME) };

const char *flow_tcp_state_name(enum flow_tcp_state s)
{
    if ((unsigned)s >= FLOW_TCPS_COUNT)
        return "?";
    return flow_tcp_state_names[s];
}

static size_t flow_addr_len(uint8_t af)
{
    return af == 6 ? 16 : 4;
}

/* Order-independent hash of the 4-tuple (both directions hash alike). */
static uint32_t flow_tuple_hash(uint8_t af, const uint8_t *a, uint16_t pa, const uint8_t *b,
                                uint16_t pb)
{
    size_t n = flow_addr_len(af);
    uint64_t ha = 0x9e3779b97f4a7c15ULL ^ pa, hb = 0x9e3779b97f4a7c15ULL ^ pb;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t wa, wb;
        memcpy(&wa, a + i, 4);
        memcpy(&wb, b + i, 4);
        ha = (ha ^ wa) * 0xff51afd7ed558ccdULL;
        hb = (hb ^ wb) * 0xff51afd7ed558ccdULL;
    }
    uint64_t h = (ha + hb) ^ (ha * hb) ^ af;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return (uint32_t)h;
}

/*
 * Slots are filled in order and looked up at random: on 4 KiB pages a
 * 30 000-connection capture took ~6 000 page faults and a TLB miss per
 * lookup. Transparent huge pages where the kernel offers them on request.
 */
static void flow_advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t huge = (uintptr_t)2 << 20, a = ((uintptr_t)p + huge - 1) & ~(huge - 1),
              e = ((uintptr_t)p + n) & ~(huge - 1);
    if (e > a)
        madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void flow_table_set_evict_cb(struct flow_table *t, flow_evict_fn fn, void *ctx)
{
    t->evict_cb = fn;
    t->evict_ctx = ctx;
}

void flow_table_set_release_cb(struct flow_table *t, flow_evict_fn fn, void *ctx)
{
    t->release_cb = fn;
    t->release_ctx = ctx;
}

struct flow_table *flow_table_new(uint32_t max_flows, uint32_t seglog_cap)
{
    struct flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->max = max_flows;
    t->seglog_cap = seglog_cap;
    /* Slots never used are handed out in order (fresh_next), so creating a
     * big table touches no memory until flows arrive. */
    t->free_head = FLOW_NIL;
    t->fresh_next = 0;
    TAILQ_INIT(&t->open_idle);
    TAILQ_INIT(&t->closed_idle);
    TAILQ_INIT(&t->retired_idle);
    TAILQ_INIT(&t->age);
    t->nbuckets = 16;
    while (t->nbuckets < 2 * (uint64_t)max_flows && t->nbuckets < (1u << 30))
        t->nbuckets <<= 1;
    t->slots = calloc(max_flows ? max_flows : 1, sizeof(struct flow));
    t->buckets = malloc(t->nbuckets * sizeof(uint32_t));
    if (!t->slots || !t->buckets) {
        flow_table_free(t);
        return NULL;
    }
    flow_advise_huge(t->slots, (size_t)(max_flows ? max_flows : 1) * sizeof(struct flow));
    for (uint32_t i = 0; i < t->nbuckets; i++)
        t->buckets[i] = FLOW_NIL;
    return t;
}

static void flow_release(struct flow_table *t, struct flow *f)
{
    if (t->release_cb)
        t->release_cb(t->release_ctx, f);
    free(f->log.e);
    f->log.e = NULL;
}

void flow_table_free(struct flow_table *t)
{
    struct flow *f;

    if (t == NULL)
        return;
    for (f = TAILQ_FIRST(&t->age); f != NULL; f = TAILQ_NEXT(f, age)) /* every record in use */
        flow_release(t, f);
    free(t->slots);
    free(t->buckets);
    free(t);
}

static uint32_t flow_index(const struct flow_table *t, const struct flow *f)
{
    return (uint32_t)(f - t->slots);
}

static void flow_hash_unlink(struct flow_table *t, struct flow *f)
{
    if (!f->in_hash)
        return;
    uint32_t i = flow_index(t, f);
    uint32_t *pp = &t->buckets[flow_tuple_hash(f->af, f->client, f->cport, f->server, f->sport) &
                               (t->nbuckets - 1)];
    while (*pp != FLOW_NIL) {
        if (*pp == i) {
            *pp = f->hnext;
            break;
        }
        pp = &t->slots[*pp].hnext;
    }
    f->in_hash = 0;
    f->hnext = FLOW_NIL;
}

static struct flow_list *flow_idle_list(struct flow_table *t, struct flow *f)
{
    if (f->on_closed_list == 2)
        return &t->retired_idle;
    return f->on_closed_list ? &t->closed_idle : &t->open_idle;
}

static void flow_evict(struct flow_table *t, struct flow *f)
{
    if (t->evict_cb)
        t->evict_cb(t->evict_ctx, f);
    flow_hash_unlink(t, f);
    TAILQ_REMOVE(flow_idle_list(t, f), f, lru);
    TAILQ_REMOVE(&t->age, f, age);
    flow_release(t, f);
    f->in_use = 0;
    f->hnext = t->free_head;
    t->free_head = flow_index(t, f);
    t->count--;
    t->evicted++;
}

/* Free the oldest retired flow, else the oldest closed, else the longest idle. */
static void flow_evict_one(struct flow_table *t)
{
    struct flow *f = TAILQ_FIRST(&t->retired_idle);

    if (f == NULL)
        f = TAILQ_FIRST(&t->closed_idle);
    if (f == NULL)
        f = TAILQ_FIRST(&t->open_idle);
    if (f != NULL)
        flow_evict(t, f);
}

uint64_t flow_table_evicted(const struct flow_table *t)
{
    return t->evicted;
}

uint32_t flow_table_retire(struct flow_table *t, uint64_t now_ns, uint64_t idle_ns,
                           flow_evict_fn fn, void *ctx)
{
    struct flow *f, *next;
    uint32_t n = 0;

    t->reuse_after_ns = 4 * idle_ns;
    while ((f = TAILQ_FIRST(&t->closed_idle)) != NULL && f->last_ts_ns + idle_ns <= now_ns) {
        /* Reporting reads the whole record, idle (and out of the cache) for
         * idle_ns: the next one starts loading while this one is reported. */
        next = TAILQ_NEXT(f, lru);
        if (next != NULL)
            for (size_t k = 0; k < sizeof(struct flow); k += 64)
                __builtin_prefetch((const char *)next + k);
        if (fn)
            fn(ctx, f);
        f->retired = 1;
        TAILQ_REMOVE(&t->closed_idle, f, lru);
        f->on_closed_list = 2;
        TAILQ_INSERT_TAIL(&t->retired_idle, f, lru);
        n++;
    }
    return n;
}

static void flow_init(struct flow *f, uint64_t id, uint8_t af, const uint8_t *client,
                      uint16_t cport, const uint8_t *server, uint16_t sport, uint64_t ts_ns,
                      uint32_t seglog_cap)
{
    memset(f, 0, sizeof(*f));
    f->id = id;
    f->af = af;
    memcpy(f->client, client, flow_addr_len(af));
    memcpy(f->server, server, flow_addr_len(af));
    f->cport = cport;
    f->sport = sport;
    f->first_ts_ns = f->last_ts_ns = ts_ns;
    f->closed_by = FLOW_BY_NONE;
    f->reset_by = FLOW_BY_NONE;
    f->rtt_ns = -1;
    f->rtt_server_ns = -1;
    for (int d = 0; d < 2; d++) {
        f->d[d].win_shift = -1;
        f->d[d].state = FLOW_TCPS_UNKNOWN;
    }
    f->log.cap = seglog_cap;
    f->in_use = 1;
}

/* Equal addresses of family af, compared as words (memcmp of a variable length is a call). */
static int flow_addr_eq(uint8_t af, const uint8_t *a, const uint8_t *b)
{
    if (af != 6) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x == y;
    }
    uint64_t x[2], y[2];
    memcpy(x, a, 16);
    memcpy(y, b, 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* Does f carry this 4-tuple? Sets *dir when it does. */
static int flow_matches(const struct flow *f, uint8_t af, const uint8_t *src, const uint8_t *dst,
                        uint16_t sport, uint16_t dport, enum flow_dir_id *dir)
{
    if (f->af != af)
        return 0;
    if (f->cport == sport && f->sport == dport && flow_addr_eq(af, f->client, src) &&
        flow_addr_eq(af, f->server, dst)) {
        *dir = FLOW_C2S;
        return 1;
    }
    if (f->cport == dport && f->sport == sport && flow_addr_eq(af, f->client, dst) &&
        flow_addr_eq(af, f->server, src)) {
        *dir = FLOW_S2C;
        return 1;
    }
    return 0;
}

struct flow *flow_table_find(struct flow_table *t, uint8_t af, const uint8_t *src,
                             const uint8_t *dst, uint16_t sport, uint16_t dport)
{
    enum flow_dir_id dir;
    uint32_t h = flow_tuple_hash(af, src, sport, dst, dport) & (t->nbuckets - 1);
    for (uint32_t i = t->buckets[h]; i != FLOW_NIL; i = t->slots[i].hnext)
        if (flow_matches(&t->slots[i], af, src, dst, sport, dport, &dir))
            return &t->slots[i];
    return NULL;
}

/*
 * Who is the client of a new flow? The sender of a SYN, the receiver of a
 * SYN/ACK; otherwise (picked up mid-stream) the side with the higher port,
 * since servers usually sit on the lower, well-known one; on equal ports,
 * the sender of the first packet seen.
 */
static int flow_sender_is_client(uint8_t flags, uint16_t sport, uint16_t dport)
{
    if (flags & FLOW_TH_SYN)
        return !(flags & FLOW_TH_ACK);
    if (sport != dport)
        return sport > dport;
    return 1;
}

struct flow *flow_table_lookup(struct flow_table *t, uint8_t af, const uint8_t *src,
                               const uint8_t *dst, uint16_t sport, uint16_t dport, uint8_t flags,
                               uint32_t seq, uint64_t ts_ns, enum flow_dir_id *dir)
{
    if (t->max == 0)
        return NULL;
    uint32_t h = flow_tuple_hash(af, src, sport, dst, dport) & (t->nbuckets - 1);
    for (uint32_t i = t->buckets[h]; i != FLOW_NIL; i = t->slots[i].hnext) {
        struct flow *f = &t->slots[i];
        if (!flow_matches(f, af, src, dst, sport, dport, dir))
            continue;
        /* Port reuse, as Wireshark decides it: a SYN whose seq differs from
         * the base seq its sender already used in this flow is a new one. */
        const struct flow_dir *fd = &f->d[*dir];
        if ((flags & (FLOW_TH_SYN | FLOW_TH_ACK)) == FLOW_TH_SYN && fd->isn_known &&
            seq != fd->isn) {
            flow_hash_unlink(t, f);
            break;
        }
        return f;
    }

    uint32_t i;
    /* A retired flow's slot is warm in the cache: reuse it first, once it
     * has been quiet long enough that late segments are unlikely. */
    if (t->free_head == FLOW_NIL && !TAILQ_EMPTY(&t->retired_idle) &&
        TAILQ_FIRST(&t->retired_idle)->last_ts_ns + t->reuse_after_ns <= ts_ns)
        flow_evict(t, TAILQ_FIRST(&t->retired_idle));
    if (t->free_head == FLOW_NIL && t->fresh_next < t->max) {
        i = t->fresh_next++;
    } else {
        if (t->free_head == FLOW_NIL)
            flow_evict_one(t);
        i = t->free_head;
        if (i == FLOW_NIL)
            return NULL;
        t->free_head = t->slots[i].hnext;
    }
    struct flow *f = &t->slots[i];
    if (flow_sender_is_client(flags, sport, dport)) {
        flow_init(f, t->created, af, src, sport, dst, dport, ts_ns, t->seglog_cap);
        *dir = FLOW_C2S;
    } else {
        flow_init(f, t->created, af, dst, dport, src, sport, ts_ns, t->seglog_cap);
        *dir = FLOW_S2C;
    }
    f->client_by_syn = (flags & FLOW_TH_SYN) != 0;
    t->created++;
    t->count++;
    f->in_hash = 1;
    f->hnext = t->buckets[h];
    t->buckets[h] = i;
    TAILQ_INSERT_TAIL(&t->open_idle, f, lru);
    TAILQ_INSERT_TAIL(&t->age, f, age);
    return f;
}

uint64_t flow_table_created(const struct flow_table *t)
{
    return t->created;
}

void flow_table_touch(struct flow_table *t, struct flow *f)
{
    uint8_t list = f->retired ? 2 : f->closed != 0;
    /* Already the most recent of its list (often: segments of one connection
     * come in runs): moving it would touch two other records for nothing. */
    if (list == f->on_closed_list && TAILQ_NEXT(f, lru) == NULL)
        return;
    TAILQ_REMOVE(flow_idle_list(t, f), f, lru);
    f->on_closed_list = list;
    TAILQ_INSERT_TAIL(flow_idle_list(t, f), f, lru);
}

struct flow *flow_table_next(struct flow_table *t, struct flow *f)
{
    return f ? TAILQ_NEXT(f, age) : TAILQ_FIRST(&t->age);
}

uint32_t flow_table_count(const struct flow_table *t)
{
    return t->count;
}

uint32_t flow_seglog_count(const struct flow *f)
{
    return f->log.n;
}

uint32_t flow_seglog_gap_index(const struct flow *f)
{
    return f->log.skipped ? f->log.cap / 2 : f->log.n;
}

const struct flow_seg *flow_seglog_get(const struct flow *f, uint32_t i)
{
    const struct flow_seglog *l = &f->log;
    if (i >= l->n)
        return NULL;
    uint32_t keep = l->cap / 2;
    if (!l->skipped || i < keep)
        return &l->e[i];
    /* Ring part: slots keep..cap-1, oldest at head. */
    uint32_t ring = l->cap - keep;
    uint32_t k = (l->head - keep + (i - keep)) % ring;
    return &l->e[keep + k];
}

void flow_seglog_append(struct flow *f, const struct flow_seg *e)
{
    struct flow_seglog *l = &f->log;
    if (l->cap == 0)
        return;
    if (l->n < l->cap) {
        if (l->n == l->alloc) {
            uint32_t na = l->alloc ? l->alloc * 2 : 16;
            if (na > l->cap)
                na = l->cap;
            struct flow_seg *ne = realloc(l->e, na * sizeof(*ne));
            if (!ne) {
                l->skipped++;
                return;
            }
            l->e = ne;
            l->alloc = na;
        }
        l->e[l->n++] = *e;
        if (l->n == l->cap)
            l->head = l->cap / 2;
        return;
    }
    /* Full: overwrite the oldest entry of the ring part. */
    uint32_t keep = l->cap / 2;
    if (l->cap - keep == 0)
        return;
    l->e[l->head] = *e;
    l->head++;
    if (l->head == l->cap)
        l->head = keep;
    l->skipped++;
}
