/* Unit tests for include/jarvis/text.h: jv_format_duration picks the unit
 * people use for a window (the one dexter_finance and sentiment both show)
 * and never writes past the buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jarvis/text.h>

static const char *duration(int64_t seconds)
{
    static char out[32];
    jv_format_duration(seconds, out, sizeof out);
    return out;
}

static void test_the_largest_whole_unit(void **state)
{
    (void)state;
    assert_string_equal(duration(86400), "24h");     /* a day reads as hours ... */
    assert_string_equal(duration(2 * 86400), "48h"); /* ... up to two */
    assert_string_equal(duration(3 * 86400), "3d");
    assert_string_equal(duration(30 * 86400), "30d");
    assert_string_equal(duration(3 * 86400 + 3600), "73h");
    assert_string_equal(duration(3600), "1h");
    assert_string_equal(duration(5400), "90m");
    assert_string_equal(duration(60), "1m");
    assert_string_equal(duration(45), "45s");
    assert_string_equal(duration(3601), "3601s");
}

static void test_zero_negative_and_huge(void **state)
{
    (void)state;
    assert_string_equal(duration(0), "0s");
    assert_string_equal(duration(-60), "-60s");
    assert_string_equal(duration(-3 * 86400), "-259200s");
    assert_string_equal(duration(INT64_MAX), "9223372036854775807s");
    assert_string_equal(duration(INT64_MAX - INT64_MAX % 86400), "106751991167300d");
}

static void test_never_writes_past_the_buffer(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'x', sizeof out);
    volatile size_t small = 4; /* not a constant: the truncation is the point */
    jv_format_duration(123456789, out, small);
    assert_string_equal(out, "123");
    assert_int_equal(out[4], 'x');
    volatile size_t none = 0;
    jv_format_duration(45, out, none); /* nothing written */
    assert_int_equal(out[0], '1');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_largest_whole_unit),
        cmocka_unit_test(test_zero_negative_and_huge),
        cmocka_unit_test(test_never_writes_past_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
