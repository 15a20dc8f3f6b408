/* Service "sentiment.weight", provided by grok_weighting: combines named
 * sentiment components into one composite, and rates a token through Grok.
 * Inputs are borrowed, outputs go into caller-provided structs. Thread-safe. */
#ifndef JARVIS_SVC_SENTIMENT_WEIGHT_H
#define JARVIS_SVC_SENTIMENT_WEIGHT_H

#include <stddef.h>
#include <stdint.h>

#define JV_SVC_SENTIMENT_WEIGHT "sentiment.weight"
#define JV_SVC_SENTIMENT_WEIGHT_VERSION 1

#define JV_WEIGHT_MAX_COMPONENTS 8

/* One input signal. Names the provider knows: "chat", "grok", "market";
 * an unknown name gets weight 0 and is reported as unused. */
typedef struct jv_weight_component {
    const char *name;
    int present;       /* 0: missing; it then takes no weight */
    double score;      /* -1 .. 1 */
    double confidence; /* 0 .. 1; for "chat" the provider derives it from samples */
    int64_t samples;   /* "chat": number of observed messages; else 0 */
} jv_weight_component;

typedef struct jv_weight_result {
    double composite;  /* -1 .. 1; 0 when nothing was present */
    double confidence; /* 0 .. 1: the share of configured weight that was present */
    size_t count;      /* equals the number of components given */
    /* per component, same order as the input: */
    double weight[JV_WEIGHT_MAX_COMPONENTS];       /* effective, renormalised; sums to 1 */
    double contribution[JV_WEIGHT_MAX_COMPONENTS]; /* weight * score */
} jv_weight_result;

typedef struct jv_grok_rating {
    int available;       /* 0: see reason */
    double score;        /* -1 .. 1 */
    double confidence;   /* 0 .. 1 */
    char summary[256];   /* one line */
    int64_t fetched_at_ms;
    char reason[160];    /* when unavailable: "no API key configured", "HTTP 429", ... */
} jv_grok_rating;

typedef struct jv_sentiment_weight_api {
    size_t struct_size;
    /* Returns JV_OK, or JV_E_INVAL for count > JV_WEIGHT_MAX_COMPONENTS. */
    int (*combine)(const jv_weight_component *components, size_t count,
                   jv_weight_result *result);
    /* Grok's current rating of a token symbol ("SOL"); cached, may block on
     * the network. Always fills *rating; returns JV_OK when available. */
    int (*grok_rate)(const char *symbol, jv_grok_rating *rating);
    /* Optional narrative: a short plain-text completion of prompt into out.
     * JV_E_NOTFOUND when no API key is configured. */
    int (*narrate)(const char *prompt, char *out, size_t out_length);
} jv_sentiment_weight_api;

#endif
