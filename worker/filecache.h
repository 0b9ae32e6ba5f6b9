/*
 * File cache, one per worker: the bytes of recently served small files, and
 * an open descriptor of larger ones (nginx's open_file_cache), with their
 * validators (ETag, Last-Modified) computed once, keyed by the normalised
 * request path. Bounded in entries, descriptors and bytes, least recently
 * used evicted first. The caller opens, stats and reads files and passes the
 * time; the cache only closes the descriptors it was given.
 */
#ifndef LABD_FILECACHE_H
#define LABD_FILECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "worker/cond.h"
#include "worker/httpdate.h"

/*
 * One version of one file. Reference-counted: the table holds one reference
 * while the file is in it, a response in flight one more, so an entry that
 * is replaced or evicted while being sent stays valid until the send ends.
 */
struct filecache_file {
    unsigned refs;
    int in_table;
    int detached; /* out of the table, still referenced */
    struct filecache *owner;
    LIST_ENTRY(filecache_file) chain; /* in its hash bucket */
    TAILQ_ENTRY(filecache_file) lru;  /* in the LRU list, most recent first */
    uint32_t hash;
    int64_t checked_ms; /* last time the file on disk was found unchanged */

    /* Identity of the version cached: a change in any of these is a new version. */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;

    const char *type; /* MIME type (from mime_lookup: lives as long as the worker) */
    time_t mtime;
    char etag[COND_ETAG_MAX];
    size_t etag_len;
    char last_modified[HTTPDATE_LEN + 1];

    int fd;     /* larger files: an open descriptor (owned), data NULL; else -1 */
    size_t mem; /* bytes of data held: size, or 0 for a descriptor */
    char *data; /* size bytes, after the key in the same allocation */
    size_t key_len;
    char key[]; /* NUL-terminated */
};

struct filecache;

struct filecache_limits {
    size_t max_bytes;     /* file bytes held by the table */
    size_t max_file;      /* larger files are held as a descriptor, not bytes */
    unsigned max_entries; /* files held by the table */
    unsigned max_fds;     /* of them, held as descriptors (0: larger files not cached) */
    int valid_ms;         /* an entry older than this is checked against the disk */
};

/* A new empty cache, or NULL (errno ENOMEM, or EINVAL for zero limits). */
struct filecache *filecache_new(const struct filecache_limits *lim);

/*
 * Drop the table's references; files still referenced elsewhere (and the
 * little the cache needs to account for them) stay until released.
 */
void filecache_free(struct filecache *c);

/*
 * The cached file for key if it was checked within valid_ms of now_ms, else
 * NULL. Borrowed: valid until the next call that changes the table, unless
 * the caller takes a reference with filecache_ref.
 */
struct filecache_file *filecache_lookup(struct filecache *c, const char *key, size_t key_len,
                                        int64_t now_ms);

/* How a file would be cached: not at all, its bytes, or an open descriptor. */
enum filecache_kind { FILECACHE_NONE, FILECACHE_DATA, FILECACHE_FD };

/*
 * The file at key was just opened and stat'ed as st (by the same path
 * decisions as an uncached request). If the cached version is the same
 * (filecache_unchanged), it is marked checked at now_ms and returned.
 * Otherwise NULL: *kind says which insert would take it.
 */
struct filecache_file *filecache_revalidate(struct filecache *c, const char *key, size_t key_len,
                                            const struct stat *st, int64_t now_ms,
                                            enum filecache_kind *kind);

/*
 * Is st (of the file on disk, or of f->fd) still the version cached: same
 * device, inode, size, mtime and ctime, and still linked somewhere?
 */
int filecache_unchanged(const struct filecache_file *f, const struct stat *st);

/*
 * Put a new version of key in the table (replacing any older one, evicting
 * the least recently used as needed) and return it with its data area of
 * st->st_size bytes for the caller to fill. If the caller cannot fill it,
 * it must filecache_remove the key before any other call. NULL when the file
 * is not cacheable, memory is short, or replaced versions still being sent
 * hold max_bytes already (so the cache holds little more than twice that).
 */
struct filecache_file *filecache_insert(struct filecache *c, const char *key, size_t key_len,
                                        const struct stat *st, const char *type, int64_t now_ms);

/*
 * Put a larger file in the table as its open descriptor fd (st from it),
 * replacing any older version and evicting the least recently used
 * descriptor entry when max_fds are held. On success the cache owns fd (it
 * closes it when the last reference goes); NULL leaves fd to the caller.
 */
struct filecache_file *filecache_insert_fd(struct filecache *c, const char *key, size_t key_len,
                                           const struct stat *st, const char *type, int fd,
                                           int64_t now_ms);

/* Forget key (a request found the file gone or unreadable). */
void filecache_remove(struct filecache *c, const char *key, size_t key_len);

void filecache_ref(struct filecache_file *f);
void filecache_release(struct filecache_file *f);

/* Usage, for tests and logs. */
struct filecache_stats {
    unsigned entries;
    unsigned fds; /* entries holding a descriptor */
    size_t bytes;
    unsigned detached;     /* versions out of the table but still being sent */
    size_t detached_bytes; /* their bytes */
    unsigned long long hits, misses, evictions;
};
void filecache_stats(const struct filecache *c, struct filecache_stats *out);

#endif
