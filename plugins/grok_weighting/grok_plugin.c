/* The grok_weighting plugin: reads [grok_weighting], provides the
 * sentiment.weight service (combine, grok_rate, narrate) and the /grok and
 * /weights commands. Concurrent: config is read-only after init, the cache
 * and the rate-limit backoff have their own locks. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_weight.h>

#include "grok_cache.h"
#include "grok_client.h"
#include "weighting.h"

#define SYMBOL_MAX_LENGTH 15
#define CACHE_CAPACITY 128
#define DEFAULT_BASE_URL "https://api.x.ai/v1"
#define DEFAULT_MODEL "grok-4.3"

struct grok_state {
    const jv_host_api *api;
    jv_plugin *self;
    struct grok_client client;
    struct grok_weights weights;
    int64_t cache_ttl_s;
    int64_t failure_ttl_s;
    struct grok_cache *cache;
    pthread_mutex_t backoff_lock;
    int64_t backoff_until_ms; /* monotonic; no API call before this */
    char backoff_reason[160];
};

static struct grok_state *plugin_state;

static int64_t monotonic_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* "$sol" -> "SOL"; 0 when symbol is not 1..15 letters and digits. */
static int normalise_symbol(const char *symbol, char *out, size_t out_length)
{
    if (symbol == NULL)
        return 0;
    if (*symbol == '$')
        symbol++;
    size_t length = strlen(symbol);
    if (length == 0 || length > SYMBOL_MAX_LENGTH || length >= out_length)
        return 0;
    for (size_t i = 0; i < length; i++) {
        if (!isalnum((unsigned char)symbol[i]))
            return 0;
        out[i] = (char)toupper((unsigned char)symbol[i]);
    }
    out[length] = '\0';
    return 1;
}

/* A 429 is per team, not per symbol: while it lasts nothing is asked. */
static int backoff_active(struct grok_state *state, char *reason, size_t reason_length)
{
    pthread_mutex_lock(&state->backoff_lock);
    int active = monotonic_now_ms() < state->backoff_until_ms;
    if (active)
        snprintf(reason, reason_length, "%s", state->backoff_reason);
    pthread_mutex_unlock(&state->backoff_lock);
    return active;
}

static void note_failure(struct grok_state *state, enum grok_failure failure,
                         int64_t retry_after_s, const char *reason, int64_t *hold_ms)
{
    int64_t hold_s = grok_failure_hold_s(failure, retry_after_s, state->failure_ttl_s);
    *hold_ms = hold_s * 1000;
    if (failure != GROK_FAIL_RATE_LIMIT && failure != GROK_FAIL_CREDITS)
        return;
    pthread_mutex_lock(&state->backoff_lock);
    state->backoff_until_ms = monotonic_now_ms() + *hold_ms;
    snprintf(state->backoff_reason, sizeof state->backoff_reason, "%s", reason);
    pthread_mutex_unlock(&state->backoff_lock);
}

static void fetch_rating(const char *symbol, jv_grok_rating *rating, int64_t *keep_ms,
                         void *context)
{
    struct grok_state *state = context;
    memset(rating, 0, sizeof *rating);
    if (backoff_active(state, rating->reason, sizeof rating->reason)) {
        rating->fetched_at_ms = state->api->now_ms();
        *keep_ms = 0; /* the backoff itself keeps the API unasked */
        return;
    }
    int64_t retry_after_s = -1;
    enum grok_failure failure = grok_client_rate(&state->client, symbol, rating, &retry_after_s);
    if (failure == GROK_OK) {
        *keep_ms = state->cache_ttl_s * 1000;
        state->api->log(state->self, JV_LOG_DEBUG, "Grok rated %s: %.2f (confidence %.2f)",
                        symbol, rating->score, rating->confidence);
        return;
    }
    note_failure(state, failure, retry_after_s, rating->reason, keep_ms);
    state->api->log(state->self, JV_LOG_WARN, "Grok rating for %s unavailable: %s", symbol,
                    rating->reason);
}

static void unavailable(jv_grok_rating *rating, const char *reason)
{
    memset(rating, 0, sizeof *rating);
    snprintf(rating->reason, sizeof rating->reason, "%s", reason);
}

