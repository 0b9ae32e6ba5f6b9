/* The scoreboard file: create and map it (master), open and validate it (readers), search it. */
#include "shared/scoreboard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Upper bounds that keep a corrupt or hostile header from sizing a huge map. */
#define SB_MAX_SLOTS  4096
#define SB_MAX_CONNS  (1u << 20)
#define SB_MAX_RECENT 65536

int sb_create(struct scoreboard *sb, const char *path, uint32_t nslots, uint32_t conns,
              uint32_t recent)
{
    char tmp[4096];
    struct sb_header *h;
    size_t size;
    void *map;
    int saved;

    memset(sb, 0, sizeof(*sb));
    sb->fd = -1;
    if (nslots == 0 || nslots > SB_MAX_SLOTS || conns > SB_MAX_CONNS || recent > SB_MAX_RECENT) {
        errno = EINVAL;
        return -1;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    size = sb_size_for(nslots, conns, recent);
    /*
     * Build the file beside its final name and rename it into place: a reader
     * that still maps an older scoreboard keeps a valid (unlinked) file instead
     * of one truncated under it (which would be SIGBUS).
     */
    unlink(tmp);
    sb->fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (sb->fd < 0)
        return -1;
    if (ftruncate(sb->fd, (off_t)size) < 0)
        goto fail;
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, sb->fd, 0);
    if (map == MAP_FAILED)
        goto fail;
    sb->hdr = h = map;
    sb->size = size;
    h->version = SB_VERSION;
    h->header_size = sizeof(struct sb_header);
    h->worker_size = sizeof(struct sb_worker);
    h->conn_size = sizeof(struct sb_conn);
    h->nslots = nslots;
    h->conns_per_slot = conns;
    h->recent_per_slot = recent;
    h->master_pid = (int32_t)getpid();
    /* Magic last: a reader that sees it sees a complete layout. */
    __atomic_store_n(&h->magic, SB_MAGIC, __ATOMIC_RELEASE);
    if (rename(tmp, path) < 0)
        goto fail;
    sb->writable = 1;
    return 0;
fail:
    saved = errno;
    sb_close(sb);
    unlink(tmp);
    errno = saved;
    return -1;
}

/* A mapped header a reader can trust: our layout, and sizes that fit the file. */
static int sb_layout_ok(const struct sb_header *h, size_t file_size)
{
    /* Same version means same record layout; the sizes double-check it. */
    return __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == SB_MAGIC && h->version == SB_VERSION &&
           h->header_size == sizeof(struct sb_header) &&
           h->worker_size == sizeof(struct sb_worker) && h->conn_size == sizeof(struct sb_conn) &&
           h->nslots != 0 && h->nslots <= SB_MAX_SLOTS && h->conns_per_slot <= SB_MAX_CONNS &&
           h->recent_per_slot <= SB_MAX_RECENT &&
           sb_size_for(h->nslots, h->conns_per_slot, h->recent_per_slot) <= file_size;
}

int sb_open_read(struct scoreboard *sb, const char *path)
{
    struct stat st;
    void *map;
    int saved;

    memset(sb, 0, sizeof(*sb));
    sb->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (sb->fd < 0)
        return -1;
    if (fstat(sb->fd, &st) < 0)
        goto fail;
    if (st.st_size < (off_t)sizeof(struct sb_header)) {
        errno = EPROTO;
        goto fail;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, sb->fd, 0);
    if (map == MAP_FAILED)
        goto fail;
    sb->hdr = map;
    sb->size = (size_t)st.st_size;
    if (!sb_layout_ok(sb->hdr, sb->size)) {
        errno = EPROTO;
        goto fail;
    }
    return 0;
fail:
    saved = errno;
    sb_close(sb);
    errno = saved;
    return -1;
}

/* Unmap and close; also the one clean-up of a half-built sb on the error paths above. */
void sb_close(struct scoreboard *sb)
{
    if (sb->hdr)
        munmap(sb->hdr, sb->size);
    if (sb->fd >= 0)
        close(sb->fd);
    memset(sb, 0, sizeof(*sb));
    sb->fd = -1;
}

