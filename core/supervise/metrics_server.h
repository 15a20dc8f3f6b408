/* GET /metrics over HTTP (libmicrohttpd, its own thread): the registry in
 * the Prometheus text format, for [metrics] listen. */
#ifndef JARVIS_METRICS_SERVER_H
#define JARVIS_METRICS_SERVER_H

struct metrics_server;
struct listen_address;

/* Called on the server's thread before each scrape renders, so gauges that
 * are read rather than pushed (queue depths) are current. */
typedef void (*metrics_refresh_fn)(void *context);

/* NULL (logged in one line) when the address cannot be bound. */
struct metrics_server *metrics_server_start(const struct listen_address *address,
                                            const char *listen_text, metrics_refresh_fn refresh,
                                            void *context);
void metrics_server_stop(struct metrics_server *server);

#endif
