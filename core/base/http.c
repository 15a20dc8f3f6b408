/* libcurl wrapper shared by the core and the plugins: one easy handle per
 * call, whole-request timeout, capped body, Retry-After parsing, and error
 * texts stripped of URLs (tokens live in paths and queries) and redacted. */
#include "base/http.h"

#include "base/byte_buffer.h"
#include "base/curl_setup.h"
#include "base/log.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 15000
#define BODY_LIMIT (16u * 1024u * 1024u)
#define RETRY_AFTER_MAX_S 86400

struct transfer {
    struct byte_buffer body;
    int64_t retry_after_s;
};

static int global_initialised;

int http_global_init(void)
{
    if (global_initialised)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    global_initialised = 1;
    return 0;
}

void http_global_cleanup(void)
{
    if (!global_initialised)
        return;
    curl_global_cleanup();
    global_initialised = 0;
}

/* delta-seconds, or an HTTP-date turned into seconds from now; -1 if neither. */
static int64_t parse_retry_after(const char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    char text[128];
    snprintf(text, sizeof text, "%s", value);
    size_t length = strlen(text);
    while (length > 0 && (text[length - 1] == '\r' || text[length - 1] == '\n' ||
                          text[length - 1] == ' ' || text[length - 1] == '\t'))
        text[--length] = '\0';
    if (length == 0)
        return -1;
    if (strspn(text, "0123456789") == length) {
        if (length > 9)
            return RETRY_AFTER_MAX_S;
        long long seconds = strtoll(text, NULL, 10);
        return seconds > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : seconds;
    }
    time_t when = curl_getdate(text, NULL);
    if (when < 0)
        return -1;
    time_t now = time(NULL);
    int64_t delta = when > now ? (int64_t)(when - now) : 0;
    return delta > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : delta;
}

static size_t receive_header(char *data, size_t size, size_t count, void *user)
{
    struct transfer *transfer = user;
    size_t length = size * count;
    static const char name[] = "retry-after:";
    /* A new status line starts a new response (after 100 Continue): forget
     * what the interim one said. */
    if (length >= 5 && strncmp(data, "HTTP/", 5) == 0)
        transfer->retry_after_s = -1;
    if (length > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[128];
        size_t value_length = length - (sizeof name - 1);
        if (value_length >= sizeof value)
            value_length = sizeof value - 1;
        memcpy(value, data + sizeof name - 1, value_length);
        value[value_length] = '\0';
        transfer->retry_after_s = parse_retry_after(value);
    }
    return length;
}

static int ends_url(char c)
{
    return c == '\0' || c == ' ' || c == '\t' || c == '\'' || c == '"' || c == '<' || c == '>' ||
           c == ')';
}

/* Every "scheme://user@host/path?query" becomes "scheme://host". */
static void strip_urls(char *text)
{
    char *marker;
    char *search = text;
    while ((marker = strstr(search, "://")) != NULL) {
        char *host = marker + 3;
        char *end = host;
        while (!ends_url(*end))
            end++;
        char *host_end = host;
        while (host_end < end && *host_end != '/' && *host_end != '?' && *host_end != '#')
            host_end++;
        char *at = memchr(host, '@', (size_t)(host_end - host));
        if (at != NULL) {
            memmove(host, at + 1, strlen(at + 1) + 1);
            size_t removed = (size_t)(at + 1 - host);
            host_end -= removed;
            end -= removed;
        }
        memmove(host_end, end, strlen(end) + 1);
        search = host_end;
    }
}

static void remove_all(char *text, const char *needle, size_t needle_length)
{
    if (needle_length == 0)
        return;
    char *found;
    while ((found = strstr(text, needle)) != NULL)
        memmove(found, found + needle_length, strlen(found + needle_length) + 1);
}

/* Short parts ("/a", "x=1") cannot hold a token or key, and cutting them out
 * everywhere would mangle ordinary words of the message. */
#define PART_MIN_LENGTH 8

static void remove_part(char *text, const char *part, size_t part_length)
{
    if (part_length < PART_MIN_LENGTH)
        return;
    char needle[2048];
    if (part_length >= sizeof needle)
        part_length = sizeof needle - 1;
    memcpy(needle, part, part_length);
    needle[part_length] = '\0';
    remove_all(text, needle, part_length);
}

/* Drops the request URL, and its path and query wherever they appear on
 * their own (curl quotes a host it could not resolve, and for "http:///x"
 * the first path segment is taken for the host). */
static void strip_request_parts(char *text, const char *url)
{
    remove_all(text, url, strlen(url));
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end != NULL ? scheme_end + 3 : url;
    const char *path = host + strcspn(host, "/?#");
    if (*path == '\0')
        return;
    remove_part(text, path, strlen(path));
    const char *query = strchr(path, '?');
    if (query != NULL)
        remove_part(text, query + 1, strlen(query + 1));
    const char *unslashed = path + strspn(path, "/");
    remove_part(text, unslashed, strlen(unslashed));
    remove_part(text, path, strcspn(path, "?#"));
    remove_part(text, unslashed, strcspn(unslashed, "/?#"));
}

