/* The Telegram transport: long polling with getUpdates into the pipeline,
 * replies through the sender. */
#ifndef JARVIS_TELEGRAM_H
#define JARVIS_TELEGRAM_H

#include <stddef.h>
#include <stdint.h>

struct transport;

struct transport *telegram_transport_create(void);

#endif
