/* Unit tests for dexter_finance's numbers: indicator math on fixed series
 * against hand-computed values, momentum and verdict, validation of
 * CoinGecko-shaped JSON (good and bad bodies), and the HTTP provider's cache
 * and Retry-After handling through a stub host API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dexter_finance/answer.h"
#include "dexter_finance/indicators.h"
#include "dexter_finance/market.h"
#include "dexter_finance/text.h"
#include "dexter_finance/verdict.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define BASE_MS 1700006400000LL /* 2023-11-15 00:00 UTC */

/* ---- changes ---------------------------------------------------------- */

static void test_percent_change(void **unused)
{
    (void)unused;
    double percent = 0;
    assert_int_equal(dexter_percent_change(200.0, 250.0, &percent), 0);
    assert_float_equal(percent, 25.0, 1e-12);
    assert_int_equal(dexter_percent_change(80.0, 60.0, &percent), 0);
    assert_float_equal(percent, -25.0, 1e-12);
    assert_int_equal(dexter_percent_change(0.0, 60.0, &percent), -1);
    assert_int_equal(dexter_percent_change(-1.0, 60.0, &percent), -1);
    assert_int_equal(dexter_percent_change(NAN, 60.0, &percent), -1);
}

/* 8 days of hourly points, price = 100 + hour index. */
static dexter_point *hourly_series(size_t *count)
{
    *count = 8 * 24 + 1;
    dexter_point *points = calloc(*count, sizeof *points);
    for (size_t i = 0; i < *count; i++) {
        points[i].time_ms = BASE_MS + (int64_t)i * HOUR_MS;
        points[i].price = 100.0 + (double)i;
    }
    return points;
}

static void test_change_over_24h_and_7d(void **unused)
{
    (void)unused;
    size_t count;
    dexter_point *points = hourly_series(&count);
    double percent = 0;
    /* newest 292 (index 192); 24 h before: index 168, price 268 -> +8.955..% */
    assert_int_equal(dexter_change_over(points, count, DAY_MS, &percent), 0);
    assert_float_equal(percent, (292.0 - 268.0) / 268.0 * 100.0, 1e-9);
    /* 7 d before: index 24, price 124 */
    assert_int_equal(dexter_change_over(points, count, 7 * DAY_MS, &percent), 0);
    assert_float_equal(percent, (292.0 - 124.0) / 124.0 * 100.0, 1e-9);
    /* exactly the whole span: the first point */
    assert_int_equal(dexter_change_over(points, count, 8 * DAY_MS, &percent), 0);
    assert_float_equal(percent, 192.0, 1e-9);
    /* 30 days asked of 8 days of data: refused, not guessed */
    assert_int_equal(dexter_change_over(points, count, 30 * DAY_MS, &percent), -1);
    assert_int_equal(dexter_change_over(points, 1, DAY_MS, &percent), -1);
    free(points);
}

static void test_change_over_tolerates_a_slightly_late_first_point(void **unused)
{
    (void)unused;
    dexter_point points[] = {
        {BASE_MS + 30 * 60 * 1000, 50.0}, /* half an hour after the 24 h mark */
        {BASE_MS + 12 * HOUR_MS, 55.0},
        {BASE_MS + DAY_MS, 60.0},
    };
    double percent = 0;
    assert_int_equal(dexter_change_over(points, 3, DAY_MS, &percent), 0);
    assert_float_equal(percent, 20.0, 1e-9);
    points[0].time_ms = BASE_MS + 3 * HOUR_MS; /* too late: more than an hour */
    assert_int_equal(dexter_change_over(points, 3, DAY_MS, &percent), -1);
}

/* The tolerance is a twentieth of the span (at least an hour): for 7 days,
 * 8.4 h. Probed on both sides of the edge, for 24 h (1.2 h) too. */
static void test_change_over_tolerance_edges(void **unused)
{
    (void)unused;
    const int64_t week = 7 * DAY_MS, newest = BASE_MS + 30 * DAY_MS;
    dexter_point points[] = {{0, 100.0}, {newest - DAY_MS, 105.0}, {newest, 110.0}};
    double percent = 0;
    points[0].time_ms = newest - week + 8 * HOUR_MS; /* 8 h late: inside 8.4 h */
    assert_int_equal(dexter_change_over(points, 3, week, &percent), 0);
    assert_float_equal(percent, 10.0, 1e-9);
    points[0].time_ms = newest - week + 9 * HOUR_MS; /* 9 h late: outside */
    assert_int_equal(dexter_change_over(points, 3, week, &percent), -1);
    dexter_point day[] = {{newest - DAY_MS + 66 * 60 * 1000, 100.0}, {newest, 90.0}};
    assert_int_equal(dexter_change_over(day, 2, DAY_MS, &percent), 0); /* 1.1 h late */
    assert_float_equal(percent, -10.0, 1e-9);
    day[0].time_ms = newest - DAY_MS + 78 * 60 * 1000; /* 1.3 h late */
    assert_int_equal(dexter_change_over(day, 2, DAY_MS, &percent), -1);
}

/* ---- SMA -------------------------------------------------------------- */

