/* The guarded part of the plugin state: the lazily acquired weighting
 * service and the observation sequence counter. */
#include "state.h"

#include <stddef.h>

const jv_sentiment_weight_api *sentiment_state_weight(sentiment_state *state)
{
    pthread_mutex_lock(&state->lock);
    if (state->weight == NULL) {
        const void *vtable = state->api->acquire_service(state->self, JV_SVC_SENTIMENT_WEIGHT,
                                                         JV_SVC_SENTIMENT_WEIGHT_VERSION);
        const jv_sentiment_weight_api *weight = vtable;
        /* combine2 and grok_rate2 are what this plugin calls: a provider
         * built against a shorter vtable is treated as absent */
        if (weight != NULL && !JV_STRUCT_HAS(weight, jv_sentiment_weight_api, grok_rate2)) {
            state->api->release_service(state->self, JV_SVC_SENTIMENT_WEIGHT);
            weight = NULL;
        }
        state->weight = weight;
    }
    const jv_sentiment_weight_api *result = state->weight;
    pthread_mutex_unlock(&state->lock);
    return result;
}

void sentiment_state_release_weight(sentiment_state *state)
{
    pthread_mutex_lock(&state->lock);
    if (state->weight != NULL)
        state->api->release_service(state->self, JV_SVC_SENTIMENT_WEIGHT);
    state->weight = NULL;
    pthread_mutex_unlock(&state->lock);
}

uint64_t sentiment_state_next_sequence(sentiment_state *state)
{
    pthread_mutex_lock(&state->lock);
    uint64_t sequence = state->sequence++;
    pthread_mutex_unlock(&state->lock);
    return sequence;
}
