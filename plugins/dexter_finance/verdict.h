/* The dexter_finance verdict: market momentum, chat sentiment and Grok's
 * rating combined (through the sentiment.weight service when it is loaded)
 * into bullish / bearish / neutral with a confidence, and the outlook answer
 * that lists every component with its value and weight. Deterministic. */
#ifndef DEXTER_VERDICT_H
#define DEXTER_VERDICT_H

#include <jarvis/svc/sentiment_weight.h>

#include <stddef.h>
#include <stdint.h>

#include "indicators.h"
#include "text.h"

/* Without the weighting service dexter applies the service's default rule. */
#define DEXTER_VERDICT_THRESHOLD JV_WEIGHT_LABEL_THRESHOLD

enum {
    DEXTER_COMPONENT_MARKET,
    DEXTER_COMPONENT_CHAT,
    DEXTER_COMPONENT_GROK,
    DEXTER_COMPONENT_COUNT
};

typedef struct dexter_component {
    int present;       /* we have a value */
    double score;      /* -1 .. 1 */
    double confidence; /* 0 .. 1 */
    int64_t samples;   /* chat: messages in the window; market: days of prices */
    int64_t window_s;  /* chat only: the window's length, 0 if unknown */
    char reason[160];  /* when absent: why */
} dexter_component;

typedef struct dexter_verdict {
    char label[16];    /* "bullish", "bearish", "neutral", "undecided" */
    double composite;  /* -1 .. 1 */
    double coverage;   /* share of the configured weight that was present */
    double confidence; /* coverage * clarity, 0 .. 1; 0 when undecided */
    int enough_evidence;
    char evidence_note[96]; /* when not enough: what was missing */
    int weighted;           /* 1: the weighting service combined the components */
    int used[DEXTER_COMPONENT_COUNT];
    double weight[DEXTER_COMPONENT_COUNT];
    /* chat and Grok alone, combined the way /sentiment shows them */
    int has_social;
    double social_composite;
    char social_label[16];
} dexter_verdict;

/* weights may be NULL (service not loaded): market momentum alone. Returns -1
 * when the market component is absent or the service refuses the input. */
int dexter_decide(const dexter_component components[DEXTER_COMPONENT_COUNT],
                  const jv_sentiment_weight_api *weights, dexter_verdict *verdict);

/* Label for a composite without the service: the service's default rule. */
const char *dexter_label(double composite);

typedef struct dexter_outlook_facts {
    const char *symbol;
    double price;
    int64_t price_time_ms;
    const dexter_indicators *indicators;
    size_t sma_fast, sma_slow;
    int daily_basis;
    const char *source; /* "CoinGecko" / "offline sample data as of ..." */
    int offline;
} dexter_outlook_facts;

/* Appends the full outlook answer (without narrative and disclaimer). */
void dexter_write_outlook(dexter_text *text, const dexter_outlook_facts *facts,
                          const dexter_component components[DEXTER_COMPONENT_COUNT],
                          const dexter_verdict *verdict);

/* The facts as one paragraph, for the narrative prompt. */
void dexter_write_facts(dexter_text *text, const dexter_outlook_facts *facts,
                        const dexter_verdict *verdict);

extern const char dexter_disclaimer[];

#endif
