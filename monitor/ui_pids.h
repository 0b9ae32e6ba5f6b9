/*
 * Which labd worker served a client: an index over labd's scoreboard, built
 * in one pass so that each connection's lookup is a hash probe (the
 * scoreboard holds tens of thousands of records; scanning it per lookup
 * stalled the TUI under load).
 */
#ifndef LABMON_UI_PIDS_H
#define LABMON_UI_PIDS_H

#include <stddef.h>
#include <stdint.h>

#include "shared/scoreboard.h"

struct ui_pids;

struct ui_pids *ui_pids_new(void);
void ui_pids_free(struct ui_pids *p);

/* Index every live and recently closed connection of sb. Returns 0 or -1 (memory). */
int ui_pids_build(struct ui_pids *p, const struct scoreboard *sb);

/*
 * The worker pid for client addr:port (family 4 or 6; IPv4-mapped IPv6 is
 * the same as IPv4), or 0. When the port was reused, the connection accepted
 * last at or before when_ns + 1 s wins (0 = the newest).
 */
int32_t ui_pids_find(const struct ui_pids *p, int family, const uint8_t *addr, uint16_t port,
                     int64_t when_ns);

/* Records indexed by the last build. */
size_t ui_pids_count(const struct ui_pids *p);

#endif
