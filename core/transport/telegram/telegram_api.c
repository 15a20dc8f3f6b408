/* Telegram Bot API calls (one kept-alive connection per caller thread: JSON
 * POSTs by hand on it, uploads as libcurl transfers) and the decoding of
 * Telegram's envelope into an outcome. The URL carries the token, so it is
 * built here and never leaves this file or the connection. */
#include "transport/telegram/telegram_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/byte_buffer.h"
#include "base/curl_setup.h"
#include "base/http_connection.h"
#include "base/log.h"
#include "base/pick_tree.h"
#include "base/text.h"
#include "base/utf8.h"
#include "transport/telegram/telegram_update.h"

struct telegram_api {
    char *url_prefix;  /* "<api_base>/bot<token>/" */
    char *path_prefix; /* "/bot<token>/", after the connection's base path */
    /* NULL when the base URL or the proxy environment needs libcurl's own
     * transfer; then every call is one */
    struct http_connection *connection;
    CURL *easy;
    CURLM *multi;
    struct curl_slist *headers;
    int abort_fd;
    char curl_error[CURL_ERROR_SIZE];
    /* telegram_api_start_post's exchange, until it is done */
    struct http_exchange exchange;
    int wanted; /* enum wanted_result */
};

/* Telegram's largest legitimate answer (100 updates of 4096 chars plus
 * entities) is well under this; anything bigger is treated as malformed. */
#define RESPONSE_LIMIT (64u * 1024u * 1024u)
#define RESPONSE_LIMIT_TEXT "64 MiB"

struct telegram_api *telegram_api_create(const char *api_base, const char *token)
{
    struct telegram_api *api = calloc(1, sizeof *api);
    if (api == NULL)
        return NULL;
    size_t base_length = strlen(api_base);
    while (base_length > 0 && api_base[base_length - 1] == '/')
        base_length--;
    size_t size = base_length + strlen(token) + 8;
    api->url_prefix = malloc(size);
    api->easy = curl_easy_init();
    api->multi = curl_multi_init();
    api->headers = curl_slist_append(NULL, "Content-Type: application/json");
    api->abort_fd = -1;
    if (api->url_prefix == NULL || api->easy == NULL || api->multi == NULL ||
        api->headers == NULL) {
        telegram_api_destroy(api);
        return NULL;
    }
    snprintf(api->url_prefix, size, "%.*s/bot%s/", (int)base_length, api_base, token);
    api->path_prefix = strdup(api->url_prefix + base_length);
    if (api->path_prefix == NULL) {
        telegram_api_destroy(api);
        return NULL;
    }
    api->connection = http_connection_create(api_base, RESPONSE_LIMIT);
    if (api->connection == NULL)
        log_debug("telegram: calls go through libcurl transfers (proxy or unusual base URL)");
    return api;
}

void telegram_api_destroy(struct telegram_api *api)
{
    if (api == NULL)
        return;
    if (api->multi != NULL)
        curl_multi_cleanup(api->multi);
    if (api->easy != NULL)
        curl_easy_cleanup(api->easy);
    curl_slist_free_all(api->headers);
    http_connection_destroy(api->connection);
    if (api->path_prefix != NULL) {
        memset(api->path_prefix, 0, strlen(api->path_prefix));
        free(api->path_prefix);
    }
    if (api->url_prefix != NULL) {
        /* the prefix holds the token: do not leave it in freed memory */
        memset(api->url_prefix, 0, strlen(api->url_prefix));
        free(api->url_prefix);
    }
    free(api);
}

void telegram_api_set_abort_fd(struct telegram_api *api, int abort_fd)
{
    api->abort_fd = abort_fd;
}

void telegram_result_release(struct telegram_result *result)
{
    if (result->value != NULL)
        json_decref(result->value);
    result->value = NULL;
    pick_arena_destroy(result->arena);
    result->arena = NULL;
    result->updates = NULL;
}

