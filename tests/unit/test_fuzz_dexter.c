/* Fuzz-style tests of dexter_finance's input side: the question parser on
 * random and mutated chat text, the token map parser on mutated specs, and
 * the CoinGecko simple/price and market_chart validators on mutated real
 * shapes: every answer within the documented set, numbers in range,
 * reasons one line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dexter_finance/intent.h"
#include "dexter_finance/market.h"
#include "fuzz_input.h"

#define ITERATIONS 3000

static const char *const questions[] = {
    "Is SOL bullish right now?", "what's the price of BTC?", "how did ETH do this week?",
    "SOL vs ETH over 30 days", "$BONK 24h", "should I buy $PEPE", "ETH 30d",
    "compare bitcoin against ether for 12 months", "price of dogwifcoin",
    "is it a good time to sell", "wen moon", "@jarvis_bot SOL?", "how is the market today",
    "jupiter-exchange-solana price 99999999999999999999d", "XRP 100000y", "BTC 0d", "ADA -5 days",
};

static const char *const question_words[] = {
    "is", "SOL", "$sol", "btc", "ETH", "vs", "price", "how", "did", "do", "7d", "24h", "30",
    "days", "week", "bullish", "bearish", "of", "about", "USDC", "$XYZ", "FOO", "moon", "?",
    "jupiter", "100000", "hours", "12", "mo", "ytd", "don't", "what's", "@bot",
};

static void check_intent(const dexter_token_map *map, const char *text)
{
    dexter_intent intent;
    memset(&intent, 0x5A, sizeof intent);
    dexter_parse_status status = dexter_parse_question(text, map, &intent);
    assert_true(status >= DEXTER_PARSE_OK && status <= DEXTER_PARSE_UNKNOWN_TOKEN);
    assert_true(intent.is_question == 0 || intent.is_question == 1);
    assert_true(intent.is_request == 0 || intent.is_request == 1);
    size_t unknown_length = strnlen(intent.unknown, sizeof intent.unknown);
    assert_true(unknown_length < sizeof intent.unknown);
    if (status == DEXTER_PARSE_UNKNOWN_TOKEN)
        assert_true(unknown_length > 0);
    if (status != DEXTER_PARSE_OK)
        return;
    assert_true(intent.kind >= DEXTER_INTENT_OUTLOOK && intent.kind <= DEXTER_INTENT_ATH);
    assert_true(intent.token_count >= 1 && intent.token_count <= DEXTER_MAX_TOKENS);
    if (intent.kind == DEXTER_INTENT_COMPARE)
        assert_true(intent.token_count >= 2);
    assert_true(intent.period_hours >= 1 && intent.period_hours <= 24 * DEXTER_MAX_PERIOD_DAYS);
    assert_true(strnlen(intent.period_note, sizeof intent.period_note) < sizeof intent.period_note);
    for (int i = 0; i < intent.token_count; i++) {
        const dexter_token *token = intent.tokens[i];
        assert_true(token >= map->tokens && token < map->tokens + map->count);
    }
    for (int i = 0; i < intent.token_count; i++)
        for (int j = i + 1; j < intent.token_count; j++)
            assert_ptr_not_equal(intent.tokens[i], intent.tokens[j]);
    assert_true(intent.period_days >= 1 && intent.period_days <= DEXTER_MAX_PERIOD_DAYS);
    char label[32];
    dexter_period_label(intent.period_days, label, sizeof label);
    assert_true(label[0] != '\0');
}

static void test_question_parser(void **state)
{
    (void)state;
    dexter_token_map map = {0};
    char err[160];
    assert_int_equal(dexter_token_map_add(&map, dexter_default_tokens, err, sizeof err), 0);
    fuzz_rng rng;
    fuzz_text text = {0};
    fuzz_seed(&rng, 0xDE7E4001);
    int statuses[4] = {0};
    for (int i = 0; i < ITERATIONS; i++) {
        switch (fuzz_below(&rng, 4)) {
        case 0:
            fuzz_random_bytes(&rng, &text, fuzz_below(&rng, 150), 0);
            break;
        case 1:
            fuzz_mutated_copy(&rng, &text, questions, sizeof questions / sizeof questions[0], 3);
            break;
        default:
            fuzz_random_chat(&rng, &text, question_words,
                             sizeof question_words / sizeof question_words[0],
                             fuzz_below(&rng, 14));
            break;
        }
        check_intent(&map, text.data);
        dexter_intent intent;
        statuses[dexter_parse_question(text.data, &map, &intent)]++;
    }
    for (int s = 0; s < 4; s++) /* the inputs reach every status */
        assert_true(statuses[s] > 20);
    /* more words than the parser keeps, and one 64 KB word */
    fuzz_clear(&text);
    for (int n = 0; n < 5000; n++)
        fuzz_append_string(&text, n % 97 == 0 ? "SOL vs ETH " : "x ");
    check_intent(&map, text.data);
    fuzz_clear(&text);
    for (int n = 0; n < 65536; n++)
        fuzz_append(&text, "a", 1);
    check_intent(&map, text.data);
    check_intent(&map, "");
    dexter_intent intent;
    assert_int_equal(dexter_parse_question(NULL, &map, &intent), DEXTER_PARSE_NOT_FINANCE);
    dexter_token_map_free(&map);
    fuzz_free(&text);
}

