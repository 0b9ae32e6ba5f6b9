/* The respawn back-off rule (see respawn.h). */
#include "master/respawn.h"

int64_t respawn_delay(struct respawn_state *r, int was_ready, int64_t lived_ms)
{
    int64_t delay = 0;

    if (!was_ready) {
        r->start_failures++;
        if (r->start_failures >= RESPAWN_GIVE_UP)
            return -1;
        delay = 500LL << r->start_failures;
    } else {
        r->start_failures = 0;
        if (lived_ms < RESPAWN_QUICK_MS)
            r->quick_deaths++;
        else
            r->quick_deaths = 0;
        if (r->quick_deaths > 0)
            delay = 100LL << (r->quick_deaths < 8 ? r->quick_deaths : 8);
    }
    return delay > RESPAWN_MAX_MS ? RESPAWN_MAX_MS : delay;
}
