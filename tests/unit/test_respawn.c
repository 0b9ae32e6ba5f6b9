/* Tests for master/respawn.c: immediate respawn, doubling back-off, giving up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "master/respawn.h"

static void test_long_lived_worker_respawns_at_once(void **state)
{
    struct respawn_state r = { 0 };

    (void)state;
    assert_int_equal(respawn_delay(&r, 1, 60000), 0);
    assert_int_equal(respawn_delay(&r, 1, 60000), 0);
}

static void test_quick_deaths_back_off_and_recover(void **state)
{
    struct respawn_state r = { 0 };
    int64_t prev = 0;

    (void)state;
    for (int i = 0; i < 12; i++) {
        int64_t d = respawn_delay(&r, 1, 100);
        assert_true(d > prev || d == RESPAWN_MAX_MS);
        assert_true(d <= RESPAWN_MAX_MS);
        prev = d;
    }
    assert_int_equal(prev, RESPAWN_MAX_MS);
    /* One long life resets the back-off. */
    assert_int_equal(respawn_delay(&r, 1, RESPAWN_QUICK_MS + 1), 0);
    assert_int_equal(respawn_delay(&r, 1, 100), 200);
}

static void test_start_failures_give_up(void **state)
{
    struct respawn_state r = { 0 };

    (void)state;
    assert_true(respawn_delay(&r, 0, 10) > 0);
    assert_true(respawn_delay(&r, 0, 10) > 0);
    assert_int_equal(respawn_delay(&r, 0, 10), -1);

    /* A successful start in between breaks the run. */
    struct respawn_state s = { 0 };
    assert_true(respawn_delay(&s, 0, 10) > 0);
    assert_true(respawn_delay(&s, 0, 10) > 0);
    assert_true(respawn_delay(&s, 1, 60000) >= 0);
    assert_true(respawn_delay(&s, 0, 10) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_lived_worker_respawns_at_once),
        cmocka_unit_test(test_quick_deaths_back_off_and_recover),
        cmocka_unit_test(test_start_failures_give_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
