/* labmon: the command line and the non-interactive outputs (the TUI is ui.c). */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/engine.h"
#include "monitor/figure.h"
#include "monitor/input.h"
#include "monitor/labd_link.h"
#include "monitor/outfile.h"
#include "monitor/output.h"
#include "monitor/progress.h"
#include "monitor/report.h"
#include "monitor/svg_ladder.h"
#include "monitor/ui.h"
#include "shared/clock.h"

enum main_out {
    MAIN_OUT_NONE = 0,
    MAIN_OUT_SUMMARY,
    MAIN_OUT_JSON,
    MAIN_OUT_EVENTS,
    MAIN_OUT_LADDER,
    MAIN_OUT_SVG,    /* --svg KIND:SEL: one connection's figure */
    MAIN_OUT_REPORT, /* --report FILE: the HTML report */
};

/* The command line, parsed. */
struct main_args {
    struct capture_opts cap;
    enum main_out mode;
    const char *ladder_sel; /* --ladder's, or --svg's after the kind */
    enum figure_kind svg_kind;
    uint32_t svg_max; /* --svg-max */
    const char *report_path;
    const char *out_dir; /* --out-dir: where the TUI's 'e' writes */
    const char *run_dir;
    int port;
    uint64_t max_packets; /* -c: 0 = no limit */
    double duration;      /* -d seconds, 0 = no limit */
    double speed;         /* --speed (the TUI's) */
    uint32_t max_flows;
};

/* What the parse says to do. */
enum main_parse_result {
    MAIN_PARSE_RUN = 0, /* run with the arguments */
    MAIN_PARSE_DONE,    /* --help or --version printed: exit 0 */
    MAIN_PARSE_BAD,     /* bad usage, said on stderr: exit 2 */
};

/* The non-interactive run. */
struct main_app {
    struct engine *eng;
    struct input *in;
    int dlt;
    enum main_out mode;
    const char *ladder_sel;
    int ladder_found;
    enum figure_kind svg_kind;
    uint32_t svg_max;
    int write_errno; /* writing the figure failed: why */
    struct report *report;
    struct outfile report_file;  /* opened before root is dropped, written at the end */
    const char *source, *filter; /* what the report says was read */
    uint64_t first_ts, last_ts;  /* of the packets read */
    struct progress prog;        /* the progress line, when prog_on */
    int prog_on;
    uint64_t max_packets; /* 0 = no limit */
    uint64_t seen;
    FILE *out;
    const char *lab_if; /* labd --lab: the link captured on, else "" */
};

static volatile sig_atomic_t main_stop;

static void main_on_signal(int sig)
{
    (void)sig;
    main_stop = 1;
}

static void main_usage(FILE *f)
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
           "      --svg ladder:SEL   the same as an SVG figure on stdout\n"
           "      --svg tsg:SEL      the connection's time-sequence graph (SVG) on stdout\n"
           "      --svg-max N        packets an SVG ladder draws before it leaves out the\n"
           "                         middle (default 400, 0 = all)\n"
           "      --report FILE      one self-contained HTML report: the capture's facts,\n"
           "                         the waterfall, the summary table, ladders and graphs\n"
           "      --out-dir DIR      where the view's 'e' key writes its SVG figures and\n"
           "                         HTML report (default: the current directory)\n"
           "  -h, --help             this help\n"
           "  -V, --version          version\n"
           "Live output stops on Ctrl-C/SIGTERM, -c or -d. Exit status: 0 ok, 1 runtime\n"
           "error, 2 bad usage. See labmon(8).\n");
}

static void main_on_event(void *ctx, const struct engine_event *ev)
{
    struct main_app *a = ctx;
    if (a->mode == MAIN_OUT_EVENTS)
        output_event_json(a->out, ev);
}

