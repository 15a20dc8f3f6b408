/* Wire answers that the real services (or independent implementations of
 * them) may send and our fakes do not: unknown fields, int64 ids, numbers
 * as integers or reals, missing senders, other update kinds, captions,
 * nulls. Each decoder must accept what the documentation allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "dexter_finance/market.h"
#include "grok_weighting/grok_response.h"
#include "transport/telegram/telegram_api.h"
#include "transport/telegram/telegram_update.h"

#define BOT_ID 7123456789LL /* current bot ids need more than 32 bits */

static void classify(long status, const char *body, struct telegram_result *result)
{
    telegram_classify(status, body, strlen(body), result);
}

/* ---- Telegram envelopes ---- */

static void flood_retry_after_as_a_real_number_is_honoured(void **state)
{
    (void)state;
    struct telegram_result result;
    classify(429,
             "{\"ok\":false,\"error_code\":429,\"description\":\"Flood control exceeded. "
             "Retry in 7 seconds\",\"parameters\":{\"retry_after\":7.0}}",
             &result);
    assert_int_equal(result.outcome, TELEGRAM_RETRY_AFTER);
    assert_int_equal(result.retry_after_s, 7);
    telegram_result_release(&result);
    /* a fraction of a second still means "wait", rounded up */
    classify(429, "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":2.2}}",
             &result);
    assert_int_equal(result.retry_after_s, 3);
    telegram_result_release(&result);
}

static void flood_retry_after_with_other_wording_and_extra_fields(void **state)
{
    (void)state;
    struct telegram_result result;
    classify(200,
             "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests\","
             "\"parameters\":{\"retry_after\":12,\"future\":true},\"trace\":\"x\"}",
             &result);
    assert_int_equal(result.outcome, TELEGRAM_RETRY_AFTER);
    assert_int_equal(result.retry_after_s, 12);
    telegram_result_release(&result);
}

static void error_code_wins_over_the_http_status(void **state)
{
    (void)state;
    struct telegram_result result;
    /* HTTP says 200, the envelope says the request was refused */
    classify(200, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not "
                  "found\"}",
             &result);
    assert_int_equal(result.outcome, TELEGRAM_REJECTED);
    assert_int_equal(result.error_code, 400);
    telegram_result_release(&result);
    /* no error_code at all: the HTTP status decides */
    classify(401, "{\"ok\":false,\"description\":\"Unauthorized: invalid token specified\"}",
             &result);
    assert_int_equal(result.outcome, TELEGRAM_UNAUTHORIZED);
    telegram_result_release(&result);
    classify(502, "{\"ok\":false,\"description\":\"Bad Gateway\"}", &result);
    assert_int_equal(result.outcome, TELEGRAM_TRANSIENT);
    telegram_result_release(&result);
}

static void migration_to_a_52_bit_chat_id(void **state)
{
    (void)state;
    struct telegram_result result;
    classify(400,
             "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group chat was "
             "upgraded to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":"
             "-1004503599627370}}",
             &result);
    assert_int_equal(result.outcome, TELEGRAM_MIGRATED);
    assert_true(result.migrate_to_chat_id == -1004503599627370LL);
    telegram_result_release(&result);
}

static void ok_with_extra_fields_keeps_the_result(void **state)
{
    (void)state;
    struct telegram_result result;
    classify(200, "{\"ok\":true,\"result\":[],\"description\":\"fine\",\"extra\":{\"a\":1}}",
             &result);
    assert_int_equal(result.outcome, TELEGRAM_OK);
    assert_true(json_is_array(result.value));
    telegram_result_release(&result);
}

/* ---- Telegram updates ---- */

static void parse(const char *text, struct parsed_update *out, json_t **root)
{
    json_error_t error;
    *root = json_loads(text, 0, &error);
    assert_non_null(*root);
    telegram_parse_update(*root, BOT_ID, out);
}

