/* Tests for monitor/view_graph.c and its keys: the time-sequence graph page in dots or letters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"
#include "monitor/tsg.h"
#include "monitor/ui_flows.h"
#include "monitor/view.h"
#include "tests/unit/lib_exchange.h"

static struct view_screen scr;
static char text[64][1024];

/* Renders the exchange's connection at w x h in the view state vs; the lines into text[]. */
static void render(struct view_state *vs, const struct tsg *g, int w, int h)
{
    struct engine_config cfg = { .max_flows = 8, .seglog_cap = 64 };
    struct engine *e = engine_new(&cfg);
    struct view_conn c;
    const struct view_conn *p = &c;
    struct view_stats st = { .iface = "x", .filter = "" };

    lib_exchange_run(e);
    ui_flows_conn_from_flow(&c, flow_table_next(engine_flows(e), NULL));
    st.now_ns = st.origin_ns = c.first_ns;
    vs->graph = g;
    assert_int_equal(view_screen_resize(&scr, w, h), 0);
    view_render(vs, &p, 1, &st, NULL, 0, &scr);
    for (int y = 0; y < h; y++)
        view_screen_line(&scr, y, text[y], sizeof(text[y]));
    engine_free(e);
}

/* The graph of the exchange's connection. */
static void graph(struct tsg *g)
{
    struct engine_config cfg = { .max_flows = 8, .seglog_cap = 64 };
    struct engine *e = engine_new(&cfg);

    lib_exchange_run(e);
    tsg_init(g);
    assert_int_equal(tsg_build(g, flow_table_next(engine_flows(e), NULL)), 0);
    engine_free(e);
}

static int screen_has(int h, const char *what)
{
    for (int y = 0; y < h; y++)
        if (strstr(text[y], what))
            return 1;
    return 0;
}

static void test_view_graph_keys_and_dots(void **state)
{
    struct view_state vs;
    struct tsg g;

    (void)state;
    graph(&g);
    view_state_init(&vs, &view_glyphs_utf8);
    render(&vs, &g, 80, 24);
    /* g does nothing on the waterfall; in the ladder it opens the graph; g and Esc go back. */
    assert_int_equal(view_key(&vs, 'g', 0), VIEW_ACT_NONE);
    view_key(&vs, VIEW_KEY_ENTER, 0);
    assert_int_equal(vs.mode, VIEW_LADDER);
    assert_int_equal(view_key(&vs, 'g', 0), VIEW_ACT_REDRAW);
    assert_int_equal(vs.mode, VIEW_GRAPH);
    assert_int_equal(view_key(&vs, 'e', 0), VIEW_ACT_EXPORT);
    render(&vs, &g, 80, 24);
    assert_non_null(strstr(text[1], "GRAPH 192.168.1.10:50000 \xe2\x86\x92 192.168.1.1:8080  "
                                    "server's data: 43B, 1 segments, 0 r"));
    assert_true(screen_has(24, "\xe2\xa1\x87 data")); /* the key in dots */
    assert_true(screen_has(24, " bytes, ms"));        /* short units at 80 columns */
    assert_true(screen_has(24, "Esc/g ladder  e export"));
    assert_true(screen_has(24, "\xe2\xa0\x92\xe2\xa0\x92\xe2\xa0\x92")); /* the ACK line's dots */
    view_key(&vs, VIEW_KEY_ESC, 0);
    assert_int_equal(vs.mode, VIEW_LADDER);
    view_key(&vs, 'g', 0);
    view_key(&vs, 'g', 0);
    assert_int_equal(vs.mode, VIEW_LADDER);
    view_state_free(&vs);

    /* Without colour, or under an ASCII locale: letters. */
    for (int mono = 0; mono < 2; mono++) {
        view_state_init(&vs, mono ? &view_glyphs_utf8 : &view_glyphs_ascii);
        vs.mono = mono;
        render(&vs, &g, 80, 24);
        view_key(&vs, VIEW_KEY_ENTER, 0);
        view_key(&vs, 'g', 0);
        render(&vs, &g, 80, 24);
        assert_true(screen_has(24, "| data   S SACK   - ACK   . window"));
        assert_false(screen_has(24, "\xe2\xa1\x87"));
        assert_true(screen_has(24, "-----"));
        view_state_free(&vs);
    }
    /* No graph (the connection left the table) and a tiny screen: said, not drawn. */
    view_state_init(&vs, &view_glyphs_ascii);
    render(&vs, NULL, 80, 24);
    view_key(&vs, VIEW_KEY_ENTER, 0);
    view_key(&vs, 'g', 0);
    render(&vs, NULL, 80, 24);
    assert_true(screen_has(24, "(no data and no ACKs in the segments kept for this connection)"));
    render(&vs, &g, 24, 6);
    assert_true(screen_has(6, "(the terminal is too"));
    view_state_free(&vs);
    view_screen_free(&scr);
    tsg_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_graph_keys_and_dots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
