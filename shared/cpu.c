/* CPU sets for labd's worker count and worker pinning (see shared/cpu.h). */
#include "shared/cpu.h"

#include <limits.h>
#include <unistd.h>

int cpu_allowed(cpu_set_t *set)
{
    CPU_ZERO(set);
    if (sched_getaffinity(0, sizeof(*set), set) < 0 || CPU_COUNT(set) == 0) {
        /*
         * Cannot tell (more CPUs than a cpu_set_t holds): count the online
         * CPUs and leave the set empty, so nothing is pinned.
         */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        CPU_ZERO(set);
        return n > 0 ? (n < INT_MAX ? (int)n : INT_MAX) : 1;
    }
    return CPU_COUNT(set);
}

int cpu_for_worker(const cpu_set_t *allowed, unsigned index)
{
    int n = CPU_COUNT(allowed);
    if (n < 2)
        return -1;
    unsigned want = index % (unsigned)n;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, allowed) && want-- == 0)
            return cpu;
    }
    return -1;
}

int cpu_pin_self(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof(one), &one);
}
