/*
 * The scoreboard: labd's workers and connections, in shared memory.
 *
 * A file in the run directory, created by the master, written by workers,
 * read by `labd status` and by labmon (to show which worker served a
 * connection). Versioned and self-describing so a reader of another build
 * can check the layout before trusting it.
 *
 * Layout of the file (all offsets computed from the header's fields):
 *
 *   struct sb_header
 *   struct sb_worker   [nslots]
 *   struct sb_conn     [nslots][conns_per_slot]    live connections
 *   struct sb_conn     [nslots][recent_per_slot]   ring of recently closed ones
 *   struct sb_lab                                  the lab link and its wire's counters
 *
 * The lab records are always there; the header's lab_offset points at them
 * only when labd runs with --lab (0 otherwise).
 *
 * Concurrency: every record starts with a sequence counter (a seqlock).
 * Exactly one process writes a record at a time (the master writes the
 * header, and a worker slot before the fork and after reaping the worker;
 * the worker owns its slot in between, from recording its own pid; the
 * master writes the lab link's record, the lab wire process its counters);
 * the writer makes seq odd, writes, makes it even. Readers copy the record
 * with sb_read() and retry while seq was odd or changed.
 */
#ifndef LABD_SCOREBOARD_H
#define LABD_SCOREBOARD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shared/lab_stats.h"

#define SB_MAGIC       0x3142534442414cULL /* "LABDSB1" little-endian */
#define SB_VERSION     2
#define SB_FILE        "labd.scoreboard"
#define SB_MAX_BINDS   8
#define SB_BIND_MAX    64
#define SB_ROOT_MAX    1024
#define SB_REQUEST_MAX 192

enum sb_worker_state {
    SB_WORKER_FREE = 0, /* slot unused */
    SB_WORKER_STARTING, /* forked, not yet accepting */
    SB_WORKER_READY,    /* accepting and serving */
    SB_WORKER_DRAINING, /* graceful stop or reload: finishing in-flight work */
    SB_WORKER_DEAD,     /* exited; the master will reuse the slot */
};

enum sb_conn_state {
    SB_CONN_FREE = 0,
    SB_CONN_READING,   /* reading a request (or its headers) */
    SB_CONN_WRITING,   /* sending a response */
    SB_CONN_KEEPALIVE, /* idle between requests */
    SB_CONN_CLOSED,    /* only in the recent ring */
};

struct sb_header {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size; /* sizeof(struct sb_header) of the writer */
    uint32_t worker_size; /* sizeof(struct sb_worker) */
    uint32_t conn_size;   /* sizeof(struct sb_conn) */
    uint32_t nslots;
    uint32_t conns_per_slot;
    uint32_t recent_per_slot;
    uint32_t seq; /* guards the fields below */
    int32_t master_pid;
    uint32_t generation; /* incremented by every reload */
    int64_t started_ns;  /* CLOCK_REALTIME of the master's start */
    uint16_t port;
    uint16_t nbinds;
    uint32_t nworkers;                     /* configured worker count of the current generation */
    uint64_t lab_offset;                   /* where struct sb_lab is; 0: labd runs without --lab */
    char binds[SB_MAX_BINDS][SB_BIND_MAX]; /* "" entries unused; "*" = all addresses */
    char root[SB_ROOT_MAX];
};

struct sb_worker {
    uint32_t seq;
    uint8_t state; /* enum sb_worker_state */
    uint8_t pad[3];
    int32_t pid;
    uint32_t number;     /* N in "labd: worker N" */
    uint32_t generation; /* configuration generation it runs */
    int64_t started_ns;
    uint64_t accepted;   /* connections accepted */
    uint64_t requests;   /* responses completed */
    uint64_t bytes_sent; /* response bytes written */
    uint32_t conns_now;
    uint32_t recent_next; /* count of records ever written to the recent ring */
};

struct sb_conn {
    uint32_t seq;
    uint8_t state;           /* enum sb_conn_state */
    uint8_t family;          /* AF_INET or AF_INET6 */
    uint16_t client_port;    /* host byte order */
    uint8_t client_addr[16]; /* IPv4: first 4 bytes */
    uint8_t server_addr[16];
    uint16_t server_port;
    uint16_t status;     /* last response status, 0 none yet */
    int32_t pid;         /* worker pid, so a copied record stands alone */
    int64_t accepted_ns; /* CLOCK_REALTIME */
    int64_t last_ns;     /* last activity; close time in the recent ring */
    uint32_t requests;
    uint32_t pad2;
    char request[SB_REQUEST_MAX]; /* current or last request line, truncated */
};

/* labd --lab: the link as the master built it, and the lab wire's counters (seqlocked each). */
struct sb_lab {
    struct lab_stats_link link; /* written by the master */
    struct lab_stats wire;      /* written by the wire process; zero when a bridge is the wire */
};

struct scoreboard {
    struct sb_header *hdr;
    size_t size;
    int fd;
    int writable;
};