/* --ladder or --svg: the output of the one connection asked for, if f is it. */
static void main_one(struct main_app *a, const struct flow *f)
{
    if ((a->mode != MAIN_OUT_LADDER && a->mode != MAIN_OUT_SVG) || a->ladder_found ||
        output_selector_match(a->ladder_sel, f) != OUTPUT_MATCH_YES)
        return;
    a->ladder_found = 1;
    if (a->mode == MAIN_OUT_LADDER)
        output_ladder(a->out, f, 100);
    else if (figure_write(a->out, f, a->svg_kind, a->svg_max) < 0)
        a->write_errno = errno;
}

/* A flow is about to be forgotten: report it now so --json/--summary lose nothing. */
static void main_on_evict(void *ctx, struct flow *f)
{
    struct main_app *a = ctx;
    if (f->reported)
        return;
    f->reported = 1;
    if (a->mode == MAIN_OUT_JSON)
        output_flow_json(a->out, f);
    else if (a->mode == MAIN_OUT_SUMMARY)
        output_summary_row(a->out, f);
    else if (a->mode == MAIN_OUT_REPORT)
        report_add(a->report, f, NULL);
    else
        main_one(a, f);
}

/* --ladder: only the selected connection needs a segment log and HTTP. */
static int main_ladder_select(void *ctx, const struct flow *f)
{
    const struct main_app *a = ctx;
    return output_selector_match(a->ladder_sel, f) == 1;
}

static void main_on_frame(void *ctx, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
                          const uint8_t *bytes)
{
    struct main_app *a = ctx;
    if (!a->first_ts)
        a->first_ts = ts_ns;
    if (ts_ns > a->last_ts)
        a->last_ts = ts_ns;
    engine_packet(a->eng, a->dlt, bytes, caplen, wirelen, ts_ns);
    a->seen++;
    if (a->max_packets && a->seen >= a->max_packets) {
        main_stop = 1;
        input_break(a->in);
    }
}

/* Shows how far a file is read, on a terminal's stderr (end: erases the line). */
static void main_progress(struct main_app *a, int end)
{
    uint64_t done = 0, total = 0;
    const char *name = strrchr(a->source, '/');
    char line[512];
    size_t n;

    if (!a->prog_on)
        return;
    if (end)
        n = progress_clear(&a->prog, line, sizeof(line));
    else if (capture_progress(input_capture(a->in), &done, &total) < 0)
        n = progress_line(&a->prog, clock_mono_ns(), a->source, 0, 0, a->seen, line, sizeof(line));
    else
        n = progress_line(&a->prog, clock_mono_ns(), name ? name + 1 : a->source, done, total,
                          a->seen, line, sizeof(line));
    if (n > 0 && write(STDERR_FILENO, line, n) < 0)
        a->prog_on = 0;
}

/* Reads the input until its end, a signal, -c or -d. Returns the exit status. */
static int main_loop(struct main_app *a, double duration)
{
    int live = input_kind(a->in) == INPUT_LIVE;
    int64_t deadline = live && duration > 0 ? clock_mono_ns() + (int64_t)(duration * 1e9) : 0;
    struct pollfd pfd[1];

    while (!main_stop) {
        int timeout = 200;
        if (deadline) {
            int64_t t = clock_mono_ns();
            if (t >= deadline)
                break;
            if ((deadline - t) / 1000000 < timeout)
                timeout = (int)((deadline - t) / 1000000) + 1;
        }
        switch (input_turn(a->in, pfd, 0, timeout)) {
        case INPUT_OK:
            break;
        case INPUT_EOF:
            return 0;
        case INPUT_POLL_FAIL:
            fprintf(stderr, "labmon: poll: %s\n", strerror(errno));
            return 1;
        case INPUT_READ_FAIL:
            if (live && labd_link_lab_gone(a->lab_if)) {
                fprintf(stderr, "labmon: the lab link %s is gone (labd stopped)\n", a->lab_if);
                return 0;
            }
            fprintf(stderr, "labmon: %s failed: %s\n", live ? "capture" : "reading the capture",
                    input_error(a->in));
            return 1;
        }
        if (live && a->mode == MAIN_OUT_EVENTS)
            fflush(a->out);
        main_progress(a, 0);
    }
    /* Stopped by a signal or -d: what the kernel still holds in a batch
     * (at most CAPTURE_BATCH_MS old) was captured before the stop too. */
    input_drain(a->in);
    return 0;
}

