/* Turns an HTTP status and body from the chat-completions API into either a
 * validated rating / text or a short reason. The order of checks follows the
 * wire: status, error body, choices[0].message.content, then the content. */
#include "grok_response.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define ERROR_TEXT_MAX 100

void grok_one_line(const char *text, char *out, size_t out_length)
{
    if (out_length == 0)
        return;
    size_t used = 0;
    int pending_space = 0;
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == ' ') {
            pending_space = used > 0;
            continue;
        }
        size_t need = (size_t)pending_space + 1;
        if (used + need >= out_length)
            break;
        if (pending_space)
            out[used++] = ' ';
        pending_space = 0;
        out[used++] = (char)*p;
    }
    /* never end inside a multi-byte sequence */
    size_t end = used;
    while (end > 0 && ((unsigned char)out[end - 1] & 0xC0) == 0x80)
        end--;
    if (end > 0 && ((unsigned char)out[end - 1] & 0x80)) {
        unsigned char lead = (unsigned char)out[end - 1];
        size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (used - (end - 1) < length)
            used = end - 1;
    }
    /* dropping a cut character can expose the space before it */
    while (used > 0 && out[used - 1] == ' ')
        used--;
    out[used] = '\0';
}

void grok_scrub_secret(char *text, size_t capacity, const char *secret)
{
    if (text == NULL || secret == NULL || strlen(secret) < 4)
        return;
    size_t secret_length = strlen(secret);
    char *found;
    while ((found = strstr(text, secret)) != NULL) {
        size_t tail = strlen(found + secret_length) + 1;
        memmove(found + 3, found + secret_length, tail);
        memcpy(found, "***", 3);
    }
    (void)capacity; /* "***" is never longer than a secret of >= 4 bytes */
}

/* xAI sends {"code":..,"error":"text"}, OpenAI {"error":{"message":..}}. */
static const char *error_text(const json_t *root)
{
    const json_t *error = json_object_get(root, "error");
    if (json_is_string(error))
        return json_string_value(error);
    if (json_is_object(error)) {
        const json_t *message = json_object_get(error, "message");
        if (json_is_string(message))
            return json_string_value(message);
        const json_t *code = json_object_get(error, "code");
        if (json_is_string(code))
            return json_string_value(code);
        return "(error object without a message)";
    }
    return NULL;
}

static int contains_folded(const char *text, const char *needle)
{
    size_t needle_length = strlen(needle);
    for (; text && *text; text++) {
        if (strncasecmp(text, needle, needle_length) == 0)
            return 1;
    }
    return 0;
}

static void with_detail(char *reason, size_t reason_length, const char *what, const char *detail)
{
    char line[ERROR_TEXT_MAX];
    grok_one_line(detail, line, sizeof line);
    if (line[0])
        snprintf(reason, reason_length, "%s: %s", what, line);
    else
        snprintf(reason, reason_length, "%s", what);
}

/* An answer with a non-2xx status. body_error is the error text found in
 * the body, or NULL. The key is never quoted: 401 texts echo part of it. */
static enum grok_failure classify_status(long status, const char *body_error,
                                         int64_t retry_after_s, char *reason,
                                         size_t reason_length)
{
    char what[64];
    if (status == 401 || status == 403 ||
        (status == 400 && contains_folded(body_error, "api key"))) {
        snprintf(reason, reason_length, "API key rejected (HTTP %ld)", status);
        return GROK_FAIL_AUTH;
    }
    if (status == 429 && (contains_folded(body_error, "credits") ||
                          contains_folded(body_error, "spending limit"))) {
        snprintf(reason, reason_length, "out of credits or spending limit reached (HTTP 429)");
        return GROK_FAIL_CREDITS;
    }
    if (status == 429) {
        if (retry_after_s > 0)
            snprintf(reason, reason_length, "rate limited (HTTP 429), retry after %lld s",
                     (long long)retry_after_s);
        else
            snprintf(reason, reason_length, "rate limited (HTTP 429)");
        return GROK_FAIL_RATE_LIMIT;
    }
    if (status >= 500) {
        snprintf(what, sizeof what, "server error (HTTP %ld)", status);
        with_detail(reason, reason_length, what, body_error);
        return GROK_FAIL_SERVER;
    }
    snprintf(what, sizeof what, "request refused (HTTP %ld)", status);
    with_detail(reason, reason_length, what, body_error);
    return GROK_FAIL_REQUEST;
}

/* Checks the status and envelope; on success returns the parsed root and
 * points *content at choices[0].message.content (borrowed from root). */
static enum grok_failure open_envelope(long status, const char *body, int64_t retry_after_s,
                                       json_t **root_out, const char **content,
                                       char *reason, size_t reason_length)
{
    *root_out = NULL;
    json_t *root = body ? json_loads(body, 0, NULL) : NULL;
    const char *body_error = json_is_object(root) ? error_text(root) : NULL;
    if (status < 200 || status > 299) {
        enum grok_failure failure =
            classify_status(status, body_error, retry_after_s, reason, reason_length);
        json_decref(root);
        return failure;
    }
    enum grok_failure failure = GROK_FAIL_ANSWER;
    if (!json_is_object(root)) {
        snprintf(reason, reason_length, "invalid answer: body is not a JSON object");
        goto fail;
    }
    if (body_error != NULL) {
        with_detail(reason, reason_length, "error from API", body_error);
        failure = GROK_FAIL_REQUEST;
        goto fail;
    }
    const json_t *choices = json_object_get(root, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        snprintf(reason, reason_length, "invalid answer: no choices");
        goto fail;
    }
    const json_t *message = json_object_get(json_array_get(choices, 0), "message");
    const json_t *text = json_object_get(message, "content");
    if (!json_is_string(text)) {
        snprintf(reason, reason_length, "invalid answer: no message content");
        goto fail;
    }
    *root_out = root;
    *content = json_string_value(text);
    return GROK_OK;
fail:
    json_decref(root);
    return failure;
}

