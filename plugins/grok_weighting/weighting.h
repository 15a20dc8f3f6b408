/* The sentiment.weight combine formula: configured weights scaled by each
 * component's confidence, renormalised over the components present. Pure
 * arithmetic, no state, so it is unit-tested against hand-computed values. */
#ifndef GROK_WEIGHTING_H
#define GROK_WEIGHTING_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/svc/sentiment_weight.h>

struct grok_weights {
    double chat;               /* w_chat, >= 0 */
    double grok;               /* w_grok, >= 0 */
    double market;             /* w_market, >= 0 */
    int64_t chat_full_samples; /* samples at which chat confidence reaches 1, >= 1 */
    /* the label rule; 0 (unset) takes the JV_WEIGHT_* default */
    double label_threshold;   /* 0 < t < 1 */
    int64_t min_chat_samples; /* >= 1 */
    int64_t min_market_days;  /* >= 1 */
};

/* Clamps negative / non-finite weights to 0 and chat_full_samples to >= 1. */
void grok_weights_sanitise(struct grok_weights *weights);

/* The confidence factor (0..1) a component gets; 0 for unknown names. */
double grok_component_factor(const struct grok_weights *weights,
                             const jv_weight_component *component);

/* Implements jv_sentiment_weight_api.combine with the given weights. */
int grok_combine(const struct grok_weights *weights, const jv_weight_component *components,
                 size_t count, jv_weight_result *result);

/* The label for a composite under the rule in force, evidence aside. */
const char *grok_label(const struct grok_weights *weights, double composite);

/* One or two lines for /weights: the weights and the label rule in force. */
void grok_weights_describe(const struct grok_weights *weights, char *out, size_t out_length);

#endif
