/*
 * Keys: what each key does on each page (waterfall, ladder, help), the
 * filter line editor, and the help page that lists the keys.
 */
#include "monitor/view_int.h"

#include <stdio.h>
#include <string.h>

#define VIEW_CTRL_U    21  /* clears the filter line */
#define VIEW_ASCII_DEL 127 /* what most terminals send for Backspace */
#define VIEW_ASCII_BS  8

static void view_sel_move(struct view_state *vs, int delta)
{
    int n = (int)vs->nshown;

    if (n == 0)
        return;
    vs->sel += delta;
    if (vs->sel < 0)
        vs->sel = 0;
    if (vs->sel >= n)
        vs->sel = n - 1;
    vs->sel_id = vs->order_id[vs->sel];
    vs->follow = vs->sel == n - 1 && delta > 0;
}

/* Enter in the filter editor: apply the line, or show why it is wrong. */
static enum view_action view_keys_apply_filter(struct view_state *vs)
{
    char err[128];

    vs->editing = 0;
    if (view_filter_parse(&vs->filter, vs->edit, err, sizeof(err)) < 0) {
        snprintf(vs->msg, sizeof(vs->msg), "%s", err);
        return VIEW_ACT_REDRAW;
    }
    snprintf(vs->filter_text, sizeof(vs->filter_text), "%s", vs->edit);
    vs->top = 0;
    return VIEW_ACT_REDRAW;
}

/* A key while the filter line is edited ('/'). */
static enum view_action view_keys_edit(struct view_state *vs, int key)
{
    size_t len = strlen(vs->edit);

    switch (key) {
    case VIEW_KEY_ESC:
        vs->editing = 0;
        return VIEW_ACT_REDRAW;
    case VIEW_KEY_ENTER:
    case '\n':
    case '\r':
        return view_keys_apply_filter(vs);
    case VIEW_CTRL_U:
        vs->edit[0] = '\0';
        return VIEW_ACT_REDRAW;
    case VIEW_KEY_BACKSPACE:
    case VIEW_ASCII_DEL:
    case VIEW_ASCII_BS:
        /* Remove a whole UTF-8 character: its continuation bytes, then its lead byte. */
        while (len > 0 && ((unsigned char)vs->edit[len - 1] & 0xc0) == 0x80)
            len--;
        if (len > 0)
            len--;
        vs->edit[len] = '\0';
        return VIEW_ACT_REDRAW;
    default:
        if (key >= 0x20 && key < 0x110000 && key != VIEW_ASCII_DEL) {
            char u[4];
            size_t k = view_utf8_put(u, (uint32_t)key);
            if (len + k < sizeof(vs->edit)) {
                memcpy(vs->edit + len, u, k);
                vs->edit[len + k] = '\0';
            }
        }
        return VIEW_ACT_REDRAW;
    }
}

/* Keys that do the same on the waterfall and the ladder; VIEW_ACT_NONE if key is not one. */
static enum view_action view_keys_any_page(struct view_state *vs, int key)
{
    switch (key) {
    case 'q':
    case 'Q':
        return VIEW_ACT_QUIT;
    case '?':
    case 'h':
        vs->help_from = vs->mode;
        vs->mode = VIEW_HELP;
        return VIEW_ACT_REDRAW;
    case 'w':
        return VIEW_ACT_TOGGLE_WRITE;
    case 'e':
        if (vs->sel < 0 || vs->nshown == 0) {
            snprintf(vs->msg, sizeof(vs->msg), "e: no connection selected");
            return VIEW_ACT_REDRAW;
        }
        return VIEW_ACT_EXPORT;
    case 'p':
    case ' ':
        vs->paused = !vs->paused;
        if (vs->paused)
            vs->follow = 0;
        else if (vs->mode == VIEW_WATERFALL && vs->sel == (int)vs->nshown - 1)
            vs->follow = 1;
        return VIEW_ACT_REDRAW;
    default:
        return VIEW_ACT_NONE;
    }
}

static enum view_action view_keys_ladder(struct view_state *vs, int key, int page)
{
    switch (key) {
    case VIEW_KEY_ESC:
    case VIEW_KEY_BACKSPACE:
    case VIEW_KEY_LEFT:
    case VIEW_ASCII_DEL:
    case VIEW_ASCII_BS:
        vs->mode = VIEW_WATERFALL;
        break;
    case VIEW_KEY_UP:
        vs->ladder_top--;
        vs->ladder_follow = 0;
        break;
    case VIEW_KEY_DOWN:
        vs->ladder_top++;
        break;
    case VIEW_KEY_PGUP:
        vs->ladder_top -= page;
        vs->ladder_follow = 0;
        break;
    case VIEW_KEY_PGDN:
        vs->ladder_top += page;
        break;
    case VIEW_KEY_HOME:
        vs->ladder_top = 0;
        vs->ladder_follow = 0;
        break;
    case VIEW_KEY_END:
        vs->ladder_follow = 1;
        break;
    case 'g':
        vs->mode = VIEW_GRAPH;
        break;
    default:
        return VIEW_ACT_NONE;
    }
    if (vs->ladder_top < 0)
        vs->ladder_top = 0;
    return VIEW_ACT_REDRAW;
}

