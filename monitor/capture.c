/* libpcap live and offline capture, set up in the order libpcap wants. */
#include "monitor/capture.h"
#include "monitor/decode.h"
#include "monitor/pcapfile.h"
#include "shared/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAPTURE_READ_BUFFER (1 << 20)

/*
 * Our own reader of a classic pcap file: libpcap reads each record with two
 * freads into its buffer, which cost more than decoding the packet, and the
 * copy from the page cache was a tenth of a --json run. The file is mapped
 * and records are handed up where they lie. libpcap still opens the file
 * (header checks, link type, snapshot), and from the first record this
 * reader does not take (cut by the snapshot, oversized, truncated, or past
 * what was mapped: the file may have grown) the FILE is positioned there and
 * libpcap reads on, with its own messages.
 */
struct capture_own {
    struct pcapfile_hdr h;
    uint32_t snapshot;
    const uint8_t *map; /* the file as it was when opened */
    size_t len, pos;    /* bytes mapped, bytes consumed */
    size_t dropped;     /* bytes whose pages were given back (MADV_DONTNEED) */
    size_t populated;   /* bytes whose pages were mapped ahead (MADV_POPULATE_READ) */
};

/* Pages already read are given back in steps of this many bytes (RSS stays flat). */
#define CAPTURE_MAP_STEP (8u << 20)

/*
 * A mapped file that shrinks under us faults on the next page: say so and
 * stop (what is already printed stays); anything else is a plain crash.
 */
static void capture_own_sigbus(int sig)
{
    static const char msg[] = "labmon: the capture file shrank while being read\n";

    (void)sig;
    if (write(2, msg, sizeof(msg) - 1) < 0) {
    }
    _exit(1);
}

struct capture {
    pcap_t *p;
    char *iobuf; /* stdio buffer of an offline file (freed after pcap_close) */
    pcap_dumper_t *dump;
    struct capture_own *own; /* NULL: libpcap reads */
    volatile sig_atomic_t stop;
    char err[128]; /* the own reader's error, "" if none */
    int live;
    int nano;
    int eof;
    int dlt;
    capture_fn fn;
    void *ctx;
    char loop_filter[48]; /* what the kernel filter adds on loopback, "" nothing */
    int loop_on;          /* loop_filter is in the kernel */
};

void capture_default_filter(int port_hint, char *buf, size_t n)
{
    snprintf(buf, n, "tcp port %d", port_hint > 0 ? port_hint : CAPTURE_DEFAULT_PORT);
}

static void capture_set_err(char *err, size_t n, const char *what, const char *on, const char *why)
{
    snprintf(err, n, "%s %s: %s", what, on, why);
}

/* Whether interface name is a loopback interface (IFF_LOOPBACK). */
static int capture_is_loopback(int sock, const char *name)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    if (strlen(name) >= sizeof(ifr.ifr_name))
        return 0;
    memcpy(ifr.ifr_name, name, strlen(name));
    return ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK);
}

/*
 * A loopback interface shows a packet socket every packet twice, as it is
 * sent (PACKET_OUTGOING) and as it arrives. libpcap throws the sent copy
 * away, but only after the kernel has copied it into the ring, and that copy
 * is paid for by the process that sent the packet: capturing a loopback
 * server cost it twice what it needs to. The kernel filter drops that copy
 * instead: "inbound" on a loopback interface; on "any", in Linux cooked v2
 * framing (which carries the interface index), the outgoing packets of the
 * loopback interface. Fills c->loop_filter with the clause, or leaves it "".
 */
static void capture_loop_filter_setup(struct capture *c, const char *dev)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (sock < 0)
        return;
    if (strcmp(dev, "any") != 0) {
        if (capture_is_loopback(sock, dev))
            snprintf(c->loop_filter, sizeof(c->loop_filter), "inbound");
    } else {
        struct if_nameindex *all = if_nameindex(), *i;
        for (i = all; i && i->if_index != 0; i++) {
            if (capture_is_loopback(sock, i->if_name)) {
                if (pcap_set_datalink(c->p, DLT_LINUX_SLL2) == 0)
                    snprintf(c->loop_filter, sizeof(c->loop_filter),
                             "not (outbound and ifindex %u)", i->if_index);
                break;
            }
        }
        if (all)
            if_freenameindex(all);
    }
    close(sock);
}

