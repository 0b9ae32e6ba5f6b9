/* Building the lab link with rtnetlink (libmnl) and the ethtool ioctl; nothing is exec'd. */
#include "master/lab_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LAB_NET_MSG_SIZE  8192  /* one request */
#define LAB_NET_RECV_SIZE 32768 /* a dump of the host's addresses comes in parts this big */
#define LAB_NET_MASK_MAX  1200  /* an RPS CPU mask as text: 4096 CPUs */

/* A netlink socket and an ioctl socket made in one namespace, so they act there. */
struct lab_net_nl {
    struct mnl_socket *nl;
    unsigned portid;
    unsigned seq;
    int sk;
};

/* Both capabilities the link needs are effective: a namespace (SYS_ADMIN), links (NET_ADMIN). */
static int lab_net_has_caps(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &hdr, data) < 0)
        return 0;
    return (data[0].effective & (1u << CAP_NET_ADMIN)) &&
           (data[0].effective & (1u << CAP_SYS_ADMIN));
}

static void lab_net_nl_close(struct lab_net_nl *n)
{
    if (n->nl)
        mnl_socket_close(n->nl);
    if (n->sk >= 0)
        close(n->sk);
    n->nl = NULL;
    n->sk = -1;
}

/* Sockets in the calling thread's current namespace. 0, or -1 with errno. */
static int lab_net_nl_open(struct lab_net_nl *n)
{
    int e;

    n->seq = 0;
    n->sk = -1;
    n->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0)
        goto fail;
    n->portid = mnl_socket_get_portid(n->nl);
    n->sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (n->sk < 0)
        goto fail;
    return 0;
fail:
    e = errno;
    lab_net_nl_close(n);
    errno = e;
    return -1;
}

/*
 * Send one request (NLM_F_ACK or NLM_F_DUMP set here) and read the answers,
 * each through cb (may be NULL), until the ACK or the end of the dump.
 * 0, or -1 with the kernel's errno.
 */
static int lab_net_talk(struct lab_net_nl *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
    char buf[LAB_NET_RECV_SIZE];
    int rc;

    nlh->nlmsg_seq = ++n->seq;
    /* NLM_F_DUMP is two bits, one of them NLM_F_EXCL's. */
    if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
        nlh->nlmsg_flags |= NLM_F_ACK;
    if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
        return -1;
    do {
        ssize_t got = mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
        if (got < 0)
            return -1;
        rc = mnl_cb_run(buf, (size_t)got, nlh->nlmsg_seq, n->portid, cb, data);
    } while (rc > 0);
    return rc < 0 ? -1 : 0;
}

static struct nlmsghdr *lab_net_msg(char *buf, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    return nlh;
}

/* A locally administered MAC made of the IPv4 address, so captures are the same every run. */
static void lab_net_mac(uint32_t addr, uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x00;
    mac[2] = (uint8_t)(addr >> 24);
    mac[3] = (uint8_t)(addr >> 16);
    mac[4] = (uint8_t)(addr >> 8);
    mac[5] = (uint8_t)addr;
}

/*
 * A veth pair made from n's namespace: `name` there, `peer` in the
 * namespace peer_ns. A MAC of 0 is left to the kernel. 0, or -1 with errno
 * (EEXIST: a name is taken).
 */
static int lab_net_veth(struct lab_net_nl *n, const char *name, uint32_t mac_addr, const char *peer,
                        uint32_t peer_mac_addr, int peer_ns)
{
    char buf[LAB_NET_MSG_SIZE];
    struct nlmsghdr *nlh = lab_net_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct nlattr *linkinfo, *data, *peer_nest;
    uint8_t mac[6];

    mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    mnl_attr_put_u32(nlh, IFLA_MTU, LAB_NET_MTU);
    if (mac_addr) {
        lab_net_mac(mac_addr, mac);
        mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
    }
    linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
    mnl_attr_put_u32(nlh, IFLA_MTU, LAB_NET_MTU);
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns);
    if (peer_mac_addr) {
        lab_net_mac(peer_mac_addr, mac);
        mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
    }
    mnl_attr_nest_end(nlh, peer_nest);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, linkinfo);
    return lab_net_talk(n, nlh, NULL, NULL);
}

static int lab_net_on_link(const struct nlmsghdr *nlh, void *data)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

    if (nlh->nlmsg_type == RTM_NEWLINK)
        *(int *)data = ifi->ifi_index;
    return MNL_CB_OK;
}

