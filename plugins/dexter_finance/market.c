/* Market data providers for dexter_finance: validation of CoinGecko-shaped
 * JSON, the HTTP provider (cache, Retry-After, error bodies) and the
 * offline file provider. */
#include "market.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_ENTRIES_MAX 64
#define CACHE_KEY_MAX 256
#define URL_MAX 1024
#define SHARED_CHART_DAYS 30 /* the outlook's span; shorter charts are cut from it */
/* Sanity windows: seconds for last_updated_at, milliseconds for charts. */
#define SECONDS_MIN 1000000000LL   /* 2001 */
#define SECONDS_MAX 100000000000LL /* far future; ms values are above this */
#define MILLIS_MIN 100000000000LL  /* 1973 in ms */
#define MILLIS_MAX 100000000000000LL

typedef struct cache_entry {
    char key[CACHE_KEY_MAX];
    char *body;
    size_t length;
    int64_t fetched_ms;
} cache_entry;

struct dexter_market {
    dexter_provider provider;
    char *base_url;
    char *api_key;
    int pro_plan;
    char *data_file;
    int64_t cache_ttl_s;
    int64_t timeout_ms;
    int64_t default_retry_after_s;
    jv_plugin *self;
    const jv_host_api *api;

    pthread_mutex_t lock;
    cache_entry cache[CACHE_ENTRIES_MAX];
    int64_t retry_not_before_ms; /* after a 429 */

    json_t *file_root; /* file provider; read under lock */
    char file_error[256];
    char source[96];
};

/* ---- validation ------------------------------------------------------- */

static void copy_printable(char *out, size_t out_length, const char *text)
{
    size_t n = 0;
    for (; text && *text && n + 1 < out_length && n < 100; text++)
        out[n++] = (*text >= 32 && *text < 127) ? *text : '?';
    out[n] = '\0';
}

/* CoinGecko error bodies: {"status":{"error_code":429,"error_message":".."}}
 * and {"error":"coin not found"}. Returns 1 when root is one. */
static int describe_error_body(json_t *root, char *err, size_t err_length)
{
    json_t *status = json_object_get(root, "status");
    json_t *code = json_object_get(status, "error_code");
    if (json_is_object(status) && code) {
        char message[128];
        copy_printable(message, sizeof message,
                       json_string_value(json_object_get(status, "error_message")));
        snprintf(err, err_length, "provider error %lld%s%s",
                 json_is_integer(code) ? (long long)json_integer_value(code) : 0LL,
                 message[0] ? ": " : "", message);
        return 1;
    }
    json_t *error = json_object_get(root, "error");
    if (error) {
        char message[128];
        copy_printable(message, sizeof message, json_string_value(error));
        snprintf(err, err_length, "provider error: %s", message[0] ? message : "unspecified");
        return 1;
    }
    return 0;
}

/* An optional non-negative number: absent/null -> *present = 0. */
static int optional_number(json_t *object, const char *key, int allow_negative, int *present,
                           double *value, char *err, size_t err_length)
{
    json_t *item = json_object_get(object, key);
    *present = 0;
    if (!item || json_is_null(item))
        return 0;
    double number = json_number_value(item);
    if (!json_is_number(item) || !isfinite(number) || (!allow_negative && number < 0)) {
        snprintf(err, err_length, "%s is not a valid number", key);
        return -1;
    }
    *present = 1;
    *value = number;
    return 0;
}

