/* The progress line of a long offline run (see progress.h). */
#include "monitor/progress.h"

#include <stdio.h>
#include <string.h>

#define PROGRESS_ERASE "\033[K" /* erase to the end of the line */

void progress_init(struct progress *p, int64_t now_ns)
{
    *p = (struct progress){ .start_ns = now_ns, .next_ns = now_ns + PROGRESS_EVERY_NS };
}

/* "1.8 M", "950 k", "12" */
static void progress_count(double v, char *buf, size_t n)
{
    if (v >= 1e6)
        snprintf(buf, n, "%.1f M", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, n, "%.0f k", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
}

/* "14 s", "3 min 20 s", "2 h 05 min" */
static void progress_left(double s, char *buf, size_t n)
{
    unsigned long t = s < 0 ? 0 : (unsigned long)(s + 0.5);

    if (t < 60)
        snprintf(buf, n, "%lu s", t);
    else if (t < 3600)
        snprintf(buf, n, "%lu min %02lu s", t / 60, t % 60);
    else
        snprintf(buf, n, "%lu h %02lu min", t / 3600, t / 60 % 60);
}

size_t progress_line(struct progress *p, int64_t now_ns, const char *what, uint64_t done,
                     uint64_t total, uint64_t pkts, char *buf, size_t n)
{
    double secs = (double)(now_ns - p->start_ns) / 1e9;
    char rate[32], count[32], left[32];
    int w;

    if (now_ns < p->next_ns || n == 0 || secs <= 0)
        return 0;
    p->next_ns = now_ns + PROGRESS_EVERY_NS;
    progress_count((double)pkts / secs, rate, sizeof(rate));
    progress_count((double)pkts, count, sizeof(count));
    if (total > 0 && done <= total && done > 0) {
        progress_left(secs * (double)(total - done) / (double)done, left, sizeof(left));
        w = snprintf(buf, n,
                     "\rlabmon: %.0f%% of %s, %s packets, %s packets/s, %s left" PROGRESS_ERASE,
                     100.0 * (double)done / (double)total, what, count, rate, left);
    } else {
        w = snprintf(buf, n, "\rlabmon: %s, %s packets, %s packets/s" PROGRESS_ERASE, what, count,
                     rate);
    }
    if (w < 0)
        return 0;
    p->shown = 1;
    return (size_t)w < n ? (size_t)w : n - 1;
}

size_t progress_clear(struct progress *p, char *buf, size_t n)
{
    int w;

    if (!p->shown)
        return 0;
    p->shown = 0;
    w = snprintf(buf, n, "\r" PROGRESS_ERASE);
    return w > 0 && (size_t)w < n ? (size_t)w : 0;
}