static int rate(const char *symbol, jv_grok_rating *rating, int *from_cache)
{
    struct grok_state *state = plugin_state;
    char normalised[SYMBOL_MAX_LENGTH + 1];
    *from_cache = 0;
    if (rating == NULL)
        return JV_E_INVAL;
    if (state == NULL) {
        unavailable(rating, "grok_weighting is not running");
        return JV_E_STATE;
    }
    if (!normalise_symbol(symbol, normalised, sizeof normalised)) {
        unavailable(rating, "invalid token symbol");
        return JV_E_INVAL;
    }
    if (state->client.api_key[0] == '\0') {
        unavailable(rating, "no API key configured");
        return JV_E_NOTFOUND;
    }
    grok_cache_get(state->cache, normalised, fetch_rating, state, rating, from_cache);
    return rating->available ? JV_OK : JV_E_IO;
}

static int service_combine(const jv_weight_component *components, size_t count,
                           jv_weight_result *result)
{
    struct grok_state *state = plugin_state;
    if (state == NULL)
        return JV_E_STATE;
    return grok_combine(&state->weights, components, count, result);
}

static int service_grok_rate(const char *symbol, jv_grok_rating *rating)
{
    int from_cache;
    return rate(symbol, rating, &from_cache);
}

static int service_narrate(const char *prompt, char *out, size_t out_length)
{
    struct grok_state *state = plugin_state;
    if (out == NULL || out_length == 0 || prompt == NULL || prompt[0] == '\0')
        return JV_E_INVAL;
    out[0] = '\0';
    if (state == NULL)
        return JV_E_STATE;
    if (state->client.api_key[0] == '\0')
        return JV_E_NOTFOUND;
    char reason[160];
    if (backoff_active(state, reason, sizeof reason))
        return JV_E_IO;
    int64_t retry_after_s = -1;
    enum grok_failure failure = grok_client_narrate(&state->client, prompt, out, out_length,
                                                    reason, sizeof reason, &retry_after_s);
    if (failure == GROK_OK)
        return JV_OK;
    int64_t hold_ms;
    note_failure(state, failure, retry_after_s, reason, &hold_ms);
    state->api->log(state->self, JV_LOG_WARN, "Grok narrative unavailable: %s", reason);
    out[0] = '\0';
    return failure == GROK_FAIL_TIMEOUT ? JV_E_TIMEOUT : JV_E_IO;
}

static const jv_sentiment_weight_api service_vtable = {
    .struct_size = sizeof(jv_sentiment_weight_api),
    .combine = service_combine,
    .grok_rate = service_grok_rate,
    .narrate = service_narrate,
};

static void describe_age(int64_t age_ms, int from_cache, char *out, size_t out_length)
{
    int64_t seconds = age_ms > 0 ? age_ms / 1000 : 0;
    if (!from_cache)
        snprintf(out, out_length, "fetched just now");
    else if (seconds < 60)
        snprintf(out, out_length, "cached %lld s ago", (long long)seconds);
    else
        snprintf(out, out_length, "cached %lld min ago", (long long)(seconds / 60));
}

static int command_grok(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    struct grok_state *state = user_data;
    if (message->argc != 1) {
        state->api->reply(message, "Usage: /grok <symbol>, e.g. /grok SOL");
        return JV_HANDLED;
    }
    jv_grok_rating rating;
    int from_cache = 0;
    rate(message->argv[0], &rating, &from_cache);
    char text[640];
    if (!rating.available) {
        snprintf(text, sizeof text, "Grok: unavailable (%s)", rating.reason);
    } else {
        char age[48], symbol[SYMBOL_MAX_LENGTH + 1];
        normalise_symbol(message->argv[0], symbol, sizeof symbol);
        describe_age(state->api->now_ms() - rating.fetched_at_ms, from_cache, age, sizeof age);
        snprintf(text, sizeof text, "Grok on %s: score %+.2f, confidence %.2f (%s)\n%s", symbol,
                 rating.score, rating.confidence, age, rating.summary);
    }
    state->api->reply(message, text);
    return JV_HANDLED;
}

static int command_weights(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    struct grok_state *state = user_data;
    char formula[512], text[768];
    grok_weights_describe(&state->weights, formula, sizeof formula);
    if (state->client.api_key[0] == '\0')
        snprintf(text, sizeof text, "%s\nGrok: unavailable (no API key configured)", formula);
    else
        snprintf(text, sizeof text, "%s\nGrok: model %s, answers cached %lld s", formula,
                 state->client.model, (long long)state->cache_ttl_s);
    state->api->reply(message, text);
    return JV_HANDLED;
}

