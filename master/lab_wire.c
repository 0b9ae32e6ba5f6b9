/* The lab wire's process: packet sockets in, wire_core's verdicts, timed FIFOs, packet sockets out.
 */
#include "master/lab_wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "master/wire_core.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/scoreboard.h"

#define LAB_WIRE_SOCKBUF  (8 << 20) /* packet socket buffers: a burst at full speed fits */
#define LAB_WIRE_STATS_NS 100000000 /* the kernel's drop counters are read this often */

struct lab_wire_slot {
    uint8_t *buf;
    uint32_t len;
    int64_t release_ns;
};

/* Frames held for one direction, oldest first; their release times never decrease. */
struct lab_wire_ring {
    struct lab_wire_slot slot[LAB_WIRE_HOLD];
    uint32_t head;
    uint32_t count;
};

struct lab_wire {
    const struct lab_wire_args *a;
    struct wire_core core;
    struct lab_wire_ring ring[LAB_OPTS_NDIR];
    uint8_t *mem; /* the slots' buffers, one mapping */
    size_t mem_size;
    uint8_t scratch[LAB_WIRE_BATCH][LAB_WIRE_SLOT]; /* read into when the hold is full */
    uint64_t overruns[LAB_OPTS_NDIR];
    uint64_t tx_errors[LAB_OPTS_NDIR];
    int blocked[LAB_OPTS_NDIR]; /* the way out of this direction is full: wait for POLLOUT */
    int64_t stats_ns;
    int32_t pid;
    int sig_fd;
};

static const char *lab_wire_dir_names[LAB_OPTS_NDIR] = { "c2s", "s2c" };

