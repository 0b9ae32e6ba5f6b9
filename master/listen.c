/*
 * Opening the listening sockets (shared, or SO_REUSEPORT copies), with one
 * clear line for each way it fails.
 */
#include "master/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void listen_name(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        port = ntohs(s6->sin6_port);
        snprintf(out, n, "[%s]:%d", host, port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        port = ntohs(s4->sin_port);
        snprintf(out, n, "%s:%d", host, port);
    }
}

static void listen_error(char *err, size_t errlen, int e, const char *name, int port)
{
    switch (e) {
    case EADDRINUSE:
        snprintf(err, errlen,
                 "port %d is already in use on %s (another server listens there; stop it or "
                 "use --port)",
                 port, name);
        break;
    case EACCES:
        snprintf(err, errlen,
                 "permission denied to listen on %s (ports below 1024 need root or "
                 "CAP_NET_BIND_SERVICE; use --port 8080)",
                 name);
        break;
    case EADDRNOTAVAIL:
        snprintf(err, errlen, "cannot listen on %s: no such address on this machine (check --bind)",
                 name);
        break;
    default:
        snprintf(err, errlen, "cannot listen on %s: %s", name, strerror(e));
        break;
    }
}

/* A listening socket on sa, or -1 with errno (bind and listen included). */
static int listen_socket(const struct sockaddr *sa, socklen_t len, int v6only, int reuseport)
{
    int fd, one = 1;

    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto fail;
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    if (bind(fd, sa, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* What became of one address. */
enum listen_outcome {
    LISTEN_OPENED,    /* listening (or already in the set under that name) */
    LISTEN_NO_FAMILY, /* the kernel has no such family (IPv6 off): skipped */
    LISTEN_FAILED,    /* one line in err */
};

/*
 * SO_REUSEPORT would let us bind beside another server of the same user on
 * this port and silently share its traffic: first bind one plain socket,
 * which fails if anything listens there. Returns 0, or -1 with errno.
 */
static int listen_probe(const struct sockaddr *sa, socklen_t len, int v6only)
{
    int fd = listen_socket(sa, len, v6only, 0);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* A --bind value as getaddrinfo takes it: "[::1]" is accepted for "::1". */
static void listen_bind_host(const char *bind_addr, char *host, size_t n)
{
    size_t len = strlen(bind_addr);

    if (len >= 2 && bind_addr[0] == '[' && bind_addr[len - 1] == ']')
        snprintf(host, n, "%.*s", (int)(len - 2), bind_addr + 1);
    else
        snprintf(host, n, "%s", bind_addr);
}

static int listen_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* Does bind_addr name only loopback addresses? (Unresolvable: no; listen_open says why.) */
static int listen_bind_local(const char *bind_addr)
{
    struct addrinfo hints, *res, *ai;
    char host[CONFIG_BIND_MAX];
    int local = 1;

    if (strcmp(bind_addr, "*") == 0)
        return 0;
    listen_bind_host(bind_addr, host, sizeof(host));
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return 0;
    for (ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            local &= listen_is_loopback(ai->ai_addr);
    }
    freeaddrinfo(res);
    return local;
}

enum config_accept listen_accept_resolve(struct labd_config *c, char *why, size_t whylen)
{
    int local = c->nbinds > 0;

    if (c->accept != CONFIG_ACCEPT_AUTO) {
        snprintf(why, whylen, "as configured");
        return c->accept;
    }
    for (int i = 0; local && i < c->nbinds; i++)
        local = listen_bind_local(c->binds[i]);
    if (c->lab.on)
        snprintf(why, whylen, "auto: the lab's addresses");
    else if (local)
        snprintf(why, whylen, "auto: loopback addresses only");
    else
        snprintf(why, whylen, "auto: %s reaches network cards",
                 c->nbinds == 0 ? "the default address" : "an address");
    c->accept = c->lab.on || local ? CONFIG_ACCEPT_CPU : CONFIG_ACCEPT_EXCLUSIVE;
    return c->accept;
}

/* One socket for one address; v6only: 1 for explicit IPv6 addresses, 0 for the [::] default. */
static enum listen_outcome listen_one(struct listen_set *ls, const struct sockaddr *sa,
                                      socklen_t len, int v6only, int port, char *err, size_t errlen)
{
    char name[64];
    int fd;

    listen_name(sa, name, sizeof(name));
    for (int i = 0; i < ls->n; i++) {
        if (strcmp(ls->names[i], name) == 0)
            return LISTEN_OPENED; /* a name that resolved to an address we have */
    }
    if (ls->n >= LISTEN_MAX) {
        snprintf(err, errlen, "too many listening addresses (at most %d)", LISTEN_MAX);
        return LISTEN_FAILED;
    }
    if (ls->reuseport && listen_probe(sa, len, v6only) < 0)
        fd = -1;
    else
        fd = listen_socket(sa, len, v6only, ls->reuseport);
    if (fd < 0) {
        int e = errno;
        if (e == EAFNOSUPPORT)
            return LISTEN_NO_FAMILY;
        if (e == EADDRNOTAVAIL && sa->sa_family == AF_INET6 && !v6only)
            return LISTEN_NO_FAMILY; /* IPv6 configured off: the caller falls back to IPv4 */
        listen_error(err, errlen, e, name, port);
        return LISTEN_FAILED;
    }
    ls->fds[ls->n] = fd;
    snprintf(ls->names[ls->n], sizeof(ls->names[0]), "%s", name);
    ls->n++;
    return LISTEN_OPENED;
}

/* The default: [::] for both families, or 0.0.0.0 where the kernel has no IPv6. */
static int listen_any(struct listen_set *ls, int port, char *err, size_t errlen)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;
    enum listen_outcome rc;

    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    s6.sin6_addr = in6addr_any;
    s6.sin6_port = htons((uint16_t)port);
    rc = listen_one(ls, (struct sockaddr *)&s6, sizeof(s6), 0, port, err, errlen);
    if (rc != LISTEN_NO_FAMILY)
        return rc == LISTEN_OPENED ? 0 : -1;
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    s4.sin_addr.s_addr = htonl(INADDR_ANY);
    s4.sin_port = htons((uint16_t)port);
    rc = listen_one(ls, (struct sockaddr *)&s4, sizeof(s4), 0, port, err, errlen);
    if (rc == LISTEN_NO_FAMILY)
        snprintf(err, errlen, "cannot listen: neither IPv6 nor IPv4 is available");
    return rc == LISTEN_OPENED ? 0 : -1;
}

static int listen_addr(struct listen_set *ls, const char *bind_addr, int port, char *err,
                       size_t errlen)
{
    struct addrinfo hints, *res, *ai;
    char host[CONFIG_BIND_MAX];
    char service[8];
    enum listen_outcome outcome = LISTEN_OPENED;
    int rc, any = 0;

    if (strcmp(bind_addr, "*") == 0)
        return listen_any(ls, port, err, errlen);
    listen_bind_host(bind_addr, host, sizeof(host));
    snprintf(service, sizeof(service), "%d", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", bind_addr, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        outcome = listen_one(ls, ai->ai_addr, ai->ai_addrlen, 1, port, err, errlen);
        if (outcome == LISTEN_FAILED)
            break;
        any |= outcome == LISTEN_OPENED;
    }
    freeaddrinfo(res);
    if (outcome == LISTEN_FAILED)
        return -1;
    if (!any) {
        snprintf(err, errlen, "cannot listen on %s: no usable IPv4 or IPv6 address", bind_addr);
        return -1;
    }
    return 0;
}

/*
 * TCP_DEFER_ACCEPT: the kernel completes the handshake but queues the
 * connection for accept only when its first bytes come (or, with none, after
 * about ms), so a worker wakes once per connection with the request already
 * there. The option counts whole seconds; 0 turns it off.
 */
static void listen_defer_fd(int fd, int ms)
{
    int secs = ms <= 0 ? 0 : (ms + 999) / 1000;
    /* Where the kernel lacks it, connections are simply accepted at once. */
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
}

int listen_open(const struct labd_config *c, struct listen_set *ls, char *err, size_t errlen)
{
    int rc = 0;

    memset(ls, 0, sizeof(*ls));
    memset(ls->more, -1, sizeof(ls->more));
    ls->reuseport = c->accept == CONFIG_ACCEPT_REUSEPORT || c->accept == CONFIG_ACCEPT_CPU;
    ls->ncopies = 1;
    if (c->nbinds == 0)
        rc = listen_any(ls, c->port, err, errlen);
    for (int i = 0; rc == 0 && i < c->nbinds; i++)
        rc = listen_addr(ls, c->binds[i], c->port, err, errlen);
    if (rc == 0)
        rc = listen_grow(ls, c->workers, err, errlen);
    if (rc == 0)
        listen_set_defer(ls, c->defer_accept_ms);
    if (rc < 0)
        listen_close(ls);
    return rc;
}

/* Where copy k of address i lives. */
static int *listen_slot(struct listen_set *ls, int k, int i)
{
    return k == 0 ? &ls->fds[i] : &ls->more[k - 1][i];
}

static int listen_get(const struct listen_set *ls, int k, int i)
{
    return k == 0 ? ls->fds[i] : ls->more[k - 1][i];
}

/* Reuseport: worker `number` of nworkers accepts on copy k (see listen_worker_fds). */
static int listen_worker_owns(int k, unsigned number, int nworkers)
{
    return k % nworkers == (int)((number - 1) % (unsigned)nworkers);
}

/* Close copy k of address i, if open: the one place a set's descriptor is closed. */
static void listen_drop(struct listen_set *ls, int k, int i)
{
    int *fd = listen_slot(ls, k, i);

    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/*
 * Close copy k of address i for good: shut down first, as other workers
 * hold it too (the rescue), so that it leaves the SO_REUSEPORT group now
 * and they see it closed; then drop it.
 */
static void listen_retire(struct listen_set *ls, int k, int i)
{
    int fd = listen_get(ls, k, i);

    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    listen_drop(ls, k, i);
}

void listen_close(struct listen_set *ls)
{
    for (int k = 0; k < ls->ncopies; k++) {
        for (int i = 0; i < ls->n; i++)
            listen_drop(ls, k, i);
    }
    ls->n = 0;
    ls->ncopies = 0;
}

/* One more SO_REUSEPORT socket on the address (and family, v6only) of address i. */
static int listen_copy(const struct listen_set *ls, int i, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss), olen;
    int v6only = 0, fd = -1;

    for (int k = 0; k < ls->ncopies && fd < 0; k++)
        fd = listen_get(ls, k, i);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(err, errlen, "cannot listen on %s again: no open socket to copy", ls->names[i]);
        return -1;
    }
    olen = sizeof(v6only);
    if (ss.ss_family == AF_INET6)
        getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &olen);
    fd = listen_socket((struct sockaddr *)&ss, len, v6only, 1);
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s (SO_REUSEPORT copy): %s", ls->names[i],
                 strerror(errno));
    return fd;
}

