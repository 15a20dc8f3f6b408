/* Observations in the KV store (see history.h). Keys sort by time within a
 * token, so a window scan narrows its prefix to the digits the window's two
 * ends share and skips the rest of the token's history. */
#include "history.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIME_DIGITS 13
#define MIN_TIME_MS INT64_C(1000000000000) /* 2001-09-09: smallest 13-digit value */
#define MAX_TIME_MS INT64_C(9999999999999)

int sentiment_history_key(char *key, size_t key_size, const char *symbol, int64_t time_ms,
                          int64_t chat_id, uint64_t sequence)
{
    if (time_ms < MIN_TIME_MS || time_ms > MAX_TIME_MS)
        return -1;
    int written = snprintf(key, key_size, "obs/%s/%013" PRId64 "/%" PRId64 "/%" PRIu64, symbol,
                           time_ms, chat_id, sequence);
    return written < 0 || (size_t)written >= key_size ? -1 : 0;
}

int sentiment_history_record(const jv_host_api *api, jv_plugin *self, const char *symbol,
                             int64_t time_ms, int64_t chat_id, uint64_t sequence, double score)
{
    char key[SENTIMENT_HISTORY_KEY_MAX];
    if (sentiment_history_key(key, sizeof key, symbol, time_ms, chat_id, sequence) != 0)
        return JV_E_INVAL;
    char value[32];
    int length = snprintf(value, sizeof value, "%.6f", score);
    return api->kv_set(self, key, value, (size_t)length);
}

/* The time in an "obs/<SYMBOL>/<time>/..." key; -1 when malformed. */
static int64_t key_time(const char *key)
{
    const char *slash = strchr(key + 4, '/');
    if (strncmp(key, "obs/", 4) != 0 || slash == NULL)
        return -1;
    const char *digits = slash + 1;
    int64_t time_ms = 0;
    for (int i = 0; i < TIME_DIGITS; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return -1;
        time_ms = time_ms * 10 + (digits[i] - '0');
    }
    return digits[TIME_DIGITS] == '/' ? time_ms : -1;
}

static int parse_score(const void *value, size_t length, double *score)
{
    char text[32];
    if (length == 0 || length >= sizeof text)
        return -1;
    memcpy(text, value, length);
    text[length] = '\0';
    char *end = NULL;
    double parsed = strtod(text, &end);
    if (*end != '\0' || !(parsed >= -1.0 && parsed <= 1.0))
        return -1;
    *score = parsed;
    return 0;
}

typedef struct window_scan {
    int64_t current_start;  /* exclusive */
    int64_t previous_start; /* exclusive */
    double current_sum;
    double previous_sum;
    jv_token_sentiment *snapshot;
} window_scan;

static int visit_observation(const char *key, const void *value, size_t length, void *data)
{
    window_scan *scan = data;
    int64_t time_ms = key_time(key);
    double score = 0;
    if (time_ms < 0 || parse_score(value, length, &score) != 0)
        return 0; /* a foreign or damaged entry: skip it, do not count it */
    if (time_ms > scan->current_start) {
        scan->current_sum += score;
        scan->snapshot->samples++;
        if (time_ms > scan->snapshot->last_seen_ms)
            scan->snapshot->last_seen_ms = time_ms;
    } else if (time_ms > scan->previous_start) {
        scan->previous_sum += score;
        scan->snapshot->previous_samples++;
    }
    return 0;
}

/* "obs/SOL/17000" for a range whose 13-digit ends share "17000". */
static void narrowest_prefix(char *prefix, size_t size, const char *symbol, int64_t from_ms,
                             int64_t to_ms)
{
    if (from_ms < MIN_TIME_MS || to_ms > MAX_TIME_MS) {
        snprintf(prefix, size, "obs/%s/", symbol);
        return;
    }
    char from[24];
    char to[24];
    snprintf(from, sizeof from, "%013" PRId64, from_ms);
    snprintf(to, sizeof to, "%013" PRId64, to_ms);
    int shared = 0;
    while (shared < TIME_DIGITS && from[shared] == to[shared])
        shared++;
    snprintf(prefix, size, "obs/%s/%.*s", symbol, shared, from);
}

int sentiment_history_window(const jv_host_api *api, jv_plugin *self, const char *symbol,
                             int64_t now_ms, int64_t window_ms, jv_token_sentiment *snapshot)
{
    memset(snapshot, 0, sizeof *snapshot);
    snapshot->window_s = window_ms / 1000;
    window_scan scan = {.current_start = now_ms - window_ms,
                        .previous_start = now_ms - 2 * window_ms,
                        .snapshot = snapshot};
    char prefix[SENTIMENT_HISTORY_KEY_MAX];
    /* the upper end leaves room for observations stamped slightly in the future */
    narrowest_prefix(prefix, sizeof prefix, symbol, scan.previous_start + 1, now_ms + 60000);
    int result = api->kv_list(self, prefix, visit_observation, &scan);
    if (result != JV_OK)
        return result;
    if (snapshot->samples > 0)
        snapshot->mean = scan.current_sum / (double)snapshot->samples;
    if (snapshot->previous_samples > 0)
        snapshot->previous_mean = scan.previous_sum / (double)snapshot->previous_samples;
    return JV_OK;
}

typedef struct prune_scan {
    int64_t cutoff_ms;
    size_t limit;
    char **keys;
    size_t count;
    int out_of_memory;
} prune_scan;

static int visit_expired(const char *key, const void *value, size_t length, void *data)
{
    (void)value;
    (void)length;
    prune_scan *scan = data;
    int64_t time_ms = key_time(key);
    if (time_ms < 0 || time_ms >= scan->cutoff_ms)
        return 0;
    char *copy = strdup(key);
    if (copy == NULL) {
        scan->out_of_memory = 1;
        return 1;
    }
    scan->keys[scan->count++] = copy;
    return scan->count == scan->limit;
}

int sentiment_history_prune(const jv_host_api *api, jv_plugin *self, int64_t cutoff_ms,
                            size_t limit, size_t *deleted)
{
    *deleted = 0;
    if (limit == 0)
        return JV_OK;
    prune_scan scan = {.cutoff_ms = cutoff_ms, .limit = limit};
    scan.keys = calloc(limit, sizeof *scan.keys);
    if (scan.keys == NULL)
        return JV_E_NOMEM;
    /* collect first, delete after: the store may not allow writes mid-scan */
    int result = api->kv_list(self, "obs/", visit_expired, &scan);
    for (size_t i = 0; i < scan.count; i++) {
        if (result == JV_OK && api->kv_delete(self, scan.keys[i]) == JV_OK)
            (*deleted)++;
        free(scan.keys[i]);
    }
    free(scan.keys);
    if (result == JV_OK && scan.out_of_memory)
        result = JV_E_NOMEM;
    return result;
}
