/* Small-file cache: hash table of refcounted file versions with an LRU list and byte bound. */
#include "worker/filecache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct filecache {
    struct filecache_limits lim;
    struct filecache_file **buckets;
    uint32_t mask;
    struct filecache_file *head, *tail; /* LRU: head most recent */
    unsigned entries;
    size_t bytes;
    /*
     * Versions evicted or replaced while a response still sends them. Slow
     * clients could otherwise pile up one old version each: inserts stop
     * (requests go uncached) while these hold max_bytes.
     */
    unsigned detached;
    size_t detached_bytes;
    int dead; /* filecache_free ran; the last detached release frees the struct */
    unsigned long long hits, misses, evictions;
};

/* FNV-1a: short keys, no adversary can do more than lengthen one chain of a bounded table. */
static uint32_t filecache_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

struct filecache *filecache_new(const struct filecache_limits *lim)
{
    struct filecache *c;
    uint32_t nb = 16;

    if (lim->max_bytes == 0 || lim->max_entries == 0 || lim->valid_ms < 0 ||
        lim->max_entries > (1u << 24)) {
        errno = EINVAL;
        return NULL;
    }
    while (nb < 2 * lim->max_entries)
        nb <<= 1;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->buckets = calloc(nb, sizeof(c->buckets[0]));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    c->lim = *lim;
    c->mask = nb - 1;
    return c;
}

void filecache_ref(struct filecache_file *f)
{
    f->refs++;
}

void filecache_release(struct filecache_file *f)
{
    if (f == NULL || --f->refs > 0)
        return;
    if (f->detached) {
        struct filecache *c = f->owner;
        c->detached--;
        c->detached_bytes -= (size_t)f->size;
        if (c->dead && c->detached == 0)
            free(c);
    }
    free(f);
}

static void filecache_lru_unlink(struct filecache *c, struct filecache_file *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        c->head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        c->tail = f->prev;
    f->prev = f->next = NULL;
}

static void filecache_lru_push(struct filecache *c, struct filecache_file *f)
{
    f->prev = NULL;
    f->next = c->head;
    if (c->head)
        c->head->prev = f;
    else
        c->tail = f;
    c->head = f;
}

/* Take f out of the table and drop the table's reference. */
static void filecache_unlink(struct filecache *c, struct filecache_file *f)
{
    struct filecache_file **pp = &c->buckets[f->hash & c->mask];

    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    f->hnext = NULL;
    filecache_lru_unlink(c, f);
    f->in_table = 0;
    c->entries--;
    c->bytes -= (size_t)f->size;
    if (f->refs > 1) {
        f->detached = 1;
        c->detached++;
        c->detached_bytes += (size_t)f->size;
    }
    filecache_release(f);
}

void filecache_free(struct filecache *c)
{
    if (c == NULL)
        return;
    while (c->head)
        filecache_unlink(c, c->head);
    free(c->buckets);
    c->buckets = NULL;
    if (c->detached > 0)
        c->dead = 1;
    else
        free(c);
}

static struct filecache_file *filecache_find(struct filecache *c, const char *key, size_t key_len,
                                             uint32_t h)
{
    for (struct filecache_file *f = c->buckets[h & c->mask]; f; f = f->hnext)
        if (f->hash == h && f->key_len == key_len && memcmp(f->key, key, key_len) == 0)
            return f;
    return NULL;
}

struct filecache_file *filecache_lookup(struct filecache *c, const char *key, size_t key_len,
                                        int64_t now_ms)
{
    struct filecache_file *f = filecache_find(c, key, key_len, filecache_hash(key, key_len));

    /* now < checked: the clock is monotonic, so only a caller's mistake; recheck. */
    if (f == NULL || now_ms - f->checked_ms >= c->lim.valid_ms || now_ms < f->checked_ms) {
        c->misses++;
        return NULL;
    }
    c->hits++;
    if (c->head != f) {
        filecache_lru_unlink(c, f);
        filecache_lru_push(c, f);
    }
    return f;
}

static int filecache_same(const struct filecache_file *f, const struct stat *st)
{
    return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
           f->mtim.tv_sec == st->st_mtim.tv_sec && f->mtim.tv_nsec == st->st_mtim.tv_nsec &&
           f->ctim.tv_sec == st->st_ctim.tv_sec && f->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static int filecache_cacheable(const struct filecache *c, const struct stat *st)
{
    return S_ISREG(st->st_mode) && st->st_size >= 0 && (size_t)st->st_size <= c->lim.max_file &&
           (size_t)st->st_size <= c->lim.max_bytes;
}

struct filecache_file *filecache_revalidate(struct filecache *c, const char *key, size_t key_len,
                                            const struct stat *st, int64_t now_ms, int *cacheable)
{
    struct filecache_file *f = filecache_find(c, key, key_len, filecache_hash(key, key_len));

    *cacheable = filecache_cacheable(c, st);
    if (f == NULL)
        return NULL;
    if (!*cacheable || !filecache_same(f, st)) {
        filecache_unlink(c, f);
        return NULL;
    }
    f->checked_ms = now_ms;
    if (c->head != f) {
        filecache_lru_unlink(c, f);
        filecache_lru_push(c, f);
    }
    return f;
}

struct filecache_file *filecache_insert(struct filecache *c, const char *key, size_t key_len,
                                        const struct stat *st, const char *type, int64_t now_ms)
{
    uint32_t h = filecache_hash(key, key_len);
    struct filecache_file *f;
    size_t size;

    if (!filecache_cacheable(c, st))
        return NULL;
    size = (size_t)st->st_size;
    if (c->detached_bytes + size > c->lim.max_bytes)
        return NULL;
    f = filecache_find(c, key, key_len, h);
    if (f != NULL)
        filecache_unlink(c, f);
    while (c->head && (c->entries >= c->lim.max_entries || c->bytes + size > c->lim.max_bytes)) {
        filecache_unlink(c, c->tail);
        c->evictions++;
    }
    f = malloc(sizeof(*f) + key_len + 1 + size);
    if (f == NULL)
        return NULL;
    memset(f, 0, sizeof(*f));
    f->refs = 1;
    f->in_table = 1;
    f->owner = c;
    f->hash = h;
    f->checked_ms = now_ms;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = st->st_size;
    f->mtim = st->st_mtim;
    f->ctim = st->st_ctim;
    f->type = type;
    f->mtime = st->st_mtime;
    f->etag_len = cond_etag((uint64_t)st->st_ino, st->st_size, st->st_mtime, f->etag);
    httpdate_format(st->st_mtime, f->last_modified);
    f->validator_lines_len = (size_t)snprintf(f->validator_lines, sizeof(f->validator_lines),
                                              "ETag: %s\r\nAccept-Ranges: bytes\r\n", f->etag);
    f->key_len = key_len;
    memcpy(f->key, key, key_len);
    f->key[key_len] = '\0';
    f->data = f->key + key_len + 1;

    f->hnext = c->buckets[h & c->mask];
    c->buckets[h & c->mask] = f;
    filecache_lru_push(c, f);
    c->entries++;
    c->bytes += size;
    return f;
}

void filecache_remove(struct filecache *c, const char *key, size_t key_len)
{
    struct filecache_file *f = filecache_find(c, key, key_len, filecache_hash(key, key_len));

    if (f != NULL)
        filecache_unlink(c, f);
}

void filecache_stats(const struct filecache *c, struct filecache_stats *out)
{
    out->entries = c->entries;
    out->bytes = c->bytes;
    out->detached = c->detached;
    out->detached_bytes = c->detached_bytes;
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
}
