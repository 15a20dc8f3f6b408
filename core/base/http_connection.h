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

/* The same exchange without waiting for the server, for a caller that
 * waits for many connections at once: start returns HTTP_DONE when it
 * ended already (exchange says how), else what the socket must become
 * ready for; the caller waits for that (http_connection_socket) and calls
 * resume, until HTTP_DONE. A connect still waits (it is rare: the first
 * exchange, or one after the server closed the connection), bounded by
 * timeout_s and abort_fd. Past http_connection_deadline_ms the caller
 * ends it with give_up (timed out; a stop ends it by destroying it). The answer's body is valid until the
 * next start. */
enum http_progress { HTTP_WANT_READ, HTTP_WANT_WRITE, HTTP_DONE };
enum http_progress http_connection_start(struct http_connection *connection, const char *path,
                                         const char *content_type, const char *body, size_t length,
                                         long timeout_s, int abort_fd,
                                         struct http_exchange *exchange);
enum http_progress http_connection_resume(struct http_connection *connection, int abort_fd,
                                          struct http_exchange *exchange);
void http_connection_give_up(struct http_connection *connection, struct http_exchange *exchange);
/* The socket (-1 when not connected) and how many connects the connection
 * made so far: a socket of a later connect may have the same number. */
int http_connection_socket(const struct http_connection *connection, unsigned long *generation);
int64_t http_connection_deadline_ms(const struct http_connection *connection);
/* Connects now (when not connected yet), so that a later start need not
 * wait; exchange->outcome says whether it worked (OK: connected). For a
 * thread that connects while another drives the exchanges, one at a time. */
void http_connection_connect(struct http_connection *connection, long timeout_s, int abort_fd,
                             struct http_exchange *exchange);
int http_connection_connected(const struct http_connection *connection);
/* Closes an idle connection (a kept-alive one that turned readable between
 * exchanges: the server closed it, or sent what nobody asked for). */
void http_connection_drop(struct http_connection *connection);

#endif