static int price_from_json(json_t *root, const char *id, dexter_quote *quote, char *err,
                           size_t err_length)
{
    memset(quote, 0, sizeof *quote);
    if (!json_is_object(root)) {
        snprintf(err, err_length, "simple/price: not a JSON object");
        return -1;
    }
    if (describe_error_body(root, err, err_length))
        return -1;
    json_t *entry = json_object_get(root, id);
    if (!json_is_object(entry)) {
        snprintf(err, err_length, "no price for %s", id);
        return -1;
    }
    json_t *usd = json_object_get(entry, "usd");
    double price = json_number_value(usd);
    if (!json_is_number(usd) || !isfinite(price) || price <= 0) {
        snprintf(err, err_length, "simple/price: usd missing or not a positive number");
        return -1;
    }
    quote->price = price;
    if (optional_number(entry, "usd_market_cap", 0, &quote->has_market_cap, &quote->market_cap, err,
                        err_length) ||
        optional_number(entry, "usd_24h_vol", 0, &quote->has_volume, &quote->volume_24h, err,
                        err_length) ||
        optional_number(entry, "usd_24h_change", 1, &quote->has_change_24h, &quote->change_24h, err,
                        err_length))
        return -1;
    if (quote->has_change_24h && quote->change_24h <= -100.0) {
        snprintf(err, err_length, "usd_24h_change is not a valid number");
        return -1;
    }
    json_t *updated = json_object_get(entry, "last_updated_at");
    if (updated && !json_is_null(updated)) {
        /* A whole number written as 1711111111.0 is still a time in seconds. */
        double seconds = json_number_value(updated);
        if (!json_is_number(updated) || !isfinite(seconds) || seconds != floor(seconds)) {
            snprintf(err, err_length, "last_updated_at is not a whole number of seconds");
            return -1;
        }
        if (seconds >= SECONDS_MAX) {
            snprintf(err, err_length, "last_updated_at is not in seconds");
            return -1;
        }
        if (seconds < SECONDS_MIN) {
            snprintf(err, err_length, "last_updated_at is out of range");
            return -1;
        }
        quote->last_updated_s = (int64_t)seconds;
    }
    return 0;
}

static int timestamp_ms(json_t *item, int64_t *out)
{
    double value = json_number_value(item);
    if (!json_is_number(item) || !isfinite(value) || value != floor(value))
        return -1;
    /* Converting a double beyond int64_t's range is undefined: such a time
     * is pinned just outside the window, which the caller then reports. */
    if (value < (double)MILLIS_MIN)
        *out = MILLIS_MIN - 1;
    else if (value >= (double)MILLIS_MAX)
        *out = MILLIS_MAX;
    else
        *out = (int64_t)value;
    return 0;
}

