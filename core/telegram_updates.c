/* Decoding Telegram updates and journaling their progress in the store
 * (space "core"): "telegram.offset" and one "telegram.update.<id>" record
 * per fetched update ("attempts N" before dispatch, "done" after). */
#include "telegram_updates.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define JOURNAL_SPACE "core"
#define OFFSET_KEY "telegram.offset"
#define RECORD_PREFIX "telegram.update."

/* ---- parsing ---- */

static void mark_bad(struct parsed_update *out, const char *problem)
{
    out->kind = UPDATE_BAD;
    snprintf(out->problem, sizeof out->problem, "%s", problem);
}

static const char *first_known_member(json_t *object, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (json_object_get(object, names[i]) != NULL)
            return names[i];
    return NULL;
}

/* Which kind of non-text message it is, for the debug line. */
static const char *message_content_kind(json_t *message)
{
    static const char *const kinds[] = {"photo", "sticker", "document", "video", "voice",
                                        "audio", "animation", "location", "contact",
                                        "new_chat_members", "left_chat_member", "poll",
                                        "migrate_to_chat_id", NULL};
    const char *kind = first_known_member(message, kinds);
    return kind ? kind : "non-text message";
}

static const char *update_kind_name(json_t *update)
{
    const char *key;
    json_t *value;
    json_object_foreach(update, key, value) {
        if (strcmp(key, "update_id") != 0)
            return key;
    }
    return "empty update";
}

static void parse_sender(json_t *from, struct parsed_update *out)
{
    out->message.user_name = "";
    if (!json_is_object(from))
        return; /* channel posts and anonymous admins have no sender */
    json_t *id = json_object_get(from, "id");
    if (json_is_integer(id))
        out->message.user_id = json_integer_value(id);
    json_t *username = json_object_get(from, "username");
    json_t *first_name = json_object_get(from, "first_name");
    if (json_is_string(username))
        out->message.user_name = json_string_value(username);
    else if (json_is_string(first_name))
        out->message.user_name = json_string_value(first_name);
}

static int is_reply_to(json_t *message, int64_t bot_user_id)
{
    json_t *reply = json_object_get(message, "reply_to_message");
    json_t *from = json_is_object(reply) ? json_object_get(reply, "from") : NULL;
    json_t *id = json_is_object(from) ? json_object_get(from, "id") : NULL;
    return bot_user_id != 0 && json_is_integer(id) && json_integer_value(id) == bot_user_id;
}

/* The Bot API sets message_thread_id on replies in any supergroup, but
 * sendMessage takes it "for forum supergroups only": only a message marked
 * is_topic_message names a topic to answer in. A malformed id is no reason
 * to drop the message; the answer then goes to the General topic. */
static int64_t forum_topic(json_t *message)
{
    if (!json_is_true(json_object_get(message, "is_topic_message")))
        return 0;
    json_t *thread_id = json_object_get(message, "message_thread_id");
    if (!json_is_integer(thread_id) || json_integer_value(thread_id) <= 0)
        return 0;
    return json_integer_value(thread_id);
}

static void parse_message(json_t *message, int64_t bot_user_id, struct parsed_update *out)
{
    json_t *chat = json_object_get(message, "chat");
    if (!json_is_object(chat)) {
        mark_bad(out, "message.chat is missing or not an object");
        return;
    }
    json_t *chat_id = json_object_get(chat, "id");
    if (!json_is_integer(chat_id)) {
        mark_bad(out, "message.chat.id is missing or not an integer");
        return;
    }
    json_t *chat_type = json_object_get(chat, "type");
    if (!json_is_string(chat_type)) {
        mark_bad(out, "message.chat.type is missing or not a string");
        return;
    }
    json_t *message_id = json_object_get(message, "message_id");
    if (!json_is_integer(message_id)) {
        mark_bad(out, "message.message_id is missing or not an integer");
        return;
    }
    json_t *text = json_object_get(message, "text");
    if (text == NULL) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = message_content_kind(message);
        return;
    }
    if (!json_is_string(text)) {
        mark_bad(out, "message.text is not a string");
        return;
    }
    out->kind = UPDATE_TEXT;
    out->message.chat_id = json_integer_value(chat_id);
    out->message.chat_type = json_string_value(chat_type);
    out->message.message_id = json_integer_value(message_id);
    out->message.text = json_string_value(text);
    parse_sender(json_object_get(message, "from"), out);
    out->message.is_reply_to_bot = is_reply_to(message, bot_user_id);
    out->message.message_thread_id = forum_topic(message);
}

