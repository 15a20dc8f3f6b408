/* Unit tests for dexter_finance's /chart command: reading its arguments
 * (token and period in either order, aliases, the refusals) and the answer
 * built from the bundled offline sample through the real file provider:
 * the caption's figures (checked against the sample by hand) and the PNG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dexter_finance/chart_answer.h"

#define SAMPLE "plugins/dexter_finance/sample_market.json"

typedef struct fixture {
    jv_host_api api;
    dexter_token_map tokens;
    dexter_answer_context context;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->api.struct_size = sizeof f->api;
    char err[200];
    assert_int_equal(dexter_token_map_add(&f->tokens, dexter_default_tokens, err, sizeof err), 0);
    dexter_market_config config = {.provider = DEXTER_PROVIDER_FILE, .data_file = SAMPLE};
    f->context.market = dexter_market_create(&config, NULL, &f->api);
    assert_non_null(f->context.market);
    assert_null(dexter_market_problem(f->context.market));
    f->context.tokens = &f->tokens;
    f->context.params = (dexter_analysis_params){7, 25, 14, 1};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dexter_market_destroy(f->context.market);
    dexter_token_map_free(&f->tokens);
    free(f);
    dexter_chart_release_caches();
    return 0;
}

/* Splits words on spaces into argv (at most 8). */
static int read_words(fixture *f, const char *words, dexter_chart_request *request, char **reply)
{
    char copy[200];
    snprintf(copy, sizeof copy, "%s", words);
    const char *argv[9] = {0};
    int argc = 0;
    char *save = NULL;
    for (char *word = strtok_r(copy, " ", &save); word && argc < 8;
         word = strtok_r(NULL, " ", &save))
        argv[argc++] = word;
    return dexter_chart_read_request(&f->context, argc, argv, request, reply);
}

static void expect_request(fixture *f, const char *words, const char *symbol, int days,
                           const char *period)
{
    dexter_chart_request request;
    char *reply = NULL;
    if (read_words(f, words, &request, &reply) != 0)
        fail_msg("\"%s\" refused: %s", words, reply ? reply : "(null)");
    assert_string_equal(request.token->symbol, symbol);
    assert_int_equal(request.period_days, days);
    assert_string_equal(request.period, period);
}

static void expect_refusal(fixture *f, const char *words, const char *expected)
{
    dexter_chart_request request;
    char *reply = NULL;
    assert_int_equal(read_words(f, words, &request, &reply), -1);
    assert_non_null(reply);
    if (!strstr(reply, expected))
        fail_msg("\"%s\": \"%s\" lacks \"%s\"", words, reply, expected);
    free(reply);
}

static void test_reads_token_and_period(void **state)
{
    fixture *f = *state;
    expect_request(f, "SOL", "SOL", 7, "7d");
    expect_request(f, "sol 24h", "SOL", 1, "24h");
    expect_request(f, "30D solana", "SOL", 30, "30d");
    expect_request(f, "$btc 90d", "BTC", 90, "90d");
    expect_request(f, "eth 1w", "ETH", 7, "7d");
    expect_request(f, "bonk 1d", "BONK", 1, "24h");
}

static void test_refusals_say_why(void **state)
{
    fixture *f = *state;
    expect_refusal(f, "", "Usage: /chart <token> [24h|7d|30d|90d]");
    expect_refusal(f, "SOL 5y", "not \"5y\"");
    expect_refusal(f, "SOL 48h", "not \"48h\"");
    expect_refusal(f, "SOLL 7d", "Did you mean SOL");
    expect_refusal(f, "SOL ETH", "One token");
    expect_refusal(f, "7d 30d SOL", "One token");
}

/* The figures of the sample's last 7 days of SOL, worked out from the JSON
 * separately: first 120.951, high 145.8834 at 2025-11-19 20:00, low
 * 115.8592 at 2025-11-13 16:00, newest 142.6 at 2025-11-20 00:00. */
static void test_answer_from_the_sample(void **state)
{
    fixture *f = *state;
    dexter_chart_request request = {dexter_token_lookup(&f->tokens, "SOL"), 7, "7d"};
    dexter_chart_answer answer;
    assert_int_equal(dexter_chart_answer_build(&f->context, &request, 1, &answer), 0);
    assert_non_null(answer.caption);
    assert_non_null(strstr(answer.caption, "SOL (Solana), 7d: $142.60, +17.90% from $120.95."));
    assert_non_null(strstr(answer.caption, "High $145.88 on 2025-11-19 20:00 UTC, low $115.86 on "
                                           "2025-11-13 16:00 UTC."));
    assert_non_null(strstr(answer.caption, "data time 2025-11-20 00:00 UTC"));
    assert_null(strstr(answer.caption, "covers only"));
    assert_true(answer.png.length > 1000);
    assert_memory_equal(answer.png.data, "\x89PNG\r\n\x1a\n", 8);
    dexter_chart_answer_free(&answer);

    /* no picture asked for (a host that cannot send one): the same figures */
    assert_int_equal(dexter_chart_answer_build(&f->context, &request, 0, &answer), 0);
    assert_null(answer.png.data);
    assert_non_null(strstr(answer.caption, "High $145.88"));
    dexter_chart_answer_free(&answer);
}

static void test_short_history_is_said(void **state)
{
    fixture *f = *state;
    dexter_chart_request request = {dexter_token_lookup(&f->tokens, "BTC"), 90, "90d"};
    dexter_chart_answer answer;
    assert_int_equal(dexter_chart_answer_build(&f->context, &request, 0, &answer), 0);
    assert_non_null(strstr(answer.caption, "The data covers only 30.0 days of the 90 days"));
    dexter_chart_answer_free(&answer);
}

static void test_missing_history_is_unavailable(void **state)
{
    fixture *f = *state;
    dexter_chart_request request = {dexter_token_lookup(&f->tokens, "DOT"), 7, "7d"};
    dexter_chart_answer answer;
    assert_int_equal(dexter_chart_answer_build(&f->context, &request, 1, &answer), -1);
    assert_non_null(answer.caption);
    assert_non_null(strstr(answer.caption, "DOT: no chart: market data unavailable ("));
    assert_null(answer.png.data);
    dexter_chart_answer_free(&answer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_token_and_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_say_why, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_from_the_sample, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_history_is_said, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_history_is_unavailable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
