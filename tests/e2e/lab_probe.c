/*
 * A test program for the lab link (tests/e2e/lab-*.test, tests/bench/lab-wire.sh):
 * builds the link with master/lab_net.c, runs the wire (master/lab_wire.c)
 * when a knob is given, and serves HTTP/1.1 GETs at labd's address inside
 * the lab namespace, one connection at a time, Connection: close:
 *   /bytes/N   N bytes of a fixed pattern
 *   /NAME      the file NAME under --root
 * It prints "key value" lines (url, host_if, lab_ns_ino, wire_ns_ino,
 * wire_pid, status: labd status's line, then "ready"); on SIGTERM or SIGINT
 * it stops the wire, prints the wire's counters ("stat DIR FIELD N" and
 * "counters LINE" as labd status would) and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/lab_net.h"
#include "master/lab_wire.h"
#include "shared/lab_opts.h"
#include "shared/lab_stats.h"
#include "shared/scoreboard.h"

#define PROBE_REQ_MAX 8192

static const char *probe_root;

static void probe_usage(void)
{
    fprintf(stderr, "usage: lab_probe --port N [--root DIR] [--trace FILE] [--wire]\n"
                    "                 [--lab-net CIDR] [--lab-rtt MS] [--lab-loss PCT]\n"
                    "                 [--lab-seed N] [--lab-rate RATE] [--lab-drop SPEC]\n");
    exit(2);
}

/* Write all of buf; -1 when the client went away. */
static int probe_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void probe_respond(int fd, const char *status, const char *body, size_t len)
{
    char head[256];
    int n =
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status, len);

    if (probe_write_all(fd, head, (size_t)n) == 0 && len > 0)
        probe_write_all(fd, body, len);
}

/* N bytes of a pattern, from one static block. */
static void probe_send_bytes(int fd, unsigned long long n)
{
    static char block[65536];
    char head[256];
    int hn;

    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (char)('a' + i % 26);
    hn = snprintf(head, sizeof(head),
                  "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n", n);
    if (probe_write_all(fd, head, (size_t)hn) < 0)
        return;
    while (n > 0) {
        size_t chunk = n < sizeof(block) ? (size_t)n : sizeof(block);
        if (probe_write_all(fd, block, chunk) < 0)
            return;
        n -= chunk;
    }
}

static void probe_send_file(int fd, const char *name)
{
    char path[4096];
    struct stat st;
    char *map = NULL;
    int f;

    if (!probe_root || strstr(name, "..")) {
        probe_respond(fd, "404 Not Found", "", 0);
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", probe_root, name);
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0 || fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        probe_respond(fd, "404 Not Found", "", 0);
        goto done;
    }
    if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, f, 0);
        if (map == MAP_FAILED) {
            probe_respond(fd, "500 Internal Server Error", "", 0);
            goto done;
        }
    }
    probe_respond(fd, "200 OK", map, (size_t)st.st_size);
    if (map)
        munmap(map, (size_t)st.st_size);
done:
    if (f >= 0)
        close(f);
}

/* One connection: read the request head, answer, close (after the client has all of it). */
static void probe_serve(int fd)
{
    char req[PROBE_REQ_MAX + 1];
    size_t have = 0;
    char path[1024];
    char junk[4096];

    while (have < PROBE_REQ_MAX) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t r;

        if (poll(&p, 1, 10000) <= 0)
            return;
        r = recv(fd, req + have, PROBE_REQ_MAX - have, 0);
        if (r <= 0)
            return;
        have += (size_t)r;
        req[have] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    if (sscanf(req, "GET %1023s HTTP/1.", path) != 1)
        probe_respond(fd, "400 Bad Request", "", 0);
    else if (strncmp(path, "/bytes/", 7) == 0)
        probe_send_bytes(fd, strtoull(path + 7, NULL, 10));
    else
        probe_send_file(fd, path + 1);
    /* Our FIN after the data; wait for the client's, so nothing is cut by a reset. */
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 10000) <= 0 || recv(fd, junk, sizeof(junk), 0) <= 0)
            break;
    }
}

/* The listening socket at labd's address, made inside the lab namespace. */
static int probe_listen(const struct lab_net *ln, int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = -1, one = 1;

    sa.sin_addr.s_addr = htonl(LAB_NET_LABD_ADDR(ln->net));
    if (lab_net_enter(ln, LAB_NET_LABD) < 0)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
            close(fd);
            fd = -1;
        }
    }
    if (lab_net_enter(ln, LAB_NET_HOST) < 0) {
        perror("lab_probe: back to the host namespace");
        exit(1);
    }
    return fd;
}