int listen_grow(struct listen_set *ls, int ncopies, char *err, size_t errlen)
{
    if (!ls->reuseport)
        return 0;
    if (ncopies > LISTEN_COPIES_MAX)
        ncopies = LISTEN_COPIES_MAX;
    for (int k = 0; k < ncopies; k++) {
        for (int i = 0; i < ls->n; i++) {
            int *fd = listen_slot(ls, k, i);
            if (k < ls->ncopies && *fd >= 0)
                continue;
            *fd = listen_copy(ls, i, err, errlen);
            if (*fd < 0)
                return -1;
            listen_defer_fd(*fd, ls->defer_ms);
            if (k >= ls->ncopies)
                ls->ncopies = k + 1;
        }
    }
    return 0;
}

void listen_set_defer(struct listen_set *ls, int ms)
{
    ls->defer_ms = ms;
    for (int k = 0; k < ls->ncopies; k++) {
        for (int i = 0; i < ls->n; i++)
            listen_defer_fd(*listen_slot(ls, k, i), ms);
    }
}

void listen_shrink(struct listen_set *ls, int ncopies)
{
    if (ncopies < 1)
        ncopies = 1;
    for (int k = ncopies; k < ls->ncopies; k++) {
        for (int i = 0; i < ls->n; i++) {
            listen_retire(ls, k, i);
        }
    }
    if (ls->ncopies > ncopies)
        ls->ncopies = ncopies;
}

