/* base/text.c: spaces as the core counts them, trimming, and text_join,
 * which stands in for snprintf("%s%s") on the pipeline's hot path and must
 * cut and terminate exactly as that would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

static void test_join_is_snprintf_of_two_strings(void **state)
{
    (void)state;
    static const char *const firsts[] = {"", "/", "command /", "a longer first part"};
    static const char *const seconds[] = {"", "echo", "sentiment_report_weekly"};
    for (size_t size = 1; size <= 24; size++)
        for (size_t i = 0; i < sizeof firsts / sizeof *firsts; i++)
            for (size_t j = 0; j < sizeof seconds / sizeof *seconds; j++) {
                char joined[32], expected[32];
                memset(joined, 'X', sizeof joined);
                size_t length = text_join(joined, size, firsts[i], seconds[j]);
                snprintf(expected, size, "%s%s", firsts[i], seconds[j]);
                assert_string_equal(joined, expected);
                assert_int_equal(length, strlen(expected));
                assert_int_equal(joined[size], 'X'); /* nothing past size */
            }
}

static void test_join_takes_null_parts_as_empty_and_refuses_no_room(void **state)
{
    (void)state;
    char out[8] = "unset";
    assert_int_equal(text_join(out, sizeof out, NULL, "ab"), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(text_join(out, sizeof out, "cd", NULL), 2);
    assert_string_equal(out, "cd");
    assert_int_equal(text_join(out, 0, "ef", "gh"), 0);
    assert_string_equal(out, "cd"); /* size 0: untouched */
    assert_int_equal(text_join(NULL, 8, "ef", "gh"), 0);
}

static void test_int64_is_printf_of_the_number(void **state)
{
    (void)state;
    static const int64_t values[] = {0, 1, -1, 9, 10, -10, 123456789, -987654321,
                                     INT64_MAX, INT64_MIN, INT64_MIN + 1, 1000000000000LL};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char written[TEXT_INT64_MAX], expected[32];
        size_t length = text_int64(written, values[i]);
        snprintf(expected, sizeof expected, "%" PRId64, values[i]);
        assert_string_equal(written, expected);
        assert_int_equal(length, strlen(expected));
    }
}

static void test_trimming_and_spaces(void **state)
{
    (void)state;
    char *trimmed = text_trimmed_copy(" \t\v\f hello world \r\n");
    assert_non_null(trimmed);
    assert_string_equal(trimmed, "hello world");
    free(trimmed);
    assert_string_equal(text_skip_spaces("  x "), "x ");
    assert_true(text_is_space('\v') && !text_is_space('x') && !text_is_space('\0'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_is_snprintf_of_two_strings),
        cmocka_unit_test(test_join_takes_null_parts_as_empty_and_refuses_no_room),
        cmocka_unit_test(test_int64_is_printf_of_the_number),
        cmocka_unit_test(test_trimming_and_spaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
