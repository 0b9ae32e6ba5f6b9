/* Unit tests for worker/timer.c: per-kind FIFO timeout lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "worker/timer.h"

static void test_fifo_order_and_rearm(void **state)
{
    (void)state;
    struct timer_list l;
    struct timer_node a = { 0 }, b = { 0 }, c = { 0 };
    const struct timer_list *lists[] = { &l };

    timer_list_init(&l, 100);
    assert_int_equal(timer_wait_ms(lists, 1, 0), -1);
    timer_arm(&l, &a, 0);
    timer_arm(&l, &b, 10);
    timer_arm(&l, &c, 20);
    assert_int_equal(timer_wait_ms(lists, 1, 50), 50);
    assert_null(timer_expired(&l, 99));
    assert_ptr_equal(timer_expired(&l, 100), &a);
    /* Re-arming moves a node to the tail with a new deadline. */
    timer_arm(&l, &a, 30);
    assert_ptr_equal(TAILQ_FIRST(&l.nodes), &b);
    assert_ptr_equal(TAILQ_LAST(&l.nodes, timer_queue), &a);
    assert_int_equal(a.deadline_ms, 130);
    assert_ptr_equal(timer_expired(&l, 125), &b);
    timer_cancel(&b);
    assert_ptr_equal(timer_expired(&l, 125), &c);
    timer_cancel(&c);
    assert_null(timer_expired(&l, 125));
    assert_int_equal(timer_wait_ms(lists, 1, 125), 5);
    timer_cancel(&a);
    assert_true(TAILQ_EMPTY(&l.nodes));
    timer_cancel(&a); /* cancelling twice is harmless */
    assert_null(a.list);
}

static void test_move_between_lists(void **state)
{
    (void)state;
    struct timer_list fast, slow;
    struct timer_node n = { 0 }, m = { 0 };
    const struct timer_list *lists[] = { &slow, &fast };

    timer_list_init(&fast, 10);
    timer_list_init(&slow, 1000);
    timer_arm(&slow, &n, 0);
    timer_arm(&slow, &m, 0);
    assert_int_equal(timer_wait_ms(lists, 2, 0), 1000);
    timer_arm(&fast, &n, 5);
    assert_ptr_equal(n.list, &fast);
    assert_ptr_equal(TAILQ_FIRST(&slow.nodes), &m);
    assert_ptr_equal(TAILQ_LAST(&slow.nodes, timer_queue), &m);
    assert_int_equal(timer_wait_ms(lists, 2, 5), 10);
    /* A deadline already passed gives 0, never a negative wait. */
    assert_int_equal(timer_wait_ms(lists, 2, 500), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_order_and_rearm),
        cmocka_unit_test(test_move_between_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
