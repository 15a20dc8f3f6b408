/* The sentiment plugin's token table and mention rule: cashtags in any
 * case, bare symbols only in upper case, names as whole words; ordinary
 * words ("sol" in Spanish, "link", "eth" inside words) are not mentions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sentiment/tokens.h"

static sentiment_token_table table;

static int load_defaults(void **state)
{
    (void)state;
    char error[256];
    return sentiment_tokens_parse(SENTIMENT_DEFAULT_TOKENS, &table, error, sizeof error);
}

/* The symbols text mentions, space-separated, in table order. */
static const char *mentions(const char *text)
{
    static char out[256];
    unsigned char found[SENTIMENT_MAX_TOKENS];
    size_t count = sentiment_tokens_mentioned(&table, text, found);
    out[0] = '\0';
    size_t seen = 0;
    for (size_t i = 0; i < table.count; i++) {
        if (!found[i])
            continue;
        if (out[0] != '\0')
            strcat(out, " ");
        strcat(out, table.tokens[i].symbol);
        seen++;
    }
    assert_int_equal(seen, count);
    return out;
}

static void cashtags_match_in_any_case(void **state)
{
    (void)state;
    assert_string_equal(mentions("$SOL to the moon"), "SOL");
    assert_string_equal(mentions("buying $sol and $Btc"), "SOL BTC");
    assert_string_equal(mentions("$SOL🚀🚀"), "SOL");
    assert_string_equal(mentions("($eth)"), "ETH");
}

static void bare_symbols_match_only_in_upper_case(void **state)
{
    (void)state;
    assert_string_equal(mentions("SOL is pumping"), "SOL");
    assert_string_equal(mentions("BTC, ETH and SOL."), "SOL BTC ETH");
    assert_string_equal(mentions("el sol brilla hoy"), "");     /* Spanish "sun" */
    assert_string_equal(mentions("Sol y sombra"), "");          /* capitalised word */
    assert_string_equal(mentions("click the link below"), "");  /* LINK only upper case */
    assert_string_equal(mentions("LINK looks strong"), "LINK");
    assert_string_equal(mentions("SOLAR panels, ETHOS"), "");    /* not whole words */
    assert_string_equal(mentions("my_SOL_bag"), "");
    assert_string_equal(mentions("SOLaño"), "");
}

static void names_match_as_whole_words_in_any_case(void **state)
{
    (void)state;
    assert_string_equal(mentions("Solana is fast"), "SOL");
    assert_string_equal(mentions("BITCOIN and ethereum"), "BTC ETH");
    assert_string_equal(mentions("ether fees"), "ETH");
    assert_string_equal(mentions("solanas"), "");
    assert_string_equal(mentions("Solana's validators"), "SOL");
    assert_string_equal(mentions("nothing here at all"), "");
    assert_string_equal(mentions(""), "");
}

static void each_token_counts_once_per_message(void **state)
{
    (void)state;
    assert_string_equal(mentions("SOL SOL $sol solana"), "SOL");
}

static void invalid_utf8_is_harmless(void **state)
{
    (void)state;
    assert_string_equal(mentions("\xff SOL \xc3"), "SOL");
    assert_string_equal(mentions("\xc3"), "");
}

static void lookup_resolves_symbols_names_and_cashtags(void **state)
{
    (void)state;
    int sol = sentiment_tokens_lookup(&table, "SOL");
    assert_true(sol >= 0);
    assert_string_equal(table.tokens[sol].symbol, "SOL");
    assert_int_equal(sentiment_tokens_lookup(&table, "sol"), sol);
    assert_int_equal(sentiment_tokens_lookup(&table, "$Sol"), sol);
    assert_int_equal(sentiment_tokens_lookup(&table, "Solana"), sol);
    assert_int_equal(sentiment_tokens_lookup(&table, "moon"), -1);
    assert_int_equal(sentiment_tokens_lookup(&table, "$"), -1);
}

static void custom_tables_parse_and_bad_ones_are_refused(void **state)
{
    (void)state;
    sentiment_token_table custom;
    char error[256] = "";
    assert_int_equal(sentiment_tokens_parse(" sol : Solana , btc:bitcoin:xbt, ", &custom, error,
                                            sizeof error),
                     0);
    assert_int_equal(custom.count, 2);
    assert_string_equal(custom.tokens[0].symbol, "SOL");
    assert_string_equal(custom.tokens[0].names[0], "solana");
    assert_int_equal(custom.tokens[1].name_count, 2);
    assert_string_equal(custom.tokens[1].names[1], "xbt");

    assert_int_equal(sentiment_tokens_parse("SOL, S-L", &custom, error, sizeof error), -1);
    assert_non_null(strstr(error, "bad entry 'S-L'"));
    assert_int_equal(sentiment_tokens_parse("SOL:solana, sol", &custom, error, sizeof error), -1);
    assert_non_null(strstr(error, "'SOL' is listed twice"));
    assert_int_equal(sentiment_tokens_parse("SOL:solana, XYZ:solana", &custom, error, sizeof error),
                     -1);
    assert_non_null(strstr(error, "name 'solana' is listed twice"));
    assert_int_equal(sentiment_tokens_parse(" , ", &custom, error, sizeof error), -1);
    assert_non_null(strstr(error, "no symbols"));
    assert_int_equal(sentiment_tokens_parse("123", &custom, error, sizeof error), -1);
    assert_int_equal(sentiment_tokens_parse("A:b:c:d:e:f", &custom, error, sizeof error), -1);
    assert_int_equal(sentiment_tokens_parse("SOL::", &custom, error, sizeof error), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cashtags_match_in_any_case),
        cmocka_unit_test(bare_symbols_match_only_in_upper_case),
        cmocka_unit_test(names_match_as_whole_words_in_any_case),
        cmocka_unit_test(each_token_counts_once_per_message),
        cmocka_unit_test(invalid_utf8_is_harmless),
        cmocka_unit_test(lookup_resolves_symbols_names_and_cashtags),
        cmocka_unit_test(custom_tables_parse_and_bad_ones_are_refused),
    };
    return cmocka_run_group_tests(tests, load_defaults, NULL);
}
