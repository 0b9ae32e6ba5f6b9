/*
 * The floor for `make bench`: the least an HTTP/1.1 server on this kernel
 * can do for S1/S2. N processes share new connections as labd's workers do:
 * by default one listening socket through EPOLLEXCLUSIVE (labd's accept
 * exclusive), keeping their shares of the open connections even
 * (floor_accept); with -a cpu (labd's accept cpu, its default on loopback)
 * each is pinned to its own CPU with its own SO_REUSEPORT socket, whose
 * SO_INCOMING_CPU takes the connections that CPU received. Each request, once its blank line
 * has come, gets one response built at start-up with a body of the page's
 * size. No parsing, no files, no timers; keep-alive and "Connection: close"
 * are honoured, pipelined requests answered in order.
 *
 *   floor -p PORT (-s BODY_BYTES | -t RESPONSE_BYTES) [-w WORKERS] [-d DEFER_SECONDS]
 *         [-c MAX_FDS] [-a exclusive|cpu]
 *
 * -t sizes the body so that the whole keep-alive response (status line,
 * header and body) is RESPONSE_BYTES long: run.sh passes the length of
 * labd's response to the same page, so both put the same bytes on the wire.
 *
 * Runs in the foreground until SIGTERM or SIGINT, which it passes to its
 * processes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_IN_CAP     4096 /* a request header must fit: wrk's are about 60 bytes */
#define FLOOR_MAX_EVENTS 128
#define FLOOR_MAX_PROCS  64
/* A worker may hold this many connections above its even share (see floor_accept). */
#define FLOOR_SLACK 8

/* One connection: bytes of requests not yet answered, and a response not yet sent. */
struct floor_conn {
    size_t in_len;
    size_t out_off; /* bytes of the pending response sent; 0 when none pends */
    const char *out;
    size_t out_len;
    int closing; /* close once out is sent */
    char in[FLOOR_IN_CAP];
};

struct floor_resp {
    char *keep, *close; /* the whole response, header and body */
    size_t keep_len, close_len;
};

static struct floor_conn **floor_conns; /* by descriptor */
static int floor_max_fds;
static struct floor_resp floor_resp;
static int floor_workers = 1;
static int floor_cpu_mode;        /* -a cpu: a pinned worker per CPU, each with its own socket */
static atomic_uint *floor_total;  /* connections open in all workers (shared memory) */
static unsigned floor_mine;       /* connections open in this worker */
static int floor_listening;       /* the listening socket is in this worker's epoll set */
static int64_t floor_declined_ms; /* when this worker last left new connections to others */
static volatile sig_atomic_t floor_stop;

static void floor_on_signal(int sig)
{
    (void)sig;
    floor_stop = 1;
}

static int floor_head(char *head, size_t cap, size_t body, const char *conn_hdr)
{
    return snprintf(head, cap,
                    "HTTP/1.1 200 OK\r\nServer: floor\r\nContent-Type: text/html\r\n"
                    "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                    body, conn_hdr);
}

static char *floor_build(size_t body, const char *conn_hdr, size_t *len)
{
    char head[256];
    int n = floor_head(head, sizeof(head), body, conn_hdr);
    char *r = n > 0 ? malloc((size_t)n + body) : NULL;

    if (r == NULL)
        return NULL;
    memcpy(r, head, (size_t)n);
    memset(r + n, 'x', body);
    *len = (size_t)n + body;
    return r;
}

/* The body size that makes the keep-alive response TOTAL bytes; -1 when too small. */
static long floor_body_for(long total)
{
    char head[256];
    long body = total;

    /* The header grows with the digits of Content-Length: settle in a few steps. */
    for (int i = 0; i < 4 && body >= 0; i++)
        body = total - floor_head(head, sizeof(head), (size_t)body, "keep-alive");
    return body;
}

static void floor_close(int fd)
{
    free(floor_conns[fd]);
    floor_conns[fd] = NULL;
    close(fd);
    floor_mine--;
    atomic_fetch_sub_explicit(floor_total, 1, memory_order_relaxed);
}

static int64_t floor_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Does this worker hold more than its even share of all open connections? */
static int floor_over_share(void)
{
    unsigned total = atomic_load_explicit(floor_total, memory_order_relaxed);

    return !floor_cpu_mode && floor_workers > 1 &&
           floor_mine >
               (total + (unsigned)floor_workers - 1) / (unsigned)floor_workers + FLOOR_SLACK;
}

static void floor_listen_on(int lfd, int epfd, int on)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd };

    if (floor_listening == on)
        return;
    if (on)
        epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    else
        epoll_ctl(epfd, EPOLL_CTL_DEL, lfd, NULL);
    floor_listening = on;
}