/* The one-pass reading of a getUpdates answer into nodes; 0 when the
 * answer is not one it takes (the full path reads it then). */
static int read_updates_in_one_pass(const char *data, size_t length, struct telegram_result *result)
{
    struct pick_arena *arena = pick_arena_create();
    const struct pick_node *updates = telegram_read_updates(data, length, arena);
    if (updates == NULL) {
        pick_arena_destroy(arena);
        return 0;
    }
    result->arena = arena;
    result->updates = updates;
    return 1;
}

static void set_description(struct telegram_result *result, const char *text)
{
    snprintf(result->description, sizeof result->description, "%s", text);
    for (char *c = result->description; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    log_redact(result->description, sizeof result->description);
}

static enum telegram_outcome outcome_for_error(long code, const char *description,
                                               const struct telegram_result *result)
{
    if (code == 429)
        return TELEGRAM_RETRY_AFTER;
    if (code == 401)
        return TELEGRAM_UNAUTHORIZED;
    if (code == 409)
        /* the two 409s differ only in wording; webhook is the stable word */
        return strstr(description, "webhook") != NULL ? TELEGRAM_CONFLICT_WEBHOOK
                                                      : TELEGRAM_CONFLICT_POLLER;
    if (result->migrate_to_chat_id != 0)
        return TELEGRAM_MIGRATED;
    if (code >= 400 && code < 500)
        return TELEGRAM_REJECTED;
    return TELEGRAM_TRANSIENT;
}

/* Documented as an Integer; a real number from another implementation still
 * means "wait", rounded up. Capped at a day so a wild value cannot overflow
 * the millisecond arithmetic of the callers. */
static int64_t retry_after_seconds(json_t *value)
{
    static const int64_t day_s = 86400;
    if (json_is_integer(value)) {
        json_int_t seconds = json_integer_value(value);
        if (seconds < 0)
            return 0; /* a negative wait means nothing; 0 = "not given" */
        return seconds > day_s ? day_s : seconds;
    }
    if (!json_is_real(value) || !(json_real_value(value) > 0))
        return 0;
    double seconds = json_real_value(value);
    if (seconds >= (double)day_s)
        return day_s;
    int64_t whole = (int64_t)seconds;
    return (double)whole < seconds ? whole + 1 : whole;
}

static void classify_error_body(json_t *root, long http_status, struct telegram_result *result)
{
    json_t *code = json_object_get(root, "error_code");
    json_t *description = json_object_get(root, "description");
    json_t *parameters = json_object_get(root, "parameters");
    result->error_code = json_is_integer(code) ? (long)json_integer_value(code) : http_status;
    /* an empty description would leave the log line saying nothing */
    int has_text = json_is_string(description) && json_string_length(description) > 0;
    set_description(result, has_text ? json_string_value(description) : "(no description)");
    if (json_is_object(parameters)) {
        json_t *retry = json_object_get(parameters, "retry_after");
        json_t *migrate = json_object_get(parameters, "migrate_to_chat_id");
        result->retry_after_s = retry_after_seconds(retry);
        if (json_is_integer(migrate))
            result->migrate_to_chat_id = json_integer_value(migrate);
    }
    result->outcome = outcome_for_error(result->error_code, result->description, result);
    if (result->outcome == TELEGRAM_RETRY_AFTER && result->retry_after_s < 1)
        result->retry_after_s = 1;
}

static void classify_unreadable(long http_status, struct telegram_result *result)
{
    result->error_code = http_status;
    if (http_status == 401) {
        result->outcome = TELEGRAM_UNAUTHORIZED;
        set_description(result, "Unauthorized");
        return;
    }
    result->outcome = TELEGRAM_TRANSIENT;
    char text[96];
    snprintf(text, sizeof text, "malformed answer (HTTP %ld, not a Telegram JSON envelope)",
             http_status);
    set_description(result, text);
}

static size_t lone_surrogate_escapes(char *text, size_t length, int fix);

/* No invalid UTF-8 and no lone surrogate escape: the common case, read
 * where it lies instead of copied through the repair. */
static int body_is_clean(const char *body, size_t length)
{
    return utf8_invalid_bytes(body, length) == 0 &&
           lone_surrogate_escapes((char *)body, length, 0) == 0;
}

void telegram_classify(long http_status, const char *body, size_t body_length,
                       struct telegram_result *result)
{
    memset(result, 0, sizeof *result);
    size_t text_length = body_length, replaced = 0;
    char *repaired = NULL;
    const char *text = body;
    if (body != NULL && !body_is_clean(body, body_length)) {
        repaired = telegram_sanitize_utf8(body, body_length, &text_length, &replaced);
        text = repaired;
    }
    json_t *root = text ? json_loadb(text, text_length, 0, NULL) : NULL;
    if (root == NULL && text != NULL) {
        /* one update jansson cannot read must not block every other one */
        json_t *updates = telegram_decode_updates_leniently(text, text_length);
        if (updates != NULL) {
            free(repaired);
            result->outcome = TELEGRAM_OK;
            result->value = updates;
            log_warn("telegram: answer did not decode as a whole; read it update by update");
            return;
        }
    }
    free(repaired);
    if (!json_is_object(root) || !json_is_boolean(json_object_get(root, "ok"))) {
        json_decref(root);
        classify_unreadable(http_status, result);
        return;
    }
    if (replaced > 0)
        log_warn("telegram: answer had %zu invalid UTF-8 sequence(s); replaced with U+FFFD",
                 replaced);
    if (json_is_true(json_object_get(root, "ok"))) {
        json_t *value = json_object_get(root, "result");
        if (value == NULL) {
            json_decref(root);
            classify_unreadable(http_status, result);
            return;
        }
        result->outcome = TELEGRAM_OK;
        result->error_code = 0;
        result->value = json_incref(value);
    } else {
        classify_error_body(root, http_status, result);
    }
    json_decref(root);
}

/* Runs the transfer on the multi handle so the abort fd can end a long poll
 * at once instead of at libcurl's next progress tick. */
static CURLcode perform(struct telegram_api *api, int *aborted)
{
    *aborted = 0;
    if (curl_multi_add_handle(api->multi, api->easy) != CURLM_OK)
        return CURLE_FAILED_INIT;
    int running = 1;
    CURLcode code = CURLE_OK;
    while (running) {
        if (curl_multi_perform(api->multi, &running) != CURLM_OK) {
            code = CURLE_FAILED_INIT;
            break;
        }
        if (!running)
            break;
        struct curl_waitfd extra = {.fd = api->abort_fd, .events = CURL_WAIT_POLLIN};
        int count = 0;
        curl_multi_poll(api->multi, api->abort_fd >= 0 ? &extra : NULL, api->abort_fd >= 0 ? 1 : 0,
                        1000, &count);
        if (api->abort_fd >= 0 && (extra.revents & CURL_WAIT_POLLIN)) {
            *aborted = 1;
            break;
        }
    }
    int pending = 0;
    CURLMsg *message;
    while (!*aborted && (message = curl_multi_info_read(api->multi, &pending)) != NULL)
        if (message->msg == CURLMSG_DONE)
            code = message->data.result;
    curl_multi_remove_handle(api->multi, api->easy);
    return code;
}

struct attached_file {
    const char *field; /* "photo", "document" */
    const void *bytes;
    size_t length;
    const char *name;
};

/* What the caller reads from a success: nothing, the sent message's id, or
 * the whole decoded result. */
enum wanted_result { WANT_NOTHING, WANT_MESSAGE_ID, WANT_RESULT, WANT_UPDATES };

static void call(struct telegram_api *api, const char *method, json_t *parameters, long timeout_s,
                 enum wanted_result wanted, const struct attached_file *file,
                 struct telegram_result *result);
static void call_with_body(struct telegram_api *api, const char *method, char *body,
                           json_t *parameters, long timeout_s, enum wanted_result wanted,
                           const struct attached_file *file, struct telegram_result *result);

void telegram_api_post(struct telegram_api *api, const char *method, const char *body,
                       int want_message_id, long timeout_s, struct telegram_result *result)
{
    char *copy = strdup(body);
    call_with_body(api, method, copy, NULL, timeout_s,
                   want_message_id ? WANT_MESSAGE_ID : WANT_NOTHING, NULL, result);
}

void telegram_api_call(struct telegram_api *api, const char *method, json_t *parameters,
                       long timeout_s, struct telegram_result *result)
{
    call(api, method, parameters, timeout_s, WANT_RESULT, NULL, result);
}

void telegram_api_call_for_updates(struct telegram_api *api, json_t *parameters, long timeout_s,
                                   struct telegram_result *result)
{
    call(api, "getUpdates", parameters, timeout_s, WANT_UPDATES, NULL, result);
}

void telegram_api_call_for_message_id(struct telegram_api *api, const char *method,
                                      json_t *parameters, long timeout_s,
                                      struct telegram_result *result)
{
    call(api, method, parameters, timeout_s, WANT_MESSAGE_ID, NULL, result);
}

void telegram_api_call_without_result(struct telegram_api *api, const char *method,
                                      json_t *parameters, long timeout_s,
                                      struct telegram_result *result)
{
    call(api, method, parameters, timeout_s, WANT_NOTHING, NULL, result);
}

/* Telegram writes "ok" first: a success whose result nobody reads needs no
 * parse of the (message-sized) result. Anything else takes the full path. */
static int plain_success(long http_status, const char *body, size_t length)
{
    static const char prefix[] = "{\"ok\":true,";
    return http_status == 200 && length >= sizeof prefix - 1 &&
           memcmp(body, prefix, sizeof prefix - 1) == 0 && body[length - 1] == '}';
}

/* {"ok":true,"result":{"message_id":N, ...}: Telegram's own order. Any other
 * layout (another key first, spaces, a huge number) returns 0 and takes the
 * full decode, so this is only a shortcut, never a second reading. */
static int leading_message_id(long http_status, const char *body, size_t length,
                              int64_t *message_id)
{
    static const char prefix[] = "{\"ok\":true,\"result\":{\"message_id\":";
    size_t at = sizeof prefix - 1;
    if (!plain_success(http_status, body, length) || length <= at || memcmp(body, prefix, at) != 0)
        return 0;
    int64_t value = 0;
    size_t digits = 0;
    for (; at < length && body[at] >= '0' && body[at] <= '9' && digits < 18; at++, digits++)
        value = value * 10 + (body[at] - '0');
    if (digits == 0 || at >= length || (body[at] != ',' && body[at] != '}') || value <= 0)
        return 0;
    *message_id = value;
    return 1;
}

void telegram_api_call_with_file(struct telegram_api *api, const char *method, json_t *parameters,
                                 const char *file_field, const void *bytes, size_t length,
                                 const char *file_name, long timeout_s,
                                 struct telegram_result *result)
{
    struct attached_file file = {
        .field = file_field, .bytes = bytes, .length = length, .name = file_name};
    call(api, method, parameters, timeout_s, WANT_RESULT, &file, result);
}

/* multipart/form-data: each parameter a part (strings as they are, other
 * values as JSON, which is how the Bot API reads form fields), then the file. */
static curl_mime *build_form(CURL *easy, json_t *parameters, const struct attached_file *file)
{
    curl_mime *form = curl_mime_init(easy);
    if (form == NULL)
        return NULL;
    const char *key;
    json_t *value;
    json_object_foreach(parameters, key, value)
    {
        curl_mimepart *part = curl_mime_addpart(form);
        char *text = json_is_string(value) ? strdup(json_string_value(value))
                                           : json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (part == NULL || text == NULL) {
            free(text);
            curl_mime_free(form);
            return NULL;
        }
        curl_mime_name(part, key);
        curl_mime_data(part, text, CURL_ZERO_TERMINATED);
        free(text);
    }
    curl_mimepart *part = curl_mime_addpart(form);
    if (part == NULL || curl_mime_name(part, file->field) != CURLE_OK ||
        curl_mime_data(part, file->bytes, file->length) != CURLE_OK ||
        curl_mime_filename(part, file->name) != CURLE_OK) {
        curl_mime_free(form);
        return NULL;
    }
    return form;
}

static void call(struct telegram_api *api, const char *method, json_t *parameters, long timeout_s,
                 enum wanted_result wanted, const struct attached_file *file,
                 struct telegram_result *result)
{
    char *body = parameters ? json_dumps(parameters, JSON_COMPACT) : strdup("{}");
    call_with_body(api, method, body, parameters, timeout_s, wanted, file, result);
}

/* The outcome of an answer that arrived, by the cheapest reading that the
 * caller's want allows. */
static void read_answer(long http_status, const char *data, size_t length,
                        enum wanted_result wanted, struct telegram_result *result)
{
    if (wanted == WANT_NOTHING && plain_success(http_status, data, length)) {
        result->outcome = TELEGRAM_OK;
    } else if (wanted == WANT_MESSAGE_ID &&
               leading_message_id(http_status, data, length, &result->message_id)) {
        result->outcome = TELEGRAM_OK;
    } else if (wanted == WANT_UPDATES && http_status == 200 &&
               read_updates_in_one_pass(data, length, result)) {
        /* the strict reader checked every byte as the full decode would */
        result->outcome = TELEGRAM_OK;
    } else {
        telegram_classify(http_status, data, length, result);
    }
}

/* The exchange's end, as a result. */
static void finish_exchange(const struct http_exchange *exchange, enum wanted_result wanted,
                            struct telegram_result *result)
{
    switch (exchange->outcome) {
        case HTTP_EXCHANGE_OK: break;
        case HTTP_EXCHANGE_ABORTED:
            result->outcome = TELEGRAM_ABORTED;
            set_description(result, "stopped");
            return;
        case HTTP_EXCHANGE_TOO_LARGE:
            result->outcome = TELEGRAM_TRANSIENT;
            set_description(result, "answer too large (over the " RESPONSE_LIMIT_TEXT " limit)");
            return;
        case HTTP_EXCHANGE_TIMED_OUT:
        case HTTP_EXCHANGE_FAILED:
            result->outcome = TELEGRAM_TRANSIENT;
            result->timed_out = exchange->outcome == HTTP_EXCHANGE_TIMED_OUT;
            set_description(result, exchange->error);
            return;
    }
    read_answer(exchange->status, exchange->body, exchange->body_length, wanted, result);
    /* the header and the envelope both say how long: wait the longer */
    if (result->outcome == TELEGRAM_RETRY_AFTER && exchange->retry_after_s > result->retry_after_s)
        result->retry_after_s = exchange->retry_after_s;
}

/* "<path prefix><method>", malloc'd; wiped before it is freed (it holds the token). */
static char *method_path(const struct telegram_api *api, const char *method, size_t *size)
{
    *size = strlen(api->path_prefix) + strlen(method) + 1;
    char *path = malloc(*size);
    if (path != NULL)
        text_join(path, *size, api->path_prefix, method);
    return path;
}

static void free_path(char *path, size_t size)
{
    memset(path, 0, size);
    free(path);
}

/* A JSON POST on the kept-alive connection (http_connection.h). */
static void post_by_hand(struct telegram_api *api, const char *method, const char *body,
                         long timeout_s, enum wanted_result wanted, struct telegram_result *result)
{
    size_t path_size = 0;
    char *path = method_path(api, method, &path_size);
    if (path == NULL) {
        result->outcome = TELEGRAM_TRANSIENT;
        set_description(result, "out of memory building the request");
        return;
    }
    struct http_exchange exchange;
    http_connection_post(api->connection, path, "application/json", body, strlen(body), timeout_s,
                         api->abort_fd, &exchange);
    free_path(path, path_size);
    finish_exchange(&exchange, wanted, result);
}

int telegram_api_can_start(const struct telegram_api *api)
{
    return api->connection != NULL;
}

static int progress_done(struct telegram_api *api, enum http_progress progress,
                         struct telegram_result *result, int *wants_write)
{
    if (progress != HTTP_DONE) {
        *wants_write = progress == HTTP_WANT_WRITE;
        return 0;
    }
    memset(result, 0, sizeof *result);
    finish_exchange(&api->exchange, (enum wanted_result)api->wanted, result);
    return 1;
}

int telegram_api_start_post(struct telegram_api *api, const char *method, const char *body,
                            int want_message_id, long timeout_s, struct telegram_result *result,
                            int *wants_write)
{
    memset(result, 0, sizeof *result);
    api->wanted = want_message_id ? WANT_MESSAGE_ID : WANT_NOTHING;
    size_t path_size = 0;
    char *path = method_path(api, method, &path_size);
    if (path == NULL) {
        result->outcome = TELEGRAM_TRANSIENT;
        set_description(result, "out of memory building the request");
        return 1;
    }
    /* the request is built at the start: the path may go at once */
    enum http_progress progress =
        http_connection_start(api->connection, path, "application/json", body, strlen(body),
                              timeout_s, api->abort_fd, &api->exchange);
    free_path(path, path_size);
    return progress_done(api, progress, result, wants_write);
}

int telegram_api_resume(struct telegram_api *api, struct telegram_result *result, int *wants_write)
{
    enum http_progress progress =
        http_connection_resume(api->connection, api->abort_fd, &api->exchange);
    return progress_done(api, progress, result, wants_write);
}

void telegram_api_give_up(struct telegram_api *api, struct telegram_result *result)
{
    http_connection_give_up(api->connection, &api->exchange);
    memset(result, 0, sizeof *result);
    finish_exchange(&api->exchange, (enum wanted_result)api->wanted, result);
}

int telegram_api_socket(const struct telegram_api *api, unsigned long *generation)
{
    return http_connection_socket(api->connection, generation);
}

int64_t telegram_api_deadline_ms(const struct telegram_api *api)
{
    return http_connection_deadline_ms(api->connection);
}

int telegram_api_connected(const struct telegram_api *api)
{
    return http_connection_connected(api->connection);
}

int telegram_api_connect(struct telegram_api *api, long timeout_s, struct telegram_result *result)
{
    memset(result, 0, sizeof *result);
    struct http_exchange exchange;
    http_connection_connect(api->connection, timeout_s, api->abort_fd, &exchange);
    if (exchange.outcome == HTTP_EXCHANGE_OK)
        return 0;
    finish_exchange(&exchange, WANT_NOTHING, result);
    return -1;
}

void telegram_api_drop_idle(struct telegram_api *api)
{
    http_connection_drop(api->connection);
}

/* Takes body (malloc'd; NULL: out of memory); parameters only for a form. */
static void call_with_body(struct telegram_api *api, const char *method, char *body,
                           json_t *parameters, long timeout_s, enum wanted_result wanted,
                           const struct attached_file *file, struct telegram_result *result)
{
    memset(result, 0, sizeof *result);
    if (body != NULL && file == NULL && api->connection != NULL) {
        post_by_hand(api, method, body, timeout_s, wanted, result);
        free(body);
        return;
    }
    size_t url_size = strlen(api->url_prefix) + strlen(method) + 1;
    char *url = malloc(url_size);
    if (body == NULL || url == NULL) {
        free(body);
        free(url);
        result->outcome = TELEGRAM_TRANSIENT;
        set_description(result, "out of memory building the request");
        return;
    }
    text_join(url, url_size, api->url_prefix, method);

    struct byte_buffer response = {.limit = RESPONSE_LIMIT};
    CURL *easy = api->easy;
    curl_easy_reset(easy);
    /* refused at the headers when the server announces a longer body */
    curl_setup_transfer(easy, &response, api->curl_error);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_mime *form = NULL;
    if (file != NULL) {
        form = build_form(easy, parameters, file);
        if (form == NULL) {
            free(body);
            free(url);
            result->outcome = TELEGRAM_TRANSIENT;
            set_description(result, "out of memory building the form");
            return;
        }
        curl_easy_setopt(easy, CURLOPT_MIMEPOST, form);
    } else {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, api->headers);
    }
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    api->curl_error[0] = '\0';

    int aborted = 0;
    CURLcode code = perform(api, &aborted);
    long http_status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http_status);
    memset(url, 0, url_size);
    free(url);
    free(body);
    curl_mime_free(form);

    if (aborted) {
        result->outcome = TELEGRAM_ABORTED;
        set_description(result, "stopped");
    } else if (response.over_limit || code == CURLE_FILESIZE_EXCEEDED) {
        /* libcurl would only say "Failure writing output to destination" */
        result->outcome = TELEGRAM_TRANSIENT;
        set_description(result, "answer too large (over the " RESPONSE_LIMIT_TEXT " limit)");
    } else if (code != CURLE_OK) {
        result->outcome = TELEGRAM_TRANSIENT;
        result->timed_out = code == CURLE_OPERATION_TIMEDOUT;
        /* libcurl's texts may quote the URL on some errors: redact, and
         * prefer the generic text when the buffer is empty */
        set_description(result, api->curl_error[0] ? api->curl_error : curl_easy_strerror(code));
    } else {
        read_answer(http_status, response.data, response.length, wanted, result);
    }
    free(response.data);
}

