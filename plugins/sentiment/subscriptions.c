/* Report subscriptions in the KV store (see subscriptions.h). */
#include "subscriptions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBSCRIPTION_PREFIX "sub/"
#define LAST_REPORT_PREFIX "last/"
#define RECORD_VERSION "2"
#define RECORD_MAX (SENTIMENT_MAX_TOKENS * SENTIMENT_SYMBOL_MAX + 96)
#define HOUR_MS INT64_C(3600000)

static const int64_t fixed_choices[] = {1 * HOUR_MS, 4 * HOUR_MS, 12 * HOUR_MS, 24 * HOUR_MS};
#define FIXED_CHOICE_COUNT (sizeof fixed_choices / sizeof fixed_choices[0])

size_t sentiment_interval_choices(const sentiment_state *state,
                                  int64_t choices[SENTIMENT_INTERVAL_CHOICES])
{
    size_t count = 0;
    int default_listed = 0;
    for (size_t i = 0; i < FIXED_CHOICE_COUNT; i++) {
        if (!default_listed && state->report_interval_ms <= fixed_choices[i]) {
            default_listed = 1;
            if (state->report_interval_ms < fixed_choices[i])
                choices[count++] = state->report_interval_ms;
        }
        choices[count++] = fixed_choices[i];
    }
    if (!default_listed)
        choices[count++] = state->report_interval_ms;
    return count;
}

int sentiment_interval_offered(const sentiment_state *state, int64_t milliseconds)
{
    int64_t choices[SENTIMENT_INTERVAL_CHOICES];
    size_t count = sentiment_interval_choices(state, choices);
    for (size_t i = 0; i < count; i++)
        if (choices[i] == milliseconds)
            return 1;
    return 0;
}

int64_t sentiment_subscription_interval(const sentiment_state *state,
                                        const sentiment_subscription *subscription)
{
    if (subscription->interval_ms > 0 &&
        sentiment_interval_offered(state, subscription->interval_ms))
        return subscription->interval_ms;
    return state->report_interval_ms;
}

size_t sentiment_subscription_tokens(const sentiment_state *state,
                                     const sentiment_subscription *subscription,
                                     size_t tokens[SENTIMENT_MAX_TOKENS])
{
    size_t count = 0;
    if (subscription->has_tokens) {
        for (size_t i = 0; i < state->tokens.count; i++)
            if (subscription->tokens[i])
                tokens[count++] = i;
        if (count > 0)
            return count;
    }
    for (size_t i = 0; i < state->report_token_count; i++)
        tokens[count++] = state->report_tokens[i];
    return count;
}

static int parse_integer(const char *text, int64_t *value)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (*end != '\0' || errno != 0)
        return -1;
    *value = parsed;
    return 0;
}

static void parse_token_list(char *list, const sentiment_token_table *table,
                             sentiment_subscription *out)
{
    if (strcmp(list, "*") == 0)
        return;
    char *saved = NULL;
    for (char *symbol = strtok_r(list, ",", &saved); symbol != NULL;
         symbol = strtok_r(NULL, ",", &saved)) {
        for (size_t i = 0; i < table->count; i++) {
            if (strcmp(table->tokens[i].symbol, symbol) == 0) {
                out->tokens[i] = 1;
                out->has_tokens = 1;
            }
        }
    }
}

int sentiment_subscription_parse(const char *value, size_t length,
                                 const sentiment_token_table *table, sentiment_subscription *out)
{
    int64_t chat_id = out->chat_id;
    memset(out, 0, sizeof *out);
    out->chat_id = chat_id;
    out->legacy = 1;
    char copy[RECORD_MAX];
    if (length >= sizeof copy || memchr(value, '\0', length) != NULL)
        return -1;
    memcpy(copy, value, length);
    copy[length] = '\0';
    if (parse_integer(copy, &out->since_ms) == 0)
        return 0; /* the record before the buttons: the defaults */
    char *fields[5];
    char *saved = NULL;
    size_t count = 0;
    for (char *field = strtok_r(copy, " ", &saved); field != NULL && count < 5;
         field = strtok_r(NULL, " ", &saved))
        fields[count++] = field;
    sentiment_subscription parsed = {.chat_id = chat_id};
    if (count != 4 || strcmp(fields[0], RECORD_VERSION) != 0 ||
        parse_integer(fields[1], &parsed.since_ms) != 0 ||
        parse_integer(fields[2], &parsed.interval_ms) != 0)
        return -1;
    parse_token_list(fields[3], table, &parsed);
    *out = parsed;
    return 0;
}

int sentiment_subscription_format(const sentiment_subscription *subscription,
                                  const sentiment_token_table *table, char *out, size_t size)
{
    int written = snprintf(out, size, RECORD_VERSION " %" PRId64 " %" PRId64 " ",
                           subscription->since_ms, subscription->interval_ms);
    if (written < 0 || (size_t)written >= size)
        return -1;
    size_t length = (size_t)written;
    size_t listed = 0;
    for (size_t i = 0; subscription->has_tokens && i < table->count; i++) {
        if (!subscription->tokens[i])
            continue;
        written = snprintf(out + length, size - length, "%s%s", listed ? "," : "",
                           table->tokens[i].symbol);
        if (written < 0 || (size_t)written >= size - length)
            return -1;
        length += (size_t)written;
        listed++;
    }
    if (listed == 0 && snprintf(out + length, size - length, "*") != 1)
        return -1;
    return 0;
}

