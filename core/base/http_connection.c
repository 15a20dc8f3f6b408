/* The hand-driven HTTP/1.1 exchange on a libcurl CONNECT_ONLY connection
 * (http_connection.h): one write of head and body and the answer read by
 * http_response_parser until complete, as steps that stop where the socket
 * would block, so a caller may wait for many connections at once; the
 * blocking post polls the socket and the abort fd between the steps. */
#include "base/http_connection.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/byte_buffer.h"
#include "base/clock.h"
#include "base/http_response_parser.h"
#include "base/proxy_environment.h"
#include "base/text.h"

#define CONNECT_TIMEOUT_S 10L
/* An answer body kept for the next exchange up to this size; a larger one
 * (a big getUpdates batch) is given back at the next post. */
#define KEPT_BODY_CAPACITY (1024u * 1024u)
#define RECEIVE_CHUNK 16384

struct http_connection {
    CURLM *multi;
    CURL *easy; /* in multi while connected: removing it closes the connection */
    int connected;
    int reused; /* the connection already carried an exchange */
    curl_socket_t socket;
    char *origin_url;         /* "scheme://host:port/": libcurl never sees the path */
    char *host;               /* the Host field's value */
    char *path_prefix;        /* the base URL's path without its trailing '/' */
    unsigned long generation; /* counts the connects: a new socket may reuse a number */
    struct byte_buffer request;
    struct http_response_parser parser;
    char curl_error[CURL_ERROR_SIZE];
    /* the exchange under way, from http_connection_start to HTTP_DONE */
    enum { PHASE_IDLE, PHASE_OPENING, PHASE_SENDING, PHASE_RECEIVING } phase;
    size_t sent;     /* request bytes written */
    size_t received; /* answer bytes read */
    int attempt;
    int was_reused; /* the attempt went out on a kept-alive connection */
    int64_t deadline_ms;
    long timeout_ms;
};

/* What a step of the exchange ended with; STEP_AGAIN: the socket would block. */
enum step { STEP_OK, STEP_AGAIN, STEP_LOST, STEP_FINAL };

static void set_error(struct http_exchange *exchange, enum http_exchange_outcome outcome,
                      const char *text)
{
    exchange->outcome = outcome;
    snprintf(exchange->error, sizeof exchange->error, "%s", text);
}

static char *url_part(CURLU *url, CURLUPart part)
{
    char *value = NULL;
    return curl_url_get(url, part, &value, 0) == CURLUE_OK ? value : NULL;
}

/* Fills origin_url, host and path_prefix from base_url; -1 when it is not
 * a plain http(s) URL or a proxy would receive the request. */
static int read_base_url(struct http_connection *connection, const char *base_url)
{
    CURLU *url = curl_url();
    if (url == NULL || curl_url_set(url, CURLUPART_URL, base_url, 0) != CURLUE_OK) {
        curl_url_cleanup(url);
        return -1;
    }
    char *scheme = url_part(url, CURLUPART_SCHEME), *host = url_part(url, CURLUPART_HOST);
    char *port = url_part(url, CURLUPART_PORT), *path = url_part(url, CURLUPART_PATH);
    char *user = url_part(url, CURLUPART_USER), *query = url_part(url, CURLUPART_QUERY);
    int result = -1;
    int https = scheme != NULL && strcmp(scheme, "https") == 0;
    int http = scheme != NULL && strcmp(scheme, "http") == 0;
    if (host == NULL || path == NULL || user != NULL || query != NULL || !(http || https))
        goto cleanup;
    if (http && proxy_environment_forwards_http(host))
        goto cleanup;
    /* Host carries the port only when it is not the scheme's own (as libcurl writes it) */
    int default_port = port == NULL || strcmp(port, https ? "443" : "80") == 0;
    size_t size = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 8;
    connection->origin_url = malloc(size);
    connection->host = malloc(size);
    connection->path_prefix = strdup(path);
    if (connection->origin_url == NULL || connection->host == NULL ||
        connection->path_prefix == NULL)
        goto cleanup;
    snprintf(connection->origin_url, size, "%s://%s%s%s/", scheme, host, port ? ":" : "",
             port ? port : "");
    snprintf(connection->host, size, "%s%s%s", host, default_port ? "" : ":",
             default_port ? "" : port);
    size_t length = strlen(connection->path_prefix);
    while (length > 0 && connection->path_prefix[length - 1] == '/')
        connection->path_prefix[--length] = '\0';
    result = 0;
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(user);
    curl_free(query);
    curl_url_cleanup(url);
    return result;
}

