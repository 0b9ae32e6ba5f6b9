/*
 * The one place that reads the clocks. Everything else takes the time as an
 * argument (the pure cores) or asks here once per loop turn (the shells).
 */
#ifndef LABD_CLOCK_H
#define LABD_CLOCK_H

#include <stdint.h>

/* Nanoseconds of CLOCK_MONOTONIC: intervals, timeouts, pacing. */
int64_t clock_mono_ns(void);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t clock_mono_ms(void);

/*
 * Milliseconds of CLOCK_MONOTONIC_COARSE (a tick old at most, no vDSO
 * counter read): for freshness checks that need no more.
 */
int64_t clock_coarse_ms(void);

/*
 * How much a span measured with clock_coarse_ms() may fall short of the real
 * one, in milliseconds: one tick (1-4 ms) the clock can lag, plus the
 * millisecond the truncation can lose. A deadline kept on the coarse clock
 * adds this so it never falls due before its time.
 */
int64_t clock_coarse_lag_ms(void);

/* Nanoseconds since the epoch (CLOCK_REALTIME): dates, log lines, file names. */
int64_t clock_real_ns(void);

/*
 * Nanoseconds since the epoch of CLOCK_REALTIME_COARSE (a tick old at most,
 * no vDSO counter read): a server loop's Date and scoreboard times.
 */
int64_t clock_real_coarse_ns(void);

/* Whole seconds since the epoch. */
int64_t clock_real_sec(void);

#endif
