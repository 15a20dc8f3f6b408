/* The market math of dexter_finance: period changes, simple moving averages
 * and their crossover, Wilder's RSI, realised volatility, distance from the
 * period high/low, and the momentum score built from them. Pure functions
 * over fixed arrays; each returns 0 on success, -1 when the input is too
 * short or not usable (never a made-up value). */
#ifndef DEXTER_INDICATORS_H
#define DEXTER_INDICATORS_H

#include <stddef.h>
#include <stdint.h>

#define DEXTER_MS_PER_DAY 86400000LL

typedef struct dexter_point {
    int64_t time_ms;
    double price;
} dexter_point;

/* (to - from) / from * 100. */
int dexter_percent_change(double from, double to, double *percent);

/* Change from the point span_ms before the newest one to the newest one. The
 * start is the last point at or before that moment, or the first point if it
 * is at most span_ms/20 (or one hour) later; otherwise -1 (not enough history). */
int dexter_change_over(const dexter_point *points, size_t count, int64_t span_ms, double *percent);

/* Mean of the last `window` values. */
int dexter_sma(const double *values, size_t count, size_t window, double *mean);

/* Wilder's RSI over `period` (14): the first average gain and loss are simple
 * means of the first `period` changes, later ones smoothed as
 * avg = (avg * (period - 1) + current) / period. Needs count > period.
 * No losses: 100 (50 when there was no movement at all). */
int dexter_rsi(const double *closes, size_t count, size_t period, double *rsi);

/* Sample standard deviation (n - 1) of log returns ln(p[i]/p[i-1]), times
 * sqrt(periods_per_year). Needs at least 3 closes. Result as a fraction
 * (0.5 = 50 % a year). */
int dexter_volatility(const double *closes, size_t count, double periods_per_year,
                      double *annualised);

/* Highest and lowest value, and how far the last one is from them:
 * below_high = (high - last) / high * 100 >= 0,
 * above_low = (last - low) / low * 100 >= 0. */
int dexter_high_low(const double *values, size_t count, double *high, double *low,
                    double *below_high_percent, double *above_low_percent);

/* The last price of each UTC day, oldest first (the newest day may be
 * partial: its "close" is the latest price). Returns the number written. */
size_t dexter_daily_closes(const dexter_point *points, size_t count, double *closes,
                           size_t capacity);

typedef struct dexter_analysis_params {
    size_t sma_fast;   /* default 7 */
    size_t sma_slow;   /* default 25 */
    size_t rsi_period; /* default 14 */
    int daily_basis;   /* 1: indicators on daily closes; 0: on every point */
} dexter_analysis_params;

typedef struct dexter_indicators {
    double price; /* newest price of the series */
    int64_t price_time_ms;
    int64_t first_time_ms; /* oldest point: the span high/low cover */
    int has_change_24h;
    double change_24h; /* percent */
    int has_change_7d;
    double change_7d;
    int has_sma;
    double sma_fast, sma_slow;
    double sma_spread; /* (fast - slow) / slow * 100 */
    int sma_cross;     /* +1 fast crossed above slow at the newest close, -1 below, 0 */
    int has_rsi;
    double rsi;
    int has_volatility;
    double volatility; /* annualised, fraction */
    int has_high_low;
    double high, low, below_high, above_low;
    size_t closes_used; /* how many closes the SMA/RSI/volatility saw */
    double periods_per_year;
} dexter_indicators;

/* Computes everything computable from the series. change_24h_from_quote:
 * the provider's 24h change in percent (used when given), or NULL. Returns
 * -1 only when the series is empty. */
int dexter_analyse(const dexter_point *points, size_t count, const double *change_24h_from_quote,
                   const dexter_analysis_params *params, dexter_indicators *out);

/* Momentum in [-1, 1] and its confidence in [0, 1]:
 *   s24 = tanh(change_24h / 5), s7 = tanh(change_7d / 10),
 *   ssma = tanh(sma_spread / 5), srsi = (rsi - 50) / 50,
 *   weights 0.2, 0.3, 0.3, 0.2; momentum = sum(w*s) / sum(w over present),
 *   confidence = sum(w over present) * (0.5 + 0.5 * |sum(w*s)| / sum(w*|s|)).
 * Returns -1 when no indicator is present. */
int dexter_momentum(const dexter_indicators *indicators, double *momentum, double *confidence);

#endif
