/* Indicator math for dexter_finance (formulas in indicators.h and
 * docs/dexter_finance.md). Every function refuses input it cannot use
 * rather than returning a guess. */
#include "indicators.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_HOUR 3600000LL

static int usable(double value)
{
    return isfinite(value) && value > 0.0;
}

int dexter_percent_change(double from, double to, double *percent)
{
    if (!usable(from) || !isfinite(to))
        return -1;
    *percent = (to - from) / from * 100.0;
    return 0;
}

int dexter_change_over(const dexter_point *points, size_t count, int64_t span_ms, double *percent)
{
    if (!points || count < 2 || span_ms <= 0)
        return -1;
    const dexter_point *newest = &points[count - 1];
    int64_t target = newest->time_ms - span_ms;
    const dexter_point *start = NULL;
    for (size_t i = count - 1; i-- > 0;) {
        if (points[i].time_ms <= target) {
            start = &points[i];
            break;
        }
    }
    if (!start) {
        int64_t tolerance = span_ms / 20 > MS_PER_HOUR ? span_ms / 20 : MS_PER_HOUR;
        if (points[0].time_ms - target > tolerance)
            return -1;
        start = &points[0];
    }
    if (start == newest)
        return -1;
    return dexter_percent_change(start->price, newest->price, percent);
}

int dexter_sma(const double *values, size_t count, size_t window, double *mean)
{
    if (!values || window == 0 || count < window)
        return -1;
    double sum = 0.0;
    for (size_t i = count - window; i < count; i++)
        sum += values[i];
    *mean = sum / (double)window;
    return isfinite(*mean) ? 0 : -1;
}

int dexter_rsi(const double *closes, size_t count, size_t period, double *rsi)
{
    if (!closes || period == 0 || count <= period)
        return -1;
    double gain = 0.0, loss = 0.0;
    for (size_t i = 1; i <= period; i++) {
        double delta = closes[i] - closes[i - 1];
        if (delta > 0)
            gain += delta;
        else
            loss -= delta;
    }
    gain /= (double)period;
    loss /= (double)period;
    for (size_t i = period + 1; i < count; i++) {
        double delta = closes[i] - closes[i - 1];
        double up = delta > 0 ? delta : 0.0;
        double down = delta < 0 ? -delta : 0.0;
        gain = (gain * (double)(period - 1) + up) / (double)period;
        loss = (loss * (double)(period - 1) + down) / (double)period;
    }
    if (!isfinite(gain) || !isfinite(loss))
        return -1;
    if (loss == 0.0)
        *rsi = gain == 0.0 ? 50.0 : 100.0;
    else
        *rsi = 100.0 - 100.0 / (1.0 + gain / loss);
    return 0;
}

int dexter_volatility(const double *closes, size_t count, double periods_per_year,
                      double *annualised)
{
    if (!closes || count < 3 || !(periods_per_year > 0))
        return -1;
    size_t returns = count - 1;
    double sum = 0.0;
    for (size_t i = 1; i < count; i++) {
        if (!usable(closes[i]) || !usable(closes[i - 1]))
            return -1;
        sum += log(closes[i] / closes[i - 1]);
    }
    double mean = sum / (double)returns;
    double squares = 0.0;
    for (size_t i = 1; i < count; i++) {
        double deviation = log(closes[i] / closes[i - 1]) - mean;
        squares += deviation * deviation;
    }
    *annualised = sqrt(squares / (double)(returns - 1)) * sqrt(periods_per_year);
    return isfinite(*annualised) ? 0 : -1;
}

int dexter_high_low(const double *values, size_t count, double *high, double *low,
                    double *below_high_percent, double *above_low_percent)
{
    if (!values || count == 0)
        return -1;
    double highest = values[0], lowest = values[0];
    for (size_t i = 1; i < count; i++) {
        if (values[i] > highest)
            highest = values[i];
        if (values[i] < lowest)
            lowest = values[i];
    }
    if (!usable(highest) || !usable(lowest))
        return -1;
    double last = values[count - 1];
    *high = highest;
    *low = lowest;
    *below_high_percent = (highest - last) / highest * 100.0;
    *above_low_percent = (last - lowest) / lowest * 100.0;
    return 0;
}

static int64_t utc_day(int64_t time_ms)
{
    /* floor division, so times before 1970 would still bucket correctly */
    return time_ms >= 0 ? time_ms / DEXTER_MS_PER_DAY
                        : -((-time_ms + DEXTER_MS_PER_DAY - 1) / DEXTER_MS_PER_DAY);
}

size_t dexter_daily_closes(const dexter_point *points, size_t count, double *closes,
                           size_t capacity)
{
    size_t written = 0;
    for (size_t i = 0; i < count && capacity > 0; i++) {
        int last_of_day =
            i + 1 == count || utc_day(points[i + 1].time_ms) != utc_day(points[i].time_ms);
        if (!last_of_day)
            continue;
        if (written == capacity) { /* keep the newest days */
            memmove(closes, closes + 1, (capacity - 1) * sizeof *closes);
            written--;
        }
        closes[written++] = points[i].price;
    }
    return written;
}