static void test_sma(void **unused)
{
    (void)unused;
    const double values[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    double mean = 0;
    assert_int_equal(dexter_sma(values, 10, 3, &mean), 0);
    assert_float_equal(mean, 9.0, 1e-12); /* (8 + 9 + 10) / 3 */
    assert_int_equal(dexter_sma(values, 10, 10, &mean), 0);
    assert_float_equal(mean, 5.5, 1e-12);
    assert_int_equal(dexter_sma(values, 10, 11, &mean), -1);
    assert_int_equal(dexter_sma(values, 10, 0, &mean), -1);
}

/* ---- RSI -------------------------------------------------------------- */

static void test_rsi_small_hand_computed(void **unused)
{
    (void)unused;
    /* period 3, changes +1 -1 +2 | +1: first averages gain 3/3 = 1, loss 1/3;
     * then gain (1*2 + 1)/3 = 1, loss (1/3*2 + 0)/3 = 2/9; RS = 4.5,
     * RSI = 100 - 100/5.5 = 81.8181.. */
    const double closes[] = {10, 11, 10, 12, 13};
    double rsi = 0;
    assert_int_equal(dexter_rsi(closes, 5, 3, &rsi), 0);
    assert_float_equal(rsi, 100.0 - 100.0 / 5.5, 1e-9);
    /* only the first window: gain 1, loss 1/3, RS 3 -> 75 */
    assert_int_equal(dexter_rsi(closes, 4, 3, &rsi), 0);
    assert_float_equal(rsi, 75.0, 1e-9);
    assert_int_equal(dexter_rsi(closes, 3, 3, &rsi), -1);
}

static void test_rsi14_wilder_reference_series(void **unused)
{
    (void)unused;
    /* Wilder's RSI-14 worked example (StockCharts "RSI" article). Exact
     * arithmetic gives 70.464 then 66.250 66.481 69.347 66.295 57.915 (the
     * article's table shows 70.53.. from rounded intermediate averages). */
    const double closes[] = {44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10,
                             45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28,
                             46.28, 46.00, 46.03, 46.41, 46.22, 45.64};
    const double expected[] = {70.464, 66.250, 66.481, 69.347, 66.295, 57.915};
    for (size_t i = 0; i < 6; i++) {
        double rsi = 0;
        assert_int_equal(dexter_rsi(closes, 15 + i, 14, &rsi), 0);
        assert_float_equal(rsi, expected[i], 0.001);
    }
}

static void test_rsi_extremes(void **unused)
{
    (void)unused;
    double rising[20], falling[20], flat[20];
    for (int i = 0; i < 20; i++) {
        rising[i] = 10.0 + i;
        falling[i] = 30.0 - i;
        flat[i] = 7.0;
    }
    double rsi = 0;
    assert_int_equal(dexter_rsi(rising, 20, 14, &rsi), 0);
    assert_float_equal(rsi, 100.0, 1e-12);
    assert_int_equal(dexter_rsi(falling, 20, 14, &rsi), 0);
    assert_float_equal(rsi, 0.0, 1e-12);
    assert_int_equal(dexter_rsi(flat, 20, 14, &rsi), 0);
    assert_float_equal(rsi, 50.0, 1e-12);
}

/* ---- volatility ------------------------------------------------------- */

static void test_volatility_hand_computed(void **unused)
{
    (void)unused;
    /* returns ln(1.1) = 0.0953102, ln(0.9) = -0.1053605; mean -0.0050252;
     * deviations +-0.1003353; sample variance 2 * 0.0100672 / 1 = 0.0201345;
     * stdev 0.1418961; times sqrt(365) = 2.7109118 */
    const double closes[] = {100.0, 110.0, 99.0};
    double volatility = 0;
    assert_int_equal(dexter_volatility(closes, 3, 365.0, &volatility), 0);
    assert_float_equal(volatility, 2.7109118, 1e-6);
    /* a constant growth rate has no volatility */
    const double steady[] = {100.0, 110.0, 121.0, 133.1};
    assert_int_equal(dexter_volatility(steady, 4, 365.0, &volatility), 0);
    assert_float_equal(volatility, 0.0, 1e-9);
    assert_int_equal(dexter_volatility(closes, 2, 365.0, &volatility), -1);
    const double bad[] = {100.0, 0.0, 99.0};
    assert_int_equal(dexter_volatility(bad, 3, 365.0, &volatility), -1);
}

/* ---- high / low ------------------------------------------------------- */

static void test_high_low_distance(void **unused)
{
    (void)unused;
    const double values[] = {10.0, 20.0, 12.0, 15.0};
    double high, low, below, above;
    assert_int_equal(dexter_high_low(values, 4, &high, &low, &below, &above), 0);
    assert_float_equal(high, 20.0, 1e-12);
    assert_float_equal(low, 10.0, 1e-12);
    assert_float_equal(below, 25.0, 1e-12); /* (20 - 15) / 20 */
    assert_float_equal(above, 50.0, 1e-12); /* (15 - 10) / 10 */
    assert_int_equal(dexter_high_low(values, 0, &high, &low, &below, &above), -1);
}

static void test_daily_closes_take_the_last_point_of_each_utc_day(void **unused)
{
    (void)unused;
    dexter_point points[] = {
        {BASE_MS + 1 * HOUR_MS, 1.0}, {BASE_MS + 23 * HOUR_MS, 2.0},
        {BASE_MS + DAY_MS, 3.0},      {BASE_MS + DAY_MS + 5 * HOUR_MS, 4.0},
        {BASE_MS + 2 * DAY_MS + HOUR_MS, 5.0},
    };
    double closes[5];
    assert_int_equal(dexter_daily_closes(points, 5, closes, 5), 3);
    assert_float_equal(closes[0], 2.0, 0);
    assert_float_equal(closes[1], 4.0, 0);
    assert_float_equal(closes[2], 5.0, 0);
    /* capacity 2 keeps the newest days */
    assert_int_equal(dexter_daily_closes(points, 5, closes, 2), 2);
    assert_float_equal(closes[0], 4.0, 0);
    assert_float_equal(closes[1], 5.0, 0);
}

/* ---- analysis, momentum, verdict --------------------------------------- */

static const dexter_analysis_params daily_params = {7, 25, 14, 1};

static dexter_point *daily_series(size_t days, double start, double daily_factor)
{
    dexter_point *points = calloc(days, sizeof *points);
    double price = start;
    for (size_t i = 0; i < days; i++) {
        points[i].time_ms = BASE_MS + (int64_t)i * DAY_MS;
        points[i].price = price;
        price *= daily_factor;
    }
    return points;
}

static void test_analyse_rising_series(void **unused)
{
    (void)unused;
    dexter_point *points = daily_series(31, 100.0, 1.01);
    dexter_indicators in;
    assert_int_equal(dexter_analyse(points, 31, NULL, &daily_params, &in), 0);
    assert_true(in.has_change_24h && in.has_change_7d && in.has_sma && in.has_rsi);
    assert_float_equal(in.change_24h, 1.0, 1e-9);
    assert_float_equal(in.change_7d, (pow(1.01, 7) - 1.0) * 100.0, 1e-9);
    assert_true(in.sma_fast > in.sma_slow);
    assert_float_equal(in.rsi, 100.0, 1e-9);
    assert_float_equal(in.volatility, 0.0, 1e-9);
    assert_float_equal(in.below_high, 0.0, 1e-12);
    assert_int_equal(in.closes_used, 31);
    double momentum, confidence;
    assert_int_equal(dexter_momentum(&in, &momentum, &confidence), 0);
    assert_true(momentum > 0.5);
    assert_float_equal(confidence, 1.0, 1e-12); /* all present, all agree */
    /* a quoted 24h change wins over the series */
    double quoted = -2.5;
    assert_int_equal(dexter_analyse(points, 31, &quoted, &daily_params, &in), 0);
    assert_float_equal(in.change_24h, -2.5, 0);
    free(points);
}

static void test_analyse_short_series_leaves_out_what_it_cannot_compute(void **unused)
{
    (void)unused;
    dexter_point *points = daily_series(5, 100.0, 0.99);
    dexter_indicators in;
    assert_int_equal(dexter_analyse(points, 5, NULL, &daily_params, &in), 0);
    assert_true(in.has_change_24h);
    assert_false(in.has_change_7d);
    assert_false(in.has_sma);
    assert_false(in.has_rsi);
    double momentum, confidence;
    assert_int_equal(dexter_momentum(&in, &momentum, &confidence), 0);
    assert_float_equal(momentum, tanh(-1.0 / 5.0), 1e-9); /* only the 24h signal */
    assert_float_equal(confidence, 0.2, 1e-12);
    assert_int_equal(dexter_analyse(points, 0, NULL, &daily_params, &in), -1);
    free(points);
}

static void test_momentum_formula(void **unused)
{
    (void)unused;
    dexter_indicators in = {0};
    in.has_change_24h = in.has_change_7d = in.has_sma = in.has_rsi = 1;
    in.change_24h = 5.0;   /* tanh(1) */
    in.change_7d = 10.0;   /* tanh(1) */
    in.sma_spread = 5.0;   /* tanh(1) */
    in.rsi = 100.0;        /* 1 */
    double momentum, confidence;
    assert_int_equal(dexter_momentum(&in, &momentum, &confidence), 0);
    assert_float_equal(momentum, 0.8 * tanh(1.0) + 0.2, 1e-12); /* 0.8092753 */
    assert_float_equal(confidence, 1.0, 1e-12);
    /* disagreement lowers confidence: +tanh(1) (0.5 weight) vs -1 (0.5 weight) */
    in.change_24h = -5.0;
    in.change_7d = 10.0;
    in.sma_spread = -5.0;
    in.rsi = 0.0;
    assert_int_equal(dexter_momentum(&in, &momentum, &confidence), 0);
    double weighted = 0.3 * tanh(1.0) - 0.2 * tanh(1.0) - 0.3 * tanh(1.0) - 0.2;
    double magnitude = 0.8 * tanh(1.0) + 0.2;
    assert_float_equal(momentum, weighted, 1e-12);
    assert_float_equal(confidence, 0.5 + 0.5 * fabs(weighted) / magnitude, 1e-12);
    dexter_indicators none = {0};
    assert_int_equal(dexter_momentum(&none, &momentum, &confidence), -1);
}

static void test_labels(void **unused)
{
    (void)unused;
    assert_string_equal(dexter_label(0.15), "bullish");
    assert_string_equal(dexter_label(0.1499), "neutral");
    assert_string_equal(dexter_label(-0.15), "bearish");
    assert_string_equal(dexter_label(0.0), "neutral");
}

static void test_decide_without_weighting_uses_market_alone(void **unused)
{
    (void)unused;
    dexter_component components[DEXTER_COMPONENT_COUNT] = {
        {1, 0.5, 0.8, 0, 0, ""}, {1, -0.9, 0.5, 40, 86400, ""}, {0, 0, 0, 0, 0, "no API key"}};
    dexter_verdict verdict;
    assert_int_equal(dexter_decide(components, NULL, &verdict), 0);
    assert_string_equal(verdict.label, "bullish");
    assert_false(verdict.weighted);
    assert_float_equal(verdict.composite, 0.5, 0);
    assert_float_equal(verdict.confidence, 0.8 * 1.0, 1e-12); /* clarity min(1, 0.5 + 0.5) */
    assert_true(verdict.used[DEXTER_COMPONENT_MARKET]);
    assert_false(verdict.used[DEXTER_COMPONENT_CHAT]);
    components[DEXTER_COMPONENT_MARKET].present = 0;
    assert_int_equal(dexter_decide(components, NULL, &verdict), -1);
}

/* A stand-in sentiment.weight: equal weights over the present components. */
static int stub_context;

static int stub_combine(void *context, const jv_weight_component *components, size_t count,
                        jv_weight_result2 *result)
{
    assert_ptr_equal(context, &stub_context); /* the consumer passes the vtable's context */
    if (count > JV_WEIGHT_MAX_COMPONENTS || result->struct_size != sizeof *result)
        return -1;
    memset(result, 0, sizeof *result);
    result->struct_size = sizeof *result;
    result->count = count;
    size_t present = 0;
    for (size_t i = 0; i < count; i++)
        present += components[i].present ? 1 : 0;
    for (size_t i = 0; i < count && present; i++) {
        if (!components[i].present)
            continue;
        result->weight[i] = 1.0 / (double)present;
        result->contribution[i] = result->weight[i] * components[i].score;
        result->composite += result->contribution[i];
    }
    result->confidence = (double)present / (double)count;
    /* a version 2 provider reads the label; the stub's certainty is 0.9 x coverage */
    snprintf(result->label, sizeof result->label, "%s", dexter_label(result->composite));
    result->certainty = result->confidence * 0.9;
    result->enough_evidence = 1;
    return 0;
}

static void test_decide_through_the_weighting_service(void **unused)
{
    (void)unused;
    jv_sentiment_weight_api weights = {
        .struct_size = sizeof weights, .context = &stub_context, .combine2 = stub_combine};
    dexter_component components[DEXTER_COMPONENT_COUNT] = {
        {1, -0.6, 0.9, 0, 0, ""}, {1, -0.2, 0.3, 12, 86400, ""}, {0, 0, 0, 0, 0, "no API key"}};
    dexter_verdict first, second;
    assert_int_equal(dexter_decide(components, &weights, &first), 0);
    assert_true(first.weighted);
    assert_float_equal(first.composite, -0.4, 1e-12);
    assert_string_equal(first.label, "bearish");
    assert_float_equal(first.weight[DEXTER_COMPONENT_MARKET], 0.5, 1e-12);
    assert_false(first.used[DEXTER_COMPONENT_GROK]);
    assert_float_equal(first.confidence, (2.0 / 3.0) * 0.9, 1e-12);
    /* deterministic: same inputs, same verdict and same text */
    assert_int_equal(dexter_decide(components, &weights, &second), 0);
    assert_memory_equal(&first, &second, sizeof first);
    dexter_point *points = daily_series(31, 100.0, 0.99);
    dexter_indicators in;
    dexter_analyse(points, 31, NULL, &daily_params, &in);
    dexter_outlook_facts facts = {"SOL", 74.0, BASE_MS, &in, 7, 25, 1, "CoinGecko", 0};
    dexter_text a = {0}, b = {0};
    dexter_write_outlook(&a, &facts, components, &first);
    dexter_write_outlook(&b, &facts, components, &second);
    char *text_a = dexter_text_take(&a), *text_b = dexter_text_take(&b);
    assert_string_equal(text_a, text_b);
    assert_non_null(strstr(text_a, "SOL outlook: bearish"));
    assert_non_null(strstr(text_a, "Grok: not used: no API key"));
    assert_non_null(strstr(text_a, "chat sentiment: -0.20 (12 messages in the last 24h), weight 0.50"));
    assert_non_null(strstr(text_a, "2023-11-15 00:00 UTC"));
    free(text_a);
    free(text_b);
    /* one message is "1 message"; an unknown window is not made up */
    components[DEXTER_COMPONENT_CHAT].samples = 1;
    components[DEXTER_COMPONENT_CHAT].window_s = 0;
    dexter_write_outlook(&a, &facts, components, &first);
    text_a = dexter_text_take(&a);
    assert_non_null(strstr(text_a, "chat sentiment: -0.20 (1 message), weight 0.50"));
    free(text_a);
    free(points);
}

/* The high/low line names the span the data really covers: a 10-day series
 * must not be called a "30-day" high. */
static void test_outlook_names_the_span_of_the_high_low(void **unused)
{
    (void)unused;
    dexter_component components[DEXTER_COMPONENT_COUNT] = {
        {1, 0.5, 0.8, 0, 0, ""}, {0, 0, 0, 0, 0, "none"}, {0, 0, 0, 0, 0, "none"}};
    dexter_verdict verdict;
    assert_int_equal(dexter_decide(components, NULL, &verdict), 0);
    size_t lengths[2] = {11, 31};
    const char *expected[2] = {"below the 10-day high", "below the 30-day high"};
    for (size_t i = 0; i < 2; i++) {
        dexter_point *points = daily_series(lengths[i], 100.0, 0.99);
        dexter_indicators in;
        dexter_analyse(points, lengths[i], NULL, &daily_params, &in);
        dexter_outlook_facts facts = {"SOL", 90.0, BASE_MS, &in, 7, 25, 1, "CoinGecko", 0};
        dexter_text text = {0};
        dexter_write_outlook(&text, &facts, components, &verdict);
        char *answer = dexter_text_take(&text);
        if (!strstr(answer, expected[i]))
            fail_msg("%zu points: want \"%s\" in:\n%s", lengths[i], expected[i], answer);
        free(answer);
        free(points);
    }
}

/* ---- formatting -------------------------------------------------------- */

static void test_formats(void **unused)
{
    (void)unused;
    char out[64];
    dexter_format_usd(64123.456, out, sizeof out);
    assert_string_equal(out, "$64,123.46");
    dexter_format_usd(187.5, out, sizeof out);
    assert_string_equal(out, "$187.50");
    dexter_format_usd(0.00002345, out, sizeof out);
    assert_string_equal(out, "$0.00002345");
    dexter_format_large_usd(1.26e12, out, sizeof out);
    assert_string_equal(out, "$1.26T");
    dexter_format_large_usd(85.4e9, out, sizeof out);
    assert_string_equal(out, "$85.40B");
    dexter_format_percent(3.1, out, sizeof out);
    assert_string_equal(out, "+3.10%");
    dexter_format_percent(-0.001, out, sizeof out);
    assert_string_equal(out, "+0.00%");
    dexter_format_utc(BASE_MS + 14 * HOUR_MS, out, sizeof out);
    assert_string_equal(out, "2023-11-15 14:00 UTC");
    /* a value too long for the buffers is never shown cut (a wrong number) */
    dexter_format_usd(1e300, out, sizeof out);
    assert_string_equal(out, "$1.00e+300");
    dexter_format_large_usd(2.5e40, out, sizeof out);
    assert_string_equal(out, "$2.50e+40");
    dexter_format_usd(999999999999999.0, out, sizeof out);
    assert_string_equal(out, "$999,999,999,999,999.00");
    char percent[24]; /* the size the answers use */
    dexter_format_percent(1e22, percent, sizeof percent);
    assert_string_equal(percent, "+1.00e+22%");
}

/* ---- JSON validation --------------------------------------------------- */

static const char good_price[] =
    "{\"solana\":{\"usd\":187.42,\"usd_market_cap\":88000000000.5,\"usd_24h_vol\":4200000000,"
    "\"usd_24h_change\":3.1,\"last_updated_at\":1732104000}}";

static void test_simple_price_good(void **unused)
{
    (void)unused;
    dexter_quote quote;
    char err[200] = "";
    assert_int_equal(dexter_parse_simple_price(good_price, strlen(good_price), "solana", &quote,
                                               err, sizeof err), 0);
    assert_float_equal(quote.price, 187.42, 0);
    assert_true(quote.has_market_cap && quote.has_volume && quote.has_change_24h);
    assert_float_equal(quote.change_24h, 3.1, 0);
    assert_int_equal(quote.last_updated_s, 1732104000);
    const char *real_time = "{\"solana\":{\"usd\":2,\"last_updated_at\":1732104000.0}}";
    assert_int_equal(dexter_parse_simple_price(real_time, strlen(real_time), "solana", &quote,
                                               err, sizeof err), 0);
    assert_int_equal(quote.last_updated_s, 1732104000);
    const char *nulls = "{\"bonk\":{\"usd\":0.0000234,\"usd_market_cap\":null,"
                        "\"usd_24h_change\":null}}";
    assert_int_equal(dexter_parse_simple_price(nulls, strlen(nulls), "bonk", &quote, err,
                                               sizeof err), 0);
    assert_false(quote.has_change_24h);
    assert_false(quote.has_market_cap);
    assert_int_equal(quote.last_updated_s, 0);
}

typedef struct bad_body {
    const char *body;
    const char *reason; /* a substring of the error */
} bad_body;

static void test_simple_price_bad_bodies(void **unused)
{
    (void)unused;
    static const bad_body bad[] = {
        {"{\"solana\":{\"usd\":187.4", "malformed JSON"},
        {"[1,2]", "not a JSON object"},
        {"{}", "no price for solana"},
        {"{\"bitcoin\":{\"usd\":1}}", "no price for solana"},
        {"{\"solana\":{\"usd\":\"187\"}}", "usd missing"},
        {"{\"solana\":{\"usd\":-1}}", "usd missing"},
        {"{\"solana\":{\"usd\":null}}", "usd missing"},
        {"{\"solana\":{\"usd\":1,\"usd_24h_change\":\"3\"}}", "usd_24h_change"},
        {"{\"solana\":{\"usd\":1,\"usd_24h_vol\":-5}}", "usd_24h_vol"},
        {"{\"solana\":{\"usd\":1,\"last_updated_at\":1732104000000}}", "not in seconds"},
        {"{\"solana\":{\"usd\":1,\"last_updated_at\":12}}", "out of range"},
        {"{\"solana\":{\"usd\":1,\"last_updated_at\":\"2024\"}}", "not a whole number"},
        {"{\"solana\":{\"usd\":1,\"last_updated_at\":1732104000.5}}", "not a whole number"},
        {"{\"status\":{\"error_code\":429,\"error_message\":\"You've exceeded the Rate Limit\"}}",
         "provider error 429: You've exceeded the Rate Limit"},
        {"{\"error\":\"coin not found\"}", "provider error: coin not found"},
        {"", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dexter_quote quote;
        char err[200] = "";
        int rc = dexter_parse_simple_price(bad[i].body, strlen(bad[i].body), "solana", &quote,
                                           err, sizeof err);
        if (rc != -1 || !strstr(err, bad[i].reason))
            fail_msg("body %zu (%s): rc %d, error \"%s\"", i, bad[i].body, rc, err);
    }
}

static void test_market_chart_good(void **unused)
{
    (void)unused;
    const char *body = "{\"prices\":[[1700006400000,10.5],[1700010000000,null],"
                       "[1700013600000,11.0],[1700017200000.0,12]],"
                       "\"market_caps\":[],\"total_volumes\":[]}";
    dexter_series series;
    char err[200] = "";
    assert_int_equal(dexter_parse_market_chart(body, strlen(body), &series, err, sizeof err), 0);
    assert_int_equal(series.count, 3);
    assert_int_equal(series.skipped_nulls, 1);
    assert_int_equal(series.points[0].time_ms, 1700006400000LL);
    assert_float_equal(series.points[2].price, 12.0, 0);
    dexter_series_free(&series);
}

static void test_market_chart_bad_bodies(void **unused)
{
    (void)unused;
    static const bad_body bad[] = {
        {"{\"prices\":[[1700006400000,10.5]", "malformed JSON"},
        {"{\"market_caps\":[]}", "prices missing"},
        {"{\"prices\":{}}", "prices missing"},
        {"{\"prices\":[[1700006400,10.5],[1700010000,11]]}", "not in milliseconds"},
        {"{\"prices\":[[1700010000000,10.5],[1700006400000,11]]}", "out of time order"},
        {"{\"prices\":[[1700006400000,10.5],[1700006400000,11]]}", "out of time order"},
        {"{\"prices\":[[1700006400000,10.5],[1700010000000,-1]]}", "not positive"},
        {"{\"prices\":[[1700006400000,10.5],[1700010000000,\"11\"]]}", "not positive"},
        {"{\"prices\":[[1700006400000,10.5,3],[1700010000000,11]]}", "is not [time_ms, price]"},
        {"{\"prices\":[[\"x\",10.5],[1700010000000,11]]}", "is not [time_ms, price]"},
        {"{\"prices\":[[1700006400000,10.5]]}", "fewer than 2"},
        {"{\"prices\":[[1700006400000,null],[1700010000000,null]]}", "fewer than 2"},
        {"{\"error\":\"coin not found\"}", "coin not found"},
        {"{\"status\":{\"error_code\":10002,\"error_message\":\"API Key Missing\"}}",
         "provider error 10002"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dexter_series series;
        char err[200] = "";
        int rc = dexter_parse_market_chart(bad[i].body, strlen(bad[i].body), &series, err,
                                           sizeof err);
        if (rc != -1 || !strstr(err, bad[i].reason) || series.points)
            fail_msg("body %zu (%s): rc %d, error \"%s\"", i, bad[i].body, rc, err);
    }
}

/* ---- the HTTP provider through a stub host ----------------------------- */

typedef struct stub_reply {
    int rc;
    long status;
    const char *body;
    int64_t retry_after_s;
} stub_reply;

static stub_reply stub_next;
static int stub_calls;
static int64_t stub_now;
static char stub_last_url[512];
static char stub_last_key_header[128];

static int stub_http(jv_plugin *self, const jv_http_request *request, jv_http_response *response)
{
    (void)self;
    stub_calls++;
    snprintf(stub_last_url, sizeof stub_last_url, "%s", request->url);
    stub_last_key_header[0] = '\0';
    for (size_t i = 0; request->headers && request->headers[i]; i++)
        if (strstr(request->headers[i], "api-key"))
            snprintf(stub_last_key_header, sizeof stub_last_key_header, "%s",
                     request->headers[i]);
    response->status = stub_next.status;
    response->retry_after_s = stub_next.retry_after_s;
    response->body = stub_next.body ? strdup(stub_next.body) : NULL;
    response->body_length = stub_next.body ? strlen(stub_next.body) : 0;
    if (stub_next.rc != JV_OK)
        snprintf(response->error, sizeof response->error, "connection refused");
    return stub_next.rc;
}

static void stub_http_free(jv_http_response *response)
{
    free(response->body);
    response->body = NULL;
}

static int64_t stub_now_ms(void)
{
    return stub_now;
}

static jv_host_api stub_api(void)
{
    jv_host_api api;
    memset(&api, 0, sizeof api);
    api.struct_size = sizeof api;
    api.http_request = stub_http;
    api.http_response_free = stub_http_free;
    api.now_ms = stub_now_ms;
    return api;
}

static dexter_market *stub_market(const jv_host_api *api, int64_t ttl, const char *key, int pro)
{
    dexter_market_config config = {DEXTER_PROVIDER_COINGECKO, "http://127.0.0.1:9/api/v3/", key,
                                   pro, "", ttl, 1000, 60};
    stub_calls = 0;
    stub_now = 1732104000000LL;
    return dexter_market_create(&config, NULL, api);
}

static void test_http_quote_is_cached_for_ttl(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market *market = stub_market(&api, 120, "demo-key", 0);
    stub_next = (stub_reply){JV_OK, 200, good_price, -1};
    dexter_quote quote;
    char reason[200] = "";
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), 0);
    assert_non_null(strstr(stub_last_url, "http://127.0.0.1:9/api/v3/simple/price?ids=solana"
                                          "&vs_currencies=usd&include_market_cap=true"));
    assert_non_null(strstr(stub_last_url, "include_last_updated_at=true"));
    assert_string_equal(stub_last_key_header, "x-cg-demo-api-key: demo-key");
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), 0);
    assert_int_equal(stub_calls, 1);
    stub_now += 121 * 1000;
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), 0);
    assert_int_equal(stub_calls, 2);
    assert_float_equal(quote.price, 187.42, 0);
    dexter_market_destroy(market);
}

