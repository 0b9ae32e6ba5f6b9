/* Connection timeouts as per-kind FIFO lists (see timer.h for why FIFO). */
#include "worker/timer.h"

#include <stddef.h>

void timer_list_init(struct timer_list *l, int64_t timeout_ms)
{
    l->head = l->tail = NULL;
    l->timeout_ms = timeout_ms;
}

void timer_cancel(struct timer_node *n)
{
    struct timer_list *l = n->list;

    if (l == NULL)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
    n->list = NULL;
}

void timer_arm(struct timer_list *l, struct timer_node *n, int64_t now_ms)
{
    timer_cancel(n);
    n->deadline_ms = now_ms + l->timeout_ms;
    n->list = l;
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

struct timer_node *timer_expired(const struct timer_list *l, int64_t now_ms)
{
    if (l->head && l->head->deadline_ms <= now_ms)
        return l->head;
    return NULL;
}

int timer_wait_ms(struct timer_list *const *lists, int n, int64_t now_ms)
{
    int64_t best = -1;

    for (int i = 0; i < n; i++) {
        if (lists[i]->head == NULL)
            continue;
        int64_t d = lists[i]->head->deadline_ms - now_ms;
        if (d < 0)
            d = 0;
        if (best < 0 || d < best)
            best = d;
    }
    if (best > 1000000)
        best = 1000000;
    return (int)best;
}