static double median_spacing_ms(const dexter_point *points, size_t count)
{
    if (count < 2)
        return 0.0;
    size_t gaps = count - 1;
    int64_t *spacing = malloc(gaps * sizeof *spacing);
    if (!spacing)
        return 0.0;
    for (size_t i = 0; i < gaps; i++)
        spacing[i] = points[i + 1].time_ms - points[i].time_ms;
    /* insertion sort: the series are a few thousand points at most */
    for (size_t i = 1; i < gaps; i++) {
        int64_t value = spacing[i];
        size_t j = i;
        for (; j > 0 && spacing[j - 1] > value; j--)
            spacing[j] = spacing[j - 1];
        spacing[j] = value;
    }
    double median = (double)spacing[gaps / 2];
    free(spacing);
    return median;
}

static void analyse_closes(const double *closes, size_t count, double periods_per_year,
                           const dexter_analysis_params *params, dexter_indicators *out)
{
    out->closes_used = count;
    out->periods_per_year = periods_per_year;
    if (dexter_sma(closes, count, params->sma_fast, &out->sma_fast) == 0 &&
        dexter_sma(closes, count, params->sma_slow, &out->sma_slow) == 0 && out->sma_slow > 0) {
        out->has_sma = 1;
        out->sma_spread = (out->sma_fast - out->sma_slow) / out->sma_slow * 100.0;
        double previous_fast, previous_slow;
        if (dexter_sma(closes, count - 1, params->sma_fast, &previous_fast) == 0 &&
            dexter_sma(closes, count - 1, params->sma_slow, &previous_slow) == 0) {
            int before = previous_fast > previous_slow ? 1 : -1;
            int now = out->sma_fast > out->sma_slow ? 1 : -1;
            out->sma_cross = before != now ? now : 0;
        }
    }
    out->has_rsi = dexter_rsi(closes, count, params->rsi_period, &out->rsi) == 0;
    out->has_volatility = dexter_volatility(closes, count, periods_per_year, &out->volatility) == 0;
}

int dexter_analyse(const dexter_point *points, size_t count, const double *change_24h_from_quote,
                   const dexter_analysis_params *params, dexter_indicators *out)
{
    memset(out, 0, sizeof *out);
    if (!points || count == 0)
        return -1;
    out->price = points[count - 1].price;
    out->price_time_ms = points[count - 1].time_ms;
    out->first_time_ms = points[0].time_ms;
    if (change_24h_from_quote && isfinite(*change_24h_from_quote)) {
        out->has_change_24h = 1;
        out->change_24h = *change_24h_from_quote;
    } else {
        out->has_change_24h =
            dexter_change_over(points, count, DEXTER_MS_PER_DAY, &out->change_24h) == 0;
    }
    out->has_change_7d =
        dexter_change_over(points, count, 7 * DEXTER_MS_PER_DAY, &out->change_7d) == 0;

    double *values = malloc(count * sizeof *values);
    if (!values)
        return -1;
    for (size_t i = 0; i < count; i++)
        values[i] = points[i].price;
    out->has_high_low = dexter_high_low(values, count, &out->high, &out->low, &out->below_high,
                                        &out->above_low) == 0;
    double spacing = median_spacing_ms(points, count);
    if (params->daily_basis && spacing < (double)DEXTER_MS_PER_DAY) {
        size_t days = dexter_daily_closes(points, count, values, count);
        analyse_closes(values, days, 365.0, params, out);
    } else if (spacing > 0) {
        analyse_closes(values, count, 365.0 * (double)DEXTER_MS_PER_DAY / spacing, params, out);
    }
    free(values);
    return 0;
}

typedef struct momentum_signal {
    int present;
    double score;
    double weight;
} momentum_signal;

int dexter_momentum(const dexter_indicators *indicators, double *momentum, double *confidence)
{
    momentum_signal signals[] = {
        {indicators->has_change_24h, tanh(indicators->change_24h / 5.0), 0.2},
        {indicators->has_change_7d, tanh(indicators->change_7d / 10.0), 0.3},
        {indicators->has_sma, tanh(indicators->sma_spread / 5.0), 0.3},
        {indicators->has_rsi, (indicators->rsi - 50.0) / 50.0, 0.2},
    };
    double present_weight = 0.0, weighted = 0.0, magnitude = 0.0;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (!signals[i].present || !isfinite(signals[i].score))
            continue;
        present_weight += signals[i].weight;
        weighted += signals[i].weight * signals[i].score;
        magnitude += signals[i].weight * fabs(signals[i].score);
    }
    if (present_weight <= 0.0)
        return -1;
    double agreement = magnitude > 0.0 ? fabs(weighted) / magnitude : 0.0;
    *momentum = weighted / present_weight;
    if (*momentum > 1.0)
        *momentum = 1.0;
    if (*momentum < -1.0)
        *momentum = -1.0;
    *confidence = present_weight * (0.5 + 0.5 * agreement);
    return 0;
}