static void test_token_map_parser(void **state)
{
    (void)state;
    static const char *const specs[] = {
        dexter_default_tokens, "PEPE:pepe", "SOL:solana:sol:solana-token", "A:b:c:d:e:f:g",
        "SOL:", ":solana", "SOL:sol ana", "TOOLONGSYMBOLNAME1:x", ",,,", "",
    };
    fuzz_rng rng;
    fuzz_text spec = {0};
    fuzz_seed(&rng, 0xDE7E4002);
    for (int i = 0; i < ITERATIONS; i++) {
        fuzz_mutated_copy(&rng, &spec, specs, sizeof specs / sizeof specs[0], 4);
        dexter_token_map map = {0};
        char err[200];
        memset(err, 'x', sizeof err);
        int result = dexter_token_map_add(&map, spec.data, err, sizeof err);
        if (result != 0) {
            assert_int_equal(result, -1);
            assert_int_equal(map.count, 0); /* a bad spec leaves the map as it was */
            if (!fuzz_is_one_line(err, sizeof err))
                fail_msg("not one line: '%.*s'", (int)sizeof err, err);
            continue;
        }
        for (size_t t = 0; t < map.count; t++) {
            const dexter_token *token = &map.tokens[t];
            size_t length = strlen(token->symbol);
            assert_true(length >= 1 && length < DEXTER_SYMBOL_MAX);
            assert_true(strlen(token->provider_id) >= 1);
            assert_true(token->alias_count >= 0 && token->alias_count <= DEXTER_ALIASES_PER_TOKEN);
            assert_ptr_equal(dexter_token_lookup(&map, token->symbol), token);
        }
        dexter_token_map_free(&map);
    }
    fuzz_free(&spec);
}

static const char *const price_bodies[] = {
    "{\"solana\":{\"usd\":142.6,\"usd_market_cap\":79143000000,\"usd_24h_vol\":3165720000,"
    "\"usd_24h_change\":1.81707,\"last_updated_at\":1763596800}}",
    "{\"solana\":{\"usd\":1.052e-05,\"usd_market_cap\":null,\"usd_24h_vol\":null,"
    "\"usd_24h_change\":null,\"last_updated_at\":1763596800.0}}",
    "{\"status\":{\"error_code\":429,\"error_message\":\"You've exceeded the Rate Limit.\"}}",
    "{\"error\":\"coin not found\"}",
    "{}",
};

static const char *const chart_bodies[] = {
    "{\"prices\":[[1761004800000,99885.19],[1761008400000,99662.42],[1761012000000,100008.2],"
    "[1761015600000,null],[1761019200000,101636.6]],\"market_caps\":[[1761004800000,1]],"
    "\"total_volumes\":[[1761004800000,2]]}",
    "{\"prices\":[[1761004800000.0,1.5],[1761008400000,2.5]]}",
    "{\"status\":{\"error_code\":10002,\"error_message\":\"API Key Missing\"}}",
    "{\"prices\":[]}",
};

static int check_quote(const fuzz_text *body)
{
    dexter_quote quote;
    char err[160];
    memset(err, 'x', sizeof err);
    int result = dexter_parse_simple_price(body->data, body->length, "solana", &quote, err,
                                           sizeof err);
    if (result != 0) {
        assert_int_equal(result, -1);
        assert_true(err[0] != '\0');
        if (!fuzz_is_one_line(err, sizeof err))
            fail_msg("not one line: '%.*s'", (int)sizeof err, err);
        return -1;
    }
    assert_true(isfinite(quote.price) && quote.price > 0);
    if (quote.has_market_cap)
        assert_true(isfinite(quote.market_cap) && quote.market_cap >= 0);
    if (quote.has_volume)
        assert_true(isfinite(quote.volume_24h) && quote.volume_24h >= 0);
    if (quote.has_change_24h)
        assert_true(isfinite(quote.change_24h) && quote.change_24h > -100.0);
    assert_true(quote.last_updated_s == 0 ||
                (quote.last_updated_s >= 1000000000LL && quote.last_updated_s < 100000000000LL));
    return 0;
}

