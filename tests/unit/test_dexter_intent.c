/* Unit tests for dexter_finance question parsing: the token map (defaults,
 * configured entries, bad entries) and a table of phrasings with the
 * expected intent, tokens and period. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dexter_finance/intent.h"

typedef struct phrasing {
    const char *text;
    dexter_parse_status status;
    dexter_intent_kind kind; /* when DEXTER_PARSE_OK */
    const char *first;       /* symbol, or the unknown word */
    const char *second;      /* comparison only */
    int period_days;         /* 0: do not check */
} phrasing;

#define OK DEXTER_PARSE_OK
#define NOT_FINANCE DEXTER_PARSE_NOT_FINANCE
#define NO_TOKEN DEXTER_PARSE_NO_TOKEN
#define UNKNOWN DEXTER_PARSE_UNKNOWN_TOKEN
#define OUTLOOK DEXTER_INTENT_OUTLOOK
#define PRICE DEXTER_INTENT_PRICE
#define CHANGE DEXTER_INTENT_CHANGE
#define COMPARE DEXTER_INTENT_COMPARE

static const phrasing table[] = {
    /* outlook */
    {"Is SOL bullish right now?", OK, OUTLOOK, "SOL", NULL, 30},
    {"is sol bullish", OK, OUTLOOK, "SOL", NULL, 30},
    {"should I be worried about $BONK?", OK, OUTLOOK, "BONK", NULL, 0},
    {"Is Solana bearish?", OK, OUTLOOK, "SOL", NULL, 0},
    {"what's the outlook for ETH", OK, OUTLOOK, "ETH", NULL, 0},
    {"should i buy bitcoin", OK, OUTLOOK, "BTC", NULL, 0},
    {"Is it time to sell $eth?", OK, OUTLOOK, "ETH", NULL, 0},
    {"@jarvis_bot is BTC going to moon?", OK, OUTLOOK, "BTC", NULL, 0},
    {"SOL?", OK, OUTLOOK, "SOL", NULL, 0},
    {"SOL", OK, OUTLOOK, "SOL", NULL, 0},
    {"how does ether look", OK, OUTLOOK, "ETH", NULL, 0},
    {"DOGE sentiment", OK, OUTLOOK, "DOGE", NULL, 0},
    {"is $SOL safe to hold?", OK, OUTLOOK, "SOL", NULL, 0},
    {"Is SOL bullish this week?", OK, OUTLOOK, "SOL", NULL, 7},
    /* price */
    {"what's the price of BTC?", OK, PRICE, "BTC", NULL, 0},
    {"price of btc", OK, PRICE, "BTC", NULL, 0},
    {"How much is ETH", OK, PRICE, "ETH", NULL, 0},
    {"$SOL price", OK, PRICE, "SOL", NULL, 0},
    {"what is solana trading at", OK, PRICE, "SOL", NULL, 0},
    {"BONK price?", OK, PRICE, "BONK", NULL, 0},
    {"how much does one bitcoin cost", OK, PRICE, "BTC", NULL, 0},
    {"Ethereum value", OK, PRICE, "ETH", NULL, 0},
    /* change over a period */
    {"how did ETH do this week?", OK, CHANGE, "ETH", NULL, 7},
    {"SOL 30d", OK, CHANGE, "SOL", NULL, 30},
    {"how is BTC doing today", OK, CHANGE, "BTC", NULL, 1},
    {"SOL performance over 14 days", OK, CHANGE, "SOL", NULL, 14},
    {"eth 24h", OK, CHANGE, "ETH", NULL, 1},
    {"btc change 7d", OK, CHANGE, "BTC", NULL, 7},
    {"how did solana perform this month", OK, CHANGE, "SOL", NULL, 30},
    {"$BONK over 3 days", OK, CHANGE, "BONK", NULL, 3},
    {"is ETH up or down", OK, CHANGE, "ETH", NULL, 1},
    {"price of SOL over the last 2 weeks", OK, CHANGE, "SOL", NULL, 14},
    {"how did BTC do over 1000 days", OK, CHANGE, "BTC", NULL, DEXTER_MAX_PERIOD_DAYS},
    {"ETH 48h", OK, CHANGE, "ETH", NULL, 2},
    /* comparison */
    {"SOL vs ETH over 30 days", OK, COMPARE, "SOL", "ETH", 30},
    {"ETH vs SOL this week", OK, COMPARE, "ETH", "SOL", 7},
    {"compare bitcoin and ethereum", OK, COMPARE, "BTC", "ETH", 7},
    {"$SOL versus $BTC 90d", OK, COMPARE, "SOL", "BTC", 90},
    {"which did better, sol or eth, this month?", OK, COMPARE, "SOL", "ETH", 30},
    {"BTC against ETH today", OK, COMPARE, "BTC", "ETH", 1},
    /* unknown tokens */
    {"should I be worried about $XYZ?", UNKNOWN, OUTLOOK, "XYZ", NULL, 0},
    {"Is FLOKI bullish?", NO_TOKEN, OUTLOOK, NULL, NULL, 0}, /* unknown capitals are not tokens */
    {"what's the price of gold", NO_TOKEN, OUTLOOK, NULL, NULL, 0},
    {"SOL vs FOO", UNKNOWN, OUTLOOK, "FOO", NULL, 0},
    {"is $SOL better than $NOPE", UNKNOWN, OUTLOOK, "NOPE", NULL, 0},
    /* finance words without a token */
    {"is the market bullish?", NO_TOKEN, OUTLOOK, NULL, NULL, 0},
    {"what's the price?", NO_TOKEN, OUTLOOK, NULL, NULL, 0},
    /* not finance */
    {"hello there", NOT_FINANCE, OUTLOOK, NULL, NULL, 0},
    {"good morning everyone!", NOT_FINANCE, OUTLOOK, NULL, NULL, 0},
    {"who are you?", NOT_FINANCE, OUTLOOK, NULL, NULL, 0},
    {"I had lunch with my friend from solana beach", NOT_FINANCE, OUTLOOK, NULL, NULL, 0},
    {"LOL", NOT_FINANCE, OUTLOOK, NULL, NULL, 0},
    {"", NOT_FINANCE, OUTLOOK, NULL, NULL, 0},
};

