/*
 * labmon's link to the running labd: finds it through its run directory
 * (the scoreboard: master pid, port, workers), follows it starting, stopping
 * and restarting, turns what it found into capture defaults (with --lab:
 * the host's end of the lab link), and tells which worker served a client
 * (an index over the scoreboard's records).
 * Both front-ends learn about labd here and nowhere else.
 */
#ifndef LABMON_LABD_LINK_H
#define LABMON_LABD_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/capture.h"
#include "shared/scoreboard.h"

/* What labmon knows of labd. */
struct labd_link_info {
    int running;   /* a scoreboard whose master process lives */
    int seen;      /* running at some look since the link was made */
    int32_t pid;   /* master pid; port and workers: as it said */
    uint16_t port; /* these three: of the last labd seen running */
    int workers;
    int lab;                        /* labd runs with --lab: the two records below */
    struct lab_stats_link lab_link; /* the link: its host end, knobs */
    struct lab_stats lab_wire;      /* the wire's counters (zero when a bridge is the wire) */
};

struct labd_link;

/*
 * A link to the labd of run_dir (NULL or "": labd's default for this user).
 * Returns NULL when out of memory. Nothing is looked at before the first
 * labd_link_poll().
 */
struct labd_link *labd_link_new(const char *run_dir);
void labd_link_free(struct labd_link *l);

/*
 * Look (again): follows labd starting, stopping and restarting (a new
 * scoreboard). The mapping is kept while its master lives, even if the run
 * dir is out of reach after the capture dropped root. About once a second.
 */
void labd_link_poll(struct labd_link *l);
const struct labd_link_info *labd_link_info(const struct labd_link *l);

/* One look for a caller that needs no more: fills *info (zeroed when labd does not run). */
void labd_link_probe(const char *run_dir, struct labd_link_info *info);

/*
 * What the user left open in a live capture, from what labd says: without
 * -f the filter is "tcp port P", P the port given (port > 0), else the
 * running labd's, else CAPTURE_DEFAULT_PORT; it is written to filter (n
 * bytes), which must outlive co. Without -i, a labd running with --lab is
 * watched on the host's end of its link (Ethernet frames, as on a real
 * network): its name is written to iface (LAB_STATS_IFNAME_MAX bytes, ""
 * otherwise), which must outlive co too, and every frame is handed on at
 * once (immediate). A file's options are left as they are.
 */
void labd_link_capture_defaults(const struct labd_link_info *info, int port,
                                struct capture_opts *co, char *filter, size_t n, char *iface);

/*
 * The capture was on the lab link whose name capture_defaults wrote to iface,
 * and the link is gone: labd stopped. A normal end, not a failed capture.
 */
int labd_link_lab_gone(const char *iface);

/*
 * The header's words for labd --lab, "" without: "lab labd0 +40ms 1%", and
 * the wire's counters as "wire fwd 4207 dly 4207 lost 28 rule 1 qdrop 0"
 * (counters: "" when a bridge is the wire).
 */
void labd_link_lab_text(const struct labd_link_info *info, char *lab, size_t nlab, char *counters,
                        size_t ncounters);

/*
 * The labd worker that served client addr:port (family 4/6) around when_ns
 * (capture time), or 0 when unknown or labd is not running. A miss rebuilds
 * the index, at most four times a second.
 */
int32_t labd_link_worker_pid(struct labd_link *l, int family, const uint8_t *addr, uint16_t port,
                             uint64_t when_ns);

/*
 * The index behind labd_link_worker_pid, pure over a mapped scoreboard
 * (exposed for its tests): client address and port -> worker pid.
 */
struct labd_link_pids;

struct labd_link_pids *labd_link_pids_new(void);
void labd_link_pids_free(struct labd_link_pids *p);

/* Index every live and recently closed connection of sb. Returns 0 or -1 (memory). */
int labd_link_pids_build(struct labd_link_pids *p, const struct scoreboard *sb);

/*
 * The worker pid for client addr:port (family 4 or 6; IPv4-mapped IPv6 is
 * the same as IPv4), or 0. When the port was reused, the connection accepted
 * last at or before when_ns + 1 s wins (0 = the newest).
 */
int32_t labd_link_pids_find(const struct labd_link_pids *p, int family, const uint8_t *addr,
                            uint16_t port, int64_t when_ns);

/* Records indexed by the last build. */
size_t labd_link_pids_count(const struct labd_link_pids *p);

#endif
