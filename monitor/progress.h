/*
 * The progress line of a long offline run ("labmon: 42% of FILE, 1.8 M
 * packets/s, 14 s left"), shown on a terminal's stderr while a big capture
 * is read. Pure: the shell passes the time, how far the file is read and
 * the packets, and writes the line it gets back.
 */
#ifndef LABMON_PROGRESS_H
#define LABMON_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* The line changes at most this often (four times a second). */
#define PROGRESS_EVERY_NS 250000000LL

struct progress {
    int64_t start_ns; /* when reading began */
    int64_t next_ns;  /* the next line is due then */
    int shown;        /* a line is on the screen */
};

void progress_init(struct progress *p, int64_t now_ns);

/*
 * The line for now (done of total bytes read, total 0 when not known; pkts
 * packets), into buf starting with "\r" and ending with an erase to the
 * end of the line; its length, or 0 when no new line is due yet.
 */
size_t progress_line(struct progress *p, int64_t now_ns, const char *what, uint64_t done,
                     uint64_t total, uint64_t pkts, char *buf, size_t n);

/* What erases a shown line at the end (into buf): its length, 0 when none is shown. */
size_t progress_clear(struct progress *p, char *buf, size_t n);

#endif
