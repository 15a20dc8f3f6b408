/* The webhook listener: one MHD daemon with a small thread pool. Each
 * request gets a context on its first call (the verdict of its request
 * line and secret); a refused request is answered at once, so an unknown
 * sender can make us buffer nothing. Started with the stop signals
 * blocked, so they keep landing on the main thread. */
#include "transport/telegram/webhook_server.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "base/lifecycle.h"
#include "base/listen_address.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/test_hooks.h"
#include "transport/telegram/webhook_request.h"

#define THREAD_POOL_SIZE 4
#define CONNECTION_TIMEOUT_S 30

struct webhook_server {
    struct MHD_Daemon *daemon;
    struct webhook_server_settings settings;
    char *path;
};

struct request {
    enum webhook_verdict verdict; /* of the request line and secret */
    char *body;
    size_t length;
    int answered; /* a response is queued: later calls only drop data */
    int answered_ok;
};

static enum MHD_Result answer(struct MHD_Connection *connection, enum webhook_verdict verdict,
                              unsigned int status, const char *text)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (verdict == WEBHOOK_WRONG_METHOD)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "POST");
    enum MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

static enum MHD_Result refuse(struct MHD_Connection *connection, enum webhook_verdict verdict,
                              const char *method, const char *url)
{
    char quoted_path[CONFIG_QUOTE_MAX], quoted_method[16];
    config_quote(url, quoted_path, sizeof quoted_path);
    config_quote(method, quoted_method, sizeof quoted_method);
    unsigned int status = webhook_verdict_status(verdict);
    switch (verdict) {
        case WEBHOOK_NO_SECRET:
            log_warn("webhook: %s %s refused (%u): no " WEBHOOK_SECRET_HEADER " header",
                     quoted_method, quoted_path, status);
            return answer(connection, verdict, status, "unauthorized\n");
        case WEBHOOK_WRONG_SECRET:
            log_warn("webhook: %s %s refused (%u): wrong " WEBHOOK_SECRET_HEADER, quoted_method,
                     quoted_path, status);
            return answer(connection, verdict, status, "forbidden\n");
        case WEBHOOK_WRONG_METHOD:
            log_debug("webhook: %s %s refused (%u): only POST", quoted_method, quoted_path, status);
            return answer(connection, verdict, status, "only POST\n");
        default:
            log_debug("webhook: %s %s refused (%u): not the webhook path", quoted_method,
                      quoted_path, status);
            return answer(connection, verdict, status, "not found\n");
    }
}

/* The body is complete: decode, accept, answer. */
static enum MHD_Result finish(struct webhook_server *server, struct MHD_Connection *connection,
                              struct request *request)
{
    const struct webhook_server_settings *settings = &server->settings;
    struct webhook_update update;
    enum webhook_verdict verdict = webhook_request_decode(
        request->body, request->length, settings->bot_user_id, settings->parse_flags, &update);
    enum MHD_Result result;
    if (verdict == WEBHOOK_MALFORMED) {
        metrics_count(METRIC_UPDATES, "bad", NULL);
        log_warn("webhook: a POST of %zu bytes refused (400): %s", request->length,
                 update.parsed.problem);
        result = answer(connection, verdict, 400, "not one Telegram update\n");
    } else if (verdict == WEBHOOK_SKIP) {
        metrics_count(METRIC_UPDATES, update.parsed.kind == UPDATE_BAD ? "bad" : "skipped", NULL);
        if (update.parsed.kind == UPDATE_BAD)
            log_warn("webhook: update %" PRId64 " skipped: %s", update.parsed.update_id,
                     update.parsed.problem);
        else
            log_debug("webhook: update %" PRId64 " is %s; ignored", update.parsed.update_id,
                      update.parsed.ignored_kind);
        request->answered_ok = 1;
        result = answer(connection, verdict, 200, "");
    } else {
        int accepted = settings->accept(settings->context, &update.parsed.message);
        if (accepted < 0) {
            log_error("webhook: update %" PRId64 " not taken: the state store failed; answered "
                      "500 so that Telegram sends it again",
                      update.parsed.update_id);
            result = answer(connection, verdict, 500, "state store failed\n");
        } else {
            if (accepted == 1)
                log_info("webhook: update %" PRId64 " was taken before; answered 200 without "
                         "handling it again",
                         update.parsed.update_id);
            request->answered_ok = 1;
            result = answer(connection, verdict, 200, "");
        }
    }
    webhook_update_release(&update);
    return result;
}

