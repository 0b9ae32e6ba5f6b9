/*
 * Which rows the waterfall shows and in what order: filter, hide cleared
 * rows, sort, then keep the selection on the same connection.
 */
#include "monitor/view_int.h"

#include <stdlib.h>

/* One shown row while sorting: its key, the tie-breakers and its index in conns. */
struct view_sort_item {
    uint64_t key, first, id;
    uint32_t idx;
};

static const char *const view_sort_names[VIEW_SORT_COUNT] = {
    "start", "bytes", "pkts", "duration", "rtt", "state", "port", "pid",
};

const char *view_sort_name(enum view_sort s)
{
    return view_sort_names[s];
}

static uint64_t view_conn_duration(const struct view_conn *c)
{
    uint64_t end = c->end_ns ? c->end_ns : c->last_ns;
    return end > c->first_ns ? end - c->first_ns : 0;
}

/*
 * The sort as one ascending key per connection (largest-first sorts store
 * the complement); ties go by first packet, then id: a stable order that
 * does not jump around between frames. Keys are computed once per row, not
 * once per comparison, which is what keeps a full sort cheap (M3 in
 * tests/bench/run.sh measures a frame).
 */
static uint64_t view_sort_key(const struct view_conn *c, enum view_sort s)
{
    switch (s) {
    case VIEW_SORT_BYTES:
        return ~(c->bytes_c2s + c->bytes_s2c);
    case VIEW_SORT_PKTS:
        return ~(c->pkts_c2s + c->pkts_s2c);
    case VIEW_SORT_DURATION:
        return ~view_conn_duration(c);
    case VIEW_SORT_RTT:
        return ~(uint64_t)(c->rtt_ns < 0 ? 0 : c->rtt_ns);
    case VIEW_SORT_STATE:
        return (uint64_t)c->cstate << 8 | c->sstate;
    case VIEW_SORT_PORT:
        return c->cport;
    case VIEW_SORT_PID:
        return (uint64_t)(c->pid < 0 ? 0 : c->pid);
    default:
        return c->first_ns;
    }
}

static int view_sort_item_cmp(const void *pa, const void *pb)
{
    const struct view_sort_item *a = pa, *b = pb;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * Room for n rows in vs->sort_items, vs->order_id and vs->order. They are
 * rebuilt from scratch every frame, so one block holds all three (largest
 * alignment first) and nothing is copied when it grows. 0, or -1 (ENOMEM)
 * with the old block kept.
 */
static int view_order_grow(struct view_state *vs, size_t n)
{
    struct view_sort_item *it;
    size_t cap = vs->cap ? vs->cap : 64;

    if (n <= vs->cap)
        return 0;
    while (cap < n)
        cap *= 2;
    it = malloc(cap * (sizeof(*it) + sizeof(*vs->order_id) + sizeof(*vs->order)));
    if (!it)
        return -1;
    free(vs->sort_items);
    vs->sort_items = it;
    vs->order_id = (uint64_t *)(it + cap);
    vs->order = (uint32_t *)(vs->order_id + cap);
    vs->cap = cap;
    return 0;
}

void view_sort_rows(struct view_state *vs, const struct view_conn *const *conns, size_t n)
{
    struct view_sort_item *it;
    size_t k = 0;
    int sorted = 1;

    if (view_order_grow(vs, n) < 0)
        n = vs->cap;
    it = vs->sort_items;
    for (size_t i = 0; i < n; i++) {
        const struct view_conn *c = conns[i];
        if (vs->clear_ns && c->end != VIEW_END_OPEN && c->end_ns <= vs->clear_ns)
            continue;
        if (vs->filter.nterms && !view_filter_match(&vs->filter, c))
            continue;
        it[k] =
            (struct view_sort_item){ view_sort_key(c, vs->sort), c->first_ns, c->id, (uint32_t)i };
        if (k && sorted && view_sort_item_cmp(&it[k - 1], &it[k]) > 0)
            sorted = 0;
        k++;
    }
    if (!sorted)
        qsort(it, k, sizeof(it[0]), view_sort_item_cmp);
    for (size_t i = 0; i < k; i++) {
        vs->order[i] = it[i].idx;
        vs->order_id[i] = it[i].id;
    }
    vs->nshown = k;
}

/* The index of the selected connection among the shown rows, -1 if gone. */
static int view_sort_find_selection(const struct view_state *vs)
{
    int n = (int)vs->nshown;

    if (vs->sel >= 0 && vs->sel < n && vs->order_id[vs->sel] == vs->sel_id)
        return vs->sel;
    for (int i = 0; i < n; i++)
        if (vs->order_id[i] == vs->sel_id)
            return i;
    return -1;
}

void view_sort_place_selection(struct view_state *vs, int rows)
{
    int n = (int)vs->nshown;

    if (n == 0) {
        vs->sel = -1;
        vs->top = 0;
        return;
    }
    if (vs->follow && vs->sort == VIEW_SORT_START) {
        vs->sel = n - 1;
    } else {
        int found = view_sort_find_selection(vs);
        if (found >= 0)
            vs->sel = found;
        else if (vs->sel >= n || vs->sel < 0)
            vs->sel = n - 1;
    }
    vs->sel_id = vs->order_id[vs->sel];
    if (rows < 1)
        rows = 1;
    if (vs->sel < vs->top)
        vs->top = vs->sel;
    if (vs->sel >= vs->top + rows)
        vs->top = vs->sel - rows + 1;
    if (vs->top > n - rows)
        vs->top = n - rows > 0 ? n - rows : 0;
    if (vs->top < 0)
        vs->top = 0;
}

int view_selected(const struct view_state *vs, uint64_t *id)
{
    if (vs->sel < 0 || (size_t)vs->sel >= vs->nshown)
        return 0;
    *id = vs->sel_id;
    return 1;
}
