/* Unit tests for core/dsn_redact.c: conninfo and URI passwords masked in
 * every syntax libpq accepts, and libpq's own error messages (for DSNs it
 * cannot parse and servers it cannot reach) carry no part of a password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "state/dsn_redact.h"

static void assert_redacted(const char *dsn, const char *expected)
{
    char out[256];
    dsn_redact(dsn, out, sizeof out);
    assert_string_equal(out, expected);
}

static void test_conninfo_passwords(void **state)
{
    (void)state;
    assert_redacted("host=db password=s3cr3t user=bot", "host=db password=*** user=bot");
    assert_redacted("password=s3cr3t", "password=***");
    assert_redacted("host=db password = 's3 cr\\'3t' user=bot", "host=db password = *** user=bot");
    assert_redacted("host=db PASSWORD=abc&def", "host=db PASSWORD=***");
    assert_redacted("host=db user=password dbname=x", "host=db user=password dbname=x");
    assert_redacted("host=db mypassword=x", "host=db mypassword=x");
    assert_redacted("host=db sslpassword=x", "host=db sslpassword=x");
    assert_redacted("", "");
}

static void test_uri_passwords(void **state)
{
    (void)state;
    assert_redacted("postgresql://bot:s3cr3t@db:5432/jarvis", "postgresql://bot:***@db:5432/jarvis");
    assert_redacted("postgres://bot:p%40ss@db/jarvis?sslmode=require",
                    "postgres://bot:***@db/jarvis?sslmode=require");
    assert_redacted("postgresql://bot@db/jarvis?password=s3cr3t&sslmode=require",
                    "postgresql://bot@db/jarvis?password=***&sslmode=require");
    assert_redacted("postgresql://bot:@db/jarvis", "postgresql://bot:***@db/jarvis");
    assert_redacted("postgresql://db:5432/jarvis", "postgresql://db:5432/jarvis");
    assert_redacted("postgresql:///jarvis?host=/run/postgresql", "postgresql:///jarvis?host=/run/postgresql");
    /* inside a longer message, as libpq or a log line would carry it */
    assert_redacted("cannot use \"postgresql://bot:s3cr3t@db/x\": bad",
                    "cannot use \"postgresql://bot:***@db/x\": bad");
}

static void test_cut_to_fit(void **state)
{
    (void)state;
    char out[12];
    dsn_redact("password=s3cr3t and more text", out, sizeof out);
    assert_string_equal(out, "password=**");
    assert_null(strstr(out, "s3"));
}

static void test_message_masks_the_parsed_secret(void **state)
{
    (void)state;
    char out[256];
    dsn_redact_message("FATAL:  role said hunter2hunter2\nDETAIL: again hunter2hunter2\n",
                       "hunter2hunter2", out, sizeof out);
    assert_string_equal(out, "FATAL:  role said *** DETAIL: again ***");
    dsn_redact_message("short ab here", "ab", out, sizeof out);
    assert_string_equal(out, "short ** here");
}

/* libpq quotes the piece of a conninfo it choked on; from a password with
 * a space in it (unquoted), that piece is the password's second half. */
static void test_libpq_parse_errors_leak_nothing(void **state)
{
    (void)state;
    const char *broken[] = {
        "host=db password=first secondhalf user=bot",
        "host=db password='unterminated secondhalf",
        "postgresql://bot:secondhalf@db/x?nosuchoption=1",
        "postgresql://bot:second%zzhalf@db/x",
        "host=db secondhalf",
    };
    size_t refused = 0;
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        char *message = NULL;
        PQconninfoOption *options = PQconninfoParse(broken[i], &message);
        if (options != NULL) {
            PQconninfoFree(options);
            continue;
        }
        refused++;
        assert_non_null(message);
        char out[512];
        dsn_redact_parse_error(message, out, sizeof out);
        PQfreemem(message);
        assert_null(strstr(out, "secondhalf"));
        assert_null(strstr(out, "second"));
        assert_true(strlen(out) > 0);
        assert_null(strchr(out, '\n'));
    }
    assert_int_equal(refused, sizeof broken / sizeof broken[0]);
}

/* A server that refuses the connection: libpq's message names host and
 * port, and whatever it says, the password is masked. */
static void test_libpq_connection_error_masked(void **state)
{
    (void)state;
    const char *dsn = "host=127.0.0.1 port=1 user=bot password=hunter2hunter2 connect_timeout=2";
    PGconn *connection = PQconnectdb(dsn);
    assert_int_not_equal(PQstatus(connection), CONNECTION_OK);
    char raw[1024];
    snprintf(raw, sizeof raw, "%s (dsn %s)", PQerrorMessage(connection), dsn);
    PQfinish(connection);
    char out[1024];
    dsn_redact_message(raw, "hunter2hunter2", out, sizeof out);
    assert_non_null(strstr(out, "127.0.0.1"));
    assert_null(strstr(out, "hunter2"));
    assert_null(strchr(out, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conninfo_passwords),
        cmocka_unit_test(test_uri_passwords),
        cmocka_unit_test(test_cut_to_fit),
        cmocka_unit_test(test_message_masks_the_parsed_secret),
        cmocka_unit_test(test_libpq_parse_errors_leak_nothing),
        cmocka_unit_test(test_libpq_connection_error_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
