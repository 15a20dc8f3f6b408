/* The seam between the host and where messages come from: console (stdin /
 * stdout) or Telegram. main picks one; both feed the same pipeline
 * (pipeline.h), so messages take the same inbox / outbox path. */
#ifndef JARVIS_TRANSPORT_H
#define JARVIS_TRANSPORT_H

#include <stdint.h>

struct config;
struct host;

struct transport {
    const char *name; /* "console", "telegram" */
    void *state;
    /* Optional, NULL for none. Runs right after the lock and the store,
     * before the plugins load: a new holder fetches what waits for it at
     * once, into the inbox, so a takeover costs one round trip. Never
     * fails: whatever goes wrong here, run() meets again and handles. */
    void (*prefetch)(struct transport *transport, struct host *host);
    /* Prepares and sets host->pipeline to the transport's pipeline (whose
     * delivery is this medium). 0, or an exit code (78 bad token / config)
     * after logging one clear line. */
    int (*start)(struct transport *transport, struct host *host);
    /* Recovers the pipeline, then feeds messages into it until a stop is
     * requested or input ends; drains in-flight work (bounded) before
     * returning. Returns an exit code. */
    int (*run)(struct transport *transport, struct host *host);
    /* Optional. A reload is about to adopt a re-read configuration: what
     * the transport added to the running one at start goes in again. */
    void (*adjust_config)(struct transport *transport, struct config *config);
    /* The bot's username for /cmd@name ("" in console mode). */
    const char *(*bot_username)(struct transport *transport);
    /* Also destroys the pipeline (host->pipeline is cleared). */
    void (*destroy)(struct transport *transport);
};

#endif
