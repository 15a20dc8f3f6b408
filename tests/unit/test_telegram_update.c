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

#include "base/pick_tree.h"
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

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Real update shapes, each read by the strict reader (only what the parser
 * reads is built) and by jansson in full: the same verdict, field by field. */
static void assert_same_parse(const struct parsed_update *a, const struct parsed_update *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_true(a->update_id == b->update_id);
    assert_string_equal(a->problem, b->problem);
    assert_true(same_text(a->ignored_kind, b->ignored_kind));
    const struct incoming_message *x = &a->message, *y = &b->message;
    assert_true(x->chat_id == y->chat_id && x->user_id == y->user_id &&
                x->message_id == y->message_id && x->message_thread_id == y->message_thread_id);
    assert_int_equal(x->is_reply_to_bot, y->is_reply_to_bot);
    assert_int_equal(x->is_edited, y->is_edited);
    assert_true(same_text(x->chat_type, y->chat_type));
    assert_true(same_text(x->user_name, y->user_name));
    assert_true(same_text(x->text, y->text));
    assert_true(same_text(x->language_code, y->language_code));
    assert_true(same_text(x->reply_to_text, y->reply_to_text));
    assert_true(same_text(x->callback_id, y->callback_id));
    assert_true(same_text(x->callback_data, y->callback_data));
}

static void test_a_picked_update_parses_as_the_full_one(void **state)
{
    (void)state;
    static const char *const updates[] = {
        "{\"update_id\":1,\"message\":{\"message_id\":2,\"from\":{\"id\":5,\"is_bot\":false,"
        "\"first_name\":\"Ann\",\"last_name\":\"B\",\"username\":\"ann\",\"language_code\":\"de\","
        "\"is_premium\":true},\"chat\":{\"id\":5,\"first_name\":\"Ann\",\"username\":\"ann\","
        "\"type\":\"private\"},\"date\":1,\"text\":\"\\/echo h\\u00e9\",\"entities\":[{\"offset\":0,"
        "\"length\":5,\"type\":\"bot_command\"}]}}",
        "{\"update_id\":2,\"message\":{\"message_id\":3,\"from\":{\"id\":6,\"first_name\":\"C\"},"
        "\"chat\":{\"id\":-100,\"title\":\"G\",\"type\":\"supergroup\",\"is_forum\":true},\"date\":1,"
        "\"is_topic_message\":true,\"message_thread_id\":44,\"text\":\"hi\",\"reply_to_message\":"
        "{\"message_id\":1,\"from\":{\"id\":777,\"is_bot\":true,\"first_name\":\"J\"},\"chat\":"
        "{\"id\":-100,\"type\":\"supergroup\"},\"date\":1,\"caption\":\"chart\",\"photo\":[]}}}",
        "{\"update_id\":3,\"callback_query\":{\"id\":\"q1\",\"from\":{\"id\":7,\"username\":\"u\"},"
        "\"message\":{\"message_id\":9,\"chat\":{\"id\":7,\"type\":\"private\"},\"date\":1,"
        "\"text\":\"pick\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"a\","
        "\"callback_data\":\"x\"}]]}},\"chat_instance\":\"c\",\"data\":\"x\"}}",
        "{\"update_id\":4,\"edited_message\":{\"message_id\":2,\"from\":{\"id\":5},\"chat\":"
        "{\"id\":5,\"type\":\"private\"},\"date\":1,\"edit_date\":2,\"text\":\"/echo e\"}}",
        "{\"update_id\":5,\"message\":{\"message_id\":2,\"chat\":{\"id\":5,\"type\":\"private\"},"
        "\"date\":1,\"location\":{\"latitude\":1.5,\"longitude\":2.5}}}",
        "{\"update_id\":6,\"my_chat_member\":{\"chat\":{\"id\":1,\"type\":\"group\"}}}",
        "{\"update_id\":7,\"message\":{\"message_id\":2,\"chat\":{\"id\":\"5\",\"type\":\"private\"},"
        "\"text\":\"x\"}}",
        "{\"update_id\":8,\"message\":{\"message_id\":2,\"from\":\"nobody\",\"chat\":{\"id\":5,"
        "\"type\":\"private\"},\"text\":{\"not\":\"text\"}}}",
        /* duplicates: the last of each name counts, as in jansson's tree */
        "{\"update_id\":9,\"message\":{\"message_id\":2,\"chat\":{\"id\":5,\"type\":\"private\"},"
        "\"text\":\"first\",\"from\":{\"id\":1,\"id\":2},\"text\":\"second\",\"chat\":{\"id\":6,"
        "\"type\":\"group\"}},\"update_id\":10}",
        "{\"poll\":{\"id\":\"p\"},\"update_id\":11,\"poll\":null}",
    };
    for (size_t i = 0; i < sizeof updates / sizeof updates[0]; i++) {
        json_t *picked = telegram_decode_update_leniently(updates[i], strlen(updates[i]));
        json_t *full = json_loads(updates[i], 0, NULL);
        assert_non_null(picked);
        assert_non_null(full);
        assert_null(json_object_get(picked, "undecodable"));
        /* and as the one-pass reader gives it, in a getUpdates body */
        char body[1024];
        snprintf(body, sizeof body, "{\"ok\":true,\"result\":[%s]}", updates[i]);
        struct pick_arena *arena = pick_arena_create();
        const struct pick_node *batch = telegram_read_updates(body, strlen(body), arena);
        assert_non_null(batch);
        assert_non_null(batch->first);
        assert_null(batch->first->next);
        for (unsigned flags = 0; flags <= TELEGRAM_PARSE_EDITS; flags++) {
            struct parsed_update a, b, c;
            telegram_parse_update_with(picked, 777, flags, &a);
            telegram_parse_update_with(full, 777, flags, &b);
            telegram_parse_update_node(batch->first, 777, flags, &c);
            assert_same_parse(&a, &b);
            assert_same_parse(&c, &b);
        }
        /* and what was left out is left out: a private chat's name is not read */
        if (i == 0) {
            json_t *chat = json_object_get(json_object_get(picked, "message"), "chat");
            assert_null(json_object_get(chat, "first_name"));
            assert_null(json_object_get(json_object_get(json_object_get(picked, "message"), "from"),
                                        "is_premium"));
        }
        json_decref(picked);
        json_decref(full);
        pick_arena_destroy(arena);
    }
}

