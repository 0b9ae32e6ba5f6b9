/*
 * The TUI's ladder: the selected connection's sequence diagram as the view's
 * lines, and the buffers they live in, sized once for the engine's segment
 * log (a flow's ladder never has more rows than its log keeps, plus a gap).
 */
#ifndef LABMON_UI_LADDER_H
#define LABMON_UI_LADDER_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/flow.h"
#include "monitor/view.h"

struct ui_ladder;

/* Buffers for ladders of flows whose segment log keeps seglog_cap entries; NULL if out of memory.
 */
struct ui_ladder *ui_ladder_new(uint32_t seglog_cap);
void ui_ladder_free(struct ui_ladder *l);

/*
 * The ladder of f, about width columns wide (f NULL: the connection left the
 * flow table, said in one line). Returns the number of lines in *lines,
 * valid until the next call.
 */
size_t ui_ladder_lines(struct ui_ladder *l, const struct flow *f, int width,
                       const struct view_ladder_line **lines);

#endif
