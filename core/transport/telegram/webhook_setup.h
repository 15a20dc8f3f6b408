/* Telling Telegram where updates go: setWebhook with the public URL, the
 * secret_token, allowed_updates and max_connections, and deleteWebhook
 * when a later run polls again. The store remembers that a webhook was set
 * (before setWebhook, so a death in between cannot leave one unknown). */
#ifndef JARVIS_WEBHOOK_SETUP_H
#define JARVIS_WEBHOOK_SETUP_H

#include "transport/telegram/telegram_api.h"

struct config;
struct store;

/* 1 when a run in webhook mode set a webhook that was not deleted since. */
int webhook_setup_marked(struct store *store);

/* setWebhook; result as telegram_api_call fills it (release it after).
 * The mark is written first; TELEGRAM_OK means Telegram delivers there. */
void webhook_setup_set(struct telegram_api *api, struct store *store, const struct config *config,
                       const char *secret, struct telegram_result *result);

/* deleteWebhook, pending updates kept (getUpdates hands them over); the
 * mark is removed once Telegram confirms. */
void webhook_setup_delete(struct telegram_api *api, struct store *store,
                          struct telegram_result *result);

#endif