static void supergroup_reply_to_a_64_bit_bot_with_unknown_fields(void **state)
{
    (void)state;
    struct parsed_update update;
    json_t *root;
    parse("{\"update_id\":912345678,\"future_update_field\":1,\"message\":{\"message_id\":5,"
          "\"date\":1700000000,\"is_topic_message\":false,\"chat\":{\"id\":-1001234567890,"
          "\"type\":\"supergroup\",\"title\":\"T\",\"is_forum\":false},\"from\":{\"id\":"
          "6123456789,\"is_bot\":false,\"first_name\":\"A\",\"is_premium\":true},\"text\":"
          "\"/ask@JarvisBot price\",\"entities\":[{\"offset\":0,\"length\":15,\"type\":"
          "\"bot_command\"}],\"reply_to_message\":{\"message_id\":4,\"date\":1,\"chat\":{\"id\":"
          "-1001234567890,\"type\":\"supergroup\"},\"from\":{\"id\":7123456789,\"is_bot\":true,"
          "\"first_name\":\"J\",\"username\":\"JarvisBot\"},\"text\":\"hi\"}}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_TEXT);
    assert_true(update.update_id == 912345678);
    assert_true(update.message.chat_id == -1001234567890LL);
    assert_true(update.message.user_id == 6123456789LL);
    assert_string_equal(update.message.chat_type, "supergroup");
    assert_string_equal(update.message.text, "/ask@JarvisBot price");
    assert_true(update.message.is_reply_to_bot);
    json_decref(root);
}

static void reply_to_another_user_is_not_a_reply_to_the_bot(void **state)
{
    (void)state;
    struct parsed_update update;
    json_t *root;
    parse("{\"update_id\":1,\"message\":{\"message_id\":5,\"date\":1,\"chat\":{\"id\":-5,"
          "\"type\":\"group\"},\"from\":{\"id\":11,\"is_bot\":false,\"first_name\":\"A\"},"
          "\"text\":\"SOL?\",\"reply_to_message\":{\"message_id\":4,\"date\":1,\"chat\":{\"id\":"
          "-5,\"type\":\"group\"},\"from\":{\"id\":12,\"is_bot\":false,\"first_name\":\"B\"},"
          "\"text\":\"hi\"}}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_TEXT);
    assert_false(update.message.is_reply_to_bot);
    json_decref(root);
}

static void message_without_sender_is_text_from_nobody(void **state)
{
    (void)state;
    struct parsed_update update;
    json_t *root;
    parse("{\"update_id\":2,\"message\":{\"message_id\":5,\"date\":1,\"chat\":{\"id\":-5,"
          "\"type\":\"group\"},\"sender_chat\":{\"id\":-5,\"type\":\"group\"},\"text\":\"hi\"}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_TEXT);
    assert_true(update.message.user_id == 0);
    assert_string_equal(update.message.user_name, "");
    json_decref(root);
}

/* A photo's caption is its text: "/ask price of BTC" under a picture is a
 * command like any other. */
static void captions_are_text(void **state)
{
    (void)state;
    struct parsed_update update;
    json_t *root;
    parse("{\"update_id\":7,\"message\":{\"message_id\":5,\"date\":1,\"chat\":{\"id\":1,"
          "\"type\":\"private\"},\"from\":{\"id\":3,\"is_bot\":false,\"first_name\":\"A\","
          "\"language_code\":\"de\"},\"photo\":[],\"caption\":\"/ask price of BTC\","
          "\"reply_to_message\":{\"message_id\":2,\"date\":1,\"chat\":{\"id\":1,\"type\":"
          "\"private\"},\"caption\":\"the chart\"}}}",
          &update, &root);
    assert_int_equal(update.kind, UPDATE_TEXT);
    assert_string_equal(update.message.text, "/ask price of BTC");
    assert_string_equal(update.message.language_code, "de");
    assert_string_equal(update.message.reply_to_text, "the chart");
    json_decref(root);
}

static void other_update_kinds_are_ignored_not_bad(void **state)
{
    (void)state;
    static const char *const updates[] = {
        "{\"update_id\":3,\"edited_message\":{\"message_id\":5,\"date\":1,\"edit_date\":2,"
        "\"chat\":{\"id\":1,\"type\":\"private\"},\"text\":\"x\"}}",
        "{\"update_id\":4,\"channel_post\":{\"message_id\":5,\"date\":1,\"chat\":{\"id\":"
        "-1009876543210,\"type\":\"channel\"},\"text\":\"x\"}}",
        "{\"update_id\":5,\"callback_query\":{\"id\":\"9\",\"from\":{\"id\":1,\"is_bot\":false,"
        "\"first_name\":\"A\"},\"chat_instance\":\"1\",\"data\":\"d\"}}",
        "{\"update_id\":6,\"my_chat_member\":{\"chat\":{\"id\":-5,\"type\":\"group\"},\"from\":"
        "{\"id\":1,\"is_bot\":false,\"first_name\":\"A\"},\"date\":1,\"old_chat_member\":{},"
        "\"new_chat_member\":{}}}",
        "{\"update_id\":7,\"message\":{\"message_id\":5,\"date\":1,\"chat\":{\"id\":1,\"type\":"
        "\"private\"},\"photo\":[]}}",
        NULL};
    for (size_t i = 0; updates[i] != NULL; i++) {
        struct parsed_update update;
        json_t *root;
        parse(updates[i], &update, &root);
        assert_int_equal(update.kind, UPDATE_IGNORED);
        assert_true(update.update_id == (int64_t)i + 3);
        json_decref(root);
    }
}

/* ---- CoinGecko ---- */

static void simple_price_with_integers_nulls_and_extra_fields(void **state)
{
    (void)state;
    const char *body = "{\"solana\":{\"usd\":150,\"usd_market_cap\":70500000000,"
                       "\"usd_24h_vol\":null,\"usd_24h_change\":null,\"last_updated_at\":"
                       "1711111111,\"usd_eur\":1},\"status_note\":\"x\"}";
    dexter_quote quote;
    char err[160] = "";
    assert_int_equal(dexter_parse_simple_price(body, strlen(body), "solana", &quote, err,
                                               sizeof err),
                     0);
    assert_true(quote.price == 150.0);
    assert_true(quote.has_market_cap && quote.market_cap == 70500000000.0);
    assert_false(quote.has_volume);
    assert_false(quote.has_change_24h);
    assert_true(quote.last_updated_s == 1711111111);
}

static void market_chart_with_integer_prices_and_few_points(void **state)
{
    (void)state;
    const char *body = "{\"prices\":[[1711000000000,150],[1711003600000,151.5],"
                       "[1711007200000,152]],\"market_caps\":[],\"total_volumes\":[]}";
    dexter_series series;
    char err[160] = "";
    assert_int_equal(dexter_parse_market_chart(body, strlen(body), &series, err, sizeof err), 0);
    assert_int_equal(series.count, 3);
    assert_true(series.points[0].price == 150.0 && series.points[2].price == 152.0);
    dexter_series_free(&series);
}

/* ---- xAI ---- */

static void rating_with_integer_numbers_and_extra_fields(void **state)
{
    (void)state;
    const char *body =
        "{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"grok\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        "\"{\\\"score\\\":1,\\\"confidence\\\":0,\\\"summary\\\":\\\"all in\\\"}\","
        "\"refusal\":null,\"reasoning_content\":\"...\"},\"finish_reason\":\"stop\","
        "\"logprobs\":null}],\"usage\":{\"prompt_tokens\":1},\"error\":null,"
        "\"system_fingerprint\":\"fp\"}";
    jv_grok_rating rating;
    memset(&rating, 0, sizeof rating);
    assert_int_equal(grok_parse_rating(200, body, -1, &rating), GROK_OK);
    assert_true(rating.available);
    assert_true(rating.score == 1.0 && rating.confidence == 0.0);
    assert_string_equal(rating.summary, "all in");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flood_retry_after_as_a_real_number_is_honoured),
        cmocka_unit_test(flood_retry_after_with_other_wording_and_extra_fields),
        cmocka_unit_test(error_code_wins_over_the_http_status),
        cmocka_unit_test(migration_to_a_52_bit_chat_id),
        cmocka_unit_test(ok_with_extra_fields_keeps_the_result),
        cmocka_unit_test(supergroup_reply_to_a_64_bit_bot_with_unknown_fields),
        cmocka_unit_test(reply_to_another_user_is_not_a_reply_to_the_bot),
        cmocka_unit_test(message_without_sender_is_text_from_nobody),
        cmocka_unit_test(other_update_kinds_are_ignored_not_bad),
        cmocka_unit_test(captions_are_text),
        cmocka_unit_test(simple_price_with_integers_nulls_and_extra_fields),
        cmocka_unit_test(market_chart_with_integer_prices_and_few_points),
        cmocka_unit_test(rating_with_integer_numbers_and_extra_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
