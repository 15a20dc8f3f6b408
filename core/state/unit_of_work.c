/* The in-memory half of a handler's commit: replies and kv writes recorded
 * while it runs, read back by its own kv_get / kv_list (read-your-writes),
 * and written into the store's transaction by the pipeline at the end. */
#include "state/unit_of_work.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "state/store.h"

#define WORK_MAGIC 0x4B524F57u /* "WORK" */

static _Thread_local struct jv_context *current_work;

void unit_of_work_init(struct jv_context *work, int64_t update_id, int64_t chat_id,
                       int64_t thread_id)
{
    memset(work, 0, sizeof *work);
    work->magic = WORK_MAGIC;
    work->update_id = update_id;
    work->chat_id = chat_id;
    work->thread_id = thread_id;
    pthread_mutex_init(&work->lock, NULL);
}

static void free_writes(struct jv_context *work)
{
    for (size_t i = 0; i < work->write_count; i++) {
        free(work->writes[i].space);
        free(work->writes[i].key);
        free(work->writes[i].value);
    }
    free(work->writes);
    work->writes = NULL;
    work->write_count = work->write_capacity = 0;
}

void unit_of_work_drop_writes(struct jv_context *work)
{
    pthread_mutex_lock(&work->lock);
    free_writes(work);
    pthread_mutex_unlock(&work->lock);
}

void unit_of_work_release(struct jv_context *work)
{
    if (work == NULL || work->magic != WORK_MAGIC)
        return;
    free_writes(work);
    for (size_t i = 0; i < work->reply_count; i++)
        pending_reply_free(&work->replies[i]);
    free(work->replies);
    free(work->callback_query_id);
    work->callback_query_id = NULL;
    work->replies = NULL;
    work->reply_count = 0;
    work->magic = 0;
    pthread_mutex_destroy(&work->lock);
}

struct jv_context *unit_of_work_of(const jv_message *message)
{
    if (message == NULL || message->struct_size < offsetof(jv_message, context) + sizeof(void *))
        return NULL;
    struct jv_context *work = message->context;
    return work != NULL && work->magic == WORK_MAGIC ? work : NULL;
}

struct jv_context *unit_of_work_current(void)
{
    return current_work;
}

void unit_of_work_set_current(struct jv_context *work)
{
    current_work = work;
}

static int grow(void **items, size_t *capacity, size_t count, size_t item_size)
{
    if (count < *capacity)
        return 0;
    size_t wanted = *capacity ? *capacity * 2 : 4;
    void *grown = realloc(*items, wanted * item_size);
    if (grown == NULL)
        return -1;
    *items = grown;
    *capacity = wanted;
    return 0;
}

void pending_reply_free(struct pending_reply *reply)
{
    free(reply->text);
    free(reply->method);
    free(reply->reply_markup);
    free(reply->extra);
    free(reply->file);
    free(reply->file_name);
    memset(reply, 0, sizeof *reply);
}

int unit_of_work_add(struct jv_context *work, struct pending_reply *reply)
{
    pthread_mutex_lock(&work->lock);
    int result = JV_OK;
    if (grow((void **)&work->replies, &work->reply_capacity, work->reply_count,
             sizeof *work->replies) != 0) {
        pending_reply_free(reply);
        work->failed = 1;
        result = JV_E_NOMEM;
    } else {
        work->replies[work->reply_count++] = *reply;
        memset(reply, 0, sizeof *reply);
    }
    pthread_mutex_unlock(&work->lock);
    return result;
}

/* A plain reply: in groups it quotes the question (work->quote_message_id). */
int unit_of_work_reply(struct jv_context *work, int64_t chat_id, int64_t thread_id,
                       const char *text)
{
    struct pending_reply reply = {.chat_id = chat_id,
                                  .thread_id = thread_id,
                                  .quote_message_id = work->quote_message_id,
                                  .text = strdup(text)};
    if (reply.text == NULL) {
        pthread_mutex_lock(&work->lock);
        work->failed = 1;
        pthread_mutex_unlock(&work->lock);
        return JV_E_NOMEM;
    }
    return unit_of_work_add(work, &reply);
}

