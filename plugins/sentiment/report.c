/* The periodic report and the retention pruning (see report.h). A report
 * with nothing in it says so in one line instead of showing zeros. */
#include "report.h"
#include "history.h"
#include "subscriptions.h"
#include "token_view.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_SIZE 8192
#define PRUNE_BATCH 10000

int sentiment_report_build(sentiment_state *state, int64_t now_ms, sentiment_text *out)
{
    char window[32];
    sentiment_format_duration(state->window_ms / 1000, window, sizeof window);
    char body_buffer[REPORT_SIZE];
    sentiment_text body;
    sentiment_text_init(&body, body_buffer, sizeof body_buffer);
    int any_data = 0;
    int result = JV_OK;
    for (size_t i = 0; i < state->report_token_count; i++) {
        int has_data = 0;
        int viewed = sentiment_token_view(state, state->report_tokens[i], now_ms, &body, &has_data);
        if (viewed != JV_OK)
            result = viewed;
        any_data |= has_data;
        if (i + 1 < state->report_token_count)
            sentiment_text_add(&body, "\n");
    }
    if (!any_data && result == JV_OK) {
        sentiment_text_add(out, "<b>Sentiment report:</b> nothing to report; no chat messages mentioned ");
        for (size_t i = 0; i < state->report_token_count; i++) {
            char symbol[128];
            sentiment_text_add(out, "%s%s", i ? ", " : "",
                               sentiment_escape(state->tokens.tokens[state->report_tokens[i]].symbol,
                                                symbol, sizeof symbol));
        }
        sentiment_text_add(out, " in the last %s.", window);
        return JV_OK;
    }
    sentiment_text_add(out, "<b>Sentiment report</b> (last %s):\n\n%s", window, body.data);
    return result;
}

int sentiment_report_job(jv_plugin *self, void *user_data)
{
    sentiment_state *state = user_data;
    int64_t *chats = NULL;
    size_t count = 0;
    int result = sentiment_subscribed_chats(state->api, self, &chats, &count);
    if (result != JV_OK) {
        state->api->log(self, JV_LOG_ERROR, "report: cannot read subscriptions: %s",
                        state->api->strerror(result));
        return result;
    }
    if (count == 0) {
        free(chats);
        return JV_OK;
    }
    char buffer[REPORT_SIZE];
    sentiment_text report;
    sentiment_text_init(&report, buffer, sizeof buffer);
    sentiment_report_build(state, state->api->now_ms(), &report);
    for (size_t i = 0; i < count; i++) {
        jv_outgoing content = {.struct_size = sizeof content, .text = report.data,
                               .flags = JV_FORMAT_HTML};
        int sent = state->api->send_with(self, chats[i], &content, NULL);
        if (sent != JV_OK)
            state->api->log(self, JV_LOG_WARN, "report: sending to chat %" PRId64 " failed: %s",
                            chats[i], state->api->strerror(sent));
    }
    free(chats);
    return JV_OK;
}

int sentiment_prune_job(jv_plugin *self, void *user_data)
{
    sentiment_state *state = user_data;
    size_t deleted = 0;
    int64_t cutoff = state->api->now_ms() - state->retention_ms;
    int result = sentiment_history_prune(state->api, self, cutoff, PRUNE_BATCH, &deleted);
    if (result != JV_OK) {
        state->api->log(self, JV_LOG_WARN, "pruning old observations failed: %s",
                        state->api->strerror(result));
        return result;
    }
    if (deleted > 0)
        state->api->log(self, JV_LOG_DEBUG, "pruned %zu observations older than the retention window",
                        deleted);
    return JV_OK;
}
