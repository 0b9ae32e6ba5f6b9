/* A connection's figure by kind (see figure.h), and the shell that writes it to a stream. */
#include "monitor/figure.h"

#include <errno.h>
#include <string.h>

#include "monitor/svg_ladder.h"
#include "monitor/svg_tsg.h"
#include "monitor/tsg.h"

enum figure_parse_result figure_parse(const char *spec, enum figure_kind *kind, const char **sel)
{
    static const struct {
        const char *prefix;
        enum figure_kind kind;
    } kinds[] = { { "ladder:", FIGURE_LADDER }, { "tsg:", FIGURE_TSG } };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(spec, kinds[i].prefix, n) == 0) {
            *kind = kinds[i].kind;
            *sel = spec + n;
            return FIGURE_PARSE_OK;
        }
    }
    return FIGURE_PARSE_BAD;
}

int figure_render(struct svg_buf *s, const struct flow *f, enum figure_kind kind,
                  const struct svg_fig *o)
{
    struct tsg g;
    int rc;

    if (kind == FIGURE_LADDER)
        return svg_ladder_write(s, f, o);
    tsg_init(&g);
    rc = tsg_build(&g, f);
    if (rc == 0)
        rc = svg_tsg_write(s, f, &g, o);
    else
        s->failed = 1;
    tsg_free(&g);
    return rc;
}

static int figure_flush(void *ctx, const char *p, size_t n)
{
    return fwrite(p, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

int figure_write(FILE *out, const struct flow *f, enum figure_kind kind, uint32_t max_rows)
{
    struct svg_fig o = { .standalone = 1, .max_rows = max_rows };
    struct svg_buf s;
    int rc;

    svg_buf_init(&s, figure_flush, out);
    rc = figure_render(&s, f, kind, &o);
    if (svg_buf_finish(&s) < 0 || rc < 0) {
        rc = -1;
        if (errno == 0)
            errno = ENOMEM;
    }
    svg_buf_free(&s);
    return rc;
}
