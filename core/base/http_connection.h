/* A kept-alive HTTP/1.1 connection that POSTs without libcurl's transfer
 * machinery: libcurl connects (DNS, TCP, TLS, a proxy tunnel) in CONNECT_ONLY
 * mode, the request is written and the answer read here. One thread at a time. */
#ifndef JARVIS_HTTP_CONNECTION_H
#define JARVIS_HTTP_CONNECTION_H

#include <stddef.h>

#include <curl/curl.h>

struct http_connection;

enum http_exchange_outcome {
    HTTP_EXCHANGE_OK,        /* an answer arrived, whatever its status */
    HTTP_EXCHANGE_ABORTED,   /* abort_fd became readable */
    HTTP_EXCHANGE_TIMED_OUT, /* the whole-request limit passed */
    HTTP_EXCHANGE_TOO_LARGE, /* the body would pass the limit */
    HTTP_EXCHANGE_FAILED     /* connect, send or receive failed, or the answer was not HTTP */
};

struct http_exchange {
    enum http_exchange_outcome outcome;
    long status;
    const char *body; /* HTTP_EXCHANGE_OK: NUL-terminated, valid until the next post */
    size_t body_length;
    long retry_after_s;          /* Retry-After in seconds, -1 when absent */
    char error[CURL_ERROR_SIZE]; /* not OK: one line; never the path */
};

/* base_url: scheme, host, optional port and path ("https://api.telegram.org").
 * NULL when it is one this cannot serve by hand (not http or https, user
 * info or a query in it, an HTTP proxy from the environment for an http://
 * URL) or out of memory: the caller then uses a libcurl transfer. */
struct http_connection *http_connection_create(const char *base_url, size_t body_limit);
void http_connection_destroy(struct http_connection *connection);

/* POSTs body to the base URL's path followed by path. The whole exchange,
 * a connect included, ends within timeout_s; it ends ABORTED as soon as
 * abort_fd (when >= 0) is readable. A kept-alive connection the server had
 * closed before answering is opened anew and the request sent once more. */
void http_connection_post(struct http_connection *connection, const char *path,
                          const char *content_type, const char *body, size_t length, long timeout_s,
                          int abort_fd, struct http_exchange *exchange);

#endif
