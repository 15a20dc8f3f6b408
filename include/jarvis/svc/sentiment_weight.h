/* Service "sentiment.weight", provided by grok_weighting: combines named
 * sentiment components into one composite, and rates a token through Grok.
 * Inputs are borrowed, outputs go into caller-provided structs. Thread-safe.
 * APPEND ONLY, like jv_host_api: a consumer built against an older version
 * of this header gets the same vtable and reads only its own members. */
#ifndef JARVIS_SVC_SENTIMENT_WEIGHT_H
#define JARVIS_SVC_SENTIMENT_WEIGHT_H

#include <stddef.h>
#include <stdint.h>

#define JV_SVC_SENTIMENT_WEIGHT "sentiment.weight"
/* Version 2 appended the label fields to jv_weight_result: ask for version
 * 2 to read them (a version 1 provider leaves them unwritten). Version 3
 * appended the context and the members taking it, with sized outputs
 * (jv_weight_result2, jv_grok_rating2): ask for version 3 to call them.
 * Note: combine writes the version 2 layout whatever the caller was built
 * against, which is why the version 3 outputs carry struct_size. */
#define JV_SVC_SENTIMENT_WEIGHT_VERSION 3

/* The one label rule every plugin shows (defaults; the provider's
 * plugins.ini may change them): |composite| >= threshold for bullish or
 * bearish, and only with enough evidence. */
#define JV_WEIGHT_LABEL_THRESHOLD 0.15
#define JV_WEIGHT_MIN_CHAT_SAMPLES 5
#define JV_WEIGHT_MIN_MARKET_DAYS 7

#define JV_WEIGHT_MAX_COMPONENTS 8

/* One input signal. Names the provider knows: "chat", "grok", "market";
 * an unknown name gets weight 0 and is reported as unused. */
typedef struct jv_weight_component {
    const char *name;
    int present;       /* 0: missing; it then takes no weight */
    double score;      /* -1 .. 1 */
    double confidence; /* 0 .. 1; for "chat" the provider derives it from samples */
    int64_t samples;   /* "chat": number of observed messages; "market": days of
                          price history behind the score (0: not stated); else 0 */
} jv_weight_component;

/* The version 1 and 2 outputs (no struct_size: they can never grow). New
 * code uses jv_weight_result2 and jv_grok_rating2 below. */
typedef struct jv_weight_result {
    double composite;  /* -1 .. 1; 0 when nothing was present */
    double confidence; /* 0 .. 1: the share of configured weight that was present */
    size_t count;      /* equals the number of components given */
    /* per component, same order as the input: */
    double weight[JV_WEIGHT_MAX_COMPONENTS];       /* effective, renormalised; sums to 1 */
    double contribution[JV_WEIGHT_MAX_COMPONENTS]; /* weight * score */
    /* since version 2: the reading every plugin shows for this composite */
    char label[16];            /* "bullish", "bearish", "neutral", or "undecided"
                              when the evidence is below the minimum */
    double certainty;          /* 0 .. 1: coverage x how clearly the composite sits
                              in its band; shown as the confidence */
    int enough_evidence;       /* the components meeting their minimum (chat
                              samples, market days, any Grok rating) carry at
                              least half of the effective weight */
    char evidence_note[96];    /* when not enough: "2 chat messages (5 needed)" */
    size_t sources_used;       /* components that took weight */
    size_t sources_configured; /* known components with a configured weight > 0 */
} jv_weight_result;

typedef struct jv_grok_rating {
    int available;     /* 0: see reason */
    double score;      /* -1 .. 1 */
    double confidence; /* 0 .. 1 */
    char summary[256]; /* one line */
    int64_t fetched_at_ms;
    char reason[160]; /* when unavailable: "Grok unavailable: set XAI_API_KEY", "HTTP 429", ... */
} jv_grok_rating;

/* since version 3: the sized outputs. The caller sets struct_size =
 * sizeof(the struct); the provider fills what fits and never writes past
 * struct_size (JV_E_ABI below this first edition's size). */
typedef struct jv_weight_result2 {
    size_t struct_size;
    double composite;  /* -1 .. 1; 0 when nothing was present */
    double confidence; /* 0 .. 1: the share of configured weight that was present */
    size_t count;      /* equals the number of components given */
    /* per component, same order as the input: */
    double weight[JV_WEIGHT_MAX_COMPONENTS];       /* effective, renormalised; sums to 1 */
    double contribution[JV_WEIGHT_MAX_COMPONENTS]; /* weight * score */
    char label[16];            /* "bullish", "bearish", "neutral", "undecided" */
    double certainty;          /* 0 .. 1: coverage x how clearly the composite sits in its band */
    int enough_evidence;       /* as in jv_weight_result */
    char evidence_note[96];    /* when not enough: "2 chat messages (5 needed)" */
    size_t sources_used;       /* components that took weight */
    size_t sources_configured; /* known components with a configured weight > 0 */
} jv_weight_result2;

typedef struct jv_grok_rating2 {
    size_t struct_size;
    int available;     /* 0: see reason */
    double score;      /* -1 .. 1 */
    double confidence; /* 0 .. 1 */
    char summary[256]; /* one line */
    int64_t fetched_at_ms;
    char reason[160]; /* when unavailable: "Grok unavailable: set XAI_API_KEY", "HTTP 429", ... */
} jv_grok_rating2;

typedef struct jv_sentiment_weight_api {
    size_t struct_size;
    /* versions 1 and 2 (prefer the version 3 members below) */
    /* Returns JV_OK, or JV_E_INVAL for count > JV_WEIGHT_MAX_COMPONENTS. */
    int (*combine)(const jv_weight_component *components, size_t count, jv_weight_result *result);
    /* Grok's current rating of a token symbol ("SOL"); cached, may block on
     * the network. Always fills *rating; returns JV_OK when available. */
    int (*grok_rate)(const char *symbol, jv_grok_rating *rating);
    /* Optional narrative: a short plain-text completion of prompt into out.
     * JV_E_NOTFOUND when no API key is configured. */
    int (*narrate)(const char *prompt, char *out, size_t out_length);

    /* since version 3: passed back as the first argument of the members
     * below; valid as long as the vtable (until the provider unloads).
     * Each answers as its version 1 twin, and JV_E_STATE while the provider
     * shuts down; the sized outputs add JV_E_ABI for a too small struct_size. */
    void *context;
    int (*combine2)(void *context, const jv_weight_component *components, size_t count,
                    jv_weight_result2 *result);
    int (*grok_rate2)(void *context, const char *symbol, jv_grok_rating2 *rating);
    int (*narrate2)(void *context, const char *prompt, char *out, size_t out_length);
} jv_sentiment_weight_api;

#endif
