/* [bot] mode = webhook: the Telegram transport's run() when updates come
 * by POST instead of getUpdates. Serves [webhook] listen, tells Telegram
 * with setWebhook, and commits each update to the inbox (once per
 * update_id, whatever Telegram retries) before answering 200. */
#ifndef JARVIS_WEBHOOK_INGRESS_H
#define JARVIS_WEBHOOK_INGRESS_H

#include <stdint.h>

struct backoff;
struct host;
struct pipeline;
struct telegram_api;

struct webhook_ingress {
    struct host *host;
    struct telegram_api *api;  /* for setWebhook */
    struct pipeline *pipeline; /* recovered here, before the first POST is taken */
    int64_t bot_user_id;
    struct backoff *backoff;
};

/* Until a stop is requested: 0, or an exit code after one clear log line
 * (78 Telegram refused the webhook or the token, 69 the instance lock was
 * lost, 1 the listener or the secret could not be set up). */
int webhook_ingress_run(const struct webhook_ingress *ingress);

#endif