static void sb_clear_conns(struct scoreboard *sb, uint32_t slot)
{
    for (uint32_t i = 0; i < sb->hdr->conns_per_slot; i++) {
        struct sb_conn *c = sb_conn_at(sb, slot, i);
        if (c->state == SB_CONN_FREE)
            continue;
        sb_write_begin(&c->seq);
        c->state = SB_CONN_FREE;
        sb_write_end(&c->seq);
    }
}

void sb_slot_prepare(struct scoreboard *sb, uint32_t slot, uint32_t number, uint32_t generation,
                     int64_t now_ns)
{
    struct sb_worker *w = sb_worker_at(sb, slot);

    sb_clear_conns(sb, slot);
    sb_write_begin(&w->seq);
    w->state = SB_WORKER_STARTING;
    w->pid = 0;
    w->number = number;
    w->generation = generation;
    w->started_ns = now_ns;
    w->accepted = 0;
    w->requests = 0;
    w->bytes_sent = 0;
    w->conns_now = 0;
    /* recent_next keeps counting: the ring's old records stay findable. */
    sb_write_end(&w->seq);
}

void sb_slot_set_pid(struct scoreboard *sb, uint32_t slot, int32_t pid)
{
    struct sb_worker *w = sb_worker_at(sb, slot);

    sb_write_begin(&w->seq);
    w->pid = pid;
    sb_write_end(&w->seq);
}

struct sb_lab *sb_lab_enable(struct scoreboard *sb)
{
    size_t off = sb_lab_offset(sb->hdr);

    __atomic_store_n(&sb->hdr->lab_offset, (uint64_t)off, __ATOMIC_RELEASE);
    return (struct sb_lab *)((char *)sb->hdr + off);
}

void sb_slot_dead(struct scoreboard *sb, uint32_t slot)
{
    struct sb_worker *w = sb_worker_at(sb, slot);

    sb_clear_conns(sb, slot);
    sb_write_begin(&w->seq);
    w->state = SB_WORKER_DEAD;
    w->conns_now = 0;
    sb_write_end(&w->seq);
}

static int sb_conn_matches(const struct sb_conn *c, int family, const uint8_t *addr, uint16_t port)
{
    size_t alen = family == AF_INET ? 4 : 16;

    return c->family == family && c->client_port == port && memcmp(c->client_addr, addr, alen) == 0;
}

static int64_t sb_distance(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

/* Keep *best when it is a better answer than cand for when_ns. */
static void sb_consider(const struct sb_conn *cand, int64_t when_ns, struct sb_conn *best,
                        int *found)
{
    int better;

    if (!*found)
        better = 1;
    else if (when_ns == 0)
        better = cand->accepted_ns > best->accepted_ns;
    else
        better = sb_distance(cand->accepted_ns, when_ns) < sb_distance(best->accepted_ns, when_ns);
    if (better) {
        *best = *cand;
        *found = 1;
    }
}

int sb_find_client(const struct scoreboard *sb, int family, const uint8_t *addr, uint16_t port,
                   int64_t when_ns, struct sb_conn *out)
{
    const struct sb_header *h = sb->hdr;
    struct sb_conn c;
    int found = 0;

    if (!h || (family != AF_INET && family != AF_INET6)) {
        errno = EINVAL;
        return -1;
    }
    for (uint32_t s = 0; s < h->nslots; s++) {
        uint32_t total = h->conns_per_slot + h->recent_per_slot;
        for (uint32_t i = 0; i < total; i++) {
            const struct sb_conn *rec = i < h->conns_per_slot
                                            ? sb_conn_at(sb, s, i)
                                            : sb_recent_at(sb, s, i - h->conns_per_slot);
            /* Cheap unlocked look first: most records are free or another port. */
            if (__atomic_load_n(&rec->state, __ATOMIC_RELAXED) == SB_CONN_FREE ||
                __atomic_load_n(&rec->client_port, __ATOMIC_RELAXED) != port)
                continue;
            if (sb_read(&c, rec, sizeof(c)) < 0 || c.state == SB_CONN_FREE)
                continue;
            if (sb_conn_matches(&c, family, addr, port))
                sb_consider(&c, when_ns, out, &found);
        }
    }
    if (!found) {
        errno = ENOENT;
        return -1;
    }
    return 0;
}