static struct capture *capture_open_live(const struct capture_opts *o, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    const char *dev = o->iface ? o->iface : "any";
    pcap_t *p = pcap_create(dev, ebuf);
    if (!p) {
        capture_set_err(err, errlen, "cannot capture on", dev, ebuf);
        return NULL;
    }
    pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : CAPTURE_DEFAULT_SNAPLEN);
    if (o->immediate)
        pcap_set_immediate_mode(p, 1);
    else
        pcap_set_timeout(p, CAPTURE_BATCH_MS);
    pcap_set_buffer_size(p, o->buffer_bytes > 0 ? o->buffer_bytes : CAPTURE_DEFAULT_BUFFER);
    int nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int rc = pcap_activate(p);
    if (rc < 0) {
        if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
            snprintf(err, errlen,
                     "no permission to capture on %s: run as root or: "
                     "setcap cap_net_raw,cap_net_admin=eip labmon",
                     dev);
        else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
            snprintf(err, errlen, "cannot capture on %s: no such interface (see ip link)", dev);
        else
            capture_set_err(err, errlen, "cannot capture on", dev, pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    struct capture *c = calloc(1, sizeof(*c));
    if (!c) {
        pcap_close(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->p = p;
    c->live = 1;
    c->nano = nano && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    capture_loop_filter_setup(c, dev);
    return c;
}

/* Takes over reading when the file is a classic pcap file on disk; else leaves it to libpcap. */
static void capture_own_open(struct capture *c)
{
    FILE *fp = pcap_file(c->p);
    struct capture_own *r;
    struct stat st;
    void *m;
    int fd;

    if (fp == NULL || (fd = fileno(fp)) < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size <= PCAPFILE_HDR_LEN || (uint64_t)st.st_size > SIZE_MAX)
        return;
    /* libpcap must have read exactly the file header, nothing more. */
    if (ftello(fp) != PCAPFILE_HDR_LEN)
        return;
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return;
    r = calloc(1, sizeof(*r));
    if (r == NULL || pcapfile_header(m, (size_t)st.st_size, &r->h) < 0) {
        munmap(m, (size_t)st.st_size);
        free(r);
        return;
    }
    struct sigaction sa = { .sa_handler = capture_own_sigbus };
    sigaction(SIGBUS, &sa, NULL);
    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    r->snapshot = (uint32_t)pcap_snapshot(c->p);
    r->map = m;
    r->len = (size_t)st.st_size;
    r->pos = PCAPFILE_HDR_LEN;
    c->own = r;
}

/*
 * Maps the next step of the file in one call, ahead of the reader: page
 * faults (each mapping 64 KiB around it) cost more per page. Without the
 * call (kernels before 5.14), pages fault in as before.
 */
static void capture_own_populate(struct capture_own *r)
{
    size_t n = r->len - r->populated < CAPTURE_MAP_STEP ? r->len - r->populated : CAPTURE_MAP_STEP;
#ifdef MADV_POPULATE_READ
    madvise((void *)(r->map + r->populated), n, MADV_POPULATE_READ);
#endif
    r->populated += n;
}

static void capture_own_close(struct capture *c)
{
    if (c->own) {
        munmap((void *)c->own->map, c->own->len);
        free(c->own);
        c->own = NULL;
    }
}

/* From the current record on, libpcap reads. Returns -1 if the FILE cannot be placed there. */
static int capture_own_handoff(struct capture *c)
{
    off_t at = (off_t)c->own->pos;

    capture_own_close(c);
    if (fseeko(pcap_file(c->p), at, SEEK_SET) < 0) {
        snprintf(c->err, sizeof(c->err), "cannot seek in the file: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int capture_own_dispatch(struct capture *c, int max, capture_fn fn, void *ctx)
{
    struct capture_own *r = c->own;
    struct pcapfile_rec rec;
    int n = 0;

    while (max <= 0 || n < max) {
        if (c->stop) {
            c->stop = 0;
            return n;
        }
        if (pcapfile_record(&r->h, r->snapshot, r->map + r->pos, r->len - r->pos, &rec) !=
            PCAPFILE_OK) {
            /* The end of what was mapped, a cut or an odd record: libpcap's. */
            if (capture_own_handoff(c) < 0)
                return -1;
            return n > 0 ? n : capture_dispatch(c, max, fn, ctx);
        }
        const uint8_t *next = r->map + r->pos + PCAPFILE_REC_LEN + rec.caplen;
        /* The next record's header and first bytes come in while this one is
         * handled: page-cache lines the hardware does not stream in itself. */
        if ((size_t)(next - r->map) + 256 <= r->len) {
            __builtin_prefetch(next);
            __builtin_prefetch(next + 64);
            __builtin_prefetch(next + 128);
            __builtin_prefetch(next + 192);
        }
        fn(ctx, rec.ts_ns, rec.caplen, rec.len, r->map + r->pos + PCAPFILE_REC_LEN);
        r->pos += PCAPFILE_REC_LEN + rec.caplen;
        n++;
        if (r->pos + CAPTURE_MAP_STEP / 2 > r->populated && r->populated < r->len)
            capture_own_populate(r);
        if (r->pos - r->dropped >= 2 * (size_t)CAPTURE_MAP_STEP) {
            madvise((void *)(r->map + r->dropped), CAPTURE_MAP_STEP, MADV_DONTNEED);
            r->dropped += CAPTURE_MAP_STEP;
        }
    }
    return n;
}

static struct capture *capture_open_file(const struct capture_opts *o, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    /* Our own FILE with a 1 MiB buffer: libpcap reads each record with
     * fread, and stdio's default 4 KiB buffer meant a read(2) per few packets. */
    int is_stdin = strcmp(o->read_file, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(o->read_file, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot read %s: %s", o->read_file, strerror(errno));
        return NULL;
    }
    /* glibc ignores the size unless it is given the buffer itself. */
    char *iobuf = malloc(CAPTURE_READ_BUFFER);
    if (iobuf)
        setvbuf(fp, iobuf, _IOFBF, CAPTURE_READ_BUFFER);
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!p) {
        if (!is_stdin)
            fclose(fp);
        free(iobuf);
        /* libpcap's message already names the file. */
        snprintf(err, errlen, "cannot read %s", ebuf);
        return NULL;
    }
    struct capture *c = calloc(1, sizeof(*c));
    if (!c) {
        pcap_close(p);
        free(iobuf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->p = p;
    c->iobuf = iobuf;
    c->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    return c;
}

/* Compiles expr and sets it: 0, -1 if it does not compile, -2 if the kernel refused it. */
static int capture_set_filter(struct capture *c, const char *expr)
{
    struct bpf_program prog;

    if (pcap_compile(c->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
        return -1;
    int rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    return rc < 0 ? -2 : 0;
}

/*
 * Sets expr as the kernel's filter only. pcap_setfilter() also runs a new
 * filter in userland over the packets already in the ring's current block,
 * and there "inbound" on an Ethernet-framed device reads the packet type
 * from the kernel's ancillary data, which userland does not have: every
 * packet of that block fails (the first 50 ms of a capture were lost). So
 * libpcap keeps the user's filter for those, and the kernel gets this one.
 */
static int capture_set_kernel_filter(struct capture *c, const char *expr)
{
    struct bpf_program prog;

    if (pcap_compile(c->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
        return -1;
    struct sock_fprog fp = { .len = (unsigned short)prog.bf_len,
                             .filter = (struct sock_filter *)prog.bf_insns };
    int rc = prog.bf_len <= USHRT_MAX
                 ? setsockopt(pcap_fileno(c->p), SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp))
                 : -1;
    pcap_freecode(&prog);
    return rc < 0 ? -2 : 0;
}

const char *capture_loop_filter(const struct capture *c)
{
    return c->loop_on ? c->loop_filter : "";
}

struct capture *capture_open(const struct capture_opts *o, char *err, size_t errlen)
{
    struct capture *c =
        o->read_file ? capture_open_file(o, err, errlen) : capture_open_live(o, err, errlen);
    if (!c)
        return NULL;
    c->dlt = pcap_datalink(c->p);
    if (!decode_dlt_supported(c->dlt)) {
        const char *name = pcap_datalink_val_to_name(c->dlt);
        snprintf(err, errlen,
                 "unsupported link type %s (%d): use an Ethernet, any, lo or raw IP capture",
                 name ? name : "?", c->dlt);
        capture_close(c);
        return NULL;
    }
    if (o->filter && *o->filter) {
        int rc = capture_set_filter(c, o->filter);
        if (rc < 0) {
            snprintf(err, errlen, "%s '%s': %s", rc == -1 ? "bad filter" : "cannot set filter",
                     o->filter, pcap_geterr(c->p));
            capture_close(c);
            return NULL;
        }
    }
    /* The loopback clause with the user's filter; without it if they do not compile together. */
    if (c->loop_filter[0]) {
        char both[CAPTURE_FILTER_MAX];
        int n = o->filter && *o->filter
                    ? snprintf(both, sizeof(both), "(%s) and %s", o->filter, c->loop_filter)
                    : snprintf(both, sizeof(both), "%s", c->loop_filter);
        if (n > 0 && (size_t)n < sizeof(both))
            c->loop_on = (c->dlt == DLT_LINUX_SLL2 ? capture_set_filter(c, both)
                                                   : capture_set_kernel_filter(c, both)) == 0;
    }
    if (c->live) {
        char ebuf[PCAP_ERRBUF_SIZE];
        if (pcap_setnonblock(c->p, 1, ebuf) < 0) {
            snprintf(err, errlen, "cannot make the capture non-blocking: %s", ebuf);
            capture_close(c);
            return NULL;
        }
    }
    if (o->write_file) {
        c->dump = pcap_dump_open(c->p, o->write_file);
        if (!c->dump) {
            capture_set_err(err, errlen, "cannot write", o->write_file, pcap_geterr(c->p));
            capture_close(c);
            return NULL;
        }
    }
    /* Filters and copies stay with libpcap (they need its packet headers). */
    if (!c->live && !c->dump && !(o->filter && *o->filter))
        capture_own_open(c);
    return c;
}

void capture_close(struct capture *c)
{
    if (!c)
        return;
    if (c->dump) {
        pcap_dump_flush(c->dump);
        pcap_dump_close(c->dump);
    }
    capture_own_close(c);
    pcap_close(c->p); /* closes the FILE too, then its buffer can go */
    free(c->iobuf);
    free(c);
}

int capture_datalink(const struct capture *c)
{
    return c->dlt;
}

const char *capture_link_name(const struct capture *c)
{
    const char *name = pcap_datalink_val_to_name(c->dlt);

    return name ? name : "?";
}

int capture_is_live(const struct capture *c)
{
    return c->live;
}

int capture_fd(const struct capture *c)
{
    return c->live ? pcap_get_selectable_fd(c->p) : -1;
}

int capture_progress(const struct capture *c, uint64_t *done, uint64_t *total)
{
    FILE *fp;
    struct stat st;
    off_t at;

    if (c->live)
        return -1;
    if (c->own) {
        *done = c->own->pos;
        *total = c->own->len;
        return 0;
    }
    fp = pcap_file(c->p);
    if (fp == NULL || fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode) || (at = ftello(fp)) < 0)
        return -1;
    *done = (uint64_t)at;
    *total = (uint64_t)st.st_size;
    return 0;
}

int capture_eof(const struct capture *c)
{
    return c->eof;
}

const char *capture_error(const struct capture *c)
{
    if (c->err[0])
        return c->err;
    return pcap_geterr(c->p);
}

void capture_break(struct capture *c)
{
    c->stop = 1;
    pcap_breakloop(c->p);
}

static void capture_on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;
    uint64_t sub = (uint64_t)h->ts.tv_usec;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (c->nano ? sub : sub * 1000ULL);
    if (c->dump)
        pcap_dump((u_char *)c->dump, h, bytes);
    c->fn(c->ctx, ts, h->caplen, h->len, bytes);
}

int capture_dispatch(struct capture *c, int max, capture_fn fn, void *ctx)
{
    if (c->own)
        return capture_own_dispatch(c, max, fn, ctx);
    c->fn = fn;
    c->ctx = ctx;
    int n = pcap_dispatch(c->p, max, capture_on_frame, (u_char *)c);
    if (n == PCAP_ERROR_BREAK)
        return 0;
    if (n < 0)
        return -1;
    if (n == 0 && !c->live)
        c->eof = 1;
    if (c->dump && c->live && n > 0)
        pcap_dump_flush(c->dump);
    return n;
}

int capture_stats(struct capture *c, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped)
{
    struct pcap_stat st;
    if (!c->live || pcap_stats(c->p, &st) < 0)
        return -1;
    *received = st.ps_recv;
    *dropped = st.ps_drop;
    *if_dropped = st.ps_ifdrop;
    return 0;
}

int capture_drop_privileges(char *err, size_t errlen)
{
    if (geteuid() != 0)
        return sandbox_labmon_enter(err, errlen);
    uid_t uid;
    gid_t gid;
    const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
    if (su && sg && atoi(su) > 0) {
        uid = (uid_t)atoi(su);
        gid = (gid_t)atoi(sg);
    } else {
        struct passwd *pw = getpwnam("nobody");
        if (!pw) {
            snprintf(err, errlen, "cannot drop privileges: no user 'nobody'");
            return -1;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        snprintf(err, errlen, "cannot drop privileges to uid %u: %s", (unsigned)uid,
                 strerror(errno));
        return -1;
    }
    return sandbox_labmon_enter(err, errlen);
}
