/* /chart for dexter_finance: the request, the series (the market's shared
 * 30-day chart for 24h/7d/30d, so the averages have points before the
 * window to start from), the caption and the picture. */
#include "chart_answer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry.h"
#include "text.h"
#include "verdict.h"

#define REASON_MAX 200
#define FETCH_DAYS_MIN 30 /* the outlook's span: one cached chart serves them all */
#define HOUR_MS 3600000LL

typedef struct chart_period {
    const char *name;
    const char *alias;
    int days;
} chart_period;

static const chart_period periods[] = {
    {"24h", "1d", 1}, {"7d", "1w", 7}, {"30d", "1m", 30}, {"90d", "3m", 90}};

static const chart_period *find_period(const char *word)
{
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++)
        if (strcasecmp(word, periods[i].name) == 0 || strcasecmp(word, periods[i].alias) == 0)
            return &periods[i];
    return NULL;
}

/* "7d", "48h", "1y": looks like a period, so it is not taken for a token. */
static int looks_like_period(const char *word)
{
    size_t digits = strspn(word, "0123456789");
    return digits > 0 && word[digits] != '\0' && strchr("hdwmyHDWMY", word[digits]) &&
           word[digits + 1] == '\0';
}

static char *usage(const char *lead)
{
    dexter_text text = {0};
    dexter_text_append(&text, "%sUsage: %s, for example /chart SOL 7d.", lead ? lead : "",
                       DEXTER_CHART_USAGE);
    return dexter_text_take(&text);
}

int dexter_chart_read_request(const dexter_answer_context *context, int argc,
                              const char *const *argv, dexter_chart_request *request, char **reply)
{
    memset(request, 0, sizeof *request);
    *reply = NULL;
    const chart_period *period = NULL;
    const char *token_word = NULL;
    for (int i = 0; i < argc; i++) {
        const char *word = argv[i];
        const chart_period *found = find_period(word);
        if (found && !period) {
            period = found;
        } else if (looks_like_period(word) && !period) {
            dexter_text text = {0};
            dexter_text_append(&text, "I can chart 24h, 7d, 30d or 90d, not \"%.16s\". ", word);
            char *lead = dexter_text_take(&text);
            *reply = lead ? usage(lead) : NULL;
            free(lead);
            return -1;
        } else if (!token_word) {
            token_word = word;
        } else {
            *reply = usage("One token and one period at most. ");
            return -1;
        }
    }
    if (!token_word) {
        *reply = usage(NULL);
        return -1;
    }
    const dexter_token *token = dexter_token_lookup(context->tokens, token_word);
    if (!token) {
        char word[DEXTER_ALIAS_MAX];
        snprintf(word, sizeof word, "%s", token_word[0] == '$' ? token_word + 1 : token_word);
        *reply = dexter_answer_unknown_token(context, word,
                                             dexter_registry_suggest(context->tokens, word));
        return -1;
    }
    if (!period)
        period = &periods[1];
    request->token = token;
    request->period_days = period->days;
    snprintf(request->period, sizeof request->period, "%s", period->name);
    return 0;
}

/* ---- the answer ------------------------------------------------------- */

static size_t first_in_window(const dexter_series *series, int64_t start_ms)
{
    size_t first = 0;
    while (first + 1 < series->count && series->points[first].time_ms < start_ms)
        first++;
    return first;
}