/* A packet socket bound to one interface of the current namespace; -1 with errno. */
static int lab_wire_socket(int ifindex)
{
    struct sockaddr_ll sll = { .sll_family = AF_PACKET,
                               .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = ifindex };
    int fd, one = 1, size = LAB_WIRE_SOCKBUF, e;

    /* Protocol 0 until bound: nothing from other interfaces slips in before bind(). */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* Our own frames going out are not input; nothing else needs the qdisc. */
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int lab_wire_open(const struct lab_net *ln, int fd[LAB_OPTS_NDIR], char *err, size_t errlen)
{
    int e = 0;

    fd[0] = fd[1] = -1;
    if (lab_net_enter(ln, LAB_NET_WIRE) < 0) {
        snprintf(err, errlen, "--lab: entering the wire's namespace: %s", strerror(errno));
        return -1;
    }
    for (int d = 0; d < LAB_OPTS_NDIR && !e; d++) {
        fd[d] = lab_wire_socket(ln->wire_ifindex[d]);
        if (fd[d] < 0)
            e = errno;
    }
    if (lab_net_enter(ln, LAB_NET_HOST) < 0 && !e)
        e = errno;
    if (e) {
        for (int d = 0; d < LAB_OPTS_NDIR; d++) {
            if (fd[d] >= 0)
                close(fd[d]);
            fd[d] = -1;
        }
        snprintf(err, errlen, "--lab: the wire's packet sockets: %s", strerror(e));
        return -1;
    }
    return 0;
}

uint64_t lab_wire_seed(const struct lab_opts *o)
{
    uint64_t seed = 0;

    if (o->seed_given)
        return o->seed;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
    return seed;
}

/* One line of the drop trace: direction, reason, and what the frame was. */
static void lab_wire_trace(const struct lab_wire *w, enum lab_opts_dir d, enum wire_core_verdict v,
                           const struct wire_core_note *n)
{
    static const char *why[] = {
        [WIRE_CORE_LOST] = "lost",
        [WIRE_CORE_RULED] = "ruled",
        [WIRE_CORE_QUEUE_FULL] = "queue",
        [WIRE_CORE_OVERSIZE] = "oversize",
    };

    if (w->a->trace_fd < 0)
        return;
    if (!n->tcp)
        dprintf(w->a->trace_fd, "%s %s other\n", lab_wire_dir_names[d], why[v]);
    else if (!n->tracked)
        dprintf(w->a->trace_fd, "%s %s tcp flags=0x%02x len=%u\n", lab_wire_dir_names[d], why[v],
                n->flags, n->payload);
    else
        dprintf(w->a->trace_fd, "%s %s tcp flags=0x%02x rel=%u len=%u block=%lld nth=%u retx=%d\n",
                lab_wire_dir_names[d], why[v], n->flags, n->rel_seq, n->payload,
                (long long)n->block, n->nth, n->retx);
}

/*
 * Read one batch of what came in going d and judge each frame; carried ones
 * join the FIFO. 0, or -1 with errno when the socket failed.
 */
static int lab_wire_receive(struct lab_wire *w, enum lab_opts_dir d, int64_t now)
{
    struct lab_wire_ring *r = &w->ring[d];
    struct mmsghdr msg[LAB_WIRE_BATCH];
    struct iovec iov[LAB_WIRE_BATCH];
    struct sockaddr_ll from[LAB_WIRE_BATCH];
    uint32_t room = LAB_WIRE_HOLD - r->count, kept = 0;
    int n = room < LAB_WIRE_BATCH ? (int)room : LAB_WIRE_BATCH, got;
    int scratch = n == 0;

    /* With the hold full, frames are still read, to be counted as queue drops. */
    if (scratch)
        n = LAB_WIRE_BATCH;
    memset(msg, 0, sizeof(msg[0]) * (size_t)n);
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = scratch ? w->scratch[i]
                                  : r->slot[(r->head + r->count + (uint32_t)i) % LAB_WIRE_HOLD].buf;
        iov[i].iov_len = LAB_WIRE_SLOT;
        msg[i].msg_hdr.msg_name = &from[i];
        msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
        msg[i].msg_hdr.msg_iov = &iov[i];
        msg[i].msg_hdr.msg_iovlen = 1;
    }
    got = recvmmsg(w->a->fd[d], msg, (unsigned)n, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (got < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    for (int i = 0; i < got; i++) {
        struct wire_core_note note;
        enum wire_core_verdict v;
        int64_t release = now;

        if (from[i].sll_pkttype == PACKET_OUTGOING)
            continue;
        v = wire_core_frame(&w->core, d, iov[i].iov_base, msg[i].msg_len, now, &release,
                            w->a->trace_fd >= 0 ? &note : NULL);
        if (v != WIRE_CORE_PASS) {
            lab_wire_trace(w, d, v, &note);
            continue;
        }
        /* Carried frames close ranks in the FIFO; a dropped one's buffer is reused. */
        struct lab_wire_slot *s = &r->slot[(r->head + r->count + kept) % LAB_WIRE_HOLD];
        if (s->buf != iov[i].iov_base) {
            struct lab_wire_slot *from_slot =
                &r->slot[(r->head + r->count + (uint32_t)i) % LAB_WIRE_HOLD];
            uint8_t *t = s->buf;
            s->buf = from_slot->buf;
            from_slot->buf = t;
        }
        s->len = msg[i].msg_len;
        s->release_ns = release;
        kept++;
    }
    r->count += kept;
    return 0;
}

/*
 * Send the frames of d that are due, out of the other end. 0 (blocked[d]
 * set when the socket is full), or -1 with errno when the end is gone.
 */
static int lab_wire_release(struct lab_wire *w, enum lab_opts_dir d, int64_t now)
{
    struct lab_wire_ring *r = &w->ring[d];
    int out = w->a->fd[!d];

    w->blocked[d] = 0;
    while (r->count > 0 && r->slot[r->head].release_ns <= now) {
        struct mmsghdr msg[LAB_WIRE_BATCH];
        struct iovec iov[LAB_WIRE_BATCH];
        int n = 0, sent;

        memset(msg, 0, sizeof(msg));
        while (n < LAB_WIRE_BATCH && (uint32_t)n < r->count) {
            struct lab_wire_slot *s = &r->slot[(r->head + (uint32_t)n) % LAB_WIRE_HOLD];
            if (s->release_ns > now)
                break;
            iov[n].iov_base = s->buf;
            iov[n].iov_len = s->len;
            msg[n].msg_hdr.msg_iov = &iov[n];
            msg[n].msg_hdr.msg_iovlen = 1;
            n++;
        }
        sent = sendmmsg(out, msg, (unsigned)n, MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                w->blocked[d] = errno == EAGAIN;
                return 0;
            }
            if (errno == ENXIO || errno == ENODEV || errno == EBADF)
                return -1;
            /* Refused (no buffer, link down): lost on the way, as on a real line. */
            w->tx_errors[d]++;
            sent = 1;
        }
        r->head = (r->head + (uint32_t)sent) % LAB_WIRE_HOLD;
        r->count -= (uint32_t)sent;
        wire_core_sent(&w->core, d, (uint32_t)sent);
    }
    return 0;
}

/* Counters to shared memory; the kernel's drops at the wire's sockets now and then. */
static void lab_wire_publish(struct lab_wire *w, int64_t now)
{
    struct lab_stats *st = w->a->stats;

    if (now - w->stats_ns >= LAB_WIRE_STATS_NS) {
        w->stats_ns = now;
        for (int d = 0; d < LAB_OPTS_NDIR; d++) {
            struct tpacket_stats ts;
            socklen_t len = sizeof(ts);

            /* Reading resets the kernel's counts: add them up here. */
            if (getsockopt(w->a->fd[d], SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
                w->overruns[d] += ts.tp_drops;
        }
    }
    if (!st)
        return;
    sb_write_begin(&st->seq);
    st->wire_pid = w->pid;
    st->seed = w->core.seed;
    for (int d = 0; d < LAB_OPTS_NDIR; d++) {
        st->dir[d] = w->core.counts[d];
        st->dir[d].overruns = w->overruns[d];
        st->dir[d].tx_errors = w->tx_errors[d];
    }
    sb_write_end(&st->seq);
}

/* The earliest release still ahead among the FIFOs that can send, or -1 when none. */
static int64_t lab_wire_next(const struct lab_wire *w)
{
    int64_t next = -1;

    for (int d = 0; d < LAB_OPTS_NDIR; d++) {
        const struct lab_wire_ring *r = &w->ring[d];

        if (r->count == 0 || w->blocked[d])
            continue;
        if (next < 0 || r->slot[r->head].release_ns < next)
            next = r->slot[r->head].release_ns;
    }
    return next;
}

/* Memory, the FIFOs' buffers and the stop signals. 0, or -1 with errno. */
static int lab_wire_setup(struct lab_wire *w, const struct lab_wire_args *a)
{
    sigset_t stop;

    w->a = a;
    w->pid = (int32_t)getpid();
    w->sig_fd = -1;
    w->stats_ns = -LAB_WIRE_STATS_NS;
    wire_core_init(&w->core, a->opts, a->seed, LAB_WIRE_HOLD);
    w->mem_size = (size_t)LAB_OPTS_NDIR * LAB_WIRE_HOLD * LAB_WIRE_SLOT;
    w->mem = mmap(NULL, w->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w->mem == MAP_FAILED) {
        w->mem = NULL;
        return -1;
    }
    for (int d = 0; d < LAB_OPTS_NDIR; d++) {
        for (uint32_t i = 0; i < LAB_WIRE_HOLD; i++)
            w->ring[d].slot[i].buf = w->mem + ((size_t)d * LAB_WIRE_HOLD + i) * LAB_WIRE_SLOT;
    }
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    w->sig_fd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    if (w->sig_fd < 0)
        return -1;
    /* Release times are to the microsecond: do not let the kernel batch our wake-ups. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    return 0;
}

/* One turn: read, send what is due, publish. -1 with errno (and *what) when an end failed. */
static int lab_wire_turn(struct lab_wire *w, const struct pollfd *pfd, const char **what)
{
    int64_t now = clock_mono_ns();

    for (int d = 0; d < LAB_OPTS_NDIR; d++) {
        *what = d == LAB_OPTS_C2S ? LAB_NET_WIRE_HOST : LAB_NET_WIRE_LABD;
        if ((pfd[d].revents & (POLLIN | POLLERR)) && lab_wire_receive(w, d, now) < 0)
            return -1;
    }
    for (int d = 0; d < LAB_OPTS_NDIR; d++) {
        *what = d == LAB_OPTS_C2S ? LAB_NET_WIRE_LABD : LAB_NET_WIRE_HOST;
        if (lab_wire_release(w, d, now) < 0)
            return -1;
    }
    lab_wire_publish(w, now);
    return 0;
}

int lab_wire_run(const struct lab_wire_args *a)
{
    struct lab_wire *w = calloc(1, sizeof(*w));
    const char *what = "";
    int rc = 1;

    if (!w || lab_wire_setup(w, a) < 0) {
        log_error("lab wire: cannot start: %s", strerror(errno));
        goto done;
    }
    /* Its pid, at once: labd status shows which wire runs before a frame came. */
    lab_wire_publish(w, clock_mono_ns());
    for (;;) {
        struct pollfd pfd[3] = {
            { a->fd[LAB_OPTS_C2S], POLLIN, 0 },
            { a->fd[LAB_OPTS_S2C], POLLIN, 0 },
            { w->sig_fd, POLLIN, 0 },
        };
        int64_t next = lab_wire_next(w), wait_ns = 0;
        struct timespec ts;

        /* The way out of direction d is the other end's socket. */
        for (int d = 0; d < LAB_OPTS_NDIR; d++) {
            if (w->blocked[d])
                pfd[!d].events |= POLLOUT;
        }
        if (next >= 0) {
            wait_ns = next - clock_mono_ns();
            if (wait_ns < 0)
                wait_ns = 0;
            ts.tv_sec = wait_ns / 1000000000;
            ts.tv_nsec = wait_ns % 1000000000;
        }
        if (ppoll(pfd, 3, next >= 0 ? &ts : NULL, NULL) < 0 && errno != EINTR) {
            log_error("lab wire: poll: %s", strerror(errno));
            goto done;
        }
        if (pfd[2].revents & POLLIN) {
            rc = 0;
            goto done;
        }
        if (lab_wire_turn(w, pfd, &what) < 0) {
            log_error("lab wire: %s: %s (was the link deleted?)", what, strerror(errno));
            goto done;
        }
    }
done:
    if (w) {
        if (w->a)
            lab_wire_publish(w, clock_mono_ns());
        if (w->sig_fd >= 0)
            close(w->sig_fd);
        if (w->mem)
            munmap(w->mem, w->mem_size);
        free(w);
    }
    close(a->fd[0]);
    close(a->fd[1]);
    return rc;
}
