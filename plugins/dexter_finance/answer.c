/* The kinds of dexter_finance answers (outlook, price, change, comparison,
 * market cap, volume, period high/low, all-time high), plus help and
 * unknown-token replies. Numbers in a reply come only from the market data
 * and the indicator math. */
#include "answer.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "narrative.h"
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

/* The disclaimer is added once, by dexter_answer_intent. */
static char *finish(dexter_text *text)
{
    return dexter_text_take(text);
}

/* Every window answer reads at least this many days of chart, so "7d" or
 * "24h" starts at the same point in every answer (one series, one rule:
 * the last point at or before newest - window). */
static int chart_days(int period_days)
{
    return period_days < 30 ? 30 : period_days;
}

static int64_t window_ms(const dexter_intent *intent, const dexter_series *series)
{
    if (intent->period_ytd && series->count > 0) {
        time_t newest = (time_t)(series->points[series->count - 1].time_ms / 1000);
        struct tm parts;
        gmtime_r(&newest, &parts);
        parts.tm_mon = 0;
        parts.tm_mday = 1;
        parts.tm_hour = parts.tm_min = parts.tm_sec = 0;
        return series->points[series->count - 1].time_ms - (int64_t)timegm(&parts) * 1000;
    }
    return (int64_t)intent->period_hours * 3600000LL;
}

