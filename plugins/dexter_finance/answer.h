/* Composes dexter_finance answers: for each intent it fetches the market
 * data, computes the indicators, asks the sentiment services that are
 * present and writes the reply text. Thread-safe given a thread-safe market. */
#ifndef DEXTER_ANSWER_H
#define DEXTER_ANSWER_H

#include <jarvis/svc/sentiment_score.h>
#include <jarvis/svc/sentiment_weight.h>

#include "indicators.h"
#include "intent.h"
#include "market.h"

typedef struct dexter_answer_context {
    dexter_market *market;
    const dexter_token_map *tokens;
    dexter_analysis_params params;
    int narrative;                         /* config allows the Grok summary */
    const jv_sentiment_weight_api *weight; /* NULL: grok_weighting not loaded */
    const jv_sentiment_score_api *score;   /* NULL: sentiment not loaded */
    /* a log line for what the user is not shown (a dropped summary); may be NULL */
    void (*log)(void *user, const char *format, ...) __attribute__((format(printf, 2, 3)));
    void *log_user;
} dexter_answer_context;

/* Each returns a malloc'd reply (caller frees) or NULL when out of memory. */
char *dexter_answer_intent(const dexter_answer_context *context, const dexter_intent *intent);
/* What it understands, with two examples; `lead` is an optional first line. */
char *dexter_answer_help(const dexter_answer_context *context, const char *lead);
char *dexter_answer_unknown_token(const dexter_answer_context *context, const char *word,
                                  const dexter_token *suggestion);

#endif
