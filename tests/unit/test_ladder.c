/* Tests for monitor/ladder.c: the rows and text of one connection's ladder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/engine.h"
#include "monitor/ladder.h"
#include "tests/unit/lib_exchange.h"

static void test_ladder_rows(void **state)
{
    (void)state;
    struct engine_config cfg = { .max_flows = 8, .seglog_cap = 64 };
    struct engine *e = engine_new(&cfg);
    lib_exchange_run(e);
    struct flow *f = flow_table_next(engine_flows(e), NULL);
    size_t n = ladder_count(f);
    assert_int_equal(n, 8);
    struct ladder_row rows[8];
    assert_int_equal(ladder_build(f, rows, 8), 8);
    assert_string_equal(rows[0].flags, "SYN");
    assert_string_equal(rows[1].flags, "SYN,ACK");
    assert_int_equal(rows[1].dir, FLOW_S2C);
    assert_int_equal(rows[2].seq, 1);
    assert_int_equal(rows[2].ack, 1);
    assert_non_null(strstr(rows[2].note, "3-way handshake done, RTT 2.000 ms"));
    assert_non_null(strstr(rows[3].note, "GET /index.html"));
    assert_non_null(strstr(rows[4].note, "200 OK"));
    assert_non_null(strstr(rows[5].note, "FIN from client: client FIN_WAIT_1, server CLOSE_WAIT"));
    assert_non_null(strstr(rows[7].note, "client TIME_WAIT, server CLOSED"));
    char line[256];
    ladder_format_row(f, &rows[0], 100, line, sizeof(line));
    assert_non_null(strstr(line, "SYN seq=0 ack=0 len=0"));
    assert_non_null(strstr(line, "->|"));
    ladder_format_row(f, &rows[1], 100, line, sizeof(line));
    assert_non_null(strstr(line, "|<-"));
    /* Fewer rows than asked for: never writes past max. */
    assert_int_equal(ladder_build(f, rows, 3), 3);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ladder_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
