/*
 * The lab wire, the process between the two ends of a lab link with knobs:
 * it reads every frame from one of the wire namespace's veth ends through a
 * packet socket, asks wire_core what to do, holds it in a timed FIFO and
 * sends it out of the other end when it is due. labd runs it as a child of
 * the master (tests/e2e/lab_probe as its own child); without knobs a kernel
 * bridge joins the ends instead and no process forwards.
 */
#ifndef LABD_LAB_WIRE_H
#define LABD_LAB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "master/lab_net.h"
#include "shared/lab_opts.h"
#include "shared/lab_stats.h"

#define LAB_WIRE_HOLD  4096 /* frames held per direction, at most */
#define LAB_WIRE_SLOT  1536 /* bytes per held frame: an MTU 1500 frame with a VLAN tag fits */
#define LAB_WIRE_BATCH 64   /* frames per recvmmsg / sendmmsg */

struct lab_wire_args {
    int fd[LAB_OPTS_NDIR];       /* from lab_wire_open; lab_wire_run closes them */
    const struct lab_opts *opts; /* the knobs */
    uint64_t seed;               /* lab_wire_seed(opts) */
    struct lab_stats *stats;     /* shared memory the counters go to; NULL for none */
    int trace_fd;                /* a line for each frame not carried; -1 for none */
};

/*
 * The wire's packet sockets, made in the wire's namespace (the caller is
 * back in its own on return): fd[LAB_OPTS_C2S] on the end facing the host,
 * fd[LAB_OPTS_S2C] on the end facing labd; each reads what comes in there.
 * They hold the wire's namespace. 0, or -1 with one line in err.
 */
int lab_wire_open(const struct lab_net *ln, int fd[LAB_OPTS_NDIR], char *err, size_t errlen);

/* --lab-seed, or a random seed when it was not given. */
uint64_t lab_wire_seed(const struct lab_opts *o);

/*
 * Forward frames until SIGTERM or SIGINT (blocked here and read from a
 * signalfd), then return 0; 1 after a failure, logged (an end of the link
 * deleted under the wire, no memory). Run it in its own process: it
 * blocks those signals and owns the descriptors.
 */
int lab_wire_run(const struct lab_wire_args *a);

#endif
