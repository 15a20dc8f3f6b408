/* core/telegram_body.c: the directly written sendMessage body says exactly
 * what the jansson-built one says (decoded and compared as objects), and
 * declines whenever it could not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "transport/telegram/telegram_body.h"

/* What telegram_send.c's general path builds for the same part. */
static json_t *jansson_body(int64_t chat_id, int64_t thread_id, const char *text,
                            const char *options)
{
    json_t *object = options[0] != '\0' ? json_loads(options, 0, NULL) : json_object();
    assert_non_null(object);
    json_object_set_new(object, "chat_id", json_integer(chat_id));
    if (thread_id != 0)
        json_object_set_new(object, "message_thread_id", json_integer(thread_id));
    json_object_set_new(object, "text", json_string(text));
    return object;
}

static void assert_same_as_jansson(int64_t chat_id, int64_t thread_id, const char *text,
                                   const char *options)
{
    char *body = telegram_send_message_body(chat_id, thread_id, text, options);
    assert_non_null(body);
    json_error_t error;
    json_t *direct = json_loads(body, JSON_REJECT_DUPLICATES, &error);
    if (direct == NULL)
        fail_msg("not JSON (%s): %s", error.text, body);
    json_t *expected = jansson_body(chat_id, thread_id, text, options);
    if (!json_equal(direct, expected))
        fail_msg("differs from the jansson body: %s", body);
    json_decref(direct);
    json_decref(expected);
    free(body);
}

static void texts_escape_as_jansson_does(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "m1", "", "quote \" backslash \\ slash /", "line\nfeed\rtab\tbell\x07\x01\x1f\x7f",
        "\b\f", "Grüße, 你好, 👍 emoji", "</b>&amp;<i>", "{\"chat_id\":1}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        assert_same_as_jansson(42, 0, texts[i], "");
        assert_same_as_jansson(-1001557912345, 77, texts[i],
                               "{\"link_preview_options\":{\"is_disabled\":true}}");
    }
}

static void options_and_ids_kept(void **state)
{
    (void)state;
    assert_same_as_jansson(INT64_MAX, INT64_MIN, "x", "{}");
    assert_same_as_jansson(INT64_MIN, INT64_MAX, "x",
                           "{\"parse_mode\":\"HTML\",\"link_preview_options\":{\"is_disabled\":"
                           "true},\"reply_parameters\":{\"message_id\":5,"
                           "\"allow_sending_without_reply\":true}}");
}

/* Where the sender's own value must replace a stored one, or the text is
 * not UTF-8 (jansson refuses it), the general path decides. */
static void declines_what_it_cannot_say_the_same(void **state)
{
    (void)state;
    assert_null(telegram_send_message_body(1, 0, "x", "{\"chat_id\":2}"));
    assert_null(telegram_send_message_body(1, 0, "x", "{\"text\":\"other\"}"));
    assert_null(telegram_send_message_body(1, 0, "x", "{\"message_thread_id\":3}"));
    /* a keyboard's buttons have "text" too: the general path, to be safe */
    assert_null(telegram_send_message_body(
        1, 0, "x", "{\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"a\"}]]}}"));
    assert_null(telegram_send_message_body(1, 0, "x", "not an object"));
    assert_null(telegram_send_message_body(1, 0, "x", "["));
    assert_null(telegram_send_message_body(1, 0, "bad \xff byte", ""));
    assert_null(telegram_send_message_body(1, 0, "cut \xe4\xbd", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(texts_escape_as_jansson_does),
        cmocka_unit_test(options_and_ids_kept),
        cmocka_unit_test(declines_what_it_cannot_say_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
