/* Unit tests for core/backoff.c: the doubling ladder, its cap, the jitter
 * range, reset, and no overflow at extreme settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/backoff.h"

static void ladder_doubles_up_to_the_cap_with_jitter(void **state)
{
    (void)state;
    struct backoff backoff;
    backoff_init(&backoff, 100, 1000);
    const int64_t steps[] = {100, 200, 400, 800, 1000, 1000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t delay = backoff_next_delay(&backoff);
        assert_int_equal(backoff.current_ms, steps[i]);
        assert_true(delay >= steps[i] / 2);
        assert_true(delay <= steps[i]);
    }
}

static void reset_starts_again_at_initial(void **state)
{
    (void)state;
    struct backoff backoff;
    backoff_init(&backoff, 50, 400);
    backoff_next_delay(&backoff);
    backoff_next_delay(&backoff);
    assert_int_equal(backoff.current_ms, 100);
    backoff_reset(&backoff);
    backoff_next_delay(&backoff);
    assert_int_equal(backoff.current_ms, 50);
}

static void cap_below_initial_is_raised(void **state)
{
    (void)state;
    struct backoff backoff;
    backoff_init(&backoff, 5000, 1000);
    assert_int_equal(backoff.max_ms, 5000);
    backoff_next_delay(&backoff);
    backoff_next_delay(&backoff);
    assert_int_equal(backoff.current_ms, 5000);
}

static void extreme_settings_do_not_overflow(void **state)
{
    (void)state;
    struct backoff backoff;
    backoff_init(&backoff, INT64_MAX / 2 + 1, INT64_MAX);
    for (int i = 0; i < 4; i++) {
        int64_t delay = backoff_next_delay(&backoff);
        assert_true(delay > 0);
        assert_true(backoff.current_ms > 0);
    }
    assert_int_equal(backoff.current_ms, INT64_MAX);
    backoff_init(&backoff, 1, 1);
    assert_int_equal(backoff_next_delay(&backoff), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ladder_doubles_up_to_the_cap_with_jitter),
        cmocka_unit_test(reset_starts_again_at_initial),
        cmocka_unit_test(cap_below_initial_is_raised),
        cmocka_unit_test(extreme_settings_do_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