/* The options of every connect; the timeout is set per connect. */
static void set_up_easy(struct http_connection *connection)
{
    CURL *easy = connection->easy;
    curl_easy_setopt(easy, CURLOPT_URL, connection->origin_url);
    curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, connection->curl_error);
}

struct http_connection *http_connection_create(const char *base_url, size_t body_limit)
{
    struct http_connection *connection = calloc(1, sizeof *connection);
    if (connection == NULL)
        return NULL;
    connection->socket = CURL_SOCKET_BAD;
    connection->request.limit = SIZE_MAX;
    http_response_parser_init(&connection->parser, body_limit);
    connection->multi = curl_multi_init();
    connection->easy = curl_easy_init();
    if (connection->multi == NULL || connection->easy == NULL ||
        read_base_url(connection, base_url) != 0) {
        http_connection_destroy(connection);
        return NULL;
    }
    set_up_easy(connection);
    return connection;
}

static void close_connection(struct http_connection *connection)
{
    if (!connection->connected)
        return;
    curl_multi_remove_handle(connection->multi, connection->easy);
    connection->connected = 0;
    connection->reused = 0;
    connection->socket = CURL_SOCKET_BAD;
}

/* The request line holds the path, and the path may hold a token: a
 * block is wiped before it goes back (realloc would not). */
static void wipe_request(struct byte_buffer *request)
{
    if (request->data != NULL) {
        memset(request->data, 0, request->capacity);
        free(request->data);
    }
    request->data = NULL;
    request->capacity = 0;
    request->length = 0;
}

void http_connection_destroy(struct http_connection *connection)
{
    if (connection == NULL)
        return;
    close_connection(connection);
    if (connection->easy != NULL)
        curl_easy_cleanup(connection->easy);
    if (connection->multi != NULL)
        curl_multi_cleanup(connection->multi);
    wipe_request(&connection->request);
    http_response_parser_release(&connection->parser);
    free(connection->origin_url);
    free(connection->host);
    free(connection->path_prefix);
    free(connection);
}

static long remaining_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - monotonic_ms();
    return left > 0 ? (long)left : 0;
}

static void set_timed_out(struct http_exchange *exchange, long timeout_ms)
{
    char text[96];
    snprintf(text, sizeof text, "Operation timed out after %ld milliseconds", timeout_ms);
    set_error(exchange, HTTP_EXCHANGE_TIMED_OUT, text);
}

/* Runs libcurl's connect on the multi handle, so the abort fd can end a
 * slow connect or TLS handshake as it ends the rest of the exchange. */
static CURLcode drive_connect(struct http_connection *connection, int abort_fd, int *aborted)
{
    *aborted = 0;
    int running = 1;
    while (running) {
        if (curl_multi_perform(connection->multi, &running) != CURLM_OK)
            return CURLE_FAILED_INIT;
        if (!running)
            break;
        struct curl_waitfd extra = {.fd = abort_fd, .events = CURL_WAIT_POLLIN};
        int count = 0;
        curl_multi_poll(connection->multi, abort_fd >= 0 ? &extra : NULL, abort_fd >= 0 ? 1 : 0,
                        1000, &count);
        if (abort_fd >= 0 && (extra.revents & CURL_WAIT_POLLIN)) {
            *aborted = 1;
            return CURLE_ABORTED_BY_CALLBACK;
        }
    }
    CURLcode code = CURLE_OK;
    int pending = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(connection->multi, &pending)) != NULL)
        if (message->msg == CURLMSG_DONE)
            code = message->data.result;
    return code;
}

static enum step open_connection(struct http_connection *connection, int64_t deadline_ms,
                                 long timeout_ms, int abort_fd, struct http_exchange *exchange)
{
    long left = remaining_ms(deadline_ms);
    curl_easy_setopt(connection->easy, CURLOPT_TIMEOUT_MS, left > 0 ? left : 1L);
    connection->curl_error[0] = '\0';
    if (curl_multi_add_handle(connection->multi, connection->easy) != CURLM_OK) {
        set_error(exchange, HTTP_EXCHANGE_FAILED, "could not start the connect");
        return STEP_FINAL;
    }
    connection->connected = 1;
    int aborted = 0;
    CURLcode code = drive_connect(connection, abort_fd, &aborted);
    curl_socket_t socket = CURL_SOCKET_BAD;
    if (code == CURLE_OK)
        curl_easy_getinfo(connection->easy, CURLINFO_ACTIVESOCKET, &socket);
    if (code == CURLE_OK && socket != CURL_SOCKET_BAD) {
        connection->socket = socket;
        connection->reused = 0;
        connection->generation++;
        return STEP_OK;
    }
    close_connection(connection);
    if (aborted)
        set_error(exchange, HTTP_EXCHANGE_ABORTED, "stopped");
    else if (code == CURLE_OPERATION_TIMEDOUT)
        set_timed_out(exchange, timeout_ms);
    else
        set_error(exchange, HTTP_EXCHANGE_FAILED,
                  connection->curl_error[0] ? connection->curl_error : curl_easy_strerror(code));
    return STEP_FINAL;
}

