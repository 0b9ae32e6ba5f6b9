/* labmon: command line, the capture loop, and the non-interactive outputs. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <stdio_ext.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/capture.h"
#include "monitor/engine.h"
#include "monitor/labd_link.h"
#include "monitor/output.h"
#include "monitor/ui.h"

enum out_mode { OUT_NONE = 0, OUT_SUMMARY, OUT_JSON, OUT_EVENTS, OUT_LADDER };

struct app {
    struct engine *eng;
    struct capture *cap;
    int dlt;
    enum out_mode mode;
    const char *ladder_sel;
    int ladder_found;
    int count_reached;    /* -c COUNT packets handled */
    uint64_t max_packets; /* 0 = no limit */
    uint64_t seen;
    FILE *out;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: labmon [options]\n"
           "Watch TCP connections and HTTP requests, live or from a capture file.\n"
           "\n"
           "Input:\n"
           "  -i, --interface IFACE  capture live on IFACE (default: any)\n"
           "  -f, --filter EXPR      BPF filter (default: 'tcp port 8080', labd's port)\n"
           "  -p, --port PORT        default filter on this port (default: the running\n"
           "                         labd's port, else 8080)\n"
           "      --run-dir DIR      where to find the running labd (default: labd's)\n"
           "  -r, --read FILE        read a pcap/pcapng file ('-' = stdin)\n"
           "  -w, --write FILE       also write what is captured to a pcap FILE\n"
           "  -s, --snaplen BYTES    bytes kept per packet, live (default 8192; 262144 = all)\n"
           "      --immediate        hand up each packet at once (default: batches of at most\n"
           "                         50 ms, far less CPU under load)\n"
           "  -c, --count N          stop after N packets\n"
           "  -d, --duration SECS    stop after SECS seconds (live)\n"
           "      --max-flows N      bound on tracked connections (default 65536)\n"
           "      --speed X          replay -r FILE paced at X times real time (TUI)\n"
           "Output (without one: the interactive view; press ? there for its keys):\n"
           "      --summary          a table, one line per connection\n"
           "      --json             one JSON object per connection (JSON lines)\n"
           "                         (both: 0.5 s after a connection closed, the rest at the end)\n"
           "      --events           JSON lines as things happen (opened, handshake,\n"
           "                         request, response, fin, rst, closed)\n"
           "      --ladder SEL       sequence diagram of one connection; SEL is a stream\n"
           "                         index (0, 1, ...), ':PORT' or 'ADDR:PORT'\n"
           "  -h, --help             this help\n"
           "  -V, --version          version\n"
           "Live output stops on Ctrl-C/SIGTERM, -c or -d. Exit status: 0 ok, 1 runtime\n"
           "error, 2 bad usage. See labmon(8).\n");
}

static void on_event(void *ctx, const struct engine_event *ev)
{
    struct app *a = ctx;
    if (a->mode == OUT_EVENTS)
        output_event_json(a->out, ev);
}

/* A flow is about to be forgotten: report it now so --json/--summary lose nothing. */
static void on_evict(void *ctx, struct flow *f)
{
    struct app *a = ctx;
    if (f->reported)
        return;
    f->reported = 1;
    if (a->mode == OUT_JSON)
        output_flow_json(a->out, f);
    else if (a->mode == OUT_SUMMARY)
        output_summary_row(a->out, f);
    else if (a->mode == OUT_LADDER && !a->ladder_found &&
             output_selector_match(a->ladder_sel, f) == 1) {
        output_ladder(a->out, f, 100);
        a->ladder_found = 1;
    }
}

/* --ladder: only the selected connection needs a segment log and HTTP. */
static int ladder_select(void *ctx, const struct flow *f)
{
    const struct app *a = ctx;
    return output_selector_match(a->ladder_sel, f) == 1;
}

