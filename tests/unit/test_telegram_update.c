/* Unit tests for core/telegram_update.c's lenient getUpdates decoder: the
 * update_id of an element jansson cannot read is recovered exactly up to
 * INT64_MAX and dropped beyond it (found by fuzzing: the digit scan
 * overflowed int64 on 19-digit ids, undefined behaviour); a negative
 * update_id refused, edits only when asked for, forum topics only with a
 * positive thread id. */
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

static const char text_message[] =
    "{\"message_id\":3,\"date\":1700000000,\"text\":\"/ping\","
    "\"chat\":{\"id\":-1001,\"type\":\"supergroup\",\"is_forum\":true},"
    "\"from\":{\"id\":5,\"is_bot\":false,\"first_name\":\"A\"}";

static void parse_text(const char *update_text, unsigned flags, struct parsed_update *out,
                       json_t **root)
{
    json_error_t error;
    *root = json_loads(update_text, 0, &error);
    if (*root == NULL)
        fail_msg("fixture is not JSON: %s", error.text);
    telegram_parse_update_with(*root, 777, flags, out);
}

static void test_a_negative_update_id_is_bad_and_zero_is_fine(void **state)
{
    (void)state;
    char text[512];
    struct parsed_update parsed;
    json_t *root;
    snprintf(text, sizeof text, "{\"update_id\":-1,\"message\":%s}}", text_message);
    parse_text(text, 0, &parsed, &root);
    assert_int_equal(parsed.kind, UPDATE_BAD);
    assert_true(parsed.update_id == -1);
    json_decref(root);
    snprintf(text, sizeof text, "{\"update_id\":0,\"message\":%s}}", text_message);
    parse_text(text, 0, &parsed, &root);
    assert_int_equal(parsed.kind, UPDATE_TEXT);
    assert_true(parsed.update_id == 0);
    json_decref(root);
}

static void test_edits_are_messages_only_when_asked_for(void **state)
{
    (void)state;
    char text[512];
    struct parsed_update parsed;
    json_t *root;
    snprintf(text, sizeof text, "{\"update_id\":9,\"edited_message\":%s,\"edit_date\":1}}",
             text_message);
    parse_text(text, 0, &parsed, &root);
    assert_int_equal(parsed.kind, UPDATE_IGNORED);
    assert_string_equal(parsed.ignored_kind, "edited_message");
    json_decref(root);
    parse_text(text, TELEGRAM_PARSE_EDITS, &parsed, &root);
    assert_int_equal(parsed.kind, UPDATE_TEXT);
    assert_int_equal(parsed.message.is_edited, 1);
    json_decref(root);
}

/* Only a topic message with a positive thread id is in a topic: 0 or a
 * negative id is the chat's general thread. */
static void test_a_topic_needs_a_positive_thread_id(void **state)
{
    (void)state;
    static const struct {
        const char *fields;
        int64_t thread_id;
    } cases[] = {
        {",\"is_topic_message\":true,\"message_thread_id\":42", 42},
        {",\"is_topic_message\":true,\"message_thread_id\":0", 0},
        {",\"is_topic_message\":true,\"message_thread_id\":-3", 0},
        {",\"message_thread_id\":42", 0}, /* a reply thread, not a topic */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[640];
        snprintf(text, sizeof text, "{\"update_id\":9,\"message\":%s%s}}", text_message,
                 cases[i].fields);
        struct parsed_update parsed;
        json_t *root;
        parse_text(text, 0, &parsed, &root);
        assert_int_equal(parsed.kind, UPDATE_TEXT);
        if (parsed.message.message_thread_id != cases[i].thread_id)
            fail_msg("case %zu: thread %lld, expected %lld", i,
                     (long long)parsed.message.message_thread_id,
                     (long long)cases[i].thread_id);
        json_decref(root);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_id_of_an_undecodable_element_up_to_int64_max),
        cmocka_unit_test(test_update_id_beyond_int64_is_dropped_not_wrapped),
        cmocka_unit_test(test_a_negative_update_id_is_bad_and_zero_is_fine),
        cmocka_unit_test(test_edits_are_messages_only_when_asked_for),
        cmocka_unit_test(test_a_topic_needs_a_positive_thread_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