/* Until the socket is ready for events: STEP_OK, or STEP_FINAL when the
 * abort fd or the deadline came first (the connection is closed then). */
static enum step wait_for(struct http_connection *connection, short events, int64_t deadline_ms,
                          long timeout_ms, int abort_fd, struct http_exchange *exchange)
{
    struct pollfd fds[2] = {{.fd = connection->socket, .events = events},
                            {.fd = abort_fd, .events = POLLIN}};
    for (;;) {
        long left = remaining_ms(deadline_ms);
        int ready = left > 0 ? poll(fds, abort_fd >= 0 ? 2 : 1, (int)left) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        if (abort_fd >= 0 && (fds[1].revents & POLLIN)) {
            close_connection(connection);
            set_error(exchange, HTTP_EXCHANGE_ABORTED, "stopped");
            return STEP_FINAL;
        }
        if (ready == 0) {
            close_connection(connection);
            set_timed_out(exchange, timeout_ms);
            return STEP_FINAL;
        }
        if (ready < 0) {
            close_connection(connection);
            set_error(exchange, HTTP_EXCHANGE_FAILED, "poll failed");
            return STEP_FINAL;
        }
        /* an error or hang-up shows in the send or receive that follows */
        return STEP_OK;
    }
}

static void failure_text(struct http_connection *connection, const char *what, CURLcode code,
                         struct http_exchange *exchange)
{
    /* libcurl's own text already names the step ("Recv failure: ...") */
    if (connection->curl_error[0] != '\0') {
        set_error(exchange, HTTP_EXCHANGE_FAILED, connection->curl_error);
        return;
    }
    char text[CURL_ERROR_SIZE];
    snprintf(text, sizeof text, "%s: %.200s", what, curl_easy_strerror(code));
    set_error(exchange, HTTP_EXCHANGE_FAILED, text);
}

/* Writes what is left of the request. STEP_AGAIN: the socket is full;
 * STEP_LOST: the connection failed (the text is in exchange). */
static enum step send_some(struct http_connection *connection, struct http_exchange *exchange)
{
    const char *data = connection->request.data;
    size_t length = connection->request.length;
    while (connection->sent < length) {
        size_t sent = 0;
        connection->curl_error[0] = '\0';
        CURLcode code = curl_easy_send(connection->easy, data + connection->sent,
                                       length - connection->sent, &sent);
        if (code == CURLE_AGAIN)
            return STEP_AGAIN;
        if (code != CURLE_OK) {
            failure_text(connection, "Send failure", code, exchange);
            return STEP_LOST;
        }
        connection->sent += sent;
    }
    return STEP_OK;
}

static enum step parse_failed(struct http_connection *connection, struct http_exchange *exchange)
{
    const struct http_response_parser *parser = &connection->parser;
    close_connection(connection);
    if (parser->too_large) {
        set_error(exchange, HTTP_EXCHANGE_TOO_LARGE, "answer too large");
        return STEP_FINAL;
    }
    char text[CURL_ERROR_SIZE];
    snprintf(text, sizeof text, "not an HTTP answer (%s)", parser->error);
    set_error(exchange, HTTP_EXCHANGE_FAILED, text);
    return STEP_FINAL;
}

/* Feeds what has arrived to the parser. STEP_AGAIN: nothing more to read
 * yet; STEP_OK: the answer is whole; STEP_LOST: the connection ended or
 * failed before the answer's first byte. */
