/* Unit tests for grok_weighting's answer validation (good and every kind of
 * bad chat-completions body, xAI and OpenAI error shapes), its request
 * bodies, and the client's use of the host HTTP API (stubbed here). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jarvis/plugin.h>

#include "grok_weighting/grok_client.h"
#include "grok_weighting/grok_response.h"

/* A chat.completion envelope around content (a JSON string literal or null). */
static char *envelope(const char *content_literal)
{
    static const char format[] =
        "{\"id\":\"x1\",\"object\":\"chat.completion\",\"created\":1700000000,"
        "\"model\":\"grok-4.3\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":%s},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}";
    size_t size = sizeof format + strlen(content_literal);
    char *text = malloc(size);
    snprintf(text, size, format, content_literal);
    return text;
}

/* Wraps content as a JSON string and parses the envelope. */
static enum grok_failure rate_content(const char *content, jv_grok_rating *rating)
{
    json_t *string = json_string(content);
    char *literal = json_dumps(string, JSON_ENCODE_ANY);
    char *body = envelope(literal);
    enum grok_failure failure = grok_parse_rating(200, body, -1, rating);
    free(body);
    free(literal);
    json_decref(string);
    return failure;
}

static void assert_unavailable(const jv_grok_rating *rating, const char *reason_part)
{
    assert_int_equal(rating->available, 0);
    if (strstr(rating->reason, reason_part) == NULL)
        fail_msg("reason '%s' lacks '%s'", rating->reason, reason_part);
}

/* A summary cut to its buffer never ends inside a character, and a
 * character that fits whole (2 or 4 bytes) is kept. */
static void test_one_line_keeps_a_whole_last_character(void **unused)
{
    (void)unused;
    char out[16];
    grok_one_line("ab \xc3\xa9", out, 6); /* "ab é": 5 bytes and the NUL */
    assert_string_equal(out, "ab \xc3\xa9");
    grok_one_line("ab \xc3\xa9", out, 5); /* é cut: dropped with its space */
    assert_string_equal(out, "ab");
    grok_one_line("a\xf0\x9f\x9a\x80", out, 6); /* "a🚀" fits exactly */
    assert_string_equal(out, "a\xf0\x9f\x9a\x80");
    grok_one_line("a\xf0\x9f\x9a\x80", out, 5);
    assert_string_equal(out, "a");
}

static void test_good_answer(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("{\"score\":0.42,\"confidence\":0.8,"
                                  "\"summary\":\"Upbeat posts about ETF flows.\"}",
                                  &rating),
                     GROK_OK);
    assert_int_equal(rating.available, 1);
    assert_true(rating.score > 0.4199 && rating.score < 0.4201);
    assert_true(rating.confidence > 0.7999 && rating.confidence < 0.8001);
    assert_string_equal(rating.summary, "Upbeat posts about ETF flows.");
    assert_string_equal(rating.reason, "");
}

static void test_integer_bounds_and_extra_fields(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("{\"score\":-1,\"confidence\":1,\"summary\":\"Bleak.\","
                                  "\"label\":\"bearish\"}",
                                  &rating),
                     GROK_OK);
    assert_true(rating.score == -1.0);
    assert_true(rating.confidence == 1.0);
}

static void test_fenced_json_is_tolerated(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("```json\n{\"score\":0.1,\"confidence\":0.3,\"summary\":\"ok\"}\n"
                                  "```\n",
                                  &rating),
                     GROK_OK);
    assert_string_equal(rating.summary, "ok");
    assert_int_equal(rate_content("  ```\n{\"score\":0.1,\"confidence\":0.3,\"summary\":\"ok\"}```",
                                  &rating),
                     GROK_OK);
}

static void test_unclosed_or_trailing_fence_rejected(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("```json\n{\"score\":0.1,\"confidence\":0.3,\"summary\":\"ok\"}",
                                  &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "content is not JSON");
    assert_int_equal(rate_content("```{\"score\":0.1,\"confidence\":0.3,\"summary\":\"ok\"}``` hi",
                                  &rating),
                     GROK_FAIL_ANSWER);
}

static void test_prose_around_json_rejected(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("Here you go: {\"score\":0.1,\"confidence\":0.3,\"summary\":\"x\"}",
                                  &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "invalid answer: content is not JSON");
    assert_true(rating.score == 0.0);
}

