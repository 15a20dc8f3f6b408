/* The webhook listener (libmicrohttpd, its own threads): POSTs of Telegram
 * updates on one path, the secret header checked before the body is read,
 * the body decoded as one update and handed to accept; answers 200 only
 * once accept says the update is committed (or was before). */
#ifndef JARVIS_WEBHOOK_SERVER_H
#define JARVIS_WEBHOOK_SERVER_H

#include <stdint.h>

#include "dispatch/incoming_message.h"

struct listen_address;
struct webhook_server;

/* 0 committed to the inbox, 1 taken before (a retry), -1 the store failed
 * (answered 500 so that Telegram retries). Runs on the server's threads. */
typedef int (*webhook_accept_fn)(void *context, const struct incoming_message *message);

struct webhook_server_settings {
    const struct listen_address *address;
    const char *listen_text;  /* for log lines */
    const char *path;         /* the one path served */
    const char *secret;       /* borrowed until webhook_server_stop */
    unsigned int connections; /* concurrent connections allowed */
    int64_t bot_user_id;      /* for replies to the bot */
    unsigned parse_flags;     /* telegram_parse_update_with's */
    webhook_accept_fn accept;
    void *context;
};

/* NULL (logged in one line) when the address cannot be bound. */
struct webhook_server *webhook_server_start(const struct webhook_server_settings *settings);
/* Stops accepting; requests in flight finish first. */
void webhook_server_stop(struct webhook_server *server);

#endif