/* The graph page: back to the ladder it came from. */
static enum view_action view_keys_graph(struct view_state *vs, int key)
{
    switch (key) {
    case 'g':
    case VIEW_KEY_ESC:
    case VIEW_KEY_BACKSPACE:
    case VIEW_KEY_LEFT:
    case VIEW_ASCII_DEL:
    case VIEW_ASCII_BS:
        vs->mode = VIEW_LADDER;
        return VIEW_ACT_REDRAW;
    default:
        return VIEW_ACT_NONE;
    }
}

/* Left/Right: move the time axis by ten columns, which pauses it. */
static void view_keys_pan(struct view_state *vs, int key)
{
    uint64_t step = view_ns_per_col(vs) * 10;

    vs->paused = 1;
    vs->follow = 0;
    if (key == VIEW_KEY_LEFT)
        vs->axis_end_ns = vs->axis_end_ns > step ? vs->axis_end_ns - step : 0;
    else
        vs->axis_end_ns += step;
}

/* s and S: the next or the previous sort. */
static void view_keys_sort(struct view_state *vs, int dir)
{
    vs->sort = (enum view_sort)((vs->sort + VIEW_SORT_COUNT + dir) % VIEW_SORT_COUNT);
    if (dir > 0 && vs->sort != VIEW_SORT_START)
        vs->follow = 0;
    snprintf(vs->msg, sizeof(vs->msg), "sort: %s", view_sort_name(vs->sort));
}

/* Keys that change what the waterfall shows rather than which row is selected. */
static enum view_action view_keys_waterfall_view(struct view_state *vs, int key, uint64_t now_ns)
{
    switch (key) {
    case VIEW_KEY_LEFT:
    case VIEW_KEY_RIGHT:
        view_keys_pan(vs, key);
        break;
    case VIEW_KEY_ESC:
    case VIEW_KEY_BACKSPACE:
        if (vs->filter_text[0]) {
            vs->filter_text[0] = '\0';
            vs->filter.nterms = 0;
        }
        break;
    case '/':
        vs->editing = 1;
        snprintf(vs->edit, sizeof(vs->edit), "%s", vs->filter_text);
        break;
    case 's':
        view_keys_sort(vs, 1);
        break;
    case 'S':
        view_keys_sort(vs, -1);
        break;
    case '+':
    case '=':
        view_zoom_step(vs, -1);
        break;
    case '-':
    case '_':
        view_zoom_step(vs, 1);
        break;
    case 'c':
        vs->clear_ns = now_ns;
        snprintf(vs->msg, sizeof(vs->msg), "closed connections cleared");
        break;
    default:
        return VIEW_ACT_NONE;
    }
    return VIEW_ACT_REDRAW;
}

static enum view_action view_keys_waterfall(struct view_state *vs, int key, int page,
                                            uint64_t now_ns)
{
    switch (key) {
    case VIEW_KEY_UP:
        view_sel_move(vs, -1);
        break;
    case VIEW_KEY_DOWN:
        view_sel_move(vs, 1);
        break;
    case VIEW_KEY_PGUP:
        view_sel_move(vs, -page);
        break;
    case VIEW_KEY_PGDN:
        view_sel_move(vs, page);
        break;
    case VIEW_KEY_HOME:
        view_sel_move(vs, -(int)vs->nshown);
        vs->follow = 0;
        break;
    case VIEW_KEY_END:
        view_sel_move(vs, (int)vs->nshown);
        vs->follow = 1;
        break;
    case VIEW_KEY_ENTER:
    case '\n':
    case '\r':
        if (vs->sel >= 0 && vs->nshown) {
            vs->mode = VIEW_LADDER;
            vs->ladder_top = 0;
            vs->ladder_follow = 0;
        }
        break;
    default:
        return view_keys_waterfall_view(vs, key, now_ns);
    }
    return VIEW_ACT_REDRAW;
}

enum view_action view_key(struct view_state *vs, int key, uint64_t now_ns)
{
    int page = vs->page_rows > 1 ? vs->page_rows - 1 : 1;
    enum view_action act;