static void test_http_429_remembers_retry_after(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market *market = stub_market(&api, 120, "", 0);
    stub_next = (stub_reply){JV_OK, 429,
                             "{\"status\":{\"error_code\":429,\"error_message\":\"Rate Limit\"}}",
                             30};
    dexter_quote quote;
    char reason[200] = "";
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), -1);
    assert_string_equal(reason, "HTTP 429 rate limited, retry in 30 s");
    assert_string_equal(stub_last_key_header, "");
    /* within the 30 s: no call at all */
    stub_now += 10 * 1000;
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), -1);
    assert_string_equal(reason, "rate limited by the provider, retry in 20 s");
    assert_int_equal(stub_calls, 1);
    stub_now += 21 * 1000;
    stub_next = (stub_reply){JV_OK, 200, good_price, -1};
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), 0);
    assert_int_equal(stub_calls, 2);
    dexter_market_destroy(market);
}

static void test_http_failures_are_reasons_not_numbers(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market *market = stub_market(&api, 0, "pro-key", 1);
    dexter_series series;
    char reason[200] = "";
    stub_next = (stub_reply){JV_OK, 404, "{\"error\":\"coin not found\"}", -1};
    assert_int_equal(dexter_market_chart(market, "nocoin", 30, &series, reason, sizeof reason), -1);
    assert_string_equal(reason, "HTTP 404, provider error: coin not found");
    assert_string_equal(stub_last_key_header, "x-cg-pro-api-key: pro-key");
    assert_non_null(strstr(stub_last_url, "/coins/nocoin/market_chart?vs_currency=usd&days=30"));
    stub_next = (stub_reply){JV_OK, 503, "<html>down</html>", -1};
    assert_int_equal(dexter_market_chart(market, "solana", 30, &series, reason, sizeof reason), -1);
    assert_string_equal(reason, "HTTP 503");
    stub_next = (stub_reply){JV_E_TIMEOUT, 0, NULL, -1};
    assert_int_equal(dexter_market_chart(market, "solana", 30, &series, reason, sizeof reason), -1);
    assert_string_equal(reason, "timeout after 1000 ms");
    stub_next = (stub_reply){JV_E_IO, 0, NULL, -1};
    assert_int_equal(dexter_market_chart(market, "solana", 30, &series, reason, sizeof reason), -1);
    assert_string_equal(reason, "network error: connection refused");
    stub_next = (stub_reply){JV_OK, 200, "{\"prices\":[[1,", -1};
    assert_int_equal(dexter_market_chart(market, "solana", 30, &series, reason, sizeof reason), -1);
    assert_string_equal(reason, "market_chart: malformed JSON");
    /* a bad body is not cached: with ttl 0 nothing is; each try calls again */
    assert_int_equal(stub_calls, 5);
    assert_null(series.points);
    dexter_market_destroy(market);
}

