/* What the plugin says about one token: the chat-observed mean over the
 * window with its sample count and trend, then the composite through the
 * sentiment.weight service when grok_weighting is loaded. Used by
 * /sentiment SOL and by the periodic report. Never invents a number. */
#ifndef SENTIMENT_TOKEN_VIEW_H
#define SENTIMENT_TOKEN_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "text.h"

/* Appends the view of token index to out. *has_data becomes 1 when there
 * was something to say (chat samples or a Grok rating). JV_OK or the store's
 * error code (then an explanation is appended instead). */
int sentiment_token_view(sentiment_state *state, size_t token_index, int64_t now_ms,
                         sentiment_text *out, int *has_data);

/* Appends "SOL, BTC, ETH": the tokens' symbols, escaped. */
void sentiment_add_symbols(const sentiment_state *state, const size_t *tokens, size_t count,
                           sentiment_text *out);

#endif