static dexter_token_map default_map(void)
{
    dexter_token_map map = {0};
    char err[200];
    assert_int_equal(dexter_token_map_add(&map, dexter_default_tokens, err, sizeof err), 0);
    return map;
}

static void test_phrasing_table(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    size_t rows = sizeof table / sizeof table[0];
    assert_true(rows >= 40);
    int failures = 0;
    for (size_t i = 0; i < rows; i++) {
        const phrasing *row = &table[i];
        dexter_intent intent;
        dexter_parse_status status = dexter_parse_question(row->text, &map, &intent);
        int ok = status == row->status;
        if (ok && status == OK) {
            ok = intent.kind == row->kind && intent.token_count >= 1 &&
                 strcmp(intent.tokens[0]->symbol, row->first) == 0;
            if (ok && row->second)
                ok = intent.token_count == 2 && strcmp(intent.tokens[1]->symbol, row->second) == 0;
            if (ok && row->period_days)
                ok = intent.period_days == row->period_days;
        }
        if (ok && status == UNKNOWN)
            ok = strcmp(intent.unknown, row->first) == 0;
        if (!ok) {
            failures++;
            fprintf(stderr, "row %zu \"%s\": status %d kind %d tokens %d (%s) period %d unknown '%s'\n",
                    i, row->text, status, intent.kind, intent.token_count,
                    intent.token_count ? intent.tokens[0]->symbol : "-", intent.period_days,
                    intent.unknown);
        }
    }
    dexter_token_map_free(&map);
    assert_int_equal(failures, 0);
}

/* A plain message is answered only when it asks (is_question) or requests
 * data (is_request); a finance-flavoured opinion is chat. */
static void test_questions_and_requests_versus_opinions(void **unused)
{
    (void)unused;
    static const struct {
        const char *text;
        dexter_parse_status status;
        int answered;
    } rows[] = {
        {"Is SOL bullish right now?", OK, 1},
        {"is sol bullish right now", OK, 1},    /* an interrogative opening */
        {"@jarvis_bot should I buy BTC", OK, 1}, /* the mention is skipped */
        {"price of btc", OK, 1},
        {"SOL vs ETH over 30 days", OK, 1},
        {"ETH 30d", OK, 1},
        {"SOL", OK, 1},
        {"how did ETH do this week", OK, 1},
        {"BTC dropped 5% this week", OK, 1},     /* a period, no outlook word */
        {"$FLOKI price", UNKNOWN, 1},
        {"is $FLOKI bullish", UNKNOWN, 1},
        {"SOL to the moon 🚀", OK, 0},
        {"SOL is pumping today", OK, 0},
        {"SOL is going up", OK, 0},
        {"bitcoin looking bullish", OK, 0},
        {"$FLOKI to the moon", UNKNOWN, 0},
    };
    dexter_token_map map = default_map();
    int failures = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        dexter_intent intent;
        dexter_parse_status status = dexter_parse_question(rows[i].text, &map, &intent);
        int answered = intent.is_question || intent.is_request;
        if (status != rows[i].status || answered != rows[i].answered) {
            fprintf(stderr, "  \"%s\": status %d question %d request %d\n", rows[i].text, status,
                    intent.is_question, intent.is_request);
            failures++;
        }
    }
    dexter_token_map_free(&map);
    assert_int_equal(failures, 0);
}

