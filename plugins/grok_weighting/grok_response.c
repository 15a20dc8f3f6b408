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
static enum grok_failure classify_status(long status, const char *body_error, int64_t retry_after_s,
                                         char *reason, size_t reason_length)
{
    char what[64];
    if (status == 401 || status == 403 ||
        (status == 400 && contains_folded(body_error, "api key"))) {
        snprintf(reason, reason_length, "API key rejected (HTTP %ld)", status);
        return GROK_FAIL_AUTH;
    }
    if (status == 429 &&
        (contains_folded(body_error, "credits") || contains_folded(body_error, "spending limit"))) {
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
    if (status == 410) {
        with_detail(reason, reason_length,
                    "API feature removed (HTTP 410); Live Search is gone, use api = responses",
                    body_error);
        return GROK_FAIL_GONE;
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

/* Checks the status and the error body; on success returns the parsed
 * root object (the caller's to decref). */
static enum grok_failure open_answer(long status, const char *body, int64_t retry_after_s,
                                     json_t **root_out, char *reason, size_t reason_length)
{
    *root_out = NULL;
    json_t *root = body ? json_loads(body, 0, NULL) : NULL;
    const char *body_error = json_is_object(root) ? error_text(root) : NULL;
    enum grok_failure failure = GROK_FAIL_ANSWER;
    if (status < 200 || status > 299) {
        failure = classify_status(status, body_error, retry_after_s, reason, reason_length);
        goto fail;
    }
    if (!json_is_object(root)) {
        snprintf(reason, reason_length, "invalid answer: body is not a JSON object");
        goto fail;
    }
    if (body_error != NULL) {
        with_detail(reason, reason_length, "error from API", body_error);
        failure = GROK_FAIL_REQUEST;
        goto fail;
    }
    *root_out = root;
    return GROK_OK;
fail:
    json_decref(root);
    return failure;
}

/* Checks the status and envelope; on success returns the parsed root and
 * points *content at choices[0].message.content (borrowed from root). */
static enum grok_failure open_envelope(long status, const char *body, int64_t retry_after_s,
                                       json_t **root_out, const char **content, char *reason,
                                       size_t reason_length)
{
    json_t *root = NULL;
    enum grok_failure failure =
        open_answer(status, body, retry_after_s, &root, reason, reason_length);
    if (failure != GROK_OK)
        return failure;
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
    return GROK_FAIL_ANSWER;
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

enum grok_failure grok_parse_text(long status, const char *body, int64_t retry_after_s, char *out,
                                  size_t out_length, char *reason, size_t reason_length)
{
    if (out_length > 0)
        out[0] = '\0';
    reason[0] = '\0';
    json_t *root = NULL;
    const char *content = NULL;
    enum grok_failure failure =
        open_envelope(status, body, retry_after_s, &root, &content, reason, reason_length);
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
    if (failure == GROK_FAIL_AUTH || failure == GROK_FAIL_CREDITS || failure == GROK_FAIL_GONE)
        hold = default_hold_s * 10; /* will not heal by itself soon */
    if (retry_after_s > hold)
        hold = retry_after_s;
    return hold;
}

/* ---- Responses API ---- */

static int64_t integer_field(const json_t *object, const char *field)
{
    const json_t *value = json_object_get(object, field);
    if (json_is_integer(value) && json_integer_value(value) > 0)
        return (int64_t)json_integer_value(value);
    if (json_is_real(value) && json_real_value(value) > 0 && json_real_value(value) < 1e15)
        return (int64_t)json_real_value(value);
    return 0;
}

/* Either name set: Responses (input/output_tokens) or chat (prompt/completion). */
static void read_usage(const json_t *root, struct grok_usage *usage)
{
    memset(usage, 0, sizeof *usage);
    const json_t *block = json_object_get(root, "usage");
    if (!json_is_object(block))
        return;
    usage->input_tokens = integer_field(block, "input_tokens");
    if (usage->input_tokens == 0)
        usage->input_tokens = integer_field(block, "prompt_tokens");
    usage->output_tokens = integer_field(block, "output_tokens");
    if (usage->output_tokens == 0)
        usage->output_tokens = integer_field(block, "completion_tokens");
    usage->total_tokens = integer_field(block, "total_tokens");
    if (usage->total_tokens == 0)
        usage->total_tokens = usage->input_tokens + usage->output_tokens;
    usage->billed_searches = integer_field(block, "num_server_side_tools_used");
    const json_t *details = json_object_get(block, "server_side_tool_usage_details");
    if (usage->billed_searches == 0 && json_is_object(details)) {
        const char *name;
        const json_t *count;
        json_object_foreach((json_t *)details, name, count)
        {
            if (json_is_integer(count) && json_integer_value(count) > 0)
                usage->billed_searches += (int64_t)json_integer_value(count);
        }
    }
}

int grok_parse_usage(const char *body, struct grok_usage *usage)
{
    memset(usage, 0, sizeof *usage);
    json_t *root = body ? json_loads(body, 0, NULL) : NULL;
    int is_object = json_is_object(root);
    if (is_object)
        read_usage(root, usage);
    json_decref(root);
    return is_object;
}

static int starts_with(const char *text, const char *prefix)
{
    return strncasecmp(text, prefix, strlen(prefix)) == 0;
}

int grok_x_post_id(const char *url, char *id, size_t id_length)
{
    static const char *const hosts[] = {"x.com/",       "www.x.com/",       "mobile.x.com/",
                                        "twitter.com/", "www.twitter.com/", "mobile.twitter.com/"};
    if (url == NULL || id_length == 0)
        return 0;
    if (starts_with(url, "https://"))
        url += 8;
    else if (starts_with(url, "http://"))
        url += 7;
    else
        return 0;
    const char *path = NULL;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0] && path == NULL; i++)
        if (starts_with(url, hosts[i]))
            path = url + strlen(hosts[i]);
    if (path == NULL)
        return 0;
    const char *slash = strchr(path, '/'); /* after the user name ("i" for anonymous) */
    if (slash == NULL || slash == path || strncmp(slash, "/status/", 8) != 0)
        return 0;
    const char *digits = slash + 8;
    size_t length = 0;
    while (isdigit((unsigned char)digits[length]))
        length++;
    if (length == 0 || length >= id_length ||
        (digits[length] != '\0' && digits[length] != '/' && digits[length] != '?' &&
         digits[length] != '#'))
        return 0;
    memcpy(id, digits, length);
    id[length] = '\0';
    return 1;
}

#define CITATION_MAX 256

/* Distinct cited URLs and X post ids, counted once each. */
struct citation_tally {
    json_t *urls;  /* set of URLs */
    json_t *posts; /* set of post ids */
};

static void tally_url(struct citation_tally *tally, const json_t *value)
{
    if (json_is_object(value))
        value = json_object_get(value, "url");
    if (!json_is_string(value) || json_object_size(tally->urls) >= CITATION_MAX)
        return;
    const char *url = json_string_value(value);
    json_object_set_new(tally->urls, url, json_true());
    char id[32];
    if (grok_x_post_id(url, id, sizeof id))
        json_object_set_new(tally->posts, id, json_true());
}

/* X search tool calls in the output ("x_keyword_search", "x_semantic_search",
 * ...), for servers whose usage block does not break the counts down. */
static int is_x_tool_call(const json_t *item)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    const char *name = json_string_value(json_object_get(item, "name"));
    if (type == NULL)
        return 0;
    if (strcmp(type, "x_search_call") == 0)
        return 1;
    return (strcmp(type, "custom_tool_call") == 0 || strcmp(type, "function_call") == 0) &&
           name != NULL && strncmp(name, "x_", 2) == 0;
}

/* The last message item's output_text (borrowed), tallying its annotations. */
static const char *read_output(const json_t *output, struct citation_tally *tally,
                               int64_t *x_tool_calls)
{
    const char *text = NULL;
    size_t index;
    const json_t *item;
    json_array_foreach(output, index, item)
    {
        if (is_x_tool_call(item))
            (*x_tool_calls)++;
        const char *type = json_string_value(json_object_get(item, "type"));
        const json_t *content = json_object_get(item, "content");
        if (type == NULL || strcmp(type, "message") != 0 || !json_is_array(content))
            continue;
        size_t part_index;
        const json_t *part;
        json_array_foreach(content, part_index, part)
        {
            const char *part_type = json_string_value(json_object_get(part, "type"));
            const json_t *part_text = json_object_get(part, "text");
            if (part_type == NULL || strcmp(part_type, "output_text") != 0 ||
                !json_is_string(part_text))
                continue;
            text = json_string_value(part_text);
            size_t note_index;
            const json_t *note;
            json_array_foreach(json_object_get(part, "annotations"), note_index, note)
            {
                const char *note_type = json_string_value(json_object_get(note, "type"));
                if (note_type != NULL && strcmp(note_type, "url_citation") == 0)
                    tally_url(tally, note);
            }
        }
    }
    return text;
}

/* X searches: usage's x_search_calls, else the SDK-style
 * server_side_tool_usage {"SERVER_SIDE_TOOL_X_SEARCH": n}, else the calls
 * seen in the output. */
static int64_t count_x_searches(const json_t *root, int64_t x_tool_calls)
{
    const json_t *details =
        json_object_get(json_object_get(root, "usage"), "server_side_tool_usage_details");
    int64_t count = integer_field(details, "x_search_calls");
    if (count == 0)
        count = integer_field(json_object_get(root, "server_side_tool_usage"),
                              "SERVER_SIDE_TOOL_X_SEARCH");
    return count > 0 ? count : x_tool_calls;
}

enum grok_failure grok_parse_responses_rating(long status, const char *body, int64_t retry_after_s,
                                              struct grok_answer *answer)
{
    memset(answer, 0, sizeof *answer);
    jv_grok_rating *rating = &answer->rating;
    json_t *root = NULL;
    enum grok_failure failure =
        open_answer(status, body, retry_after_s, &root, rating->reason, sizeof rating->reason);
    if (failure != GROK_OK)
        return failure;
    answer->answered = 1;
    read_usage(root, &answer->usage);
    struct citation_tally tally = {json_object(), json_object()};
    int64_t x_tool_calls = 0;
    const json_t *output = json_object_get(root, "output");
    const char *text = json_is_array(output) ? read_output(output, &tally, &x_tool_calls) : NULL;
    size_t index;
    const json_t *citation;
    json_array_foreach(json_object_get(root, "citations"), index, citation)
        tally_url(&tally, citation);
    answer->x_searches = count_x_searches(root, x_tool_calls);
    answer->cited_posts = (int64_t)json_object_size(tally.posts);
    answer->citations = (int64_t)json_object_size(tally.urls);
    answer->grounded = answer->x_searches > 0 && answer->cited_posts > 0;
    json_decref(tally.urls);
    json_decref(tally.posts);
    if (!json_is_array(output)) {
        snprintf(rating->reason, sizeof rating->reason, "invalid answer: no output");
        failure = GROK_FAIL_ANSWER;
    } else if (text == NULL) {
        snprintf(rating->reason, sizeof rating->reason, "invalid answer: no output text");
        failure = GROK_FAIL_ANSWER;
    } else {
        failure = validate_rating(text, rating);
    }
    json_decref(root);
    return failure;
}