/* The index of interface `name` in n's namespace, or -1 with errno. */
static int lab_net_ifindex(struct lab_net_nl *n, const char *name)
{
    char buf[LAB_NET_MSG_SIZE];
    struct nlmsghdr *nlh = lab_net_msg(buf, RTM_GETLINK, 0);
    int index = -1;

    mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    if (lab_net_talk(n, nlh, lab_net_on_link, &index) < 0)
        return -1;
    if (index <= 0) {
        errno = ENODEV;
        return -1;
    }
    return index;
}

/* Up, or no IPv6 address generation: one change of a link. 0, or -1 with errno. */
static int lab_net_link_up(struct lab_net_nl *n, int index)
{
    char buf[LAB_NET_MSG_SIZE];
    struct nlmsghdr *nlh = lab_net_msg(buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

    ifi->ifi_index = index;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    return lab_net_talk(n, nlh, NULL, NULL);
}

/*
 * No IPv6 link-local address on a lab interface: the link stays quiet
 * (no router or neighbour solicitations in the captures). A kernel without
 * IPv6 has nothing to switch off.
 */
static int lab_net_no_ipv6(struct lab_net_nl *n, int index)
{
    char buf[LAB_NET_MSG_SIZE];
    struct nlmsghdr *nlh = lab_net_msg(buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    struct nlattr *spec, *inet6;

    ifi->ifi_index = index;
    spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
    inet6 = mnl_attr_nest_start(nlh, AF_INET6);
    mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    mnl_attr_nest_end(nlh, inet6);
    mnl_attr_nest_end(nlh, spec);
    if (lab_net_talk(n, nlh, NULL, NULL) < 0 && errno != EAFNOSUPPORT && errno != EOPNOTSUPP)
        return -1;
    return 0;
}

static int lab_net_addr_add(struct lab_net_nl *n, int index, uint32_t addr)
{
    char buf[LAB_NET_MSG_SIZE];
    struct nlmsghdr *nlh = lab_net_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    uint32_t be = htonl(addr);

    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = 30;
    ifa->ifa_index = (unsigned)index;
    mnl_attr_put_u32(nlh, IFA_LOCAL, be);
    mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
    return lab_net_talk(n, nlh, NULL, NULL);
}

/* One legacy ethtool feature of `name` set to on (1) or off (0), or read (cmd = a get). */
static int lab_net_ethtool(struct lab_net_nl *n, const char *name, uint32_t cmd, uint32_t *value)
{
    struct ethtool_value ev = { .cmd = cmd, .data = *value };
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_data = (void *)&ev;
    if (ioctl(n->sk, SIOCETHTOOL, &ifr) < 0)
        return -1;
    *value = ev.data;
    return 0;
}

/*
 * Switch off TX checksum offload, TSO, GSO and GRO on `name` and check
 * they are off: each frame is then a real one of at most 1514 bytes with its
 * checksum filled in, as a capture of an Ethernet shows. 0, or -1 with errno.
 */
static int lab_net_offloads_off(struct lab_net_nl *n, const char *name)
{
    static const uint32_t set[] = { ETHTOOL_STXCSUM, ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO };
    static const uint32_t get[] = { ETHTOOL_GTXCSUM, ETHTOOL_GTSO, ETHTOOL_GGSO, ETHTOOL_GGRO };

    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        uint32_t v = 0;

        /* A feature the device cannot have is off already. */
        if (lab_net_ethtool(n, name, set[i], &v) < 0 && errno != EOPNOTSUPP)
            return -1;
        if (lab_net_ethtool(n, name, get[i], &v) < 0) {
            if (errno == EOPNOTSUPP)
                continue;
            return -1;
        }
        if (v != 0) {
            errno = EBUSY;
            return -1;
        }
    }
    return 0;
}

/* An interface of the link: offloads off, no IPv6, its address if any, up. */
static int lab_net_setup_if(struct lab_net_nl *n, const char *name, uint32_t addr, int *index)
{
    *index = lab_net_ifindex(n, name);
    if (*index < 0 || lab_net_offloads_off(n, name) < 0 || lab_net_no_ipv6(n, *index) < 0)
        return -1;
    if (addr && lab_net_addr_add(n, *index, addr) < 0)
        return -1;
    return lab_net_link_up(n, *index);
}

/*
 * In a namespace of the link, before its interfaces are made: their frames
 * are handed on by one CPU per connection (RPS by flow hash). Without it a
 * veth pair hands each frame to the CPU that sent it, and TCP sends from
 * both the writer's CPU and the one taking the ACKs, so the frames of one
 * connection overtake each other: duplicate ACKs and retransmissions with
 * no knob set, which a real Ethernet (one transmit queue) never shows.
 * Best effort: a kernel without RPS keeps its way.
 */
static void lab_net_steer_flows(void)
{
    char mask[LAB_NET_MASK_MAX];
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    size_t len = 0;
    int fd;

    if (ncpu < 1)
        return;
    /* A bitmap of every CPU: 32-bit hex groups, the highest first, comma-separated. */
    for (long top = (ncpu - 1) / 32; top >= 0 && len < sizeof(mask) - 10; top--) {
        long bits = ncpu - top * 32 >= 32 ? 32 : ncpu - top * 32;
        uint32_t group = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
        len += (size_t)snprintf(mask + len, sizeof(mask) - len, "%s%x", len ? "," : "", group);
    }
    fd = open("/proc/sys/net/core/rps_default_mask", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    /* Refused, frames may be reordered as on any veth pair: nothing worse. */
    ssize_t w = write(fd, mask, len);
    (void)w;
    close(fd);
}

/*
 * A new namespace with sockets in it, the thread back in host_ns. Its
 * descriptor goes to *ns (and its inode to *ino). 0, or -1 with errno.
 */
static int lab_net_new_ns(int host_ns, int *ns, unsigned long *ino, struct lab_net_nl *n)
{
    struct stat st;
    int e = 0;

    if (unshare(CLONE_NEWNET) < 0)
        return -1;
    lab_net_steer_flows();
    *ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*ns < 0 || fstat(*ns, &st) < 0 || lab_net_nl_open(n) < 0)
        e = errno;
    else
        *ino = (unsigned long)st.st_ino;
    /* Whatever happened, the thread goes home; failing that it cannot go on. */
    if (setns(host_ns, CLONE_NEWNET) < 0)
        e = errno;
    if (e) {
        if (*ns >= 0)
            close(*ns);
        *ns = -1;
        lab_net_nl_close(n);
        errno = e;
        return -1;
    }
    return 0;
}

struct lab_net_taken {
    uint32_t net;
    uint32_t addr; /* the first address found overlapping, host order */
    int plen;
    int index;
};

static int lab_net_on_addr(const struct nlmsghdr *nlh, void *data)
{
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    struct lab_net_taken *t = data;
    const struct nlattr *a;

    if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET || t->index)
        return MNL_CB_OK;
    mnl_attr_for_each(a, nlh, sizeof(*ifa))
    {
        uint16_t type = mnl_attr_get_type(a);
        uint32_t addr;

        if ((type != IFA_LOCAL && type != IFA_ADDRESS) || mnl_attr_get_payload_len(a) != 4)
            continue;
        addr = ntohl(mnl_attr_get_u32(a));
        if (lab_opts_overlaps(t->net, addr, ifa->ifa_prefixlen)) {
            t->addr = addr;
            t->plen = ifa->ifa_prefixlen;
            t->index = (int)ifa->ifa_index;
            break;
        }
    }
    return MNL_CB_OK;
}

