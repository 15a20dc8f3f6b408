/* Verdict and outlook wording for dexter_finance (formulas in
 * docs/dexter_finance.md, "Verdict"). */
#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Ends every answer. It claims nothing about the data: price answers use
 * no chat sentiment, and the offline file is not live market data (the
 * "Data:" line names the source). */
const char dexter_disclaimer[] = "Not financial advice; do your own research.";

static const char *const component_names[DEXTER_COMPONENT_COUNT] = {"market", "chat", "grok"};

const char *dexter_label(double composite)
{
    if (composite >= DEXTER_VERDICT_THRESHOLD)
        return "bullish";
    if (composite <= -DEXTER_VERDICT_THRESHOLD)
        return "bearish";
    return "neutral";
}

/* How clearly the composite sits in its band: 0.5 .. 1 (the service's rule). */
static double clarity(double composite)
{
    double magnitude = fabs(composite);
    if (magnitude >= DEXTER_VERDICT_THRESHOLD)
        return fmin(1.0, 0.5 + magnitude);
    return 1.0 - 0.5 * magnitude / DEXTER_VERDICT_THRESHOLD;
}

static double clamp01(double value)
{
    if (!(value > 0.0))
        return 0.0;
    return value > 1.0 ? 1.0 : value;
}

static void market_alone(const dexter_component *market, dexter_verdict *verdict)
{
    verdict->composite = market->score;
    verdict->coverage = clamp01(market->confidence);
    verdict->used[DEXTER_COMPONENT_MARKET] = 1;
    verdict->weight[DEXTER_COMPONENT_MARKET] = 1.0;
    verdict->enough_evidence = market->samples == 0 || market->samples >= JV_WEIGHT_MIN_MARKET_DAYS;
    if (!verdict->enough_evidence) {
        snprintf(verdict->label, sizeof verdict->label, "undecided");
        snprintf(verdict->evidence_note, sizeof verdict->evidence_note,
                 "%lld day%s of prices (%d needed)", (long long)market->samples,
                 market->samples == 1 ? "" : "s", JV_WEIGHT_MIN_MARKET_DAYS);
        return;
    }
    snprintf(verdict->label, sizeof verdict->label, "%s", dexter_label(verdict->composite));
    verdict->confidence = clamp01(verdict->coverage * clarity(verdict->composite));
}

static void to_inputs(const dexter_component components[DEXTER_COMPONENT_COUNT],
                      jv_weight_component inputs[DEXTER_COMPONENT_COUNT])
{
    for (int i = 0; i < DEXTER_COMPONENT_COUNT; i++) {
        inputs[i].name = component_names[i];
        inputs[i].present = components[i].present;
        inputs[i].score = components[i].score;
        inputs[i].confidence = components[i].confidence;
        inputs[i].samples = components[i].samples;
    }
}

/* Chat and Grok alone: the same call /sentiment makes, so both plugins show
 * the same number for the same inputs. */
static void add_social(const jv_weight_component inputs[DEXTER_COMPONENT_COUNT],
                       const jv_sentiment_weight_api *weights, dexter_verdict *verdict)
{
    jv_weight_component social[2] = {inputs[DEXTER_COMPONENT_CHAT], inputs[DEXTER_COMPONENT_GROK]};
    if (!social[0].present && !social[1].present)
        return;
    jv_weight_result2 result = {.struct_size = sizeof result};
    if (weights->combine2(weights->context, social, 2, &result) != 0 || !isfinite(result.composite))
        return;
    verdict->has_social = 1;
    verdict->social_composite = result.composite;
    snprintf(verdict->social_label, sizeof verdict->social_label, "%.15s", result.label);
}