static void test_non_json_content(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("The mood is bullish.", &rating), GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "content is not JSON");
    assert_int_equal(rate_content("", &rating), GROK_FAIL_ANSWER);
}

static void test_content_not_an_object(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("[0.4, 0.8, \"x\"]", &rating), GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "content is not a JSON object");
}

static void test_score_out_of_range(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("{\"score\":1.7,\"confidence\":0.8,\"summary\":\"x\"}", &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "score 1.7 out of range [-1, 1]");
    assert_true(rating.score == 0.0);
    assert_int_equal(rate_content("{\"score\":-1.0001,\"confidence\":0.8,\"summary\":\"x\"}",
                                  &rating),
                     GROK_FAIL_ANSWER);
}

static void test_confidence_out_of_range(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("{\"score\":0.2,\"confidence\":-0.1,\"summary\":\"x\"}", &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "confidence -0.1 out of range [0, 1]");
    assert_int_equal(rate_content("{\"score\":0.2,\"confidence\":80,\"summary\":\"x\"}", &rating),
                     GROK_FAIL_ANSWER);
}

static void test_missing_fields(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("{\"confidence\":0.5,\"summary\":\"x\"}", &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "missing field 'score'");
    assert_int_equal(rate_content("{\"score\":0.5,\"summary\":\"x\"}", &rating), GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "missing field 'confidence'");
    assert_int_equal(rate_content("{\"score\":0.5,\"confidence\":0.5}", &rating), GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "missing field 'summary'");
}

