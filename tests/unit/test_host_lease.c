/* Unit tests for core/host_lease*.c without a database: the lock key comes
 * from the token's numeric prefix only, a dsn libpq cannot read is one line
 * without its password, and the sqlite backend takes no database lock. (The
 * lock itself is tested against a real cluster in test_failover.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "config/config.h"
#include "instance/host_lease.h"
#include "instance/host_lease_db.h"

#include <string.h>

static void key_is_the_bot_id_before_the_colon(void **state)
{
    (void)state;
    assert_int_equal(lease_db_key("123456:AAsecretPART"), 123456);
    assert_int_equal(lease_db_key("7:x"), 7);
    /* the secret never changes the key */
    assert_int_equal(lease_db_key("123456:AAotherSECRET"), 123456);
}

static void key_without_a_bot_id_is_the_fixed_one(void **state)
{
    (void)state;
    assert_int_equal(lease_db_key(NULL), 0);
    assert_int_equal(lease_db_key(""), 0);        /* console mode */
    assert_int_equal(lease_db_key("123456"), 0);  /* no colon */
    assert_int_equal(lease_db_key(":secret"), 0); /* no digits */
    assert_int_equal(lease_db_key("12a4:secret"), 0);
    assert_int_equal(lease_db_key("1234567890123456789:s"), 0); /* beyond 18 digits */
}

static void unreadable_dsn_is_one_line_without_the_password(void **state)
{
    (void)state;
    char problem[640];
    assert_int_equal(lease_db_check_dsn("host=db password='openSesame42", problem, sizeof problem),
                     -1);
    assert_non_null(strstr(problem, "[state] dsn cannot be read"));
    assert_null(strstr(problem, "openSesame42"));
    assert_null(strchr(problem, '\n'));
    assert_int_equal(lease_db_check_dsn("postgresql://bot:pw@127.0.0.1:5432/jarvis", problem,
                                        sizeof problem),
                     0);
    assert_int_equal(lease_db_check_dsn("host=127.0.0.1 dbname=jarvis", problem, sizeof problem),
                     0);
    assert_int_equal(lease_db_check_dsn("jarvis", problem, sizeof problem), 0); /* a bare name */
}

static void sqlite_backend_takes_no_database_lock(void **state)
{
    (void)state;
    struct config config;
    memset(&config, 0, sizeof config);
    config.state_backend = STATE_BACKEND_SQLITE;
    struct host_lease *lease = (struct host_lease *)&config; /* overwritten with NULL */
    assert_int_equal(host_lease_acquire(&config, &lease), 0);
    assert_null(lease);
    assert_int_equal(host_lease_still_held(NULL), 1);
    assert_int_equal(host_lease_valid(NULL), 1);
    host_lease_release(NULL);
}

static void postgres_without_dsn_is_a_config_error(void **state)
{
    (void)state;
    struct config config;
    memset(&config, 0, sizeof config);
    config.path = "plugins.ini";
    config.state_backend = STATE_BACKEND_POSTGRES;
    config.state_dsn = "";
    config.lease_s = 10;
    struct host_lease *lease = NULL;
    assert_int_equal(host_lease_acquire(&config, &lease), 78);
    assert_null(lease);
    config.state_dsn = "password='unterminated";
    assert_int_equal(host_lease_acquire(&config, &lease), 78);
    assert_null(lease);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_is_the_bot_id_before_the_colon),
        cmocka_unit_test(key_without_a_bot_id_is_the_fixed_one),
        cmocka_unit_test(unreadable_dsn_is_one_line_without_the_password),
        cmocka_unit_test(sqlite_backend_takes_no_database_lock),
        cmocka_unit_test(postgres_without_dsn_is_a_config_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