/* Bytes needed for a scoreboard with these dimensions. */
static inline size_t sb_size_for(uint32_t nslots, uint32_t conns, uint32_t recent)
{
    return sizeof(struct sb_header) + (size_t)nslots * sizeof(struct sb_worker) +
           (size_t)nslots * ((size_t)conns + recent) * sizeof(struct sb_conn) +
           sizeof(struct sb_lab);
}

static inline struct sb_worker *sb_worker_at(const struct scoreboard *sb, uint32_t slot)
{
    char *base = (char *)sb->hdr + sb->hdr->header_size;
    return (struct sb_worker *)(base + (size_t)slot * sb->hdr->worker_size);
}

static inline struct sb_conn *sb_conn_at(const struct scoreboard *sb, uint32_t slot, uint32_t i)
{
    const struct sb_header *h = sb->hdr;
    char *base = (char *)h + h->header_size + (size_t)h->nslots * h->worker_size;
    return (struct sb_conn *)(base + ((size_t)slot * h->conns_per_slot + i) * h->conn_size);
}

static inline struct sb_conn *sb_recent_at(const struct scoreboard *sb, uint32_t slot, uint32_t i)
{
    const struct sb_header *h = sb->hdr;
    char *base = (char *)h + h->header_size + (size_t)h->nslots * h->worker_size +
                 (size_t)h->nslots * h->conns_per_slot * h->conn_size;
    return (struct sb_conn *)(base + ((size_t)slot * h->recent_per_slot + i) * h->conn_size);
}

/* Where the lab records are in a scoreboard of h's dimensions (after the recent rings). */
static inline size_t sb_lab_offset(const struct sb_header *h)
{
    return (size_t)h->header_size + (size_t)h->nslots * h->worker_size +
           (size_t)h->nslots * ((size_t)h->conns_per_slot + h->recent_per_slot) * h->conn_size;
}

/* The lab records, or NULL when labd runs without --lab. */
static inline struct sb_lab *sb_lab_at(const struct scoreboard *sb)
{
    uint64_t off = __atomic_load_n(&sb->hdr->lab_offset, __ATOMIC_ACQUIRE);

    if (off == 0 || off != sb_lab_offset(sb->hdr))
        return NULL;
    return (struct sb_lab *)((char *)sb->hdr + off);
}

/* Writer side of the seqlock: bracket every change of a record. */
static inline void sb_write_begin(uint32_t *seq)
{
    __atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void sb_write_end(uint32_t *seq)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/*
 * Reader side: copy a record (which starts with its uint32_t seq) into dst.
 * Returns 0 on a consistent copy, -1 with errno EBUSY if the writer kept it busy.
 */
static inline int sb_read(void *dst, const void *src, size_t size)
{
    const uint32_t *seq = (const uint32_t *)src;

    for (int tries = 0; tries < 1000; tries++) {
        uint32_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        if (s1 & 1)
            continue;
        memcpy(dst, src, size);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(seq, __ATOMIC_RELAXED) == s1)
            return 0;
    }
    errno = EBUSY;
    return -1;
}

/*
 * Create (master) or open read-only (status, labmon) the scoreboard at path.
 * sb_open_read validates magic, version and record sizes against the file
 * size. Both return 0 or -1 with errno set (EPROTO for a layout mismatch).
 */
int sb_create(struct scoreboard *sb, const char *path, uint32_t nslots, uint32_t conns,
              uint32_t recent);
int sb_open_read(struct scoreboard *sb, const char *path);
void sb_close(struct scoreboard *sb);

/*
 * Master side, called before fork so the slot never has two writers: the
 * slot becomes STARTING for worker `number` of `generation`, its counters
 * and connection records are cleared. The child then records its own pid
 * with sb_slot_set_pid() and owns the slot from there on.
 */
void sb_slot_prepare(struct scoreboard *sb, uint32_t slot, uint32_t number, uint32_t generation,
                     int64_t now_ns);
void sb_slot_set_pid(struct scoreboard *sb, uint32_t slot, int32_t pid);

/*
 * Master side, labd --lab: point the header at the lab records (once, at
 * start-up) and return them for the master to fill in.
 */
struct sb_lab *sb_lab_enable(struct scoreboard *sb);

/* Master side, after the worker was reaped: the slot is DEAD, its live connections gone. */
void sb_slot_dead(struct scoreboard *sb, uint32_t slot);

/*
 * Find which worker served the client addr:port (family AF_INET/AF_INET6,
 * addr in network order, port in host order), looking at live connections
 * and the recent ring. Fills *out and returns 0, or -1 (errno ENOENT) if
 * unknown. When the same client port was reused, the record whose
 * accepted_ns is nearest to when_ns wins (0 = take the newest).
 */
int sb_find_client(const struct scoreboard *sb, int family, const uint8_t *addr, uint16_t port,
                   int64_t when_ns, struct sb_conn *out);

#endif
