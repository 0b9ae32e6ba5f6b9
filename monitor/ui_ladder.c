/* The TUI's ladder lines (see ui_ladder.h): ladder.c's rows, formatted and coloured for the view.
 */
#include "monitor/ui_ladder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/ladder.h"

#define UI_LADDER_LINE_W 320 /* bytes of one formatted line */

/* One allocation: this header, then the rows, the lines and their text. */
struct ui_ladder {
    size_t cap; /* lines; rows and text lines alike */
    struct ladder_row *rows;
    struct view_ladder_line *lines;
    char *text; /* cap lines of UI_LADDER_LINE_W bytes */
};

struct ui_ladder *ui_ladder_new(uint32_t seglog_cap)
{
    /* The title, the log's segments and one gap row. */
    size_t cap = (size_t)seglog_cap + 2;
    struct ui_ladder *l =
        calloc(1, sizeof(*l) + cap * (sizeof(struct ladder_row) + sizeof(struct view_ladder_line) +
                                      UI_LADDER_LINE_W));

    if (!l)
        return NULL;
    l->cap = cap;
    l->rows = (struct ladder_row *)(l + 1);
    l->lines = (struct view_ladder_line *)(l->rows + cap);
    l->text = (char *)(l->lines + cap);
    return l;
}

void ui_ladder_free(struct ui_ladder *l)
{
    free(l);
}

static uint8_t ui_ladder_attr(const struct ladder_row *r)
{
    if (r->kind == LADDER_GAP)
        return VIEW_A_DIM;
    if (strstr(r->flags, "RST"))
        return VIEW_A_RST;
    if (r->marks & FLOW_SEG_RETRANS)
        return VIEW_A_RETRANS;
    if (r->marks & FLOW_SEG_WIN_UPDATE)
        return VIEW_A_WINUPD;
    return r->dir == FLOW_C2S ? VIEW_A_C2S : VIEW_A_S2C;
}

size_t ui_ladder_lines(struct ui_ladder *l, const struct flow *f, int width,
                       const struct view_ladder_line **lines)
{
    size_t n, k = 0;

    *lines = l->lines;
    if (!f) {
        snprintf(l->text, UI_LADDER_LINE_W, "%s", "  (this connection left the flow table)");
        l->lines[0] = (struct view_ladder_line){ l->text, VIEW_A_DIM };
        return 1;
    }
    ladder_format_header(f, width, l->text, UI_LADDER_LINE_W);
    l->lines[k++] = (struct view_ladder_line){ l->text, VIEW_A_TITLE };
    n = ladder_build(f, l->rows, l->cap - 1);
    for (size_t i = 0; i < n; i++, k++) {
        char *t = l->text + k * UI_LADDER_LINE_W;
        ladder_format_row(f, &l->rows[i], width, t, UI_LADDER_LINE_W);
        l->lines[k] = (struct view_ladder_line){ t, ui_ladder_attr(&l->rows[i]) };
    }
    return k;
}
