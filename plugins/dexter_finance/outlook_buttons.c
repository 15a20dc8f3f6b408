/* Outlook buttons for dexter_finance: the keyboard under a one-token
 * outlook and the reading of a press. The data carries the token's symbol
 * so a press needs no stored state (and survives a restart). */
#include "outlook_buttons.h"

#include <stdio.h>
#include <string.h>

typedef struct button_period {
    const char *name;
    int days;
} button_period;

static const button_period button_periods[] = {{"24h", 1}, {"7d", 7}, {"30d", 30}};
#define PERIOD_COUNT (sizeof button_periods / sizeof button_periods[0])

int dexter_outlook_has_buttons(const dexter_intent *intent)
{
    return intent->kind == DEXTER_INTENT_OUTLOOK && intent->token_count == 1 && !intent->forecast;
}

void dexter_outlook_buttons_build(const dexter_token *token, const char *chart_period,
                                  dexter_outlook_buttons *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < PERIOD_COUNT; i++) {
        snprintf(out->data[i], sizeof out->data[i], DEXTER_CALLBACK_PREFIX "o:%s:%s",
                 button_periods[i].name, token->symbol);
        out->buttons[i].text = button_periods[i].name;
        out->buttons[i].callback_data = out->data[i];
    }
    snprintf(out->data[PERIOD_COUNT], sizeof out->data[PERIOD_COUNT],
             DEXTER_CALLBACK_PREFIX "c:%s:%s", chart_period, token->symbol);
    out->buttons[PERIOD_COUNT].text = "Chart";
    out->buttons[PERIOD_COUNT].callback_data = out->data[PERIOD_COUNT];
}

static const button_period *find_button_period(const char *name, size_t length)
{
    for (size_t i = 0; i < PERIOD_COUNT; i++)
        if (strlen(button_periods[i].name) == length &&
            memcmp(button_periods[i].name, name, length) == 0)
            return &button_periods[i];
    return NULL;
}

int dexter_press_read(const char *data, const dexter_token_map *tokens, dexter_press *press)
{
    memset(press, 0, sizeof *press);
    size_t prefix_length = strlen(DEXTER_CALLBACK_PREFIX);
    if (!data || strncmp(data, DEXTER_CALLBACK_PREFIX, prefix_length) != 0)
        return -1;
    const char *kind = data + prefix_length;
    if ((kind[0] != 'o' && kind[0] != 'c') || kind[1] != ':')
        return -1;
    const char *period = kind + 2;
    const char *colon = strchr(period, ':');
    if (!colon)
        return -1;
    const button_period *found = find_button_period(period, (size_t)(colon - period));
    const char *symbol = colon + 1;
    const dexter_token *token = symbol[0] ? dexter_token_lookup(tokens, symbol) : NULL;
    if (!found || !token || strcmp(token->symbol, symbol) != 0)
        return -1;
    press->kind = kind[0] == 'o' ? DEXTER_PRESS_OUTLOOK : DEXTER_PRESS_CHART;
    press->token = token;
    press->period_days = found->days;
    snprintf(press->period, sizeof press->period, "%s", found->name);
    return 0;
}

void dexter_press_intent(const dexter_press *press, dexter_intent *intent)
{
    memset(intent, 0, sizeof *intent);
    intent->kind = DEXTER_INTENT_OUTLOOK;
    intent->kind_explicit = 1;
    intent->token_count = 1;
    intent->tokens[0] = press->token;
    intent->period_days = press->period_days;
    intent->period_hours = 24 * press->period_days;
    intent->period_explicit = 1;
    intent->is_question = 1;
}
