/* Unit tests for monitor/objpool.c: distinct aligned objects, reuse of what
 * was put back, growth past one chunk, and a pool usable again after free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "monitor/objpool.h"

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* n objects of size bytes: each 16-aligned, writable whole, none overlapping. */
static void get_many(struct objpool *p, void **o, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        o[i] = objpool_get(p);
        assert_non_null(o[i]);
        assert_int_equal((uintptr_t)o[i] % 16, 0);
        memset(o[i], (int)(i & 0xff), size);
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(((unsigned char *)o[i])[size - 1], i & 0xff);
    void **sorted = malloc(n * sizeof(*sorted));
    assert_non_null(sorted);
    memcpy(sorted, o, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_ptr);
    for (size_t i = 1; i < n; i++)
        assert_true((uintptr_t)sorted[i] - (uintptr_t)sorted[i - 1] >= size);
    free(sorted);
}

static void test_get_put(void **state)
{
    struct objpool p;
    void *o[4];

    (void)state;
    objpool_init(&p, 300);
    assert_int_equal(p.size, 304); /* rounded up to 16 */
    get_many(&p, o, 4, 300);
    assert_int_equal(p.live, 4);
    objpool_put(&p, o[1]);
    objpool_put(&p, o[2]);
    objpool_put(&p, NULL); /* as free(NULL) */
    assert_int_equal(p.live, 2);
    /* The last one back is the first out (still warm in the cache). */
    assert_ptr_equal(objpool_get(&p), o[2]);
    assert_ptr_equal(objpool_get(&p), o[1]);
    assert_int_equal(p.live, 4);
    objpool_free(&p);
    assert_int_equal(p.live, 0);
    assert_int_equal(p.nchunks, 0);
}

/* More objects than one 2 MiB chunk holds: the pool grows, all stay distinct. */
static void test_grows(void **state)
{
    struct objpool p;
    size_t n = 3 * ((size_t)2 << 20) / 512 + 7;
    void **o = malloc(n * sizeof(*o));

    (void)state;
    assert_non_null(o);
    objpool_init(&p, 500);
    get_many(&p, o, n, 500);
    assert_int_equal(p.nchunks, 4);
    for (size_t i = 0; i < n; i++)
        objpool_put(&p, o[i]);
    assert_int_equal(p.live, 0);
    /* Everything put back is handed out again before any new chunk. */
    get_many(&p, o, n, 500);
    assert_int_equal(p.nchunks, 4);
    objpool_free(&p);
    /* Usable again after free. */
    get_many(&p, o, 10, 500);
    objpool_free(&p);
    free(o);
}

/* Objects smaller than a pointer still hold the free-list link. */
static void test_tiny(void **state)
{
    struct objpool p;
    void *a, *b;

    (void)state;
    objpool_init(&p, 1);
    assert_true(p.size >= sizeof(void *));
    a = objpool_get(&p);
    b = objpool_get(&p);
    assert_ptr_not_equal(a, b);
    objpool_put(&p, a);
    objpool_put(&p, b);
    assert_ptr_equal(objpool_get(&p), b);
    assert_ptr_equal(objpool_get(&p), a);
    objpool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put),
        cmocka_unit_test(test_grows),
        cmocka_unit_test(test_tiny),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
