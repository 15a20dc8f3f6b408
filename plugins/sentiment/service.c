/* The sentiment.score_text service (see service.h). Callers arrive on other
 * plugins' threads, so a read-write lock keeps the state alive during a
 * call and shutdown waits for calls in flight. */
#include "service.h"
#include "history.h"
#include "scorer.h"

#include <pthread.h>
#include <string.h>

#include <jarvis/util.h>

/* The service's context. It is static, not part of the state, because a
 * call may arrive while the state is being set up or torn down (a reload,
 * or a dependency cycle that unloads this plugin before a consumer): the
 * lock must outlive every state. The version 1 members, which get no
 * context, are the only code that names it. */
typedef struct sentiment_service {
    pthread_rwlock_t lock;
    sentiment_state *state; /* NULL when closed */
} sentiment_service;

static sentiment_service endpoint = {PTHREAD_RWLOCK_INITIALIZER, NULL};

static int score_with(sentiment_service *service, const char *text, double *compound)
{
    if (text == NULL || compound == NULL)
        return JV_E_INVAL;
    pthread_rwlock_rdlock(&service->lock);
    int result = JV_E_STATE;
    if (service->state != NULL) {
        sentiment_score score;
        result =
            sentiment_score_text(service->state->lexicon, text, &score) == 0 ? JV_OK : JV_E_NOMEM;
        if (result == JV_OK)
            *compound = score.compound;
    }
    pthread_rwlock_unlock(&service->lock);
    return result;
}

/* Fills *snapshot (zeroed first: window_s stays 0 for a token not tracked). */
static int snapshot_with(sentiment_service *service, const char *symbol,
                         jv_token_sentiment *snapshot)
{
    memset(snapshot, 0, sizeof *snapshot);
    pthread_rwlock_rdlock(&service->lock);
    int result = JV_E_STATE;
    sentiment_state *state = service->state;
    if (state != NULL) {
        int token = sentiment_tokens_lookup(&state->tokens, symbol);
        if (token < 0) {
            result = JV_E_NOTFOUND;
        } else {
            result = sentiment_history_window(state->api, state->self,
                                              state->tokens.tokens[token].symbol,
                                              state->api->now_ms(), state->window_ms, snapshot);
            if (result == JV_OK && snapshot->samples == 0)
                result = JV_E_NOTFOUND;
        }
    }
    pthread_rwlock_unlock(&service->lock);
    return result;
}

static int score_text2(void *context, const char *text, double *compound)
{
    return score_with(context, text, compound);
}

static int token_snapshot2(void *context, const char *symbol, jv_token_sentiment2 *snapshot)
{
    if (symbol == NULL || snapshot == NULL)
        return JV_E_INVAL;
    jv_token_sentiment reading;
    int result = snapshot_with(context, symbol, &reading);
    jv_token_sentiment2 full = {
        .struct_size = sizeof full,
        .mean = reading.mean,
        .samples = reading.samples,
        .previous_mean = reading.previous_mean,
        .previous_samples = reading.previous_samples,
        .window_s = reading.window_s,
        .last_seen_ms = reading.last_seen_ms,
    };
    if (jv_sized_copy(snapshot, &full, sizeof full, sizeof full) != 0)
        return JV_E_ABI;
    return result;
}

/* Version 1: no context, hence the static endpoint. */
static int score_text(const char *text, double *compound)
{
    return score_with(&endpoint, text, compound);
}

static int token_snapshot(const char *symbol, jv_token_sentiment *snapshot)
{
    if (symbol == NULL || snapshot == NULL)
        return JV_E_INVAL;
    return snapshot_with(&endpoint, symbol, snapshot);
}

static const jv_sentiment_score_api vtable = {
    .struct_size = sizeof(jv_sentiment_score_api),
    .score_text = score_text,
    .token_snapshot = token_snapshot,
    .context = &endpoint,
    .score_text2 = score_text2,
    .token_snapshot2 = token_snapshot2,
};

const jv_sentiment_score_api *sentiment_service_vtable(void)
{
    return &vtable;
}

void sentiment_service_open(sentiment_state *state)
{
    pthread_rwlock_wrlock(&endpoint.lock);
    endpoint.state = state;
    pthread_rwlock_unlock(&endpoint.lock);
}

void sentiment_service_close(void)
{
    pthread_rwlock_wrlock(&endpoint.lock);
    endpoint.state = NULL;
    pthread_rwlock_unlock(&endpoint.lock);
}
