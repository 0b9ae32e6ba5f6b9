/* The TUI's export of figures and a session report (see ui_export.h). */
#include "monitor/ui_export.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "monitor/figure.h"
#include "monitor/outfile.h"

/* One figure of the selected connection, for outfile_write(). */
struct ui_export_fig {
    const struct flow *f;
    enum figure_kind kind;
    uint32_t max_rows;
};

static int ui_export_render_fig(void *ctx, struct svg_buf *s)
{
    const struct ui_export_fig *x = ctx;
    struct svg_fig o = { .standalone = 1, .max_rows = x->max_rows };

    return figure_render(s, x->f, x->kind, &o);
}

/* The session's report: every row the TUI has, with the flow behind it. */
static int ui_export_render_report(void *ctx, struct svg_buf *s)
{
    const struct ui_export_req *r = ctx;
    struct report *rep = report_new(r->svg_max);
    const struct view_conn *const *rows;
    size_t n;
    int rc;

    if (rep == NULL)
        return -1;
    rows = ui_flows_conns(r->flows, &n);
    for (size_t i = 0; i < n; i++) {
        const struct flow *f = ui_flows_flow(r->flows, rows[i]->id);
        if (f != NULL)
            report_add(rep, f, rows[i]);
    }
    rc = report_write(rep, r->facts, s);
    report_free(rep);
    return rc;
}

/* The three files under base ("DIR/labmon-PORT-STAMP"). 0, or -1 with the reason in err. */
static int ui_export_files(const struct ui_export_req *r, const char *base, char *err, size_t n)
{
    struct ui_export_fig lad = { r->sel, FIGURE_LADDER, r->svg_max }, tsg = lad;
    char path[PATH_MAX];

    tsg.kind = FIGURE_TSG;
    snprintf(path, sizeof(path), "%s.ladder.svg", base);
    if (outfile_write(path, ui_export_render_fig, &lad, err, n) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s.tsg.svg", base);
    if (outfile_write(path, ui_export_render_fig, &tsg, err, n) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s.html", base);
    return outfile_write(path, ui_export_render_report, (void *)r, err, n);
}

int ui_export_write(const struct ui_export_req *r, char *msg, size_t n)
{
    time_t t = (time_t)r->now_sec;
    char stamp[32], base[PATH_MAX - 16], err[PATH_MAX + 128];
    struct tm tm;
    int rc;

    if (r->sel == NULL) {
        snprintf(msg, n, "e: the connection left the flow table");
        return -1;
    }
    localtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    snprintf(base, sizeof(base), "%s%slabmon-%u-%s", r->dir ? r->dir : "", r->dir ? "/" : "",
             r->cport, stamp);
    rc = ui_export_files(r, base, err, sizeof(err));
    if (rc < 0 && r->dir == NULL) {
        /* After dropping root the current directory may not be ours to write. */
        snprintf(base, sizeof(base), "/tmp/labmon-%u-%s", r->cport, stamp);
        rc = ui_export_files(r, base, err, sizeof(err));
    }
    if (rc < 0) {
        snprintf(msg, n, "e: %s", err);
        return -1;
    }
    snprintf(msg, n, "wrote %s.ladder.svg .tsg.svg .html", base);
    return 0;
}