static char *unavailable(const dexter_answer_context *context, const char *symbol,
                         const char *reason)
{
    dexter_text text = {0};
    dexter_text_append(&text, "%s: market data unavailable (%s).\n", symbol, reason);
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
    if (!context->score || !context->score->token_snapshot2) {
        snprintf(component->reason, sizeof component->reason, "chat sentiment is not available");
        return;
    }
    jv_token_sentiment2 snapshot = {.struct_size = sizeof snapshot};
    int rc = context->score->token_snapshot2(context->score->context, symbol, &snapshot);
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
        jv_format_duration(snapshot.window_s, window, sizeof window);
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
    if (!context->weight || !context->weight->grok_rate2) {
        snprintf(component->reason, sizeof component->reason, "Grok is not available");
        return;
    }
    jv_grok_rating2 rating = {.struct_size = sizeof rating};
    int rc = context->weight->grok_rate2(context->weight->context, symbol, &rating);
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

/* The Grok summary: asked for only when Grok's rating was used, and shown
 * only when it passes the checker (numbers from the facts, direction as the
 * verdict); a dropped one is logged, never shown. */
static void add_narrative(const dexter_answer_context *context, dexter_text *text,
                          const dexter_outlook_facts *facts, const dexter_verdict *verdict)
{
    /* the vtable was checked to reach narrate2 when it was acquired */
    if (!context->narrative || !context->weight || !verdict->used[DEXTER_COMPONENT_GROK] ||
        !context->weight->narrate2)
        return;
    dexter_text facts_text = {0};
    dexter_write_facts(&facts_text, facts, verdict);
    char *facts_line = dexter_text_take(&facts_text);
    if (!facts_line)
        return;
    dexter_text prompt = {0};
    dexter_text_append(&prompt,
                       "Summarise these computed market facts in exactly two plain sentences "
                       "for a chat user. Use no numbers other than those given and give no "
                       "advice. Facts: %s",
                       facts_line);
    char *prompt_text = dexter_text_take(&prompt);
    char narrative[NARRATIVE_MAX];
    narrative[0] = '\0';
    int rc = prompt_text ? context->weight->narrate2(context->weight->context, prompt_text,
                                                     narrative, sizeof narrative)
                         : -1;
    free(prompt_text);
    narrative[sizeof narrative - 1] = '\0';
    if (rc == 0 && narrative[0] != '\0') {
        clean_narrative(narrative);
        char why[160];
        if (dexter_narrative_check(narrative, facts_line, verdict->label, why, sizeof why) == 0)
            dexter_text_append(text, "Summary (written by Grok from the facts above): %s\n",
                               narrative);
        else if (context->log)
            context->log(context->log_user, "Grok summary for %s dropped: %s", facts->symbol, why);
    }
    free(facts_line);
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

/* A window other than the outlook's: its own change, so the answer to "this
 * week" (or a [7d] button) says how that window went. */
static void write_window_change(dexter_text *text, const dexter_intent *intent,
                                const dexter_series *series)
{
    if (!intent->period_explicit || intent->period_days == OUTLOOK_DAYS || series->count < 2)
        return;
    const dexter_point *newest = &series->points[series->count - 1];
    int64_t start_ms = newest->time_ms - (int64_t)intent->period_hours * 3600000LL;
    size_t first = 0;
    while (first + 1 < series->count && series->points[first].time_ms < start_ms)
        first++;
    double change = 0;
    if (first + 1 >= series->count ||
        dexter_percent_change(series->points[first].price, newest->price, &change) != 0)
        return;
    char window[32], percent[24], from[48];
    dexter_window_label(intent, window, sizeof window);
    dexter_format_percent(change, percent, sizeof percent);
    dexter_format_usd(series->points[first].price, from, sizeof from);
    dexter_text_append(text, "Last %s: %s from %s.\n", window, percent, from);
}

typedef struct quote_job {
    dexter_market *market;
    const char *id;
    dexter_quote quote;
    char reason[REASON_MAX];
    int failed;
} quote_job;

static void *run_quote(void *argument)
{
    quote_job *job = argument;
    job->failed = dexter_market_quote(job->market, job->id, &job->quote, job->reason,
                                      sizeof job->reason) != 0;
    return NULL;
}

/* The price and the chart are fetched at the same time: two round trips
 * cost one. Without a thread the quote is fetched after the chart. */
static int fetch_quote_and_chart(const dexter_answer_context *context, const dexter_token *token,
                                 int days, dexter_quote *quote, dexter_series *series, char *reason,
                                 size_t reason_length)
{
    quote_job job = {.market = context->market, .id = token->provider_id};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, run_quote, &job) == 0;
    char chart_reason[REASON_MAX] = "";
    int chart_failed = dexter_market_chart(context->market, token->provider_id, days, series,
                                           chart_reason, sizeof chart_reason) != 0;
    if (threaded)
        pthread_join(thread, NULL);
    else
        run_quote(&job);
    if (job.failed || chart_failed) {
        /* both failed: the provider's own answer ("HTTP 429 ...") says more
         * than the pause the other request then met, whichever came first */
        int use_chart = chart_failed && (!job.failed || (strncmp(job.reason, "HTTP ", 5) != 0 &&
                                                         strncmp(chart_reason, "HTTP ", 5) == 0));
        snprintf(reason, reason_length, "%s", use_chart ? chart_reason : job.reason);
        if (!chart_failed)
            dexter_series_free(series);
        return -1;
    }
    *quote = job.quote;
    return 0;
}

static char *answer_outlook(const dexter_answer_context *context, const dexter_intent *intent,
                            const dexter_token *token)
{
    char reason[REASON_MAX] = "";
    dexter_quote quote;
    dexter_series series;
    if (fetch_quote_and_chart(context, token, OUTLOOK_DAYS, &quote, &series, reason, sizeof reason))
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
    } else
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
    write_window_change(&text, intent, &series);
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
    dexter_text_append(&text, "%s (%s): %s", token->symbol, token->name, price);
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

static void not_enough_history(const dexter_series *series, const char *window, char *reason,
                               size_t reason_length)
{
    double covered =
        series->count
            ? (double)(series->points[series->count - 1].time_ms - series->points[0].time_ms) /
                  (double)DEXTER_MS_PER_DAY
            : 0.0;
    snprintf(reason, reason_length, "not enough history for %s (the data covers %.1f days)", window,
             covered);
}

static int fetch_change(const dexter_answer_context *context, const dexter_token *token,
                        const dexter_intent *intent, period_change *change, char *reason,
                        size_t reason_length)
{
    dexter_series series;
    if (dexter_market_chart(context->market, token->provider_id, chart_days(intent->period_days),
                            &series, reason, reason_length))
        return -1;
    int result = dexter_change_over(series.points, series.count, window_ms(intent, &series),
                                    &change->percent);
    if (result != 0) {
        char window[32];
        dexter_window_label(intent, window, sizeof window);
        not_enough_history(&series, window, reason, reason_length);
    } else {
        change->end_price = series.points[series.count - 1].price;
        change->start_price = change->end_price / (1.0 + change->percent / 100.0);
        change->end_ms = series.points[series.count - 1].time_ms;
    }
    dexter_series_free(&series);
    return result;
}

/* "up" only when the prices shown differ: $1.00 -> $1.00 is flat. */
static const char *direction(double percent, const char *from, const char *to)
{
    if (strcmp(from, to) == 0 || fabs(percent) < 0.005)
        return "flat";
    return percent > 0 ? "up" : "down";
}

static char *answer_change(const dexter_answer_context *context, const dexter_token *token,
                           const dexter_intent *intent)
{
    char reason[REASON_MAX] = "";
    period_change change;
    if (fetch_change(context, token, intent, &change, reason, sizeof reason))
        return unavailable(context, token->symbol, reason);
    char period[32], percent[24], from[48], to[48];
    dexter_window_label(intent, period, sizeof period);
    dexter_format_percent(change.percent, percent, sizeof percent);
    dexter_format_usd(change.start_price, from, sizeof from);
    dexter_format_usd(change.end_price, to, sizeof to);
    dexter_text text = {0};
    dexter_text_append(&text, "%s over %s: %s (%s -> %s), %s\n", token->symbol, period, percent,
                       from, to, direction(change.percent, from, to));
    write_source_line(&text, context, change.end_ms);
    return finish(&text);
}

/* N tokens side by side; one that fails is named beside the others. */
static char *answer_compare(const dexter_answer_context *context, const dexter_intent *intent)
{
    period_change changes[DEXTER_MAX_TOKENS];
    int ok[DEXTER_MAX_TOKENS] = {0};
    char reasons[DEXTER_MAX_TOKENS][REASON_MAX];
    int worked = 0, best = -1, worst = -1;
    int64_t newest = 0;
    for (int i = 0; i < intent->token_count; i++) {
        reasons[i][0] = '\0';
        ok[i] = fetch_change(context, intent->tokens[i], intent, &changes[i], reasons[i],
                             sizeof reasons[i]) == 0;
        if (!ok[i])
            continue;
        worked++;
        if (best < 0 || changes[i].percent > changes[best].percent)
            best = i;
        if (worst < 0 || changes[i].percent < changes[worst].percent)
            worst = i;
        if (changes[i].end_ms > newest)
            newest = changes[i].end_ms;
    }
    char period[32];
    dexter_window_label(intent, period, sizeof period);
    dexter_text text = {0};
    dexter_text_append(&text, "Comparison over %s:\n", period);
    for (int i = 0; i < intent->token_count; i++) {
        const char *symbol = intent->tokens[i]->symbol;
        if (!ok[i]) {
            dexter_text_append(&text, "- %s: market data unavailable (%s)\n", symbol, reasons[i]);
            continue;
        }
        char percent[24], price[48];
        dexter_format_percent(changes[i].percent, percent, sizeof percent);
        dexter_format_usd(changes[i].end_price, price, sizeof price);
        dexter_text_append(&text, "- %s: %s (now %s)\n", symbol, percent, price);
    }
    if (worked >= 2) {
        double gap = changes[best].percent - changes[worst].percent;
        if (gap < 0.005)
            dexter_text_append(&text, "They moved the same.\n");
        else
            dexter_text_append(&text, "%s did best, %.2f percentage points ahead of %s.\n",
                               intent->tokens[best]->symbol, gap, intent->tokens[worst]->symbol);
    } else {
        dexter_text_append(&text, "Too few of them have data to compare.\n");
    }
    if (worked > 0)
        write_source_line(&text, context, newest);
    return finish(&text);
}

/* ---- market cap, volume, high / low, all-time high --------------------- */

static char *answer_quote_figure(const dexter_answer_context *context, const dexter_token *token,
                                 int volume)
{
    char reason[REASON_MAX] = "";
    dexter_quote quote;
    if (dexter_market_quote(context->market, token->provider_id, &quote, reason, sizeof reason))
        return unavailable(context, token->symbol, reason);
    int has = volume ? quote.has_volume : quote.has_market_cap;
    double value = volume ? quote.volume_24h : quote.market_cap;
    dexter_text text = {0};
    if (!has) {
        dexter_text_append(&text, "%s: the data source did not report its %s.\n", token->symbol,
                           volume ? "24h trading volume" : "market cap");
    } else {
        char amount[48], price[48];
        dexter_format_large_usd(value, amount, sizeof amount);
        dexter_format_usd(quote.price, price, sizeof price);
        dexter_text_append(&text, "%s %s: %s (price %s)\n", token->symbol,
                           volume ? "24h trading volume" : "market cap", amount, price);
    }
    write_source_line(&text, context, quote_time_ms(&quote, NULL));
    return finish(&text);
}

static char *answer_extreme(const dexter_answer_context *context, const dexter_token *token,
                            const dexter_intent *intent)
{
    char reason[REASON_MAX] = "";
    dexter_series series;
    int days = intent->kind == DEXTER_INTENT_ATH ? DEXTER_MAX_PERIOD_DAYS
                                                 : chart_days(intent->period_days);
    if (dexter_market_chart(context->market, token->provider_id, days, &series, reason,
                            sizeof reason))
        return unavailable(context, token->symbol, reason);
    int want_high = intent->kind != DEXTER_INTENT_LOW;
    int64_t newest = series.points[series.count - 1].time_ms;
    int64_t start = intent->kind == DEXTER_INTENT_ATH ? series.points[0].time_ms
                                                      : newest - window_ms(intent, &series);
    size_t found = series.count;
    for (size_t i = 0; i < series.count; i++) {
        if (series.points[i].time_ms < start)
            continue;
        if (found == series.count ||
            (want_high ? series.points[i].price > series.points[found].price
                       : series.points[i].price < series.points[found].price))
            found = i;
    }
    dexter_text text = {0};
    char price[48], when[40], window[32], now[48];
    dexter_format_usd(series.points[found].price, price, sizeof price);
    dexter_format_utc(series.points[found].time_ms, when, sizeof when);
    dexter_format_usd(series.points[series.count - 1].price, now, sizeof now);
    double covered = (double)(newest - series.points[0].time_ms) / (double)DEXTER_MS_PER_DAY;
    if (intent->kind == DEXTER_INTENT_ATH) {
        dexter_text_append(&text,
                           "%s: highest price in the %.0f days of data I have: %s on %s "
                           "(now %s).\n",
                           token->symbol, covered, price, when, now);
        dexter_text_append(&text,
                           "The all-time high may be older and higher: my data goes back "
                           "%d days at most.\n",
                           DEXTER_MAX_PERIOD_DAYS);
    } else {
        dexter_window_label(intent, window, sizeof window);
        dexter_text_append(&text, "%s %s over %s: %s on %s (now %s).\n", token->symbol,
                           want_high ? "high" : "low", window, price, when, now);
        if (start < series.points[0].time_ms - 3600000LL)
            dexter_text_append(&text, "The data covers only %.1f days of that window.\n", covered);
        dexter_text_append(&text,
                           "From %s price points, not every trade: the true %s may be a "
                           "little %s.\n",
                           days <= 90 ? "hourly" : "daily", want_high ? "high" : "low",
                           want_high ? "higher" : "lower");
    }
    write_source_line(&text, context, newest);
    dexter_series_free(&series);
    return finish(&text);
}

/* ---- entry points ----------------------------------------------------- */

static char *answer_one(const dexter_answer_context *context, const dexter_intent *intent,
                        const dexter_token *token)
{
    switch (intent->kind) {
        case DEXTER_INTENT_PRICE: return answer_price(context, token);
        case DEXTER_INTENT_CHANGE: return answer_change(context, token, intent);
        case DEXTER_INTENT_MARKET_CAP: return answer_quote_figure(context, token, 0);
        case DEXTER_INTENT_VOLUME: return answer_quote_figure(context, token, 1);
        case DEXTER_INTENT_HIGH:
        case DEXTER_INTENT_LOW:
        case DEXTER_INTENT_ATH: return answer_extreme(context, token, intent);
        case DEXTER_INTENT_OUTLOOK:
        default: return answer_outlook(context, intent, token);
    }
}

static void write_preamble(dexter_text *text, const dexter_intent *intent)
{
    if (intent->forecast)
        dexter_text_append(text, "I can't forecast prices: nobody can do that reliably. Here is "
                                 "what the data shows now.\n");
    if (intent->currency[0]) {
        char upper[8];
        size_t i = 0;
        for (; intent->currency[i] && i + 1 < sizeof upper; i++)
            upper[i] = (char)(intent->currency[i] - 'a' + 'A');
        upper[i] = '\0';
        dexter_text_append(text, "Prices are in USD only (you asked for %s).\n", upper);
    }
}

/* After the figures: how a calendar word was read. An outlook names its
 * own window (write_window_note). */
static void write_period_note(dexter_text *text, const dexter_intent *intent)
{
    if (intent->period_note[0] && intent->kind != DEXTER_INTENT_OUTLOOK)
        dexter_text_append(text, "Window: %s.\n", intent->period_note);
}

char *dexter_answer_intent(const dexter_answer_context *context, const dexter_intent *intent)
{
    dexter_text text = {0};
    write_preamble(&text, intent);
    if (intent->kind == DEXTER_INTENT_COMPARE && intent->token_count >= 2) {
        char *body = answer_compare(context, intent);
        dexter_text_append(&text, "%s", body ? body : "");
        free(body);
    } else {
        for (int i = 0; i < intent->token_count; i++) {
            char *body = answer_one(context, intent, intent->tokens[i]);
            dexter_text_append(&text, "%s", body ? body : "");
            free(body);
        }
    }
    write_period_note(&text, intent);
    dexter_text_append(&text, "%s", dexter_disclaimer);
    return dexter_text_take(&text);
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

char *dexter_answer_unknown_token(const dexter_answer_context *context, const char *word,
                                  const dexter_token *suggestion)
{
    dexter_text text = {0};
    dexter_text_append(&text, "I don't know the token \"%s\". ", word);
    if (suggestion)
        dexter_text_append(&text, "Did you mean %s (%s)? ", suggestion->symbol, suggestion->name);
    write_known_tokens(&text, context);
    return dexter_text_take(&text);
}
