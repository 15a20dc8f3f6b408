/* The weighting formula behind the sentiment.weight service (see weighting.h
 * and docs/grok_weighting.md): effective weight = configured weight x
 * confidence factor, renormalised to sum to 1 over what is present. */
#include "weighting.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jarvis/plugin.h>

static double clamp(double value, double low, double high)
{
    if (value < low)
        return low;
    if (value > high)
        return high;
    return value;
}

static double finite_or_zero(double value)
{
    return isfinite(value) ? value : 0.0;
}

void grok_weights_sanitise(struct grok_weights *weights)
{
    weights->chat = fmax(0.0, finite_or_zero(weights->chat));
    weights->grok = fmax(0.0, finite_or_zero(weights->grok));
    weights->market = fmax(0.0, finite_or_zero(weights->market));
    if (weights->chat_full_samples < 1)
        weights->chat_full_samples = 1;
    if (!(weights->label_threshold > 0.0 && weights->label_threshold < 1.0))
        weights->label_threshold = JV_WEIGHT_LABEL_THRESHOLD;
    if (weights->min_chat_samples < 1)
        weights->min_chat_samples = JV_WEIGHT_MIN_CHAT_SAMPLES;
    if (weights->min_market_days < 1)
        weights->min_market_days = JV_WEIGHT_MIN_MARKET_DAYS;
}

enum component_kind { COMPONENT_UNKNOWN, COMPONENT_CHAT, COMPONENT_GROK, COMPONENT_MARKET };

static enum component_kind kind_of(const char *name)
{
    if (name == NULL)
        return COMPONENT_UNKNOWN;
    if (strcmp(name, "chat") == 0)
        return COMPONENT_CHAT;
    if (strcmp(name, "grok") == 0)
        return COMPONENT_GROK;
    if (strcmp(name, "market") == 0)
        return COMPONENT_MARKET;
    return COMPONENT_UNKNOWN;
}

static double configured_weight(const struct grok_weights *weights, enum component_kind kind)
{
    switch (kind) {
        case COMPONENT_CHAT: return weights->chat;
        case COMPONENT_GROK: return weights->grok;
        case COMPONENT_MARKET: return weights->market;
        default: return 0.0;
    }
}

/* The standard error of a mean falls with sqrt(n), so chat confidence grows
 * with the square root of the sample count rather than linearly. */
static double chat_factor(const struct grok_weights *weights, int64_t samples)
{
    if (samples <= 0)
        return 0.0;
    double ratio = (double)samples / (double)weights->chat_full_samples;
    return fmin(1.0, sqrt(ratio));
}

/* Market momentum is a measurement, not an estimate: a consumer that leaves
 * confidence at 0 means "not stated", which counts as full confidence. */
static double market_factor(double confidence)
{
    if (!isfinite(confidence) || confidence < 0.0)
        return 0.0;
    if (confidence == 0.0)
        return 1.0;
    return fmin(1.0, confidence);
}

double grok_component_factor(const struct grok_weights *weights,
                             const jv_weight_component *component)
{
    switch (kind_of(component->name)) {
        case COMPONENT_CHAT: return chat_factor(weights, component->samples);
        case COMPONENT_GROK:
            return isfinite(component->confidence) ? clamp(component->confidence, 0.0, 1.0) : 0.0;
        case COMPONENT_MARKET: return market_factor(component->confidence);
        default: return 0.0;
    }
}

/* A name given twice counts once (the first present one), so that the
 * result's confidence stays a share of the configured weight. */
static int seen_before(const jv_weight_component *components, size_t index, const double *effective)
{
    for (size_t earlier = 0; earlier < index; earlier++) {
        if (effective[earlier] > 0.0 && components[earlier].name != NULL &&
            strcmp(components[earlier].name, components[index].name) == 0)
            return 1;
    }
    return 0;
}

static double effective_weight(const struct grok_weights *weights,
                               const jv_weight_component *component)
{
    if (!component->present || !isfinite(component->score))
        return 0.0;
    return configured_weight(weights, kind_of(component->name)) *
           grok_component_factor(weights, component);
}

const char *grok_label(const struct grok_weights *weights, double composite)
{
    if (composite >= weights->label_threshold)
        return "bullish";
    if (composite <= -weights->label_threshold)
        return "bearish";
    return "neutral";
}

/* How clearly the composite sits in its band, 0.5 .. 1: near the threshold
 * a label could flip with the next message; far from it, it would not. */
static double clarity(const struct grok_weights *weights, double composite)
{
    double magnitude = fabs(composite);
    if (magnitude >= weights->label_threshold)
        return fmin(1.0, 0.5 + magnitude);
    return 1.0 - 0.5 * magnitude / weights->label_threshold;
}

