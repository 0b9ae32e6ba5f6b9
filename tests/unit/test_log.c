/* Tests for shared/log.c: line format, level names, file reopen after rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"

static int format(char *buf, int size, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int format(char *buf, int size, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = log_format_line(buf, size, 0, 42, level, fmt, ap);
    va_end(ap);
    return n;
}

static void test_line_format(void **state)
{
    char buf[256];
    int n;

    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    n = format(buf, sizeof(buf), LOG_LEVEL_WARN, "worker %d exited\n", 3);
    assert_string_equal(buf, "1970-01-01 00:00:00 [warn] 42: worker 3 exited\n");
    assert_int_equal(n, (int)strlen(buf));
}

static void test_line_is_one_line_and_bounded(void **state)
{
    char buf[40];
    int n;

    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    n = format(buf, sizeof(buf), LOG_LEVEL_ERROR, "a\nb %s", "0123456789012345678901234567890");
    assert_int_equal(n, (int)strlen(buf));
    assert_true(n <= (int)sizeof(buf) - 1);
    assert_int_equal(buf[n - 1], '\n');
    assert_null(memchr(buf, '\n', (size_t)n - 1));
}

static void test_level_names(void **state)
{
    (void)state;
    assert_int_equal(log_level_parse("error"), LOG_LEVEL_ERROR);
    assert_int_equal(log_level_parse("WARN"), LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("notice"), LOG_LEVEL_NOTICE);
    assert_int_equal(log_level_parse("info"), LOG_LEVEL_INFO);
    assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("loud"), -1);
    assert_string_equal(log_level_name(LOG_LEVEL_NOTICE), "notice");
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "r");
    long n;

    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return n;
}

static void test_reopen_after_rename(void **state)
{
    char dir[] = "/tmp/labd-test-log.XXXXXX";
    char path[256], rotated[256];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/error.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/error.log.1", dir);

    assert_int_equal(log_open(path), 0);
    log_set_level(LOG_LEVEL_INFO);
    log_info("first");
    log_debug("filtered out");
    assert_true(file_size(path) > 0);
    assert_int_equal(rename(path, rotated), 0);
    log_info("still to the renamed file");
    assert_int_equal(file_size(path), -1);
    assert_int_equal(log_reopen(), 0);
    log_notice("to the new file");
    assert_true(file_size(path) > 0);

    FILE *f = fopen(path, "r");
    char line[256] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "[notice]"));
    assert_non_null(strstr(line, "to the new file"));

    unlink(path);
    unlink(rotated);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_line_is_one_line_and_bounded),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_reopen_after_rename),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
