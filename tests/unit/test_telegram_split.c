/* Pure parts of the Telegram transport: splitting long texts by UTF-16 units,
 * UTF-8 repair, classifying Telegram's error envelopes, parsing updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/telegram/telegram_api.h"
#include "transport/telegram/telegram_send.h"
#include "transport/telegram/telegram_update.h"
#include "transport/telegram/telegram_split.h"
#include "base/utf8.h"

static char *repeat(const char *piece, size_t times)
{
    size_t length = strlen(piece);
    char *text = malloc(length * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(text + i * length, piece, length);
    text[length * times] = '\0';
    return text;
}

static void short_text_is_one_chunk(void **state)
{
    (void)state;
    char **chunks;
    assert_int_equal(telegram_split_text("hello", 4096, &chunks), 1);
    assert_string_equal(chunks[0], "hello");
    telegram_chunks_free(chunks, 1);
}

/* Short valid parts go whole without being counted; whatever needs work
 * (a tag to close, bytes to repair, only blanks) still takes the full path. */
static void a_short_part_goes_whole_unless_it_needs_work(void **state)
{
    (void)state;
    char **chunks;
    assert_int_equal(telegram_split_html("fish &amp; chips", 4096, &chunks), 1);
    assert_string_equal(chunks[0], "fish &amp; chips");
    telegram_chunks_free(chunks, 1);
    assert_int_equal(telegram_split_html("<b>bold, never closed", 4096, &chunks), 1);
    assert_string_equal(chunks[0], "<b>bold, never closed</b>");
    telegram_chunks_free(chunks, 1);
    assert_int_equal(telegram_split_html(" \n", 4096, &chunks), 0);
    telegram_chunks_free(chunks, 0);
    assert_int_equal(telegram_split_html("caf\xC3", 4096, &chunks), 1);
    assert_string_equal(chunks[0], "caf\xEF\xBF\xBD");
    telegram_chunks_free(chunks, 1);
    /* exactly the limit in bytes: whole; two-byte characters over the limit
     * in bytes but within it in units: counted, and still whole */
    assert_int_equal(telegram_split_text("abcd", 4, &chunks), 1);
    assert_string_equal(chunks[0], "abcd");
    telegram_chunks_free(chunks, 1);
    assert_int_equal(telegram_split_text("\xC3\xA9\xC3\xA9\xC3\xA9", 4, &chunks), 1);
    telegram_chunks_free(chunks, 1);
    assert_int_equal(telegram_split_text("abcde", 4, &chunks), 2);
    telegram_chunks_free(chunks, 2);
}

static void blank_text_has_no_chunk(void **state)
{
    (void)state;
    char **chunks;
    assert_int_equal(telegram_split_text(" \n ", 4096, &chunks), 0);
    telegram_chunks_free(chunks, 0);
}

static void cuts_at_the_last_line_break(void **state)
{
    (void)state;
    char **chunks;
    long count = telegram_split_text("aaaa bb\ncc dd\neeee", 10, &chunks);
    assert_int_equal(count, 2);
    assert_string_equal(chunks[0], "aaaa bb");
    assert_string_equal(chunks[1], "cc dd\neeee");
    telegram_chunks_free(chunks, count);
    count = telegram_split_text("aaaa\nbbbb cccc", 10, &chunks);
    assert_int_equal(count, 2);
    assert_string_equal(chunks[0], "aaaa");
    assert_string_equal(chunks[1], "bbbb cccc");
    telegram_chunks_free(chunks, count);
}

static void cuts_at_a_space_without_line_breaks(void **state)
{
    (void)state;
    char **chunks;
    long count = telegram_split_text("one two three four", 9, &chunks);
    assert_int_equal(count, 3);
    assert_string_equal(chunks[0], "one two");
    assert_string_equal(chunks[1], "three");
    assert_string_equal(chunks[2], "four");
    telegram_chunks_free(chunks, count);
}

