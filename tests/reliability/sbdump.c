/*
 * Print labd's scoreboard for the reliability tests, one line per live
 * worker slot, in a form shell tests can grep:
 *
 *   worker SLOT pid PID state STATE gen G accepted A requests R conns C
 *   total conns C workers N master PID
 *
 * Header-only use of shared/scoreboard.h (seqlock reads, offsets from the
 * file's own header), so it builds with a plain `cc -I$SRC`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/scoreboard.h"

static const char *state_name(unsigned s)
{
    static const char *names[] = { "free", "starting", "ready", "draining", "dead" };
    return s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sbdump RUN_DIR/labd.scoreboard\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct sb_header)) {
        perror(argv[1]);
        return 1;
    }
    void *p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct scoreboard sb = { .hdr = p, .size = st.st_size, .fd = fd };
    const struct sb_header *h = sb.hdr;
    if (h->magic != SB_MAGIC || h->version != SB_VERSION ||
        sb_size_for(h->nslots, h->conns_per_slot, h->recent_per_slot) > (size_t)st.st_size ||
        h->worker_size != sizeof(struct sb_worker)) {
        fprintf(stderr, "sbdump: %s: not a scoreboard of this layout\n", argv[1]);
        return 1;
    }
    unsigned total = 0, live = 0;
    for (uint32_t i = 0; i < h->nslots; i++) {
        struct sb_worker w;
        if (sb_read(&w, sb_worker_at(&sb, i), sizeof w) < 0)
            continue;
        if (w.state == SB_WORKER_FREE)
            continue;
        printf("worker %u pid %d state %s gen %u accepted %llu requests %llu conns %u\n", i, w.pid,
               state_name(w.state), w.generation, (unsigned long long)w.accepted,
               (unsigned long long)w.requests, w.conns_now);
        if (w.state == SB_WORKER_READY || w.state == SB_WORKER_DRAINING) {
            total += w.conns_now;
            live++;
        }
    }
    /* The header's seq is not its first field: read the pid on its own. */
    int32_t master = __atomic_load_n(&h->master_pid, __ATOMIC_ACQUIRE);
    printf("total conns %u workers %u master %d\n", total, live, master);
    return 0;
}