int unit_of_work_take_replies(struct jv_context *to, struct jv_context *from)
{
    for (size_t i = 0; i < from->reply_count; i++) {
        if (grow((void **)&to->replies, &to->reply_capacity, to->reply_count,
                 sizeof *to->replies) != 0)
            return JV_E_NOMEM;
        to->replies[to->reply_count++] = from->replies[i];
        memset(&from->replies[i], 0, sizeof from->replies[i]);
    }
    from->reply_count = 0;
    return JV_OK;
}

/* The latest buffered write of (space, key), or NULL. */
static struct pending_write *find_write(struct jv_context *work, const char *space, const char *key)
{
    for (size_t i = work->write_count; i > 0; i--) {
        struct pending_write *write = &work->writes[i - 1];
        if (strcmp(write->key, key) == 0 && strcmp(write->space, space) == 0)
            return write;
    }
    return NULL;
}

/* Overwrites an earlier write of the same key in place, so a handler that
 * updates one counter a thousand times commits one row. */
static int record_write(struct jv_context *work, const char *space, const char *key,
                        const void *value, size_t length, int is_delete)
{
    char *value_copy = NULL;
    if (!is_delete) {
        value_copy = malloc(length + 1);
        if (value_copy == NULL)
            return JV_E_NOMEM;
        if (length > 0)
            memcpy(value_copy, value, length);
        value_copy[length] = '\0';
    }
    pthread_mutex_lock(&work->lock);
    struct pending_write *existing = find_write(work, space, key);
    if (existing != NULL) {
        free(existing->value);
        existing->value = value_copy;
        existing->length = length;
        pthread_mutex_unlock(&work->lock);
        return JV_OK;
    }
    char *space_copy = strdup(space), *key_copy = strdup(key);
    if (space_copy == NULL || key_copy == NULL ||
        grow((void **)&work->writes, &work->write_capacity, work->write_count,
             sizeof *work->writes) != 0) {
        pthread_mutex_unlock(&work->lock);
        free(space_copy);
        free(key_copy);
        free(value_copy);
        return JV_E_NOMEM;
    }
    work->writes[work->write_count++] = (struct pending_write){
        .space = space_copy, .key = key_copy, .value = value_copy, .length = length};
    pthread_mutex_unlock(&work->lock);
    return JV_OK;
}

int unit_of_work_kv_set(struct jv_context *work, const char *space, const char *key,
                        const void *value, size_t length)
{
    return record_write(work, space, key, value, length, 0) == JV_OK ? 0 : -1;
}

int unit_of_work_kv_get(struct jv_context *work, struct store *store, const char *space,
                        const char *key, char **value, size_t *length)
{
    pthread_mutex_lock(&work->lock);
    struct pending_write *write = find_write(work, space, key);
    if (write == NULL) {
        pthread_mutex_unlock(&work->lock);
        return store_get(store, space, key, value, length);
    }
    int result = 1;
    *value = NULL;
    if (write->value != NULL) {
        *value = malloc(write->length + 1);
        result = *value != NULL ? 0 : -1;
        if (*value != NULL) {
            memcpy(*value, write->value, write->length + 1);
            if (length != NULL)
                *length = write->length;
        }
    }
    pthread_mutex_unlock(&work->lock);
    return result;
}

int unit_of_work_kv_delete(struct jv_context *work, struct store *store, const char *space,
                           const char *key)
{
    char *value = NULL;
    size_t length = 0;
    int found = unit_of_work_kv_get(work, store, space, key, &value, &length);
    free(value);
    if (found < 0)
        return -1;
    if (found == 1)
        return 1;
    return record_write(work, space, key, NULL, 0, 1) == JV_OK ? 0 : -1;
}

/* ---- kv_list over the store and the buffer ---- */

struct listed {
    char *key;
    char *value; /* NULL: deleted by the buffer */
    size_t length;
};