static void set_error(jv_http_response *response, const char *url, const char *message)
{
    char text[sizeof response->error + 512];
    snprintf(text, sizeof text, "%s", message);
    for (char *p = text; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    }
    if (url != NULL)
        strip_request_parts(text, url);
    strip_urls(text);
    log_redact(text, sizeof text);
    size_t length = strnlen(text, sizeof response->error - 1);
    memcpy(response->error, text, length);
    response->error[length] = '\0';
}

static int has_header(const char *const *headers, const char *name)
{
    size_t length = strlen(name);
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        if (strncasecmp(headers[i], name, length) == 0 && headers[i][length] == ':')
            return 1;
    }
    return 0;
}

static int build_headers(const jv_http_request *request, struct curl_slist **list)
{
    *list = NULL;
    for (size_t i = 0; request->headers != NULL && request->headers[i] != NULL; i++) {
        if (strpbrk(request->headers[i], "\r\n") != NULL)
            return -1; /* would inject a header or split the request */
        struct curl_slist *grown = curl_slist_append(*list, request->headers[i]);
        if (grown == NULL)
            return -1;
        *list = grown;
    }
    /* An empty Expect: stops curl waiting for "100 Continue" on large POSTs. */
    if (!has_header(request->headers, "Expect")) {
        struct curl_slist *grown = curl_slist_append(*list, "Expect:");
        if (grown == NULL)
            return -1;
        *list = grown;
    }
    return 0;
}

static int validate_request(const jv_http_request *request, jv_http_response *response)
{
    if (request == NULL || request->url == NULL || request->method == NULL) {
        set_error(response, NULL, "invalid request: no URL or method");
        return -1;
    }
    if (strcmp(request->method, "GET") != 0 && strcmp(request->method, "POST") != 0) {
        set_error(response, NULL, "invalid request: method must be GET or POST");
        return -1;
    }
    if (request->body == NULL && request->body_length > 0) {
        set_error(response, NULL, "invalid request: body_length without body");
        return -1;
    }
    return 0;
}

static void reset_response(jv_http_response *response)
{
    response->status = 0;
    response->body = NULL;
    response->body_length = 0;
    response->retry_after_s = -1;
    response->error[0] = '\0';
}

static void configure_handle(CURL *handle, const jv_http_request *request,
                             struct curl_slist *headers, struct transfer *transfer,
                             char *error_buffer)
{
    int64_t timeout_ms = request->timeout_ms > 0 ? request->timeout_ms : DEFAULT_TIMEOUT_MS;
    curl_setup_transfer(handle, &transfer->body, error_buffer);
    curl_easy_setopt(handle, CURLOPT_URL, request->url);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, receive_header);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, transfer);
    if (strcmp(request->method, "POST") == 0) {
        curl_easy_setopt(handle, CURLOPT_POST, 1L);
        curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length);
        curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request->body != NULL ? request->body : "");
    } else {
        curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
    }
}

static int failure_code(CURLcode code, const struct transfer *transfer)
{
    if (code == CURLE_OPERATION_TIMEDOUT && !transfer->body.over_limit)
        return JV_E_TIMEOUT;
    return JV_E_IO;
}

static void describe_failure(jv_http_response *response, const char *url, CURLcode code,
                             const struct transfer *transfer, const char *error_buffer)
{
    if (transfer->body.over_limit || code == CURLE_FILESIZE_EXCEEDED) {
        char message[96];
        snprintf(message, sizeof message, "response body larger than %u bytes",
                 (unsigned)BODY_LIMIT);
        set_error(response, url, message);
        return;
    }
    set_error(response, url, error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code));
}

int http_perform(const jv_http_request *request, jv_http_response *response)
{
    if (response == NULL)
        return JV_E_INVAL;
    reset_response(response);
    if (validate_request(request, response) != 0)
        return JV_E_INVAL;
    struct curl_slist *headers = NULL;
    if (build_headers(request, &headers) != 0) {
        curl_slist_free_all(headers);
        set_error(response, NULL, "invalid request: a header contains a line break");
        return JV_E_INVAL;
    }
    CURL *handle = curl_easy_init();
    if (handle == NULL) {
        curl_slist_free_all(headers);
        set_error(response, NULL, "cannot create a curl handle");
        return JV_E_INTERNAL;
    }
    struct transfer transfer = {.body = {.limit = BODY_LIMIT}, .retry_after_s = -1};
    char error_buffer[CURL_ERROR_SIZE] = "";
    configure_handle(handle, request, headers, &transfer, error_buffer);
    CURLcode code = curl_easy_perform(handle);
    int result = JV_OK;
    if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        response->status = status;
        response->retry_after_s = transfer.retry_after_s;
        response->body = transfer.body.data != NULL ? transfer.body.data : calloc(1, 1);
        response->body_length = transfer.body.length;
        transfer.body.data = NULL;
        if (response->body == NULL) {
            set_error(response, NULL, "out of memory");
            result = JV_E_NOMEM;
        }
    } else {
        describe_failure(response, request->url, code, &transfer, error_buffer);
        result = failure_code(code, &transfer);
    }
    free(transfer.body.data);
    curl_easy_cleanup(handle);
    curl_slist_free_all(headers);
    return result;
}

void http_response_release(jv_http_response *response)
{
    if (response == NULL)
        return;
    free(response->body);
    response->body = NULL;
    response->body_length = 0;
}