/* The wire in a child that dies with us. Returns its pid. */
static pid_t probe_start_wire(const struct lab_net *ln, const struct lab_opts *o,
                              struct lab_stats *stats, int trace_fd)
{
    struct lab_wire_args a = {
        .opts = o, .seed = lab_wire_seed(o), .stats = stats, .trace_fd = trace_fd
    };
    char err[512];
    pid_t parent = getpid(), pid;

    if (lab_wire_open(ln, a.fd, err, sizeof(err)) < 0) {
        fprintf(stderr, "lab_probe: %s\n", err);
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        perror("lab_probe: fork");
        exit(1);
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != parent)
            _exit(1);
        _exit(lab_wire_run(&a));
    }
    close(a.fd[0]);
    close(a.fd[1]);
    return pid;
}

static void probe_print_stats(const struct lab_stats *st)
{
    static const char *names[] = { "frames", "forwarded",   "bytes",    "delayed",  "lost",
                                   "ruled",  "queue_drops", "oversize", "overruns", "tx_errors" };
    struct lab_stats copy;

    if (sb_read(&copy, st, sizeof(copy)) < 0)
        return;
    printf("stat seed %llu\n", (unsigned long long)copy.seed);
    for (int d = 0; d < LAB_STATS_NDIR; d++) {
        char line[512];

        lab_stats_counters_line(&copy, d, line, sizeof(line));
        printf("counters %s\n", line);
        const uint64_t *v = (const uint64_t *)&copy.dir[d];
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            printf("stat %s %s %llu\n", d == 0 ? "c2s" : "s2c", names[i], (unsigned long long)v[i]);
    }
}

/* Options: the lab-* keys go through lab_opts_set, as labd's will. */
static void probe_options(int argc, char **argv, struct lab_opts *o, int *port, int *trace_fd)
{
    char err[512];

    lab_opts_init(o);
    o->on = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--wire") == 0) {
            o->wire = 1;
            continue;
        }
        if (i + 1 >= argc || strncmp(a, "--", 2) != 0)
            probe_usage();
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0)
            *port = atoi(v);
        else if (strcmp(a, "--root") == 0)
            probe_root = v;
        else if (strcmp(a, "--trace") == 0) {
            *trace_fd = open(v, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
            if (*trace_fd < 0) {
                perror(v);
                exit(2);
            }
        } else if (lab_opts_set(o, a + 2, v, err, sizeof(err)) < 0) {
            fprintf(stderr, "lab_probe: %s\n", err);
            exit(2);
        }
    }
    if (*port <= 0 || *port > 65535)
        probe_usage();
}

int main(int argc, char **argv)
{
    struct lab_opts o;
    struct lab_net ln;
    struct lab_stats *stats;
    struct lab_stats_link link = { 0 };
    char err[512], url[128], line[512];
    int port = 0, trace_fd = -1, lfd, sfd;
    pid_t wire = 0;
    sigset_t stop;

    probe_options(argc, argv, &o, &port, &trace_fd);
    stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (stats == MAP_FAILED) {
        perror("lab_probe: mmap");
        return 1;
    }
    if (lab_net_open(&o, &ln, err, sizeof(err)) < 0) {
        fprintf(stderr, "lab_probe: %s\n", err);
        return 1;
    }
    if (!ln.bridged)
        wire = probe_start_wire(&ln, &o, stats, trace_fd);
    lfd = probe_listen(&ln, port);
    if (lfd < 0) {
        perror("lab_probe: listen");
        return 1;
    }
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    sfd = signalfd(-1, &stop, SFD_CLOEXEC);
    lab_net_url(&ln, port, url, sizeof(url));
    lab_stats_link_fill(&link, ln.net, ln.host_if, port, &o);
    lab_stats_status_line(&link, line, sizeof(line));
    printf("url %s\nhost_if %s\nlab_ns_ino %lu\nwire_ns_ino %lu\nwire_pid %d\nstatus %s\n"
           "ready\n",
           url, ln.host_if, ln.lab_ns_ino, ln.wire_ns_ino, (int)wire, line);
    fflush(stdout);
    for (;;) {
        struct pollfd p[2] = { { lfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };

        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                probe_serve(c);
                close(c);
            }
        }
    }
    if (wire > 0) {
        kill(wire, SIGTERM);
        waitpid(wire, NULL, 0);
        probe_print_stats(stats);
    }
    printf("bye\n");
    return 0;
}
