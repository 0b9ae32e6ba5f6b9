/*
 * The lab link (labd --lab): a private network namespace for labd's
 * listening sockets, reached from the host through veth pairs at MTU 1500
 * with segmentation and checksum offloads off, so the link carries real
 * Ethernet frames. A third namespace in the middle holds the wire: a kernel
 * bridge without knobs (no process forwards), the lab wire process
 * (master/lab_wire.c) with them or on a kernel without bridges:
 *
 *   host "labdN" <-> "to-host" [wire: bridge or process] "to-labd" <-> "eth0" labd
 *
 * Lifetime: the namespaces are never named (not in /run/netns) nor
 * bind-mounted. A namespace lives while a process is in it, a descriptor of
 * it is open, or a socket made in it is open; when it goes, the kernel
 * deletes its interfaces, and a veth end goes with its peer. The wire's
 * namespace holds no TCP socket: only the caller's descriptor and the
 * wire's packet sockets keep it, so when every labd process is gone,
 * however it ended (kill -9 included), it goes at once and takes "labdN"
 * with it. (labd's own namespace can outlive its processes a little: a
 * closed connection still sending its last data holds it, but with no way
 * out left it is nowhere to be seen and goes when that connection gives up.)
 */
#ifndef LABD_LAB_NET_H
#define LABD_LAB_NET_H

#include <stddef.h>
#include <stdint.h>

#include "shared/lab_opts.h"

#define LAB_NET_MTU       LAB_OPTS_MTU
#define LAB_NET_LABD_IF   "eth0"    /* labd's end, inside the lab namespace */
#define LAB_NET_WIRE_HOST "to-host" /* the wire's ends, inside the wire namespace */
#define LAB_NET_WIRE_LABD "to-labd"
#define LAB_NET_BRIDGE    "wire" /* joins the wire's ends when no knob is set */

/* The host's and labd's addresses of the /30 at net (host order). */
#define LAB_NET_HOST_ADDR(net) ((net) + 1)
#define LAB_NET_LABD_ADDR(net) ((net) + 2)

enum lab_net_where {
    LAB_NET_HOST, /* the namespace lab_net_open was called in */
    LAB_NET_LABD, /* labd's private namespace */
    LAB_NET_WIRE, /* the wire's namespace, in the middle */
};

struct lab_net {
    int host_ns;                           /* descriptor of the caller's namespace */
    int lab_ns;                            /* labd's namespace: listening sockets go here */
    int wire_ns;                           /* the wire's namespace */
    int bridged;                           /* a kernel bridge is the wire; else run lab_wire */
    uint32_t net;                          /* the /30 in use, host order */
    char host_if[LAB_OPTS_IFNAME_MAX];     /* the host's end: "labd0" */
    int host_ifindex;                      /* in the host namespace */
    int wire_ifindex[LAB_OPTS_NDIR];       /* in wire_ns: [C2S] "to-host", [S2C] "to-labd" */
    unsigned long lab_ns_ino, wire_ns_ino; /* inode numbers, to identify them in tests */
};

/*
 * Build the link for o from the caller's namespace, which the caller is
 * back in on return. Without knobs a bridge joins the wire's ends; with
 * knobs (o->wire), or on a kernel without bridges, ln->bridged is 0 and
 * the caller must run the lab wire process (master/lab_wire.h) for frames
 * to cross. Without --lab-net the first /30 of 198.18.0.0/15
 * that no address on the host touches and no other labd holds is taken.
 * Returns 0, or -1 with one line in err ("--lab needs root (CAP_NET_ADMIN
 * and CAP_SYS_ADMIN): ...") and nothing left behind (whatever was made
 * goes with the namespaces).
 */
int lab_net_open(const struct lab_opts *o, struct lab_net *ln, char *err, size_t errlen);

/*
 * Move the calling thread into one of the link's namespaces: sockets made
 * there stay there (listen in LAB_NET_LABD, then go back to LAB_NET_HOST).
 * 0, or -1 with errno.
 */
int lab_net_enter(const struct lab_net *ln, enum lab_net_where where);

/*
 * Close this process's descriptors of the namespaces. The link goes once
 * no process and no socket holds them any more.
 */
void lab_net_close(struct lab_net *ln);

/* "http://198.18.0.2:8080/" for labd's address on the link. */
void lab_net_url(const struct lab_net *ln, int port, char *out, size_t n);

#endif
