/* The report's collection of connections as they finish (see report.h; report_html.c writes it). */
#include "monitor/report_int.h"

#include <stdlib.h>
#include <string.h>

#include "monitor/figure.h"
#include "monitor/svg_ladder.h"
#include "monitor/tcp_track.h"
#include "monitor/ui_flows.h"

void report_facts_init(struct report_facts *f, struct engine *e, const char *source,
                       const char *filter, const char *link, uint64_t first_ns, uint64_t last_ns)
{
    struct flow_table *t = engine_flows(e);

    *f = (struct report_facts){ .source = source,
                                .filter = filter,
                                .link = link,
                                .first_ns = first_ns,
                                .last_ns = last_ns,
                                .counters = engine_get_counters(e),
                                .connections = flow_table_created(t),
                                .evicted = flow_table_evicted(t) };
}

struct report *report_new(uint32_t svg_max)
{
    struct report *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->svg_max = svg_max;
    r->group_w = 1;
    return r;
}

void report_free(struct report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nfig; i++)
        free(r->fig[i].svg);
    free(r->rows);
    free(r);
}

/* Counts the connection's Zeek state among all (the table lists only some). */
static void report_count_state(struct report *r, const char *state)
{
    size_t i;

    for (i = 0; i < r->nstates; i++)
        if (strcmp(r->states[i].name, state) == 0)
            break;
    if (i == r->nstates) {
        if (r->nstates == REPORT_STATES)
            i = REPORT_STATES - 1; /* never: Zeek has fewer states */
        else
            snprintf(r->states[r->nstates++].name, sizeof(r->states[0].name), "%s", state);
    }
    r->states[i].count++;
}

/* Two neighbouring groups as one. */
static void report_group_join(struct svg_waterfall_group *a, const struct svg_waterfall_group *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    a->n += b->n;
    a->fin += b->fin;
    a->rst += b->rst;
    a->data += b->data;
    if (b->t0_ns < a->t0_ns)
        a->t0_ns = b->t0_ns;
    if (b->t1_ns > a->t1_ns)
        a->t1_ns = b->t1_ns;
}

/* Puts the connection in its group; groups twice as wide when the ids outgrow them. */
static void report_group_add(struct report *r, const struct view_conn *c)
{
    struct svg_waterfall_group *g;
    uint64_t end = c->end_ns ? c->end_ns : c->last_ns;

    while (c->id / r->group_w >= REPORT_GROUPS) {
        for (size_t i = 0; i < REPORT_GROUPS / 2; i++) {
            struct svg_waterfall_group b = r->groups[2 * i + 1];
            r->groups[i] = r->groups[2 * i];
            report_group_join(&r->groups[i], &b);
        }
        memset(&r->groups[REPORT_GROUPS / 2], 0, sizeof(r->groups) / 2);
        r->group_w *= 2;
    }
    g = &r->groups[c->id / r->group_w];
    if (g->n == 0 || c->first_ns < g->t0_ns)
        g->t0_ns = c->first_ns;
    if (end > g->t1_ns)
        g->t1_ns = end;
    if (g->n == 0 || c->id < g->first_id)
        g->first_id = c->id;
    g->n++;
    g->fin += c->end == VIEW_END_FIN;
    g->rst += c->end == VIEW_END_RST;
    g->data += c->bytes_c2s + c->bytes_s2c > 0;
}

/* The table's row; 0, or -1 when out of memory. */
static int report_row_add(struct report *r, const struct flow *f, const struct view_conn *c)
{
    struct report_row *row;

    if (r->nrows == REPORT_ROWS)
        return 0;
    if (r->nrows == r->caprows) {
        size_t cap = r->caprows ? r->caprows * 2 : 64;
        struct report_row *rows = realloc(r->rows, cap * sizeof(*rows));
        if (rows == NULL)
            return -1;
        r->rows = rows;
        r->caprows = cap;
    }
    row = &r->rows[r->nrows++];
    memset(row, 0, sizeof(*row));
    row->c = *c;
    snprintf(row->zeek, sizeof(row->zeek), "%s", tcp_track_conn_state(f));
    snprintf(row->history, sizeof(row->history), "%s", f->history);
    row->cstate = (uint8_t)f->d[FLOW_C2S].state;
    row->sstate = (uint8_t)f->d[FLOW_S2C].state;
    row->rtx = f->d[FLOW_C2S].retrans + f->d[FLOW_S2C].retrans;
    return 0;
}

/* The figure slot f may take: a free one, or the least busy one if f is busier; NULL none. */
static struct report_figure *report_fig_slot(struct report *r, uint64_t pkts)
{
    struct report_figure *least = NULL;

    if (r->nfig < REPORT_FIGURES)
        return &r->fig[r->nfig];
    for (size_t i = 0; i < r->nfig; i++)
        if (least == NULL || r->fig[i].pkts < least->pkts ||
            (r->fig[i].pkts == least->pkts && r->fig[i].id > least->id))
            least = &r->fig[i];
    return least->pkts < pkts ? least : NULL;
}

/* The connection's ladder and graph, if it is among the busiest so far. 0, or -1 (memory). */
static int report_fig_add(struct report *r, const struct flow *f)
{
    uint64_t pkts = f->d[FLOW_C2S].pkts + f->d[FLOW_S2C].pkts;
    struct report_figure *slot = report_fig_slot(r, pkts);
    struct svg_fig o = { .standalone = 0, .max_rows = r->svg_max };
    struct svg_buf s;

    if (slot == NULL || flow_seglog_count(f) == 0)
        return 0;
    svg_buf_init(&s, NULL, NULL);
    figure_render(&s, f, FIGURE_LADDER, &o);
    figure_render(&s, f, FIGURE_TSG, &o);
    if (s.failed) {
        svg_buf_free(&s);
        return -1;
    }
    if (slot == &r->fig[r->nfig])
        r->nfig++;
    else
        free(slot->svg);
    slot->id = f->id;
    slot->pkts = pkts;
    slot->svg = s.b;
    slot->len = s.n;
    svg_ladder_title(f, slot->title, sizeof(slot->title));
    return 0;
}

int report_add(struct report *r, const struct flow *f, const struct view_conn *row)
{
    struct view_conn made;
    int rc = 0;

    if (row == NULL) {
        ui_flows_conn_from_flow(&made, f);
        row = &made;
    }
    r->total++;
    report_count_state(r, tcp_track_conn_state(f));
    report_group_add(r, row);
    if (report_row_add(r, f, row) < 0 || report_fig_add(r, f) < 0) {
        r->lost++;
        rc = -1;
    }
    return rc;
}
