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

int sentiment_report_build(sentiment_state *state, int64_t now_ms, const size_t *tokens,
                           size_t token_count, sentiment_text *out)
{
    char window[32];
    sentiment_format_duration(state->window_ms / 1000, window, sizeof window);
    char body_buffer[REPORT_SIZE];
    sentiment_text body;
    sentiment_text_init(&body, body_buffer, sizeof body_buffer);
    int any_data = 0;
    int result = JV_OK;
    for (size_t i = 0; i < token_count; i++) {
        int has_data = 0;
        int viewed = sentiment_token_view(state, tokens[i], now_ms, &body, &has_data);
        if (viewed != JV_OK)
            result = viewed;
        any_data |= has_data;
        if (i + 1 < token_count)
            sentiment_text_add(&body, "\n");
    }
    if (!any_data && result == JV_OK) {
        sentiment_text_add(
            out, "<b>Sentiment report:</b> nothing to report; no chat messages mentioned ");
        sentiment_add_symbols(state, tokens, token_count, out);
        sentiment_text_add(out, " in the last %s.", window);
        return JV_OK;
    }
    sentiment_text_add(out, "<b>Sentiment report</b> (last %s):\n\n%s", window, body.data);
    return result;
}

/* Due once its interval has passed since its last report (or since it
 * subscribed); half a check early rather than a whole check late. */
static int report_is_due(sentiment_state *state, const sentiment_subscription *subscription,
                         int64_t now_ms)
{
    int64_t last = sentiment_last_report(state, subscription->chat_id);
    int64_t start = subscription->legacy ? state->started_ms : subscription->since_ms;
    int64_t base = last > start ? last : start;
    int64_t interval = sentiment_subscription_interval(state, subscription);
    return now_ms - base >= interval - state->report_check_ms / 2;
}

static void send_report(sentiment_state *state, const sentiment_subscription *subscription,
                        int64_t now_ms)
{
    size_t tokens[SENTIMENT_MAX_TOKENS];
    size_t token_count = sentiment_subscription_tokens(state, subscription, tokens);
    char buffer[REPORT_SIZE];
    sentiment_text report;
    sentiment_text_init(&report, buffer, sizeof buffer);
    sentiment_report_build(state, now_ms, tokens, token_count, &report);
    jv_outgoing content = {
        .struct_size = sizeof content, .text = report.data, .flags = JV_FORMAT_HTML};
    int result = state->api->send_with(state->self, subscription->chat_id, &content, NULL);
    if (result == JV_OK)
        result = sentiment_last_report_save(state, subscription->chat_id, now_ms);
    if (result != JV_OK)
        state->api->log(state->self, JV_LOG_WARN, "report: chat %" PRId64 ": %s",
                        subscription->chat_id, state->api->strerror(result));
}

int sentiment_report_job(jv_plugin *self, void *user_data)
{
    sentiment_state *state = user_data;
    sentiment_subscription *subscriptions = NULL;
    size_t count = 0;
    int result = sentiment_subscriptions_list(state, &subscriptions, &count);
    if (result != JV_OK) {
        state->api->log(self, JV_LOG_ERROR, "report: cannot read subscriptions: %s",
                        state->api->strerror(result));
        return result;
    }
    int64_t now_ms = state->api->now_ms();
    for (size_t i = 0; i < count; i++)
        if (report_is_due(state, &subscriptions[i], now_ms))
            send_report(state, &subscriptions[i], now_ms);
    free(subscriptions);
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
        state->api->log(self, JV_LOG_DEBUG,
                        "pruned %zu observations older than the retention window", deleted);
    return JV_OK;
}