/* Whether an IPv4 address of the host touches the /30: 1 (t says which), 0, or -1 with errno. */
static int lab_net_is_taken(struct lab_net_nl *host, uint32_t net, struct lab_net_taken *t)
{
    char buf[LAB_NET_MSG_SIZE];
    struct nlmsghdr *nlh = lab_net_msg(buf, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

    ifa->ifa_family = AF_INET;
    memset(t, 0, sizeof(*t));
    t->net = net;
    if (lab_net_talk(host, nlh, lab_net_on_addr, t) < 0)
        return -1;
    return t->index != 0;
}

static void lab_net_ntoa(uint32_t addr, char out[INET_ADDRSTRLEN])
{
    struct in_addr in = { htonl(addr) };

    inet_ntop(AF_INET, &in, out, INET_ADDRSTRLEN);
}

/* The name of interface `index` in n's namespace ("interface 7" when it cannot be read). */
static void lab_net_ifname(struct lab_net_nl *n, int index, char *out, size_t len)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_ifindex = index;
    if (ioctl(n->sk, SIOCGIFNAME, &ifr) == 0)
        snprintf(out, len, "%s", ifr.ifr_name);
    else
        snprintf(out, len, "interface %d", index);
}

/* One line for an errno of a step of the build. */
static void lab_net_fail(char *err, size_t errlen, const char *what, int e)
{
    snprintf(err, errlen, "--lab: %s: %s", what,
             e == EPERM || e == EACCES
                 ? "permission denied (needs CAP_NET_ADMIN and CAP_SYS_ADMIN; in a container, "
                   "a privileged one)"
             : e == EOPNOTSUPP ? "not supported by this kernel (--lab needs veth: CONFIG_VETH)"
                               : strerror(e));
}

