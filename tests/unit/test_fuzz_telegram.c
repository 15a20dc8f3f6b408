/* Fuzz-style tests of the Telegram input side: telegram_classify on mutated
 * getUpdates / error envelopes and random bytes, telegram_parse_update on
 * every update that survives (plus generated updates with wrong types, huge
 * numbers, deep nesting), and telegram_sanitize_utf8 on hostile UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz_input.h"
#include "base/log.h"
#include "transport/telegram/telegram_api.h"
#include "transport/telegram/telegram_update.h"

#define ITERATIONS 3000

/* What the generated inputs reached, so a generator gone blind fails. */
static int outcome_counts[TELEGRAM_ABORTED + 1];
static int updates_parsed;

/* Real-shaped answers (API_FACTS.md): getUpdates batches, errors, getMe. */
static const char *const envelopes[] = {
    "{\"ok\":true,\"result\":[{\"update_id\":815001,\"message\":{\"message_id\":42,"
    "\"from\":{\"id\":1001,\"is_bot\":false,\"first_name\":\"Ann\",\"username\":\"ann\"},"
    "\"chat\":{\"id\":1001,\"first_name\":\"Ann\",\"type\":\"private\"},\"date\":1711111111,"
    "\"text\":\"/ping\",\"entities\":[{\"offset\":0,\"length\":5,\"type\":\"bot_command\"}]}}]}",
    "{\"ok\":true,\"result\":[{\"update_id\":7,\"message\":{\"message_id\":3,\"from\":{\"id\":5,"
    "\"first_name\":\"Bo\"},\"chat\":{\"id\":-1001234567890,\"title\":\"g\",\"type\":"
    "\"supergroup\"},\"date\":1,\"text\":\"SOL to the moon \\ud83d\\ude80 \\u00e9\","
    "\"reply_to_message\":{\"message_id\":2,\"from\":{\"id\":999,\"is_bot\":true},"
    "\"chat\":{\"id\":-1001234567890,\"type\":\"supergroup\"},\"date\":0,\"text\":\"hi\"}}},"
    "{\"update_id\":8,\"edited_message\":{\"message_id\":3,\"chat\":{\"id\":1,\"type\":"
    "\"private\"},\"date\":2,\"text\":\"x\"}},{\"update_id\":9,\"message\":{\"message_id\":4,"
    "\"chat\":{\"id\":1,\"type\":\"private\"},\"date\":3,\"photo\":[{\"file_id\":\"a\"}]}}]}",
    "{\"ok\":true,\"result\":[]}",
    "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 5\","
    "\"parameters\":{\"retry_after\":5}}",
    "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: terminated by other "
    "getUpdates request; make sure that only one bot instance is running\"}",
    "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: can't use getUpdates method "
    "while webhook is active; use deleteWebhook to delete the webhook first\"}",
    "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group chat was upgraded "
    "to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":-1001234567890}}",
    "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}",
    "{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}",
    "{\"ok\":true,\"result\":{\"id\":999,\"is_bot\":true,\"first_name\":\"J\","
    "\"username\":\"jarvis_bot\"}}",
    "<html><body>502 Bad Gateway</body></html>",
};

#define ENVELOPE_COUNT (sizeof envelopes / sizeof envelopes[0])

static const long statuses[] = {200, 200, 200, 400, 401, 403, 409, 429, 500, 502, 0, -1, 99999};