/* The strict one-pass reader takes Telegram's own layout and nothing else:
 * whatever it refuses goes to the full decode (telegram_classify). */
static void test_the_strict_reader_takes_only_valid_telegram_answers(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int updates; /* -1: refused */
    } cases[] = {
        {"{\"ok\":true,\"result\":[]}", 0},
        {"{\"ok\":true,\"result\":[ {\"update_id\":1} , {\"update_id\":2}\n]}\n", 2},
        {"{\"ok\":true,\"result\":[{\"update_id\":1}{\"update_id\":2}]}", -1},
        {"{\"ok\":true,\"result\":[2\" ,x\"]}", -1}, /* found by fuzzing */
        {"{\"ok\":true,\"result\":[{\"update_id\":1},]}", -1},
        {"{\"ok\":true,\"result\":[,{\"update_id\":1}]}", -1},
        {"{\"ok\":true,\"result\":[{\"update_id\":1},,{\"update_id\":2}]}", -1},
        {"{\"ok\":true,\"result\":[,]}", -1},
        {"{\"ok\":true,\"result\":[{\"update_id\":1,\"x\":1e400}]}", -1}, /* update by update */
        {"{\"ok\":true,\"result\":[],\"ok\":false}", -1},
        {"{\"result\":[],\"ok\":true}", -1},
        {"{\"ok\":true,\"result\":[{\"update_id\":1}]", -1},
        {"{\"ok\":true,\"result\":[{\"update_id\":1}]}x", -1},
        {"{\"ok\":false,\"error_code\":409,\"description\":\"Conflict\"}", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pick_arena *arena = pick_arena_create();
        const struct pick_node *updates =
            telegram_read_updates(cases[i].body, strlen(cases[i].body), arena);
        if (cases[i].updates < 0) {
            if (updates != NULL)
                fail_msg("taken: %s", cases[i].body);
            pick_arena_destroy(arena);
            continue;
        }
        assert_non_null(updates);
        assert_int_equal(updates->type, PICK_ARRAY);
        int count = 0;
        for (const struct pick_node *update = updates->first; update != NULL; update = update->next)
            count++;
        assert_int_equal(count, cases[i].updates);
        json_t *whole = json_loads(cases[i].body, 0, NULL); /* jansson agrees */
        assert_non_null(whole);
        json_decref(whole);
        pick_arena_destroy(arena);
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
        cmocka_unit_test(test_a_picked_update_parses_as_the_full_one),
        cmocka_unit_test(test_the_strict_reader_takes_only_valid_telegram_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
