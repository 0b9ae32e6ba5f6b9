/* Tests for monitor/output.c: the per-connection JSON, JSON strings and --ladder selectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"
#include "monitor/output.h"
#include "tests/unit/lib_exchange.h"

static void test_json_and_selectors(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 8 };
    struct engine *e = engine_new(&cfg);
    lib_exchange_run(e);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    output_flow_json(m, f);
    fclose(m);
    assert_non_null(strstr(buf, "\"client\":\"192.168.1.10:50000\""));
    assert_non_null(strstr(buf, "\"state\":\"SF\""));
    /* The server never sent a pure ACK: no 'a' (Zeek records packet kinds). */
    assert_non_null(strstr(buf, "\"history\":\"ShADdFf\""));
    assert_non_null(strstr(buf, "\"closed_by\":\"client\""));
    assert_non_null(strstr(buf, "\"rtt_ms\":2.000000"));
    assert_non_null(strstr(buf, "\"method\":\"GET\",\"uri\":\"/index.html\""));
    assert_non_null(strstr(buf, "\"status\":200"));
    assert_non_null(strstr(buf, "\"content_length\":5"));
    free(buf);

    assert_int_equal(output_selector_match("0", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match("1", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match(":50000", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match(":8080", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match(":8081", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match("192.168.1.10:50000", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match("192.168.1.1:8080", f), OUTPUT_MATCH_YES);
    assert_int_equal(output_selector_match("192.168.1.1:50000", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match("[::1]:8080", f), OUTPUT_MATCH_NO);
    assert_int_equal(output_selector_match("x:1", f), OUTPUT_MATCH_BAD);
    assert_int_equal(output_selector_match(":99999", f), OUTPUT_MATCH_BAD);
    assert_int_equal(output_selector_match("", f), OUTPUT_MATCH_BAD);
    engine_free(e);
}

static void test_json_string_escaping(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    output_json_string(m, "a\"b\\c\n\x01\xe4\xb8\xad");
    fclose(m);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001\xe4\xb8\xad\"");
    free(buf);
}

/* Numbers at digit-count boundaries, fixed-point stamps, escaped and plain strings. */
static void test_json_numbers_and_strings(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 1024 };
    struct engine *e = engine_new(&cfg);
    lib_exchange_run(e);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    f->d[FLOW_C2S].bytes = UINT64_MAX;
    f->d[FLOW_S2C].bytes = 10000000000000000000ULL;
    f->d[FLOW_C2S].pkts = 99;
    f->d[FLOW_S2C].pkts = 100;
    f->first_ts_ns = 1000000001ULL;
    f->last_ts_ns = 1000000001ULL + 9876543210ULL;
    snprintf(f->history, sizeof(f->history), "Sh\"\\\x01z");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    output_flow_json(m, f);
    fclose(m);
    assert_non_null(strstr(buf, "\"pkts_c2s\":99,\"pkts_s2c\":100,"));
    assert_non_null(strstr(buf, "\"bytes_c2s\":18446744073709551615,"));
    assert_non_null(strstr(buf, "\"bytes_s2c\":10000000000000000000,"));
    assert_non_null(strstr(buf, "\"first_ts\":1.000000001,\"last_ts\":10.876543211,"));
    assert_non_null(strstr(buf, "\"duration\":9.876543210,"));
    assert_non_null(strstr(buf, "\"history\":\"Sh\\\"\\\\\\u0001z\","));
    assert_non_null(
        strstr(buf, "\"uri\":\"/index.html\",\"version\":\"HTTP/1.1\",\"range\":null,"));
    assert_non_null(strstr(buf, "\"reason\":\"OK\","));
    free(buf);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_and_selectors),
        cmocka_unit_test(test_json_string_escaping),
        cmocka_unit_test(test_json_numbers_and_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
