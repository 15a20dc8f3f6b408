/* The "sentiment.score_text" service other plugins call (dexter_finance):
 * scoring text with this plugin's lexicon and a token's chat snapshot. */
#ifndef SENTIMENT_SERVICE_H
#define SENTIMENT_SERVICE_H

#include <jarvis/svc/sentiment_score.h>

#include "state.h"

/* The vtable to pass to provide_service; valid for the process lifetime. */
const jv_sentiment_score_api *sentiment_service_vtable(void);
/* Starts answering calls with state / stops (calls then get JV_E_STATE).
 * close waits for calls in progress, so state may be freed after it. */
void sentiment_service_open(sentiment_state *state);
void sentiment_service_close(void);

#endif
