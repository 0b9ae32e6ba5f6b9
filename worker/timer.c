/* Connection timeouts as per-kind FIFO lists (see timer.h for why FIFO). */
#include "worker/timer.h"

#include <stddef.h>

void timer_list_init(struct timer_list *l, int64_t timeout_ms)
{
    TAILQ_INIT(&l->nodes);
    l->timeout_ms = timeout_ms;
}

void timer_cancel(struct timer_node *n)
{
    if (n->list == NULL)
        return;
    TAILQ_REMOVE(&n->list->nodes, n, link);
    n->list = NULL;
}

void timer_arm(struct timer_list *l, struct timer_node *n, int64_t now_ms)
{
    timer_cancel(n);
    n->deadline_ms = now_ms + l->timeout_ms;
    n->list = l;
    TAILQ_INSERT_TAIL(&l->nodes, n, link);
}

struct timer_node *timer_expired(const struct timer_list *l, int64_t now_ms)
{
    struct timer_node *n = TAILQ_FIRST(&l->nodes);

    return n != NULL && n->deadline_ms <= now_ms ? n : NULL;
}

int timer_wait_ms(const struct timer_list *const *lists, int n, int64_t now_ms)
{
    int64_t best = -1;

    for (int i = 0; i < n; i++) {
        const struct timer_node *first = TAILQ_FIRST(&lists[i]->nodes);
        if (first == NULL)
            continue;
        int64_t d = first->deadline_ms - now_ms;
        if (d < 0)
            d = 0;
        if (best < 0 || d < best)
            best = d;
    }
    if (best > 1000000)
        best = 1000000;
    return (int)best;
}