/* What --report renders: the report with the facts of this run. */
struct main_report_page {
    struct report *report;
    struct report_facts facts;
};

static int main_render_report(void *ctx, struct svg_buf *s)
{
    struct main_report_page *p = ctx;

    return report_write(p->report, &p->facts, s);
}

/* --report: writes the file. 0, or -1 after saying why. */
static int main_save_report(struct main_app *a)
{
    struct capture *cap = input_capture(a->in);
    struct main_report_page p = { .report = a->report };
    uint64_t recv = 0;
    char err[512];

    report_facts_init(&p.facts, a->eng, a->source, a->filter, capture_link_name(cap), a->first_ts,
                      a->last_ts);
    p.facts.version = LABD_VERSION;
    p.facts.live = capture_stats(cap, &recv, &p.facts.drops, &p.facts.if_drops) == 0;
    if (outfile_finish(&a->report_file, main_render_report, &p, err, sizeof(err)) < 0) {
        fprintf(stderr, "labmon: %s\n", err);
        return -1;
    }
    return 0;
}

/* Print what is left at the end; -1 if --ladder matched nothing. */
static int main_report(struct main_app *a)
{
    struct flow_table *t = engine_flows(a->eng);
    /* The flows still in the table, as if they were evicted now. */
    for (struct flow *f = flow_table_next(t, NULL); f; f = flow_table_next(t, f))
        main_on_evict(a, f);
    if (a->mode == MAIN_OUT_REPORT)
        return main_save_report(a);
    if ((a->mode == MAIN_OUT_LADDER || a->mode == MAIN_OUT_SVG) && !a->ladder_found) {
        fprintf(stderr, "labmon: no connection matches '%s'\n", a->ladder_sel);
        return -1;
    }
    if (a->write_errno) {
        fprintf(stderr, "labmon: writing the figure failed: %s\n", strerror(a->write_errno));
        return -1;
    }
    if (a->mode == MAIN_OUT_SUMMARY || a->mode == MAIN_OUT_EVENTS) {
        uint64_t recv = 0, drop = 0, ifdrop = 0;
        int have = capture_stats(input_capture(a->in), &recv, &drop, &ifdrop) == 0;
        FILE *o = a->mode == MAIN_OUT_SUMMARY ? a->out : stderr;
        output_counters(o, engine_get_counters(a->eng), flow_table_created(t),
                        flow_table_evicted(t), have, recv, drop, ifdrop);
    } else if (input_kind(a->in) == INPUT_LIVE) {
        uint64_t recv, drop, ifdrop;
        if (capture_stats(input_capture(a->in), &recv, &drop, &ifdrop) == 0 && (drop || ifdrop))
            fprintf(stderr, "labmon: kernel dropped %llu packets (interface %llu)\n",
                    (unsigned long long)drop, (unsigned long long)ifdrop);
    }
    return 0;
}

/* The engine as an output mode wants it. */
static void main_engine_config(struct main_app *a, uint32_t max_flows, struct engine_config *ec)
{
    *ec =
        (struct engine_config){ .max_flows = max_flows, .on_evict = main_on_evict, .evict_ctx = a };
    int one = a->mode == MAIN_OUT_LADDER || a->mode == MAIN_OUT_SVG;

    /* Ladder: the first and the last 32768 segments of each connection; a
     * report's figures: 8192 and 8192 of each. */
    ec->seglog_cap = one ? 1u << 16 : a->mode == MAIN_OUT_REPORT ? 1u << 14 : 0;
    /* Report closed connections 0.5 s (capture time) after their last segment
     * and free their HTTP state: memory stays small on long captures. A
     * segment arriving later still updates the record but is not reported. */
    if (a->mode == MAIN_OUT_JSON || a->mode == MAIN_OUT_SUMMARY || a->mode == MAIN_OUT_REPORT) {
        ec->retire_closed_ns = 500ULL * 1000000ULL;
        ec->on_retire = main_on_evict;
        ec->retire_ctx = a;
    }
    if (one) {
        ec->select = main_ladder_select;
        ec->select_ctx = a;
    }
    /* Only --events prints events: without a consumer the engine skips them
     * (and the HTTP sniffer skips expanding each transaction for them). */
    if (a->mode == MAIN_OUT_EVENTS) {
        ec->on_event = main_on_event;
        ec->event_ctx = a;
    }
}

