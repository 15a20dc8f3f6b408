/* The host's shared context: the pieces main wires together, reachable from
 * the plugin API implementation and the transports. One per process. */
#ifndef JARVIS_HOST_H
#define JARVIS_HOST_H

#include <stdint.h>

struct config;
struct store;
struct registry;
struct dispatch;
struct transport;
struct jv_message;

struct host {
    struct config *config;
    struct store *store;       /* NULL in `jarvis check` */
    struct registry *registry;
    struct dispatch *dispatch;
    struct transport *transport; /* set once the transport is chosen */
};

/* Sends through the current transport; long texts are split by it.
 * Returns 0, or a negative JV_E_* (no transport yet: JV_E_STATE). */
int host_send(struct host *host, int64_t chat_id, const char *text);
/* Like host_send, into a forum topic (thread_id 0: none). A transport
 * without topics sends it as a plain message. */
int host_send_to_thread(struct host *host, int64_t chat_id, int64_t thread_id,
                        const char *text);
/* Answers message where it came from: its chat and, while the dispatcher is
 * handling it, its forum topic. */
int host_reply(struct host *host, const struct jv_message *message, const char *text);

#endif