static void surrogate_pairs_count_two_and_are_never_cut(void **state)
{
    (void)state;
    char *text = repeat("\xF0\x9F\x8E\x89", 3000); /* 6000 UTF-16 units */
    assert_int_equal(jv_utf16_length(text), 6000);
    char **chunks;
    long count = telegram_split_text(text, 4096, &chunks);
    assert_int_equal(count, 2);
    assert_int_equal(jv_utf16_length(chunks[0]), 4096);
    assert_int_equal(strlen(chunks[0]), 2048 * 4);
    assert_int_equal(jv_utf16_length(chunks[1]), 6000 - 4096);
    telegram_chunks_free(chunks, count);
    free(text);
}

static void odd_limit_never_splits_a_pair(void **state)
{
    (void)state;
    char *text = repeat("\xF0\x9F\x8E\x89", 10);
    char **chunks;
    long count = telegram_split_text(text, 5, &chunks);
    assert_int_equal(count, 5); /* two emoji (4 units) per chunk */
    for (long i = 0; i < count; i++)
        assert_int_equal(strlen(chunks[i]), 8);
    telegram_chunks_free(chunks, count);
    free(text);
}

static void three_byte_characters_count_one(void **state)
{
    (void)state;
    char *text = repeat("\xE2\x82\xAC", 5000); /* euro sign: 3 bytes, 1 unit */
    char **chunks;
    long count = telegram_split_text(text, 4096, &chunks);
    assert_int_equal(count, 2);
    assert_int_equal(jv_utf16_length(chunks[0]), 4096);
    assert_int_equal(strlen(chunks[0]), 4096 * 3);
    telegram_chunks_free(chunks, count);
    free(text);
}

