/* Unit tests for core/telegram_update.c's lenient getUpdates decoder: the
 * update_id of an element jansson cannot read is recovered exactly up to
 * INT64_MAX and dropped beyond it (found by fuzzing: the digit scan
 * overflowed int64 on 19-digit ids, undefined behaviour). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "transport/telegram/telegram_update.h"

/* The one element of a body whose element carries a \u0000 (refused by
 * jansson) and the given update_id text. */
static json_t *decode_one(const char *update_id)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"ok\":true,\"result\":[{\"update_id\":%s,\"message\":{\"text\":\"a\\u0000b\"}}]}",
             update_id);
    json_t *updates = telegram_decode_updates_leniently(body, strlen(body));
    assert_non_null(updates);
    assert_int_equal(json_array_size(updates), 1);
    json_t *element = json_incref(json_array_get(updates, 0));
    json_decref(updates);
    assert_non_null(json_object_get(element, "undecodable"));
    return element;
}

static void test_update_id_of_an_undecodable_element_up_to_int64_max(void **state)
{
    (void)state;
    json_t *element = decode_one("815001");
    assert_int_equal(json_integer_value(json_object_get(element, "update_id")), 815001);
    json_decref(element);
    element = decode_one("0");
    assert_int_equal(json_integer_value(json_object_get(element, "update_id")), 0);
    json_decref(element);
    element = decode_one("9223372036854775807");
    assert_true(json_integer_value(json_object_get(element, "update_id")) == INT64_MAX);
    json_decref(element);
}

static void test_update_id_beyond_int64_is_dropped_not_wrapped(void **state)
{
    (void)state;
    const char *too_big[] = {"9223372036854775808", "9999999999999999999",
                             "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
        json_t *element = decode_one(too_big[i]);
        assert_null(json_object_get(element, "update_id"));
        json_decref(element);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_id_of_an_undecodable_element_up_to_int64_max),
        cmocka_unit_test(test_update_id_beyond_int64_is_dropped_not_wrapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
