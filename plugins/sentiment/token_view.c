/* Builds the per-token answer (see token_view.h). */
#include "token_view.h"
#include "history.h"
#include "scorer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TREND_STEADY 0.05 /* mean changes smaller than this are "steady" */

static void add_chat_line(const jv_token_sentiment *snapshot, const char *symbol,
                          const char *window, sentiment_text *out)
{
    if (snapshot->samples == 0) {
        sentiment_text_add(out, "%s: no chat messages mentioned it in the last %s.\n", symbol,
                           window);
        return;
    }
    sentiment_text_add(out, "%s: chat sentiment %+.2f from %" PRId64 " message%s in the last %s.\n",
                       symbol, snapshot->mean, snapshot->samples, snapshot->samples == 1 ? "" : "s",
                       window);
}

static void add_trend_line(const jv_token_sentiment *snapshot, const char *window,
                           sentiment_text *out)
{
    if (snapshot->previous_samples == 0) {
        if (snapshot->samples > 0)
            sentiment_text_add(out, "Trend: no messages in the %s before to compare with.\n", window);
        return;
    }
    if (snapshot->samples == 0) {
        sentiment_text_add(out, "The %s before had %" PRId64 " message%s averaging %+.2f.\n", window,
                           snapshot->previous_samples, snapshot->previous_samples == 1 ? "" : "s",
                           snapshot->previous_mean);
        return;
    }
    double change = snapshot->mean - snapshot->previous_mean;
    const char *direction = fabs(change) < TREND_STEADY ? "steady" : change > 0 ? "up" : "down";
    sentiment_text_add(out, "Trend: %s (%+.2f) versus the %s before: %+.2f from %" PRId64 " message%s.\n",
                       direction, change, window, snapshot->previous_mean,
                       snapshot->previous_samples, snapshot->previous_samples == 1 ? "" : "s");
}

static void add_composite(const jv_sentiment_weight_api *weight, const jv_token_sentiment *snapshot,
                          const jv_grok_rating *rating, sentiment_text *out)
{
    jv_weight_component components[2] = {
        {.name = "chat", .present = snapshot->samples > 0, .score = snapshot->mean,
         .confidence = 0, .samples = snapshot->samples},
        {.name = "grok", .present = rating->available, .score = rating->score,
         .confidence = rating->confidence, .samples = 0},
    };
    if (!components[0].present && !components[1].present) {
        sentiment_text_add(out, "Chat and Grok together: nothing to combine: no chat messages, "
                                "and Grok is unavailable (%s).\n",
                           rating->reason[0] ? rating->reason : "no reason given");
        return;
    }
    jv_weight_result result;
    memset(&result, 0, sizeof result);
    if (weight->combine(components, 2, &result) != JV_OK || result.label[0] == '\0') {
        sentiment_text_add(out, "Chat and Grok together: could not be combined.\n");
        return;
    }
    /* the same call, label and formats as dexter's outlook line */
    if (result.enough_evidence)
        sentiment_text_add(out, "Chat and Grok together: %+.2f (%s), confidence %.0f%%\n",
                           result.composite, result.label, result.certainty * 100.0);
    else
        sentiment_text_add(out, "Chat and Grok together: %+.2f (undecided, too little evidence: "
                                "%s)\n",
                           result.composite, result.evidence_note);
    sentiment_text_add(out, "Coverage: %s, %zu of 2 sources\n",
                       result.sources_used == 2 ? "chat, Grok"
                       : components[0].present ? "chat only"
                                               : "Grok only",
                       result.sources_used);
    if (components[0].present)
        sentiment_text_add(out, "  chat: %+.2f x weight %.2f = %+.2f (%" PRId64 " message%s)\n",
                           snapshot->mean, result.weight[0], result.contribution[0],
                           snapshot->samples, snapshot->samples == 1 ? "" : "s");
    else
        sentiment_text_add(out, "  chat: no messages, no weight\n");
    if (components[1].present)
        sentiment_text_add(out, "  Grok: %+.2f x weight %.2f = %+.2f (confidence %.0f%%)\n",
                           rating->score, result.weight[1], result.contribution[1],
                           rating->confidence * 100.0);
    else
        sentiment_text_add(out, "  Grok: unavailable (%s)\n",
                           rating->reason[0] ? rating->reason : "no reason given");
    if (components[1].present && rating->summary[0] != '\0')
        sentiment_text_add(out, "  Grok says: %.*s\n", (int)strnlen(rating->summary, sizeof rating->summary),
                           rating->summary);
}

int sentiment_token_view(sentiment_state *state, size_t token_index, int64_t now_ms,
                         sentiment_text *out, int *has_data)
{
    const char *symbol = state->tokens.tokens[token_index].symbol;
    char window[32];
    sentiment_format_duration(state->window_ms / 1000, window, sizeof window);
    jv_token_sentiment snapshot;
    int result = sentiment_history_window(state->api, state->self, symbol, now_ms,
                                          state->window_ms, &snapshot);
    *has_data = 0;
    if (result != JV_OK) {
        sentiment_text_add(out, "%s: the sentiment history could not be read (%s).\n", symbol,
                           state->api->strerror(result));
        return result;
    }
    add_chat_line(&snapshot, symbol, window, out);
    add_trend_line(&snapshot, window, out);
    *has_data = snapshot.samples > 0;
    const jv_sentiment_weight_api *weight = sentiment_state_weight(state);
    if (weight == NULL) {
        sentiment_text_add(out, "%s: weighting is unavailable.\n",
                           snapshot.samples > 0 ? "Chat score alone" : "No combined score");
        return JV_OK;
    }
    jv_grok_rating rating;
    memset(&rating, 0, sizeof rating);
    weight->grok_rate(symbol, &rating);
    rating.reason[sizeof rating.reason - 1] = '\0';
    rating.summary[sizeof rating.summary - 1] = '\0';
    if (rating.available && !(fabs(rating.score) <= 1.0 && rating.confidence >= 0.0 &&
                              rating.confidence <= 1.0)) {
        rating.available = 0; /* never show or combine an out-of-range rating */
        snprintf(rating.reason, sizeof rating.reason, "rating out of range");
    }
    if (rating.available)
        *has_data = 1;
    add_composite(weight, &snapshot, &rating, out);
    return JV_OK;
}