static void test_wrong_types(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("{\"score\":\"0.5\",\"confidence\":0.5,\"summary\":\"x\"}",
                                  &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "'score' is not a number");
    assert_int_equal(rate_content("{\"score\":0.5,\"confidence\":true,\"summary\":\"x\"}", &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "'confidence' is not a number");
    assert_int_equal(rate_content("{\"score\":0.5,\"confidence\":0.5,\"summary\":7}", &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "'summary' is not a string");
    assert_int_equal(rate_content("{\"score\":null,\"confidence\":0.5,\"summary\":\"x\"}", &rating),
                     GROK_FAIL_ANSWER);
}

static void test_summary_made_one_line_and_capped(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(rate_content("{\"score\":0,\"confidence\":0,"
                                  "\"summary\":\"  first\\nsecond\\r\\n\\tthird  \"}",
                                  &rating),
                     GROK_OK);
    assert_string_equal(rating.summary, "first second third");

    /* 200 two-byte characters: cut below 256 bytes on a character boundary */
    char content[1024];
    int used = snprintf(content, sizeof content, "{\"score\":0,\"confidence\":0,\"summary\":\"");
    for (int i = 0; i < 200; i++)
        used += snprintf(content + used, sizeof content - (size_t)used, "\xc3\xa9");
    snprintf(content + used, sizeof content - (size_t)used, "\"}");
    assert_int_equal(rate_content(content, &rating), GROK_OK);
    size_t length = strlen(rating.summary);
    assert_true(length < sizeof rating.summary);
    assert_int_equal(length % 2, 0);
    assert_int_equal((unsigned char)rating.summary[length - 2], 0xc3);

    assert_int_equal(rate_content("{\"score\":0,\"confidence\":0,\"summary\":\" \\n \"}", &rating),
                     GROK_OK);
    assert_string_equal(rating.summary, "(no summary)");
}

static void test_envelope_problems(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(grok_parse_rating(200, "{\"id\":\"x\",\"choices\":[]}", -1, &rating),
                     GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "no choices");
    char *null_content = envelope("null");
    assert_int_equal(grok_parse_rating(200, null_content, -1, &rating), GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "no message content");
    free(null_content);
    assert_int_equal(grok_parse_rating(200, "OK", -1, &rating), GROK_FAIL_ANSWER);
    assert_unavailable(&rating, "body is not a JSON object");
    assert_int_equal(grok_parse_rating(200, NULL, -1, &rating), GROK_FAIL_ANSWER);
    assert_int_equal(grok_parse_rating(200, "[1,2]", -1, &rating), GROK_FAIL_ANSWER);
    assert_int_equal(grok_parse_rating(200, "{\"choices\":[{\"message\":{\"content\":[1]}}]}", -1,
                                       &rating),
                     GROK_FAIL_ANSWER);
}

static void test_error_body_with_200(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(grok_parse_rating(200, "{\"code\":\"Internal\",\"error\":\"overloaded\"}", -1,
                                       &rating),
                     GROK_FAIL_REQUEST);
    assert_unavailable(&rating, "error from API: overloaded");
}

static const char XAI_401_BODY[] =
    "{\"code\":\"Client specified an invalid argument\",\"error\":\"Incorrect API key provided: "
    "xa***23. You can obtain an API key from https://console.x.ai.\"}";

static void test_auth_failures(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(grok_parse_rating(401, XAI_401_BODY, -1, &rating), GROK_FAIL_AUTH);
    assert_string_equal(rating.reason, "API key rejected (HTTP 401)");
    assert_int_equal(grok_parse_rating(403, "{\"error\":\"team blocked\"}", -1, &rating),
                     GROK_FAIL_AUTH);
    assert_string_equal(rating.reason, "API key rejected (HTTP 403)");
    /* xAI also answers 400 for an incorrect key */
    assert_int_equal(grok_parse_rating(400, XAI_401_BODY, -1, &rating), GROK_FAIL_AUTH);
    assert_string_equal(rating.reason, "API key rejected (HTTP 400)");
}

static void test_error_string_and_object(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(grok_parse_rating(400,
                                       "{\"code\":\"Client specified an invalid argument\","
                                       "\"error\":\"Model not found: grok-9\"}",
                                       -1, &rating),
                     GROK_FAIL_REQUEST);
    assert_string_equal(rating.reason, "request refused (HTTP 400): Model not found: grok-9");
    assert_int_equal(grok_parse_rating(422,
                                       "{\"error\":{\"message\":\"Invalid request:\\nbad schema\","
                                       "\"type\":\"invalid_request_error\",\"code\":\"x\"}}",
                                       -1, &rating),
                     GROK_FAIL_REQUEST);
    assert_string_equal(rating.reason, "request refused (HTTP 422): Invalid request: bad schema");
    assert_int_equal(grok_parse_rating(404, "not found", -1, &rating), GROK_FAIL_REQUEST);
    assert_string_equal(rating.reason, "request refused (HTTP 404)");
}

static void test_rate_limits(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(grok_parse_rating(429,
                                       "{\"code\":\"Some resource has been exhausted\",\"error\":"
                                       "\"Too many tokens for team t and model grok-4.3. Tokens "
                                       "per Minute (actual/limit): 65605/16000\"}",
                                       45, &rating),
                     GROK_FAIL_RATE_LIMIT);
    assert_string_equal(rating.reason, "rate limited (HTTP 429), retry after 45 s");
    assert_int_equal(grok_parse_rating(429, "", -1, &rating), GROK_FAIL_RATE_LIMIT);
    assert_string_equal(rating.reason, "rate limited (HTTP 429)");
    assert_int_equal(grok_parse_rating(429,
                                       "{\"code\":\"Some resource has been exhausted\",\"error\":"
                                       "\"Your team t has either used all available credits or "
                                       "reached its monthly spending limit.\"}",
                                       -1, &rating),
                     GROK_FAIL_CREDITS);
    assert_string_equal(rating.reason, "out of credits or spending limit reached (HTTP 429)");
}

static void test_server_errors(void **unused)
{
    (void)unused;
    jv_grok_rating rating;
    assert_int_equal(grok_parse_rating(500, "{\"code\":\"Internal\",\"error\":\"Service down\"}",
                                       -1, &rating),
                     GROK_FAIL_SERVER);
    assert_string_equal(rating.reason, "server error (HTTP 500): Service down");
    assert_int_equal(grok_parse_rating(502, "<html><h1>502 Bad Gateway</h1></html>", -1, &rating),
                     GROK_FAIL_SERVER);
    assert_string_equal(rating.reason, "server error (HTTP 502)");
    assert_int_equal(rating.available, 0);
}

static void test_failure_holds(void **unused)
{
    (void)unused;
    assert_int_equal(grok_failure_hold_s(GROK_FAIL_SERVER, -1, 30), 30);
    assert_int_equal(grok_failure_hold_s(GROK_FAIL_RATE_LIMIT, 120, 30), 120);
    assert_int_equal(grok_failure_hold_s(GROK_FAIL_RATE_LIMIT, 5, 30), 30);
    assert_int_equal(grok_failure_hold_s(GROK_FAIL_CREDITS, -1, 30), 300);
    assert_int_equal(grok_failure_hold_s(GROK_FAIL_AUTH, -1, 30), 300);
}

static void test_parse_text(void **unused)
{
    (void)unused;
    char out[64], reason[160];
    char *body = envelope("\"SOL looks calm.\\nVolume is average.\"");
    assert_int_equal(grok_parse_text(200, body, -1, out, sizeof out, reason, sizeof reason),
                     GROK_OK);
    assert_string_equal(out, "SOL looks calm. Volume is average.");
    free(body);
    body = envelope("\"  \"");
    assert_int_equal(grok_parse_text(200, body, -1, out, sizeof out, reason, sizeof reason),
                     GROK_FAIL_ANSWER);
    assert_string_equal(reason, "invalid answer: empty text");
    free(body);
    assert_int_equal(grok_parse_text(503, "{}", -1, out, sizeof out, reason, sizeof reason),
                     GROK_FAIL_SERVER);
    assert_string_equal(out, "");
}

static void test_one_line_and_scrub(void **unused)
{
    (void)unused;
    char out[8];
    grok_one_line("abc\n\n def ghi", out, sizeof out);
    assert_string_equal(out, "abc def");
    grok_one_line(NULL, out, sizeof out);
    assert_string_equal(out, "");
    char text[128] = "key xai-SECRET-1 then xai-SECRET-1.";
    grok_scrub_secret(text, sizeof text, "xai-SECRET-1");
    assert_string_equal(text, "key *** then ***.");
    grok_scrub_secret(text, sizeof text, "");
    assert_string_equal(text, "key *** then ***.");
}

static void test_rating_request_shape(void **unused)
{
    (void)unused;
    char *text = grok_build_rating_request("grok-4.3", "SOL");
    json_t *request = json_loads(text, 0, NULL);
    assert_non_null(request);
    assert_string_equal(json_string_value(json_object_get(request, "model")), "grok-4.3");
    assert_true(json_integer_value(json_object_get(request, "temperature")) == 0);
    assert_true(json_is_false(json_object_get(request, "stream")));
    json_t *messages = json_object_get(request, "messages");
    assert_int_equal(json_array_size(messages), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(messages, 0), "role")),
                        "system");
    const char *user = json_string_value(json_object_get(json_array_get(messages, 1), "content"));
    assert_non_null(strstr(user, "$SOL"));
    json_t *format = json_object_get(request, "response_format");
    assert_string_equal(json_string_value(json_object_get(format, "type")), "json_schema");
    json_t *schema_wrapper = json_object_get(format, "json_schema");
    assert_string_equal(json_string_value(json_object_get(schema_wrapper, "name")),
                        "token_sentiment");
    assert_true(json_is_true(json_object_get(schema_wrapper, "strict")));
    json_t *schema = json_object_get(schema_wrapper, "schema");
    assert_int_equal(json_array_size(json_object_get(schema, "required")), 3);
    json_t *properties = json_object_get(schema, "properties");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(properties, "score"), "type")), "number");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(properties, "summary"), "type")),
        "string");
    json_decref(request);
    free(text);

    text = grok_build_text_request("grok-4.3", "Say \"hi\"");
    request = json_loads(text, 0, NULL);
    assert_non_null(request);
    assert_null(json_object_get(request, "response_format"));
    json_decref(request);
    free(text);
}

