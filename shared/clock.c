/* The one place that reads the clocks (see clock.h). */
#include "shared/clock.h"

#include <time.h>

static int64_t clock_read_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_ns(void)
{
    return clock_read_ns(CLOCK_MONOTONIC);
}

int64_t clock_mono_ms(void)
{
    return clock_read_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t clock_coarse_ms(void)
{
    return clock_read_ns(CLOCK_MONOTONIC_COARSE) / 1000000;
}

int64_t clock_coarse_lag_ms(void)
{
    struct timespec res;

    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0)
        return 10;
    int64_t ns = (int64_t)res.tv_sec * 1000000000 + res.tv_nsec;
    return (ns + 999999) / 1000000 + 1;
}

int64_t clock_real_ns(void)
{
    return clock_read_ns(CLOCK_REALTIME);
}

int64_t clock_real_coarse_ns(void)
{
    return clock_read_ns(CLOCK_REALTIME_COARSE);
}

int64_t clock_real_sec(void)
{
    return clock_read_ns(CLOCK_REALTIME) / 1000000000;
}
