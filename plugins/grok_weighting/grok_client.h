/* The chat-completions client: builds the requests (a json_schema rating
 * request, a plain narrative request), posts them through the host's HTTP
 * API with Bearer auth, and hands the answer to grok_response for checking. */
#ifndef GROK_CLIENT_H
#define GROK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_weight.h>

#include "grok_response.h"

struct grok_client {
    const jv_host_api *api;
    jv_plugin *self;
    const char *base_url; /* borrowed config values, valid until unload */
    const char *model;
    const char *api_key;  /* "" when none */
    int64_t timeout_ms;
};

/* Request bodies (JSON text, free with free()), or NULL when out of memory. */
char *grok_build_rating_request(const char *model, const char *symbol);
char *grok_build_text_request(const char *model, const char *prompt);

/* Asks for symbol's rating. Fills *rating (fetched_at_ms included) and
 * *retry_after_s (-1 when the server gave none). Never blocks longer than
 * timeout_ms plus connection setup. */
enum grok_failure grok_client_rate(const struct grok_client *client, const char *symbol,
                                   jv_grok_rating *rating, int64_t *retry_after_s);

/* A short plain-text completion of prompt into out, or a reason. */
enum grok_failure grok_client_narrate(const struct grok_client *client, const char *prompt,
                                      char *out, size_t out_length, char *reason,
                                      size_t reason_length, int64_t *retry_after_s);

#endif