/* --summary, --json, --events, --ladder, --svg: returns the exit status. */
static int main_batch(struct main_args *args)
{
    struct main_app a = { .out = stdout,
                          .mode = args->mode,
                          .ladder_sel = args->ladder_sel,
                          .svg_kind = args->svg_kind,
                          .svg_max = args->svg_max,
                          .max_packets = args->max_packets };
    struct input_opts io = { .cap = args->cap };
    struct labd_link_info labd = { 0 };
    struct engine_config ec;
    char filter[64], err[512], lab_if[LAB_STATS_IFNAME_MAX] = "", lab[64], wire[160];
    int rc = 1;

    /* labd tells the port to watch, and with --lab the interface. */
    if (!io.cap.read_file && (!io.cap.iface || (!io.cap.filter && args->port <= 0)))
        labd_link_probe(args->run_dir, &labd);

    /* Before anything slow: a background job starts with SIGINT ignored. */
    struct sigaction sa = { 0 };
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    labd_link_capture_defaults(&labd, args->port, &io.cap, filter, sizeof(filter), lab_if);
    a.lab_if = lab_if;
    /* A file read on a terminal: say how far (not when the output goes to it too).
     * Asked before the capture is opened, as the report file is: a sandbox may follow. */
    a.prog_on = isatty(STDERR_FILENO) && (a.mode == MAIN_OUT_REPORT || !isatty(STDOUT_FILENO));
    a.report_file.fd = -1;
    if (a.mode == MAIN_OUT_REPORT &&
        outfile_open(&a.report_file, args->report_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "labmon: %s\n", err);
        return 1;
    }
    a.in = input_open(&io, main_on_frame, &a, err, sizeof(err));
    if (!a.in) {
        fprintf(stderr, "labmon: %s\n", err);
        outfile_discard(&a.report_file);
        return 1;
    }
    a.dlt = capture_datalink(input_capture(a.in));
    a.source = !io.cap.read_file                    ? (io.cap.iface ? io.cap.iface : "any")
               : strcmp(io.cap.read_file, "-") == 0 ? "standard input"
                                                    : io.cap.read_file;
    a.filter = io.cap.filter;
    main_engine_config(&a, args->max_flows, &ec);
    a.eng = engine_new(&ec);
    if (a.mode == MAIN_OUT_REPORT && (a.report = report_new(args->svg_max)) == NULL) {
        fprintf(stderr, "labmon: out of memory for the report\n");
        goto done;
    }
    if (!a.eng) {
        fprintf(stderr, "labmon: out of memory for %u connections (try --max-flows)\n",
                ec.max_flows);
        goto done;
    }

    if (input_kind(a.in) == INPUT_LIVE) {
        const char *loop = capture_loop_filter(input_capture(a.in));
        labd_link_lab_text(&labd, lab, sizeof(lab), wire, sizeof(wire));
        fprintf(stderr, "labmon: capturing on %s, filter '%s'%s%s%s%s%s\n",
                io.cap.iface ? io.cap.iface : "any", io.cap.filter ? io.cap.filter : "",
                *loop ? " (in the kernel also '" : "", loop,
                *loop ? "': loopback packets once)" : "", *lab ? ", labd's " : "", lab);
    }

    static char obuf[1 << 16];
    setvbuf(a.out, obuf, _IOFBF, sizeof(obuf));
    /* One thread writes it: skip stdio's per-call locking. */
    __fsetlocking(a.out, FSETLOCKING_BYCALLER);

    if (a.mode == MAIN_OUT_SUMMARY)
        output_summary_header(a.out);
    a.prog_on = a.prog_on && input_kind(a.in) != INPUT_LIVE;
    progress_init(&a.prog, clock_mono_ns());
    rc = main_loop(&a, args->duration);
    main_progress(&a, 1);
    if (main_report(&a) < 0 && rc == 0)
        rc = 1;
    fflush(a.out);
done:
    outfile_discard(&a.report_file); /* still open: never written */
    engine_free(a.eng);
    report_free(a.report);
    input_close(a.in);
    return rc;
}

