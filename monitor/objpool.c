/* Fixed-size objects from huge-page chunks (see objpool.h). */
#include "monitor/objpool.h"

#include <stdint.h>
#include <sys/mman.h>

/* Under ASan a freed object is poisoned until it is handed out again. */
#if defined(__SANITIZE_ADDRESS__)
#define OBJPOOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) /* clang before 16 */
#define OBJPOOL_ASAN 1
#endif
#endif
#ifdef OBJPOOL_ASAN
#include <sanitizer/asan_interface.h>
#define OBJPOOL_POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define OBJPOOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define OBJPOOL_POISON(p, n)   ((void)(p), (void)(n))
#define OBJPOOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define OBJPOOL_CHUNK ((size_t)2 << 20) /* one huge page */

/* The head of each chunk: the list of chunks, for objpool_free. */
struct objpool_chunk {
    struct objpool_chunk *next;
};

void objpool_init(struct objpool *p, size_t size)
{
    if (size < sizeof(void *))
        size = sizeof(void *);
    p->size = (size + 15) & ~(size_t)15;
    p->free = NULL;
    p->next = p->end = NULL;
    p->chunks = NULL;
    p->nchunks = 0;
    p->live = 0;
}

/*
 * A new chunk aligned to its size, so that the kernel can give it one huge
 * page: map twice the size and unmap what lies outside the aligned part.
 */
static int objpool_grow(struct objpool *p)
{
    char *m =
        mmap(NULL, 2 * OBJPOOL_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (m == MAP_FAILED)
        return -1;
    uintptr_t a = ((uintptr_t)m + OBJPOOL_CHUNK - 1) & ~(uintptr_t)(OBJPOOL_CHUNK - 1);
    char *c = (char *)a;
    if (c > m)
        munmap(m, (size_t)(c - m));
    if (c + OBJPOOL_CHUNK < m + 2 * OBJPOOL_CHUNK)
        munmap(c + OBJPOOL_CHUNK, (size_t)(m + 2 * OBJPOOL_CHUNK - (c + OBJPOOL_CHUNK)));
#ifdef MADV_HUGEPAGE
    madvise(c, OBJPOOL_CHUNK, MADV_HUGEPAGE);
#endif
    struct objpool_chunk *h = (struct objpool_chunk *)c;
    h->next = p->chunks;
    p->chunks = h;
    p->nchunks++;
    p->next = c + ((sizeof(*h) + 15) & ~(size_t)15);
    p->end = c + OBJPOOL_CHUNK;
    OBJPOOL_POISON(p->next, (size_t)(p->end - p->next));
    return 0;
}

void *objpool_get(struct objpool *p)
{
    void *o = p->free;

    if (o != NULL) {
        OBJPOOL_UNPOISON(o, p->size);
        p->free = *(void **)o;
    } else {
        if ((size_t)(p->end - p->next) < p->size && objpool_grow(p) < 0)
            return NULL;
        o = p->next;
        p->next += p->size;
        OBJPOOL_UNPOISON(o, p->size);
    }
    p->live++;
    return o;
}

void objpool_put(struct objpool *p, void *o)
{
    if (o == NULL)
        return;
    *(void **)o = p->free;
    p->free = o;
    p->live--;
    OBJPOOL_POISON(o, p->size);
}

void objpool_free(struct objpool *p)
{
    struct objpool_chunk *c = p->chunks, *next;

    while (c != NULL) {
        next = c->next;
        OBJPOOL_UNPOISON(c, OBJPOOL_CHUNK);
        munmap(c, OBJPOOL_CHUNK);
        c = next;
    }
    objpool_init(p, p->size);
}