static int chart_from_json(json_t *root, dexter_series *series, char *err, size_t err_length)
{
    memset(series, 0, sizeof *series);
    if (!json_is_object(root)) {
        snprintf(err, err_length, "market_chart: not a JSON object");
        return -1;
    }
    if (describe_error_body(root, err, err_length))
        return -1;
    json_t *prices = json_object_get(root, "prices");
    if (!json_is_array(prices)) {
        snprintf(err, err_length, "market_chart: prices missing or not an array");
        return -1;
    }
    size_t total = json_array_size(prices);
    series->points = total ? calloc(total, sizeof *series->points) : NULL;
    if (total && !series->points) {
        snprintf(err, err_length, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < total; i++) {
        json_t *pair = json_array_get(prices, i);
        int64_t time_ms = 0;
        if (!json_is_array(pair) || json_array_size(pair) != 2 ||
            timestamp_ms(json_array_get(pair, 0), &time_ms) != 0) {
            snprintf(err, err_length, "market_chart: prices[%zu] is not [time_ms, price]", i);
            goto fail;
        }
        if (time_ms < MILLIS_MIN || time_ms >= MILLIS_MAX) {
            snprintf(err, err_length, "market_chart: prices[%zu] time is not in milliseconds", i);
            goto fail;
        }
        json_t *price_item = json_array_get(pair, 1);
        if (json_is_null(price_item)) {
            series->skipped_nulls++;
            continue;
        }
        double price = json_number_value(price_item);
        if (!json_is_number(price_item) || !isfinite(price) || price <= 0) {
            snprintf(err, err_length, "market_chart: prices[%zu] price is not positive", i);
            goto fail;
        }
        if (series->count > 0 && time_ms <= series->points[series->count - 1].time_ms) {
            snprintf(err, err_length, "market_chart: prices[%zu] is out of time order", i);
            goto fail;
        }
        series->points[series->count].time_ms = time_ms;
        series->points[series->count].price = price;
        series->count++;
    }
    if (series->count < 2) {
        snprintf(err, err_length, "market_chart: fewer than 2 prices");
        goto fail;
    }
    return 0;
fail:
    dexter_series_free(series);
    return -1;
}

static json_t *load_text(const char *body, size_t length, const char *what, char *err,
                         size_t err_length)
{
    json_error_t error;
    json_t *root = body ? json_loadb(body, length, 0, &error) : NULL;
    if (!root)
        snprintf(err, err_length, "%s: malformed JSON", what);
    return root;
}

int dexter_parse_simple_price(const char *body, size_t length, const char *id, dexter_quote *quote,
                              char *err, size_t err_length)
{
    memset(quote, 0, sizeof *quote);
    json_t *root = load_text(body, length, "simple/price", err, err_length);
    if (!root)
        return -1;
    int result = price_from_json(root, id, quote, err, err_length);
    json_decref(root);
    return result;
}

int dexter_parse_market_chart(const char *body, size_t length, dexter_series *series, char *err,
                              size_t err_length)
{
    memset(series, 0, sizeof *series);
    json_t *root = load_text(body, length, "market_chart", err, err_length);
    if (!root)
        return -1;
    int result = chart_from_json(root, series, err, err_length);
    json_decref(root);
    return result;
}

void dexter_series_free(dexter_series *series)
{
    free(series->points);
    series->points = NULL;
    series->count = 0;
}

/* Keeps the points of the last `days` days (all of them when fewer). */
static void keep_last_days(dexter_series *series, int days)
{
    if (series->count < 2 || days <= 0)
        return;
    int64_t start = series->points[series->count - 1].time_ms - (int64_t)days * DEXTER_MS_PER_DAY;
    size_t first = 0;
    while (first < series->count && series->points[first].time_ms < start)
        first++;
    if (first == 0 || series->count - first < 2)
        return;
    memmove(series->points, series->points + first,
            (series->count - first) * sizeof *series->points);
    series->count -= first;
}

/* ---- the cache -------------------------------------------------------- */

static char *cache_find(dexter_market *market, const char *key, int64_t now_ms, size_t *length)
{
    if (market->cache_ttl_s <= 0)
        return NULL;
    for (size_t i = 0; i < CACHE_ENTRIES_MAX; i++) {
        cache_entry *entry = &market->cache[i];
        if (!entry->body || strcmp(entry->key, key) != 0)
            continue;
        if (now_ms - entry->fetched_ms >= market->cache_ttl_s * 1000)
            return NULL;
        char *copy = malloc(entry->length + 1);
        if (!copy)
            return NULL;
        memcpy(copy, entry->body, entry->length + 1);
        *length = entry->length;
        return copy;
    }
    return NULL;
}

static void cache_store(dexter_market *market, const char *key, const char *body, size_t length,
                        int64_t now_ms)
{
    if (market->cache_ttl_s <= 0 || strlen(key) >= CACHE_KEY_MAX)
        return;
    cache_entry *slot = NULL;
    for (size_t i = 0; i < CACHE_ENTRIES_MAX && !slot; i++)
        if (market->cache[i].body && strcmp(market->cache[i].key, key) == 0)
            slot = &market->cache[i];
    for (size_t i = 0; i < CACHE_ENTRIES_MAX && !slot; i++)
        if (!market->cache[i].body)
            slot = &market->cache[i];
    if (!slot) { /* full: replace the oldest */
        slot = &market->cache[0];
        for (size_t i = 1; i < CACHE_ENTRIES_MAX; i++)
            if (market->cache[i].fetched_ms < slot->fetched_ms)
                slot = &market->cache[i];
    }
    char *copy = malloc(length + 1);
    if (!copy)
        return;
    memcpy(copy, body, length);
    copy[length] = '\0';
    free(slot->body);
    snprintf(slot->key, sizeof slot->key, "%s", key);
    slot->body = copy;
    slot->length = length;
    slot->fetched_ms = now_ms;
}

/* ---- HTTP ------------------------------------------------------------- */

static void describe_http_failure(const jv_http_response *response, char *reason,
                                  size_t reason_length)
{
    char detail[160] = "";
    json_error_t error;
    json_t *root =
        response->body ? json_loadb(response->body, response->body_length, 0, &error) : NULL;
    if (root && json_is_object(root))
        describe_error_body(root, detail, sizeof detail);
    json_decref(root);
    snprintf(reason, reason_length, "HTTP %ld%s%s", response->status, detail[0] ? ", " : "",
             detail);
}

/* Returns a malloc'd body of a 200 answer (or a fresh cached one), or NULL
 * with a reason. *from_cache tells the caller not to store it again. */
static char *fetch(dexter_market *market, const char *path, size_t *length, int *from_cache,
                   char *reason, size_t reason_length)
{
    int64_t now = market->api->now_ms();
    *from_cache = 0;
    /* the cache first: a 429 hold stops requests, not answers we already have */
    pthread_mutex_lock(&market->lock);
    char *cached = cache_find(market, path, now, length);
    int64_t retry_not_before_ms = market->retry_not_before_ms;
    pthread_mutex_unlock(&market->lock);
    if (cached) {
        *from_cache = 1;
        return cached;
    }
    if (now < retry_not_before_ms) {
        long long wait_s = (retry_not_before_ms - now + 999) / 1000;
        snprintf(reason, reason_length, "rate limited by the provider, retry in %lld s", wait_s);
        return NULL;
    }

    char url[URL_MAX];
    if (snprintf(url, sizeof url, "%s%s", market->base_url, path) >= (int)sizeof url) {
        snprintf(reason, reason_length, "request URL too long");
        return NULL;
    }
    char key_header[256] = "";
    const char *headers[3] = {"Accept: application/json", NULL, NULL};
    if (market->api_key[0]) {
        snprintf(key_header, sizeof key_header, "%s: %s",
                 market->pro_plan ? "x-cg-pro-api-key" : "x-cg-demo-api-key", market->api_key);
        headers[1] = key_header;
    }
    jv_http_request request = {sizeof request, "GET", url, headers, NULL, 0, market->timeout_ms};
    jv_http_response response;
    memset(&response, 0, sizeof response);
    response.struct_size = sizeof response;
    int rc = market->api->http_request(market->self, &request, &response);
    memset(key_header, 0, sizeof key_header);

    char *body = NULL;
    if (rc == JV_E_TIMEOUT) {
        snprintf(reason, reason_length, "timeout after %lld ms", (long long)market->timeout_ms);
    } else if (rc != JV_OK) {
        snprintf(reason, reason_length, "network error: %s",
                 response.error[0] ? response.error : "no response");
    } else if (response.status == 429) {
        int64_t wait_s =
            response.retry_after_s >= 0 ? response.retry_after_s : market->default_retry_after_s;
        pthread_mutex_lock(&market->lock);
        market->retry_not_before_ms = market->api->now_ms() + wait_s * 1000;
        pthread_mutex_unlock(&market->lock);
        snprintf(reason, reason_length, "HTTP 429 rate limited, retry in %lld s",
                 (long long)wait_s);
    } else if (response.status != 200) {
        describe_http_failure(&response, reason, reason_length);
    } else if (!response.body) {
        snprintf(reason, reason_length, "empty response");
    } else {
        body = malloc(response.body_length + 1);
        if (body) {
            memcpy(body, response.body, response.body_length);
            body[response.body_length] = '\0';
            *length = response.body_length;
        } else {
            snprintf(reason, reason_length, "out of memory");
        }
    }
    market->api->http_response_free(&response);
    return body;
}

static void remember(dexter_market *market, const char *path, const char *body, size_t length)
{
    pthread_mutex_lock(&market->lock);
    cache_store(market, path, body, length, market->api->now_ms());
    pthread_mutex_unlock(&market->lock);
}

static int http_quote(dexter_market *market, const char *id, dexter_quote *quote, char *reason,
                      size_t reason_length)
{
    char path[CACHE_KEY_MAX];
    snprintf(path, sizeof path,
             "/simple/price?ids=%s&vs_currencies=usd&include_market_cap=true"
             "&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true",
             id);
    size_t length = 0;
    int from_cache = 0;
    char *body = fetch(market, path, &length, &from_cache, reason, reason_length);
    if (!body)
        return -1;
    int result = dexter_parse_simple_price(body, length, id, quote, reason, reason_length);
    if (result == 0 && !from_cache)
        remember(market, path, body, length);
    free(body);
    return result;
}

static int http_chart(dexter_market *market, const char *id, int days, dexter_series *series,
                      char *reason, size_t reason_length)
{
    /* CoinGecko sends hourly points for any span of 2..90 days: asking for
     * the outlook's 30 days and cutting lets one cached chart serve them all */
    int asked_days = days >= 2 && days <= SHARED_CHART_DAYS ? SHARED_CHART_DAYS : days;
    char path[CACHE_KEY_MAX];
    snprintf(path, sizeof path, "/coins/%s/market_chart?vs_currency=usd&days=%d", id, asked_days);
    size_t length = 0;
    int from_cache = 0;
    char *body = fetch(market, path, &length, &from_cache, reason, reason_length);
    if (!body)
        return -1;
    int result = dexter_parse_market_chart(body, length, series, reason, reason_length);
    if (result == 0 && !from_cache)
        remember(market, path, body, length);
    free(body);
    if (result == 0)
        keep_last_days(series, days);
    return result;
}

/* ---- the file provider ------------------------------------------------ */

/* sample_market.json compiled in (the Makefile generates it): data_file "" */
extern const char dexter_builtin_sample_market[];
extern const size_t dexter_builtin_sample_market_size;

/* {"sample_date": "YYYY-MM-DD", "simple_price": {<simple/price answer>},
 *  "market_chart": {"<id>": {<market_chart answer>}, ...}} */
static void load_file(dexter_market *market)
{
    json_error_t error;
    json_t *root = market->data_file[0] != '\0'
                       ? json_load_file(market->data_file, 0, &error)
                       : json_loadb(dexter_builtin_sample_market, dexter_builtin_sample_market_size,
                                    0, &error);
    if (!root) {
        snprintf(market->file_error, sizeof market->file_error, "offline data file %s:%d: %s",
                 market->data_file, error.line, error.text);
        return;
    }
    const char *date = json_string_value(json_object_get(root, "sample_date"));
    if (!json_is_object(root) || !date || !json_is_object(json_object_get(root, "simple_price")) ||
        !json_is_object(json_object_get(root, "market_chart"))) {
        snprintf(market->file_error, sizeof market->file_error,
                 "offline data file %s: needs sample_date, simple_price and market_chart",
                 market->data_file);
        json_decref(root);
        return;
    }
    char printable[32];
    copy_printable(printable, sizeof printable, date);
    snprintf(market->source, sizeof market->source, "offline sample data as of %s", printable);
    market->file_root = root;
}

static int file_quote(dexter_market *market, const char *id, dexter_quote *quote, char *reason,
                      size_t reason_length)
{
    if (!market->file_root) {
        snprintf(reason, reason_length, "%s", market->file_error);
        return -1;
    }
    pthread_mutex_lock(&market->lock);
    int result = price_from_json(json_object_get(market->file_root, "simple_price"), id, quote,
                                 reason, reason_length);
    pthread_mutex_unlock(&market->lock);
    if (result != 0 && strncmp(reason, "no price for", 12) == 0)
        snprintf(reason, reason_length, "the offline sample has no data for %s", id);
    return result;
}

static int file_chart(dexter_market *market, const char *id, int days, dexter_series *series,
                      char *reason, size_t reason_length)
{
    memset(series, 0, sizeof *series);
    if (!market->file_root) {
        snprintf(reason, reason_length, "%s", market->file_error);
        return -1;
    }
    pthread_mutex_lock(&market->lock);
    json_t *chart = json_object_get(json_object_get(market->file_root, "market_chart"), id);
    int result = -1;
    if (!chart)
        snprintf(reason, reason_length, "the offline sample has no history for %s", id);
    else
        result = chart_from_json(chart, series, reason, reason_length);
    pthread_mutex_unlock(&market->lock);
    if (result == 0)
        keep_last_days(series, days);
    return result;
}

/* ---- public ------------------------------------------------------------ */

static char *copy_or_empty(const char *text)
{
    return strdup(text ? text : "");
}

dexter_market *dexter_market_create(const dexter_market_config *config, jv_plugin *self,
                                    const jv_host_api *api)
{
    dexter_market *market = calloc(1, sizeof *market);
    if (!market)
        return NULL;
    market->provider = config->provider;
    market->base_url = copy_or_empty(config->base_url);
    market->api_key = copy_or_empty(config->api_key);
    market->data_file = copy_or_empty(config->data_file);
    if (!market->base_url || !market->api_key || !market->data_file) {
        dexter_market_destroy(market);
        return NULL;
    }
    size_t base_length = strlen(market->base_url);
    while (base_length > 0 && market->base_url[base_length - 1] == '/')
        market->base_url[--base_length] = '\0';
    market->pro_plan = config->pro_plan;
    market->cache_ttl_s = config->cache_ttl_s;
    market->timeout_ms = config->timeout_ms;
    market->default_retry_after_s =
        config->default_retry_after_s > 0 ? config->default_retry_after_s : 60;
    market->self = self;
    market->api = api;
    pthread_mutex_init(&market->lock, NULL);
    if (market->provider == DEXTER_PROVIDER_FILE) {
        snprintf(market->source, sizeof market->source, "offline sample data");
        load_file(market);
    } else {
        snprintf(market->source, sizeof market->source, "CoinGecko");
    }
    return market;
}

void dexter_market_destroy(dexter_market *market)
{
    if (!market)
        return;
    for (size_t i = 0; i < CACHE_ENTRIES_MAX; i++)
        free(market->cache[i].body);
    json_decref(market->file_root);
    if (market->api_key)
        memset(market->api_key, 0, strlen(market->api_key));
    free(market->base_url);
    free(market->api_key);
    free(market->data_file);
    if (market->api)
        pthread_mutex_destroy(&market->lock);
    free(market);
}

const char *dexter_market_source(const dexter_market *market)
{
    return market->source;
}

int dexter_market_is_offline(const dexter_market *market)
{
    return market->provider == DEXTER_PROVIDER_FILE;
}

const char *dexter_market_problem(const dexter_market *market)
{
    if (market->provider != DEXTER_PROVIDER_FILE || market->file_root)
        return NULL;
    return market->file_error;
}

/* Reasons quote the provider's error texts, and an error about a rejected
 * key may echo the key: it never reaches a reply or a log line. */
static int scrub_key(const dexter_market *market, int result, char *reason)
{
    size_t key_length = strlen(market->api_key);
    if (result == 0 || key_length < 4)
        return result;
    char *found;
    while ((found = strstr(reason, market->api_key)) != NULL) {
        memmove(found + 3, found + key_length, strlen(found + key_length) + 1);
        memcpy(found, "***", 3);
    }
    return result;
}

int dexter_market_quote(dexter_market *market, const char *id, dexter_quote *quote, char *reason,
                        size_t reason_length)
{
    memset(quote, 0, sizeof *quote);
    int result = market->provider == DEXTER_PROVIDER_FILE
                     ? file_quote(market, id, quote, reason, reason_length)
                     : http_quote(market, id, quote, reason, reason_length);
    return scrub_key(market, result, reason);
}

int dexter_market_chart(dexter_market *market, const char *id, int days, dexter_series *series,
                        char *reason, size_t reason_length)
{
    memset(series, 0, sizeof *series);
    if (days < 1)
        days = 1;
    int result = market->provider == DEXTER_PROVIDER_FILE
                     ? file_chart(market, id, days, series, reason, reason_length)
                     : http_chart(market, id, days, series, reason, reason_length);
    return scrub_key(market, result, reason);
}
