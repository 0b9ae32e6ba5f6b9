/*
 * labmon's link to labd (see labd_link.h): the run dir and its scoreboard,
 * looked at again while labmon runs, and an open-addressing index over the
 * scoreboard's connection records (client address and port -> worker pid).
 */
#include "monitor/labd_link.h"

#include <errno.h>
#include <net/if.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/config.h"

/* A missed worker-pid lookup rebuilds the index at most this often. */
#define LABD_LINK_REBUILD_NS 250000000LL

struct labd_link {
    char path[PATH_MAX + 32]; /* the scoreboard file */
    struct scoreboard sb;
    int sb_open;
    ino_t sb_ino;
    struct labd_link_pids *pids; /* made at the first lookup */
    int64_t pids_built_ns;       /* monotonic; 0 = not since the scoreboard was opened */
    struct labd_link_info info;
    struct lab_stats wire_base; /* the wire's counters when labmon first saw that wire */
    int wire_seen;              /* a wire record was read: later wires count from their start */
};

struct labd_link *labd_link_new(const char *run_dir)
{
    struct labd_link *l = calloc(1, sizeof(*l));
    char dir[PATH_MAX];

    if (!l)
        return NULL;
    if (run_dir && *run_dir)
        snprintf(dir, sizeof(dir), "%s", run_dir);
    else
        config_default_run_dir((unsigned)getuid(), getenv("XDG_RUNTIME_DIR"), dir, sizeof(dir));
    snprintf(l->path, sizeof(l->path), "%s/%s", dir, SB_FILE);
    return l;
}

void labd_link_free(struct labd_link *l)
{
    if (!l)
        return;
    if (l->sb_open)
        sb_close(&l->sb);
    labd_link_pids_free(l->pids);
    free(l);
}

static int labd_link_alive(int32_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/*
 * labd --lab: the link's record, and the wire's counters since labmon first
 * saw that wire (a wire started later counts from its start), so they go
 * with labmon's own packet count.
 */
static void labd_link_read_lab(struct labd_link *l)
{
    const struct sb_lab *lab = sb_lab_at(&l->sb);
    struct lab_stats now;

    l->info.lab = lab && sb_read(&l->info.lab_link, &lab->link, sizeof(l->info.lab_link)) == 0;
    if (!l->info.lab || !l->info.lab_link.wire || sb_read(&now, &lab->wire, sizeof(now)) < 0) {
        memset(&l->info.lab_wire, 0, sizeof(l->info.lab_wire));
        return;
    }
    if (!l->wire_seen || now.wire_pid != l->wire_base.wire_pid) {
        if (l->wire_seen)
            memset(&l->wire_base, 0, sizeof(l->wire_base));
        else
            l->wire_base = now;
        l->wire_base.wire_pid = now.wire_pid;
        l->wire_seen = 1;
    }
    lab_stats_since(&now, &l->wire_base);
    l->info.lab_wire = now;
}

void labd_link_poll(struct labd_link *l)
{
    struct stat st;

    if (l->sb_open) {
        /*
         * After the capture dropped root, a private run dir may be out of
         * reach: keep the mapping while labd's master lives.
         */
        int gone = !labd_link_alive(l->sb.hdr->master_pid);
        if (!gone && stat(l->path, &st) < 0)
            gone = errno != EACCES && errno != EPERM;
        else if (!gone)
            gone = st.st_ino != l->sb_ino;
        if (gone) {
            sb_close(&l->sb);
            l->sb_open = 0;
            l->pids_built_ns = 0;
        }
    }
    if (!l->sb_open && stat(l->path, &st) == 0 && sb_open_read(&l->sb, l->path) == 0) {
        if (labd_link_alive(l->sb.hdr->master_pid)) {
            l->sb_open = 1;
            l->sb_ino = st.st_ino;
        } else {
            sb_close(&l->sb);
        }
    }
    l->info.running = l->sb_open;
    if (l->sb_open) {
        l->info.seen = 1;
        l->info.pid = l->sb.hdr->master_pid;
        l->info.port = l->sb.hdr->port;
        l->info.workers = (int)l->sb.hdr->nworkers;
        labd_link_read_lab(l);
    }
}

const struct labd_link_info *labd_link_info(const struct labd_link *l)
{
    return &l->info;
}

void labd_link_probe(const char *run_dir, struct labd_link_info *info)
{
    struct labd_link *l = labd_link_new(run_dir);

    memset(info, 0, sizeof(*info));
    if (!l)
        return;
    labd_link_poll(l);
    if (l->info.running)
        *info = l->info;
    labd_link_free(l);
}

void labd_link_capture_defaults(const struct labd_link_info *info, int port,
                                struct capture_opts *co, char *filter, size_t n, char *iface)
{
    if (co->read_file)
        return;
    iface[0] = '\0';
    if (!co->iface && info->running && info->lab) {
        snprintf(iface, LAB_STATS_IFNAME_MAX, "%.15s", info->lab_link.ifname);
        co->iface = iface;
        /*
         * Each frame at once: the link goes with labd, and a batch half
         * filled then (the last FINs) would go with it. A lab's traffic is
         * a browser's, not a benchmark's.
         */
        co->immediate = 1;
    }
    if (co->filter)
        return;
    capture_default_filter(port > 0 ? port : info->running ? info->port : 0, filter, n);
    co->filter = filter;
}

/*
 * Asked through /proc/net/dev rather than if_nametoindex(), which opens a
 * socket the sandboxed labmon may not make. Not through sysfs: a device
 * leaves the kernel's list (and /proc/net/dev) before the packet socket
 * hears it went, but its sysfs entry only after.
 */
int labd_link_lab_gone(const char *iface)
{
    char line[512];
    size_t len = strlen(iface);
    FILE *f;
    int found = 0;

    if (len == 0)
        return 0;
    f = fopen("/proc/net/dev", "re");
    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        const char *p = line + strspn(line, " ");
        found = strncmp(p, iface, len) == 0 && p[len] == ':';
    }
    fclose(f);
    return !found;
}