/* A 429 on one request must not hide answers the cache still holds. */
static void test_http_429_hold_still_serves_the_cache(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market *market = stub_market(&api, 120, "", 0);
    dexter_quote quote;
    dexter_series series;
    char reason[200] = "";
    stub_next = (stub_reply){JV_OK, 200, good_price, -1};
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), 0);
    stub_next = (stub_reply){JV_OK, 429, "", 30};
    assert_int_equal(dexter_market_chart(market, "solana", 30, &series, reason, sizeof reason), -1);
    assert_int_equal(stub_calls, 2);
    stub_now += 5 * 1000;
    memset(&quote, 0, sizeof quote);
    if (dexter_market_quote(market, "solana", &quote, reason, sizeof reason) != 0)
        fail_msg("cached quote refused during the hold: %s", reason);
    assert_float_equal(quote.price, 187.42, 0);
    assert_int_equal(stub_calls, 2);
    /* what is not cached still waits for the hold */
    assert_int_equal(dexter_market_chart(market, "solana", 30, &series, reason, sizeof reason), -1);
    assert_string_equal(reason, "rate limited by the provider, retry in 25 s");
    assert_int_equal(stub_calls, 2);
    dexter_market_destroy(market);
}

/* Error texts from the provider reach replies; one that echoes the key
 * (as some APIs do for a rejected key) must not carry it along. */
