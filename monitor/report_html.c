/* The report page (see report.h): facts, waterfall, table and figures, linked both ways. */
#include "monitor/report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/ladder.h"

#define REPORT_TO "\xe2\x86\x92" /* U+2192 RIGHTWARDS ARROW */

/* The page's own style; the figures' comes from svg_css(). */
static const char report_css[] =
    "body{font-family:system-ui,sans-serif;margin:24px;color:#212121;max-width:1200px}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}"
    "h3{font-size:1em}table{border-collapse:collapse;font-size:12px}"
    "th,td{padding:2px 6px;text-align:left;vertical-align:top}"
    "table.conns td,table.conns th{border-bottom:1px solid #eee;font-family:monospace}"
    "td.n{text-align:right}tr:target{background:#fff3c4}section:target h3{background:#fff3c4}"
    ".facts th{font-weight:normal;color:#555}svg{max-width:100%;height:auto}"
    ".note{color:#555}a{color:#1f5fa8}";

static int report_row_cmp(const void *a, const void *b)
{
    const struct report_row *x = a, *y = b;

    return x->c.id < y->c.id ? -1 : x->c.id > y->c.id;
}

static int report_fig_cmp(const void *a, const void *b)
{
    const struct report_figure *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* Sorts rows and figures by stream index and marks the rows that have figures. */
static void report_order(struct report *r)
{
    size_t j = 0;

    qsort(r->rows, r->nrows, sizeof(r->rows[0]), report_row_cmp);
    qsort(r->fig, r->nfig, sizeof(r->fig[0]), report_fig_cmp);
    for (size_t i = 0; i < r->nrows; i++) {
        while (j < r->nfig && r->fig[j].id < r->rows[i].c.id)
            j++;
        r->rows[i].figure = j < r->nfig && r->fig[j].id == r->rows[i].c.id;
    }
}

/* A capture time as "2011-11-03 14:15:57.761638 UTC". */
static void report_date(uint64_t ns, char *buf, size_t n)
{
    time_t sec = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    char d[32];

    if (gmtime_r(&sec, &tm) == NULL || strftime(d, sizeof(d), "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(d, sizeof(d), "%llu", (unsigned long long)sec);
    snprintf(buf, n, "%s.%06llu UTC", d, (unsigned long long)(ns % 1000000000ULL / 1000));
}

/* <tr><th>what</th><td>text (escaped)</td></tr> */
static void report_fact(struct svg_buf *s, const char *what, const char *text)
{
    svg_printf(s, "<tr><th>%s</th><td>", what);
    svg_esc_str(s, text, 0);
    svg_raw(s, "</td></tr>\n");
}

static void report_facts_write(struct svg_buf *s, const struct report *r,
                               const struct report_facts *f)
{
    const struct engine_counters *c = f->counters;
    char buf[512], a[64], b[64];
    size_t off;

    svg_raw(s, "<h2 id=\"capture\">Capture</h2>\n<table class=\"facts\">\n");
    report_fact(s, "capture", f->source);
    if (f->filter && *f->filter)
        report_fact(s, "filter", f->filter);
    report_fact(s, "link type", f->link);
    snprintf(buf, sizeof(buf), "%llu (TCP %llu, other %llu, truncated %llu, malformed %llu)",
             (unsigned long long)c->packets, (unsigned long long)c->tcp,
             (unsigned long long)c->non_tcp, (unsigned long long)c->truncated,
             (unsigned long long)c->malformed);
    report_fact(s, "packets", buf);
    if (f->live)
        snprintf(buf, sizeof(buf), "%llu by the kernel, %llu by the interface",
                 (unsigned long long)f->drops, (unsigned long long)f->if_drops);
    else
        snprintf(buf, sizeof(buf), "not recorded in a capture file");
    report_fact(s, "drops", buf);
    if (f->first_ns) {
        report_date(f->first_ns, a, sizeof(a));
        report_date(f->last_ns, b, sizeof(b));
        snprintf(buf, sizeof(buf), "%s " REPORT_TO " %s (%.6f s)", a, b,
                 (double)(f->last_ns - f->first_ns) / 1e9);
        report_fact(s, "time span", buf);
    }
    off = (size_t)snprintf(buf, sizeof(buf),
                           "%llu; by Zeek's state:", (unsigned long long)f->connections);
    for (size_t i = 0; i < r->nstates && off < sizeof(buf); i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s %llu", r->states[i].name,
                                (unsigned long long)r->states[i].count);
    report_fact(s, "connections", buf);
    if (f->evicted) {
        snprintf(buf, sizeof(buf),
                 "%llu, each in the report first (records of finished connections are reused; "
                 "a full table, see --max-flows, evicts open ones too)",
                 (unsigned long long)f->evicted);
        report_fact(s, "records evicted", buf);
    }
    svg_raw(s, "</table>\n");
}

/* Whether the table has the row of stream id (rows sorted). */
static int report_has_row(const struct report *r, uint64_t id)
{
    size_t lo = 0, hi = r->nrows;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->rows[mid].c.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->nrows && r->rows[lo].c.id == id;
}

/*
 * The waterfall: a row per connection, or, beyond REPORT_GROUPS connections
 * (a picture taller than a screenful of screenfuls), a row per group.
 */
static int report_waterfall_write(struct svg_buf *s, const struct report *r,
                                  const struct report_facts *f)
{
    struct svg_fig o = { .standalone = 0, .id = "waterfall-fig" };
    int grouped = r->total > REPORT_GROUPS || r->total > r->nrows;
    size_t n = grouped ? REPORT_GROUPS : r->nrows, k = 0;
    struct svg_waterfall_row *rows = calloc(n ? n : 1, sizeof(*rows) + 24);
    char *href = (char *)(rows + (n ? n : 1));

    if (rows == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = grouped ? r->groups[i].first_id : r->rows[i].c.id;
        if (grouped && r->groups[i].n == 0)
            continue;
        if (grouped)
            rows[k].group = &r->groups[i];
        else
            rows[k].conn = &r->rows[i].c;
        if (!grouped || report_has_row(r, id)) {
            rows[k].href = href + 24 * k;
            snprintf(href + 24 * k, 24, "#c%llu", (unsigned long long)id);
        }
        k++;
    }
    svg_raw(s, "<h2 id=\"waterfall\">Waterfall</h2>\n");
    if (grouped)
        svg_printf(s,
                   "<p class=\"note\">%llu connections: each row is a group of %llu consecutive "
                   "ones, from the first one's start to the last one's end (click one for the "
                   "first one's row in the table).</p>\n",
                   (unsigned long long)r->total, (unsigned long long)r->group_w);
    else
        svg_raw(s, "<p class=\"note\">One row per connection (click one for its row in the "
                   "table).</p>\n");
    svg_waterfall_write(s, &o, rows, k, f->first_ns, f->last_ns);
    free(rows);
    return 0;
}

/* "GET /x → 200, /y → 304 +12: 200×10 404" for the table (escaped). */
static void report_http_write(struct svg_buf *s, const struct view_conn *c)
{
    uint32_t skip = c->nreq;

    for (int i = 0; i < c->nreq; i++) {
        const struct view_req *q = &c->req[i];
        svg_raw(s, i ? ", " : "");
        svg_esc_str(s, q->method, 0);
        svg_raw(s, " ");
        svg_esc_str(s, q->uri, 80);
        if (q->status > 0)
            svg_printf(s, " " REPORT_TO " %d", q->status);
        else
            svg_raw(s, q->status < 0 ? " " REPORT_TO " ?" : " " REPORT_TO " \xe2\x80\xa6");
    }
    if (c->nreq_total <= c->nreq)
        return;
    svg_printf(s, " +%u:", c->nreq_total - c->nreq);
    for (int i = 0; i < c->nruns; i++) {
        uint32_t n = c->run[i].count;
        if (skip >= n) {
            skip -= n;
            continue;
        }
        n -= skip;
        skip = 0;
        if (c->run[i].status > 0)
            svg_printf(s, " %d", c->run[i].status);
        else
            svg_raw(s, " ?");
        if (n > 1)
            svg_printf(s, "\xc3\x97%u", n);
    }
}

/* One table row, like a --summary line, with links to its figures. */
static void report_row_write(struct svg_buf *s, const struct report_row *row)
{
    const struct view_conn *c = &row->c;
    char cl[64], sv[64], rtt[24] = "-";

    ladder_endpoint_str(c->family, c->caddr, c->cport, cl, sizeof(cl));
    ladder_endpoint_str(c->family, c->saddr, c->sport, sv, sizeof(sv));
    if (c->rtt_ns >= 0)
        snprintf(rtt, sizeof(rtt), "%.3f", (double)c->rtt_ns / 1e6);
    svg_printf(s, "<tr id=\"c%llu\"><td>", (unsigned long long)c->id);
    if (row->figure)
        svg_printf(s, "<a href=\"#d%llu\">%llu</a>", (unsigned long long)c->id,
                   (unsigned long long)c->id);
    else
        svg_printf(s, "%llu", (unsigned long long)c->id);
    svg_printf(s,
               "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%llu"
               "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
               "<td class=\"n\">%u</td><td class=\"n\">%s</td><td>",
               cl, sv, row->zeek, flow_tcp_state_name((enum flow_tcp_state)row->cstate),
               flow_tcp_state_name((enum flow_tcp_state)row->sstate),
               (unsigned long long)c->pkts_c2s, (unsigned long long)c->pkts_s2c,
               (unsigned long long)c->bytes_c2s, (unsigned long long)c->bytes_s2c, row->rtx, rtt);
    report_http_write(s, c);
    svg_raw(s, "</td></tr>\n");
}

static void report_table_write(struct svg_buf *s, const struct report *r)
{
    svg_raw(s, "<h2 id=\"connections\">Connections</h2>\n");
    if (r->total > r->nrows)
        svg_printf(s,
                   "<p class=\"note\">The first %zu connections to finish of %llu; the capture "
                   "facts above count them all by state.</p>\n",
                   r->nrows, (unsigned long long)r->total);
    svg_raw(s, "<table class=\"conns\">\n<tr><th>#</th><th>client</th><th>server</th>"
               "<th>zeek</th><th>client_st</th><th>server_st</th><th>pkt&gt;</th>"
               "<th>pkt&lt;</th><th>bytes&gt;</th><th>bytes&lt;</th><th>rtx</th>"
               "<th>rtt_ms</th><th>http</th></tr>\n");
    for (size_t i = 0; i < r->nrows; i++)
        report_row_write(s, &r->rows[i]);
    svg_raw(s, "</table>\n");
}

static void report_figures_write(struct svg_buf *s, const struct report *r)
{
    svg_raw(s, "<h2 id=\"figures\">Ladders and time-sequence graphs</h2>\n");
    svg_printf(s,
               "<p class=\"note\">%s %zu busiest connections (most packets) of %llu: its "
               "sequence diagram, then the time-sequence graph of its busier direction.</p>\n",
               r->total > r->nfig ? "The" : "All", r->nfig, (unsigned long long)r->total);
    for (size_t i = 0; i < r->nfig; i++) {
        const struct report_figure *g = &r->fig[i];
        svg_printf(s, "<section id=\"d%llu\">\n<h3>", (unsigned long long)g->id);
        svg_esc_str(s, g->title, 0);
        svg_printf(s,
                   "</h3>\n<p><a href=\"#c%llu\">its row in the table</a> \xc2\xb7 "
                   "<a href=\"#top\">top</a></p>\n",
                   (unsigned long long)g->id);
        svg_mem(s, g->svg, g->len);
        svg_raw(s, "</section>\n");
    }
}

int report_write(struct report *r, const struct report_facts *facts, struct svg_buf *out)
{
    int rc;

    report_order(r);
    svg_raw(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>labmon report: ");
    svg_esc_str(out, facts->source, 0);
    svg_raw(out, "</title>\n<style>");
    svg_raw(out, report_css);
    svg_raw(out, svg_css());
    svg_raw(out, "</style>\n</head>\n<body id=\"top\">\n<h1>labmon report</h1>\n<p>");
    svg_esc_str(out, facts->source, 0);
    svg_raw(out, " \xc2\xb7 <a href=\"#capture\">capture</a> \xc2\xb7 <a href=\"#waterfall\">"
                 "waterfall</a> \xc2\xb7 <a href=\"#connections\">connections</a> \xc2\xb7 "
                 "<a href=\"#figures\">ladders and graphs</a></p>\n");
    report_facts_write(out, r, facts);
    rc = report_waterfall_write(out, r, facts);
    report_table_write(out, r);
    report_figures_write(out, r);
    if (r->lost)
        svg_printf(out,
                   "<p class=\"note\">Out of memory: %llu connections lack their row or "
                   "figures.</p>\n",
                   (unsigned long long)r->lost);
    svg_raw(out, "<p class=\"note\">Made by labmon ");
    svg_esc_str(out, facts->version ? facts->version : "", 0);
    svg_raw(out, ".</p>\n</body>\n</html>\n");
    return rc < 0 || out->failed ? -1 : 0;
}
