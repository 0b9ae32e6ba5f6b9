/*
 * M3 (issue 6): time to build and draw one waterfall frame of 10 000
 * connections with the view model (filter, sort, layout, every cell of a
 * 200x50 screen), no terminal. The first line holds the figure ("N ms");
 * the others break it down. Build: see tests/bench/run.sh (M3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/view.h"

#define NCONN  10000
#define FRAMES 41
#define MS     1000000ULL
#define T0     1700000000000000000ULL

/* CPU time of this thread: on a shared machine, wall time mostly measures the neighbours. */
static uint64_t clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Connections like a browser's: handshake, one to three requests, data, FIN or RST. */
static void make_conns(struct view_conn *cs, const struct view_conn **ptrs)
{
    static const char *const uris[] = { "/cn/Lab2.html", "/img/photo.jpg", "/favicon.ico",
                                        "/audio/%E9%9F%B3%E4%B9%90.mp3" };
    static const int status[] = { 200, 304, 404, 206 };

    srand(42);
    for (int i = 0; i < NCONN; i++) {
        struct view_conn *c = &cs[i];
        uint64_t t = T0 + (uint64_t)i * 3 * MS;
        int nreq = 1 + i % 3;

        memset(c, 0, sizeof(*c));
        c->id = (uint64_t)i;
        c->family = 4;
        c->caddr[0] = 10;
        c->caddr[2] = (uint8_t)(i >> 8);
        c->caddr[3] = (uint8_t)i;
        c->saddr[0] = 127;
        c->saddr[3] = 1;
        c->cport = (uint16_t)(32768 + i);
        c->sport = 8080;
        c->pid = 1000 + i % 4;
        c->first_ns = c->syn_ns = t;
        c->est_ns = t + 200000;
        c->rtt_ns = 200000;
        for (int k = 0; k < nreq; k++) {
            uint64_t rt = t + MS + (uint64_t)k * 40 * MS;
            struct view_req *r = view_conn_add_req(c, "GET", uris[(i + k) % 4], rt);
            r->status = status[(i + k) % 4];
            r->resp_ns = rt + MS;
            for (int s = 0; s < 20; s++)
                view_conn_add_data(c, rt + MS + (uint64_t)s * 100000, 200000);
        }
        if (i % 7 == 0)
            view_conn_add_mark(c, t + 2 * MS, VIEW_MARK_RETRANS);
        view_conn_add_mark(c, t + 3 * MS, VIEW_MARK_WINUPD);
        c->bytes_c2s = 400 * (uint64_t)nreq;
        c->bytes_s2c = (uint64_t)(rand() % 8000000);
        c->pkts_c2s = 5 + (uint64_t)nreq;
        c->pkts_s2c = 5 + c->bytes_s2c / 65000;
        c->last_ns = t + 130 * MS;
        if (i < NCONN - 200) {
            c->fin_ns = t + 5100 * MS;
            c->end = i % 11 == 0 ? VIEW_END_RST : VIEW_END_FIN;
            c->end_ns = t + 5102 * MS;
            c->cstate = VIEW_ST_TIME_WAIT;
            c->sstate = VIEW_ST_CLOSED;
        } else {
            c->cstate = c->sstate = VIEW_ST_ESTABLISHED;
        }
        ptrs[i] = c;
    }
}

/* Median time of FRAMES renders with the given sort and filter. */
static double frame_ms(struct view_state *vs, const struct view_conn **ptrs,
                       struct view_screen *scr, const struct view_stats *st)
{
    uint64_t t[FRAMES];

    for (int i = 0; i < FRAMES; i++) {
        uint64_t a = clock_ns();
        view_render(vs, (const struct view_conn *const *)ptrs, NCONN, st, NULL, 0, scr);
        t[i] = clock_ns() - a;
    }
    qsort(t, FRAMES, sizeof(t[0]), cmp_u64);
    return (double)t[FRAMES / 2] / 1e6;
}

int main(void)
{
    static struct view_conn cs[NCONN];
    static const struct view_conn *ptrs[NCONN];
    struct view_screen scr = { 0 };
    struct view_state vs;
    struct view_stats st = { 0 };
    char err[128], line[1024];
    double worst, start, bytes, filtered, small;

    make_conns(cs, ptrs);
    st.iface = "any";
    st.filter = "tcp port 8080";
    st.live = 1;
    st.pkts = 1234567;
    st.now_ns = T0 + (uint64_t)NCONN * 3 * MS;
    st.origin_ns = T0;
    view_state_init(&vs, &view_glyphs_utf8);
    vs.show_pid = 1;
    if (view_screen_resize(&scr, 200, 50) < 0)
        return 1;

    start = frame_ms(&vs, ptrs, &scr, &st); /* order of appearance: no sort needed */
    vs.sort = VIEW_SORT_BYTES;              /* a full sort every frame */
    bytes = frame_ms(&vs, ptrs, &scr, &st);
    if (view_filter_parse(&vs.filter, "!rst mp3", err, sizeof(err)) < 0)
        return 1;
    filtered = frame_ms(&vs, ptrs, &scr, &st);
    vs.filter.nterms = 0;
    vs.sort = VIEW_SORT_START;
    view_screen_resize(&scr, 80, 24);
    small = frame_ms(&vs, ptrs, &scr, &st);

    worst = start > bytes ? start : bytes;
    worst = worst > filtered ? worst : filtered;
    printf("%.3f ms CPU per waterfall frame (10000 connections, 200x50, slowest case below; "
           "medians of %d frames)\n",
           worst, FRAMES);
    printf("  sort start (appearance order): %.3f ms\n", start);
    printf("  sort bytes (full sort):        %.3f ms\n", bytes);
    printf("  sort bytes + filter '!rst mp3': %.3f ms\n", filtered);
    printf("  80x24, sort start:             %.3f ms\n", small);
    view_render(&vs, (const struct view_conn *const *)ptrs, NCONN, &st, NULL, 0, &scr);
    view_screen_line(&scr, 22, line, sizeof(line));
    printf("  last row at 80x24: %s\n", line);
    view_screen_free(&scr);
    view_state_free(&vs);
    return 0;
}
