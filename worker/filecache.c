/* File cache: hash table of refcounted file versions with an LRU list, byte and fd bounds. */
#include "worker/filecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

LIST_HEAD(filecache_chain, filecache_file);

struct filecache {
    struct filecache_limits lim;
    struct filecache_chain *buckets;
    uint32_t mask;
    TAILQ_HEAD(filecache_lru, filecache_file) lru; /* most recent first */
    unsigned entries;
    unsigned fds;
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
    TAILQ_INIT(&c->lru);
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
        c->detached_bytes -= f->mem;
        if (c->dead && c->detached == 0)
            free(c);
    }
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

/* f was just used: first in the LRU list. */
static void filecache_touch(struct filecache *c, struct filecache_file *f)
{
    if (TAILQ_FIRST(&c->lru) == f)
        return;
    TAILQ_REMOVE(&c->lru, f, lru);
    TAILQ_INSERT_HEAD(&c->lru, f, lru);
}

/* Take f out of the table and drop the table's reference. */
static void filecache_unlink(struct filecache *c, struct filecache_file *f)
{
    LIST_REMOVE(f, chain);
    TAILQ_REMOVE(&c->lru, f, lru);
    f->in_table = 0;
    c->entries--;
    c->bytes -= f->mem;
    if (f->fd >= 0)
        c->fds--;
    if (f->refs > 1) {
        f->detached = 1;
        c->detached++;
        c->detached_bytes += f->mem;
    }
    filecache_release(f);
}

/* Make room: f goes, least recently used. */
static void filecache_evict(struct filecache *c, struct filecache_file *f)
{
    filecache_unlink(c, f);
    c->evictions++;
}

void filecache_free(struct filecache *c)
{
    struct filecache_file *f;

    if (c == NULL)
        return;
    while ((f = TAILQ_FIRST(&c->lru)) != NULL)
        filecache_unlink(c, f);
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
    struct filecache_file *f;

    LIST_FOREACH(f, &c->buckets[h & c->mask], chain)
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
    filecache_touch(c, f);
    return f;
}

int filecache_unchanged(const struct filecache_file *f, const struct stat *st)
{
    return st->st_nlink > 0 && f->dev == st->st_dev && f->ino == st->st_ino &&
           f->size == st->st_size && f->mtim.tv_sec == st->st_mtim.tv_sec &&
           f->mtim.tv_nsec == st->st_mtim.tv_nsec && f->ctim.tv_sec == st->st_ctim.tv_sec &&
           f->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static enum filecache_kind filecache_kind_of(const struct filecache *c, const struct stat *st)
{
    if (!S_ISREG(st->st_mode) || st->st_size < 0)
        return FILECACHE_NONE;
    if ((size_t)st->st_size <= c->lim.max_file && (size_t)st->st_size <= c->lim.max_bytes)
        return FILECACHE_DATA;
    return c->lim.max_fds > 0 ? FILECACHE_FD : FILECACHE_NONE;
}

struct filecache_file *filecache_revalidate(struct filecache *c, const char *key, size_t key_len,
                                            const struct stat *st, int64_t now_ms,
                                            enum filecache_kind *kind)
{
    struct filecache_file *f = filecache_find(c, key, key_len, filecache_hash(key, key_len));

    *kind = filecache_kind_of(c, st);
    if (f == NULL)
        return NULL;
    if (*kind == FILECACHE_NONE || !filecache_unchanged(f, st)) {
        filecache_unlink(c, f);
        return NULL;
    }
    f->checked_ms = now_ms;
    filecache_touch(c, f);
    return f;
}

/* A new version of key, linked in, data area of mem bytes; the caller has made room. */
static struct filecache_file *filecache_new_file(struct filecache *c, const char *key,
                                                 size_t key_len, uint32_t h, const struct stat *st,
                                                 const char *type, size_t mem, int64_t now_ms)
{
    struct filecache_file *f = malloc(sizeof(*f) + key_len + 1 + mem);

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
    f->key_len = key_len;
    memcpy(f->key, key, key_len);
    f->key[key_len] = '\0';
    f->fd = -1;
    f->mem = mem;
    f->data = mem > 0 || st->st_size == 0 ? f->key + key_len + 1 : NULL;

    LIST_INSERT_HEAD(&c->buckets[h & c->mask], f, chain);
    TAILQ_INSERT_HEAD(&c->lru, f, lru);
    c->entries++;
    c->bytes += mem;
    return f;
}

struct filecache_file *filecache_insert(struct filecache *c, const char *key, size_t key_len,
                                        const struct stat *st, const char *type, int64_t now_ms)
{
    uint32_t h = filecache_hash(key, key_len);
    struct filecache_file *f;
    size_t size;

    if (filecache_kind_of(c, st) != FILECACHE_DATA)
        return NULL;
    size = (size_t)st->st_size;
    if (c->detached_bytes + size > c->lim.max_bytes)
        return NULL;
    f = filecache_find(c, key, key_len, h);
    if (f != NULL)
        filecache_unlink(c, f);
    while (!TAILQ_EMPTY(&c->lru) &&
           (c->entries >= c->lim.max_entries || c->bytes + size > c->lim.max_bytes))
        filecache_evict(c, TAILQ_LAST(&c->lru, filecache_lru));
    return filecache_new_file(c, key, key_len, h, st, type, size, now_ms);
}

struct filecache_file *filecache_insert_fd(struct filecache *c, const char *key, size_t key_len,
                                           const struct stat *st, const char *type, int fd,
                                           int64_t now_ms)
{
    uint32_t h = filecache_hash(key, key_len);
    struct filecache_file *f;

    if (fd < 0 || filecache_kind_of(c, st) != FILECACHE_FD)
        return NULL;
    f = filecache_find(c, key, key_len, h);
    if (f != NULL)
        filecache_unlink(c, f);
    /* The oldest descriptor entry makes room for this one; a short walk from the LRU end. */
    for (f = TAILQ_LAST(&c->lru, filecache_lru); f != NULL && c->fds >= c->lim.max_fds;) {
        struct filecache_file *prev = TAILQ_PREV(f, filecache_lru, lru);
        if (f->fd >= 0)
            filecache_evict(c, f);
        f = prev;
    }
    while (!TAILQ_EMPTY(&c->lru) && c->entries >= c->lim.max_entries)
        filecache_evict(c, TAILQ_LAST(&c->lru, filecache_lru));
    f = filecache_new_file(c, key, key_len, h, st, type, 0, now_ms);
    if (f == NULL)
        return NULL;
    f->fd = fd;
    c->fds++;
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
    out->fds = c->fds;
    out->bytes = c->bytes;
    out->detached = c->detached;
    out->detached_bytes = c->detached_bytes;
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
}