/* Whether one present component meets its minimum; else a note says why. */
static int meets_minimum(const struct grok_weights *weights, const jv_weight_component *component,
                         char *note, size_t note_length)
{
    switch (kind_of(component->name)) {
        case COMPONENT_CHAT:
            if (component->samples >= weights->min_chat_samples)
                return 1;
            snprintf(note, note_length, "%lld chat message%s (%lld needed)",
                     (long long)component->samples, component->samples == 1 ? "" : "s",
                     (long long)weights->min_chat_samples);
            return 0;
        case COMPONENT_MARKET:
            if (component->samples == 0 || component->samples >= weights->min_market_days)
                return 1;
            snprintf(note, note_length, "%lld day%s of prices (%lld needed)",
                     (long long)component->samples, component->samples == 1 ? "" : "s",
                     (long long)weights->min_market_days);
            return 0;
        default: return 1; /* a Grok rating already sums many posts */
    }
}

static void read_label(const struct grok_weights *weights, const jv_weight_component *components,
                       size_t count, jv_weight_result *result)
{
    double evidenced = 0.0;
    char note[sizeof result->evidence_note] = "";
    for (size_t i = 0; i < count; i++) {
        if (result->weight[i] <= 0.0)
            continue;
        result->sources_used++;
        char reason[sizeof note] = "";
        if (meets_minimum(weights, &components[i], reason, sizeof reason))
            evidenced += result->weight[i];
        else if (note[0] == '\0')
            snprintf(note, sizeof note, "%s", reason);
    }
    result->enough_evidence = result->sources_used > 0 && evidenced >= 0.5 - 1e-9;
    if (!result->enough_evidence) {
        snprintf(result->label, sizeof result->label, "undecided");
        snprintf(result->evidence_note, sizeof result->evidence_note, "%s",
                 note[0] ? note : "no data");
        result->certainty = 0.0;
        return;
    }
    snprintf(result->label, sizeof result->label, "%s", grok_label(weights, result->composite));
    result->certainty = clamp(result->confidence * clarity(weights, result->composite), 0.0, 1.0);
}

int grok_combine(const struct grok_weights *configured, const jv_weight_component *components,
                 size_t count, jv_weight_result *result)
{
    if (result == NULL || count > JV_WEIGHT_MAX_COMPONENTS || (count > 0 && components == NULL))
        return JV_E_INVAL;
    memset(result, 0, sizeof *result);
    result->count = count;

    struct grok_weights weights = *configured;
    grok_weights_sanitise(&weights);

    double effective[JV_WEIGHT_MAX_COMPONENTS] = {0};
    double present_total = 0.0;
    for (size_t i = 0; i < count; i++) {
        effective[i] = effective_weight(&weights, &components[i]);
        if (effective[i] > 0.0 && seen_before(components, i, effective))
            effective[i] = 0.0;
        present_total += effective[i];
    }
    double configured_total = weights.chat + weights.grok + weights.market;
    result->sources_configured =
        (weights.chat > 0.0) + (weights.grok > 0.0) + (weights.market > 0.0);
    if (present_total <= 0.0 || configured_total <= 0.0) {
        read_label(&weights, components, count, result);
        return JV_OK;
    }

    double composite = 0.0;
    for (size_t i = 0; i < count; i++) {
        result->weight[i] = effective[i] / present_total;
        result->contribution[i] = result->weight[i] * clamp(components[i].score, -1.0, 1.0);
        composite += result->contribution[i];
    }
    result->composite = clamp(composite, -1.0, 1.0);
    result->confidence = clamp(present_total / configured_total, 0.0, 1.0);
    read_label(&weights, components, count, result);
    return JV_OK;
}

void grok_weights_describe(const struct grok_weights *configured, char *out, size_t out_length)
{
    struct grok_weights weights = *configured;
    grok_weights_sanitise(&weights);
    snprintf(out, out_length,
             "Weights: chat %.2f, grok %.2f, market %.2f.\n"
             "composite = sum(w*c*score) / sum(w*c) over the components present; "
             "c = min(1, sqrt(samples/%lld)) for chat; the given confidence for grok and "
             "market (for market, 0 means not stated and counts as 1).\n"
             "Labels: bullish at +%.2f or more, bearish at -%.2f or less, else neutral; "
             "undecided unless half the weight has evidence (%lld chat messages, %lld days "
             "of prices, or a Grok rating).",
             weights.chat, weights.grok, weights.market, (long long)weights.chat_full_samples,
             weights.label_threshold, weights.label_threshold, (long long)weights.min_chat_samples,
             (long long)weights.min_market_days);
}