static void check_parsed_update(json_t *update)
{
    struct parsed_update parsed;
    memset(&parsed, 0x5A, sizeof parsed);
    telegram_parse_update(update, 999, &parsed);
    updates_parsed++;
    assert_true(parsed.update_id == -1 || parsed.update_id >= 0);
    switch (parsed.kind) {
    case UPDATE_TEXT:
        assert_true(parsed.update_id >= 0);
        assert_int_equal(parsed.message.update_id, parsed.update_id);
        assert_non_null(parsed.message.text);
        assert_non_null(parsed.message.chat_type);
        assert_non_null(parsed.message.user_name);
        assert_true(parsed.message.is_reply_to_bot == 0 || parsed.message.is_reply_to_bot == 1);
        break;
    case UPDATE_IGNORED:
        assert_true(parsed.update_id >= 0);
        assert_non_null(parsed.ignored_kind);
        break;
    case UPDATE_BAD:
        assert_true(parsed.problem[0] != '\0');
        assert_true(fuzz_is_one_line(parsed.problem, sizeof parsed.problem));
        break;
    default:
        fail_msg("kind %d outside the enum", (int)parsed.kind);
    }
}

/* The contract of telegram_classify, then every update of an OK batch. */
static void check_classified(long status, const fuzz_text *body)
{
    struct telegram_result result;
    telegram_classify(status, body->data, body->length, &result);
    assert_true(result.outcome >= TELEGRAM_OK && result.outcome <= TELEGRAM_TRANSIENT);
    outcome_counts[result.outcome]++;
    assert_true(fuzz_is_one_line(result.description, sizeof result.description));
    if (result.outcome == TELEGRAM_OK) {
        assert_non_null(result.value);
        if (json_is_array(result.value)) {
            size_t index;
            json_t *update;
            json_array_foreach(result.value, index, update)
                check_parsed_update(update);
        }
    } else {
        assert_null(result.value);
        assert_true(result.description[0] != '\0');
    }
    assert_true(result.retry_after_s >= 0 && result.retry_after_s <= 86400);
    if (result.outcome == TELEGRAM_RETRY_AFTER)
        assert_true(result.retry_after_s >= 1);
    if (result.outcome == TELEGRAM_MIGRATED)
        assert_true(result.migrate_to_chat_id != 0);
    telegram_result_release(&result);
    assert_null(result.value);
}

static void test_mutated_envelopes(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text body = {0};
    fuzz_seed(&rng, 0x7E1E6001);
    for (int i = 0; i < ITERATIONS; i++) {
        if (fuzz_one_in(&rng, 3)) {
            fuzz_mutated_copy(&rng, &body, envelopes, ENVELOPE_COUNT, 4);
        } else {
            const char *envelope = envelopes[fuzz_below(&rng, ENVELOPE_COUNT)];
            fuzz_set(&body, envelope, strlen(envelope));
            for (size_t n = 1 + fuzz_below(&rng, 3); n > 0; n--)
                fuzz_mutate_json_value(&rng, &body);
            if (fuzz_one_in(&rng, 4))
                fuzz_mutate_once(&rng, &body, envelopes, ENVELOPE_COUNT);
        }
        check_classified(statuses[fuzz_below(&rng, sizeof statuses / sizeof statuses[0])], &body);
    }
    fuzz_free(&body);
    for (int outcome = TELEGRAM_OK; outcome <= TELEGRAM_TRANSIENT; outcome++)
        if (outcome_counts[outcome] < 5)
            fail_msg("outcome %d reached only %d times", outcome, outcome_counts[outcome]);
    assert_true(updates_parsed > ITERATIONS / 10);
}

static void test_random_bodies(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text body = {0};
    fuzz_seed(&rng, 0x7E1E6002);
    for (int i = 0; i < ITERATIONS; i++) {
        fuzz_random_bytes(&rng, &body, fuzz_below(&rng, 300), 1);
        check_classified(statuses[fuzz_below(&rng, sizeof statuses / sizeof statuses[0])], &body);
    }
    struct telegram_result result;
    telegram_classify(200, NULL, 0, &result);
    assert_int_equal(result.outcome, TELEGRAM_TRANSIENT);
    fuzz_free(&body);
}