void telegram_parse_update(json_t *update, int64_t bot_user_id, struct parsed_update *out)
{
    memset(out, 0, sizeof *out);
    out->update_id = -1;
    if (!json_is_object(update)) {
        mark_bad(out, "update is not a JSON object");
        return;
    }
    json_t *id = json_object_get(update, "update_id");
    if (!json_is_integer(id) || json_integer_value(id) < 0) {
        mark_bad(out, "update_id is missing or not a non-negative integer");
        return;
    }
    out->update_id = json_integer_value(id);
    out->message.update_id = out->update_id;
    json_t *message = json_object_get(update, "message");
    if (message == NULL) {
        out->kind = UPDATE_IGNORED;
        out->ignored_kind = update_kind_name(update);
        return;
    }
    if (!json_is_object(message)) {
        mark_bad(out, "message is not an object");
        return;
    }
    parse_message(message, bot_user_id, out);
}

/* ---- the journal ---- */

struct journal_entry {
    int64_t update_id;
    int done;
};

struct update_journal {
    struct store *store;
    pthread_mutex_t lock;
    struct journal_entry *entries; /* fetched and not yet forgotten, sorted by id */
    size_t count;
    size_t capacity;
    int64_t base_offset;      /* everything below is confirmed */
    int64_t persisted_offset; /* what the store holds */
    int progress_fd;
};

static void record_key(char *key, size_t size, int64_t update_id)
{
    /* zero-padded so the store's byte order is numeric order */
    snprintf(key, size, RECORD_PREFIX "%019" PRId64, update_id);
}

static int64_t read_offset(struct store *store)
{
    char *value = NULL;
    size_t length = 0;
    if (store_get(store, JOURNAL_SPACE, OFFSET_KEY, &value, &length) != 0)
        return 0;
    char *end = NULL;
    long long offset = strtoll(value, &end, 10);
    if (end == value || offset < 0) {
        log_warn("telegram: stored offset '%.40s' is unreadable; starting from Telegram's", value);
        offset = 0;
    }
    free(value);
    return offset;
}

/* Records below a confirmed offset are history (a crash can leave some).
 * One range delete: the zero-padded keys sort in numeric order, and one
 * commit costs one fsync where a delete per record cost one each. Losing
 * it to a crash is harmless: the next open deletes them again. */
static void delete_records_below(struct store *store, int64_t offset)
{
    char below[64];
    record_key(below, sizeof below, offset);
    store_delete_range(store, JOURNAL_SPACE, RECORD_PREFIX, below);
}

struct update_journal *update_journal_open(struct store *store)
{
    struct update_journal *journal = calloc(1, sizeof *journal);
    if (journal == NULL)
        return NULL;
    journal->store = store;
    journal->progress_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (journal->progress_fd < 0 || pthread_mutex_init(&journal->lock, NULL) != 0) {
        if (journal->progress_fd >= 0)
            close(journal->progress_fd);
        free(journal);
        return NULL;
    }
    journal->base_offset = read_offset(store);
    journal->persisted_offset = journal->base_offset;
    if (journal->base_offset > 0)
        delete_records_below(store, journal->base_offset);
    return journal;
}

void update_journal_close(struct update_journal *journal)
{
    if (journal == NULL)
        return;
    close(journal->progress_fd);
    pthread_mutex_destroy(&journal->lock);
    free(journal->entries);
    free(journal);
}

int64_t update_journal_offset(struct update_journal *journal)
{
    pthread_mutex_lock(&journal->lock);
    int64_t offset = journal->base_offset;
    for (size_t i = 0; i < journal->count && journal->entries[i].done; i++)
        offset = journal->entries[i].update_id + 1;
    pthread_mutex_unlock(&journal->lock);
    return offset;
}

int update_journal_persist_offset(struct update_journal *journal, int64_t offset)
{
    if (offset <= journal->persisted_offset)
        return 0;
    char value[32];
    int length = snprintf(value, sizeof value, "%" PRId64, offset);
    if (store_set(journal->store, JOURNAL_SPACE, OFFSET_KEY, value, (size_t)length) != 0)
        return -1;
    journal->persisted_offset = offset;
    return 0;
}

/* Records are deleted up to the first update still remembered, so a start
 * that has not finished keeps its attempt count whatever offset came in. */
