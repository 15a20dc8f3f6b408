/* Report subscriptions in the KV store (see subscriptions.h). */
#include "subscriptions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX "sub/"

static void chat_key(char *key, size_t size, int64_t chat_id)
{
    snprintf(key, size, KEY_PREFIX "%" PRId64, chat_id);
}

int sentiment_subscribe(const jv_host_api *api, jv_plugin *self, int64_t chat_id)
{
    char key[48];
    chat_key(key, sizeof key, chat_id);
    char *value = NULL;
    size_t length = 0;
    int found = api->kv_get(self, key, &value, &length);
    if (found == JV_OK) {
        api->free(value);
        return 0;
    }
    if (found != JV_E_NOTFOUND)
        return found;
    char since[32];
    int written = snprintf(since, sizeof since, "%" PRId64, api->now_ms());
    int result = api->kv_set(self, key, since, (size_t)written);
    return result == JV_OK ? 1 : result;
}

int sentiment_unsubscribe(const jv_host_api *api, jv_plugin *self, int64_t chat_id)
{
    char key[48];
    chat_key(key, sizeof key, chat_id);
    int result = api->kv_delete(self, key);
    if (result == JV_OK)
        return 1;
    return result == JV_E_NOTFOUND ? 0 : result;
}

typedef struct chat_list {
    int64_t *chats;
    size_t count;
    size_t capacity;
    int out_of_memory;
} chat_list;

static int parse_chat_id(const char *text, int64_t *chat_id)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0)
        return -1;
    *chat_id = value;
    return 0;
}

static int visit_subscription(const char *key, const void *value, size_t length, void *data)
{
    (void)value;
    (void)length;
    chat_list *list = data;
    int64_t chat_id = 0;
    if (parse_chat_id(key + strlen(KEY_PREFIX), &chat_id) != 0)
        return 0; /* not one of ours */
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        int64_t *chats = realloc(list->chats, capacity * sizeof *chats);
        if (chats == NULL) {
            list->out_of_memory = 1;
            return 1;
        }
        list->chats = chats;
        list->capacity = capacity;
    }
    list->chats[list->count++] = chat_id;
    return 0;
}

int sentiment_subscribed_chats(const jv_host_api *api, jv_plugin *self, int64_t **chats,
                               size_t *count)
{
    chat_list list = {0};
    int result = api->kv_list(self, KEY_PREFIX, visit_subscription, &list);
    if (result == JV_OK && list.out_of_memory)
        result = JV_E_NOMEM;
    if (result != JV_OK) {
        free(list.chats);
        return result;
    }
    *chats = list.chats;
    *count = list.count;
    return JV_OK;
}
