/* Tests for worker/mime.c: built-in lookups and loading a mime.types file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "worker/mime.h"

static void test_builtin(void **state)
{
    static const char *cases[][2] = {
        { "/index.html", "text/html; charset=utf-8" },
        { "/a.HTM", "text/html; charset=utf-8" },
        { "/s.css", "text/css; charset=utf-8" },
        { "/app.js", "text/javascript; charset=utf-8" },
        { "/m.mjs", "text/javascript; charset=utf-8" },
        { "/d.json", "application/json" },
        { "/x.xml", "text/xml; charset=utf-8" },
        { "/i.svg", "image/svg+xml" },
        { "/i.png", "image/png" },
        { "/i.JPG", "image/jpeg" },
        { "/i.jpeg", "image/jpeg" },
        { "/i.gif", "image/gif" },
        { "/i.webp", "image/webp" },
        { "/i.avif", "image/avif" },
        { "/favicon.ico", "image/x-icon" },
        { "/i.bmp", "image/bmp" },
        { "/cn/\xe9\x9f\xb3\xe4\xb9\x90.mp3", "audio/mpeg" },
        { "/a.ogg", "audio/ogg" },
        { "/a.oga", "audio/ogg" },
        { "/a.opus", "audio/ogg" },
        { "/a.wav", "audio/wav" },
        { "/a.flac", "audio/flac" },
        { "/a.m4a", "audio/mp4" },
        { "/v.mp4", "video/mp4" },
        { "/v.webm", "video/webm" },
        { "/v.ogv", "video/ogg" },
        { "/f.woff", "font/woff" },
        { "/f.woff2", "font/woff2" },
        { "/f.ttf", "font/ttf" },
        { "/f.otf", "font/otf" },
        { "/d.pdf", "application/pdf" },
        { "/r.txt", "text/plain; charset=utf-8" },
        { "/r.csv", "text/csv; charset=utf-8" },
        { "/README.md", "text/markdown; charset=utf-8" },
        { "/m.wasm", "application/wasm" },
        { "/z.zip", "application/zip" },
        { "/z.tar.gz", "application/gzip" },
        { "/z.tar", "application/x-tar" },
        { "/zzz", "application/octet-stream" },
        { "/dir.d/file", "application/octet-stream" }, /* dot in a directory only */
        { "/file.", "application/octet-stream" },
        { "/file.unknownext", "application/octet-stream" },
        { "/file.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "application/octet-stream" },
        { "/.html", "text/html; charset=utf-8" },
    };

    (void)state;
    assert_true(mime_builtin_sorted());
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = mime_lookup(cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i][0], got, cases[i][1]);
    }
}

static char *write_tmp(const char *text)
{
    static char path[64];
    int fd;

    strcpy(path, "/tmp/test_mime.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load(void **state)
{
    char err[256] = "";
    char *p = write_tmp("# comment\n"
                        "\n"
                        "application/x-labd-test  lab LABX   # trailing comment\n"
                        "text/x-custom\tcst\n"
                        "audio/x-override mp3\n"
                        "application/x-noext\n"
                        "image/first dup\n"
                        "image/second dup\n");

    (void)state;
    assert_int_equal(mime_load_file(p, err, sizeof(err)), 0);
    unlink(p);
    assert_string_equal(mime_lookup("/a.lab"), "application/x-labd-test");
    assert_string_equal(mime_lookup("/a.labx"), "application/x-labd-test");
    assert_string_equal(mime_lookup("/a.cst"), "text/x-custom; charset=utf-8");
    assert_string_equal(mime_lookup("/a.mp3"), "audio/x-override");
    assert_string_equal(mime_lookup("/a.dup"), "image/second");
    /* The built-in table still answers what the file does not define. */
    assert_string_equal(mime_lookup("/a.png"), "image/png");

    mime_clear_loaded();
    assert_string_equal(mime_lookup("/a.mp3"), "audio/mpeg");
    assert_string_equal(mime_lookup("/a.lab"), "application/octet-stream");
}

static void test_load_errors(void **state)
{
    char err[256];
    char *p;

    (void)state;
    assert_int_equal(mime_load_file("/nonexistent/mime.types", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/mime.types"));

    /* A good file first: a failing load must leave it in force. */
    p = write_tmp("application/x-good good\n");
    assert_int_equal(mime_load_file(p, err, sizeof(err)), 0);
    unlink(p);

    p = write_tmp("application/x-ok ok\nnotatype foo\n");
    assert_int_equal(mime_load_file(p, err, sizeof(err)), -1);
    unlink(p);
    assert_non_null(strstr(err, ":2:"));
    assert_string_equal(mime_lookup("/x.good"), "application/x-good");
    assert_string_equal(mime_lookup("/x.ok"), "application/octet-stream");

    p = write_tmp("application/x-bad a/b\n");
    assert_int_equal(mime_load_file(p, err, sizeof(err)), -1);
    unlink(p);
    assert_non_null(strstr(err, ":1:"));
    mime_clear_loaded();
}

/* A reload sets the old table aside, loads the new file, then keeps or restores. */
static void test_save_restore(void **state)
{
    char err[256];
    struct mime_saved saved = { NULL, 0 };
    char *p;

    (void)state;
    p = write_tmp("application/x-old lab\n");
    assert_int_equal(mime_load_file(p, err, sizeof(err)), 0);
    unlink(p);
    mime_save(&saved);
    assert_non_null(saved.table);
    assert_string_equal(mime_lookup("/a.lab"), "application/octet-stream");
    p = write_tmp("application/x-new lab\n");
    assert_int_equal(mime_load_file(p, err, sizeof(err)), 0);
    unlink(p);
    assert_string_equal(mime_lookup("/a.lab"), "application/x-new");
    /* The reload failed: the old table again. */
    mime_restore(&saved);
    assert_null(saved.table);
    assert_string_equal(mime_lookup("/a.lab"), "application/x-old");
    /* The reload succeeded: the saved table is freed, the new one stays. */
    mime_save(&saved);
    p = write_tmp("application/x-new lab\n");
    assert_int_equal(mime_load_file(p, err, sizeof(err)), 0);
    unlink(p);
    mime_saved_free(&saved);
    assert_null(saved.table);
    assert_string_equal(mime_lookup("/a.lab"), "application/x-new");
    mime_clear_loaded();
}

static void test_system_file(void **state)
{
    char err[256];

    (void)state;
    if (access("/etc/mime.types", R_OK) != 0)
        skip();
    assert_int_equal(mime_load_file("/etc/mime.types", err, sizeof(err)), 0);
    assert_string_equal(mime_lookup("/a.png"), "image/png");
    assert_string_equal(mime_lookup("/a.html"), "text/html; charset=utf-8");
    mime_clear_loaded();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),     cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_errors), cmocka_unit_test(test_save_restore),
        cmocka_unit_test(test_system_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