/* ---- the client over a stubbed host HTTP API ---- */

static struct {
    int code;
    long status;
    const char *body;
    int64_t retry_after_s;
    char seen_url[256];
    char seen_authorization[256];
    int calls;
} stub;

static int stub_http_request(jv_plugin *self, const jv_http_request *request,
                             jv_http_response *response)
{
    (void)self;
    stub.calls++;
    snprintf(stub.seen_url, sizeof stub.seen_url, "%s", request->url);
    for (const char *const *header = request->headers; header && *header; header++) {
        if (strncmp(*header, "Authorization:", 14) == 0)
            snprintf(stub.seen_authorization, sizeof stub.seen_authorization, "%s", *header);
    }
    response->status = stub.status;
    response->retry_after_s = stub.retry_after_s;
    if (stub.code != JV_OK) {
        snprintf(response->error, sizeof response->error,
                 "connect to 127.0.0.1 failed (key xai-CANARY-7)");
        return stub.code;
    }
    response->body = strdup(stub.body);
    response->body_length = strlen(stub.body);
    return JV_OK;
}

static void stub_http_response_free(jv_http_response *response)
{
    free(response->body);
    response->body = NULL;
}

static int64_t stub_now_ms(void)
{
    return 1700000000000;
}

static const char *stub_strerror(int code)
{
    (void)code;
    return "stub error";
}