static double read_weight(struct grok_state *state, const char *key, double fallback)
{
    double value = state->api->config_get_double(state->self, key, fallback);
    if (value >= 0.0 && value <= 1e6)
        return value;
    state->api->log(state->self, JV_LOG_WARN,
                    "[grok_weighting] %s = %g is out of range (0..1e6); using 0", key, value);
    return 0.0;
}

static int64_t read_positive(struct grok_state *state, const char *key, int64_t fallback)
{
    int64_t value = state->api->config_get_int(state->self, key, fallback);
    if (value > 0)
        return value;
    state->api->log(state->self, JV_LOG_WARN,
                    "[grok_weighting] %s = %lld must be > 0; using %lld", key, (long long)value,
                    (long long)fallback);
    return fallback;
}

static void read_config(struct grok_state *state)
{
    const jv_host_api *api = state->api;
    state->client.api = api;
    state->client.self = state->self;
    state->client.base_url = api->config_get(state->self, "base_url", DEFAULT_BASE_URL);
    state->client.model = api->config_get(state->self, "model", DEFAULT_MODEL);
    state->client.api_key = api->config_get(state->self, "api_key", "");
    if (state->client.base_url[0] == '\0')
        state->client.base_url = DEFAULT_BASE_URL;
    if (state->client.model[0] == '\0')
        state->client.model = DEFAULT_MODEL;
    state->client.timeout_ms = read_positive(state, "timeout_ms", 20000);
    state->cache_ttl_s = read_positive(state, "cache_ttl", 600);
    state->failure_ttl_s = read_positive(state, "failure_ttl", 30);
    state->weights.chat = read_weight(state, "w_chat", 0.4);
    state->weights.grok = read_weight(state, "w_grok", 0.3);
    state->weights.market = read_weight(state, "w_market", 0.3);
    state->weights.chat_full_samples = read_positive(state, "chat_full_samples", 50);
    grok_weights_sanitise(&state->weights);
}

static void free_state(struct grok_state *state)
{
    if (state == NULL)
        return;
    grok_cache_destroy(state->cache);
    pthread_mutex_destroy(&state->backoff_lock);
    free(state);
}

static int register_commands(struct grok_state *state)
{
    jv_command_spec grok = {
        .struct_size = sizeof grok,
        .name = "grok",
        .usage = "/grok <symbol>",
        .help = "Grok's current X sentiment for a token: score, confidence, summary",
        .handler = command_grok,
        .user_data = state,
    };
    jv_command_spec weights = {
        .struct_size = sizeof weights,
        .name = "weights",
        .usage = "/weights",
        .help = "the sentiment weights in force and the formula",
        .handler = command_weights,
        .user_data = state,
    };
    int code = state->api->register_command(state->self, &grok, sizeof grok);
    if (code == JV_OK)
        code = state->api->register_command(state->self, &weights, sizeof weights);
    return code;
}

static int grok_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    struct grok_state *state = calloc(1, sizeof *state);
    if (state == NULL) {
        snprintf(err, err_length, "out of memory");
        return JV_E_NOMEM;
    }
    state->api = api;
    state->self = self;
    pthread_mutex_init(&state->backoff_lock, NULL);
    state->cache = grok_cache_create(CACHE_CAPACITY, NULL, NULL);
    if (state->cache == NULL) {
        free_state(state);
        snprintf(err, err_length, "out of memory");
        return JV_E_NOMEM;
    }
    read_config(state);
    int code = register_commands(state);
    if (code == JV_OK)
        code = api->provide_service(self, JV_SVC_SENTIMENT_WEIGHT,
                                    JV_SVC_SENTIMENT_WEIGHT_VERSION, &service_vtable);
    if (code != JV_OK) {
        snprintf(err, err_length, "registration failed: %s", api->strerror(code));
        free_state(state);
        return code;
    }
    plugin_state = state;
    if (state->client.api_key[0] == '\0')
        api->log(self, JV_LOG_INFO, "no api_key configured: Grok ratings unavailable");
    else
        api->log(self, JV_LOG_INFO, "Grok model %s, cache %lld s", state->client.model,
                 (long long)state->cache_ttl_s);
    return JV_OK;
}

static void grok_shutdown(jv_plugin *self)
{
    (void)self;
    struct grok_state *state = plugin_state;
    plugin_state = NULL;
    free_state(state);
}

JV_PLUGIN_DEFINE("grok_weighting", "1.0.0",
                 "Grok sentiment ratings and the sentiment.weight service",
                 JV_PLUGIN_CONCURRENT, grok_init, NULL, grok_shutdown);
