/* The four kinds of dexter_finance answers (outlook, price, change,
 * comparison), plus help and unknown-token replies. Numbers in a reply come
 * only from the market data and the indicator math. */
#include "answer.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "verdict.h"

#define REASON_MAX 200
#define OUTLOOK_DAYS 30
#define NARRATIVE_MAX 700

static void write_source_line(dexter_text *text, const dexter_answer_context *context,
                              int64_t time_ms)
{
    char when[40];
    dexter_format_utc(time_ms, when, sizeof when);
    dexter_text_append(text, "Data: %s; data time %s\n", dexter_market_source(context->market),
                       when);
}

static char *finish(dexter_text *text)
{
    dexter_text_append(text, "%s", dexter_disclaimer);
    return dexter_text_take(text);
}

static char *unavailable(const dexter_answer_context *context, const char *symbol,
                         const char *reason)
{
    dexter_text text = {0};
    dexter_text_append(&text, "%s: market data unavailable (%s).\n", symbol,
                       reason);
    if (dexter_market_is_offline(context->market))
        dexter_text_append(&text, "Source: %s\n", dexter_market_source(context->market));
    return finish(&text);
}

static int64_t quote_time_ms(const dexter_quote *quote, const dexter_series *series)
{
    if (quote && quote->last_updated_s > 0)
        return quote->last_updated_s * 1000;
    return series && series->count ? series->points[series->count - 1].time_ms : 0;
}

/* The price came, the history was too short: say both, invent no verdict. */
static char *price_without_outlook(const dexter_answer_context *context, const char *symbol,
                                   const dexter_quote *quote, const dexter_series *series)
{
    char price[48];
    dexter_format_usd(quote->price, price, sizeof price);
    dexter_text text = {0};
    dexter_text_append(&text, "%s: no outlook: the price history is too short for indicators.\n",
                       symbol);
    dexter_text_append(&text, "Price %s.\n", price);
    write_source_line(&text, context, quote_time_ms(quote, series));
    return finish(&text);
}

/* ---- outlook ---------------------------------------------------------- */

static void chat_component(const dexter_answer_context *context, const char *symbol,
                           dexter_component *component)
{
    memset(component, 0, sizeof *component);
    if (!context->score || !context->score->token_snapshot) {
        snprintf(component->reason, sizeof component->reason,
                 "chat sentiment is not available");
        return;
    }
    jv_token_sentiment snapshot;
    memset(&snapshot, 0, sizeof snapshot);
    int rc = context->score->token_snapshot(symbol, &snapshot);
    if (rc == JV_E_NOTFOUND && snapshot.window_s <= 0) {
        /* the provider fills the window only for a token it tracks */
        snprintf(component->reason, sizeof component->reason,
                 "the sentiment plugin does not track %s", symbol);
        return;
    }
    if (rc != JV_OK && rc != JV_E_NOTFOUND) {
        snprintf(component->reason, sizeof component->reason,
                 "chat sentiment could not be read (%s)",
                 rc == JV_E_STATE ? "the sentiment plugin is shutting down" : "storage error");
        return;
    }
    if (snapshot.samples <= 0 || !isfinite(snapshot.mean)) {
        char window[32];
        dexter_format_duration(snapshot.window_s, window, sizeof window);
        snprintf(component->reason, sizeof component->reason,
                 "no chat messages about %s in the last %s", symbol, window);
        return;
    }
    component->present = 1;
    component->score = fmax(-1.0, fmin(1.0, snapshot.mean));
    component->samples = snapshot.samples;
    component->window_s = snapshot.window_s;
    /* no confidence: sentiment.weight derives chat's from the sample count */
}