    if (vs->editing)
        return view_keys_edit(vs, key);
    vs->msg[0] = '\0';
    if (vs->mode == VIEW_HELP) { /* any key leaves the help page */
        if (key == 'q')
            return VIEW_ACT_QUIT;
        vs->mode = vs->help_from;
        return VIEW_ACT_REDRAW;
    }
    act = view_keys_any_page(vs, key);
    if (act != VIEW_ACT_NONE)
        return act;
    if (vs->mode == VIEW_LADDER)
        return view_keys_ladder(vs, key, page);
    if (vs->mode == VIEW_GRAPH)
        return view_keys_graph(vs, key);
    return view_keys_waterfall(vs, key, page, now_ns);
}

/* What each bar glyph means, in the order of the bar's attributes (VIEW_A_HANDSHAKE first). */
static const char *const view_bar_meaning[] = {
    "handshake",    "request waiting", "data",           "idle (keep-alive)", "FIN sent, closing",
    "closed (FIN)", "reset (RST)",     "retransmission", "window update",
};
_Static_assert(sizeof(view_bar_meaning) / sizeof(view_bar_meaning[0]) ==
                   VIEW_A_WINUPD - VIEW_A_HANDSHAKE + 1,
               "one meaning per bar attribute");

/* The bar's glyphs with what each means, wrapped to the screen width. */
static int view_help_legend(struct view_screen *s, const struct view_glyphs *g, int y)
{
    struct view_pen p = { s, y, 2, s->w, VIEW_A_NORMAL };

    for (int a = VIEW_A_HANDSHAKE; a <= VIEW_A_WINUPD; a++) {
        const char *what = view_bar_meaning[a - VIEW_A_HANDSHAKE];
        int w = 4 + view_text_width(what);
        if (p.x + w > s->w - 1) {
            if (++y >= s->h)
                break;
            p = (struct view_pen){ s, y, 2, s->w, VIEW_A_NORMAL };
        }
        p.attr = (uint8_t)a;
        view_pen_cp(&p, view_phase_glyph(g, (enum view_attr)a));
        p.attr = VIEW_A_NORMAL;
        view_pen_cp(&p, ' ');
        view_pen_str(&p, what);
        view_pen_str(&p, "  ");
    }
    return y + 1;
}

void view_help_draw(struct view_screen *s, const struct view_state *vs)
{
    static const char *const lines[] = {
        "Up/Down        select a connection (Down on the last row follows new ones)",
        "PgUp/PgDn      a page up/down",
        "Home/End       first / newest connection (End follows new ones)",
        "Left/Right     move the time axis back/forward (pauses it)",
        "Enter          ladder of the selected connection (sequence diagram)",
        "g              in the ladder: its time-sequence graph (g or Esc: back)",
        "e              export: the selected connection's ladder and graph (SVG) and",
        "               an HTML report of the session, in the current directory",
        "Esc/Backspace  back to the waterfall; in the waterfall: clear the filter",
        "p              pause/resume the time axis and the auto-follow",
        "/              filter: port N, addr A, state S, pid N, status N, !term,",
        "               other text matches method or URI (all terms must match)",
        "s              cycle sort: start bytes pkts duration rtt state port pid",
        "+ / -          zoom the time axis in/out",
        "c              clear closed connections from the view",
        "w              start/stop writing the capture to a pcap file",
        "q              quit",
    };
    static const char *const states[] = {
        "States (client/server): SS SYN_SENT, SR SYN_RECEIVED, EST ESTABLISHED,",
        "FW1/FW2 FIN_WAIT_1/2, CLG CLOSING, TW TIME_WAIT, CW CLOSE_WAIT, LA LAST_ACK,",
        "CL CLOSED.  C>S/S>C: payload bytes client->server / server->client.",
    };
    struct view_pen p = { s, 0, 0, s->w, VIEW_A_HEADER };
    int y = 1;

    view_screen_line_attr(s, 0, VIEW_A_HEADER);
    view_pen_str(&p, "labmon help  (any key: back, q: quit)");
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && y < s->h; i++, y++) {
        p = (struct view_pen){ s, y, 2, s->w, VIEW_A_NORMAL };
        view_pen_str(&p, lines[i]);
    }
    if (y < s->h) {
        p = (struct view_pen){ s, y++, 2, s->w, VIEW_A_TITLE };
        view_pen_str(&p, "Time bar:");
    }
    y = view_help_legend(s, vs->glyphs, y);
    if (y < s->h) {
        for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++, y++) {
            p = (struct view_pen){ s, y, 2, s->w, VIEW_A_NORMAL };
            view_pen_str(&p, states[i]);
        }
    }
}
