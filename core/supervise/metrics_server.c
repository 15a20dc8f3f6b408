/* The /metrics endpoint. Only GET and HEAD of /metrics are answered; the
 * connection count and idle time are capped so a stuck scraper cannot hold
 * the thread. Started with the stop signals blocked, so they keep landing
 * on the main thread. */
#include "supervise/metrics_server.h"

#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/lifecycle.h"
#include "base/listen_address.h"
#include "base/log.h"
#include "base/metrics.h"

#define CONNECTION_LIMIT 16
#define CONNECTION_TIMEOUT_S 10
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_server {
    struct MHD_Daemon *daemon;
    metrics_refresh_fn refresh;
    void *context;
};

static enum MHD_Result answer_text(struct MHD_Connection *connection, unsigned int status,
                                   const char *text, const char *allow)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

static enum MHD_Result answer_metrics(struct metrics_server *server,
                                      struct MHD_Connection *connection)
{
    if (server->refresh != NULL)
        server->refresh(server->context);
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    if (out == NULL)
        return answer_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
    int rendered = metrics_render(out);
    if (fclose(out) != 0 || rendered != 0) {
        free(text);
        return answer_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer(length, text, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    enum MHD_Result queued = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return queued;
}

static enum MHD_Result handle_request(void *context, struct MHD_Connection *connection,
                                      const char *url, const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **request_context)
{
    (void)version;
    (void)upload_data;
    static int first_call_marker;
    /* The first call only announces the request; a body, if any, follows. */
    if (*request_context == NULL) {
        *request_context = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* ignored: no endpoint takes a body */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return answer_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n",
                           "GET, HEAD");
    if (strcmp(url, "/metrics") != 0)
        return answer_text(connection, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n", NULL);
    return answer_metrics(context, connection);
}

static void log_from_library(void *context, const char *format, va_list args)
{
    (void)context;
    char message[512];
    vsnprintf(message, sizeof message, format, args);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r'))
        message[--length] = '\0';
    log_warn("metrics server: %s", message);
}

struct metrics_server *metrics_server_start(const struct listen_address *address,
                                            const char *listen_text, metrics_refresh_fn refresh,
                                            void *context)
{
    struct metrics_server *server = calloc(1, sizeof *server);
    if (server == NULL)
        return NULL;
    server->refresh = refresh;
    server->context = context;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (address->family == AF_INET6)
        flags |= MHD_USE_IPv6;
    sigset_t previous;
    lifecycle_block_signals(&previous);
    /* the logger first: the library's complaints about later options reach our log */
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle_request, server, MHD_OPTION_EXTERNAL_LOGGER, log_from_library,
        NULL, MHD_OPTION_SOCK_ADDR, &address->address, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    lifecycle_restore_signals(&previous);
    if (server->daemon == NULL) {
        log_error("metrics: cannot serve on %s (address in use or not available); running "
                  "without metrics",
                  listen_text);
        free(server);
        return NULL;
    }
    log_info("metrics: serving http://%s/metrics", listen_text);
    return server;
}

void metrics_server_stop(struct metrics_server *server)
{
    if (server == NULL)
        return;
    MHD_stop_daemon(server->daemon);
    free(server);
}
