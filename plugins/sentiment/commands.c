/* Command handlers and the chat watcher (see commands.h). */
#include "commands.h"
#include "history.h"
#include "questions.h"
#include "scorer.h"
#include "state.h"
#include "text.h"
#include "token_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define REPLY_SIZE 4096
#define SHOWN_CONTRIBUTORS 5

/* Replies are Telegram HTML: bold labels, numbers in monospace, every word
 * of the user's escaped. */
static int reply_html(sentiment_state *state, const jv_message *message, const char *html)
{
    jv_outgoing content = {.struct_size = sizeof content, .text = html, .flags = JV_FORMAT_HTML};
    return state->api->reply_with(message, &content, NULL);
}

static int reply_text_score(sentiment_state *state, const jv_message *message,
                            const sentiment_score *score)
{
    char buffer[REPLY_SIZE];
    sentiment_text reply;
    sentiment_text_init(&reply, buffer, sizeof buffer);
    sentiment_text_add(&reply, "<b>Sentiment:</b> <code>%+.3f</code> (%s)\n", score->compound,
                       sentiment_label(score->compound));
    if (score->contributor_count == 0) {
        sentiment_text_add(&reply, "No words from the lexicon were found.");
        return reply_html(state, message, reply.data);
    }
    sentiment_text_add(&reply, "<b>Driven by:</b>");
    size_t shown = score->contributor_count < SHOWN_CONTRIBUTORS ? score->contributor_count
                                                                 : SHOWN_CONTRIBUTORS;
    for (size_t i = 0; i < shown; i++) {
        char word[512];
        sentiment_text_add(&reply, "%s \"%s\" <code>%+.2f</code>", i ? "," : "",
                           sentiment_escape(score->contributors[i].text, word, sizeof word),
                           score->contributors[i].valence);
    }
    if (score->matches > shown)
        sentiment_text_add(&reply, " (and %zu more)", score->matches - shown);
    return reply_html(state, message, reply.data);
}

/* "$XYZ", or 2..10 upper-case letters and digits with a letter: a word the
 * user most likely meant as a token symbol rather than as text to score. */
static int looks_like_symbol(const char *word)
{
    if (word[0] == '$')
        return word[1] != '\0';
    size_t length = strlen(word);
    if (length < 2 || length > 10)
        return 0;
    int letters = 0;
    for (size_t i = 0; i < length; i++) {
        char c = word[i];
        if (c >= 'A' && c <= 'Z')
            letters++;
        else if (!(c >= '0' && c <= '9'))
            return 0;
    }
    return letters > 0;
}

static int reply_unknown_symbol(sentiment_state *state, const jv_message *message, const char *word)
{
    char buffer[REPLY_SIZE];
    sentiment_text reply;
    sentiment_text_init(&reply, buffer, sizeof buffer);
    char shown[200], symbol[128];
    snprintf(shown, sizeof shown, "%.32s", word);
    sentiment_text_add(&reply, "%s is not a token I track. Tracked:",
                       sentiment_escape(shown, symbol, sizeof symbol));
    for (size_t i = 0; i < state->tokens.count; i++)
        sentiment_text_add(&reply, "%s %s", i ? "," : "",
                           sentiment_escape(state->tokens.tokens[i].symbol, symbol, sizeof symbol));
    sentiment_text_add(&reply, ".\nTo score text instead, write it out: /sentiment &lt;text&gt;.");
    return reply_html(state, message, reply.data);
}

static int reply_token_view(sentiment_state *state, const jv_message *message, size_t token)
{
    char buffer[REPLY_SIZE];
    sentiment_text reply;
    sentiment_text_init(&reply, buffer, sizeof buffer);
    int has_data = 0;
    sentiment_token_view(state, token, state->api->now_ms(), &reply, &has_data);
    if (reply.length > 0 && reply.data[reply.length - 1] == '\n')
        reply.data[--reply.length] = '\0';
    return reply_html(state, message, reply.data);
}

int sentiment_command(jv_plugin *self, const jv_message *message, void *user_data)
{
    sentiment_state *state = user_data;
    if (message->args == NULL || message->args[0] == '\0') {
        state->api->reply(message, "Usage: /sentiment <text> scores the text; "
                                   "/sentiment <SYMBOL> (e.g. /sentiment SOL) shows what chats "
                                   "say about a token.");
        return JV_HANDLED;
    }
    int token = message->argc == 1 ? sentiment_tokens_lookup(&state->tokens, message->argv[0]) : -1;
    if (token >= 0) {
        reply_token_view(state, message, (size_t)token);
        return JV_HANDLED;
    }
    sentiment_score score;
    if (sentiment_score_text(state->lexicon, message->args, &score) != 0) {
        state->api->log(self, JV_LOG_ERROR,
                        "/sentiment (update %" PRId64 "): out of memory scoring",
                        message->update_id);
        state->api->reply(message, "Sorry, scoring failed (out of memory).");
        return JV_HANDLED;
    }
    if (message->argc == 1 && score.matches == 0 && looks_like_symbol(message->argv[0]))
        reply_unknown_symbol(state, message, message->argv[0]);
    else
        reply_text_score(state, message, &score);
    return JV_HANDLED;
}

int sentiment_watch_message(jv_plugin *self, const jv_message *message, void *user_data)
{
    sentiment_state *state = user_data;
    if (message->text == NULL || message->command != NULL)
        return JV_CONTINUE;
    int addressed = message->is_private || message->mentions_bot || message->is_reply_to_bot;
    if (sentiment_is_question(message->text, addressed))
        return JV_CONTINUE; /* a question is not an opinion */
    unsigned char found[SENTIMENT_MAX_TOKENS];
    if (sentiment_tokens_mentioned(&state->tokens, message->text, found) == 0)
        return JV_CONTINUE;
    sentiment_score score;
    if (sentiment_score_text(state->lexicon, message->text, &score) != 0) {
        state->api->log(self, JV_LOG_WARN,
                        "not recording update %" PRId64 ": out of memory scoring it",
                        message->update_id);
        return JV_CONTINUE;
    }
    int64_t now_ms = state->api->now_ms();
    for (size_t i = 0; i < state->tokens.count; i++) {
        if (!found[i])
            continue;
        int result = sentiment_history_record(state->api, self, state->tokens.tokens[i].symbol,
                                              now_ms, message->chat_id,
                                              sentiment_state_next_sequence(state), score.compound);
        if (result != JV_OK)
            state->api->log(
                self, JV_LOG_WARN, "recording %s sentiment (update %" PRId64 ") failed: %s",
                state->tokens.tokens[i].symbol, message->update_id, state->api->strerror(result));
    }
    return JV_CONTINUE;
}
