/* The xAI client: builds the requests (a Responses API rating request with
 * x_search over the rating window, or the chat-completions rating request
 * for `api = chat`; a plain narrative request), posts them through the
 * host's HTTP API with Bearer auth, and hands the answer to grok_response. */
#ifndef GROK_CLIENT_H
#define GROK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_weight.h>

#include "grok_response.h"

enum grok_api_mode {
    GROK_API_RESPONSES = 0, /* POST /responses with x_search: grounded in X posts */
    GROK_API_CHAT = 1,      /* POST /chat/completions: no search, never from X */
};

struct grok_client {
    const jv_host_api *api;
    jv_plugin *self;
    const char *base_url; /* borrowed config values, valid until unload */
    const char *model;
    const char *api_key; /* "" when none */
    int64_t timeout_ms;
    enum grok_api_mode api_mode;
    int64_t window_s; /* x_search looks back this far; 0: 24 h */
};

/* Request bodies (JSON text, free with free()), or NULL when out of memory. */
char *grok_build_rating_request(const char *model, const char *symbol);
char *grok_build_text_request(const char *model, const char *prompt);
/* The Responses API rating request: x_search from the UTC date of
 * window_start_ms, structured output through text.format. */
char *grok_build_responses_request(const char *model, const char *symbol, int64_t window_start_ms);

/* Rates symbol through the configured API. Fills *answer: the rating
 * (fetched_at_ms included), the usage, and for the Responses API the
 * searches and cited posts. For api = chat, grounded is always 0. */
enum grok_failure grok_client_rate_answer(const struct grok_client *client, const char *symbol,
                                          struct grok_answer *answer, int64_t *retry_after_s);

/* Asks for symbol's rating. Fills *rating (fetched_at_ms included) and
 * *retry_after_s (-1 when the server gave none). Never blocks longer than
 * timeout_ms plus connection setup. */
enum grok_failure grok_client_rate(const struct grok_client *client, const char *symbol,
                                   jv_grok_rating *rating, int64_t *retry_after_s);

/* A short plain-text chat completion of prompt into out, or a reason;
 * *usage (may be NULL) gets the call's usage block. */
enum grok_failure grok_client_narrate(const struct grok_client *client, const char *prompt,
                                      char *out, size_t out_length, char *reason,
                                      size_t reason_length, int64_t *retry_after_s,
                                      struct grok_usage *usage);

#endif