void labd_link_lab_text(const struct labd_link_info *info, char *lab, size_t nlab, char *counters,
                        size_t ncounters)
{
    lab[0] = counters[0] = '\0';
    if (!info->running || !info->lab)
        return;
    lab_stats_header(&info->lab_link, lab, nlab);
    if (info->lab_link.wire && info->lab_wire.wire_pid > 0)
        lab_stats_counters_total(&info->lab_wire, counters, ncounters);
}

/*
 * A miss rebuilds the index, at most four times a second: the worker
 * registers a connection only after accept(), a moment after its SYN was
 * captured.
 */
int32_t labd_link_worker_pid(struct labd_link *l, int family, const uint8_t *addr, uint16_t port,
                             uint64_t when_ns)
{
    int64_t now = clock_mono_ns();
    int32_t pid;

    if (!l->sb_open || (!l->pids && !(l->pids = labd_link_pids_new())))
        return 0;
    pid = labd_link_pids_find(l->pids, family, addr, port, (int64_t)when_ns);
    if (pid || (l->pids_built_ns && now - l->pids_built_ns < LABD_LINK_REBUILD_NS))
        return pid;
    l->pids_built_ns = now;
    if (labd_link_pids_build(l->pids, &l->sb) < 0)
        return 0;
    return labd_link_pids_find(l->pids, family, addr, port, (int64_t)when_ns);
}

/* ---- the index ---------------------------------------------------------- */

/* One scoreboard record; a reused client port has several, find() picks by time. */
struct labd_link_pids_slot {
    uint8_t used, family;
    uint16_t port;
    int32_t pid;
    int64_t accepted_ns;
    uint8_t addr[16];
};

struct labd_link_pids {
    struct labd_link_pids_slot *slot;
    size_t cap; /* power of two */
    size_t n;
};

struct labd_link_pids *labd_link_pids_new(void)
{
    return calloc(1, sizeof(struct labd_link_pids));
}

void labd_link_pids_free(struct labd_link_pids *p)
{
    if (!p)
        return;
    free(p->slot);
    free(p);
}

size_t labd_link_pids_count(const struct labd_link_pids *p)
{
    return p->n;
}

/* IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4 client) becomes IPv4. */
static int labd_link_pids_normalize(int family, const uint8_t *addr, uint8_t out[16])
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

static size_t labd_link_pids_hash(int family, const uint8_t *addr, uint16_t port)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    h = (h ^ port) * 1099511628211ULL;
    h = (h ^ (uint64_t)family) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

static void labd_link_pids_insert(struct labd_link_pids *p, const struct sb_conn *c)
{
    uint8_t a[16];
    int fam = labd_link_pids_normalize(c->family == AF_INET6 ? 6 : 4, c->client_addr, a);
    size_t i = labd_link_pids_hash(fam, a, c->client_port) & (p->cap - 1);

    for (;; i = (i + 1) & (p->cap - 1)) {
        struct labd_link_pids_slot *s = &p->slot[i];
        if (!s->used) {
            *s = (struct labd_link_pids_slot){ 1,      (uint8_t)fam,   c->client_port,
                                               c->pid, c->accepted_ns, { 0 } };
            memcpy(s->addr, a, 16);
            p->n++;
            return;
        }
    }
}

int labd_link_pids_build(struct labd_link_pids *p, const struct scoreboard *sb)
{
    const struct sb_header *h = sb->hdr;
    size_t total = (size_t)h->nslots * ((size_t)h->conns_per_slot + h->recent_per_slot);
    size_t cap = 64;
    struct sb_conn c;

    while (cap < 2 * total)
        cap *= 2;
    if (cap != p->cap) {
        struct labd_link_pids_slot *s = calloc(cap, sizeof(*s));
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
            labd_link_pids_insert(p, &c);
        }
    }
    return 0;
}

int32_t labd_link_pids_find(const struct labd_link_pids *p, int family, const uint8_t *addr,
                            uint16_t port, int64_t when_ns)
{
    uint8_t a[16];
    int fam;
    const struct labd_link_pids_slot *best = NULL;

    if (!p->cap)
        return 0;
    fam = labd_link_pids_normalize(family, addr, a);
    for (size_t i = labd_link_pids_hash(fam, a, port) & (p->cap - 1); p->slot[i].used;
         i = (i + 1) & (p->cap - 1)) {
        const struct labd_link_pids_slot *s = &p->slot[i];
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
