/* The plugin's periodic jobs: the sentiment report to each subscribed chat
 * when its interval is up, covering its tokens, and the pruning of
 * observations older than the retention window. */
#ifndef SENTIMENT_REPORT_H
#define SENTIMENT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "text.h"

/* The report text for the tokens (indexes into the token table). JV_OK or a JV_E_*. */
int sentiment_report_build(sentiment_state *state, int64_t now_ms, const size_t *tokens,
                           size_t token_count, sentiment_text *out);

/* jv_job_fn callbacks; user_data is the sentiment_state. */
int sentiment_report_job(jv_plugin *self, void *user_data);
int sentiment_prune_job(jv_plugin *self, void *user_data);

#endif