/* A JSON value of a random type, sometimes the expected one. */
static json_t *random_value(fuzz_rng *rng, int depth)
{
    static const char *const strings[] = {"private", "group", "", "/ping", "\xC3\xA9",
                                          "a\nb", "supergroup", "channel"};
    switch (fuzz_below(rng, depth > 3 ? 7 : 9)) {
    case 0: return json_null();
    case 1: return json_true();
    case 2: return json_integer((json_int_t)fuzz_next(rng));
    case 3: return json_integer(fuzz_one_in(rng, 2) ? INT64_MIN : INT64_MAX);
    case 4: return json_real(fuzz_one_in(rng, 2) ? 1e308 : -0.5);
    case 5: return json_string(strings[fuzz_below(rng, sizeof strings / sizeof strings[0])]);
    case 6: return json_integer((json_int_t)fuzz_below(rng, 2000) - 1000);
    case 7: {
        json_t *array = json_array();
        for (size_t n = fuzz_below(rng, 3); n > 0; n--)
            json_array_append_new(array, random_value(rng, depth + 1));
        return array;
    }
    default: {
        json_t *object = json_object();
        json_object_set_new(object, "id", random_value(rng, depth + 1));
        return object;
    }
    }
}

/* Sets key to either a plausible value (made by good) or a random one. */
static void set_member(fuzz_rng *rng, json_t *object, const char *key, json_t *good)
{
    size_t choice = fuzz_below(rng, 8);
    if (choice == 0) { /* absent */
        json_decref(good);
        return;
    }
    if (choice == 1) {
        json_decref(good);
        good = random_value(rng, 0);
    }
    json_object_set_new(object, key, good);
}

static json_t *generated_update(fuzz_rng *rng)
{
    json_t *chat = json_object();
    set_member(rng, chat, "id", json_integer(-1001234567890LL));
    set_member(rng, chat, "type", json_string("supergroup"));
    json_t *from = json_object();
    set_member(rng, from, "id", json_integer(999));
    set_member(rng, from, "username", json_string("ann"));
    set_member(rng, from, "first_name", json_string("Ann"));
    json_t *reply = json_object();
    set_member(rng, reply, "from", json_incref(from));
    json_t *message = json_object();
    set_member(rng, message, "chat", chat);
    set_member(rng, message, "from", from);
    set_member(rng, message, "message_id", json_integer(42));
    set_member(rng, message, "text", json_string("hello /ping"));
    set_member(rng, message, "reply_to_message", reply);
    if (fuzz_one_in(rng, 6))
        json_object_set_new(message, "photo", json_array());
    json_t *update = json_object();
    set_member(rng, update, "update_id",
               json_integer(fuzz_one_in(rng, 4) ? INT64_MAX : (json_int_t)fuzz_below(rng, 1000)));
    set_member(rng, update, fuzz_one_in(rng, 5) ? "channel_post" : "message", message);
    return update;
}

static void test_generated_updates(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_seed(&rng, 0x7E1E6003);
    int kinds[3] = {0};
    for (int i = 0; i < ITERATIONS; i++) {
        json_t *update = generated_update(&rng);
        check_parsed_update(update);
        struct parsed_update parsed;
        telegram_parse_update(update, 999, &parsed);
        kinds[parsed.kind]++;
        json_decref(update);
    }
    /* the generator reaches every outcome */
    assert_true(kinds[UPDATE_TEXT] > 10 && kinds[UPDATE_IGNORED] > 10 && kinds[UPDATE_BAD] > 10);
    check_parsed_update(NULL);
}