static void chat_key(char *key, size_t size, const char *prefix, int64_t chat_id)
{
    snprintf(key, size, "%s%" PRId64, prefix, chat_id);
}

int sentiment_subscription_load(sentiment_state *state, int64_t chat_id,
                                sentiment_subscription *out)
{
    char key[48];
    chat_key(key, sizeof key, SUBSCRIPTION_PREFIX, chat_id);
    char *value = NULL;
    size_t length = 0;
    int result = state->api->kv_get(state->self, key, &value, &length);
    if (result != JV_OK)
        return result;
    out->chat_id = chat_id;
    if (sentiment_subscription_parse(value, length, &state->tokens, out) != 0)
        state->api->log(state->self, JV_LOG_WARN,
                        "subscription of chat %" PRId64 " is unreadable: using the defaults",
                        chat_id);
    state->api->free(value);
    return JV_OK;
}

int sentiment_subscription_save(sentiment_state *state, const sentiment_subscription *subscription)
{
    char key[48], value[RECORD_MAX];
    chat_key(key, sizeof key, SUBSCRIPTION_PREFIX, subscription->chat_id);
    if (sentiment_subscription_format(subscription, &state->tokens, value, sizeof value) != 0)
        return JV_E_INVAL;
    return state->api->kv_set(state->self, key, value, strlen(value));
}

int sentiment_subscribe(sentiment_state *state, int64_t chat_id, sentiment_subscription *out)
{
    int found = sentiment_subscription_load(state, chat_id, out);
    if (found == JV_OK)
        return 0;
    if (found != JV_E_NOTFOUND)
        return found;
    memset(out, 0, sizeof *out);
    out->chat_id = chat_id;
    out->since_ms = state->api->now_ms();
    int result = sentiment_subscription_save(state, out);
    return result == JV_OK ? 1 : result;
}

int sentiment_unsubscribe(sentiment_state *state, int64_t chat_id)
{
    char key[48];
    chat_key(key, sizeof key, SUBSCRIPTION_PREFIX, chat_id);
    int result = state->api->kv_delete(state->self, key);
    if (result == JV_E_NOTFOUND)
        return 0;
    if (result != JV_OK)
        return result;
    chat_key(key, sizeof key, LAST_REPORT_PREFIX, chat_id);
    result = state->api->kv_delete(state->self, key);
    return result == JV_OK || result == JV_E_NOTFOUND ? 1 : result;
}

typedef struct subscription_list {
    sentiment_state *state;
    sentiment_subscription *items;
    size_t count;
    size_t capacity;
    int out_of_memory;
} subscription_list;

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
    subscription_list *list = data;
    int64_t chat_id = 0;
    if (parse_chat_id(key + strlen(SUBSCRIPTION_PREFIX), &chat_id) != 0)
        return 0; /* not one of ours */
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        sentiment_subscription *items = realloc(list->items, capacity * sizeof *items);
        if (items == NULL) {
            list->out_of_memory = 1;
            return 1;
        }
        list->items = items;
        list->capacity = capacity;
    }
    sentiment_subscription *item = &list->items[list->count++];
    item->chat_id = chat_id;
    if (sentiment_subscription_parse(value, length, &list->state->tokens, item) != 0)
        list->state->api->log(list->state->self, JV_LOG_WARN,
                              "subscription of chat %" PRId64 " is unreadable: using the defaults",
                              chat_id);
    return 0;
}

int sentiment_subscriptions_list(sentiment_state *state, sentiment_subscription **items,
                                 size_t *count)
{
    subscription_list list = {.state = state};
    int result = state->api->kv_list(state->self, SUBSCRIPTION_PREFIX, visit_subscription, &list);
    if (result == JV_OK && list.out_of_memory)
        result = JV_E_NOMEM;
    if (result != JV_OK) {
        free(list.items);
        return result;
    }
    *items = list.items;
    *count = list.count;
    return JV_OK;
}

int64_t sentiment_last_report(sentiment_state *state, int64_t chat_id)
{
    char key[48];
    chat_key(key, sizeof key, LAST_REPORT_PREFIX, chat_id);
    char *value = NULL;
    size_t length = 0;
    int64_t time_ms = 0;
    if (state->api->kv_get(state->self, key, &value, &length) != JV_OK)
        return 0;
    if (parse_integer(value, &time_ms) != 0)
        time_ms = 0;
    state->api->free(value);
    return time_ms;
}

int sentiment_last_report_save(sentiment_state *state, int64_t chat_id, int64_t time_ms)
{
    char key[48], value[32];
    chat_key(key, sizeof key, LAST_REPORT_PREFIX, chat_id);
    int written = snprintf(value, sizeof value, "%" PRId64, time_ms);
    return state->api->kv_set(state->self, key, value, (size_t)written);
}
