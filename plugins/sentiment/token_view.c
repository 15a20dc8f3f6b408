/* Builds the per-token answer (see token_view.h). */
#include "token_view.h"
#include "history.h"
#include "scorer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TREND_STEADY 0.05 /* mean changes smaller than this are "steady" */

/* The view is Telegram HTML: the token's label bold, its numbers in
 * monospace; the symbol (configured) and Grok's words (data) escaped. */
static void add_chat_line(const jv_token_sentiment *snapshot, const char *raw_symbol,
                          const char *window, sentiment_text *out)
{
    char symbol[128];
    sentiment_escape(raw_symbol, symbol, sizeof symbol);
    if (snapshot->samples == 0) {
        sentiment_text_add(out, "<b>%s:</b> no chat messages mentioned it in the last %s.\n",
                           symbol, window);
        return;
    }
    sentiment_text_add(
        out,
        "<b>%s:</b> chat sentiment <code>%+.2f</code> from %" PRId64 " message%s in the last %s.\n",
        symbol, snapshot->mean, snapshot->samples, snapshot->samples == 1 ? "" : "s", window);
}

static void add_trend_line(const jv_token_sentiment *snapshot, const char *window,
                           sentiment_text *out)
{
    if (snapshot->previous_samples == 0) {
        if (snapshot->samples > 0)
            sentiment_text_add(out, "<b>Trend:</b> no messages in the %s before to compare with.\n",
                               window);
        return;
    }
    if (snapshot->samples == 0) {
        sentiment_text_add(
            out, "The %s before had %" PRId64 " message%s averaging <code>%+.2f</code>.\n", window,
            snapshot->previous_samples, snapshot->previous_samples == 1 ? "" : "s",
            snapshot->previous_mean);
        return;
    }
    double change = snapshot->mean - snapshot->previous_mean;
    const char *direction = fabs(change) < TREND_STEADY ? "steady" : change > 0 ? "up" : "down";
    sentiment_text_add(out,
                       "<b>Trend:</b> %s (<code>%+.2f</code>) versus the %s before: "
                       "<code>%+.2f</code> from %" PRId64 " message%s.\n",
                       direction, change, window, snapshot->previous_mean,
                       snapshot->previous_samples, snapshot->previous_samples == 1 ? "" : "s");
}

static void add_composite(const jv_sentiment_weight_api *weight, const jv_token_sentiment *snapshot,
                          const jv_grok_rating2 *rating, sentiment_text *out)
{
    jv_weight_component components[2] = {
        {.name = "chat",
         .present = snapshot->samples > 0,
         .score = snapshot->mean,
         .confidence = 0,
         .samples = snapshot->samples},
        {.name = "grok",
         .present = rating->available,
         .score = rating->score,
         .confidence = rating->confidence,
         .samples = 0},
    };
    char reason[sizeof rating->reason * 6], summary[sizeof rating->summary * 6];
    sentiment_escape(rating->reason[0] ? rating->reason : "no reason given", reason, sizeof reason);
    sentiment_escape(rating->summary, summary, sizeof summary);
    if (!components[0].present && !components[1].present) {
        sentiment_text_add(out,
                           "<b>Chat and Grok together:</b> nothing to combine: no chat messages, "
                           "and Grok is unavailable (%s).\n",
                           reason);
        return;
    }
    jv_weight_result2 result = {.struct_size = sizeof result};
    if (weight->combine2(weight->context, components, 2, &result) != JV_OK ||
        result.label[0] == '\0') {
        sentiment_text_add(out, "<b>Chat and Grok together:</b> could not be combined.\n");
        return;
    }
    char label[sizeof result.label * 6], note[sizeof result.evidence_note * 6];
    sentiment_escape(result.label, label, sizeof label);
    sentiment_escape(result.evidence_note, note, sizeof note);
    /* the same call, label and formats as dexter's outlook line */
    if (result.enough_evidence)
        sentiment_text_add(out,
                           "<b>Chat and Grok together:</b> <code>%+.2f</code> (%s), confidence "
                           "<code>%.0f%%</code>\n",
                           result.composite, label, result.certainty * 100.0);
    else
        sentiment_text_add(
            out,
            "<b>Chat and Grok together:</b> <code>%+.2f</code> (undecided, too little evidence: "
            "%s)\n",
            result.composite, note);
    sentiment_text_add(out, "Coverage: %s, %zu of 2 sources\n",
                       result.sources_used == 2 ? "chat, Grok"
                       : components[0].present  ? "chat only"
                                                : "Grok only",
                       result.sources_used);
    if (components[0].present)
        sentiment_text_add(
            out,
            "  chat: <code>%+.2f</code> x weight <code>%.2f</code> = <code>%+.2f</code> (%" PRId64
            " message%s)\n",
            snapshot->mean, result.weight[0], result.contribution[0], snapshot->samples,
            snapshot->samples == 1 ? "" : "s");
    else
        sentiment_text_add(out, "  chat: no messages, no weight\n");
    if (components[1].present)
        sentiment_text_add(out,
                           "  Grok: <code>%+.2f</code> x weight <code>%.2f</code> = "
                           "<code>%+.2f</code> (confidence <code>%.0f%%</code>)\n",
                           rating->score, result.weight[1], result.contribution[1],
                           rating->confidence * 100.0);
    else
        sentiment_text_add(out, "  Grok: unavailable (%s)\n", reason);
    if (components[1].present && rating->summary[0] != '\0')
        sentiment_text_add(out, "  Grok says: %s\n", summary);
}

int sentiment_token_view(sentiment_state *state, size_t token_index, int64_t now_ms,
                         sentiment_text *out, int *has_data)
{
    const char *symbol = state->tokens.tokens[token_index].symbol;
    char window[32];
    jv_format_duration(state->window_ms / 1000, window, sizeof window);
    jv_token_sentiment snapshot;
    int result = sentiment_history_window(state->api, state->self, symbol, now_ms, state->window_ms,
                                          &snapshot);
    *has_data = 0;
    if (result != JV_OK) {
        char shown[128];
        sentiment_text_add(out, "<b>%s:</b> the sentiment history could not be read (%s).\n",
                           sentiment_escape(symbol, shown, sizeof shown),
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
    jv_grok_rating2 rating = {.struct_size = sizeof rating};
    weight->grok_rate2(weight->context, symbol, &rating);
    rating.reason[sizeof rating.reason - 1] = '\0';
    rating.summary[sizeof rating.summary - 1] = '\0';
    if (rating.available &&
        !(fabs(rating.score) <= 1.0 && rating.confidence >= 0.0 && rating.confidence <= 1.0)) {
        rating.available = 0; /* never show or combine an out-of-range rating */
        snprintf(rating.reason, sizeof rating.reason, "rating out of range");
    }
    if (rating.available)
        *has_data = 1;
    add_composite(weight, &snapshot, &rating, out);
    return JV_OK;
}

void sentiment_add_symbols(const sentiment_state *state, const size_t *tokens, size_t count,
                           sentiment_text *out)
{
    for (size_t i = 0; i < count; i++) {
        char symbol[128];
        sentiment_text_add(
            out, "%s%s", i ? ", " : "",
            sentiment_escape(state->tokens.tokens[tokens[i]].symbol, symbol, sizeof symbol));
    }
}
