/* CPU sets for labd's worker count and worker pinning (see shared/cpu.h). */
#include "shared/cpu.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
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

enum cpu_vendor cpu_vendor_parse(const char *cpuinfo)
{
    const char *line = cpuinfo;

    while (line != NULL && *line != '\0') {
        if (strncmp(line, "vendor_id", 9) == 0) {
            const char *v = strchr(line, ':');
            if (v == NULL)
                return CPU_VENDOR_OTHER;
            v += strspn(v + 1, " \t") + 1;
            if (strncmp(v, "GenuineIntel", 12) == 0)
                return CPU_VENDOR_INTEL;
            if (strncmp(v, "AuthenticAMD", 12) == 0)
                return CPU_VENDOR_AMD;
            return CPU_VENDOR_OTHER;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return CPU_VENDOR_OTHER;
}

enum cpu_vendor cpu_vendor(void)
{
    char buf[4096];
    ssize_t n = 0, got;
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return CPU_VENDOR_OTHER;
    /* The first processor's block is enough: vendor_id is its second line. */
    while (n < (ssize_t)sizeof(buf) - 1 &&
           (got = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
        n += got;
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return cpu_vendor_parse(buf);
}
