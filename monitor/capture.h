/*
 * Capture shell around libpcap: a live handle set up for a poll() loop, or
 * a capture file (pcap/pcapng, "-" = stdin), optionally copied to a pcap
 * file. Hands frames to a callback with nanosecond timestamps.
 */
#ifndef LABMON_CAPTURE_H
#define LABMON_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#define CAPTURE_DEFAULT_PORT 8080
/*
 * Live default: 8 KiB per packet holds any HTTP header block, and keeps the
 * kernel ring's frames small. On lo (MTU 64 KiB) a full snaplen makes each
 * ring slot 64 KiB, so a 32 MiB ring holds only ~500 packets and a fast
 * loopback burst overflows it; with 8 KiB slots it holds ~4000. Lengths come
 * from the IP header, so numbers stay exact; -s 262144 keeps whole packets.
 */
#define CAPTURE_DEFAULT_SNAPLEN 8192
#define CAPTURE_DEFAULT_BUFFER  (32 << 20)

struct capture_opts {
    const char *iface;      /* live interface, NULL = "any" */
    const char *filter;     /* BPF expression, NULL = none */
    const char *read_file;  /* offline file, "-" = stdin; NULL = live */
    const char *write_file; /* copy every frame here (pcap), NULL = don't */
    int snaplen;            /* 0 = CAPTURE_DEFAULT_SNAPLEN */
    int buffer_bytes;       /* 0 = CAPTURE_DEFAULT_BUFFER */
    int immediate;          /* 1: hand up each packet at once (see below) */
};

/*
 * Live packets are batched for up to CAPTURE_BATCH_MS (libpcap then uses
 * TPACKET_V3 blocks on Linux): one wake-up per batch instead of one per
 * packet. Under full load immediate mode cost about five times the CPU per
 * packet, and the CPU it took from the server showed in the server's
 * request rate. 50 ms is well below what a person notices.
 */
#define CAPTURE_BATCH_MS 50

typedef void (*capture_fn)(void *ctx, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
                           const uint8_t *bytes);

struct capture;

/* Open and activate; on failure NULL and a one-line reason in err. */
struct capture *capture_open(const struct capture_opts *o, char *err, size_t errlen);
void capture_close(struct capture *c);

/* Longest filter expression, with what labmon adds on loopback. */
#define CAPTURE_FILTER_MAX 4096

/*
 * What the kernel filter adds to the user's on a loopback capture so each
 * packet reaches the ring once ("inbound" on lo; on "any", the outgoing
 * copies on the loopback interface), or "" (not loopback, a file, or the
 * clause did not compile with the user's filter).
 */
const char *capture_loop_filter(const struct capture *c);

int capture_datalink(const struct capture *c);
/* The link type's name as libpcap knows it ("EN10MB", "LINUX_SLL2", ...). */
const char *capture_link_name(const struct capture *c);
int capture_is_live(const struct capture *c);
/* fd to poll() for readability (live), -1 for files. */
int capture_fd(const struct capture *c);

/*
 * Hand up to max frames (-1 = what is buffered) to fn. Returns the number
 * handled, 0 if none were ready (live) or at end of file (check
 * capture_eof), -1 on error (capture_error tells).
 */
int capture_dispatch(struct capture *c, int max, capture_fn fn, void *ctx);
int capture_eof(const struct capture *c);
/* How far a capture file is read: 0 and *done of *total bytes, or -1 (live, a pipe). */
int capture_progress(const struct capture *c, uint64_t *done, uint64_t *total);
const char *capture_error(const struct capture *c);
/* Stop a running capture_dispatch (safe from a signal handler). */
void capture_break(struct capture *c);

/* Kernel counters of a live capture; returns -1 if unavailable. */
int capture_stats(struct capture *c, uint64_t *received, uint64_t *dropped, uint64_t *if_dropped);

/*
 * The default BPF filter: "tcp port P" with P the port labd listens on.
 * port_hint <= 0 means unknown (labd_link.c asks labd's run dir first);
 * then CAPTURE_DEFAULT_PORT.
 */
void capture_default_filter(int port_hint, char *buf, size_t n);

/*
 * After the handle is open: when running as root, become SUDO_UID/SUDO_GID
 * (the user who ran sudo) or nobody; then enter labmon's sandbox
 * (no_new_privs, seccomp: shared/sandbox.h). Returns 0, or -1 with err set.
 */
int capture_drop_privileges(char *err, size_t errlen);

#endif