/* Returns 0, or -1 when the body went over the limit (nothing kept). */
static int append_body(struct request *request, const char *data, size_t size)
{
    if (request->length + size > WEBHOOK_BODY_LIMIT) {
        free(request->body);
        request->body = NULL;
        request->verdict = WEBHOOK_TOO_LARGE;
        return -1;
    }
    char *grown = realloc(request->body, request->length + size + 1);
    if (grown == NULL)
        return -1;
    memcpy(grown + request->length, data, size);
    request->body = grown;
    request->length += size;
    request->body[request->length] = '\0';
    return 0;
}

static int declared_too_large(struct MHD_Connection *connection)
{
    const char *length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return length != NULL && strtoull(length, NULL, 10) > WEBHOOK_BODY_LIMIT;
}

static enum MHD_Result too_large(struct MHD_Connection *connection, struct request *request)
{
    request->answered = 1;
    request->verdict = WEBHOOK_TOO_LARGE;
    log_warn("webhook: a POST refused (413): the body is over %d bytes", WEBHOOK_BODY_LIMIT);
    metrics_count(METRIC_UPDATES, "bad", NULL);
    return answer(connection, WEBHOOK_TOO_LARGE, 413, "body too large\n");
}

/* The first call has the request line and headers only: a refusal is
 * answered then, before any body is read. */
static enum MHD_Result start_request(struct webhook_server *server,
                                     struct MHD_Connection *connection, const char *url,
                                     const char *method, void **request_context)
{
    struct request *request = calloc(1, sizeof *request);
    if (request == NULL)
        return MHD_NO;
    *request_context = request;
    const char *secret =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, WEBHOOK_SECRET_HEADER);
    request->verdict =
        webhook_request_check(method, url, secret, server->path, server->settings.secret);
    if (request->verdict != WEBHOOK_TAKE) {
        request->answered = 1;
        return refuse(connection, request->verdict, method, url);
    }
    if (declared_too_large(connection))
        return too_large(connection, request);
    return MHD_YES;
}

static enum MHD_Result handle_request(void *context, struct MHD_Connection *connection,
                                      const char *url, const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **request_context)
{
    (void)version;
    struct webhook_server *server = context;
    struct request *request = *request_context;
    if (request == NULL)
        return start_request(server, connection, url, method, request_context);
    if (*upload_data_size != 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0; /* taken, or dropped once the answer is known */
        if (request->answered || request->verdict == WEBHOOK_TOO_LARGE)
            return MHD_YES;
        return append_body(request, upload_data, size) == 0 || request->verdict == WEBHOOK_TOO_LARGE
                   ? MHD_YES
                   : MHD_NO; /* out of memory: drop the connection, Telegram retries */
    }
    if (request->answered)
        return MHD_YES;
    if (request->verdict == WEBHOOK_TOO_LARGE)
        return too_large(connection, request);
    request->answered = 1;
    return finish(server, connection, request);
}

/* A kill right after a 200 went out is what the durability test needs. */
static void request_completed(void *context, struct MHD_Connection *connection,
                              void **request_context, enum MHD_RequestTerminationCode code)
{
    (void)context;
    (void)connection;
    struct request *request = *request_context;
    if (request == NULL)
        return;
    if (request->answered_ok && code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        test_hook_reached("webhook-after-answer");
    free(request->body);
    free(request);
    *request_context = NULL;
}

static void log_from_library(void *context, const char *format, va_list args)
{
    (void)context;
    char message[512];
    vsnprintf(message, sizeof message, format, args);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r'))
        message[--length] = '\0';
    log_warn("webhook server: %s", message);
}

struct webhook_server *webhook_server_start(const struct webhook_server_settings *settings)
{
    struct webhook_server *server = calloc(1, sizeof *server);
    if (server == NULL)
        return NULL;
    server->settings = *settings;
    server->path = strdup(settings->path);
    if (server->path == NULL) {
        free(server);
        return NULL;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (settings->address->family == AF_INET6)
        flags |= MHD_USE_IPv6;
    sigset_t previous;
    lifecycle_block_signals(&previous);
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle_request, server, MHD_OPTION_EXTERNAL_LOGGER, log_from_library,
        NULL, MHD_OPTION_SOCK_ADDR, &settings->address->address, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)THREAD_POOL_SIZE, MHD_OPTION_CONNECTION_LIMIT, settings->connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL, MHD_OPTION_END);
    lifecycle_restore_signals(&previous);
    if (server->daemon == NULL) {
        log_error("webhook: cannot listen on %s (address in use or not available)",
                  settings->listen_text);
        free(server->path);
        free(server);
        return NULL;
    }
    log_info("webhook: listening on http://%s%s", settings->listen_text, server->path);
    return server;
}

void webhook_server_stop(struct webhook_server *server)
{
    if (server == NULL)
        return;
    MHD_stop_daemon(server->daemon);
    free(server->path);
    free(server);
}