/* Tolerates one Markdown fence around the JSON (```json ... ```), which
 * models add when structured output is not enforced. Nothing else: prose
 * around the JSON is an invalid answer. Returns a parsed value or NULL. */
static json_t *parse_content_json(const char *content)
{
    while (isspace((unsigned char)*content))
        content++;
    if (strncmp(content, "```", 3) != 0)
        return json_loads(content, 0, NULL);
    const char *start = content + 3;
    if (strncasecmp(start, "json", 4) == 0)
        start += 4;
    const char *end = strstr(start, "```");
    if (end == NULL)
        return NULL;
    for (const char *after = end + 3; *after; after++) {
        if (!isspace((unsigned char)*after))
            return NULL;
    }
    return json_loadb(start, (size_t)(end - start), 0, NULL);
}

static int read_number(const json_t *object, const char *field, double low, double high,
                       double *value, char *reason, size_t reason_length)
{
    const json_t *item = json_object_get(object, field);
    if (item == NULL) {
        snprintf(reason, reason_length, "invalid answer: missing field '%s'", field);
        return -1;
    }
    if (!json_is_number(item)) {
        snprintf(reason, reason_length, "invalid answer: '%s' is not a number", field);
        return -1;
    }
    *value = json_number_value(item);
    if (!isfinite(*value) || *value < low || *value > high) {
        snprintf(reason, reason_length, "invalid answer: %s %g out of range [%g, %g]", field,
                 *value, low, high);
        return -1;
    }
    return 0;
}

static enum grok_failure validate_rating(const char *content, jv_grok_rating *rating)
{
    json_t *object = parse_content_json(content);
    enum grok_failure failure = GROK_FAIL_ANSWER;
    double score = 0, confidence = 0;
    if (object == NULL) {
        snprintf(rating->reason, sizeof rating->reason, "invalid answer: content is not JSON");
        goto done;
    }
    if (!json_is_object(object)) {
        snprintf(rating->reason, sizeof rating->reason,
                 "invalid answer: content is not a JSON object");
        goto done;
    }
    if (read_number(object, "score", -1.0, 1.0, &score, rating->reason, sizeof rating->reason) ||
        read_number(object, "confidence", 0.0, 1.0, &confidence, rating->reason,
                    sizeof rating->reason))
        goto done;
    const json_t *summary = json_object_get(object, "summary");
    if (summary == NULL) {
        snprintf(rating->reason, sizeof rating->reason, "invalid answer: missing field 'summary'");
        goto done;
    }
    if (!json_is_string(summary)) {
        snprintf(rating->reason, sizeof rating->reason,
                 "invalid answer: 'summary' is not a string");
        goto done;
    }
    rating->available = 1;
    rating->score = score;
    rating->confidence = confidence;
    grok_one_line(json_string_value(summary), rating->summary, sizeof rating->summary);
    if (rating->summary[0] == '\0')
        snprintf(rating->summary, sizeof rating->summary, "(no summary)");
    rating->reason[0] = '\0';
    failure = GROK_OK;
done:
    json_decref(object);
    return failure;
}

enum grok_failure grok_parse_rating(long status, const char *body, int64_t retry_after_s,
                                    jv_grok_rating *rating)
{
    rating->available = 0;
    rating->score = 0.0;
    rating->confidence = 0.0;
    rating->summary[0] = '\0';
    rating->reason[0] = '\0';
    json_t *root = NULL;
    const char *content = NULL;
    enum grok_failure failure = open_envelope(status, body, retry_after_s, &root, &content,
                                              rating->reason, sizeof rating->reason);
    if (failure != GROK_OK)
        return failure;
    failure = validate_rating(content, rating);
    json_decref(root);
    return failure;
}

enum grok_failure grok_parse_text(long status, const char *body, int64_t retry_after_s,
                                  char *out, size_t out_length, char *reason,
                                  size_t reason_length)
{
    if (out_length > 0)
        out[0] = '\0';
    reason[0] = '\0';
    json_t *root = NULL;
    const char *content = NULL;
    enum grok_failure failure = open_envelope(status, body, retry_after_s, &root, &content,
                                              reason, reason_length);
    if (failure != GROK_OK)
        return failure;
    grok_one_line(content, out, out_length);
    json_decref(root);
    if (out_length == 0 || out[0] == '\0') {
        snprintf(reason, reason_length, "invalid answer: empty text");
        return GROK_FAIL_ANSWER;
    }
    return GROK_OK;
}

int64_t grok_failure_hold_s(enum grok_failure failure, int64_t retry_after_s,
                            int64_t default_hold_s)
{
    int64_t hold = default_hold_s;
    if (failure == GROK_FAIL_AUTH || failure == GROK_FAIL_CREDITS)
        hold = default_hold_s * 10; /* will not heal by itself soon */
    if (retry_after_s > hold)
        hold = retry_after_s;
    return hold;
}