static void grok_component(const dexter_answer_context *context, const char *symbol,
                           dexter_component *component)
{
    memset(component, 0, sizeof *component);
    if (!context->weight || !context->weight->grok_rate) {
        snprintf(component->reason, sizeof component->reason,
                 "Grok is not available");
        return;
    }
    jv_grok_rating rating;
    memset(&rating, 0, sizeof rating);
    int rc = context->weight->grok_rate(symbol, &rating);
    rating.reason[sizeof rating.reason - 1] = '\0';
    if (rc != 0 || !rating.available || !isfinite(rating.score) || !isfinite(rating.confidence)) {
        snprintf(component->reason, sizeof component->reason, "%.150s",
                 rating.reason[0] ? rating.reason : "Grok gave no rating");
        return;
    }
    component->present = 1;
    component->score = fmax(-1.0, fmin(1.0, rating.score));
    component->confidence = fmax(0.0, fmin(1.0, rating.confidence));
}

/* One line, printable, so a model's answer cannot smuggle in layout. */
static void clean_narrative(char *text)
{
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

static void add_narrative(const dexter_answer_context *context, dexter_text *text,
                          const dexter_outlook_facts *facts, const dexter_verdict *verdict)
{
    /* narrate is the last member: an older provider's vtable may end before it */
    if (!context->narrative || !context->weight ||
        context->weight->struct_size < offsetof(jv_sentiment_weight_api, narrate) +
                                           sizeof context->weight->narrate ||
        !context->weight->narrate)
        return;
    dexter_text prompt = {0};
    dexter_text_append(&prompt,
                       "Summarise these computed market facts in exactly two plain sentences "
                       "for a chat user. Use no numbers other than those given and give no "
                       "advice. Facts: ");
    dexter_write_facts(&prompt, facts, verdict);
    char *prompt_text = dexter_text_take(&prompt);
    if (!prompt_text)
        return;
    char narrative[NARRATIVE_MAX];
    narrative[0] = '\0';
    int rc = context->weight->narrate(prompt_text, narrative, sizeof narrative);
    free(prompt_text);
    narrative[sizeof narrative - 1] = '\0';
    if (rc != 0 || narrative[0] == '\0')
        return;
    clean_narrative(narrative);
    dexter_text_append(text, "Summary (written by Grok from the facts above): %s\n", narrative);
}

/* The outlook always reads OUTLOOK_DAYS of data: a question naming another
 * window ("this week") must not be left to think its window was used. */
static void write_window_note(dexter_text *text, const dexter_intent *intent)
{
    if (!intent->period_explicit || intent->period_days == OUTLOOK_DAYS)
        return;
    char asked[32];
    dexter_period_label(intent->period_days, asked, sizeof asked);
    dexter_text_append(text,
                       "This outlook is based on the last %d days of data (you asked about %s).\n",
                       OUTLOOK_DAYS, asked);
}

static char *answer_outlook(const dexter_answer_context *context, const dexter_intent *intent)
{
    const dexter_token *token = intent->tokens[0];
    char reason[REASON_MAX] = "";
    dexter_quote quote;
    if (dexter_market_quote(context->market, token->provider_id, &quote, reason, sizeof reason))
        return unavailable(context, token->symbol, reason);
    dexter_series series;
    if (dexter_market_chart(context->market, token->provider_id, OUTLOOK_DAYS, &series, reason,
                            sizeof reason))
        return unavailable(context, token->symbol, reason);

    dexter_indicators indicators;
    const double *change_24h = quote.has_change_24h ? &quote.change_24h : NULL;
    dexter_analyse(series.points, series.count, change_24h, &context->params, &indicators);
    dexter_component components[DEXTER_COMPONENT_COUNT];
    memset(components, 0, sizeof components);
    dexter_component *market = &components[DEXTER_COMPONENT_MARKET];
    if (dexter_momentum(&indicators, &market->score, &market->confidence) == 0) {
        market->present = 1;
        /* days of prices behind the score: the evidence minimum reads it */
        int64_t span_ms = indicators.price_time_ms - indicators.first_time_ms;
        market->samples = span_ms > 0 ? (span_ms + DEXTER_MS_PER_DAY / 2) / DEXTER_MS_PER_DAY : 1;
    }
    else
        snprintf(market->reason, sizeof market->reason, "too little history for indicators");
    chat_component(context, token->symbol, &components[DEXTER_COMPONENT_CHAT]);
    grok_component(context, token->symbol, &components[DEXTER_COMPONENT_GROK]);

    dexter_verdict verdict;
    if (dexter_decide(components, context->weight, &verdict) != 0) {
        char *answer = market->present
                           ? unavailable(context, token->symbol,
                                         "the weighting service refused the components")
                           : price_without_outlook(context, token->symbol, &quote, &series);
        dexter_series_free(&series);
        return answer;
    }
    dexter_outlook_facts facts = {
        .symbol = token->symbol,
        .price = quote.price,
        .price_time_ms = quote_time_ms(&quote, &series),
        .indicators = &indicators,
        .sma_fast = context->params.sma_fast,
        .sma_slow = context->params.sma_slow,
        .daily_basis = context->params.daily_basis,
        .source = dexter_market_source(context->market),
        .offline = dexter_market_is_offline(context->market),
    };
    dexter_text text = {0};
    dexter_write_outlook(&text, &facts, components, &verdict);
    write_window_note(&text, intent);
    add_narrative(context, &text, &facts, &verdict);
    dexter_series_free(&series);
    return finish(&text);
}

/* ---- price ------------------------------------------------------------ */

static char *answer_price(const dexter_answer_context *context, const dexter_token *token)
{
    char reason[REASON_MAX] = "";
    dexter_quote quote;
    if (dexter_market_quote(context->market, token->provider_id, &quote, reason, sizeof reason))
        return unavailable(context, token->symbol, reason);
    char price[48], amount[48];
    dexter_text text = {0};
    dexter_format_usd(quote.price, price, sizeof price);
    dexter_text_append(&text, "%s (%s): %s", token->symbol, token->provider_id, price);
    if (quote.has_change_24h) {
        dexter_format_percent(quote.change_24h, amount, sizeof amount);
        dexter_text_append(&text, ", 24h %s", amount);
    } else {
        dexter_text_append(&text, ", 24h change not reported (the price may be stale)");
    }
    if (quote.has_market_cap) {
        dexter_format_large_usd(quote.market_cap, amount, sizeof amount);
        dexter_text_append(&text, ", market cap %s", amount);
    }
    if (quote.has_volume) {
        dexter_format_large_usd(quote.volume_24h, amount, sizeof amount);
        dexter_text_append(&text, ", 24h volume %s", amount);
    }
    dexter_text_append(&text, "\n");
    write_source_line(&text, context, quote_time_ms(&quote, NULL));
    return finish(&text);
}

/* ---- change and comparison -------------------------------------------- */

typedef struct period_change {
    double percent;
    double start_price, end_price;
    int64_t end_ms;
} period_change;

static int fetch_change(const dexter_answer_context *context, const dexter_token *token,
                        int days, period_change *change, char *reason, size_t reason_length)
{
    dexter_series series;
    if (dexter_market_chart(context->market, token->provider_id, days, &series, reason,
                            reason_length))
        return -1;
    int64_t span = (int64_t)days * DEXTER_MS_PER_DAY;
    int result = dexter_change_over(series.points, series.count, span, &change->percent);
    if (result != 0) {
        double covered = (double)(series.points[series.count - 1].time_ms - series.points[0].time_ms) /
                         (double)DEXTER_MS_PER_DAY;
        snprintf(reason, reason_length, "not enough history for %d days (the data covers %.1f days)",
                 days, covered);
    } else {
        change->end_price = series.points[series.count - 1].price;
        change->start_price = change->end_price / (1.0 + change->percent / 100.0);
        change->end_ms = series.points[series.count - 1].time_ms;
    }
    dexter_series_free(&series);
    return result;
}

static char *answer_change(const dexter_answer_context *context, const dexter_token *token,
                           int days)
{
    char reason[REASON_MAX] = "";
    period_change change;
    if (fetch_change(context, token, days, &change, reason, sizeof reason))
        return unavailable(context, token->symbol, reason);
    char period[32], percent[24], from[48], to[48];
    dexter_period_label(days, period, sizeof period);
    dexter_format_percent(change.percent, percent, sizeof percent);
    dexter_format_usd(change.start_price, from, sizeof from);
    dexter_format_usd(change.end_price, to, sizeof to);
    dexter_text text = {0};
    dexter_text_append(&text, "%s over %s: %s (%s -> %s), %s\n", token->symbol, period, percent,
                       from, to,
                       change.percent > 0.005 ? "up" : change.percent < -0.005 ? "down" : "flat");
    write_source_line(&text, context, change.end_ms);
    return finish(&text);
}

static char *answer_compare(const dexter_answer_context *context, const dexter_intent *intent)
{
    const dexter_token *first = intent->tokens[0];
    const dexter_token *second = intent->tokens[1];
    char reason[REASON_MAX] = "";
    period_change changes[2];
    if (fetch_change(context, first, intent->period_days, &changes[0], reason, sizeof reason))
        return unavailable(context, first->symbol, reason);
    if (fetch_change(context, second, intent->period_days, &changes[1], reason, sizeof reason))
        return unavailable(context, second->symbol, reason);
    char period[32], a[24], b[24], price_a[48], price_b[48];
    dexter_period_label(intent->period_days, period, sizeof period);
    dexter_format_percent(changes[0].percent, a, sizeof a);
    dexter_format_percent(changes[1].percent, b, sizeof b);
    dexter_format_usd(changes[0].end_price, price_a, sizeof price_a);
    dexter_format_usd(changes[1].end_price, price_b, sizeof price_b);
    dexter_text text = {0};
    dexter_text_append(&text, "%s vs %s over %s: %s %s (now %s), %s %s (now %s)\n",
                       first->symbol, second->symbol, period, first->symbol, a, price_a,
                       second->symbol, b, price_b);
    double gap = changes[0].percent - changes[1].percent;
    if (fabs(gap) < 0.005)
        dexter_text_append(&text, "They moved the same.\n");
    else
        dexter_text_append(&text, "%s did better by %.2f percentage points.\n",
                           gap > 0 ? first->symbol : second->symbol, fabs(gap));
    int64_t newest = changes[0].end_ms > changes[1].end_ms ? changes[0].end_ms : changes[1].end_ms;
    write_source_line(&text, context, newest);
    return finish(&text);
}

/* ---- entry points ----------------------------------------------------- */

char *dexter_answer_intent(const dexter_answer_context *context, const dexter_intent *intent)
{
    switch (intent->kind) {
    case DEXTER_INTENT_PRICE:
        return answer_price(context, intent->tokens[0]);
    case DEXTER_INTENT_CHANGE:
        return answer_change(context, intent->tokens[0], intent->period_days);
    case DEXTER_INTENT_COMPARE:
        return answer_compare(context, intent);
    case DEXTER_INTENT_OUTLOOK:
    default:
        return answer_outlook(context, intent);
    }
}

static void write_known_tokens(dexter_text *text, const dexter_answer_context *context)
{
    dexter_text_append(text, "Tokens I know:");
    for (size_t i = 0; i < context->tokens->count; i++)
        dexter_text_append(text, "%s %s", i ? "," : "", context->tokens->tokens[i].symbol);
    dexter_text_append(text, ".");
}

char *dexter_answer_help(const dexter_answer_context *context, const char *lead)
{
    dexter_text text = {0};
    if (lead && lead[0])
        dexter_text_append(&text, "%s\n", lead);
    dexter_text_append(&text,
                       "I answer questions about crypto tokens: outlook (bullish or bearish), "
                       "price, change over a period (today, 7d, 30d, over N days) and "
                       "comparisons. Examples: \"Is SOL bullish right now?\" or "
                       "\"SOL vs ETH over 30 days\".\n");
    write_known_tokens(&text, context);
    return dexter_text_take(&text);
}

char *dexter_answer_unknown_token(const dexter_answer_context *context, const char *word)
{
    dexter_text text = {0};
    dexter_text_append(&text, "I don't know the token \"%s\". ", word);
    write_known_tokens(&text, context);
    return dexter_text_take(&text);
}
