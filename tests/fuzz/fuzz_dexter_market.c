/* libFuzzer target: market-data JSON (CoinGecko simple/price and
 * market_chart shapes) through dexter's validators, and every accepted
 * series through the indicators: finite numbers only, never a made-up one.
 * First byte odd: simple/price for "solana"; even: market_chart. */
#include "fuzz_common.h"
#include "dexter_finance/indicators.h"
#include "dexter_finance/market.h"

#include <math.h>

static void check_series(const dexter_series *series)
{
    for (size_t i = 0; i < series->count; i++) {
        FUZZ_REQUIRE(isfinite(series->points[i].price));
        if (i > 0)
            FUZZ_REQUIRE(series->points[i].time_ms > series->points[i - 1].time_ms);
    }
    dexter_analysis_params params = {.sma_fast = 7, .sma_slow = 25, .rsi_period = 14,
                                     .daily_basis = series->count > 0 && (series->count & 1)};
    dexter_indicators indicators;
    if (dexter_analyse(series->points, series->count, NULL, &params, &indicators) != 0) {
        FUZZ_REQUIRE(series->count == 0);
        return;
    }
    FUZZ_REQUIRE(isfinite(indicators.price));
    if (indicators.has_rsi)
        FUZZ_REQUIRE(indicators.rsi >= 0.0 && indicators.rsi <= 100.0);
    if (indicators.has_volatility)
        FUZZ_REQUIRE(isfinite(indicators.volatility) && indicators.volatility >= 0.0);
    if (indicators.has_high_low)
        FUZZ_REQUIRE(indicators.high >= indicators.low);
    double momentum = 0;
    double confidence = 0;
    if (dexter_momentum(&indicators, &momentum, &confidence) == 0) {
        FUZZ_REQUIRE(momentum >= -1.0 && momentum <= 1.0);
        FUZZ_REQUIRE(confidence >= 0.0 && confidence <= 1.0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t length = size - 1;
    char error[128];
    if (data[0] & 1) {
        dexter_quote quote;
        if (dexter_parse_simple_price(body, length, "solana", &quote, error, sizeof error) == 0) {
            FUZZ_REQUIRE(isfinite(quote.price) && quote.price >= 0.0);
            FUZZ_REQUIRE(!quote.has_change_24h || isfinite(quote.change_24h));
        } else {
            FUZZ_REQUIRE(error[0] != '\0' && strchr(error, '\n') == NULL);
        }
        return 0;
    }
    dexter_series series = {0};
    if (dexter_parse_market_chart(body, length, &series, error, sizeof error) == 0)
        check_series(&series);
    else
        FUZZ_REQUIRE(error[0] != '\0' && strchr(error, '\n') == NULL);
    dexter_series_free(&series);
    return 0;
}