/* Where an option kept as the text given goes; NULL for the others. */
static const char **main_text_option(struct main_args *args, int opt)
{
    static const struct {
        int opt;
        size_t off;
    } texts[] = {
        { 'i', offsetof(struct main_args, cap.iface) },
        { 'f', offsetof(struct main_args, cap.filter) },
        { 'r', offsetof(struct main_args, cap.read_file) },
        { 'w', offsetof(struct main_args, cap.write_file) },
        { 'R', offsetof(struct main_args, run_dir) },
        { 'D', offsetof(struct main_args, out_dir) },
    };

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (texts[i].opt == opt)
            return (const char **)(void *)((char *)args + texts[i].off);
    return NULL;
}

/* An output option (--summary, --json, --events, --ladder, --svg): one of them at most. */
static enum main_parse_result main_parse_mode(struct main_args *args, int opt, const char *arg)
{
    static const struct {
        int opt;
        enum main_out mode;
    } modes[] = {
        { 'S', MAIN_OUT_SUMMARY }, { 'J', MAIN_OUT_JSON }, { 'E', MAIN_OUT_EVENTS },
        { 'L', MAIN_OUT_LADDER },  { 'G', MAIN_OUT_SVG },  { 'O', MAIN_OUT_REPORT },
    };
    enum main_out m = MAIN_OUT_NONE;

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (modes[i].opt == opt)
            m = modes[i].mode;
    if (args->mode && args->mode != m) {
        fprintf(stderr, "labmon: choose one of --summary, --json, --events, --ladder, --svg, "
                        "--report\n");
        return MAIN_PARSE_BAD;
    }
    args->mode = m;
    if (opt == 'L')
        args->ladder_sel = arg;
    if (opt == 'O')
        args->report_path = arg;
    if (opt == 'G' && figure_parse(arg, &args->svg_kind, &args->ladder_sel) != FIGURE_PARSE_OK) {
        fprintf(stderr, "labmon: bad --svg '%s' (ladder:SEL or tsg:SEL, SEL as for --ladder)\n",
                arg);
        return MAIN_PARSE_BAD;
    }
    return MAIN_PARSE_RUN;
}