int listen_worker_fds(const struct listen_set *ls, unsigned number, int nworkers, int *out,
                      unsigned char *own, int max)
{
    int n = 0;

    if (nworkers < 1)
        nworkers = 1;
    /* The next worker's copies: each worker watches one other, in a ring. */
    unsigned next = number % (unsigned)nworkers + 1;
    for (int pass = 1; pass >= 0; pass--) {
        for (int k = 0; k < ls->ncopies; k++) {
            int mine = !ls->reuseport || listen_worker_owns(k, number, nworkers);
            if (mine != pass ||
                (!mine && (next == number || !listen_worker_owns(k, next, nworkers))))
                continue;
            for (int i = 0; i < ls->n && n < max; i++) {
                int fd = listen_get(ls, k, i);
                if (fd >= 0) {
                    own[n] = (unsigned char)mine;
                    out[n++] = fd;
                }
            }
        }
    }
    return n;
}

void listen_close_others(struct listen_set *ls, const int *keep, int nkeep)
{
    for (int k = 0; k < ls->ncopies; k++) {
        for (int i = 0; i < ls->n; i++) {
            int fd = listen_get(ls, k, i), kept = 0;
            for (int j = 0; j < nkeep && !kept; j++)
                kept = keep[j] == fd;
            if (!kept)
                listen_drop(ls, k, i);
        }
    }
}

void listen_close_worker(struct listen_set *ls, unsigned number, int nworkers)
{
    if (!ls->reuseport || nworkers < 1)
        return;
    for (int k = 0; k < ls->ncopies; k++) {
        if (!listen_worker_owns(k, number, nworkers))
            continue;
        for (int i = 0; i < ls->n; i++) {
            listen_retire(ls, k, i);
        }
    }
}

int listen_same(const struct labd_config *a, const struct labd_config *b)
{
    if (a->port != b->port || a->nbinds != b->nbinds || a->accept != b->accept)
        return 0;
    for (int i = 0; i < a->nbinds; i++) {
        if (strcmp(a->binds[i], b->binds[i]) != 0)
            return 0;
    }
    return 1;
}
