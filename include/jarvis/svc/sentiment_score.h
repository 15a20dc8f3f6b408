/* Service "sentiment.score_text", provided by the sentiment plugin: scores
 * text with its lexicon and reports what chats said about a token.
 * Inputs are borrowed, outputs go into caller-provided structs. Thread-safe. */
#ifndef JARVIS_SVC_SENTIMENT_SCORE_H
#define JARVIS_SVC_SENTIMENT_SCORE_H

#include <stddef.h>
#include <stdint.h>

#define JV_SVC_SENTIMENT_SCORE "sentiment.score_text"
#define JV_SVC_SENTIMENT_SCORE_VERSION 1

typedef struct jv_token_sentiment {
    double mean;              /* mean compound over the current window */
    int64_t samples;          /* messages in the current window */
    double previous_mean;     /* the window before it */
    int64_t previous_samples;
    int64_t window_s;         /* window length in seconds */
    int64_t last_seen_ms;     /* newest sample, 0 if none */
} jv_token_sentiment;

typedef struct jv_sentiment_score_api {
    size_t struct_size;
    /* compound in [-1, 1]; JV_OK or JV_E_INVAL for NULL text. */
    int (*score_text)(const char *text, double *compound);
    /* What chats said about a symbol ("SOL"); JV_E_NOTFOUND when no samples. */
    int (*token_snapshot)(const char *symbol, jv_token_sentiment *snapshot);
} jv_sentiment_score_api;

#endif