/*
 * Does the request [p, p+n) (request line and header, through the blank
 * line) ask to close? HTTP/1.1: a "close" token in a Connection field, in
 * any case, with any spaces and other tokens around it. HTTP/1.0: unless a
 * "keep-alive" token is there.
 */
static int floor_wants_close(const char *p, size_t n)
{
    const char *end = p + n;
    const char *eol = memchr(p, '\n', n);
    int http10 = eol != NULL && eol - p >= 9 && memcmp(eol - 9, "HTTP/1.0\r", 9) == 0;
    int close_tok = 0, keep_tok = 0;

    for (const char *l = eol; l != NULL && end - l > 1;
         l = memchr(l + 1, '\n', (size_t)(end - l - 1))) {
        const char *v = l + 1;
        if (end - v < 11 || strncasecmp(v, "connection:", 11) != 0)
            continue;
        const char *vend = memchr(v, '\n', (size_t)(end - v));
        if (vend == NULL)
            vend = end;
        v += 11;
        while (v < vend) {
            while (v < vend && (*v == ' ' || *v == '\t' || *v == ',' || *v == '\r'))
                v++;
            const char *t = v;
            while (v < vend && *v != ',' && *v != ' ' && *v != '\t' && *v != '\r')
                v++;
            if (v - t == 5 && strncasecmp(t, "close", 5) == 0)
                close_tok = 1;
            else if (v - t == 10 && strncasecmp(t, "keep-alive", 10) == 0)
                keep_tok = 1;
        }
    }
    return close_tok || (http10 && !keep_tok);
}

/* Sends what is pending; 0 when all is sent, 1 to wait for EPOLLOUT, -1 closed. */
static int floor_flush(int fd, struct floor_conn *c)
{
    while (c->out != NULL) {
        ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 1;
            floor_close(fd);
            return -1;
        }
        c->out_off += (size_t)n;
        if (c->out_off == c->out_len) {
            c->out = NULL;
            c->out_off = 0;
            if (c->closing) {
                floor_close(fd);
                return -1;
            }
        }
    }
    return 0;
}

/*
 * Read and answer until the socket is empty. Returns 1 when the connection
 * stays open and needs epoll, 0 when it was closed.
 */
static int floor_serve(int fd)
{
    struct floor_conn *c = floor_conns[fd];

    for (;;) {
        int rc = floor_flush(fd, c);
        if (rc != 0)
            return rc > 0;
        /* Answer every whole request in the buffer. */
        char *end;
        while (c->out == NULL && (end = memmem(c->in, c->in_len, "\r\n\r\n", 4)) != NULL) {
            size_t used = (size_t)(end - c->in) + 4;
            c->closing = floor_wants_close(c->in, used);
            c->out = c->closing ? floor_resp.close : floor_resp.keep;
            c->out_len = c->closing ? floor_resp.close_len : floor_resp.keep_len;
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            rc = floor_flush(fd, c);
            if (rc != 0)
                return rc > 0;
        }
        if (c->in_len == sizeof(c->in)) {
            floor_close(fd); /* a header this floor will not hold */
            return 0;
        }
        ssize_t n = read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 1;
        floor_close(fd);
        return 0;
    }
}

/*
 * Accept until the queue is empty. A worker that woke first would take a
 * whole burst of connects (wrk opens its 100 at once): seen splits of 95/5
 * halve keep-alive throughput at random. So a worker over its even share
 * (plus FLOOR_SLACK) leaves the listening socket to the others until it is
 * back under it; as the others may be asleep with connections waiting
 * (EPOLLEXCLUSIVE woke only this one), it still takes one a millisecond
 * (FORCE) while over. The floor is the best case: even workers.
 */
static void floor_accept(int lfd, int epfd, int force)
{
    for (;;) {
        if (!force && floor_over_share()) {
            floor_listen_on(lfd, epfd, 0);
            floor_declined_ms = floor_now_ms();
            return;
        }
        force = 0;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: the next event retries */
        }
        if (fd >= floor_max_fds ||
            (floor_conns[fd] = calloc(1, sizeof(struct floor_conn))) == NULL) {
            close(fd);
            continue;
        }
        floor_mine++;
        atomic_fetch_add_explicit(floor_total, 1, memory_order_relaxed);
        /* As labd: serve what came with the handshake before registering. */
        if (!floor_serve(fd))
            continue;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                  .data.fd = fd };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            floor_close(fd);
    }
}

static int floor_worker(int lfd)
{
    struct epoll_event evs[FLOOR_MAX_EVENTS];
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd };

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return 1;
    floor_conns = calloc((size_t)floor_max_fds, sizeof(*floor_conns));
    if (epfd < 0 || floor_conns == NULL || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0) {
        perror("floor: worker set-up");
        return 1;
    }
    floor_listening = 1;
    for (;;) {
        int n = epoll_wait(epfd, evs, FLOOR_MAX_EVENTS, floor_listening ? -1 : 1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd)
                floor_accept(lfd, epfd, 0);
            else if (floor_conns[fd] != NULL)
                floor_serve(fd); /* a closed descriptor leaves epoll by itself */
        }
        if (!floor_listening) {
            if (!floor_over_share())
                floor_listen_on(lfd, epfd, 1);
            else if (floor_now_ms() - floor_declined_ms >= 1)
                floor_accept(lfd, epfd, 1);
        }
    }
}

