/*
 * Connection timeouts: one FIFO list per kind of timeout. Every timer of a
 * list has the same duration, so arming appends at the tail in deadline
 * order and arming, cancelling and finding the next expiry are all O(1).
 */
#ifndef LABD_TIMER_H
#define LABD_TIMER_H

#include <stdint.h>
#include <sys/queue.h>

struct timer_list;

struct timer_node {
    TAILQ_ENTRY(timer_node) link;
    struct timer_list *list; /* NULL when not armed */
    int64_t deadline_ms;
};

struct timer_list {
    TAILQ_HEAD(timer_queue, timer_node) nodes; /* earliest deadline first */
    int64_t timeout_ms;
};

/* Set up an empty list; it must not be copied or moved afterwards. */
void timer_list_init(struct timer_list *l, int64_t timeout_ms);

/* (Re)arm n on list l to expire timeout_ms after now_ms; leaves any other list. */
void timer_arm(struct timer_list *l, struct timer_node *n, int64_t now_ms);

/* Disarm n (no-op when not armed). */
void timer_cancel(struct timer_node *n);

/* The earliest expired node of l (deadline <= now_ms), not removed; or NULL. */
struct timer_node *timer_expired(const struct timer_list *l, int64_t now_ms);

/*
 * Milliseconds until the earliest deadline among the lists (0 if one has
 * already passed), or -1 when nothing is armed: an epoll_wait timeout.
 */
int timer_wait_ms(const struct timer_list *const *lists, int n, int64_t now_ms);

#endif
