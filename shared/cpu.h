/*
 * Which CPUs labd may use, and which one a worker is pinned to.
 *
 * "Allowed" is the process's affinity mask (taskset, cgroup cpusets), not
 * every CPU the machine has: in a container limited to two CPUs of a large
 * host, labd starts two workers, not one per host CPU.
 */
#ifndef LABD_CPU_H
#define LABD_CPU_H

#include <sched.h>

/*
 * The CPUs this process may run on, into *set: their count, at least 1.
 * When the kernel cannot say (more CPUs than a cpu_set_t holds), the count
 * of online CPUs and an empty set (nothing gets pinned).
 */
int cpu_allowed(cpu_set_t *set);

/*
 * The CPU for the worker at `index` (0 for worker 1) under `cpu-affinity
 * auto`: the allowed CPUs in ascending order, taken in turn, and round again
 * when there are more workers than CPUs. -1 when fewer than two CPUs are
 * allowed: pinning would change nothing.
 */
int cpu_for_worker(const cpu_set_t *allowed, unsigned index);

/* Pins the calling process to cpu: 0, or -1 with errno set. */
int cpu_pin_self(int cpu);

/* Who made the CPU, for the speed defaults that differ between the two (labd.8). */
enum cpu_vendor {
    CPU_VENDOR_OTHER, /* or unknown */
    CPU_VENDOR_INTEL, /* vendor_id GenuineIntel */
    CPU_VENDOR_AMD,   /* vendor_id AuthenticAMD */
};

/* The vendor named by the first "vendor_id" line of a /proc/cpuinfo text (pure). */
enum cpu_vendor cpu_vendor_parse(const char *cpuinfo);

/* This machine's vendor, from /proc/cpuinfo; CPU_VENDOR_OTHER when it cannot be read. */
enum cpu_vendor cpu_vendor(void);

#endif
