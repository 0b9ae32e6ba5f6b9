/* Unit tests for monitor/ui_urls.c: what the empty screen says to open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/ui_urls.h"

static void test_ui_urls_hosts(struct ui_urls *u)
{
    memset(u, 0, sizeof(*u));
    strcpy(u->host[u->nhosts++], "127.0.0.1");
    strcpy(u->host[u->nhosts++], "192.0.2.7");
    strcpy(u->host[u->nhosts++], "[2001:db8::7]");
}

static void test_ui_urls_machine(void **state)
{
    struct labd_link_info info = { 0 };
    struct ui_urls u;

    (void)state;
    test_ui_urls_hosts(&u);
    ui_urls_update(&u, &info, 8080); /* labd not running: the port given */
    assert_int_equal(u.n, 3);
    assert_string_equal(u.list[0], "http://127.0.0.1:8080/");
    assert_string_equal(u.list[1], "http://192.0.2.7:8080/");
    assert_string_equal(u.list[2], "http://[2001:db8::7]:8080/");
    info.running = 1;
    info.port = 9090;
    ui_urls_update(&u, &info, 8080); /* labd's own port wins */
    assert_int_equal(u.n, 3);
    assert_string_equal(u.list[0], "http://127.0.0.1:9090/");
}

/* On a lab link only the lab URL reaches labd; when labd leaves the lab, the
 * machine's addresses come back. */
static void test_ui_urls_lab(void **state)
{
    struct labd_link_info info = { 0 };
    struct ui_urls u;

    (void)state;
    test_ui_urls_hosts(&u);
    info.running = 1;
    info.port = 8080;
    info.lab = 1;
    info.lab_link.net = (198u << 24) | (18u << 16) | 4; /* 198.18.0.4/30 */
    info.lab_link.port = 8080;
    ui_urls_update(&u, &info, 8080);
    assert_int_equal(u.n, 1);
    assert_string_equal(u.list[0], "http://198.18.0.6:8080/");
    info.lab = 0;
    ui_urls_update(&u, &info, 8080);
    assert_int_equal(u.n, 3);
    assert_string_equal(u.list[0], "http://127.0.0.1:8080/");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ui_urls_machine),
        cmocka_unit_test(test_ui_urls_lab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