static enum step receive_some(struct http_connection *connection, struct http_exchange *exchange)
{
    struct http_response_parser *parser = &connection->parser;
    char buffer[RECEIVE_CHUNK];
    for (;;) {
        size_t count = 0;
        connection->curl_error[0] = '\0';
        CURLcode code = curl_easy_recv(connection->easy, buffer, sizeof buffer, &count);
        /* TLS may hold decrypted bytes the socket no longer shows: read
         * until libcurl says "again" before waiting */
        if (code == CURLE_AGAIN)
            return STEP_AGAIN;
        if (code != CURLE_OK) {
            failure_text(connection, "Recv failure", code, exchange);
            if (connection->received == 0)
                return STEP_LOST;
            close_connection(connection);
            return STEP_FINAL;
        }
        if (count == 0) {
            if (connection->received == 0) {
                set_error(exchange, HTTP_EXCHANGE_FAILED, "Empty reply from server");
                return STEP_LOST;
            }
            if (http_response_parser_end(parser) != HTTP_PARSE_DONE)
                return parse_failed(connection, exchange);
            parser->keep_alive = 0;
            return STEP_OK;
        }
        connection->received += count;
        size_t used = 0;
        enum http_parse_result parsed = http_response_parser_feed(parser, buffer, count, &used);
        if (parsed == HTTP_PARSE_ERROR)
            return parse_failed(connection, exchange);
        if (parsed == HTTP_PARSE_DONE) {
            /* bytes past the answer (or maybe some, when the read filled
             * the buffer) would be read as the next answer: start afresh */
            if (used < count || count == sizeof buffer)
                parser->keep_alive = 0;
            return STEP_OK;
        }
    }
}

static int append_text(struct byte_buffer *buffer, const char *text)
{
    return byte_buffer_append(buffer, text, strlen(text));
}

/* Room for needed bytes and the NUL, so the appends never reallocate. */
static int reserve_request(struct byte_buffer *request, size_t needed)
{
    if (needed < request->capacity && request->capacity <= KEPT_BODY_CAPACITY)
        return 0;
    size_t capacity = 1024;
    while (capacity <= needed)
        capacity *= 2;
    char *block = malloc(capacity);
    if (block == NULL)
        return -1;
    wipe_request(request);
    request->data = block;
    request->capacity = capacity;
    return 0;
}

/* Head and body in one buffer, so a small request is one write. */
static int build_request(struct http_connection *connection, const char *path,
                         const char *content_type, const char *body, size_t length)
{
    struct byte_buffer *request = &connection->request;
    char content_length[TEXT_INT64_MAX];
    text_int64(content_length, (int64_t)length); /* a body is far below 2^63 bytes */
    /* the fixed words of the head below are well under 128 bytes */
    size_t needed = strlen(connection->path_prefix) + strlen(path) + strlen(connection->host) +
                    strlen(content_type) + strlen(content_length) + 128 + length;
    if (needed < length || reserve_request(request, needed) != 0)
        return -1;
    request->length = 0;
    int failed = append_text(request, "POST ") || append_text(request, connection->path_prefix) ||
                 append_text(request, path) || append_text(request, " HTTP/1.1\r\nHost: ") ||
                 append_text(request, connection->host) ||
                 append_text(request, "\r\nUser-Agent: jarvis/1\r\nContent-Type: ") ||
                 append_text(request, content_type) ||
                 append_text(request, "\r\nContent-Length: ") ||
                 append_text(request, content_length) || append_text(request, "\r\n\r\n") ||
                 byte_buffer_append(request, body, length);
    return failed ? -1 : 0;
}

static void prepare_parser(struct http_connection *connection)
{
    struct byte_buffer *body = &connection->parser.body;
    if (body->capacity > KEPT_BODY_CAPACITY) {
        free(body->data);
        body->data = NULL;
        body->capacity = 0;
    }
    http_response_parser_reset(&connection->parser);
}

static void take_answer(struct http_connection *connection, struct http_exchange *exchange)
{
    const struct http_response_parser *parser = &connection->parser;
    exchange->outcome = HTTP_EXCHANGE_OK;
    exchange->status = parser->status;
    exchange->body = parser->body.data != NULL ? parser->body.data : "";
    exchange->body_length = parser->body.length;
    exchange->retry_after_s = parser->retry_after_s;
    if (parser->keep_alive)
        connection->reused = 1;
    else
        close_connection(connection);
}

static void reset_exchange(struct http_exchange *exchange)
{
    memset(exchange, 0, sizeof *exchange);
    exchange->retry_after_s = -1;
}

/* Runs the exchange until it would block or ends. A connect (at the
 * first exchange, or after the server closed the connection) waits,
 * bounded by the deadline and abort_fd. */
