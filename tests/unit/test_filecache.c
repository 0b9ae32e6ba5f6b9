/*
 * Tests for worker/filecache.c: the table alone, with made-up stat results
 * and a fake clock (milliseconds passed in by the test).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "worker/filecache.h"

/* A regular file as fstat would describe it. */
static struct stat st_file(ino_t ino, off_t size, time_t mtime)
{
    struct stat st;

    memset(&st, 0, sizeof(st));
    st.st_mode = S_IFREG | 0644;
    st.st_nlink = 1;
    st.st_dev = 8;
    st.st_ino = ino;
    st.st_size = size;
    st.st_mtim.tv_sec = mtime;
    st.st_ctim.tv_sec = mtime;
    return st;
}

static struct filecache *cache_new_fds(size_t max_bytes, size_t max_file, unsigned entries,
                                       unsigned fds, int valid)
{
    struct filecache_limits lim = {
        .max_bytes = max_bytes,
        .max_file = max_file,
        .max_entries = entries,
        .max_fds = fds,
        .valid_ms = valid,
    };
    struct filecache *c = filecache_new(&lim);

    assert_non_null(c);
    return c;
}

/* Bytes only: larger files are not cached at all. */
static struct filecache *cache_new(size_t max_bytes, size_t max_file, unsigned entries, int valid)
{
    return cache_new_fds(max_bytes, max_file, entries, 0, valid);
}

/* Insert key with size bytes of fill, as the handler does after reading the file. */
static struct filecache_file *put(struct filecache *c, const char *key, ino_t ino, off_t size,
                                  int64_t now)
{
    struct stat st = st_file(ino, size, 1700000000);
    struct filecache_file *f = filecache_insert(c, key, strlen(key), &st, "text/plain", now);

    if (f != NULL)
        memset(f->data, key[1], (size_t)size);
    return f;
}

static struct filecache_file *get(struct filecache *c, const char *key, int64_t now)
{
    return filecache_lookup(c, key, strlen(key), now);
}

static void test_hit_miss_and_validators(void **state)
{
    struct filecache *c = cache_new(1 << 20, 65536, 16, 1000);
    struct filecache_file *f;
    struct filecache_stats s;

    (void)state;
    assert_null(get(c, "/a", 0));
    f = put(c, "/a", 42, 10, 0);
    assert_non_null(f);
    assert_ptr_equal(get(c, "/a", 500), f);
    assert_null(get(c, "/b", 500));
    assert_null(get(c, "/a/", 500)); /* keys are whole strings */
    assert_string_equal(f->key, "/a");
    assert_string_equal(f->type, "text/plain");
    assert_string_equal(f->etag, "\"2a-a-6553f100\"");
    assert_int_equal(f->etag_len, strlen(f->etag));
    assert_string_equal(f->last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_int_equal(f->mtime, 1700000000);
    filecache_stats(c, &s);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.bytes, 10);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 3);
    filecache_free(c);
}

/* valid_ms after the last check the entry is no longer served without a look at the disk. */
static void test_freshness(void **state)
{
    struct filecache *c = cache_new(1 << 20, 65536, 16, 1000);
    struct stat same = st_file(42, 10, 1700000000), changed;
    struct filecache_file *f;
    enum filecache_kind kind;

    (void)state;
    f = put(c, "/a", 42, 10, 10000);
    assert_ptr_equal(get(c, "/a", 10999), f);
    assert_null(get(c, "/a", 11000));
    assert_null(get(c, "/a", 9999)); /* a clock going back is not trusted either */

    /* Unchanged on disk: the same copy, fresh again from the check. */
    assert_ptr_equal(filecache_revalidate(c, "/a", 2, &same, 11000, &kind), f);
    assert_int_equal(kind, FILECACHE_DATA);
    assert_ptr_equal(get(c, "/a", 11999), f);
    assert_null(get(c, "/a", 12000));

    /* Any of size, mtime (ns), ctime, inode, device changed, or unlinked: a new version. */
    const struct {
        int field;
    } cases[] = { { 0 }, { 1 }, { 2 }, { 3 }, { 4 }, { 5 } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f = put(c, "/a", 42, 10, 20000);
        changed = same;
        switch (cases[i].field) {
        case 0:
            changed.st_size = 11;
            break;
        case 1:
            changed.st_mtim.tv_nsec = 1;
            break;
        case 2:
            changed.st_ctim.tv_sec++;
            break;
        case 3:
            changed.st_ino = 43;
            break;
        case 4:
            changed.st_dev = 9;
            break;
        case 5:
            changed.st_nlink = 0;
            break;
        }
        assert_null(filecache_revalidate(c, "/a", 2, &changed, 21000, &kind));
        assert_int_equal(kind, FILECACHE_DATA);
        assert_null(get(c, "/a", 21000));
        assert_null(filecache_revalidate(c, "/a", 2, &same, 21000, &kind)); /* gone */
    }
    filecache_free(c);
}