static struct grok_client stub_client(jv_host_api *api)
{
    memset(api, 0, sizeof *api);
    api->struct_size = sizeof *api;
    api->http_request = stub_http_request;
    api->http_response_free = stub_http_response_free;
    api->now_ms = stub_now_ms;
    api->strerror = stub_strerror;
    memset(&stub, 0, sizeof stub);
    stub.retry_after_s = -1;
    struct grok_client client = {api, NULL, "http://127.0.0.1:9/v1/", "grok-4.3", "xai-CANARY-7",
                                 5000, GROK_API_CHAT, 0};
    return client;
}

static void test_client_good_answer(void **unused)
{
    (void)unused;
    jv_host_api api;
    struct grok_client client = stub_client(&api);
    char *body = envelope("\"{\\\"score\\\":0.3,\\\"confidence\\\":0.6,\\\"summary\\\":\\\"fine\\\"}\"");
    stub.status = 200;
    stub.body = body;
    jv_grok_rating rating;
    int64_t retry_after_s;
    assert_int_equal(grok_client_rate(&client, "SOL", &rating, &retry_after_s), GROK_OK);
    assert_string_equal(stub.seen_url, "http://127.0.0.1:9/v1/chat/completions");
    assert_string_equal(stub.seen_authorization, "Authorization: Bearer xai-CANARY-7");
    assert_int_equal(rating.available, 1);
    assert_string_equal(rating.summary, "fine");
    assert_true(rating.fetched_at_ms == 1700000000000);
    free(body);
}

static void test_client_failures_never_show_the_key(void **unused)
{
    (void)unused;
    jv_host_api api;
    struct grok_client client = stub_client(&api);
    jv_grok_rating rating;
    int64_t retry_after_s;

    stub.code = JV_E_IO;
    assert_int_equal(grok_client_rate(&client, "SOL", &rating, &retry_after_s),
                     GROK_FAIL_TRANSPORT);
    assert_string_equal(rating.reason, "network error: connect to 127.0.0.1 failed (key ***)");

    stub.code = JV_E_TIMEOUT;
    assert_int_equal(grok_client_rate(&client, "SOL", &rating, &retry_after_s),
                     GROK_FAIL_TIMEOUT);
    assert_string_equal(rating.reason, "timed out after 5000 ms");

    stub.code = JV_OK;
    stub.status = 500;
    stub.body = "{\"error\":\"backend for key xai-CANARY-7 down\"}";
    assert_int_equal(grok_client_rate(&client, "SOL", &rating, &retry_after_s), GROK_FAIL_SERVER);
    assert_null(strstr(rating.reason, "CANARY"));
    assert_non_null(strstr(rating.reason, "***"));

    stub.status = 429;
    stub.retry_after_s = 60;
    stub.body = "{}";
    assert_int_equal(grok_client_rate(&client, "SOL", &rating, &retry_after_s),
                     GROK_FAIL_RATE_LIMIT);
    assert_int_equal(retry_after_s, 60);

    char out[64], reason[160];
    stub.status = 401;
    stub.body = XAI_401_BODY;
    assert_int_equal(grok_client_narrate(&client, "hello", out, sizeof out, reason, sizeof reason,
                                         &retry_after_s, NULL),
                     GROK_FAIL_AUTH);
    assert_string_equal(reason, "API key rejected (HTTP 401)");
    assert_int_equal(stub.calls, 5);
}

/* ---- the Responses API ---- */

