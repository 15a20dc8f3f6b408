/* Builds Responses API and chat-completions requests and performs them
 * through api->http_request. The API key only ever goes into the Authorization
 * header, which is built here, handed to the host and wiped. */
#include "grok_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define NARRATE_MAX_TOKENS 300

static const char RATING_SYSTEM_PROMPT[] =
    "You rate the current sentiment about crypto tokens in posts on X. "
    "Answer with one JSON object and nothing else: "
    "{\"score\": number from -1 (very bearish) to 1 (very bullish), "
    "\"confidence\": number from 0 (no idea) to 1 (certain), "
    "\"summary\": one plain line under 200 characters}.";

static const char X_RATING_SYSTEM_PROMPT[] =
    "You rate the current sentiment about crypto tokens in posts on X. "
    "Search X for recent posts about the token before answering, and base the "
    "rating only on the posts you found and cite. Answer with the JSON object "
    "the schema describes: score from -1 (very bearish) to 1 (very bullish), "
    "confidence from 0 (no idea) to 1 (certain), summary one plain line under "
    "200 characters.";

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
static json_t *rating_schema(void)
{
    return json_pack("{s:s, s:{s:o, s:o, s:{s:s, s:s}}, s:[s,s,s], s:b}", "type", "object",
                     "properties", "score",
                     number_property("sentiment from -1 (very bearish) to 1 (very bullish)"),
                     "confidence", number_property("confidence from 0 to 1"), "summary", "type",
                     "string", "description", "one line", "required", "score", "confidence",
                     "summary", "additionalProperties", 0);
}

static json_t *rating_response_format(void)
{
    json_t *schema = rating_schema();
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

/* x_search's from_date is a calendar date (UTC): the window's first day. */
static void utc_date(int64_t ms, char *out, size_t out_length)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm parts;
    gmtime_r(&seconds, &parts);
    strftime(out, out_length, "%Y-%m-%d", &parts);
}

static void utc_time(int64_t ms, char *out, size_t out_length)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm parts;
    gmtime_r(&seconds, &parts);
    strftime(out, out_length, "%Y-%m-%dT%H:%MZ", &parts);
}

char *grok_build_responses_request(const char *model, const char *symbol, int64_t window_start_ms)
{
    char from_date[16], since[24], user_prompt[320];
    utc_date(window_start_ms, from_date, sizeof from_date);
    utc_time(window_start_ms, since, sizeof since);
    snprintf(user_prompt, sizeof user_prompt,
             "Token: $%s. What is the sentiment on X about $%s in posts since %s?", symbol, symbol,
             since);
    json_t *schema = rating_schema();
    if (schema == NULL)
        return NULL;
    json_t *request = json_pack(
        "{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}], s:{s:{s:s, s:s, s:b, s:o}}, s:i, "
        "s:b}",
        "model", model, "input", "role", "system", "content", X_RATING_SYSTEM_PROMPT, "role",
        "user", "content", user_prompt, "tools", "type", "x_search", "from_date", from_date, "text",
        "format", "type", "json_schema", "name", "token_sentiment", "strict", 1, "schema", schema,
        "temperature", 0, "store", 0);
    if (request == NULL)
        return NULL;
    char *text = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    return text;
}

static char *endpoint_url(const char *base_url, const char *path)
{
    size_t length = strlen(base_url);
    while (length > 0 && base_url[length - 1] == '/')
        length--;
    size_t path_size = strlen(path) + 1;
    char *url = malloc(length + path_size);
    if (url == NULL)
        return NULL;
    memcpy(url, base_url, length);
    memcpy(url + length, path, path_size);
    return url;
}

/* Posts body; on JV_OK the response is the caller's to free. Transport
 * failures become a failure kind and a reason here. */