int dexter_decide(const dexter_component components[DEXTER_COMPONENT_COUNT],
                  const jv_sentiment_weight_api *weights, dexter_verdict *verdict)
{
    memset(verdict, 0, sizeof *verdict);
    const dexter_component *market = &components[DEXTER_COMPONENT_MARKET];
    if (!market->present)
        return -1;
    if (!weights || !weights->combine2) {
        market_alone(market, verdict);
        return 0;
    }
    jv_weight_component inputs[DEXTER_COMPONENT_COUNT];
    to_inputs(components, inputs);
    jv_weight_result2 result = {.struct_size = sizeof result};
    if (weights->combine2(weights->context, inputs, DEXTER_COMPONENT_COUNT, &result) != 0 ||
        !isfinite(result.composite) || result.label[0] == '\0')
        return -1;
    verdict->weighted = 1;
    verdict->composite = fmax(-1.0, fmin(1.0, result.composite));
    verdict->coverage = clamp01(result.confidence);
    verdict->confidence = clamp01(result.certainty);
    verdict->enough_evidence = result.enough_evidence;
    snprintf(verdict->label, sizeof verdict->label, "%.15s", result.label);
    snprintf(verdict->evidence_note, sizeof verdict->evidence_note, "%.95s", result.evidence_note);
    for (int i = 0; i < DEXTER_COMPONENT_COUNT; i++) {
        verdict->weight[i] = isfinite(result.weight[i]) ? result.weight[i] : 0.0;
        verdict->used[i] = components[i].present && verdict->weight[i] > 0.0;
    }
    add_social(inputs, weights, verdict);
    return 0;
}

static void write_indicators(dexter_text *text, const dexter_outlook_facts *facts)
{
    const dexter_indicators *in = facts->indicators;
    char a[48], b[48], c[48];
    const char *basis = facts->daily_basis ? "daily closes" : "points";
    if (in->has_sma) {
        dexter_format_usd(in->sma_fast, a, sizeof a);
        dexter_format_usd(in->sma_slow, b, sizeof b);
        dexter_format_percent(in->sma_spread, c, sizeof c);
        dexter_text_append(text, "- SMA%zu %s is %s SMA%zu %s (%s)%s, on %s\n", facts->sma_fast, a,
                           in->sma_fast >= in->sma_slow ? "above" : "below", facts->sma_slow, b, c,
                           in->sma_cross > 0   ? ", just crossed above"
                           : in->sma_cross < 0 ? ", just crossed below"
                                               : "",
                           basis);
    } else {
        dexter_text_append(text, "- SMA crossover: not enough history (%zu %s)\n", in->closes_used,
                           basis);
    }
    if (in->has_rsi)
        dexter_text_append(text, "- RSI-14 %.1f%s\n", in->rsi,
                           in->rsi >= 70   ? " (overbought)"
                           : in->rsi <= 30 ? " (oversold)"
                                           : "");
    else
        dexter_text_append(text, "- RSI-14: not enough history\n");
    if (in->has_volatility)
        dexter_text_append(text, "- volatility %.1f%% annualised\n", in->volatility * 100.0);
    if (in->has_high_low) {
        /* name the span the data covers: a short history is not "30-day" */
        long long days =
            llround((double)(in->price_time_ms - in->first_time_ms) / (double)DEXTER_MS_PER_DAY);
        dexter_format_usd(in->high, a, sizeof a);
        dexter_format_usd(in->low, b, sizeof b);
        dexter_text_append(text, "- %.2f%% below the %lld-day high %s, %.2f%% above the low %s\n",
                           in->below_high, days > 0 ? days : 1, a, in->above_low, b);
    }
}

static void write_chat_count(dexter_text *text, const dexter_component *chat)
{
    dexter_text_append(text, " (%lld message%s", (long long)chat->samples,
                       chat->samples == 1 ? "" : "s");
    if (chat->window_s > 0) {
        char window[32];
        jv_format_duration(chat->window_s, window, sizeof window);
        dexter_text_append(text, " in the last %s", window);
    }
    dexter_text_append(text, ")");
}

static void write_component(dexter_text *text, int index, const dexter_component *component,
                            const dexter_verdict *verdict)
{
    static const char *const titles[DEXTER_COMPONENT_COUNT] = {"market momentum", "chat sentiment",
                                                               "Grok"};
    dexter_text_append(text, "- %s: ", titles[index]);
    if (!component->present) {
        dexter_text_append(text, "not used: %s\n", component->reason);
        return;
    }
    dexter_text_append(text, "%+.2f", component->score);
    if (index == DEXTER_COMPONENT_CHAT)
        write_chat_count(text, component);
    else
        dexter_text_append(text, " (confidence %.0f%%)", component->confidence * 100.0);
    if (verdict->used[index])
        dexter_text_append(text, ", weight %.2f\n", verdict->weight[index]);
    else if (!verdict->weighted)
        dexter_text_append(text, ", not used: weighting is unavailable\n");
    else
        dexter_text_append(text, ", not used: weight 0\n");
}