static void invalid_utf8_becomes_replacement(void **state)
{
    (void)state;
    char **chunks;
    long count = telegram_split_text("a\xff" "b\xC3", 4096, &chunks);
    assert_int_equal(count, 1);
    assert_string_equal(chunks[0], "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    telegram_chunks_free(chunks, count);
}

static void lone_surrogate_escape_is_repaired(void **state)
{
    (void)state;
    const char *json = "{\"t\":\"x\\ud800y \\ud83d\\ude00 \\\\ud800\"}";
    size_t length, replaced;
    char *clean = telegram_sanitize_utf8(json, strlen(json), &length, &replaced);
    assert_int_equal(replaced, 1);
    assert_string_equal(clean, "{\"t\":\"x\\ufffdy \\ud83d\\ude00 \\\\ud800\"}");
    free(clean);
}

/* The escape repair is for JSON bodies; a message is plain text, where a
 * user may well write "\ud800" and expect it back as written. */
static void split_keeps_escape_like_text_as_written(void **state)
{
    (void)state;
    char **chunks;
    const char *text = "see \\ud800 and \\udfff\\u0041";
    long count = telegram_split_text(text, 4096, &chunks);
    assert_int_equal(count, 1);
    assert_string_equal(chunks[0], text);
    telegram_chunks_free(chunks, count);
}

static void repaired_copy_is_exactly_sized(void **state)
{
    (void)state;
    size_t length = 0, replaced = 0;
    char *clean = utf8_repair("ok\xff\xfe!", 5, &length, &replaced);
    assert_non_null(clean);
    assert_int_equal(replaced, 2);
    assert_int_equal(length, 3 + 2 * 3);
    assert_string_equal(clean, "ok\xEF\xBF\xBD\xEF\xBF\xBD!");
    free(clean);
    clean = utf8_repair("", 0, &length, &replaced);
    assert_non_null(clean);
    assert_int_equal(length, 0);
    assert_int_equal(replaced, 0);
    free(clean);
}

/* ---- HTML ---- */

/* What Telegram shows of a part (tags dropped, an entity one character), and
 * whether its tags nest and close: a tiny checker of exactly what matters. */
static size_t shown_units(const char *html, int *balanced)
{
    char stack[32][16];
    int depth = 0;
    size_t units = 0;
    *balanced = 1;
    for (const char *c = html; *c;) {
        if (*c == '<') {
            const char *end = strchr(c, '>');
            assert_non_null(end);
            int closing = c[1] == '/';
            char name[16] = "";
            sscanf(c + (closing ? 2 : 1), "%15[a-z]", name);
            if (!closing) {
                snprintf(stack[depth++], sizeof stack[0], "%s", name);
            } else if (depth == 0 || strcmp(stack[--depth], name) != 0) {
                *balanced = 0;
            }
            c = end + 1;
        } else if (*c == '&') {
            const char *end = strchr(c, ';');
            assert_non_null(end);
            assert_true(end - c <= 8); /* an entity is never cut */
            units++;
            c = end + 1;
        } else {
            units += ((unsigned char)*c & 0xC0) != 0x80;
            c++;
        }
    }
    if (depth != 0)
        *balanced = 0;
    return units;
}

static void html_parts_close_and_reopen_tags_at_the_cut(void **state)
{
    (void)state;
    /* a bold link in italics over the 4096 boundary, entities all along */
    size_t size = 40000;
    char *text = malloc(size);
    size_t length = (size_t)snprintf(text, size, "<i>intro <a href=\"https://x.org\"><b>");
    for (int i = 0; i < 1500; i++)
        length += (size_t)snprintf(text + length, size - length, "a&amp;b ");
    length += (size_t)snprintf(text + length, size - length, "</b></a> tail</i> <code>x</code>");
    char **parts = NULL;
    long count = telegram_split_html(text, 4096, &parts);
    assert_int_equal(count, 2);
    for (long i = 0; i < count; i++) {
        int balanced = 0;
        assert_true(shown_units(parts[i], &balanced) <= 4096);
        assert_true(balanced);
    }
    /* the second part re-opens what was open, attributes included */
    static const char reopened[] = "<i><a href=\"https://x.org\"><b>";
    assert_true(strncmp(parts[1], reopened, sizeof reopened - 1) == 0);
    assert_non_null(strstr(parts[count - 1], "tail</i> <code>x</code>"));
    telegram_chunks_free(parts, count);
    free(text);
}

static void html_counts_what_is_shown(void **state)
{
    (void)state;
    /* 3000 "&lt;" are 12000 bytes but 3000 characters: one part */
    char text[13000] = "<b>";
    for (int i = 0; i < 3000; i++)
        strcat(text, "&lt;");
    strcat(text, "</b>");
    char **parts = NULL;
    long count = telegram_split_html(text, 4096, &parts);
    assert_int_equal(count, 1);
    assert_string_equal(parts[0], text);
    telegram_chunks_free(parts, count);
    /* a part that would show nothing (only tags) is dropped */
    count = telegram_split_html("<b> </b>", 4096, &parts);
    assert_int_equal(count, 0);
    telegram_chunks_free(parts, count);
}

static void classify(const char *body, long status, struct telegram_result *result)
{
    telegram_classify(status, body, strlen(body), result);
}

static void errors_are_classified_by_code_and_parameters(void **state)
{
    (void)state;
    struct telegram_result result;
    classify("{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after "
             "34\",\"parameters\":{\"retry_after\":34}}",
             429, &result);
    assert_int_equal(result.outcome, TELEGRAM_RETRY_AFTER);
    assert_int_equal(result.retry_after_s, 34);
    classify("{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}", 401, &result);
    assert_int_equal(result.outcome, TELEGRAM_UNAUTHORIZED);
    classify("{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: terminated by other "
             "getUpdates request; make sure that only one bot instance is running\"}",
             409, &result);
    assert_int_equal(result.outcome, TELEGRAM_CONFLICT_POLLER);
    classify("{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: can't use getUpdates "
             "method while webhook is active; use deleteWebhook to delete the webhook first\"}",
             409, &result);
    assert_int_equal(result.outcome, TELEGRAM_CONFLICT_WEBHOOK);
    classify("{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group chat was "
             "upgraded to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":"
             "-1001557912345}}",
             400, &result);
    assert_int_equal(result.outcome, TELEGRAM_MIGRATED);
    assert_true(result.migrate_to_chat_id == -1001557912345LL);
    classify("{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: message is too "
             "long\"}",
             400, &result);
    assert_int_equal(result.outcome, TELEGRAM_REJECTED);
    classify("{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}", 502, &result);
    assert_int_equal(result.outcome, TELEGRAM_TRANSIENT);
    classify("<html>502 Bad Gateway</html>", 502, &result);
    assert_int_equal(result.outcome, TELEGRAM_TRANSIENT);
    classify("{\"ok\":true,\"result\":[{\"update_id\":", 200, &result);
    assert_int_equal(result.outcome, TELEGRAM_TRANSIENT);
    classify("{\"ok\":true,\"result\":[]}", 200, &result);
    assert_int_equal(result.outcome, TELEGRAM_OK);
    assert_true(json_is_array(result.value));
    telegram_result_release(&result);
}

static void parse(const char *json, struct parsed_update *out, json_t **root)
{
    *root = json_loads(json, 0, NULL);
    assert_non_null(*root);
    telegram_parse_update(*root, 77, out);
}

static void text_messages_are_parsed(void **state)
{
    (void)state;
    struct parsed_update update;
    json_t *root;
    parse("{\"update_id\":5,\"message\":{\"message_id\":9,\"from\":{\"id\":3,\"first_name\":"
          "\"Ann\",\"username\":\"ann\"},\"chat\":{\"id\":-20,\"type\":\"group\"},\"text\":\"/ping"
          "\",\"reply_to_message\":{\"message_id\":1,\"from\":{\"id\":77}}}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_TEXT);
    assert_int_equal(update.update_id, 5);
    assert_int_equal(update.message.chat_id, -20);
    assert_int_equal(update.message.user_id, 3);
    assert_int_equal(update.message.message_id, 9);
    assert_string_equal(update.message.chat_type, "group");
    assert_string_equal(update.message.user_name, "ann");
    assert_string_equal(update.message.text, "/ping");
    assert_int_equal(update.message.is_reply_to_bot, 1);
    json_decref(root);
}

static void bad_and_other_updates_are_classified(void **state)
{
    (void)state;
    struct parsed_update update;
    json_t *root;
    parse("{\"update_id\":6,\"message\":{\"message_id\":1,\"chat\":{\"id\":\"x\",\"type\":"
          "\"private\"},\"text\":\"hi\"}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_BAD);
    assert_string_equal(update.problem, "message.chat.id is missing or not an integer");
    json_decref(root);
    /* a pressed button's message is checked field by field too */
    parse("{\"update_id\":9,\"callback_query\":{\"id\":\"q\",\"data\":\"d\",\"message\":"
          "{\"message_id\":1,\"chat\":{\"id\":5}}}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_BAD);
    assert_string_equal(update.problem,
                        "callback_query.message.chat.type is missing or not a string");
    json_decref(root);
    parse("{\"update_id\":10,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
          "\"text\":\"hi\"}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_BAD);
    assert_string_equal(update.problem, "message.message_id is missing or not an integer");
    json_decref(root);
    parse("{\"update_id\":7,\"edited_message\":{}}", &update, &root);
    assert_int_equal(update.kind, UPDATE_IGNORED);
    assert_string_equal(update.ignored_kind, "edited_message");
    json_decref(root);
    parse("{\"update_id\":8,\"message\":{\"message_id\":1,\"chat\":{\"id\":1,\"type\":"
          "\"private\"},\"sticker\":{}}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_IGNORED);
    assert_string_equal(update.ignored_kind, "sticker");
    json_decref(root);
    parse("{\"update_id\":\"9\"}", &update, &root);
    assert_int_equal(update.kind, UPDATE_BAD);
    assert_int_equal(update.update_id, -1);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_text_is_one_chunk),
        cmocka_unit_test(html_parts_close_and_reopen_tags_at_the_cut),
        cmocka_unit_test(html_counts_what_is_shown),
        cmocka_unit_test(blank_text_has_no_chunk),
        cmocka_unit_test(a_short_part_goes_whole_unless_it_needs_work),
        cmocka_unit_test(cuts_at_the_last_line_break),
        cmocka_unit_test(cuts_at_a_space_without_line_breaks),
        cmocka_unit_test(surrogate_pairs_count_two_and_are_never_cut),
        cmocka_unit_test(odd_limit_never_splits_a_pair),
        cmocka_unit_test(three_byte_characters_count_one),
        cmocka_unit_test(invalid_utf8_becomes_replacement),
        cmocka_unit_test(lone_surrogate_escape_is_repaired),
        cmocka_unit_test(split_keeps_escape_like_text_as_written),
        cmocka_unit_test(repaired_copy_is_exactly_sized),
        cmocka_unit_test(errors_are_classified_by_code_and_parameters),
        cmocka_unit_test(text_messages_are_parsed),
        cmocka_unit_test(bad_and_other_updates_are_classified),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