/* cpu is -1 for the shared socket, else the CPU whose connections this one takes. */
static int floor_listen(int port, int defer_secs, int cpu)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (cpu >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
                     setsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, sizeof(cpu)) < 0)) {
        close(fd);
        return -1;
    }
    /* Accepted sockets inherit these from the listener. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (defer_secs > 0)
        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_secs, sizeof(defer_secs));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 511) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    int port = 0, workers = 1, defer = 0, opt;
    int lfds[FLOOR_MAX_PROCS], cpus[FLOOR_MAX_PROCS];
    long body = -1, total = -1;
    pid_t pids[FLOOR_MAX_PROCS];
    struct rlimit rl;

    getrlimit(RLIMIT_NOFILE, &rl);
    floor_max_fds = (int)(rl.rlim_cur > 1000000 ? 1000000 : rl.rlim_cur);
    while ((opt = getopt(argc, argv, "p:s:t:w:d:c:a:")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 's':
            body = atol(optarg);
            break;
        case 't':
            total = atol(optarg);
            break;
        case 'w':
            workers = atoi(optarg);
            break;
        case 'd':
            defer = atoi(optarg);
            break;
        case 'c':
            floor_max_fds = atoi(optarg);
            break;
        case 'a':
            if (strcmp(optarg, "cpu") != 0 && strcmp(optarg, "exclusive") != 0)
                goto usage;
            floor_cpu_mode = strcmp(optarg, "cpu") == 0;
            break;
        default:
            goto usage;
        }
    }
    if (total >= 0)
        body = floor_body_for(total);
    if (port <= 0 || port > 65535 || body < 0 || workers < 1 || workers > FLOOR_MAX_PROCS ||
        floor_max_fds < 16)
        goto usage;
    floor_resp.keep = floor_build((size_t)body, "keep-alive", &floor_resp.keep_len);
    floor_resp.close = floor_build((size_t)body, "close", &floor_resp.close_len);
    /* As labd's cpu_for_worker: worker i on the i-th CPU this process may use (mod their count). */
    cpu_set_t allowed;
    int ncpu = sched_getaffinity(0, sizeof(allowed), &allowed) == 0 ? CPU_COUNT(&allowed) : 0;
    int lfd = 0;
    if (ncpu < 2)
        floor_cpu_mode = 0; /* nothing to choose between (labd pins nothing either) */
    for (int i = 0; i < workers && lfd >= 0; i++) {
        cpus[i] = -1;
        for (int c = 0, want = ncpu > 0 ? i % ncpu : -1; floor_cpu_mode && c < CPU_SETSIZE; c++) {
            if (CPU_ISSET(c, &allowed) && want-- == 0) {
                cpus[i] = c;
                break;
            }
        }
        /* The shared socket is opened once; with -a cpu one per worker. */
        lfds[i] = lfd = floor_cpu_mode || i == 0 ? floor_listen(port, defer, cpus[i]) : lfds[0];
    }
    floor_workers = workers;
    floor_total =
        mmap(NULL, sizeof(*floor_total), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (floor_resp.keep == NULL || floor_resp.close == NULL || lfd < 0 ||
        floor_total == MAP_FAILED) {
        perror("floor: set-up");
        return 1;
    }
    /* Blocked until sigsuspend, so a signal cannot slip in before the wait. */
    struct sigaction sa = { .sa_handler = floor_on_signal };
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < workers; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            /* The parent's SIGTERM ends a worker where it stands. */
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            sigprocmask(SIG_SETMASK, &old, NULL);
            if (cpus[i] >= 0) {
                cpu_set_t one;
                CPU_ZERO(&one);
                CPU_SET(cpus[i], &one);
                sched_setaffinity(0, sizeof(one), &one);
            }
            return floor_worker(lfds[i]);
        }
        if (pids[i] < 0) {
            perror("floor: fork");
            workers = i;
            floor_stop = 1;
            break;
        }
    }
    while (!floor_stop)
        sigsuspend(&old);
    for (int i = 0; i < workers; i++)
        kill(pids[i], SIGTERM);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    return 0;
usage:
    fprintf(stderr, "usage: floor -p PORT (-s BODY_BYTES | -t RESPONSE_BYTES) [-w WORKERS]"
                    " [-d DEFER_SECONDS] [-c MAX_FDS] [-a exclusive|cpu]\n");
    return 2;
}
