/*
 * When to respawn a worker that died (pure: the caller supplies what happened).
 *
 * At once after a long life, with doubling delays when it keeps dying soon
 * after starting, never again after repeated failures before it was ready.
 */
#ifndef LABD_RESPAWN_H
#define LABD_RESPAWN_H

#include <stdint.h>

#define RESPAWN_QUICK_MS 2000  /* dying sooner than this after start counts as quick */
#define RESPAWN_MAX_MS   10000 /* longest back-off */
#define RESPAWN_GIVE_UP  3     /* start-up failures in a row before giving up */

struct respawn_state {
    int quick_deaths;   /* in a row */
    int start_failures; /* in a row: died before its ready byte */
};

/*
 * A worker of this number died after living lived_ms; was_ready says whether
 * it had started serving. Returns the delay before the next start in ms, or
 * -1 to give up on this worker number.
 */
int64_t respawn_delay(struct respawn_state *r, int was_ready, int64_t lived_ms);

#endif
