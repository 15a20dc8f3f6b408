/* Market data for dexter_finance: CoinGecko-shaped simple/price and
 * market_chart, fetched over HTTP through the host (provider = coingecko,
 * with a per-request cache and Retry-After memory) or read from a bundled
 * file of the same shapes (provider = file). Responses are validated; a
 * failure yields a short reason, never a made-up number. Thread-safe. */
#ifndef DEXTER_MARKET_H
#define DEXTER_MARKET_H

#include <jarvis/plugin.h>

#include <stddef.h>
#include <stdint.h>

#include "indicators.h"

typedef struct dexter_quote {
    double price; /* USD */
    int has_market_cap;
    double market_cap;
    int has_volume;
    double volume_24h;
    int has_change_24h;     /* CoinGecko sends null when the price is stale */
    double change_24h;      /* percent */
    int64_t last_updated_s; /* 0 when the provider did not say */
} dexter_quote;

typedef struct dexter_series {
    dexter_point *points; /* oldest first, strictly increasing times (ms) */
    size_t count;
    size_t skipped_nulls; /* [t, null] entries left out */
} dexter_series;

/* Validators; on failure return -1 with a short reason in err. */
int dexter_parse_simple_price(const char *body, size_t length, const char *id, dexter_quote *quote,
                              char *err, size_t err_length);
int dexter_parse_market_chart(const char *body, size_t length, dexter_series *series, char *err,
                              size_t err_length);
void dexter_series_free(dexter_series *series);

typedef enum dexter_provider { DEXTER_PROVIDER_FILE, DEXTER_PROVIDER_COINGECKO } dexter_provider;

typedef struct dexter_market_config {
    dexter_provider provider;
    const char *base_url;  /* coingecko: e.g. https://api.coingecko.com/api/v3 */
    const char *api_key;   /* "" or NULL: none */
    int pro_plan;          /* 1: header x-cg-pro-api-key, else x-cg-demo-api-key */
    const char *data_file; /* file provider */
    int64_t cache_ttl_s;   /* 0: no cache */
    int64_t timeout_ms;
    int64_t default_retry_after_s; /* a 429 without Retry-After */
} dexter_market_config;

typedef struct dexter_market dexter_market;

/* Copies what it needs from config. A file that cannot be read does not
 * fail creation: every later request answers with the reason. */
dexter_market *dexter_market_create(const dexter_market_config *config, jv_plugin *self,
                                    const jv_host_api *api);
void dexter_market_destroy(dexter_market *market);

/* "CoinGecko" or "offline sample data as of <date>". */
const char *dexter_market_source(const dexter_market *market);
int dexter_market_is_offline(const dexter_market *market);
/* Why the offline file could not be used ("offline data file X:3: ..."), or
 * NULL when it loaded (or the provider is not the file). */
const char *dexter_market_problem(const dexter_market *market);

/* 0, or -1 with a reason ("HTTP 429, retry in 30 s", "timeout", ...). */
int dexter_market_quote(dexter_market *market, const char *id, dexter_quote *quote, char *reason,
                        size_t reason_length);
/* Up to `days` days of prices ending at the newest point. */
int dexter_market_chart(dexter_market *market, const char *id, int days, dexter_series *series,
                        char *reason, size_t reason_length);

#endif
