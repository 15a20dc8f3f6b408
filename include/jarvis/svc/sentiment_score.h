/* Service "sentiment.score_text", provided by the sentiment plugin: scores
 * text with its lexicon and reports what chats said about a token.
 * Inputs are borrowed, outputs go into caller-provided structs. Thread-safe.
 * APPEND ONLY, like jv_host_api: a consumer built against an older version
 * of this header gets the same vtable and reads only its own members. */
#ifndef JARVIS_SVC_SENTIMENT_SCORE_H
#define JARVIS_SVC_SENTIMENT_SCORE_H

#include <stddef.h>
#include <stdint.h>

#define JV_SVC_SENTIMENT_SCORE "sentiment.score_text"
/* Version 2 appended the context and the members taking it (the version 1
 * members have no context, so a provider needs a process global for them):
 * ask for version 2 to call score_text2 and token_snapshot2. */
#define JV_SVC_SENTIMENT_SCORE_VERSION 2

/* Version 1's reading (no struct_size, so it can never grow): kept for
 * token_snapshot; new code uses jv_token_sentiment2. */
typedef struct jv_token_sentiment {
    double mean;          /* mean compound over the current window */
    int64_t samples;      /* messages in the current window */
    double previous_mean; /* the window before it */
    int64_t previous_samples;
    int64_t window_s;     /* window length in seconds */
    int64_t last_seen_ms; /* newest sample, 0 if none */
} jv_token_sentiment;

/* since version 2: the same reading, sized. The caller sets struct_size =
 * sizeof(jv_token_sentiment2); the provider fills what fits and never
 * writes past struct_size (JV_E_ABI below this first edition's size). */
typedef struct jv_token_sentiment2 {
    size_t struct_size;
    double mean;          /* mean compound over the current window */
    int64_t samples;      /* messages in the current window */
    double previous_mean; /* the window before it */
    int64_t previous_samples;
    int64_t window_s;     /* window length in seconds; 0 for a token not tracked */
    int64_t last_seen_ms; /* newest sample, 0 if none */
} jv_token_sentiment2;

typedef struct jv_sentiment_score_api {
    size_t struct_size;
    /* version 1 (prefer the version 2 members below) */
    /* compound in [-1, 1]; JV_OK or JV_E_INVAL for NULL text. */
    int (*score_text)(const char *text, double *compound);
    /* What chats said about a symbol ("SOL"); JV_E_NOTFOUND when no samples. */
    int (*token_snapshot)(const char *symbol, jv_token_sentiment *snapshot);

    /* since version 2: passed back as the first argument of the members
     * below; valid as long as the vtable (until the provider unloads). */
    void *context;
    /* As score_text. JV_E_STATE while the provider shuts down. */
    int (*score_text2)(void *context, const char *text, double *compound);
    /* As token_snapshot, into the sized struct: JV_OK, JV_E_NOTFOUND when
     * no samples (window_s is still filled for a tracked token), JV_E_ABI
     * when snapshot->struct_size is too small, JV_E_STATE, JV_E_IO. */
    int (*token_snapshot2)(void *context, const char *symbol, jv_token_sentiment2 *snapshot);
} jv_sentiment_score_api;

#endif
