/* Chats subscribed to the periodic report, persisted in the KV store as
 * "sub/<chat id>" so they survive restarts. */
#ifndef SENTIMENT_SUBSCRIPTIONS_H
#define SENTIMENT_SUBSCRIPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

/* 1 added, 0 was already subscribed, or a negative JV_E_*. */
int sentiment_subscribe(const jv_host_api *api, jv_plugin *self, int64_t chat_id);
/* 1 removed, 0 was not subscribed, or a negative JV_E_*. */
int sentiment_unsubscribe(const jv_host_api *api, jv_plugin *self, int64_t chat_id);
/* Fills chats (malloc'd, free with free()) with every subscribed chat.
 * JV_OK or a negative JV_E_*. */
int sentiment_subscribed_chats(const jv_host_api *api, jv_plugin *self, int64_t **chats,
                               size_t *count);

#endif
