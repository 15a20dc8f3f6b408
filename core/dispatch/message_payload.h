/* The inbox's copy of a message: an incoming_message as a small JSON object,
 * the same for every transport, so a restart hands the dispatcher exactly
 * what the transport had handed it. */
#ifndef JARVIS_MESSAGE_PAYLOAD_H
#define JARVIS_MESSAGE_PAYLOAD_H

#include <stddef.h>

#include "dispatch/incoming_message.h"

/* malloc'd JSON text, or NULL when out of memory. */
char *message_payload_encode(const struct incoming_message *message);
/* Fills message from payload; its strings point into *holder, which the
 * caller frees with message_payload_free. 0, or -1 for a payload that does
 * not decode (problem says why). */
int message_payload_decode(const char *payload, struct incoming_message *message, void **holder,
                           char *problem, size_t problem_size);
void message_payload_free(void *holder);

#endif