struct listing {
    struct listed *items;
    size_t count, capacity;
    int failed;
};

static int add_listed(struct listing *listing, const char *key, const void *value, size_t length)
{
    if (grow((void **)&listing->items, &listing->capacity, listing->count,
             sizeof *listing->items) != 0)
        return -1;
    struct listed item = {.key = strdup(key), .length = length};
    item.value = value != NULL ? malloc(length + 1) : NULL;
    if (item.key == NULL || (value != NULL && item.value == NULL)) {
        free(item.key);
        free(item.value);
        return -1;
    }
    if (value != NULL) {
        memcpy(item.value, value, length);
        item.value[length] = '\0';
    }
    listing->items[listing->count++] = item;
    return 0;
}

static int collect_row(const char *key, const void *value, size_t length, void *context)
{
    struct listing *listing = context;
    if (add_listed(listing, key, value, length) != 0) {
        listing->failed = 1;
        return 1;
    }
    return 0;
}

static int compare_listed(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->key, ((const struct listed *)b)->key);
}

static struct listed *find_listed(struct listing *listing, const char *key)
{
    for (size_t i = 0; i < listing->count; i++)
        if (strcmp(listing->items[i].key, key) == 0)
            return &listing->items[i];
    return NULL;
}

static int overlay_writes(struct jv_context *work, struct listing *listing, const char *space,
                          const char *prefix)
{
    size_t prefix_length = strlen(prefix);
    for (size_t i = 0; i < work->write_count; i++) {
        const struct pending_write *write = &work->writes[i];
        if (strcmp(write->space, space) != 0 || strncmp(write->key, prefix, prefix_length) != 0)
            continue;
        struct listed *existing = find_listed(listing, write->key);
        if (existing == NULL) {
            if (add_listed(listing, write->key, write->value, write->length) != 0)
                return -1;
            continue;
        }
        free(existing->value);
        existing->value = NULL;
        existing->length = write->length;
        if (write->value != NULL) {
            existing->value = malloc(write->length + 1);
            if (existing->value == NULL)
                return -1;
            memcpy(existing->value, write->value, write->length + 1);
        }
    }
    return 0;
}

int unit_of_work_kv_list(struct jv_context *work, struct store *store, const char *space,
                         const char *prefix,
                         int (*visit)(const char *key, const void *value, size_t length,
                                      void *user_data),
                         void *user_data)
{
    pthread_mutex_lock(&work->lock);
    size_t buffered = work->write_count;
    pthread_mutex_unlock(&work->lock);
    if (buffered == 0)
        return store_list(store, space, prefix, visit, user_data);
    struct listing listing = {0};
    int result = store_list(store, space, prefix, collect_row, &listing);
    pthread_mutex_lock(&work->lock);
    if (result == 0 && !listing.failed && overlay_writes(work, &listing, space, prefix) != 0)
        listing.failed = 1;
    pthread_mutex_unlock(&work->lock);
    if (listing.failed)
        result = -1;
    if (result == 0) {
        qsort(listing.items, listing.count, sizeof *listing.items, compare_listed);
        for (size_t i = 0; i < listing.count; i++) {
            const struct listed *item = &listing.items[i];
            if (item->value != NULL && visit(item->key, item->value, item->length, user_data))
                break;
        }
    }
    for (size_t i = 0; i < listing.count; i++) {
        free(listing.items[i].key);
        free(listing.items[i].value);
    }
    free(listing.items);
    return result;
}

int unit_of_work_apply_writes(struct jv_context *work, struct store *store)
{
    pthread_mutex_lock(&work->lock);
    int result = 0;
    for (size_t i = 0; i < work->write_count && result == 0; i++) {
        const struct pending_write *write = &work->writes[i];
        if (write->value == NULL)
            result = store_delete(store, write->space, write->key) < 0 ? -1 : 0;
        else
            result = store_set(store, write->space, write->key, write->value, write->length);
    }
    pthread_mutex_unlock(&work->lock);
    return result;
}
