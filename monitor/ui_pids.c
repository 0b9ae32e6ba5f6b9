/*
 * An open-addressing index over labd's scoreboard: client address and port
 * -> the worker pid, rebuilt by the TUI a few times a second at most.
 */
#include "monitor/ui_pids.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* One scoreboard record; a reused client port has several, find() picks by time. */
struct pid_slot {
    uint8_t used, family;
    uint16_t port;
    int32_t pid;
    int64_t accepted_ns;
    uint8_t addr[16];
};

struct ui_pids {
    struct pid_slot *slot;
    size_t cap; /* power of two */
    size_t n;
};

struct ui_pids *ui_pids_new(void)
{
    return calloc(1, sizeof(struct ui_pids));
}

void ui_pids_free(struct ui_pids *p)
{
    if (!p)
        return;
    free(p->slot);
    free(p);
}

size_t ui_pids_count(const struct ui_pids *p)
{
    return p->n;
}

/* IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4 client) becomes IPv4. */
static int normalize(int family, const uint8_t *addr, uint8_t out[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    memset(out, 0, 16);
    if (family == 6 && memcmp(addr, mapped, 12) == 0) {
        memcpy(out, addr + 12, 4);
        return 4;
    }
    memcpy(out, addr, family == 6 ? 16 : 4);
    return family;
}

static size_t hash(int family, const uint8_t *addr, uint16_t port)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    h = (h ^ port) * 1099511628211ULL;
    h = (h ^ (uint64_t)family) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

static void insert(struct ui_pids *p, const struct sb_conn *c)
{
    uint8_t a[16];
    int fam = normalize(c->family == AF_INET6 ? 6 : 4, c->client_addr, a);
    size_t i = hash(fam, a, c->client_port) & (p->cap - 1);

    for (;; i = (i + 1) & (p->cap - 1)) {
        struct pid_slot *s = &p->slot[i];
        if (!s->used) {
            *s =
                (struct pid_slot){ 1, (uint8_t)fam, c->client_port, c->pid, c->accepted_ns, { 0 } };
            memcpy(s->addr, a, 16);
            p->n++;
            return;
        }
    }
}

int ui_pids_build(struct ui_pids *p, const struct scoreboard *sb)
{
    const struct sb_header *h = sb->hdr;
    size_t total = (size_t)h->nslots * ((size_t)h->conns_per_slot + h->recent_per_slot);
    size_t cap = 64;
    struct sb_conn c;

    while (cap < 2 * total)
        cap *= 2;
    if (cap != p->cap) {
        struct pid_slot *s = calloc(cap, sizeof(*s));
        if (!s)
            return -1;
        free(p->slot);
        p->slot = s;
        p->cap = cap;
    } else {
        memset(p->slot, 0, cap * sizeof(*p->slot));
    }
    p->n = 0;
    for (uint32_t s = 0; s < h->nslots; s++) {
        for (uint32_t k = 0; k < h->conns_per_slot + h->recent_per_slot; k++) {
            const struct sb_conn *rec = k < h->conns_per_slot
                                            ? sb_conn_at(sb, s, k)
                                            : sb_recent_at(sb, s, k - h->conns_per_slot);
            /* Most records are free: look at the state before copying under the seqlock. */
            if (__atomic_load_n(&rec->state, __ATOMIC_RELAXED) == SB_CONN_FREE)
                continue;
            if (sb_read(&c, rec, sizeof(c)) < 0 || c.state == SB_CONN_FREE || c.pid <= 0)
                continue;
            insert(p, &c);
        }
    }
    return 0;
}

int32_t ui_pids_find(const struct ui_pids *p, int family, const uint8_t *addr, uint16_t port,
                     int64_t when_ns)
{
    uint8_t a[16];
    int fam;
    const struct pid_slot *best = NULL;

    if (!p->cap)
        return 0;
    fam = normalize(family, addr, a);
    for (size_t i = hash(fam, a, port) & (p->cap - 1); p->slot[i].used;
         i = (i + 1) & (p->cap - 1)) {
        const struct pid_slot *s = &p->slot[i];
        if (s->family != fam || s->port != port || memcmp(s->addr, a, 16) != 0)
            continue;
        /* The SYN precedes accept(): allow a second of slack, then take the latest. */
        if (when_ns && s->accepted_ns > when_ns + 1000000000LL)
            continue;
        if (!best || s->accepted_ns > best->accepted_ns)
            best = s;
    }
    return best ? best->pid : 0;
}