static const char GROUNDED_BODY[] =
    "{\"id\":\"r1\",\"object\":\"response\",\"status\":\"completed\",\"output\":["
    "{\"type\":\"custom_tool_call\",\"name\":\"x_keyword_search\",\"status\":\"completed\"},"
    "{\"type\":\"custom_tool_call\",\"name\":\"x_semantic_search\",\"status\":\"completed\"},"
    "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
    "\"text\":\"{\\\"score\\\":0.4,\\\"confidence\\\":0.7,\\\"summary\\\":\\\"Upbeat.\\\"}\","
    "\"annotations\":[{\"type\":\"url_citation\",\"url\":\"https://x.com/i/status/111\"},"
    "{\"type\":\"url_citation\",\"url\":\"https://x.com/alice/status/222?s=20\"},"
    "{\"type\":\"url_citation\",\"url\":\"https://example.com/news\"}]}]}],"
    "\"citations\":[\"https://x.com/i/status/111\",\"https://twitter.com/bob/status/333\"],"
    "\"usage\":{\"input_tokens\":900,\"output_tokens\":70,\"total_tokens\":970,"
    "\"num_server_side_tools_used\":2,"
    "\"server_side_tool_usage_details\":{\"x_search_calls\":2,\"web_search_calls\":0}}}";

static void test_responses_grounded(void **unused)
{
    (void)unused;
    struct grok_answer answer;
    assert_int_equal(grok_parse_responses_rating(200, GROUNDED_BODY, -1, &answer), GROK_OK);
    assert_int_equal(answer.rating.available, 1);
    assert_true(answer.rating.score == 0.4 && answer.rating.confidence == 0.7);
    assert_string_equal(answer.rating.summary, "Upbeat.");
    assert_int_equal(answer.x_searches, 2);
    assert_int_equal(answer.cited_posts, 3); /* 111 counted once; example.com is no post */
    assert_int_equal(answer.citations, 4);
    assert_int_equal(answer.grounded, 1);
    assert_int_equal(answer.usage.input_tokens, 900);
    assert_int_equal(answer.usage.output_tokens, 70);
    assert_int_equal(answer.usage.billed_searches, 2);
}

static void test_responses_ungrounded(void **unused)
{
    (void)unused;
    static const char no_search[] =
        "{\"output\":[{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":"
        "\"output_text\",\"text\":\"{\\\"score\\\":0.1,\\\"confidence\\\":0.3,"
        "\\\"summary\\\":\\\"x\\\"}\"}]}],\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}";
    struct grok_answer answer;
    assert_int_equal(grok_parse_responses_rating(200, no_search, -1, &answer), GROK_OK);
    assert_int_equal(answer.x_searches, 0);
    assert_int_equal(answer.grounded, 0);
    /* searches but only web pages cited: still not from X */
    static const char web_only[] =
        "{\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":"
        "\"{\\\"score\\\":0.1,\\\"confidence\\\":0.3,\\\"summary\\\":\\\"x\\\"}\"}]}],"
        "\"citations\":[\"https://x.com/elonmusk\",\"https://news.example/a\"],"
        "\"server_side_tool_usage\":{\"SERVER_SIDE_TOOL_X_SEARCH\":3}}";
    assert_int_equal(grok_parse_responses_rating(200, web_only, -1, &answer), GROK_OK);
    assert_int_equal(answer.x_searches, 3);
    assert_int_equal(answer.cited_posts, 0);
    assert_int_equal(answer.grounded, 0);
}

static void test_responses_failures(void **unused)
{
    (void)unused;
    struct grok_answer answer;
    assert_int_equal(grok_parse_responses_rating(410,
                                                 "{\"code\":\"x\",\"error\":\"Live search is "
                                                 "deprecated\"}",
                                                 -1, &answer),
                     GROK_FAIL_GONE);
    assert_non_null(strstr(answer.rating.reason, "HTTP 410"));
    assert_non_null(strstr(answer.rating.reason, "api = responses"));
    assert_int_equal(answer.answered, 0);
    assert_int_equal(grok_parse_responses_rating(200, "{\"output\":[],\"usage\":{\"input_tokens\""
                                                      ":5,\"output_tokens\":1}}",
                                                 -1, &answer),
                     GROK_FAIL_ANSWER);
    assert_string_equal(answer.rating.reason, "invalid answer: no output text");
    assert_int_equal(answer.answered, 1); /* billed even though unusable */
    assert_int_equal(answer.usage.input_tokens, 5);
    assert_int_equal(grok_parse_responses_rating(200, "{\"id\":1}", -1, &answer),
                     GROK_FAIL_ANSWER);
    assert_string_equal(answer.rating.reason, "invalid answer: no output");
}

