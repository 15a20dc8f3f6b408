/* The host's shared context: the pieces main wires together, reachable from
 * the plugin API implementation and the transports. One per process; it is
 * reached through each plugin's record, never through a global. */
#ifndef JARVIS_HOST_H
#define JARVIS_HOST_H

#include <stdint.h>

struct config;
struct store;
struct registry;
struct dispatch;
struct transport;
struct pipeline;
struct instance_lock;

struct host {
    struct config *config;
    struct store *store; /* NULL in `jarvis check` */
    struct registry *registry;
    struct dispatch *dispatch;
    struct transport *transport; /* set once the transport is chosen */
    struct pipeline *pipeline;   /* the transport's, once it started */
    struct instance_lock *lock;  /* held by `jarvis run`; NULL elsewhere */
};

#endif