static int hex4(const char *text, unsigned int *value)
{
    *value = 0;
    for (int i = 0; i < 4; i++) {
        char c = text[i];
        unsigned int digit;
        if (c >= '0' && c <= '9')
            digit = (unsigned int)(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = (unsigned int)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = (unsigned int)(c - 'A' + 10);
        else
            return -1;
        *value = (*value << 4) | digit;
    }
    return 0;
}

/* jansson rejects a whole document for one lone surrogate escape; rewriting
 * it to \ufffd (same length) keeps the other updates of the batch. */
/* Counts lone \uD800-\uDFFF escapes; rewrites them to \ufffd when fix is
 * set (text is only written then). */
static size_t lone_surrogate_escapes(char *text, size_t length, int fix)
{
    size_t replaced = 0;
    for (size_t i = 0; i + 1 < length; i++) {
        if (text[i] != '\\')
            continue;
        if (text[i + 1] != 'u' || i + 6 > length) {
            i++; /* skip the escaped character, e.g. the second '\' of "\\" */
            continue;
        }
        unsigned int unit;
        if (hex4(text + i + 2, &unit) != 0) {
            i++;
            continue;
        }
        if (unit >= 0xD800 && unit <= 0xDBFF && i + 12 <= length && text[i + 6] == '\\' &&
            text[i + 7] == 'u') {
            unsigned int low;
            if (hex4(text + i + 8, &low) == 0 && low >= 0xDC00 && low <= 0xDFFF) {
                i += 11;
                continue;
            }
        }
        if (unit >= 0xD800 && unit <= 0xDFFF) {
            if (fix)
                memcpy(text + i + 2, "fffd", 4);
            replaced++;
        }
        i += 5;
    }
    return replaced;
}

char *telegram_sanitize_utf8(const char *text, size_t length, size_t *out_length, size_t *replaced)
{
    char *clean = utf8_repair(text, length, out_length, replaced);
    if (clean != NULL)
        *replaced += lone_surrogate_escapes(clean, *out_length, 1);
    return clean;
}