static void test_null_input_is_not_finance(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    dexter_intent intent;
    assert_int_equal(dexter_parse_question(NULL, &map, &intent), NOT_FINANCE);
    assert_int_equal(dexter_parse_question("Is SOL bullish?", NULL, &intent), NOT_FINANCE);
    dexter_token_map_free(&map);
}

static void test_lookup_by_symbol_cashtag_name_alias(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    assert_string_equal(dexter_token_lookup(&map, "sol")->provider_id, "solana");
    assert_string_equal(dexter_token_lookup(&map, "$SOL")->provider_id, "solana");
    assert_string_equal(dexter_token_lookup(&map, "Solana")->symbol, "SOL");
    assert_string_equal(dexter_token_lookup(&map, "ETHER")->symbol, "ETH");
    assert_string_equal(dexter_token_lookup(&map, "jupiter")->provider_id,
                        "jupiter-exchange-solana");
    assert_null(dexter_token_lookup(&map, "gold"));
    assert_null(dexter_token_lookup(&map, "$"));
    assert_null(dexter_token_lookup(&map, ""));
    dexter_token_map_free(&map);
}

static void test_configured_tokens_extend_and_override(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    size_t before = map.count;
    char err[200] = "";
    assert_int_equal(
        dexter_token_map_add(&map, " FLOKI:floki:frog , SOL:solana-wrapped:sunny ", err, sizeof err),
        0);
    assert_int_equal(map.count, before + 1);
    assert_string_equal(dexter_token_lookup(&map, "frog")->symbol, "FLOKI");
    assert_string_equal(dexter_token_lookup(&map, "SOL")->provider_id, "solana-wrapped");
    assert_string_equal(dexter_token_lookup(&map, "sunny")->symbol, "SOL");
    dexter_intent intent;
    assert_int_equal(dexter_parse_question("Is FLOKI bullish?", &map, &intent), OK);
    assert_string_equal(intent.tokens[0]->provider_id, "floki");
    dexter_token_map_free(&map);
}

static void test_bad_token_entries_are_refused_whole(void **unused)
{
    (void)unused;
    static const char *const bad[] = {
        "SOL",                 /* no provider id */
        "SOL:",                /* empty provider id */
        "S OL:solana",         /* space in symbol */
        "SOL:sol ana",         /* space in id */
        "SOL:solana:a:b:c:d:e",/* too many aliases */
        "VERYLONGSYMBOLNAME123:x",
        "OK:fine, BAD",        /* one bad entry spoils the batch */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dexter_token_map map = default_map();
        size_t before = map.count;
        char err[200] = "";
        assert_int_equal(dexter_token_map_add(&map, bad[i], err, sizeof err), -1);
        assert_true(strstr(err, "tokens:") != NULL);
        assert_int_equal(map.count, before);
        assert_null(dexter_token_lookup(&map, "OK"));
        dexter_token_map_free(&map);
    }
}

static void test_empty_spec_adds_nothing(void **unused)
{
    (void)unused;
    dexter_token_map map = {0};
    char err[64];
    assert_int_equal(dexter_token_map_add(&map, "", err, sizeof err), 0);
    assert_int_equal(map.count, 0);
    dexter_intent intent;
    assert_int_equal(dexter_parse_question("Is SOL bullish?", &map, &intent), NO_TOKEN);
    assert_int_equal(dexter_parse_question("Is $SOL bullish?", &map, &intent), UNKNOWN);
    assert_string_equal(intent.unknown, "SOL");
    dexter_token_map_free(&map);
}

static void test_period_labels(void **unused)
{
    (void)unused;
    char label[32];
    dexter_period_label(1, label, sizeof label);
    assert_string_equal(label, "24h");
    dexter_period_label(30, label, sizeof label);
    assert_string_equal(label, "30 days");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phrasing_table),
        cmocka_unit_test(test_questions_and_requests_versus_opinions),
        cmocka_unit_test(test_null_input_is_not_finance),
        cmocka_unit_test(test_lookup_by_symbol_cashtag_name_alias),
        cmocka_unit_test(test_configured_tokens_extend_and_override),
        cmocka_unit_test(test_bad_token_entries_are_refused_whole),
        cmocka_unit_test(test_empty_spec_adds_nothing),
        cmocka_unit_test(test_period_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
