/* The sentiment plugin's state, shared by its commands, handler, jobs and
 * service. Everything above `lock` is set during init and read-only after;
 * the members below it are guarded by `lock` (the plugin is concurrent). */
#ifndef SENTIMENT_STATE_H
#define SENTIMENT_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_weight.h>

#include "lexicon.h"
#include "tokens.h"

#define SENTIMENT_PATH_MAX 4096

typedef struct sentiment_state {
    jv_plugin *self;
    const jv_host_api *api;
    sentiment_lexicon *lexicon;
    char lexicon_path[SENTIMENT_PATH_MAX];
    sentiment_token_table tokens;
    int64_t window_ms;
    int64_t retention_ms;
    int64_t report_interval_ms; /* a chat's default; see subscriptions.h for its own */
    int64_t report_check_ms;    /* how often the report job looks for chats due */
    int64_t started_ms;         /* init time: the report clock of pre-button records */
    int64_t prune_interval_ms;
    size_t report_tokens[SENTIMENT_MAX_TOKENS]; /* indexes into tokens */
    size_t report_token_count;

    pthread_mutex_t lock;
    const jv_sentiment_weight_api *weight; /* NULL until acquired */
    uint64_t sequence;                     /* makes same-millisecond keys unique */
} sentiment_state;

/* The sentiment.weight service, acquired on first use; NULL while
 * grok_weighting is not loaded (asked again next time). */
const jv_sentiment_weight_api *sentiment_state_weight(sentiment_state *state);
/* Releases the service if it was acquired (at shutdown). */
void sentiment_state_release_weight(sentiment_state *state);
uint64_t sentiment_state_next_sequence(sentiment_state *state);

#endif
