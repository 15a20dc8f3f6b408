/* core/base/proxy_environment.c: libcurl 7.88's reading of the proxy
 * variables for an http:// URL (checked against libcurl by hand: HTTP_PROXY
 * is never read, an empty http_proxy falls through to all_proxy, no_proxy
 * names match subdomains, a CIDR or a "*" inside a list is not read here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/proxy_environment.h"

static const char *const VARIABLES[] = {"http_proxy", "HTTP_PROXY", "all_proxy",
                                        "ALL_PROXY",  "no_proxy",   "NO_PROXY"};

static int clear_environment(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VARIABLES / sizeof VARIABLES[0]; i++)
        unsetenv(VARIABLES[i]);
    return 0;
}

static void no_variables_no_proxy(void **state)
{
    (void)state;
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 0);
}

static void which_variables_count(void **state)
{
    (void)state;
    setenv("HTTP_PROXY", "http://proxy:3128", 1); /* libcurl ignores it (httpoxy) */
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 0);
    setenv("http_proxy", "http://proxy:3128", 1);
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 1);
    setenv("http_proxy", "", 1);
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 0);
    setenv("ALL_PROXY", "proxy:3128", 1);
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 1);
    unsetenv("ALL_PROXY");
    setenv("all_proxy", "https://proxy:3129", 1);
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 1);
}

static void socks_is_a_tunnel(void **state)
{
    (void)state;
    setenv("http_proxy", "socks5h://proxy:1080", 1);
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 0);
    setenv("http_proxy", "SOCKS4a://proxy:1080", 1);
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 0);
}

static void no_proxy_exempts(void **state)
{
    (void)state;
    setenv("http_proxy", "http://proxy:3128", 1);
    setenv("no_proxy", "localhost, .telegram.org", 1);
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 0);
    assert_int_equal(proxy_environment_forwards_http("API.Telegram.org."), 0);
    assert_int_equal(proxy_environment_forwards_http("telegram.org"), 0);
    assert_int_equal(proxy_environment_forwards_http("nottelegram.org"), 1);
    assert_int_equal(proxy_environment_forwards_http("localhost"), 0);
    setenv("no_proxy", "*", 1);
    assert_int_equal(proxy_environment_forwards_http("anything"), 0);
    unsetenv("no_proxy");
    setenv("NO_PROXY", "::1,127.0.0.1", 1);
    assert_int_equal(proxy_environment_forwards_http("[::1]"), 0);
    assert_int_equal(proxy_environment_forwards_http("127.0.0.1"), 0);
    assert_int_equal(proxy_environment_forwards_http("127.0.0.2"), 1);
}

/* Unsure means "proxied": libcurl's own transfer is then used, only slower. */
static void unread_entries_count_as_proxied(void **state)
{
    (void)state;
    setenv("http_proxy", "http://proxy:3128", 1);
    setenv("no_proxy", "127.0.0.0/8", 1); /* libcurl would exempt it */
    assert_int_equal(proxy_environment_forwards_http("127.0.0.1"), 1);
    setenv("no_proxy", "foo,*", 1); /* libcurl reads "*" only alone */
    assert_int_equal(proxy_environment_forwards_http("api.telegram.org"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(no_variables_no_proxy, clear_environment),
        cmocka_unit_test_setup(which_variables_count, clear_environment),
        cmocka_unit_test_setup(socks_is_a_tunnel, clear_environment),
        cmocka_unit_test_setup(no_proxy_exempts, clear_environment),
        cmocka_unit_test_setup(unread_entries_count_as_proxied, clear_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