void update_journal_forget_below(struct update_journal *journal, int64_t offset)
{
    pthread_mutex_lock(&journal->lock);
    size_t forget = 0;
    while (forget < journal->count && journal->entries[forget].update_id < offset &&
           journal->entries[forget].done)
        forget++;
    if (forget > 0) {
        memmove(journal->entries, journal->entries + forget,
                (journal->count - forget) * sizeof *journal->entries);
        journal->count -= forget;
    }
    if (offset > journal->base_offset)
        journal->base_offset = offset;
    int64_t below = offset;
    if (journal->count > 0 && journal->entries[0].update_id < below)
        below = journal->entries[0].update_id;
    pthread_mutex_unlock(&journal->lock);
    /* An empty poll forgets nothing and must not cost a write. */
    if (forget > 0)
        delete_records_below(journal->store, below);
}

/* Index of update_id in the sorted entries, or where it would go. */
static size_t entry_position(const struct update_journal *journal, int64_t update_id)
{
    size_t low = 0, high = journal->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (journal->entries[middle].update_id < update_id)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

static int entry_exists(const struct update_journal *journal, int64_t update_id)
{
    size_t position = entry_position(journal, update_id);
    return position < journal->count && journal->entries[position].update_id == update_id;
}

static int add_entry(struct update_journal *journal, int64_t update_id, int done)
{
    pthread_mutex_lock(&journal->lock);
    if (journal->count == journal->capacity) {
        size_t capacity = journal->capacity ? journal->capacity * 2 : 128;
        struct journal_entry *grown = realloc(journal->entries, capacity * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&journal->lock);
            return -1;
        }
        journal->entries = grown;
        journal->capacity = capacity;
    }
    size_t position = entry_position(journal, update_id);
    memmove(journal->entries + position + 1, journal->entries + position,
            (journal->count - position) * sizeof *journal->entries);
    journal->entries[position] = (struct journal_entry){update_id, done};
    journal->count++;
    pthread_mutex_unlock(&journal->lock);
    return 0;
}

/* -1 absent, 0 done, N>0 attempts recorded */
static int read_record(struct update_journal *journal, int64_t update_id)
{
    char key[64];
    record_key(key, sizeof key, update_id);
    char *value = NULL;
    size_t length = 0;
    if (store_get(journal->store, JOURNAL_SPACE, key, &value, &length) != 0)
        return -1;
    int result = -1;
    if (strcmp(value, "done") == 0)
        result = 0;
    else if (strncmp(value, "attempts ", 9) == 0)
        result = atoi(value + 9);
    free(value);
    return result;
}

static void write_record(struct update_journal *journal, int64_t update_id, const char *value)
{
    char key[64];
    record_key(key, sizeof key, update_id);
    if (store_set(journal->store, JOURNAL_SPACE, key, value, strlen(value)) != 0)
        log_error("telegram: cannot record progress of update %" PRId64
                  " in the state store; a crash now may repeat it",
                  update_id);
}

enum journal_decision update_journal_begin(struct update_journal *journal, int64_t update_id,
                                           int *attempt)
{
    *attempt = 0;
    pthread_mutex_lock(&journal->lock);
    int known = update_id < journal->base_offset || entry_exists(journal, update_id);
    pthread_mutex_unlock(&journal->lock);
    if (known)
        return JOURNAL_KNOWN;
    int recorded = read_record(journal, update_id);
    if (recorded == 0) {
        add_entry(journal, update_id, 1);
        return JOURNAL_ALREADY_DONE;
    }
    int previous = recorded > 0 ? recorded : 0;
    *attempt = previous + 1;
    add_entry(journal, update_id, 0);
    return previous >= UPDATE_MAX_ATTEMPTS ? JOURNAL_POISON : JOURNAL_DISPATCH;
}

void update_journal_record_attempt(struct update_journal *journal, int64_t update_id,
                                   int attempt)
{
    char value[32];
    snprintf(value, sizeof value, "attempts %d", attempt);
    write_record(journal, update_id, value);
}

void update_journal_done(struct update_journal *journal, int64_t update_id)
{
    write_record(journal, update_id, "done");
    pthread_mutex_lock(&journal->lock);
    size_t position = entry_position(journal, update_id);
    if (position < journal->count && journal->entries[position].update_id == update_id)
        journal->entries[position].done = 1;
    pthread_mutex_unlock(&journal->lock);
    uint64_t one = 1;
    ssize_t written = write(journal->progress_fd, &one, sizeof one);
    (void)written; /* a full counter already means "progress happened" */
}

size_t update_journal_in_flight(struct update_journal *journal)
{
    pthread_mutex_lock(&journal->lock);
    size_t pending = 0;
    for (size_t i = 0; i < journal->count; i++)
        pending += !journal->entries[i].done;
    pthread_mutex_unlock(&journal->lock);
    return pending;
}

int update_journal_progress_fd(struct update_journal *journal)
{
    return journal->progress_fd;
}