static enum http_progress advance(struct http_connection *connection, int abort_fd,
                                  struct http_exchange *exchange)
{
    for (;;) {
        enum step step = STEP_OK;
        if (connection->phase == PHASE_OPENING) {
            if (!connection->connected &&
                open_connection(connection, connection->deadline_ms, connection->timeout_ms,
                                abort_fd, exchange) != STEP_OK)
                break;
            connection->was_reused = connection->reused;
            prepare_parser(connection);
            connection->sent = 0;
            connection->received = 0;
            connection->phase = PHASE_SENDING;
        }
        if (connection->phase == PHASE_SENDING) {
            step = send_some(connection, exchange);
            if (step == STEP_AGAIN)
                return HTTP_WANT_WRITE;
            if (step == STEP_OK) {
                /* nothing can be waiting right after the request: wait first */
                connection->phase = PHASE_RECEIVING;
                return HTTP_WANT_READ;
            }
        } else {
            step = receive_some(connection, exchange);
            if (step == STEP_AGAIN)
                return HTTP_WANT_READ;
            if (step == STEP_OK) {
                take_answer(connection, exchange);
                break;
            }
        }
        /* sent once more only when a kept-alive connection proved closed
         * before any byte of the answer (the server may have dropped it
         * idle as the request left); the failure is in exchange otherwise */
        int resend = step == STEP_LOST && connection->was_reused && connection->attempt == 0;
        if (step == STEP_LOST)
            close_connection(connection);
        if (!resend)
            break;
        connection->attempt++;
        reset_exchange(exchange);
        connection->phase = PHASE_OPENING;
    }
    connection->phase = PHASE_IDLE;
    return HTTP_DONE;
}

enum http_progress http_connection_start(struct http_connection *connection, const char *path,
                                         const char *content_type, const char *body, size_t length,
                                         long timeout_s, int abort_fd,
                                         struct http_exchange *exchange)
{
    reset_exchange(exchange);
    connection->timeout_ms = timeout_s * 1000;
    connection->deadline_ms = monotonic_ms() + connection->timeout_ms;
    connection->attempt = 0;
    connection->phase = PHASE_IDLE;
    if (build_request(connection, path, content_type, body, length) != 0) {
        set_error(exchange, HTTP_EXCHANGE_FAILED, "out of memory building the request");
        return HTTP_DONE;
    }
    connection->phase = PHASE_OPENING;
    return advance(connection, abort_fd, exchange);
}

enum http_progress http_connection_resume(struct http_connection *connection, int abort_fd,
                                          struct http_exchange *exchange)
{
    if (connection->phase == PHASE_IDLE)
        return HTTP_DONE;
    return advance(connection, abort_fd, exchange);
}

void http_connection_give_up(struct http_connection *connection, struct http_exchange *exchange)
{
    close_connection(connection);
    connection->phase = PHASE_IDLE;
    set_timed_out(exchange, connection->timeout_ms);
}

int http_connection_connected(const struct http_connection *connection)
{
    return connection->connected;
}

void http_connection_connect(struct http_connection *connection, long timeout_s, int abort_fd,
                             struct http_exchange *exchange)
{
    reset_exchange(exchange);
    exchange->outcome = HTTP_EXCHANGE_OK;
    if (connection->connected)
        return;
    long timeout_ms = timeout_s * 1000;
    open_connection(connection, monotonic_ms() + timeout_ms, timeout_ms, abort_fd, exchange);
}

void http_connection_drop(struct http_connection *connection)
{
    if (connection->phase == PHASE_IDLE)
        close_connection(connection);
}

int http_connection_socket(const struct http_connection *connection, unsigned long *generation)
{
    *generation = connection->generation;
    return connection->connected ? (int)connection->socket : -1;
}

int64_t http_connection_deadline_ms(const struct http_connection *connection)
{
    return connection->deadline_ms;
}

void http_connection_post(struct http_connection *connection, const char *path,
                          const char *content_type, const char *body, size_t length, long timeout_s,
                          int abort_fd, struct http_exchange *exchange)
{
    enum http_progress progress = http_connection_start(connection, path, content_type, body,
                                                        length, timeout_s, abort_fd, exchange);
    while (progress != HTTP_DONE) {
        short events = progress == HTTP_WANT_WRITE ? POLLOUT : POLLIN;
        if (wait_for(connection, events, connection->deadline_ms, connection->timeout_ms, abort_fd,
                     exchange) != STEP_OK) {
            connection->phase = PHASE_IDLE;
            return;
        }
        progress = http_connection_resume(connection, abort_fd, exchange);
    }
}
