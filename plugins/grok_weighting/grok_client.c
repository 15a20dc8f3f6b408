/* Builds chat-completions requests and performs them through
 * api->http_request. The API key only ever goes into the Authorization
 * header, which is built here, handed to the host and wiped. */
#include "grok_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define NARRATE_MAX_TOKENS 300

static const char RATING_SYSTEM_PROMPT[] =
    "You rate the current sentiment about crypto tokens in posts on X. "
    "Answer with one JSON object and nothing else: "
    "{\"score\": number from -1 (very bearish) to 1 (very bullish), "
    "\"confidence\": number from 0 (no idea) to 1 (certain), "
    "\"summary\": one plain line under 200 characters}.";

static const char NARRATE_SYSTEM_PROMPT[] =
    "You are a concise market commentator. Answer in at most three plain "
    "sentences, without Markdown and without inventing numbers.";

static json_t *number_property(const char *description)
{
    return json_pack("{s:s, s:s}", "type", "number", "description", description);
}

/* Ranges go into descriptions rather than minimum/maximum: those keywords
 * are not in xAI's list of supported schema features, and the answer is
 * range-checked on arrival anyway. */
static json_t *rating_response_format(void)
{
    json_t *schema = json_pack(
        "{s:s, s:{s:o, s:o, s:{s:s, s:s}}, s:[s,s,s], s:b}", "type", "object", "properties",
        "score", number_property("sentiment from -1 (very bearish) to 1 (very bullish)"),
        "confidence", number_property("confidence from 0 to 1"), "summary", "type", "string",
        "description", "one line", "required", "score", "confidence", "summary",
        "additionalProperties", 0);
    if (schema == NULL)
        return NULL;
    return json_pack("{s:s, s:{s:s, s:b, s:o}}", "type", "json_schema", "json_schema", "name",
                     "token_sentiment", "strict", 1, "schema", schema);
}

static char *dump_request(const char *model, const char *system_prompt, const char *user_prompt,
                          json_t *response_format)
{
    json_t *request = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i, s:b}", "model", model,
                                "messages", "role", "system", "content", system_prompt, "role",
                                "user", "content", user_prompt, "temperature", 0, "stream", 0);
    if (request == NULL) {
        json_decref(response_format);
        return NULL;
    }
    if (response_format != NULL)
        json_object_set_new(request, "response_format", response_format);
    else
        json_object_set_new(request, "max_tokens", json_integer(NARRATE_MAX_TOKENS));
    char *text = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    return text;
}

char *grok_build_rating_request(const char *model, const char *symbol)
{
    char user_prompt[256];
    snprintf(user_prompt, sizeof user_prompt,
             "Token: $%s. What is the current sentiment on X about $%s?", symbol, symbol);
    json_t *format = rating_response_format();
    if (format == NULL)
        return NULL;
    return dump_request(model, RATING_SYSTEM_PROMPT, user_prompt, format);
}

char *grok_build_text_request(const char *model, const char *prompt)
{
    return dump_request(model, NARRATE_SYSTEM_PROMPT, prompt, NULL);
}

static char *endpoint_url(const char *base_url)
{
    size_t length = strlen(base_url);
    while (length > 0 && base_url[length - 1] == '/')
        length--;
    static const char path[] = "/chat/completions";
    char *url = malloc(length + sizeof path);
    if (url == NULL)
        return NULL;
    memcpy(url, base_url, length);
    memcpy(url + length, path, sizeof path);
    return url;
}

/* Posts body; on JV_OK the response is the caller's to free. Transport
 * failures become a failure kind and a reason here. */
static enum grok_failure post(const struct grok_client *client, const char *body,
                              jv_http_response *response, char *reason, size_t reason_length)
{
    char *url = endpoint_url(client->base_url);
    size_t auth_length = strlen(client->api_key) + sizeof "Authorization: Bearer ";
    char *authorization = malloc(auth_length);
    if (url == NULL || authorization == NULL) {
        free(url);
        free(authorization);
        snprintf(reason, reason_length, "out of memory");
        return GROK_FAIL_TRANSPORT;
    }
    snprintf(authorization, auth_length, "Authorization: Bearer %s", client->api_key);
    const char *headers[] = {authorization, "Content-Type: application/json",
                             "Accept: application/json", NULL};
    jv_http_request request = {
        .struct_size = sizeof request,
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = body,
        .body_length = strlen(body),
        .timeout_ms = client->timeout_ms,
    };
    memset(response, 0, sizeof *response);
    response->struct_size = sizeof *response;
    int code = client->api->http_request(client->self, &request, response);
    memset(authorization, 0, auth_length);
    free(authorization);
    free(url);
    if (code == JV_OK)
        return GROK_OK;
    if (code == JV_E_TIMEOUT) {
        snprintf(reason, reason_length, "timed out after %lld ms", (long long)client->timeout_ms);
        client->api->http_response_free(response);
        return GROK_FAIL_TIMEOUT;
    }
    char detail[128];
    grok_one_line(response->error[0] ? response->error : client->api->strerror(code), detail,
                  sizeof detail);
    snprintf(reason, reason_length, "network error: %s", detail);
    client->api->http_response_free(response);
    return GROK_FAIL_TRANSPORT;
}

enum grok_failure grok_client_rate(const struct grok_client *client, const char *symbol,
                                   jv_grok_rating *rating, int64_t *retry_after_s)
{
    memset(rating, 0, sizeof *rating);
    *retry_after_s = -1;
    char *body = grok_build_rating_request(client->model, symbol);
    if (body == NULL) {
        snprintf(rating->reason, sizeof rating->reason, "out of memory");
        return GROK_FAIL_TRANSPORT;
    }
    jv_http_response response;
    enum grok_failure failure = post(client, body, &response, rating->reason,
                                     sizeof rating->reason);
    free(body);
    rating->fetched_at_ms = client->api->now_ms();
    if (failure == GROK_OK) {
        *retry_after_s = response.retry_after_s;
        failure = grok_parse_rating(response.status, response.body, response.retry_after_s,
                                    rating);
        client->api->http_response_free(&response);
    }
    grok_scrub_secret(rating->reason, sizeof rating->reason, client->api_key);
    grok_scrub_secret(rating->summary, sizeof rating->summary, client->api_key);
    return failure;
}

enum grok_failure grok_client_narrate(const struct grok_client *client, const char *prompt,
                                      char *out, size_t out_length, char *reason,
                                      size_t reason_length, int64_t *retry_after_s)
{
    *retry_after_s = -1;
    if (out_length > 0)
        out[0] = '\0';
    char *body = grok_build_text_request(client->model, prompt);
    if (body == NULL) {
        snprintf(reason, reason_length, "out of memory");
        return GROK_FAIL_TRANSPORT;
    }
    jv_http_response response;
    enum grok_failure failure = post(client, body, &response, reason, reason_length);
    free(body);
    if (failure == GROK_OK) {
        *retry_after_s = response.retry_after_s;
        failure = grok_parse_text(response.status, response.body, response.retry_after_s, out,
                                  out_length, reason, reason_length);
        client->api->http_response_free(&response);
    }
    grok_scrub_secret(reason, reason_length, client->api_key);
    grok_scrub_secret(out, out_length, client->api_key);
    return failure;
}
