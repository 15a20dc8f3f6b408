/* Observed sentiment per token, kept in the plugin's KV store under keys
 * ordered by time: "obs/<SYMBOL>/<13-digit ms>/<chat id>/<seq>" -> "<score>".
 * Window means, and pruning what is older than the retention window. */
#ifndef SENTIMENT_HISTORY_H
#define SENTIMENT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_score.h>

#define SENTIMENT_HISTORY_KEY_MAX 96

/* Writes the key for one observation; -1 if it does not fit or the time is
 * not a 13-digit millisecond count. */
int sentiment_history_key(char *key, size_t key_size, const char *symbol, int64_t time_ms,
                          int64_t chat_id, uint64_t sequence);

/* Stores one observation. JV_OK or the host's error code. */
int sentiment_history_record(const jv_host_api *api, jv_plugin *self, const char *symbol,
                             int64_t time_ms, int64_t chat_id, uint64_t sequence, double score);

/* Means over (now - window, now] and the window before it. JV_OK, or the
 * host's error code; samples are 0 when nothing was observed. */
int sentiment_history_window(const jv_host_api *api, jv_plugin *self, const char *symbol,
                             int64_t now_ms, int64_t window_ms, jv_token_sentiment *snapshot);

/* Deletes observations older than cutoff_ms (at most limit per call); the
 * number deleted goes to *deleted. JV_OK or the host's error code. */
int sentiment_history_prune(const jv_host_api *api, jv_plugin *self, int64_t cutoff_ms,
                            size_t limit, size_t *deleted);

#endif
