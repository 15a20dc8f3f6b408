/* Unit tests for the token.registry service over dexter's token map: lookup
 * by every kind of name, the list, near-miss suggestions, the struct_size
 * rule, and that sentiment's fallback list names the same symbols. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <jarvis/plugin.h>

#include "dexter_finance/registry.h"
#include "sentiment/tokens.h"

static dexter_token_map default_map(void)
{
    dexter_token_map map = {0};
    char err[200];
    assert_int_equal(dexter_token_map_add(&map, dexter_default_tokens, err, sizeof err), 0);
    return map;
}

static jv_token_info empty_info(void)
{
    jv_token_info info;
    memset(&info, 0x5a, sizeof info);
    info.struct_size = sizeof info;
    return info;
}

static void test_lookup_reports_how_it_matched(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    jv_token_registry_api api;
    dexter_registry_init(&api, &map);
    static const struct {
        const char *text, *symbol;
        jv_token_match match;
    } rows[] = {
        {"SOL", "SOL", JV_TOKEN_MATCH_SYMBOL},     {" link ", "LINK", JV_TOKEN_MATCH_SYMBOL},
        {"$eth", "ETH", JV_TOKEN_MATCH_CASHTAG},   {"Solana", "SOL", JV_TOKEN_MATCH_NAME},
        {"ether", "ETH", JV_TOKEN_MATCH_ALIAS},    {"dogwifhat", "WIF", JV_TOKEN_MATCH_NAME},
        {"jupiter-exchange-solana", "JUP", JV_TOKEN_MATCH_PROVIDER_ID},
        {"PEPE", "PEPE", JV_TOKEN_MATCH_SYMBOL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        jv_token_info info = empty_info();
        jv_token_match match = 0;
        assert_int_equal(api.lookup(api.context, rows[i].text, &info, &match), JV_OK);
        assert_string_equal(info.symbol, rows[i].symbol);
        assert_int_equal(match, rows[i].match);
    }
    jv_token_info info = empty_info();
    assert_int_equal(api.lookup(api.context, "SOL", &info, NULL), JV_OK);
    assert_string_equal(info.name, "Solana");
    assert_string_equal(info.coingecko_id, "solana");
    assert_int_equal(info.stablecoin, 0);
    assert_int_equal(api.lookup(api.context, "usdc", &info, NULL), JV_OK);
    assert_int_equal(info.stablecoin, 1);
    assert_int_equal(api.lookup(api.context, "SERVER", &info, NULL), JV_E_NOTFOUND);
    assert_int_equal(api.lookup(api.context, NULL, &info, NULL), JV_E_INVAL);
    info.struct_size = 8;
    assert_int_equal(api.lookup(api.context, "SOL", &info, NULL), JV_E_ABI);
    dexter_token_map_free(&map);
}

static void test_list_and_suggestions(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    jv_token_registry_api api;
    dexter_registry_init(&api, &map);
    size_t count = api.count(api.context);
    assert_true(count >= 19);
    jv_token_info info = empty_info();
    assert_int_equal(api.at(api.context, 0, &info), JV_OK);
    assert_string_equal(info.symbol, "BTC");
    assert_int_equal(api.at(api.context, count, &info), JV_E_NOTFOUND);
    static const struct {
        const char *text, *symbol; /* NULL: no suggestion */
    } rows[] = {{"ETHH", "ETH"},      {"$BTCC", "BTC"},   {"solanna", "SOL"}, {"etherium", "ETH"},
                {"dogecoinn", "DOGE"}, {"SERVER", NULL},  {"ETH", NULL},      {"ok", NULL},
                {"market", NULL},    {"chainlnk", "LINK"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        info = empty_info();
        int rc = api.suggest(api.context, rows[i].text, &info);
        if (!rows[i].symbol) {
            assert_int_equal(rc, JV_E_NOTFOUND);
            continue;
        }
        assert_int_equal(rc, JV_OK);
        assert_string_equal(info.symbol, rows[i].symbol);
    }
    dexter_token_map_free(&map);
}

/* Without the registry, sentiment watches its own list: the same symbols. */
static void test_sentiment_fallback_names_the_registry_symbols(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    sentiment_token_table table;
    char err[200];
    assert_int_equal(sentiment_tokens_parse(SENTIMENT_DEFAULT_TOKENS, &table, err, sizeof err), 0);
    assert_int_equal(table.count, map.count);
    for (size_t i = 0; i < map.count; i++)
        assert_true(sentiment_tokens_lookup(&table, map.tokens[i].symbol) >= 0);
    /* and the registry adds what a configured sentiment list lacks */
    jv_token_registry_api api;
    dexter_registry_init(&api, &map);
    assert_int_equal(sentiment_tokens_parse("SOL:solana", &table, err, sizeof err), 0);
    assert_int_equal(sentiment_tokens_add_registry(&table, &api), map.count - 1);
    assert_true(sentiment_tokens_lookup(&table, "chainlink") >= 0);
    assert_int_equal(sentiment_tokens_add_registry(&table, &api), 0);
    dexter_token_map_free(&map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_reports_how_it_matched),
        cmocka_unit_test(test_list_and_suggestions),
        cmocka_unit_test(test_sentiment_fallback_names_the_registry_symbols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