/* The namespaces and their sockets while the link is built. */
struct lab_net_build {
    struct lab_net_nl host, labd, wire;
};

/*
 * The two veth pairs of the /30 at net, made from the wire's namespace,
 * the host end named after the /30. 0; 1 when that name is taken (another
 * labd has this /30); -1 with errno otherwise.
 */
static int lab_net_make_links(struct lab_net_build *b, struct lab_net *ln, uint32_t net)
{
    lab_opts_ifname(net, ln->host_if);
    if (lab_net_veth(&b->wire, LAB_NET_WIRE_HOST, 0, ln->host_if, LAB_NET_HOST_ADDR(net),
                     ln->host_ns) < 0)
        return errno == EEXIST ? 1 : -1;
    return lab_net_veth(&b->wire, LAB_NET_WIRE_LABD, 0, LAB_NET_LABD_IF, LAB_NET_LABD_ADDR(net),
                        ln->lab_ns);
}

/* Without knobs a bridge joins the wire's two ends: the kernel forwards, no process. */
static int lab_net_bridge(struct lab_net_nl *n, const int port[LAB_OPTS_NDIR])
{
    char buf[LAB_NET_MSG_SIZE];
    struct nlmsghdr *nlh = lab_net_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct nlattr *linkinfo;
    int index;

    mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, LAB_NET_BRIDGE);
    linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(nlh, linkinfo);
    if (lab_net_talk(n, nlh, NULL, NULL) < 0)
        return -1;
    index = lab_net_ifindex(n, LAB_NET_BRIDGE);
    if (index < 0 || lab_net_no_ipv6(n, index) < 0)
        return -1;
    for (int d = 0; d < LAB_OPTS_NDIR; d++) {
        struct ifinfomsg *ifi;

        nlh = lab_net_msg(buf, RTM_NEWLINK, 0);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_index = port[d];
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)index);
        if (lab_net_talk(n, nlh, NULL, NULL) < 0)
            return -1;
    }
    return lab_net_link_up(n, index);
}

/* Addresses, offloads and up on every interface of the link; lo up inside. */
static int lab_net_configure(struct lab_net_build *b, struct lab_net *ln, const char **what)
{
    int index;

    *what = ln->host_if;
    if (lab_net_setup_if(&b->host, ln->host_if, LAB_NET_HOST_ADDR(ln->net), &ln->host_ifindex) < 0)
        return -1;
    *what = LAB_NET_LABD_IF " in labd's namespace";
    if (lab_net_setup_if(&b->labd, LAB_NET_LABD_IF, LAB_NET_LABD_ADDR(ln->net), &index) < 0)
        return -1;
    *what = "lo in labd's namespace";
    index = lab_net_ifindex(&b->labd, "lo");
    if (index < 0 || lab_net_link_up(&b->labd, index) < 0)
        return -1;
    *what = "the wire's interfaces";
    if (lab_net_setup_if(&b->wire, LAB_NET_WIRE_HOST, 0, &ln->wire_ifindex[LAB_OPTS_C2S]) < 0 ||
        lab_net_setup_if(&b->wire, LAB_NET_WIRE_LABD, 0, &ln->wire_ifindex[LAB_OPTS_S2C]) < 0)
        return -1;
    if (!ln->bridged)
        return 0;
    *what = "the wire's bridge";
    if (lab_net_bridge(&b->wire, ln->wire_ifindex) == 0)
        return 0;
    /* A kernel without bridges: the wire process, with no knob to apply, joins the ends. */
    if (errno != EOPNOTSUPP)
        return -1;
    ln->bridged = 0;
    return 0;
}

/* Why --lab-net's /30 cannot be had: another labd's link, or an address of the machine. */
static void lab_net_taken_error(struct lab_net_build *b, uint32_t net,
                                const struct lab_net_taken *t, char *err, size_t errlen)
{
    char a[INET_ADDRSTRLEN], na[INET_ADDRSTRLEN], ifname[32], ours[LAB_OPTS_IFNAME_MAX];

    lab_net_ntoa(net, na);
    lab_opts_ifname(net, ours);
    if (t->index != 0)
        lab_net_ifname(&b->host, t->index, ifname, sizeof(ifname));
    if (t->index == 0 || strcmp(ifname, ours) == 0) {
        snprintf(err, errlen,
                 "--lab-net %s/30 is in use by another labd (%s exists); choose another /30", na,
                 ours);
        return;
    }
    lab_net_ntoa(t->addr, a);
    snprintf(err, errlen,
             "--lab-net %s/30 overlaps %s/%d on %s of this machine; choose another /30", na, a,
             t->plen, ifname);
}

