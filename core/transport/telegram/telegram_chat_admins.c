/* getChatMember behind a small cache: one connection for every worker
 * (lookups are rare and cached, so they take turns), answers kept
 * CACHE_TTL_MS, the oldest entry replaced when the table is full. */
#include "transport/telegram/telegram_chat_admins.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"
#include "transport/telegram/telegram_api.h"

/* Long enough that a burst of commands costs one call, short enough that a
 * demoted admin loses the right within a minute. */
#define CACHE_TTL_MS 60000
#define CACHE_SLOTS 256
#define LOOKUP_TIMEOUT_S 5

struct cached_answer {
    int64_t chat_id;
    int64_t user_id;
    int64_t expires_ms; /* 0: a free slot */
    int is_admin;
};

struct telegram_chat_admins {
    pthread_mutex_t lock; /* the cache and the connection */
    struct telegram_api *api;
    struct cached_answer cache[CACHE_SLOTS];
};

struct telegram_chat_admins *telegram_chat_admins_create(const char *api_base, const char *token)
{
    struct telegram_chat_admins *admins = calloc(1, sizeof *admins);
    if (admins == NULL)
        return NULL;
    admins->api = telegram_api_create(api_base, token);
    if (admins->api == NULL) {
        free(admins);
        return NULL;
    }
    pthread_mutex_init(&admins->lock, NULL);
    return admins;
}

void telegram_chat_admins_destroy(struct telegram_chat_admins *admins)
{
    if (admins == NULL)
        return;
    telegram_api_destroy(admins->api);
    pthread_mutex_destroy(&admins->lock);
    free(admins);
}

static struct cached_answer *find_cached(struct telegram_chat_admins *admins, int64_t chat_id,
                                         int64_t user_id, int64_t now)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct cached_answer *entry = &admins->cache[i];
        if (entry->expires_ms > now && entry->chat_id == chat_id && entry->user_id == user_id)
            return entry;
    }
    return NULL;
}

static void remember(struct telegram_chat_admins *admins, int64_t chat_id, int64_t user_id,
                     int is_admin, int64_t now)
{
    struct cached_answer *slot = &admins->cache[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (admins->cache[i].expires_ms <= now) {
            slot = &admins->cache[i];
            break;
        }
        if (admins->cache[i].expires_ms < slot->expires_ms)
            slot = &admins->cache[i];
    }
    *slot = (struct cached_answer){chat_id, user_id, now + CACHE_TTL_MS, is_admin};
}

/* The verdict of one getChatMember answer: 1, 0, or -1 for no verdict. */
static int verdict_of(const struct telegram_result *result)
{
    if (result->outcome == TELEGRAM_REJECTED)
        return 0; /* "user not found", "chat not found": not an admin of it */
    if (result->outcome != TELEGRAM_OK)
        return -1;
    const char *status = json_string_value(json_object_get(result->value, "status"));
    if (status == NULL)
        return -1;
    return strcmp(status, "creator") == 0 || strcmp(status, "administrator") == 0;
}

int telegram_chat_admins_check(int64_t chat_id, int64_t user_id, void *context)
{
    struct telegram_chat_admins *admins = context;
    pthread_mutex_lock(&admins->lock);
    int64_t now = monotonic_ms();
    struct cached_answer *cached = find_cached(admins, chat_id, user_id, now);
    if (cached != NULL) {
        int is_admin = cached->is_admin;
        pthread_mutex_unlock(&admins->lock);
        return is_admin;
    }
    json_t *parameters =
        json_pack("{sI sI}", "chat_id", (json_int_t)chat_id, "user_id", (json_int_t)user_id);
    struct telegram_result result;
    memset(&result, 0, sizeof result);
    result.outcome = TELEGRAM_TRANSIENT;
    if (parameters != NULL)
        telegram_api_call(admins->api, "getChatMember", parameters, LOOKUP_TIMEOUT_S, &result);
    json_decref(parameters);
    int verdict = verdict_of(&result);
    if (verdict >= 0)
        remember(admins, chat_id, user_id, verdict, monotonic_ms());
    else
        log_warn("telegram: getChatMember for chat %" PRId64 " failed (%s)", chat_id,
                 result.description);
    telegram_result_release(&result);
    pthread_mutex_unlock(&admins->lock);
    return verdict;
}