static void test_x_post_ids(void **unused)
{
    (void)unused;
    char id[32];
    assert_true(grok_x_post_id("https://x.com/i/status/123", id, sizeof id));
    assert_string_equal(id, "123");
    assert_true(grok_x_post_id("http://mobile.twitter.com/a_b/status/9/photo/1", id, sizeof id));
    assert_string_equal(id, "9");
    assert_false(grok_x_post_id("https://x.com/alice", id, sizeof id));
    assert_false(grok_x_post_id("https://x.com/status/123", id, sizeof id));
    assert_false(grok_x_post_id("https://evilx.com/a/status/1", id, sizeof id));
    assert_false(grok_x_post_id("https://x.com/a/status/12ab", id, sizeof id));
    assert_false(grok_x_post_id("ftp://x.com/a/status/1", id, sizeof id));
}

static void test_responses_request_shape(void **unused)
{
    (void)unused;
    /* 2023-11-14T22:13:20Z minus 24 h */
    char *text = grok_build_responses_request("grok-4.3", "SOL", 1700000000000 - 86400000);
    json_t *request = json_loads(text, 0, NULL);
    assert_non_null(request);
    assert_null(json_object_get(request, "messages"));
    assert_null(json_object_get(request, "search_parameters"));
    json_t *tool = json_array_get(json_object_get(request, "tools"), 0);
    assert_string_equal(json_string_value(json_object_get(tool, "type")), "x_search");
    assert_string_equal(json_string_value(json_object_get(tool, "from_date")), "2023-11-13");
    json_t *format = json_object_get(json_object_get(request, "text"), "format");
    assert_string_equal(json_string_value(json_object_get(format, "type")), "json_schema");
    assert_true(json_is_true(json_object_get(format, "strict")));
    json_t *input = json_object_get(request, "input");
    const char *user = json_string_value(json_object_get(json_array_get(input, 1), "content"));
    assert_non_null(strstr(user, "$SOL"));
    assert_non_null(strstr(user, "2023-11-13T22:13Z"));
    json_decref(request);
    free(text);
}

static void test_client_responses(void **unused)
{
    (void)unused;
    jv_host_api api;
    struct grok_client client = stub_client(&api);
    client.api_mode = GROK_API_RESPONSES;
    stub.status = 200;
    stub.body = GROUNDED_BODY;
    struct grok_answer answer;
    int64_t retry_after_s;
    assert_int_equal(grok_client_rate_answer(&client, "SOL", &answer, &retry_after_s), GROK_OK);
    assert_string_equal(stub.seen_url, "http://127.0.0.1:9/v1/responses");
    assert_int_equal(answer.grounded, 1);
    assert_int_equal(answer.answered, 1);
    assert_true(answer.rating.fetched_at_ms == 1700000000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line_keeps_a_whole_last_character),
        cmocka_unit_test(test_good_answer),
        cmocka_unit_test(test_integer_bounds_and_extra_fields),
        cmocka_unit_test(test_fenced_json_is_tolerated),
        cmocka_unit_test(test_unclosed_or_trailing_fence_rejected),
        cmocka_unit_test(test_prose_around_json_rejected),
        cmocka_unit_test(test_non_json_content),
        cmocka_unit_test(test_content_not_an_object),
        cmocka_unit_test(test_score_out_of_range),
        cmocka_unit_test(test_confidence_out_of_range),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_summary_made_one_line_and_capped),
        cmocka_unit_test(test_envelope_problems),
        cmocka_unit_test(test_error_body_with_200),
        cmocka_unit_test(test_auth_failures),
        cmocka_unit_test(test_error_string_and_object),
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_server_errors),
        cmocka_unit_test(test_failure_holds),
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test(test_one_line_and_scrub),
        cmocka_unit_test(test_rating_request_shape),
        cmocka_unit_test(test_client_good_answer),
        cmocka_unit_test(test_client_failures_never_show_the_key),
        cmocka_unit_test(test_responses_grounded),
        cmocka_unit_test(test_responses_ungrounded),
        cmocka_unit_test(test_responses_failures),
        cmocka_unit_test(test_x_post_ids),
        cmocka_unit_test(test_responses_request_shape),
        cmocka_unit_test(test_client_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
