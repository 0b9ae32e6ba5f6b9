/*
 * memcpy/memset that always call the C library. GCC expands a copy or fill
 * whose length it knows or can bound (a struct, a string of at most 255
 * bytes) into rep movsq/stosq, whose start-up on current x86 costs more than
 * the whole job for a few dozen bytes; libc's versions do such lengths with
 * a couple of vector moves. Hiding the length from the optimiser keeps the
 * call. For hot paths with short, varying lengths only.
 */
#ifndef LABMON_LIBC_MEM_H
#define LABMON_LIBC_MEM_H

#include <stddef.h>
#include <string.h>

static inline void *libc_mem_copy(void *dst, const void *src, size_t n)
{
    __asm__("" : "+r"(n)); /* the optimiser no longer knows n */
    return memcpy(dst, src, n);
}

static inline void *libc_mem_set(void *dst, int c, size_t n)
{
    __asm__("" : "+r"(n));
    return memset(dst, c, n);
}

#endif
