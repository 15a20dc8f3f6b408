/* The outgoing side of the Telegram transport: text splitting, the queue
 * (one FIFO lane per chat, so a chat's messages keep their order), token
 * buckets per chat and overall, and the sender thread's error handling. */
#include "telegram_send.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "telegram_api.h"

/* ---- splitting ---- */

static size_t utf8_decode(const unsigned char *text, uint32_t *code_point)
{
    unsigned char lead = text[0];
    if (lead < 0x80) {
        *code_point = lead;
        return 1;
    }
    size_t length = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
    uint32_t code = lead & (0x7F >> length);
    for (size_t i = 1; i < length; i++)
        code = (code << 6) | (text[i] & 0x3F);
    *code_point = code;
    return length;
}

size_t telegram_utf16_length(const char *text)
{
    const unsigned char *cursor = (const unsigned char *)text;
    size_t units = 0;
    while (*cursor) {
        uint32_t code_point;
        cursor += utf8_decode(cursor, &code_point);
        units += code_point >= 0x10000 ? 2 : 1;
    }
    return units;
}

static int is_blank(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
            return 0;
    return 1;
}

static int append_chunk(char ***chunks, long *count, const char *text, size_t length)
{
    if (is_blank(text, length))
        return 0;
    char **grown = realloc(*chunks, (size_t)(*count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    *chunks = grown;
    char *copy = strndup(text, length);
    if (copy == NULL)
        return -1;
    grown[(*count)++] = copy;
    return 0;
}

/* Where the chunk starting at start ends, given that the character at limit
 * would overflow: after the last newline, else the last space, else limit. */
static size_t choose_cut(const char *text, size_t start, size_t limit, size_t *next_start)
{
    for (size_t i = limit; i > start; i--)
        if (text[i - 1] == '\n') {
            *next_start = i;
            return i - 1;
        }
    for (size_t i = limit; i > start; i--)
        if (text[i - 1] == ' ') {
            *next_start = i;
            return i - 1;
        }
    *next_start = limit;
    return limit;
}

static long split_clean(const char *text, size_t max_units, char ***chunks)
{
    long count = 0;
    size_t start = 0, position = 0, units = 0;
    while (text[position]) {
        uint32_t code_point;
        size_t length = utf8_decode((const unsigned char *)text + position, &code_point);
        size_t width = code_point >= 0x10000 ? 2 : 1;
        if (units + width > max_units) {
            size_t next_start;
            size_t end = choose_cut(text, start, position, &next_start);
            if (append_chunk(chunks, &count, text + start, end - start) != 0)
                return -1;
            start = next_start;
            position = start;
            units = 0;
            continue;
        }
        units += width;
        position += length;
    }
    if (append_chunk(chunks, &count, text + start, position - start) != 0)
        return -1;
    return count;
}

long telegram_split_text(const char *text, size_t max_units, char ***chunks)
{
    *chunks = NULL;
    if (max_units < 2)
        return -1;
    size_t clean_length = 0, replaced = 0;
    char *clean = telegram_repair_utf8(text, strlen(text), &clean_length, &replaced);
    if (clean == NULL)
        return -1;
    long count = split_clean(clean, max_units, chunks);
    free(clean);
    if (count < 0) {
        telegram_chunks_free(*chunks, 0);
        *chunks = NULL;
    }
    return count;
}

void telegram_chunks_free(char **chunks, long count)
{
    for (long i = 0; i < count; i++)
        free(chunks[i]);
    free(chunks);
}

/* ---- update batches: which update a queued message answers ---- */

struct send_batch {
    atomic_int references; /* the producing thread's + one per queued message */
    atomic_int finished;
    int64_t update_id;
    telegram_update_sent_fn on_sent;
    void *context;
};

static void batch_release(struct send_batch *batch)
{
    if (batch == NULL || atomic_fetch_sub(&batch->references, 1) != 1)
        return;
    if (atomic_load(&batch->finished))
        batch->on_sent(batch->update_id, batch->context);
    free(batch);
}

/* A thread that queued messages and exits without finishing an update (a
 * scheduler job) just lets its batch go. */
static void batch_thread_exit(void *value)
{
    batch_release(value);
}

static pthread_key_t batch_key;
static pthread_once_t batch_key_once = PTHREAD_ONCE_INIT;

static void create_batch_key(void)
{
    if (pthread_key_create(&batch_key, batch_thread_exit) != 0)
        abort(); /* only fails when the process is out of keys at start-up */
}

/* ---- the queue ---- */

struct outgoing {
    char *text;
    int64_t thread_id; /* forum topic, 0 for none */
    struct send_batch *batch;
    struct outgoing *next;
};

struct chat_lane {
    int64_t chat_id;
    struct outgoing *head, *tail;
    double tokens;
    int64_t refilled_ms;
    struct chat_lane *next;
};

struct chat_migration {
    int64_t from, to;
};

struct telegram_sender {
    struct telegram_send_limits limits;
    struct telegram_api *api;
    telegram_update_sent_fn on_update_sent;
    void *context;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    int thread_started;
    int stopping;
    int abandon_fd;
    struct chat_lane *lanes;
    struct chat_lane *next_lane; /* round-robin start */
    size_t queued;
    double total_tokens;
    int64_t total_refilled_ms;
    int64_t paused_until_ms;
    struct backoff backoff;
    int failing; /* for one log line per state change */
    struct chat_migration *migrations;
    size_t migration_count;
};

static struct chat_lane *find_lane(struct telegram_sender *sender, int64_t chat_id, int create)
{
    for (struct chat_lane *lane = sender->lanes; lane; lane = lane->next)
        if (lane->chat_id == chat_id)
            return lane;
    if (!create)
        return NULL;
    struct chat_lane *lane = calloc(1, sizeof *lane);
    if (lane == NULL)
        return NULL;
    lane->chat_id = chat_id;
    lane->tokens = sender->limits.per_chat_burst;
    lane->refilled_ms = monotonic_ms();
    lane->next = sender->lanes;
    sender->lanes = lane;
    return lane;
}

static struct send_batch *current_batch(struct telegram_sender *sender)
{
    struct send_batch *batch = pthread_getspecific(batch_key);
    if (batch != NULL)
        return batch;
    batch = calloc(1, sizeof *batch);
    if (batch == NULL)
        return NULL;
    atomic_init(&batch->references, 1);
    atomic_init(&batch->finished, 0);
    batch->on_sent = sender->on_update_sent;
    batch->context = sender->context;
    pthread_setspecific(batch_key, batch);
    return batch;
}

int telegram_sender_enqueue(struct telegram_sender *sender, int64_t chat_id, const char *text)
{
    return telegram_sender_enqueue_to_thread(sender, chat_id, 0, text);
}

int telegram_sender_enqueue_to_thread(struct telegram_sender *sender, int64_t chat_id,
                                      int64_t thread_id, const char *text)
{
    char **chunks = NULL;
    long count = telegram_split_text(text, TELEGRAM_MESSAGE_LIMIT, &chunks);
    if (count < 0)
        return -2; /* JV_E_NOMEM */
    if (count == 0) {
        free(chunks);
        return -1; /* JV_E_INVAL: Telegram refuses empty messages */
    }
    struct send_batch *batch = current_batch(sender);
    pthread_mutex_lock(&sender->lock);
    struct chat_lane *lane = find_lane(sender, chat_id, 1);
    long queued = 0;
    for (; lane != NULL && queued < count; queued++) {
        struct outgoing *message = calloc(1, sizeof *message);
        if (message == NULL)
            break;
        message->text = chunks[queued];
        message->thread_id = thread_id;
        chunks[queued] = NULL;
        message->batch = batch;
        if (batch != NULL)
            atomic_fetch_add(&batch->references, 1);
        if (lane->tail)
            lane->tail->next = message;
        else
            lane->head = message;
        lane->tail = message;
        sender->queued++;
    }
    pthread_cond_signal(&sender->changed);
    pthread_mutex_unlock(&sender->lock);
    telegram_chunks_free(chunks, count);
    return queued == count ? 0 : -2;
}

void telegram_sender_finish_update(struct telegram_sender *sender, int64_t update_id)
{
    pthread_once(&batch_key_once, create_batch_key);
    struct send_batch *batch = pthread_getspecific(batch_key);
    if (batch == NULL) {
        sender->on_update_sent(update_id, sender->context);
        return;
    }
    pthread_setspecific(batch_key, NULL);
    batch->update_id = update_id;
    atomic_store(&batch->finished, 1);
    batch_release(batch);
}

size_t telegram_sender_flush(struct telegram_sender *sender, int64_t timeout_ms)
{
    int64_t deadline = monotonic_ms() + timeout_ms;
    pthread_mutex_lock(&sender->lock);
    while (sender->queued > 0 && monotonic_ms() < deadline) {
        struct timespec wake = monotonic_deadline_after(50);
        pthread_cond_timedwait(&sender->changed, &sender->lock, &wake);
    }
    size_t left = sender->queued;
    pthread_mutex_unlock(&sender->lock);
    return left;
}

/* ---- the sender thread ---- */

static void refill(double *tokens, int64_t *refilled_ms, double rate, double capacity,
                   int64_t now)
{
    *tokens += (double)(now - *refilled_ms) * rate / 1000.0;
    if (*tokens > capacity)
        *tokens = capacity;
    *refilled_ms = now;
}

static int64_t ms_until_token(double tokens, double rate)
{
    if (tokens >= 1.0)
        return 0;
    return (int64_t)((1.0 - tokens) * 1000.0 / rate) + 1;
}

/* The next lane allowed to send now, round-robin; else how long to wait. */
static struct chat_lane *pick_lane(struct telegram_sender *sender, int64_t now, int64_t *wait_ms)
{
    *wait_ms = 1000;
    if (now < sender->paused_until_ms) {
        *wait_ms = sender->paused_until_ms - now;
        return NULL;
    }
    double total_capacity = sender->limits.total_per_second < 1 ? 1 : sender->limits.total_per_second;
    refill(&sender->total_tokens, &sender->total_refilled_ms, sender->limits.total_per_second,
           total_capacity, now);
    if (sender->total_tokens < 1.0) {
        *wait_ms = ms_until_token(sender->total_tokens, sender->limits.total_per_second);
        return NULL;
    }
    struct chat_lane *start = sender->next_lane ? sender->next_lane : sender->lanes;
    struct chat_lane *lane = start;
    do {
        if (lane == NULL)
            break;
        if (lane->head != NULL) {
            refill(&lane->tokens, &lane->refilled_ms, sender->limits.per_chat_per_second,
                   sender->limits.per_chat_burst, now);
            if (lane->tokens >= 1.0) {
                sender->next_lane = lane->next;
                return lane;
            }
            int64_t wait = ms_until_token(lane->tokens, sender->limits.per_chat_per_second);
            if (wait < *wait_ms)
                *wait_ms = wait;
        }
        lane = lane->next ? lane->next : sender->lanes;
    } while (lane != start);
    return NULL;
}

static int64_t migrated_chat(struct telegram_sender *sender, int64_t chat_id)
{
    for (size_t i = 0; i < sender->migration_count; i++)
        if (sender->migrations[i].from == chat_id)
            return sender->migrations[i].to;
    return chat_id;
}

static void remember_migration(struct telegram_sender *sender, int64_t from, int64_t to)
{
    for (size_t i = 0; i < sender->migration_count; i++)
        if (sender->migrations[i].from == from) {
            sender->migrations[i].to = to;
            return;
        }
    struct chat_migration *grown =
        realloc(sender->migrations, (sender->migration_count + 1) * sizeof *grown);
    if (grown == NULL)
        return;
    sender->migrations = grown;
    sender->migrations[sender->migration_count++] = (struct chat_migration){from, to};
}

static void send_one(struct telegram_sender *sender, int64_t chat_id, int64_t thread_id,
                     const char *text, struct telegram_result *result)
{
    json_t *parameters = json_object();
    json_object_set_new(parameters, "chat_id", json_integer(chat_id));
    if (thread_id != 0)
        json_object_set_new(parameters, "message_thread_id", json_integer(thread_id));
    json_object_set_new(parameters, "text", json_string(text));
    telegram_api_call(sender->api, "sendMessage", parameters, 30, result);
    json_decref(parameters);
}

static struct send_batch *pop_head(struct chat_lane *lane)
{
    struct outgoing *message = lane->head;
    lane->head = message->next;
    if (lane->head == NULL)
        lane->tail = NULL;
    struct send_batch *batch = message->batch;
    free(message->text);
    free(message);
    return batch;
}

static void note_recovered(struct telegram_sender *sender)
{
    if (sender->failing)
        log_info("telegram: sendMessage works again");
    sender->failing = 0;
    backoff_reset(&sender->backoff);
}

/* The wording of the 400 varies ("message thread not found", TOPIC_CLOSED...);
 * what we know is that we named a topic, and a reply in the chat's General
 * topic beats a lost one. The head stays first, so the chat keeps its order. */
static void retry_without_topic(struct telegram_sender *sender, struct chat_lane *lane,
                                int64_t chat_id, const struct telegram_result *result)
{
    log_warn("telegram: chat %" PRId64 " refused topic %" PRId64 " (%s); sending the message "
             "without it",
             chat_id, lane->head->thread_id, result->description);
    lane->head->thread_id = 0;
    note_recovered(sender);
}

/* Decides, under the lock, what a send's result means for the queue.
 * Returns the batch to release when the head message is finished. */
static struct send_batch *apply_result(struct telegram_sender *sender, struct chat_lane *lane,
                                       int64_t chat_id, const struct telegram_result *result,
                                       int *finished)
{
    *finished = 0;
    int64_t now = monotonic_ms();
    if (result->outcome == TELEGRAM_REJECTED && result->error_code == 400 &&
        lane->head->thread_id != 0) {
        retry_without_topic(sender, lane, chat_id, result);
        return NULL;
    }
    switch (result->outcome) {
    case TELEGRAM_OK:
        note_recovered(sender);
        *finished = 1;
        return pop_head(lane);
    case TELEGRAM_RETRY_AFTER:
        log_warn("telegram: sendMessage to chat %" PRId64 " hit flood control; waiting %" PRId64
                 " s as Telegram asks",
                 chat_id, result->retry_after_s);
        sender->paused_until_ms = now + result->retry_after_s * 1000;
        return NULL;
    case TELEGRAM_MIGRATED:
        log_info("telegram: chat %" PRId64 " became supergroup %" PRId64 "; sending there",
                 lane->chat_id, result->migrate_to_chat_id);
        remember_migration(sender, lane->chat_id, result->migrate_to_chat_id);
        return NULL;
    case TELEGRAM_TRANSIENT:
        if (!sender->failing)
            log_warn("telegram: sendMessage failing (%s); retrying with backoff",
                     result->description);
        sender->failing = 1;
        sender->paused_until_ms = now + backoff_next_delay(&sender->backoff);
        return NULL;
    case TELEGRAM_ABORTED:
        return NULL;
    default:
        log_warn("telegram: sendMessage to chat %" PRId64 " refused (%ld %s); message dropped",
                 chat_id, result->error_code, result->description);
        note_recovered(sender);
        *finished = 1;
        return pop_head(lane);
    }
}

static void wait_for_work(struct telegram_sender *sender, int64_t wait_ms)
{
    struct timespec wake = monotonic_deadline_after(wait_ms);
    pthread_cond_timedwait(&sender->changed, &sender->lock, &wake);
}

static void *sender_main(void *argument)
{
    struct telegram_sender *sender = argument;
    pthread_mutex_lock(&sender->lock);
    while (!sender->stopping) {
        int64_t wait_ms = 1000;
        struct chat_lane *lane = sender->queued ? pick_lane(sender, monotonic_ms(), &wait_ms)
                                                : NULL;
        if (lane == NULL) {
            wait_for_work(sender, wait_ms);
            continue;
        }
        lane->tokens -= 1.0;
        sender->total_tokens -= 1.0;
        int64_t chat_id = migrated_chat(sender, lane->chat_id);
        int64_t thread_id = lane->head->thread_id;
        char *text = strdup(lane->head->text);
        pthread_mutex_unlock(&sender->lock);

        struct telegram_result result;
        if (text != NULL)
            send_one(sender, chat_id, thread_id, text, &result);
        else
            result = (struct telegram_result){.outcome = TELEGRAM_TRANSIENT,
                                              .description = "out of memory"};
        free(text);
        telegram_result_release(&result);

        pthread_mutex_lock(&sender->lock);
        int finished = 0;
        struct send_batch *batch = apply_result(sender, lane, chat_id, &result, &finished);
        if (finished) {
            /* the completion writes to the store: not under our lock. The
             * message stays counted until then, so a flush that sees an
             * empty queue also sees its update done. */
            pthread_mutex_unlock(&sender->lock);
            batch_release(batch);
            pthread_mutex_lock(&sender->lock);
            sender->queued--;
        }
        pthread_cond_broadcast(&sender->changed);
    }
    pthread_mutex_unlock(&sender->lock);
    return NULL;
}

struct telegram_sender *telegram_sender_create(const char *api_base, const char *token,
                                               const struct telegram_send_limits *limits,
                                               telegram_update_sent_fn on_update_sent,
                                               void *context)
{
    pthread_once(&batch_key_once, create_batch_key);
    struct telegram_sender *sender = calloc(1, sizeof *sender);
    if (sender == NULL)
        return NULL;
    sender->limits = *limits;
    backoff_init(&sender->backoff, limits->backoff_initial_ms, limits->backoff_max_ms);
    sender->on_update_sent = on_update_sent;
    sender->context = context;
    sender->total_tokens = limits->total_per_second < 1 ? 1 : limits->total_per_second;
    sender->total_refilled_ms = monotonic_ms();
    sender->abandon_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    sender->api = telegram_api_create(api_base, token);
    monotonic_cond_init(&sender->changed);
    pthread_mutex_init(&sender->lock, NULL);
    if (sender->api == NULL || sender->abandon_fd < 0) {
        telegram_sender_destroy(sender);
        return NULL;
    }
    telegram_api_set_abort_fd(sender->api, sender->abandon_fd);
    if (pthread_create(&sender->thread, NULL, sender_main, sender) != 0) {
        telegram_sender_destroy(sender);
        return NULL;
    }
    sender->thread_started = 1;
    return sender;
}

static size_t free_lanes(struct telegram_sender *sender)
{
    size_t dropped = 0;
    while (sender->lanes != NULL) {
        struct chat_lane *lane = sender->lanes;
        while (lane->head != NULL) {
            struct send_batch *batch = pop_head(lane);
            sender->queued--;
            /* an unsent reply leaves its update unconfirmed: repeat, not lose */
            if (batch != NULL)
                atomic_store(&batch->finished, 0);
            batch_release(batch);
            dropped++;
        }
        sender->lanes = lane->next;
        free(lane);
    }
    return dropped;
}

void telegram_sender_destroy(struct telegram_sender *sender)
{
    if (sender == NULL)
        return;
    pthread_mutex_lock(&sender->lock);
    sender->stopping = 1;
    pthread_cond_broadcast(&sender->changed);
    pthread_mutex_unlock(&sender->lock);
    if (sender->abandon_fd >= 0) {
        uint64_t one = 1;
        ssize_t written = write(sender->abandon_fd, &one, sizeof one);
        (void)written;
    }
    if (sender->thread_started)
        pthread_join(sender->thread, NULL);
    size_t dropped = free_lanes(sender);
    if (dropped > 0)
        log_warn("telegram: %zu message(s) not sent before shutdown; their updates stay "
                 "unconfirmed and will be handled again",
                 dropped);
    telegram_api_destroy(sender->api);
    if (sender->abandon_fd >= 0)
        close(sender->abandon_fd);
    pthread_cond_destroy(&sender->changed);
    pthread_mutex_destroy(&sender->lock);
    free(sender->migrations);
    free(sender);
}
