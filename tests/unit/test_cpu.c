/* Tests for shared/cpu.c: which CPU each worker gets, and the usable-CPU count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/config.h"
#include "shared/cpu.h"

static cpu_set_t set_of(const int *cpus, int n)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    for (int i = 0; i < n; i++)
        CPU_SET(cpus[i], &s);
    return s;
}

static void test_workers_take_the_cpus_in_turn(void **state)
{
    (void)state;
    cpu_set_t two = set_of((const int[]){ 0, 1 }, 2);
    assert_int_equal(cpu_for_worker(&two, 0), 0);
    assert_int_equal(cpu_for_worker(&two, 1), 1);
    assert_int_equal(cpu_for_worker(&two, 2), 0); /* more workers than CPUs: round again */

    /* A cpuset with holes (taskset -c 2,5,7): only those, in ascending order. */
    cpu_set_t holes = set_of((const int[]){ 7, 2, 5 }, 3);
    assert_int_equal(cpu_for_worker(&holes, 0), 2);
    assert_int_equal(cpu_for_worker(&holes, 1), 5);
    assert_int_equal(cpu_for_worker(&holes, 2), 7);
    assert_int_equal(cpu_for_worker(&holes, 3), 2);
    assert_int_equal(cpu_for_worker(&holes, 65), 7);

    cpu_set_t high = set_of((const int[]){ 100, CPU_SETSIZE - 1 }, 2);
    assert_int_equal(cpu_for_worker(&high, 1), CPU_SETSIZE - 1);
}

static void test_one_cpu_is_not_pinned(void **state)
{
    (void)state;
    cpu_set_t one = set_of((const int[]){ 3 }, 1), none;
    CPU_ZERO(&none);
    assert_int_equal(cpu_for_worker(&one, 0), -1);
    assert_int_equal(cpu_for_worker(&one, 1), -1);
    assert_int_equal(cpu_for_worker(&none, 0), -1);
}

/* In a child limited to one CPU: one usable CPU, one worker by default. */
static void test_usable_cpus_follow_the_affinity_mask(void **state)
{
    cpu_set_t now, got;
    (void)state;
    assert_int_equal(sched_getaffinity(0, sizeof(now), &now), 0);
    assert_int_equal(cpu_allowed(&got), CPU_COUNT(&now));
    assert_true(CPU_EQUAL(&got, &now));

    int first;
    for (first = 0; !CPU_ISSET(first, &now); first++)
        ;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct labd_config c;
        cpu_set_t in;
        if (cpu_pin_self(first) < 0)
            _exit(10);
        if (cpu_allowed(&in) != 1 || !CPU_ISSET(first, &in))
            _exit(11);
        config_defaults(&c);
        _exit(c.workers == 1 ? 0 : 12);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The vendor of the first processor block, and the defer-accept default it picks. */
static void test_vendor_picks_the_defer_default(void **state)
{
    (void)state;
    static const char intel[] = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                                "processor\t: 1\nvendor_id\t: GenuineIntel\n";
    static const char amd[] = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n";
    static const char arm[] = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n";

    assert_int_equal(cpu_vendor_parse(intel), CPU_VENDOR_INTEL);
    assert_int_equal(cpu_vendor_parse(amd), CPU_VENDOR_AMD);
    assert_int_equal(cpu_vendor_parse(arm), CPU_VENDOR_OTHER);
    assert_int_equal(cpu_vendor_parse(""), CPU_VENDOR_OTHER);
    assert_int_equal(cpu_vendor_parse("vendor_id GenuineIntel"), CPU_VENDOR_OTHER);
    assert_int_equal(config_defer_for(CPU_VENDOR_INTEL), 1000);
    assert_int_equal(config_defer_for(CPU_VENDOR_AMD), 0);
    assert_int_equal(config_defer_for(CPU_VENDOR_OTHER), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vendor_picks_the_defer_default),
        cmocka_unit_test(test_workers_take_the_cpus_in_turn),
        cmocka_unit_test(test_one_cpu_is_not_pinned),
        cmocka_unit_test(test_usable_cpus_follow_the_affinity_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