/* Too big, not a regular file: not cached, and an old copy of the key is dropped. */
static void test_not_cacheable(void **state)
{
    struct filecache *c = cache_new(1 << 20, 100, 16, 1000);
    struct stat big = st_file(1, 101, 1700000000), dir = st_file(2, 0, 1700000000);
    struct filecache_stats s;
    enum filecache_kind kind;

    (void)state;
    dir.st_mode = S_IFDIR | 0755;
    assert_null(filecache_insert(c, "/big", 4, &big, NULL, 0));
    assert_null(filecache_insert(c, "/dir", 4, &dir, NULL, 0));
    assert_non_null(put(c, "/x", 3, 100, 0)); /* exactly max_file is fine */
    assert_null(filecache_revalidate(c, "/x", 2, &big, 5000, &kind));
    assert_int_equal(kind, FILECACHE_NONE);
    filecache_stats(c, &s);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.bytes, 0);
    assert_non_null(put(c, "/e", 4, 0, 0)); /* empty files are cached too */
    filecache_free(c);
}

/* The least recently used entry goes first when the entry count is reached. */
static void test_evict_by_entries(void **state)
{
    struct filecache *c = cache_new(1 << 20, 65536, 3, 1000);
    struct filecache_stats s;

    (void)state;
    put(c, "/a", 1, 10, 0);
    put(c, "/b", 2, 10, 0);
    put(c, "/c", 3, 10, 0);
    assert_non_null(get(c, "/a", 1)); /* /b is now the oldest */
    put(c, "/d", 4, 10, 2);
    assert_null(get(c, "/b", 3));
    assert_non_null(get(c, "/a", 3));
    assert_non_null(get(c, "/c", 3));
    assert_non_null(get(c, "/d", 3));
    filecache_stats(c, &s);
    assert_int_equal(s.entries, 3);
    assert_int_equal(s.evictions, 1);
    filecache_free(c);
}

/* The byte bound holds: as many old entries go as the new one needs. */
static void test_evict_by_bytes(void **state)
{
    struct filecache *c = cache_new(100, 100, 64, 1000);
    struct filecache_stats s;

    (void)state;
    for (int i = 0; i < 10; i++) {
        char key[8];
        snprintf(key, sizeof(key), "/%c", 'a' + i);
        assert_non_null(put(c, key, (ino_t)i + 1, 10, i));
    }
    filecache_stats(c, &s);
    assert_int_equal(s.bytes, 100);
    assert_non_null(put(c, "/z", 99, 35, 20));
    filecache_stats(c, &s);
    assert_true(s.bytes <= 100);
    assert_int_equal(s.entries, 7); /* /a /b /c /d went: 60 + 35 */
    assert_null(get(c, "/d", 21));
    assert_non_null(get(c, "/e", 21));
    assert_non_null(get(c, "/z", 21));
    /* Replacing a key does not count its old size twice. */
    assert_non_null(put(c, "/z", 100, 40, 22));
    filecache_stats(c, &s);
    assert_int_equal(s.bytes, 100);
    assert_int_equal(s.entries, 7);
    filecache_free(c);
}

/* A version being sent outlives its replacement, eviction and the cache itself. */
static void test_references(void **state)
{
    struct filecache *c = cache_new(20, 20, 2, 1000);
    struct filecache_file *f, *g;

    (void)state;
    f = put(c, "/a", 1, 10, 0);
    filecache_ref(f);
    g = put(c, "/a", 2, 10, 1);
    assert_ptr_not_equal(f, g);
    assert_false(f->in_table);
    assert_memory_equal(f->data, "aaaaaaaaaa", 10); /* ASan would flag a freed copy */
    filecache_release(f);

    filecache_ref(g);
    put(c, "/b", 3, 20, 2); /* evicts /a */
    assert_null(get(c, "/a", 3));
    assert_memory_equal(g->data, "aaaaaaaaaa", 10);
    filecache_free(c);
    assert_memory_equal(g->data, "aaaaaaaaaa", 10);
    filecache_release(g);
}

/* Old versions still being sent count against a second max_bytes: past it, nothing is inserted. */
static void test_detached_bound(void **state)
{
    struct filecache *c = cache_new(100, 100, 16, 1000);
    struct filecache_file *a, *b;
    struct filecache_stats s;

    (void)state;
    a = put(c, "/a", 1, 60, 0);
    filecache_ref(a);           /* a slow client is being sent /a */
    b = put(c, "/b", 2, 60, 1); /* evicts /a */
    assert_non_null(b);
    filecache_stats(c, &s);
    assert_int_equal(s.detached, 1);
    assert_int_equal(s.detached_bytes, 60);
    assert_int_equal(s.bytes, 60);
    assert_null(put(c, "/c", 3, 50, 2));     /* 60 held + 50 > 100 */
    assert_non_null(get(c, "/b", 2));        /* the table is untouched */
    assert_non_null(put(c, "/d", 4, 40, 3)); /* 60 held + 40 fits */
    filecache_release(a);
    filecache_stats(c, &s);
    assert_int_equal(s.detached, 0);
    assert_int_equal(s.detached_bytes, 0);
    assert_non_null(put(c, "/c", 3, 50, 4));

    /* Freed with a version still out: the accounting lives until that is released. */
    a = get(c, "/c", 5);
    filecache_ref(a);
    filecache_free(c);
    assert_memory_equal(a->data, "ccccc", 5);
    filecache_release(a); /* frees the file and what is left of the cache (ASan checks) */
}