static int check_chart(const fuzz_text *body)
{
    dexter_series series;
    char err[160];
    memset(err, 'x', sizeof err);
    int result = dexter_parse_market_chart(body->data, body->length, &series, err, sizeof err);
    if (result != 0) {
        assert_int_equal(result, -1);
        assert_null(series.points);
        assert_int_equal(series.count, 0);
        assert_true(err[0] != '\0');
        if (!fuzz_is_one_line(err, sizeof err))
            fail_msg("not one line: '%.*s'", (int)sizeof err, err);
        return -1;
    }
    assert_true(series.count >= 2);
    for (size_t i = 0; i < series.count; i++) {
        assert_true(isfinite(series.points[i].price) && series.points[i].price > 0);
        assert_true(series.points[i].time_ms >= 100000000000LL &&
                    series.points[i].time_ms < 100000000000000LL);
        if (i > 0)
            assert_true(series.points[i].time_ms > series.points[i - 1].time_ms);
    }
    dexter_series_free(&series);
    return 0;
}

/* Mostly value-level mutations (the JSON stays JSON), some raw ones. */
static void mutated_json(fuzz_rng *rng, fuzz_text *body, const char *const *corpus,
                         size_t count)
{
    if (fuzz_one_in(rng, 4)) {
        fuzz_mutated_copy(rng, body, corpus, count, 3);
        return;
    }
    const char *text = corpus[fuzz_below(rng, count)];
    fuzz_set(body, text, strlen(text));
    for (size_t n = 1 + fuzz_below(rng, 2); n > 0; n--)
        fuzz_mutate_json_value(rng, body);
}

static void test_price_parser(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text body = {0};
    fuzz_seed(&rng, 0xDE7E4003);
    int accepted = 0;
    for (int i = 0; i < ITERATIONS; i++) {
        if (fuzz_one_in(&rng, 8))
            fuzz_random_bytes(&rng, &body, fuzz_below(&rng, 100), 1);
        else
            mutated_json(&rng, &body, price_bodies, sizeof price_bodies / sizeof price_bodies[0]);
        accepted += check_quote(&body) == 0;
    }
    assert_true(accepted > ITERATIONS / 20);
    dexter_quote quote;
    char err[64];
    assert_int_equal(dexter_parse_simple_price(NULL, 0, "solana", &quote, err, sizeof err), -1);
    fuzz_free(&body);
}

static void test_chart_parser(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text body = {0};
    fuzz_seed(&rng, 0xDE7E4004);
    int accepted = 0;
    for (int i = 0; i < ITERATIONS; i++) {
        if (fuzz_one_in(&rng, 8))
            fuzz_random_bytes(&rng, &body, fuzz_below(&rng, 100), 1);
        else
            mutated_json(&rng, &body, chart_bodies, sizeof chart_bodies / sizeof chart_bodies[0]);
        accepted += check_chart(&body) == 0;
    }
    assert_true(accepted > ITERATIONS / 20);
    fuzz_free(&body);
}

/* Found by test_token_map_parser: the entry was quoted raw, line breaks
 * and all (a CR can sit inside a plugins.ini value). */
static void test_token_map_regressions(void **state)
{
    (void)state;
    dexter_token_map map = {0};
    char err[200];
    assert_int_equal(dexter_token_map_add(&map, "SOL:so!!\r\x1d", err, sizeof err), -1);
    assert_true(fuzz_is_one_line(err, sizeof err));
    assert_non_null(strstr(err, "bad symbol or provider id in entry \"SOL:so!!"));
    assert_int_equal(map.count, 0);
}

/* Times beyond int64_t: converting them was undefined behaviour (GCC's
 * -fsanitize=undefined does not check float-to-integer casts, so this was
 * found by reading the fuzzed path); they must be refused as times. */
static void test_chart_time_regressions(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"prices\":[[1e300,1.0],[1761008400000,2.5]]}",
        "{\"prices\":[[-1e300,1.0],[1761008400000,2.5]]}",
        "{\"prices\":[[1761004800000,1.0],[1.5e19,2.5]]}",
        "{\"prices\":[[1761004800000,1.0],[9223372036854775807,2.5]]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        dexter_series series;
        char err[160];
        assert_int_equal(dexter_parse_market_chart(bodies[i], strlen(bodies[i]), &series, err,
                                                   sizeof err),
                         -1);
        assert_non_null(strstr(err, "time is not in milliseconds"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_question_parser),
        cmocka_unit_test(test_token_map_parser),
        cmocka_unit_test(test_token_map_regressions),
        cmocka_unit_test(test_price_parser),
        cmocka_unit_test(test_chart_parser),
        cmocka_unit_test(test_chart_time_regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
