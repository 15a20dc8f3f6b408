/* The /subscribe keyboard and the reading of its presses (see
 * subscribe_keyboard.h). */
#include "subscribe_keyboard.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_PER_ROW 4
#define ON_MARK "\xE2\x9C\x85 " /* U+2705 and a space: this one is on */
#define INTERVAL_KIND "i:"
#define TOKEN_KIND "t:"

void sentiment_format_interval(int64_t milliseconds, char *out, size_t size)
{
    if (milliseconds % 1000 != 0)
        snprintf(out, size, "%" PRId64 "ms", milliseconds);
    else
        sentiment_format_duration(milliseconds / 1000, out, size);
}

static jv_button *add_button(sentiment_keyboard *out, int new_row, int on, const char *label)
{
    size_t index = out->count++;
    snprintf(out->text[index], sizeof out->text[index], "%s%s", on ? ON_MARK : "", label);
    out->buttons[index].text = out->text[index];
    out->buttons[index].callback_data = out->data[index];
    out->buttons[index].new_row = new_row;
    return &out->buttons[index];
}

void sentiment_keyboard_build(const sentiment_state *state,
                              const sentiment_subscription *subscription, sentiment_keyboard *out)
{
    memset(out, 0, sizeof *out);
    int64_t choices[SENTIMENT_INTERVAL_CHOICES];
    size_t choice_count = sentiment_interval_choices(state, choices);
    int64_t interval = sentiment_subscription_interval(state, subscription);
    for (size_t i = 0; i < choice_count; i++) {
        char label[32];
        sentiment_format_interval(choices[i], label, sizeof label);
        add_button(out, 0, choices[i] == interval, label);
        snprintf(out->data[out->count - 1], sizeof out->data[0],
                 SENTIMENT_CALLBACK_PREFIX INTERVAL_KIND "%" PRId64, choices[i]);
    }
    size_t chosen[SENTIMENT_MAX_TOKENS];
    size_t chosen_count = sentiment_subscription_tokens(state, subscription, chosen);
    unsigned char on[SENTIMENT_MAX_TOKENS] = {0};
    for (size_t i = 0; i < chosen_count; i++)
        on[chosen[i]] = 1;
    for (size_t i = 0; i < state->tokens.count; i++) {
        const char *symbol = state->tokens.tokens[i].symbol;
        add_button(out, i % TOKENS_PER_ROW == 0, on[i], symbol);
        snprintf(out->data[out->count - 1], sizeof out->data[0],
                 SENTIMENT_CALLBACK_PREFIX TOKEN_KIND "%s", symbol);
    }
}

static int read_interval(const sentiment_state *state, const char *text, sentiment_press *press,
                         const char **problem)
{
    char *end = NULL;
    errno = 0;
    long long value = text[0] >= '1' && text[0] <= '9' ? strtoll(text, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0) {
        *problem = "This button has expired.";
        return -1;
    }
    if (!sentiment_interval_offered(state, value)) {
        *problem = "That interval is not offered any more.";
        return -1;
    }
    press->kind = SENTIMENT_PRESS_INTERVAL;
    press->interval_ms = value;
    return 0;
}

static int read_token(const sentiment_state *state, const char *symbol, sentiment_press *press,
                      const char **problem)
{
    for (size_t i = 0; i < state->tokens.count; i++) {
        if (strcmp(state->tokens.tokens[i].symbol, symbol) == 0) {
            press->kind = SENTIMENT_PRESS_TOKEN;
            press->token = i;
            return 0;
        }
    }
    *problem = "That token is not tracked any more.";
    return -1;
}

int sentiment_press_read(const sentiment_state *state, const char *data, sentiment_press *press,
                         const char **problem)
{
    memset(press, 0, sizeof *press);
    *problem = "This button has expired.";
    size_t prefix_length = strlen(SENTIMENT_CALLBACK_PREFIX);
    if (data == NULL || strncmp(data, SENTIMENT_CALLBACK_PREFIX, prefix_length) != 0)
        return -1;
    const char *kind = data + prefix_length;
    if (strncmp(kind, INTERVAL_KIND, strlen(INTERVAL_KIND)) == 0)
        return read_interval(state, kind + strlen(INTERVAL_KIND), press, problem);
    if (strncmp(kind, TOKEN_KIND, strlen(TOKEN_KIND)) == 0)
        return read_token(state, kind + strlen(TOKEN_KIND), press, problem);
    return -1;
}
