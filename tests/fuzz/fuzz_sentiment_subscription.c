/* libFuzzer target: the sentiment plugin's subscription inputs from outside,
 * button data (first byte 'p') and stored records (anything else). A press
 * is accepted only when it is the data of a button the plugin offers; a
 * refusal always has a toast; any record reads as something that writes
 * back and reads again the same. */
#include "fuzz_common.h"
#include "sentiment/state.h"
#include "sentiment/subscribe_keyboard.h"
#include "sentiment/subscriptions.h"

static sentiment_state state;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char error[256];
    if (sentiment_tokens_parse(SENTIMENT_DEFAULT_TOKENS, &state.tokens, error, sizeof error) != 0)
        abort();
    state.report_tokens[0] = (size_t)sentiment_tokens_lookup(&state.tokens, "SOL");
    state.report_tokens[1] = (size_t)sentiment_tokens_lookup(&state.tokens, "BTC");
    state.report_token_count = 2;
    state.report_interval_ms = 1500; /* not a whole hour: five choices */
    return 0;
}

static int offered_button(const char *data)
{
    sentiment_subscription defaults = {0};
    sentiment_keyboard keyboard;
    sentiment_keyboard_build(&state, &defaults, &keyboard);
    for (size_t i = 0; i < keyboard.count; i++)
        if (strcmp(keyboard.buttons[i].callback_data, data) == 0)
            return 1;
    return 0;
}

static void check_press(const char *data)
{
    sentiment_press press;
    const char *problem = NULL;
    if (sentiment_press_read(&state, data, &press, &problem) != 0) {
        FUZZ_REQUIRE(problem != NULL && problem[0] != '\0' && strlen(problem) < 64);
        FUZZ_REQUIRE(!offered_button(data));
        return;
    }
    FUZZ_REQUIRE(offered_button(data));
    if (press.kind == SENTIMENT_PRESS_TOKEN)
        FUZZ_REQUIRE(press.token < state.tokens.count);
    else
        FUZZ_REQUIRE(sentiment_interval_offered(&state, press.interval_ms));
}

static void check_record(const char *value, size_t length)
{
    sentiment_subscription read = {.chat_id = 7};
    sentiment_subscription_parse(value, length, &state.tokens, &read);
    FUZZ_REQUIRE(read.chat_id == 7 && read.interval_ms >= 0 && read.since_ms >= 0);
    for (size_t i = state.tokens.count; i < SENTIMENT_MAX_TOKENS; i++)
        FUZZ_REQUIRE(read.tokens[i] == 0);
    size_t tokens[SENTIMENT_MAX_TOKENS];
    FUZZ_REQUIRE(sentiment_subscription_tokens(&state, &read, tokens) > 0);
    char written[2048];
    FUZZ_REQUIRE(sentiment_subscription_format(&read, &state.tokens, written, sizeof written) == 0);
    sentiment_subscription again = {.chat_id = 7};
    FUZZ_REQUIRE(sentiment_subscription_parse(written, strlen(written), &state.tokens, &again) == 0);
    FUZZ_REQUIRE(!again.legacy && again.since_ms == read.since_ms &&
                 again.interval_ms == read.interval_ms && again.has_tokens == read.has_tokens);
    FUZZ_REQUIRE(memcmp(again.tokens, read.tokens, sizeof read.tokens) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *text = fuzz_text(data + 1, size - 1);
    if (data[0] == 'p')
        check_press(text);
    else
        check_record(text, size - 1);
    free(text);
    return 0;
}