static void test_http_reasons_never_quote_the_api_key(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market *market = stub_market(&api, 0, "CG-s3cretKey9", 0);
    dexter_quote quote;
    char reason[200] = "";
    stub_next = (stub_reply){JV_OK, 401,
                             "{\"status\":{\"error_code\":10002,"
                             "\"error_message\":\"API key CG-s3cretKey9 is invalid\"}}",
                             -1};
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), -1);
    assert_null(strstr(reason, "s3cretKey9"));
    assert_non_null(strstr(reason, "HTTP 401"));
    stub_next = (stub_reply){JV_OK, 200, "{\"error\":\"bad key CG-s3cretKey9\"}", -1};
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), -1);
    assert_null(strstr(reason, "s3cretKey9"));
    assert_non_null(strstr(reason, "provider error"));
    dexter_market_destroy(market);
}

/* CoinGecko answers every span from 2 to 90 days with hourly points, so a
 * 7-day question is cut from the cached 30-day chart, not asked again. */
static void test_http_short_chart_reuses_the_30_day_chart(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market *market = stub_market(&api, 120, "", 0);
    char body[4096] = "{\"prices\":[";
    for (int day = 0; day <= 30; day++)
        snprintf(body + strlen(body), sizeof body - strlen(body), "%s[%lld,%d]", day ? "," : "",
                 BASE_MS + day * DAY_MS, 100 + day);
    strcat(body, "]}");
    stub_next = (stub_reply){JV_OK, 200, body, -1};
    dexter_series series;
    char reason[200] = "";
    assert_int_equal(dexter_market_chart(market, "solana", 30, &series, reason, sizeof reason), 0);
    assert_int_equal(series.count, 31);
    dexter_series_free(&series);
    assert_int_equal(dexter_market_chart(market, "solana", 7, &series, reason, sizeof reason), 0);
    assert_int_equal(stub_calls, 1);
    assert_int_equal(series.count, 8); /* days 23 .. 30 */
    assert_float_equal(series.points[0].price, 123, 0);
    dexter_series_free(&series);
    /* one day is finer-grained at the provider: its own request */
    assert_int_equal(dexter_market_chart(market, "solana", 1, &series, reason, sizeof reason), 0);
    assert_int_equal(stub_calls, 2);
    assert_non_null(strstr(stub_last_url, "days=1"));
    dexter_series_free(&series);
    dexter_market_destroy(market);
}

