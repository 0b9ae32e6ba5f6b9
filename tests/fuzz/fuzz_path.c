/*
 * libFuzzer target: worker/path.c's pure half. A target that parses must give
 * a normalised path (no "." or ".." segment, no "//", no NUL), and encoding
 * that path and parsing it again must give the same path. path_parse's fast
 * path for plain targets must answer as path_parse_general does, field by
 * field.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "worker/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normal(const struct path_req *pr)
{
    const char *p = pr->path;

    if (pr->len == 0 || pr->len >= PATH_REQ_MAX || p[0] != '/' || strlen(p) != pr->len)
        abort();
    if (strstr(p, "//") != NULL || strstr(p, "/./") != NULL || strstr(p, "/../") != NULL)
        abort();
    if ((pr->len >= 2 && strcmp(p + pr->len - 2, "/.") == 0) ||
        (pr->len >= 3 && strcmp(p + pr->len - 3, "/..") == 0))
        abort();
    if (pr->trailing_slash != (p[pr->len - 1] == '/'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct path_req a, b;
    static char enc[PATH_REQ_MAX * 3 + 1];
    ssize_t n;
    int rc;

    static struct path_req g;
    int grc;

    rc = path_parse((const char *)data, size, &a);
    if (rc != 0 && rc != 400 && rc != 403 && rc != 414)
        abort();
    grc = path_parse_general((const char *)data, size, &g);
    if (grc != rc)
        abort();
    if (rc == 0 &&
        (g.len != a.len || memcmp(g.path, a.path, a.len + 1) != 0 ||
         g.trailing_slash != a.trailing_slash || g.query != a.query || g.query_len != a.query_len))
        abort();
    if (rc != 0)
        return 0;
    check_normal(&a);
    if (a.query != NULL &&
        (a.query < (const char *)data || a.query + a.query_len > (const char *)data + size))
        abort();
    n = path_encode(a.path, a.len, enc, sizeof(enc));
    if (n < 0)
        abort();
    rc = path_parse(enc, (size_t)n, &b);
    if (rc == 414)
        return 0; /* "/a/..": short raw, longer once re-encoded: fine */
    if (rc != 0 || b.len != a.len || memcmp(a.path, b.path, a.len) != 0)
        abort();
    return 0;
}