/* Deep nesting and huge numbers as whole bodies and inside an update. */
static void test_deep_nesting_and_huge_numbers(void **state)
{
    (void)state;
    fuzz_text body = {0};
    static const char *const openers[] = {"[", "{\"a\":", "{\"ok\":true,\"result\":["};
    for (size_t kind = 0; kind < 3; kind++) {
        fuzz_clear(&body);
        for (int depth = 0; depth < 20000; depth++)
            fuzz_append_string(&body, openers[kind == 2 ? 0 : kind]);
        if (kind == 2)
            fuzz_insert(&body, 0, openers[2], strlen(openers[2]));
        check_classified(200, &body);
    }
    static const char *const numbers[] = {
        "{\"ok\":true,\"result\":[{\"update_id\":99999999999999999999999,\"message\":{}}]}",
        "{\"ok\":true,\"result\":[{\"update_id\":-1,\"message\":{}}]}",
        "{\"ok\":true,\"result\":[{\"update_id\":1e400}]}",
        "{\"ok\":true,\"result\":[{\"update_id\":9223372036854775807,\"message\":{\"chat\":"
        "{\"id\":-9223372036854775808,\"type\":\"private\"},\"message_id\":0,\"text\":\"\"}}]}",
        "{\"ok\":false,\"error_code\":99999999999999999999,\"parameters\":{\"retry_after\":"
        "1e300}}",
        "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":-5}}",
        "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":9223372036854775807}}",
        "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":0.25}}",
        "{\"ok\":false,\"error_code\":400,\"description\":\"a\\nb\\rc\\u0000d\"}",
        /* found by test_mutated_envelopes: an empty description gave an empty reason */
        "{\"ok\":false,\"error_code\":400,\"description\":\"\"}",
        /* found by test_mutated_envelopes: a negative retry_after came back as is */
        "{\"ok\":false,\"error_code\":400,\"parameters\":{\"retry_after\":-1}}",
        "{\"ok\":false,\"error_code\":403,\"parameters\":{\"retry_after\":"
        "-9223372036854775808}}",
        "{\"ok\":true,\"result\":[{\"update_id\":1,\"message\":{\"chat\":{\"id\":1,\"type\":"
        "\"private\"},\"message_id\":1,\"text\":\"\\ud800 lone \\udfff\"}}]}",
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        fuzz_set(&body, numbers[i], strlen(numbers[i]));
        check_classified(i < 4 ? 200 : 429, &body);
        check_classified(400, &body);
    }
    fuzz_free(&body);
}

static void check_sanitized(const fuzz_text *input)
{
    size_t out_length = 0, replaced = 0;
    char *clean = telegram_sanitize_utf8(input->data, input->length, &out_length, &replaced);
    assert_non_null(clean);
    assert_true(fuzz_is_valid_utf8(clean, out_length));
    assert_int_equal(clean[out_length], '\0');
    assert_true(out_length <= input->length * 3);
    if (fuzz_is_valid_utf8(input->data, input->length) &&
        strstr(input->data, "\\u") == NULL) {
        assert_int_equal(replaced, 0);
        assert_int_equal(out_length, input->length);
        assert_memory_equal(clean, input->data, input->length);
    }
    free(clean);
}

static void test_sanitize_utf8(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text text = {0};
    fuzz_seed(&rng, 0x7E1E6004);
    static const char *const words[] = {"hello", "\\ud83d\\ude80", "\\\\ud800", "\xE2\x82\xAC",
                                        "\\u", "\\ud800\\u", "\\udbff\\udfff"};
    for (int i = 0; i < ITERATIONS; i++) {
        if (fuzz_one_in(&rng, 2))
            fuzz_random_bytes(&rng, &text, fuzz_below(&rng, 200), 1);
        else
            fuzz_random_chat(&rng, &text, words, sizeof words / sizeof words[0],
                             fuzz_below(&rng, 30));
        check_sanitized(&text);
    }
    fuzz_set(&text, "", 0);
    check_sanitized(&text);
    fuzz_free(&text);
}

static int quiet_log(void **state)
{
    (void)state;
    return log_open("/dev/null", LOG_ERROR);
}

static int close_log(void **state)
{
    (void)state;
    log_close();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutated_envelopes),
        cmocka_unit_test(test_random_bodies),
        cmocka_unit_test(test_generated_updates),
        cmocka_unit_test(test_deep_nesting_and_huge_numbers),
        cmocka_unit_test(test_sanitize_utf8),
    };
    return cmocka_run_group_tests(tests, quiet_log, close_log);
}
