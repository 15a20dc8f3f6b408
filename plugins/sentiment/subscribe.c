/* /subscribe with its keyboard, /unsubscribe, and the presses that change
 * a chat's choice (see subscribe.h). The answer is Telegram HTML. */
#include "subscribe.h"
#include "state.h"
#include "subscribe_keyboard.h"
#include "subscriptions.h"
#include "text.h"
#include "token_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define ANSWER_SIZE 4096

static void log_store_failure(sentiment_state *state, const jv_message *message, const char *what,
                              int result)
{
    state->api->log(state->self, JV_LOG_ERROR, "%s (chat %" PRId64 ", update %" PRId64 "): %s",
                    what, message->chat_id, message->update_id, state->api->strerror(result));
}

/* "Subscribed: this chat gets a sentiment report every 1h." and the tokens. */
static void describe(sentiment_state *state, const sentiment_subscription *subscription,
                     const char *headline, sentiment_text *out)
{
    char interval[32];
    sentiment_format_interval(sentiment_subscription_interval(state, subscription), interval,
                              sizeof interval);
    sentiment_text_add(out, "<b>%s:</b> this chat gets a sentiment report every <code>%s</code>.\n",
                       headline, interval);
    size_t tokens[SENTIMENT_MAX_TOKENS];
    size_t count = sentiment_subscription_tokens(state, subscription, tokens);
    sentiment_text_add(out, "<b>Tokens:</b> ");
    sentiment_add_symbols(state, tokens, count, out);
    sentiment_text_add(out, "\nTap an interval, or a token to switch it on or off.");
}

static void settings_content(sentiment_state *state, const sentiment_subscription *subscription,
                             const char *headline, sentiment_text *text,
                             sentiment_keyboard *keyboard, jv_outgoing *content)
{
    describe(state, subscription, headline, text);
    sentiment_keyboard_build(state, subscription, keyboard);
    *content = (jv_outgoing){.struct_size = sizeof *content,
                             .text = text->data,
                             .flags = JV_FORMAT_HTML,
                             .buttons = keyboard->buttons,
                             .button_count = keyboard->count};
}

int sentiment_subscribe_command(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    sentiment_state *state = user_data;
    sentiment_subscription subscription;
    int result = sentiment_subscribe(state, message->chat_id, &subscription);
    if (result < 0) {
        log_store_failure(state, message, "/subscribe", result);
        char reply[128];
        snprintf(reply, sizeof reply, "Could not subscribe: %s.", state->api->strerror(result));
        state->api->reply(message, reply);
        return JV_HANDLED;
    }
    char buffer[ANSWER_SIZE];
    sentiment_text text;
    sentiment_text_init(&text, buffer, sizeof buffer);
    sentiment_keyboard keyboard;
    jv_outgoing content;
    settings_content(state, &subscription, result == 1 ? "Subscribed" : "Already subscribed", &text,
                     &keyboard, &content);
    state->api->reply_with(message, &content, NULL);
    return JV_HANDLED;
}

int sentiment_unsubscribe_command(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    sentiment_state *state = user_data;
    int result = sentiment_unsubscribe(state, message->chat_id);
    char reply[256];
    if (result == 1)
        snprintf(reply, sizeof reply, "Unsubscribed: no more sentiment reports in this chat.");
    else if (result == 0)
        snprintf(reply, sizeof reply, "This chat was not subscribed; nothing to do.");
    else
        snprintf(reply, sizeof reply, "Could not unsubscribe: %s.", state->api->strerror(result));
    if (result < 0)
        log_store_failure(state, message, "/unsubscribe", result);
    state->api->reply(message, reply);
    return JV_HANDLED;
}

static int choose_interval(sentiment_state *state, sentiment_subscription *subscription,
                           int64_t interval_ms, char *toast, size_t toast_size)
{
    char shown[32];
    sentiment_format_interval(interval_ms, shown, sizeof shown);
    if (sentiment_subscription_interval(state, subscription) == interval_ms) {
        snprintf(toast, toast_size, "Already every %s.", shown);
        return 0;
    }
    subscription->interval_ms = interval_ms;
    snprintf(toast, toast_size, "Every %s.", shown);
    return 1;
}

static int toggle_token(sentiment_state *state, sentiment_subscription *subscription, size_t token,
                        char *toast, size_t toast_size)
{
    size_t chosen[SENTIMENT_MAX_TOKENS];
    size_t count = sentiment_subscription_tokens(state, subscription, chosen);
    unsigned char on[SENTIMENT_MAX_TOKENS] = {0};
    for (size_t i = 0; i < count; i++)
        on[chosen[i]] = 1;
    const char *symbol = state->tokens.tokens[token].symbol;
    if (on[token] && count == 1) {
        snprintf(toast, toast_size, "Keep at least one token on.");
        return 0;
    }
    on[token] = !on[token];
    memcpy(subscription->tokens, on, sizeof on);
    subscription->has_tokens = 1;
    snprintf(toast, toast_size, "%s %s.", symbol, on[token] ? "on" : "off");
    return 1;
}

/* 1 when the press changed the subscription, 0 when it was its state already. */
static int apply_press(sentiment_state *state, sentiment_subscription *subscription,
                       const sentiment_press *pressed, char *toast, size_t toast_size)
{
    if (subscription->legacy) {
        /* from now on the new record: its clock is the one the old record ran on */
        subscription->legacy = 0;
        subscription->since_ms = state->started_ms;
    }
    if (pressed->kind == SENTIMENT_PRESS_INTERVAL)
        return choose_interval(state, subscription, pressed->interval_ms, toast, toast_size);
    return toggle_token(state, subscription, pressed->token, toast, toast_size);
}

static int edit_to_show(sentiment_state *state, const jv_message *press,
                        const sentiment_subscription *subscription)
{
    char buffer[ANSWER_SIZE];
    sentiment_text text;
    sentiment_text_init(&text, buffer, sizeof buffer);
    sentiment_keyboard keyboard;
    jv_outgoing content;
    settings_content(state, subscription, "Subscribed", &text, &keyboard, &content);
    return state->api->edit_message(state->self, press->chat_id, press->message_id, &content);
}

int sentiment_subscribe_press(jv_plugin *self, const jv_message *press, void *user_data)
{
    (void)self;
    sentiment_state *state = user_data;
    sentiment_press pressed;
    const char *problem = NULL;
    if (sentiment_press_read(state, press->callback_data, &pressed, &problem) != 0) {
        state->api->answer_callback(press, problem, 0);
        return JV_E_NOTFOUND;
    }
    sentiment_subscription subscription;
    int result = sentiment_subscription_load(state, press->chat_id, &subscription);
    if (result == JV_E_NOTFOUND) {
        state->api->answer_callback(press, "This chat is not subscribed: send /subscribe.", 0);
        return JV_OK;
    }
    char toast[64];
    if (result == JV_OK && apply_press(state, &subscription, &pressed, toast, sizeof toast) == 0) {
        state->api->answer_callback(press, toast, 0);
        return JV_OK;
    }
    if (result == JV_OK)
        result = sentiment_subscription_save(state, &subscription);
    if (result != JV_OK) {
        log_store_failure(state, press, "subscription button", result);
        state->api->answer_callback(press, "Could not save the choice; try again.", 0);
        return result;
    }
    state->api->answer_callback(press, toast, 0);
    return edit_to_show(state, press, &subscription);
}