static void write_figures(dexter_text *text, const dexter_chart_request *request,
                          const dexter_series *series, size_t first)
{
    const dexter_point *newest = &series->points[series->count - 1];
    size_t high = first, low = first;
    for (size_t i = first; i < series->count; i++) {
        if (series->points[i].price > series->points[high].price)
            high = i;
        if (series->points[i].price < series->points[low].price)
            low = i;
    }
    char now[48], from[48], percent[24], high_price[48], low_price[48], high_when[40], low_when[40];
    dexter_format_usd(newest->price, now, sizeof now);
    dexter_format_usd(series->points[first].price, from, sizeof from);
    dexter_format_usd(series->points[high].price, high_price, sizeof high_price);
    dexter_format_usd(series->points[low].price, low_price, sizeof low_price);
    dexter_format_utc(series->points[high].time_ms, high_when, sizeof high_when);
    dexter_format_utc(series->points[low].time_ms, low_when, sizeof low_when);
    double change = 0;
    dexter_text_append(text, "%s (%s), %s: %s", request->token->symbol, request->token->name,
                       request->period, now);
    if (first + 1 < series->count &&
        dexter_percent_change(series->points[first].price, newest->price, &change) == 0) {
        dexter_format_percent(change, percent, sizeof percent);
        dexter_text_append(text, ", %s from %s", percent, from);
    }
    dexter_text_append(text, ".\nHigh %s on %s, low %s on %s.\n", high_price, high_when, low_price,
                       low_when);
}

static void write_coverage(dexter_text *text, const dexter_chart_request *request,
                           const dexter_series *series, int64_t start_ms)
{
    if (series->points[0].time_ms <= start_ms + HOUR_MS)
        return;
    double covered =
        (double)(series->points[series->count - 1].time_ms - series->points[0].time_ms) /
        (double)DEXTER_MS_PER_DAY;
    char asked[32];
    dexter_period_label(request->period_days, asked, sizeof asked);
    dexter_text_append(text, "The data covers only %.1f days of the %s asked for.\n", covered,
                       asked);
}

static int draw_chart(const dexter_answer_context *context, const dexter_chart_request *request,
                      const dexter_series *series, int64_t start_ms, dexter_chart_png *png,
                      char *reason, size_t reason_length)
{
    dexter_chart_input input = {
        .points = series->points,
        .count = series->count,
        .display_from_ms = start_ms,
        .symbol = request->token->symbol,
        .period = request->period,
        .data_time_ms = series->points[series->count - 1].time_ms,
        .source = dexter_market_source(context->market),
        .sma_fast = context->params.sma_fast,
        .sma_slow = context->params.sma_slow,
    };
    return dexter_chart_render(&input, png, reason, reason_length);
}

static char *unavailable(const char *symbol, const char *reason)
{
    dexter_text text = {0};
    dexter_text_append(&text, "%s: no chart: market data unavailable (%s).\n", symbol, reason);
    return dexter_text_take(&text);
}

int dexter_chart_answer_build(const dexter_answer_context *context,
                              const dexter_chart_request *request, int draw,
                              dexter_chart_answer *answer)
{
    memset(answer, 0, sizeof *answer);
    char reason[REASON_MAX] = "";
    dexter_series series;
    int days = request->period_days < FETCH_DAYS_MIN ? FETCH_DAYS_MIN : request->period_days;
    if (dexter_market_chart(context->market, request->token->provider_id, days, &series, reason,
                            sizeof reason) != 0) {
        answer->caption = unavailable(request->token->symbol, reason);
        return -1;
    }
    int64_t newest_ms = series.points[series.count - 1].time_ms;
    int64_t start_ms = newest_ms - (int64_t)request->period_days * DEXTER_MS_PER_DAY;
    if (draw &&
        draw_chart(context, request, &series, start_ms, &answer->png, reason, sizeof reason) != 0) {
        answer->caption = unavailable(request->token->symbol, reason);
        dexter_series_free(&series);
        return -1;
    }
    dexter_text text = {0};
    write_figures(&text, request, &series, first_in_window(&series, start_ms));
    write_coverage(&text, request, &series, start_ms);
    char when[40];
    dexter_format_utc(newest_ms, when, sizeof when);
    dexter_text_append(&text, "Data: %s; data time %s\n%s", dexter_market_source(context->market),
                       when, dexter_disclaimer);
    answer->caption = dexter_text_take(&text);
    dexter_series_free(&series);
    return 0;
}

void dexter_chart_answer_free(dexter_chart_answer *answer)
{
    free(answer->caption);
    dexter_chart_png_free(&answer->png);
    memset(answer, 0, sizeof *answer);
}
