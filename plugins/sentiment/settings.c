/* [sentiment] keys: lexicon, tokens, window_s, retention_s, report_interval
 * (report_interval_ms overrides it, for tests), report_tokens, prune_interval_s.
 * A value out of range fails init with a reason naming the key. */
#include "settings.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WINDOW_S 86400
#define DEFAULT_RETENTION_S (7 * 86400)
#define DEFAULT_REPORT_INTERVAL_S 3600
#define DEFAULT_PRUNE_INTERVAL_S 600
#define DEFAULT_REPORT_TOKENS "SOL, BTC, ETH"
#define MAX_SECONDS (INT64_C(10) * 365 * 86400)
/* Chats pick their own interval (whole hours, or the default): the job
 * looks for chats due at least this often, and at the default's pace when
 * that is shorter (tests). */
#define REPORT_CHECK_MAX_MS INT64_C(60000)

int sentiment_default_lexicon_path(char *path, size_t size)
{
    Dl_info info;
    if (dladdr((const void *)&sentiment_default_lexicon_path, &info) == 0 || info.dli_fname == NULL)
        return -1;
    /* the host may load us through a /proc/self/fd/N alias: resolve it */
    char *resolved = realpath(info.dli_fname, NULL);
    const char *library = resolved != NULL ? resolved : info.dli_fname;
    const char *slash = strrchr(library, '/');
    int directory_length = slash ? (int)(slash - library) : 1;
    const char *directory = slash ? library : ".";
    int written = snprintf(path, size, "%.*s/sentiment/lexicon.txt", directory_length, directory);
    free(resolved);
    return written < 0 || (size_t)written >= size ? -1 : 0;
}

static int read_seconds(sentiment_state *state, const char *key, int64_t fallback,
                        int64_t *milliseconds, char *error, size_t error_size)
{
    int64_t seconds = state->api->config_get_int(state->self, key, fallback);
    if (seconds < 1 || seconds > MAX_SECONDS) {
        snprintf(error, error_size, "[sentiment] %s must be 1..%" PRId64 " seconds, got %" PRId64,
                 key, MAX_SECONDS, seconds);
        return JV_E_INVAL;
    }
    *milliseconds = seconds * 1000;
    return JV_OK;
}

static int read_report_interval(sentiment_state *state, char *error, size_t error_size)
{
    int result = read_seconds(state, "report_interval", DEFAULT_REPORT_INTERVAL_S,
                              &state->report_interval_ms, error, error_size);
    if (result != JV_OK)
        return result;
    int64_t milliseconds = state->api->config_get_int(state->self, "report_interval_ms", 0);
    if (milliseconds < 0 || milliseconds > MAX_SECONDS * 1000) {
        snprintf(error, error_size,
                 "[sentiment] report_interval_ms must be 0..%" PRId64
                 " (0: use report_interval), got %" PRId64,
                 MAX_SECONDS * 1000, milliseconds);
        return JV_E_INVAL;
    }
    if (milliseconds > 0)
        state->report_interval_ms = milliseconds;
    state->report_check_ms = state->report_interval_ms < REPORT_CHECK_MAX_MS
                                 ? state->report_interval_ms
                                 : REPORT_CHECK_MAX_MS;
    return JV_OK;
}

static int read_report_tokens(sentiment_state *state, char *error, size_t error_size)
{
    const char *list = state->api->config_get(state->self, "report_tokens", DEFAULT_REPORT_TOKENS);
    char copy[1024];
    if (snprintf(copy, sizeof copy, "%s", list) >= (int)sizeof copy) {
        snprintf(error, error_size, "[sentiment] report_tokens is too long");
        return JV_E_INVAL;
    }
    state->report_token_count = 0;
    char *saved = NULL;
    for (char *item = strtok_r(copy, ", \t", &saved); item != NULL;
         item = strtok_r(NULL, ", \t", &saved)) {
        int index = sentiment_tokens_lookup(&state->tokens, item);
        if (index < 0) {
            snprintf(error, error_size,
                     "[sentiment] report_tokens: '%s' is not in [sentiment] tokens", item);
            return JV_E_INVAL;
        }
        int listed = 0;
        for (size_t i = 0; i < state->report_token_count; i++)
            listed |= state->report_tokens[i] == (size_t)index;
        if (!listed && state->report_token_count < SENTIMENT_MAX_TOKENS)
            state->report_tokens[state->report_token_count++] = (size_t)index;
    }
    return JV_OK;
}

/* lexicon.txt compiled in (the Makefile generates it), so sentiment.so alone works */
extern const char sentiment_builtin_lexicon[];

static int load_lexicon(sentiment_state *state, char *error, size_t error_size)
{
    const char *configured = state->api->config_get(state->self, "lexicon", "");
    if (configured[0] != '\0') {
        snprintf(state->lexicon_path, sizeof state->lexicon_path, "%s", configured);
    } else if (sentiment_default_lexicon_path(state->lexicon_path, sizeof state->lexicon_path) !=
                   0 ||
               access(state->lexicon_path, F_OK) != 0) {
        snprintf(state->lexicon_path, sizeof state->lexicon_path, "built-in lexicon");
        state->lexicon = sentiment_lexicon_parse(sentiment_builtin_lexicon, state->lexicon_path,
                                                 error, error_size);
        return state->lexicon == NULL ? JV_E_INVAL : JV_OK;
    }
    state->lexicon = sentiment_lexicon_load(state->lexicon_path, error, error_size);
    return state->lexicon == NULL ? JV_E_INVAL : JV_OK;
}

int sentiment_settings_load(sentiment_state *state, char *error, size_t error_size)
{
    char reason[256];
    const char *tokens = state->api->config_get(state->self, "tokens", SENTIMENT_DEFAULT_TOKENS);
    if (sentiment_tokens_parse(tokens, &state->tokens, reason, sizeof reason) != 0) {
        snprintf(error, error_size, "[sentiment] %s", reason);
        return JV_E_INVAL;
    }
    int result =
        read_seconds(state, "window_s", DEFAULT_WINDOW_S, &state->window_ms, error, error_size);
    if (result == JV_OK)
        result = read_seconds(state, "retention_s", DEFAULT_RETENTION_S, &state->retention_ms,
                              error, error_size);
    if (result == JV_OK)
        result = read_seconds(state, "prune_interval_s", DEFAULT_PRUNE_INTERVAL_S,
                              &state->prune_interval_ms, error, error_size);
    if (result == JV_OK)
        result = read_report_interval(state, error, error_size);
    if (result == JV_OK)
        result = read_report_tokens(state, error, error_size);
    if (result == JV_OK)
        result = load_lexicon(state, error, error_size);
    return result;
}