/* Coverage (which sources answered) is said apart from certainty. */
static void write_coverage(dexter_text *text, const dexter_verdict *verdict)
{
    static const char *const names[DEXTER_COMPONENT_COUNT] = {"market data", "chat", "Grok"};
    int used = 0;
    dexter_text_append(text, "Coverage: ");
    for (int i = 0; i < DEXTER_COMPONENT_COUNT; i++) {
        if (!verdict->used[i])
            continue;
        dexter_text_append(text, "%s%s", used ? ", " : "", names[i]);
        used++;
    }
    dexter_text_append(text, "%s, %d of %d sources\n", used == 1 ? " only" : "", used,
                       DEXTER_COMPONENT_COUNT);
}

void dexter_write_outlook(dexter_text *text, const dexter_outlook_facts *facts,
                          const dexter_component components[DEXTER_COMPONENT_COUNT],
                          const dexter_verdict *verdict)
{
    const dexter_indicators *in = facts->indicators;
    char price[48], change[24], time_text[40];
    dexter_format_usd(facts->price, price, sizeof price);
    if (verdict->enough_evidence)
        dexter_text_append(text, "%s outlook: %s, score %+.2f, confidence %.0f%%\n", facts->symbol,
                           verdict->label, verdict->composite, verdict->confidence * 100.0);
    else
        dexter_text_append(text, "%s outlook: undecided, too little evidence (%s); score %+.2f\n",
                           facts->symbol, verdict->evidence_note, verdict->composite);
    write_coverage(text, verdict);
    dexter_text_append(text, "Price %s", price);
    if (in->has_change_24h) {
        dexter_format_percent(in->change_24h, change, sizeof change);
        dexter_text_append(text, ", 24h %s", change);
    }
    if (in->has_change_7d) {
        dexter_format_percent(in->change_7d, change, sizeof change);
        dexter_text_append(text, ", 7d %s", change);
    }
    dexter_text_append(text, "\nIndicators:\n");
    write_indicators(text, facts);
    dexter_text_append(text, "Components:\n");
    for (int i = 0; i < DEXTER_COMPONENT_COUNT; i++)
        write_component(text, i, &components[i], verdict);
    if (verdict->has_social)
        dexter_text_append(text, "Chat and Grok together: %+.2f (%s), as /sentiment %s shows\n",
                           verdict->social_composite, verdict->social_label, facts->symbol);
    if (!verdict->weighted)
        dexter_text_append(text, "Weighting is unavailable: the verdict uses market momentum "
                                 "alone.\n");
    dexter_format_utc(facts->price_time_ms, time_text, sizeof time_text);
    dexter_text_append(text, "Data: %s; data time %s\n", facts->source, time_text);
}

void dexter_write_facts(dexter_text *text, const dexter_outlook_facts *facts,
                        const dexter_verdict *verdict)
{
    const dexter_indicators *in = facts->indicators;
    char price[48];
    dexter_format_usd(facts->price, price, sizeof price);
    dexter_text_append(text, "Token %s. Price %s.", facts->symbol, price);
    if (in->has_change_24h)
        dexter_text_append(text, " 24h change %+.2f%%.", in->change_24h);
    if (in->has_change_7d)
        dexter_text_append(text, " 7-day change %+.2f%%.", in->change_7d);
    if (in->has_sma)
        dexter_text_append(text, " SMA%zu is %s SMA%zu by %.2f%%.", facts->sma_fast,
                           in->sma_fast >= in->sma_slow ? "above" : "below", facts->sma_slow,
                           fabs(in->sma_spread));
    if (in->has_rsi)
        dexter_text_append(text, " RSI-14 %.1f.", in->rsi);
    if (in->has_volatility)
        dexter_text_append(text, " Annualised volatility %.1f%%.", in->volatility * 100.0);
    if (verdict->enough_evidence)
        dexter_text_append(text, " Verdict %s, confidence %.0f%%.", verdict->label,
                           verdict->confidence * 100.0);
    else
        dexter_text_append(text, " Verdict undecided (too little evidence).");
}
