/* Messages that answer no update (plugins' send_message, jobs, reports):
 * into the running transport's pipeline like replies. */
#ifndef JARVIS_HOST_SEND_H
#define JARVIS_HOST_SEND_H

#include <stdint.h>

struct host;

/* Into the outbox at once, sent by the transport. JV_OK, or a negative
 * JV_E_* (no transport running yet: JV_E_STATE). */
int host_send(struct host *host, int64_t chat_id, const char *text);

#endif