/* Parses the command line into *args. */
static enum main_parse_result main_parse(int argc, char **argv, struct main_args *args)
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
        { "svg", required_argument, NULL, 'G' },
        { "svg-max", required_argument, NULL, 'N' },
        { "report", required_argument, NULL, 'O' },
        { "out-dir", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    char *end;

    *args = (struct main_args){ .svg_max = SVG_LADDER_MAX_DEFAULT };
    while ((opt = getopt_long(argc, argv, "i:f:p:r:w:s:c:d:hV", longopts, NULL)) != -1) {
        const char **text = main_text_option(args, opt);
        if (text) {
            *text = optarg;
            continue;
        }
        switch (opt) {
        case 'p':
            args->port = (int)strtol(optarg, &end, 10);
            if (*end || args->port <= 0 || args->port > 65535) {
                fprintf(stderr, "labmon: bad port '%s' (1-65535)\n", optarg);
                return MAIN_PARSE_BAD;
            }
            break;
        case 'I':
            args->cap.immediate = 1;
            break;
        case 's':
            args->cap.snaplen = (int)strtol(optarg, &end, 10);
            if (*end || args->cap.snaplen < 64) {
                fprintf(stderr, "labmon: bad snaplen '%s' (at least 64)\n", optarg);
                return MAIN_PARSE_BAD;
            }
            break;
        case 'c':
            args->max_packets = strtoull(optarg, &end, 10);
            if (*end || !args->max_packets) {
                fprintf(stderr, "labmon: bad count '%s'\n", optarg);
                return MAIN_PARSE_BAD;
            }
            break;
        case 'd':
            args->duration = strtod(optarg, &end);
            if (*end || args->duration <= 0) {
                fprintf(stderr, "labmon: bad duration '%s' (seconds > 0)\n", optarg);
                return MAIN_PARSE_BAD;
            }
            break;
        case 'X':
            args->speed = strtod(optarg, &end);
            if (*end || args->speed <= 0 || args->speed > 1e6) {
                fprintf(stderr, "labmon: bad --speed '%s' (a factor > 0, 1 = real time)\n", optarg);
                return MAIN_PARSE_BAD;
            }
            break;
        case 'M':
            args->max_flows = (uint32_t)strtoul(optarg, &end, 10);
            if (*end || !args->max_flows) {
                fprintf(stderr, "labmon: bad --max-flows '%s'\n", optarg);
                return MAIN_PARSE_BAD;
            }
            break;
        case 'N':
            args->svg_max = (uint32_t)strtoul(optarg, &end, 10);
            if (*end || *optarg == 0 || *optarg == '-') {
                fprintf(stderr, "labmon: bad --svg-max '%s' (packets, 0 = all)\n", optarg);
                return MAIN_PARSE_BAD;
            }
            break;
        case 'S':
        case 'J':
        case 'E':
        case 'L':
        case 'G':
        case 'O':
            if (main_parse_mode(args, opt, optarg) != MAIN_PARSE_RUN)
                return MAIN_PARSE_BAD;
            break;
        case 'h':
            main_usage(stdout);
            return MAIN_PARSE_DONE;
        case 'V':
            printf("labmon %s\n", LABD_VERSION);
            return MAIN_PARSE_DONE;
        default:
            main_usage(stderr);
            return MAIN_PARSE_BAD;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "labmon: unexpected argument '%s' (see labmon --help)\n", argv[optind]);
        return MAIN_PARSE_BAD;
    }
    if (args->mode == MAIN_OUT_LADDER || args->mode == MAIN_OUT_SVG) {
        struct flow probe = { 0 };
        if (output_selector_match(args->ladder_sel, &probe) < 0) {
            fprintf(stderr, "labmon: bad --%s selector '%s' (N, :PORT or ADDR:PORT)\n",
                    args->mode == MAIN_OUT_SVG ? "svg" : "ladder", args->ladder_sel);
            return MAIN_PARSE_BAD;
        }
    }
    return MAIN_PARSE_RUN;
}

int main(int argc, char **argv)
{
    struct main_args args;

    switch (main_parse(argc, argv, &args)) {
    case MAIN_PARSE_RUN:
        break;
    case MAIN_PARSE_DONE:
        return 0;
    case MAIN_PARSE_BAD:
        return 2;
    }
    /* Connections come and go by the thousand: keep freed heap memory for
     * the next ones instead of returning it to the kernel after each free
     * (page faults on re-allocation were a fifth of the offline run time). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    if (args.mode == MAIN_OUT_NONE) {
        struct ui_opts uo = { .cap = args.cap,
                              .port = args.port,
                              .run_dir = args.run_dir,
                              .speed = args.speed,
                              .max_flows = args.max_flows,
                              .out_dir = args.out_dir,
                              .svg_max = args.svg_max };
        return ui_run(&uo);
    }
    return main_batch(&args);
}