static void on_frame(void *ctx, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
                     const uint8_t *bytes)
{
    struct app *a = ctx;
    engine_packet(a->eng, a->dlt, bytes, caplen, wirelen, ts_ns);
    a->seen++;
    if (a->max_packets && a->seen >= a->max_packets) {
        a->count_reached = 1;
        stop_requested = 1;
        capture_break(a->cap);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int run_loop(struct app *a, double duration)
{
    uint64_t deadline = duration > 0 ? now_ns() + (uint64_t)(duration * 1e9) : 0;
    if (!capture_is_live(a->cap)) {
        while (!stop_requested) {
            int n = capture_dispatch(a->cap, 4096, on_frame, a);
            if (n < 0) {
                fprintf(stderr, "labmon: reading the capture failed: %s\n", capture_error(a->cap));
                return 1;
            }
            if (capture_eof(a->cap))
                break;
        }
        return 0;
    }
    struct pollfd pfd = { .fd = capture_fd(a->cap), .events = POLLIN };
    while (!stop_requested) {
        int timeout = 200;
        if (deadline) {
            uint64_t t = now_ns();
            if (t >= deadline)
                break;
            if ((deadline - t) / 1000000 < (uint64_t)timeout)
                timeout = (int)((deadline - t) / 1000000) + 1;
        }
        int rc = poll(&pfd, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            fprintf(stderr, "labmon: poll: %s\n", strerror(errno));
            return 1;
        }
        int n;
        do {
            n = capture_dispatch(a->cap, -1, on_frame, a);
        } while (n > 0 && !stop_requested);
        if (n < 0) {
            fprintf(stderr, "labmon: capture failed: %s\n", capture_error(a->cap));
            return 1;
        }
        if (a->mode == OUT_EVENTS)
            fflush(a->out);
    }
    /* Stopped by a signal or -d: what the kernel still holds in a batch
     * (at most CAPTURE_BATCH_MS old) was captured before the stop too. */
    if (!a->count_reached) {
        poll(&pfd, 1, CAPTURE_BATCH_MS + 20);
        while (!a->count_reached && capture_dispatch(a->cap, -1, on_frame, a) > 0)
            ;
    }
    return 0;
}

/* Print what is left at the end; -1 if --ladder matched nothing. */
static int report(struct app *a)
{
    struct flow_table *t = engine_flows(a->eng);
    for (struct flow *f = flow_table_next(t, NULL); f; f = flow_table_next(t, f)) {
        if (a->mode == OUT_LADDER) {
            if (!a->ladder_found && output_selector_match(a->ladder_sel, f) == 1) {
                output_ladder(a->out, f, 100);
                a->ladder_found = 1;
            }
            continue;
        }
        if (f->reported)
            continue;
        if (a->mode == OUT_JSON)
            output_flow_json(a->out, f);
        else if (a->mode == OUT_SUMMARY)
            output_summary_row(a->out, f);
    }
    if (a->mode == OUT_LADDER && !a->ladder_found) {
        fprintf(stderr, "labmon: no connection matches '%s'\n", a->ladder_sel);
        return -1;
    }
    if (a->mode == OUT_SUMMARY || a->mode == OUT_EVENTS) {
        uint64_t recv = 0, drop = 0, ifdrop = 0;
        int have = a->cap && capture_stats(a->cap, &recv, &drop, &ifdrop) == 0;
        FILE *o = a->mode == OUT_SUMMARY ? a->out : stderr;
        output_counters(o, engine_get_counters(a->eng), flow_table_created(t),
                        flow_table_evicted(t), have, recv, drop, ifdrop);
    } else if (a->cap && capture_is_live(a->cap)) {
        uint64_t recv, drop, ifdrop;
        if (capture_stats(a->cap, &recv, &drop, &ifdrop) == 0 && (drop || ifdrop))
            fprintf(stderr, "labmon: kernel dropped %llu packets (interface %llu)\n",
                    (unsigned long long)drop, (unsigned long long)ifdrop);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "interface", required_argument, NULL, 'i' },
        { "filter", required_argument, NULL, 'f' },
        { "port", required_argument, NULL, 'p' },
        { "read", required_argument, NULL, 'r' },
        { "write", required_argument, NULL, 'w' },
        { "snaplen", required_argument, NULL, 's' },
        { "immediate", no_argument, NULL, 'I' },
        { "count", required_argument, NULL, 'c' },
        { "duration", required_argument, NULL, 'd' },
        { "max-flows", required_argument, NULL, 'M' },
        { "speed", required_argument, NULL, 'X' },
        { "run-dir", required_argument, NULL, 'R' },
        { "summary", no_argument, NULL, 'S' },
        { "json", no_argument, NULL, 'J' },
        { "events", no_argument, NULL, 'E' },
        { "ladder", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct capture_opts co = { 0 };
    struct app a = { .out = stdout };
    struct engine_config ec = { 0 };
    double duration = 0, speed = 0;
    const char *run_dir = NULL;
    int port = 0, opt;
    char *end;

    while ((opt = getopt_long(argc, argv, "i:f:p:r:w:s:c:d:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            co.iface = optarg;
            break;
        case 'f':
            co.filter = optarg;
            break;
        case 'p':
            port = (int)strtol(optarg, &end, 10);
            if (*end || port <= 0 || port > 65535) {
                fprintf(stderr, "labmon: bad port '%s' (1-65535)\n", optarg);
                return 2;
            }
            break;
        case 'r':
            co.read_file = optarg;
            break;
        case 'w':
            co.write_file = optarg;
            break;
        case 'I':
            co.immediate = 1;
            break;
        case 's':
            co.snaplen = (int)strtol(optarg, &end, 10);
            if (*end || co.snaplen < 64) {
                fprintf(stderr, "labmon: bad snaplen '%s' (at least 64)\n", optarg);
                return 2;
            }
            break;
        case 'c':
            a.max_packets = strtoull(optarg, &end, 10);
            if (*end || !a.max_packets) {
                fprintf(stderr, "labmon: bad count '%s'\n", optarg);
                return 2;
            }
            break;
        case 'd':
            duration = strtod(optarg, &end);
            if (*end || duration <= 0) {
                fprintf(stderr, "labmon: bad duration '%s' (seconds > 0)\n", optarg);
                return 2;
            }
            break;
        case 'X':
            speed = strtod(optarg, &end);
            if (*end || speed <= 0 || speed > 1e6) {
                fprintf(stderr, "labmon: bad --speed '%s' (a factor > 0, 1 = real time)\n", optarg);
                return 2;
            }
            break;
        case 'R':
            run_dir = optarg;
            break;
        case 'M':
            ec.max_flows = (uint32_t)strtoul(optarg, &end, 10);
            if (*end || !ec.max_flows) {
                fprintf(stderr, "labmon: bad --max-flows '%s'\n", optarg);
                return 2;
            }
            break;
        case 'S':
        case 'J':
        case 'E':
        case 'L': {
            enum out_mode m = opt == 'S'   ? OUT_SUMMARY
                              : opt == 'J' ? OUT_JSON
                              : opt == 'E' ? OUT_EVENTS
                                           : OUT_LADDER;
            if (a.mode && a.mode != m) {
                fprintf(stderr, "labmon: choose one of --summary, --json, --events, --ladder\n");
                return 2;
            }
            a.mode = m;
            if (opt == 'L')
                a.ladder_sel = optarg;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("labmon %s\n", LABD_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "labmon: unexpected argument '%s' (see labmon --help)\n", argv[optind]);
        return 2;
    }
    if (a.mode == OUT_LADDER) {
        struct flow probe = { 0 };
        if (output_selector_match(a.ladder_sel, &probe) < 0) {
            fprintf(stderr, "labmon: bad --ladder selector '%s' (N, :PORT or ADDR:PORT)\n",
                    a.ladder_sel);
            return 2;
        }
    }
    if (a.mode == OUT_NONE) {
        struct ui_opts uo = {
            .cap = co, .port = port, .run_dir = run_dir, .speed = speed, .max_flows = ec.max_flows
        };
        return ui_run(&uo);
    }
    struct labd_link_info labd = { 0 };
    if (!co.filter && !co.read_file && port <= 0)
        labd_link_probe(run_dir, &labd);

    /* Connections come and go by the thousand: keep freed heap memory for
     * the next ones instead of returning it to the kernel after each free
     * (page faults on re-allocation were a fifth of the offline run time). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);

    /* Before anything slow: a background job starts with SIGINT ignored. */
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char filter[64];
    labd_link_capture_defaults(&labd, port, &co, filter, sizeof(filter));

    char err[512];
    a.cap = capture_open(&co, err, sizeof(err));
    if (!a.cap) {
        fprintf(stderr, "labmon: %s\n", err);
        return 1;
    }
    if (capture_drop_privileges(err, sizeof(err)) < 0) {
        fprintf(stderr, "labmon: %s\n", err);
        capture_close(a.cap);
        return 1;
    }
    a.dlt = capture_datalink(a.cap);

    /* Ladder: the first and the last 32768 segments of each connection. */
    ec.seglog_cap = a.mode == OUT_LADDER ? 1u << 16 : 0;
    /* Report closed connections 0.5 s (capture time) after their last segment
     * and free their HTTP state: memory stays small on long captures. A
     * segment arriving later still updates the record but is not reported. */
    if (a.mode == OUT_JSON || a.mode == OUT_SUMMARY) {
        ec.retire_closed_ns = 500ULL * 1000000ULL;
        ec.on_retire = on_evict;
        ec.retire_ctx = &a;
    }
    if (a.mode == OUT_LADDER) {
        ec.select = ladder_select;
        ec.select_ctx = &a;
    }
    /* Only --events prints events: without a consumer the engine skips them
     * (and the HTTP sniffer skips expanding each transaction for them). */
    if (a.mode == OUT_EVENTS) {
        ec.on_event = on_event;
        ec.event_ctx = &a;
    }
    ec.on_evict = on_evict;
    ec.evict_ctx = &a;
    a.eng = engine_new(&ec);
    if (!a.eng) {
        fprintf(stderr, "labmon: out of memory for %u connections (try --max-flows)\n",
                ec.max_flows);
        capture_close(a.cap);
        return 1;
    }

    if (capture_is_live(a.cap))
        fprintf(stderr, "labmon: capturing on %s, filter '%s'%s%s%s\n", co.iface ? co.iface : "any",
                co.filter ? co.filter : "",
                *capture_loop_filter(a.cap) ? " (in the kernel also '" : "",
                capture_loop_filter(a.cap),
                *capture_loop_filter(a.cap) ? "': loopback packets once)" : "");

    static char obuf[1 << 16];
    setvbuf(a.out, obuf, _IOFBF, sizeof(obuf));
    /* One thread writes it: skip stdio's per-call locking. */
    __fsetlocking(a.out, FSETLOCKING_BYCALLER);

    if (a.mode == OUT_SUMMARY)
        output_summary_header(a.out);
    int rc = run_loop(&a, duration);
    if (report(&a) < 0 && rc == 0)
        rc = 1;
    fflush(a.out);
    engine_free(a.eng);
    capture_close(a.cap);
    return rc;
}