/*
 * The /30 to use and its links: --lab-net or the first free one of the
 * range. 0, or -1 with err.
 */
static int lab_net_choose(const struct lab_opts *o, struct lab_net_build *b, struct lab_net *ln,
                          char *err, size_t errlen)
{
    int tries = o->net ? 1 : LAB_OPTS_AUTO_TRIES;

    for (int i = 0; i < tries; i++) {
        uint32_t net = o->net ? o->net : LAB_OPTS_RANGE + 4u * (uint32_t)i;
        struct lab_net_taken t;
        int rc = lab_net_is_taken(&b->host, net, &t);

        if (rc < 0) {
            lab_net_fail(err, errlen, "reading the host's addresses", errno);
            return -1;
        }
        if (rc == 0)
            rc = lab_net_make_links(b, ln, net);
        if (rc < 0) {
            lab_net_fail(err, errlen, "creating the veth pairs", errno);
            return -1;
        }
        if (rc == 0) {
            ln->net = net;
            return 0;
        }
        if (o->net) {
            lab_net_taken_error(b, net, &t, err, errlen);
            return -1;
        }
    }
    snprintf(err, errlen,
             "--lab: no free /30 among the first %d of 198.18.0.0/15 (other labd "
             "instances or addresses there); choose one with --lab-net",
             LAB_OPTS_AUTO_TRIES);
    return -1;
}

int lab_net_open(const struct lab_opts *o, struct lab_net *ln, char *err, size_t errlen)
{
    struct lab_net_build b = { .host = { .sk = -1 }, .labd = { .sk = -1 }, .wire = { .sk = -1 } };
    const char *what = "";

    memset(ln, 0, sizeof(*ln));
    ln->host_ns = ln->lab_ns = ln->wire_ns = -1;
    ln->bridged = !o->wire;
    if (!lab_net_has_caps()) {
        snprintf(err, errlen,
                 "--lab needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN): run it "
                 "with sudo");
        return -1;
    }
    ln->host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ln->host_ns < 0) {
        lab_net_fail(err, errlen, "opening this process's network namespace", errno);
        goto fail;
    }
    if (lab_net_nl_open(&b.host) < 0) {
        lab_net_fail(err, errlen, "opening a netlink socket", errno);
        goto fail;
    }
    if (lab_net_new_ns(ln->host_ns, &ln->lab_ns, &ln->lab_ns_ino, &b.labd) < 0 ||
        lab_net_new_ns(ln->host_ns, &ln->wire_ns, &ln->wire_ns_ino, &b.wire) < 0) {
        lab_net_fail(err, errlen, "creating a network namespace", errno);
        goto fail;
    }
    if (lab_net_choose(o, &b, ln, err, errlen) < 0)
        goto fail;
    if (lab_net_configure(&b, ln, &what) < 0) {
        lab_net_fail(err, errlen, what, errno);
        goto fail;
    }
    lab_net_nl_close(&b.host);
    lab_net_nl_close(&b.labd);
    lab_net_nl_close(&b.wire);
    return 0;
fail:
    /* The interfaces made so far go with the namespaces. */
    lab_net_nl_close(&b.host);
    lab_net_nl_close(&b.labd);
    lab_net_nl_close(&b.wire);
    lab_net_close(ln);
    return -1;
}

int lab_net_enter(const struct lab_net *ln, enum lab_net_where where)
{
    int fd = where == LAB_NET_LABD ? ln->lab_ns : where == LAB_NET_WIRE ? ln->wire_ns : ln->host_ns;

    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    return setns(fd, CLONE_NEWNET);
}

void lab_net_close(struct lab_net *ln)
{
    if (ln->host_ns >= 0)
        close(ln->host_ns);
    if (ln->lab_ns >= 0)
        close(ln->lab_ns);
    if (ln->wire_ns >= 0)
        close(ln->wire_ns);
    ln->host_ns = ln->lab_ns = ln->wire_ns = -1;
}

void lab_net_url(const struct lab_net *ln, int port, char *out, size_t n)
{
    char a[INET_ADDRSTRLEN];

    lab_net_ntoa(LAB_NET_LABD_ADDR(ln->net), a);
    snprintf(out, n, "http://%s:%d/", a, port);
}
