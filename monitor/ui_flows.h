/*
 * The TUI's mirror of the flow table: one struct view_conn per live flow,
 * refreshed only for flows that changed since the last frame, in the order
 * the flows appeared. Pure apart from the optional worker-pid lookup.
 */
#ifndef LABMON_UI_FLOWS_H
#define LABMON_UI_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/flow.h"
#include "monitor/view.h"

struct ui_flows;

/*
 * Which labd worker served client addr:port (family 4/6) around when_ns:
 * returns the pid, or 0 when unknown. Called until it answers, at most a
 * few times per connection.
 */
typedef int32_t (*ui_flows_pid_fn)(void *ctx, int family, const uint8_t *addr, uint16_t port,
                                   uint64_t when_ns);

/* pid_fn may be NULL: the pid column then stays empty. NULL when out of memory. */
struct ui_flows *ui_flows_new(ui_flows_pid_fn pid_fn, void *pid_ctx);
void ui_flows_free(struct ui_flows *u);

/* The flow is about to be evicted from the table (call from its evict callback). */
void ui_flows_forget(struct ui_flows *u, struct flow *f);

/*
 * The engine is about to free the flow's HTTP state (its retire callback):
 * copy what the row needs now. The row stays.
 */
void ui_flows_retire(struct ui_flows *u, struct flow *f);

/* Bring the mirror up to date with t. Returns the number of records. */
size_t ui_flows_sync(struct ui_flows *u, struct flow_table *t);

/* The records, oldest first, as the view wants them; valid until the next sync. */
const struct view_conn *const *ui_flows_conns(const struct ui_flows *u, size_t *n);

/* The live flow behind a view row (NULL once evicted). */
struct flow *ui_flows_flow(const struct ui_flows *u, uint64_t id);

/* Fill one record from a flow from scratch (the incremental path's reference). */
void ui_flows_conn_from_flow(struct view_conn *c, const struct flow *f);

/* Map an observer state onto the view's. */
enum view_tcp_state ui_flows_state_from_tcp(enum flow_tcp_state s);

#endif
