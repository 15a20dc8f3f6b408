/* The plugin's periodic jobs: the sentiment report to subscribed chats and
 * the pruning of observations older than the retention window. */
#ifndef SENTIMENT_REPORT_H
#define SENTIMENT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "text.h"

/* The report text for the configured report_tokens. JV_OK or a JV_E_*. */
int sentiment_report_build(sentiment_state *state, int64_t now_ms, sentiment_text *out);

/* jv_job_fn callbacks; user_data is the sentiment_state. */
int sentiment_report_job(jv_plugin *self, void *user_data);
int sentiment_prune_job(jv_plugin *self, void *user_data);

#endif