static int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

/* Larger files are held as their descriptor; at most max_fds of them, closed when let go. */
static void test_fd_entries(void **state)
{
    struct filecache *c = cache_new_fds(1000, 100, 16, 2, 1000);
    struct stat big = st_file(7, 5000, 1700000000), small = st_file(8, 10, 1700000000);
    struct filecache_file *a, *b, *d;
    struct filecache_stats s;
    enum filecache_kind kind;
    int fa = open("/dev/null", O_RDONLY), fb = open("/dev/null", O_RDONLY);
    int fd = open("/dev/null", O_RDONLY), fs = open("/dev/null", O_RDONLY);

    (void)state;
    assert_true(fa >= 0 && fb >= 0 && fd >= 0 && fs >= 0);
    assert_null(filecache_revalidate(c, "/a", 2, &big, 0, &kind));
    assert_int_equal(kind, FILECACHE_FD);
    assert_null(filecache_insert(c, "/a", 2, &big, NULL, 0));          /* not as bytes */
    assert_null(filecache_insert_fd(c, "/s", 2, &small, NULL, fs, 0)); /* not as a descriptor */
    assert_true(fd_open(fs));
    close(fs);

    a = filecache_insert_fd(c, "/a", 2, &big, "audio/mpeg", fa, 0);
    assert_non_null(a);
    assert_int_equal(a->fd, fa);
    assert_null(a->data);
    assert_int_equal(a->size, 5000);
    assert_string_equal(a->etag, "\"7-1388-6553f100\"");
    assert_non_null(put(c, "/x", 9, 50, 1));
    assert_ptr_equal(get(c, "/a", 1), a);
    assert_ptr_equal(filecache_revalidate(c, "/a", 2, &big, 2000, &kind), a);
    filecache_stats(c, &s);
    assert_int_equal(s.entries, 2);
    assert_int_equal(s.fds, 1);
    assert_int_equal(s.bytes, 50); /* a descriptor costs no bytes */

    filecache_ref(a); /* being sent */
    b = filecache_insert_fd(c, "/b", 2, &big, NULL, fb, 3);
    d = filecache_insert_fd(c, "/d", 2, &big, NULL, fd, 4); /* /a is the oldest descriptor */
    assert_non_null(b);
    assert_non_null(d);
    assert_null(get(c, "/a", 5));
    assert_non_null(get(c, "/x", 5)); /* bytes entries are not evicted for descriptors */
    filecache_stats(c, &s);
    assert_int_equal(s.fds, 2);
    assert_true(fd_open(fa)); /* still being sent */
    filecache_release(a);
    assert_false(fd_open(fa));

    filecache_remove(c, "/b", 2);
    assert_false(fd_open(fb));
    filecache_free(c);
    assert_false(fd_open(fd));
}

static void test_remove_and_limits(void **state)
{
    struct filecache_limits zero = { .max_bytes = 0, .max_file = 10, .max_entries = 10 };
    struct filecache *c = cache_new(1000, 100, 8, 0);

    (void)state;
    assert_null(filecache_new(&zero));
    put(c, "/a", 1, 10, 0);
    assert_null(get(c, "/a", 0)); /* valid 0: every request checks the disk */
    filecache_remove(c, "/a", 2);
    filecache_remove(c, "/nothing", 8);
    enum filecache_kind kind;
    struct stat st = st_file(1, 10, 1700000000);
    assert_null(filecache_revalidate(c, "/a", 2, &st, 1, &kind));
    /* Many keys in a small table: chains stay correct. */
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof(key), "/k%d", i);
        assert_non_null(put(c, key, (ino_t)i, 1, i));
    }
    struct filecache_stats s;
    filecache_stats(c, &s);
    assert_int_equal(s.entries, 8);
    for (int i = 992; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof(key), "/k%d", i);
        st = st_file((ino_t)i, 1, 1700000000);
        assert_non_null(filecache_revalidate(c, key, strlen(key), &st, 2000, &kind));
    }
    filecache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_miss_and_validators), cmocka_unit_test(test_freshness),
        cmocka_unit_test(test_not_cacheable),           cmocka_unit_test(test_evict_by_entries),
        cmocka_unit_test(test_evict_by_bytes),          cmocka_unit_test(test_references),
        cmocka_unit_test(test_detached_bound),          cmocka_unit_test(test_fd_entries),
        cmocka_unit_test(test_remove_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
