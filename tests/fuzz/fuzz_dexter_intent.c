/* libFuzzer target: dexter's question parser with the default token map on
 * any text, and the token-map spec parser (first byte 0: the rest is a
 * `tokens =` value). Verdicts are coherent with the intent they fill. */
#include "fuzz_common.h"
#include "dexter_finance/intent.h"

static dexter_token_map default_map;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char error[256];
    if (dexter_token_map_add(&default_map, dexter_default_tokens, error, sizeof error) != 0)
        abort();
    return 0;
}

static void fuzz_spec(const char *spec)
{
    dexter_token_map map = {0};
    char error[256];
    int result = dexter_token_map_add(&map, spec, error, sizeof error);
    if (result != 0) {
        FUZZ_REQUIRE(result == -1 && error[0] != '\0' && strchr(error, '\n') == NULL);
        FUZZ_REQUIRE(strchr(error, '\r') == NULL);
    }
    for (size_t i = 0; i < map.count; i++) {
        FUZZ_REQUIRE(map.tokens[i].symbol[0] != '\0' && map.tokens[i].provider_id[0] != '\0');
        FUZZ_REQUIRE(dexter_token_lookup(&map, map.tokens[i].symbol) != NULL);
    }
    dexter_token_map_free(&map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (size > 0 && data[0] == 0) {
        fuzz_spec(text + 1);
        free(text);
        return 0;
    }
    dexter_intent intent;
    dexter_parse_status status = dexter_parse_question(text, &default_map, &intent);
    FUZZ_REQUIRE(status >= DEXTER_PARSE_OK && status <= DEXTER_PARSE_UNKNOWN_TOKEN);
    if (status == DEXTER_PARSE_OK) {
        FUZZ_REQUIRE(intent.token_count >= 1 && intent.token_count <= DEXTER_MAX_TOKENS);
        /* comparisons take 2 to DEXTER_MAX_TOKENS tokens (N-way, issue 15) */
        FUZZ_REQUIRE(intent.kind != DEXTER_INTENT_COMPARE || intent.token_count >= 2);
        for (int i = 0; i < intent.token_count; i++)
            FUZZ_REQUIRE(intent.tokens[i] != NULL);
        FUZZ_REQUIRE(intent.period_days >= 1 && intent.period_days <= DEXTER_MAX_PERIOD_DAYS);
        char label[32];
        dexter_period_label(intent.period_days, label, sizeof label);
        FUZZ_REQUIRE(label[0] != '\0');
    }
    if (status == DEXTER_PARSE_UNKNOWN_TOKEN)
        FUZZ_REQUIRE(memchr(intent.unknown, '\0', sizeof intent.unknown) != NULL);
    free(text);
    return 0;
}