/* Too little history for a verdict: the price still comes, and like every
 * price it says where it is from and how old it is. */
static void test_price_without_outlook_names_source_and_time(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market *market = stub_market(&api, 120, "", 0);
    dexter_token token = {.symbol = "SOL", .provider_id = "solana", .name = "Solana"};
    dexter_token_map map = {&token, 1};
    dexter_answer_context context = {.market = market, .tokens = &map, .params = daily_params};
    dexter_intent intent = {.kind = DEXTER_INTENT_OUTLOOK, .token_count = 1, .tokens = {&token},
                            .period_days = 30, .period_hours = 720, .is_question = 1};
    stub_next = (stub_reply){JV_OK, 200, "{\"solana\":{\"usd\":187.42,\"last_updated_at\":1732104000}}", -1};
    char reason[200] = "";
    dexter_quote quote;
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), 0);
    stub_next = (stub_reply){JV_OK, 200, "{\"prices\":[[1732100400000,186.0],[1732104000000,187.42]]}", -1};
    char *answer = dexter_answer_intent(&context, &intent);
    assert_non_null(answer);
    assert_non_null(strstr(answer, "SOL: no outlook: the price history is too short"));
    assert_non_null(strstr(answer, "$187.42"));
    if (!strstr(answer, "Data: CoinGecko; data time 2024-11-20 12:00 UTC"))
        fail_msg("no source line in:\n%s", answer);
    free(answer);
    dexter_market_destroy(market);
}

