/*
 * A pool of fixed-size objects carved from 2 MiB chunks that the kernel may
 * back with huge pages, with a free list. For records made and freed once
 * per connection (the HTTP sniffers and their line buffers): from malloc's
 * heap, which grows a 4 KiB page at a time, their first touches were a page
 * fault each -- some 8 % of labmon's CPU on a capture of short connections.
 * Memory goes back to the system only when the pool is freed. One pool per
 * engine; not for sharing between threads.
 */
#ifndef LABMON_OBJPOOL_H
#define LABMON_OBJPOOL_H

#include <stddef.h>

struct objpool_chunk;

struct objpool {
    size_t size;                  /* object size, rounded up to 16 */
    void *free;                   /* freed objects, linked through their first word */
    char *next, *end;             /* the newest chunk's part never handed out */
    struct objpool_chunk *chunks; /* every chunk, newest first */
    size_t nchunks;
    size_t live; /* objects handed out and not yet put back */
};

/* An empty pool of objects of size bytes (no memory until the first get). */
void objpool_init(struct objpool *p, size_t size);
/* An object (contents undefined), or NULL without memory. */
void *objpool_get(struct objpool *p);
/* Gives o (from objpool_get on p, or NULL) back. */
void objpool_put(struct objpool *p, void *o);
/* Unmaps every chunk; objects still out are gone. The pool may be used again. */
void objpool_free(struct objpool *p);

#endif