static enum grok_failure post(const struct grok_client *client, const char *path, const char *body,
                              jv_http_response *response, char *reason, size_t reason_length)
{
    char *url = endpoint_url(client->base_url, path);
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

static enum grok_failure rate_by_chat(const struct grok_client *client, const char *symbol,
                                      struct grok_answer *answer, int64_t *retry_after_s)
{
    jv_grok_rating *rating = &answer->rating;
    char *body = grok_build_rating_request(client->model, symbol);
    if (body == NULL) {
        snprintf(rating->reason, sizeof rating->reason, "out of memory");
        return GROK_FAIL_TRANSPORT;
    }
    jv_http_response response;
    enum grok_failure failure =
        post(client, "/chat/completions", body, &response, rating->reason, sizeof rating->reason);
    free(body);
    if (failure != GROK_OK)
        return failure;
    *retry_after_s = response.retry_after_s;
    failure = grok_parse_rating(response.status, response.body, response.retry_after_s, rating);
    answer->answered = response.status >= 200 && response.status <= 299 &&
                       grok_parse_usage(response.body, &answer->usage);
    client->api->http_response_free(&response);
    return failure;
}

static enum grok_failure rate_by_responses(const struct grok_client *client, const char *symbol,
                                           struct grok_answer *answer, int64_t *retry_after_s)
{
    int64_t window_s = client->window_s > 0 ? client->window_s : 24 * 3600;
    char *body = grok_build_responses_request(client->model, symbol,
                                              client->api->now_ms() - window_s * 1000);
    if (body == NULL) {
        snprintf(answer->rating.reason, sizeof answer->rating.reason, "out of memory");
        return GROK_FAIL_TRANSPORT;
    }
    jv_http_response response;
    enum grok_failure failure = post(client, "/responses", body, &response, answer->rating.reason,
                                     sizeof answer->rating.reason);
    free(body);
    if (failure != GROK_OK)
        return failure;
    *retry_after_s = response.retry_after_s;
    failure =
        grok_parse_responses_rating(response.status, response.body, response.retry_after_s, answer);
    client->api->http_response_free(&response);
    return failure;
}

enum grok_failure grok_client_rate_answer(const struct grok_client *client, const char *symbol,
                                          struct grok_answer *answer, int64_t *retry_after_s)
{
    memset(answer, 0, sizeof *answer);
    *retry_after_s = -1;
    enum grok_failure failure = client->api_mode == GROK_API_CHAT
                                    ? rate_by_chat(client, symbol, answer, retry_after_s)
                                    : rate_by_responses(client, symbol, answer, retry_after_s);
    answer->rating.fetched_at_ms = client->api->now_ms();
    grok_scrub_secret(answer->rating.reason, sizeof answer->rating.reason, client->api_key);
    grok_scrub_secret(answer->rating.summary, sizeof answer->rating.summary, client->api_key);
    return failure;
}

enum grok_failure grok_client_rate(const struct grok_client *client, const char *symbol,
                                   jv_grok_rating *rating, int64_t *retry_after_s)
{
    struct grok_answer answer;
    enum grok_failure failure = grok_client_rate_answer(client, symbol, &answer, retry_after_s);
    *rating = answer.rating;
    return failure;
}

enum grok_failure grok_client_narrate(const struct grok_client *client, const char *prompt,
                                      char *out, size_t out_length, char *reason,
                                      size_t reason_length, int64_t *retry_after_s,
                                      struct grok_usage *usage)
{
    *retry_after_s = -1;
    if (out_length > 0)
        out[0] = '\0';
    struct grok_usage ignored;
    if (usage == NULL)
        usage = &ignored;
    memset(usage, 0, sizeof *usage);
    char *body = grok_build_text_request(client->model, prompt);
    if (body == NULL) {
        snprintf(reason, reason_length, "out of memory");
        return GROK_FAIL_TRANSPORT;
    }
    jv_http_response response;
    enum grok_failure failure =
        post(client, "/chat/completions", body, &response, reason, reason_length);
    free(body);
    if (failure == GROK_OK) {
        *retry_after_s = response.retry_after_s;
        failure = grok_parse_text(response.status, response.body, response.retry_after_s, out,
                                  out_length, reason, reason_length);
        if (response.status >= 200 && response.status <= 299)
            grok_parse_usage(response.body, usage);
        client->api->http_response_free(&response);
    }
    grok_scrub_secret(reason, reason_length, client->api_key);
    grok_scrub_secret(out, out_length, client->api_key);
    return failure;
}
