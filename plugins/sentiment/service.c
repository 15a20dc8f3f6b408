/* The sentiment.score_text service (see service.h). Callers arrive on other
 * plugins' threads, so a read-write lock keeps the state alive during a
 * call and shutdown waits for calls in flight. */
#include "service.h"
#include "history.h"
#include "scorer.h"

#include <pthread.h>

static pthread_rwlock_t service_lock = PTHREAD_RWLOCK_INITIALIZER;
static sentiment_state *service_state; /* NULL when closed */

static int score_text(const char *text, double *compound)
{
    if (text == NULL || compound == NULL)
        return JV_E_INVAL;
    pthread_rwlock_rdlock(&service_lock);
    int result = JV_E_STATE;
    if (service_state != NULL) {
        sentiment_score score;
        result = sentiment_score_text(service_state->lexicon, text, &score) == 0 ? JV_OK
                                                                                 : JV_E_NOMEM;
        if (result == JV_OK)
            *compound = score.compound;
    }
    pthread_rwlock_unlock(&service_lock);
    return result;
}

static int token_snapshot(const char *symbol, jv_token_sentiment *snapshot)
{
    if (symbol == NULL || snapshot == NULL)
        return JV_E_INVAL;
    pthread_rwlock_rdlock(&service_lock);
    int result = JV_E_STATE;
    sentiment_state *state = service_state;
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
    pthread_rwlock_unlock(&service_lock);
    return result;
}

static const jv_sentiment_score_api vtable = {
    .struct_size = sizeof(jv_sentiment_score_api),
    .score_text = score_text,
    .token_snapshot = token_snapshot,
};

const jv_sentiment_score_api *sentiment_service_vtable(void)
{
    return &vtable;
}

void sentiment_service_open(sentiment_state *state)
{
    pthread_rwlock_wrlock(&service_lock);
    service_state = state;
    pthread_rwlock_unlock(&service_lock);
}

void sentiment_service_close(void)
{
    pthread_rwlock_wrlock(&service_lock);
    service_state = NULL;
    pthread_rwlock_unlock(&service_lock);
}