static void test_file_provider_missing_file_gives_a_reason(void **unused)
{
    (void)unused;
    jv_host_api api = stub_api();
    dexter_market_config config = {DEXTER_PROVIDER_FILE, "", "", 0,
                                   "/nonexistent/dexter/sample.json", 120, 1000, 60};
    stub_calls = 0;
    dexter_market *market = dexter_market_create(&config, NULL, &api);
    dexter_quote quote;
    char reason[300] = "";
    assert_int_equal(dexter_market_quote(market, "solana", &quote, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "offline data file /nonexistent/dexter/sample.json"));
    assert_int_equal(stub_calls, 0);
    dexter_market_destroy(market);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_change),
        cmocka_unit_test(test_change_over_24h_and_7d),
        cmocka_unit_test(test_change_over_tolerates_a_slightly_late_first_point),
        cmocka_unit_test(test_change_over_tolerance_edges),
        cmocka_unit_test(test_sma),
        cmocka_unit_test(test_rsi_small_hand_computed),
        cmocka_unit_test(test_rsi14_wilder_reference_series),
        cmocka_unit_test(test_rsi_extremes),
        cmocka_unit_test(test_volatility_hand_computed),
        cmocka_unit_test(test_high_low_distance),
        cmocka_unit_test(test_daily_closes_take_the_last_point_of_each_utc_day),
        cmocka_unit_test(test_analyse_rising_series),
        cmocka_unit_test(test_analyse_short_series_leaves_out_what_it_cannot_compute),
        cmocka_unit_test(test_momentum_formula),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_decide_without_weighting_uses_market_alone),
        cmocka_unit_test(test_decide_through_the_weighting_service),
        cmocka_unit_test(test_outlook_names_the_span_of_the_high_low),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_simple_price_good),
        cmocka_unit_test(test_simple_price_bad_bodies),
        cmocka_unit_test(test_market_chart_good),
        cmocka_unit_test(test_market_chart_bad_bodies),
        cmocka_unit_test(test_http_quote_is_cached_for_ttl),
        cmocka_unit_test(test_http_429_remembers_retry_after),
        cmocka_unit_test(test_http_failures_are_reasons_not_numbers),
        cmocka_unit_test(test_http_429_hold_still_serves_the_cache),
        cmocka_unit_test(test_http_reasons_never_quote_the_api_key),
        cmocka_unit_test(test_http_short_chart_reuses_the_30_day_chart),
        cmocka_unit_test(test_price_without_outlook_names_source_and_time),
        cmocka_unit_test(test_file_provider_missing_file_gives_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
