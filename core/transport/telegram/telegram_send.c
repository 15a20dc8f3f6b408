/* The sender of telegram_send.h: one lane per chat (a FIFO, a token bucket)
 * found through a hash, ready lanes in FIFOs, lanes waiting for a token or a
 * 429 in a timer heap. Text messages go out from one loop thread that keeps
 * several kept-alive connections in flight and waits for all of them in
 * one epoll (a thread a connection cost twice the CPU a reply: each answer
 * woke its own thread), and a helper thread connects the loop's connections
 * so a slow handshake holds only its chat; files, edits and other methods go
 * out from a few worker threads, each with its own connection. (Splitting
 * lives in telegram_split.c.) */
#include "transport/telegram/telegram_send.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <jarvis/plugin.h>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/id_table.h"
#include "base/log.h"
#include "transport/telegram/telegram_api.h"
#include "transport/telegram/telegram_body.h"
#include "transport/telegram/telegram_metrics.h"
#include "transport/telegram/telegram_split.h"
#include "base/utf8.h"

/* ---- the sender's state ---- */

/* the loop's connections; a worker pool of that size when there is no loop */
#define DEFAULT_CONNECTIONS 4
#define MAXIMUM_CONNECTIONS 64
/* files and other methods beside the loop */
#define WORKERS_BESIDE_LOOP 2
#define DEFAULT_PER_CHAT_PER_SECOND 1.0
#define DEFAULT_TOTAL_PER_SECOND 30.0
#define SEND_TIMEOUT_S 30
#define GATE_WAIT_MS 200 /* how often a closed gate (store down) is asked again */
#define LONGEST_WAIT_MS (24 * 3600 * 1000)
/* a chat that migrates more often than this per message is answering nonsense */
#define MIGRATION_HOPS_MAX 3

struct pending {
    struct outgoing_message message; /* text owned */
    int migrations;                  /* migrate_to_chat_id answers seen for it */
    struct pending *next;
};

enum lane_state {
    LANE_READY,   /* in the ready FIFO: may send now */
    LANE_WAITING, /* in the heap until due_ms: a token or the end of a 429 pause */
    LANE_IDLE,    /* in the heap until due_ms: queue empty, freed once the bucket is full */
    LANE_SENDING, /* a worker holds it: its head is in flight, or its callback runs */
    LANE_NEW      /* just created, in no structure yet */
};

struct chat_lane {
    int64_t chat_id; /* first: the id_table key. The chat its messages go to */
    struct pending *head, *tail;
    double tokens;
    int64_t refilled_ms;
    int64_t paused_until_ms; /* Telegram's retry_after for this chat */
    int64_t due_ms;
    size_t heap_index;
    enum lane_state state;
    struct chat_lane *next_ready;
};

struct chat_migration {
    int64_t from; /* first: the id_table key */
    int64_t to;
};

struct sender_worker {
    struct telegram_sender *sender;
    struct telegram_api *api;
    pthread_t thread;
    int started;
};

/* One of the loop's connections and the message it has in flight. */
struct send_slot {
    struct telegram_api *api;
    struct chat_lane *lane; /* NULL: free */
    struct pending *pending;
    int64_t chat_id;
    int64_t started_ms;
    unsigned long generation; /* the connect whose socket the epoll watches (0: none) */
    uint32_t events;
    /* a slot without a connection has the connector thread connect it, so
     * that a slow handshake holds only its own chat */
    int connecting;   /* handed to the connector; the loop leaves it alone */
    int connect_done; /* ... and the connector is done: connect_result says how */
    struct telegram_result connect_result;
};

struct ready_fifo {
    struct chat_lane *head, *tail;
};

struct telegram_sender {
    struct telegram_send_limits limits;
    double chat_capacity, total_capacity; /* bucket sizes, at least one message */
    telegram_sent_fn on_sent;
    void *context;
    pthread_mutex_t lock;
    pthread_cond_t work;     /* for workers: a lane became ready, or stop */
    pthread_cond_t progress; /* for flush: a message finished */
    int stopping;
    int abort_fd;
    struct id_table lanes;
    struct id_table migrations;
    struct ready_fifo loop_ready;   /* text messages, for the loop */
    struct ready_fifo worker_ready; /* the rest (everything when there is no loop) */
    struct chat_lane **heap;        /* min-heap on due_ms */
    size_t heap_size, heap_capacity;
    size_t queued;
    double total_tokens;
    int64_t total_refilled_ms;
    int64_t paused_until_ms; /* backoff after 5xx / network failures: every chat waits */
    struct backoff backoff;
    int failing; /* for one log line per state change */
    struct sender_worker *workers;
    int worker_count;
    struct send_slot *slots; /* the loop's; none when calls need libcurl transfers */
    int slot_count;
    pthread_t loop;
    int loop_started;
    int epoll_fd;
    int wake_fd;       /* written when the loop sleeps and has work */
    int loop_sleeping; /* under the lock */
    pthread_t connector;
    int connector_started;
    pthread_cond_t connect_work; /* for the connector: a slot to connect, or stop */
    telegram_resolve_fn resolve;
    void *resolve_context;
    telegram_gate_fn gate;
    void *gate_context;
    telegram_before_send_fn before_send;
    void *before_send_context;
};

/* ---- token buckets ---- */

static void refill(double *tokens, int64_t *refilled_ms, double rate, double capacity, int64_t now)
{
    if (now > *refilled_ms)
        *tokens += (double)(now - *refilled_ms) * rate / 1000.0;
    if (*tokens > capacity)
        *tokens = capacity;
    *refilled_ms = now;
}

/* Milliseconds until the bucket holds `wanted` tokens, rounded up, capped so
 * a tiny rate cannot overflow the conversion. */
static int64_t ms_until_tokens(double tokens, double wanted, double rate)
{
    if (tokens >= wanted)
        return 0;
    double ms = (wanted - tokens) * 1000.0 / rate;
    if (!(ms < (double)LONGEST_WAIT_MS))
        return LONGEST_WAIT_MS;
    return (int64_t)ms + 1;
}

/* ---- waking the loop ---- */

/* Under the lock: only a sleeping loop costs a write. */
static void wake_loop(struct telegram_sender *sender)
{
    if (!sender->loop_sleeping)
        return;
    sender->loop_sleeping = 0;
    uint64_t one = 1;
    ssize_t written = write(sender->wake_fd, &one, sizeof one);
    (void)written; /* a full counter is a pending wake already */
}

/* ---- the timer heap of lanes ---- */

static void heap_place(struct telegram_sender *sender, size_t index, struct chat_lane *lane)
{
    sender->heap[index] = lane;
    lane->heap_index = index;
}

static void heap_sift_up(struct telegram_sender *sender, size_t index)
{
    struct chat_lane *lane = sender->heap[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (sender->heap[parent]->due_ms <= lane->due_ms)
            break;
        heap_place(sender, index, sender->heap[parent]);
        index = parent;
    }
    heap_place(sender, index, lane);
}

static void heap_sift_down(struct telegram_sender *sender, size_t index)
{
    struct chat_lane *lane = sender->heap[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= sender->heap_size)
            break;
        if (child + 1 < sender->heap_size &&
            sender->heap[child + 1]->due_ms < sender->heap[child]->due_ms)
            child++;
        if (lane->due_ms <= sender->heap[child]->due_ms)
            break;
        heap_place(sender, index, sender->heap[child]);
        index = child;
    }
    heap_place(sender, index, lane);
}

static int heap_push(struct telegram_sender *sender, struct chat_lane *lane)
{
    if (sender->heap_size == sender->heap_capacity) {
        size_t capacity = sender->heap_capacity ? sender->heap_capacity * 2 : 64;
        struct chat_lane **grown = realloc(sender->heap, capacity * sizeof *grown);
        if (grown == NULL)
            return -1;
        sender->heap = grown;
        sender->heap_capacity = capacity;
    }
    sender->heap[sender->heap_size] = lane;
    heap_sift_up(sender, sender->heap_size++);
    /* the earliest wait now: a worker sleeping untimed (nothing was due)
     * or past it must wake for it */
    if (lane->heap_index == 0) {
        pthread_cond_signal(&sender->work);
        wake_loop(sender);
    }
    return 0;
}

static void heap_shrink(struct telegram_sender *sender)
{
    if (sender->heap_capacity <= 64 || sender->heap_size * 8 >= sender->heap_capacity)
        return;
    size_t capacity = sender->heap_capacity / 2;
    struct chat_lane **shrunk = realloc(sender->heap, capacity * sizeof *shrunk);
    if (shrunk == NULL)
        return; /* keeping the larger array is harmless */
    sender->heap = shrunk;
    sender->heap_capacity = capacity;
}

static void heap_remove(struct telegram_sender *sender, struct chat_lane *lane)
{
    size_t index = lane->heap_index;
    struct chat_lane *last = sender->heap[--sender->heap_size];
    if (index < sender->heap_size) {
        heap_place(sender, index, last);
        heap_sift_down(sender, index);
        heap_sift_up(sender, last->heap_index);
    }
    heap_shrink(sender);
}

/* ---- lanes ---- */

static int is_plain_message(const struct outgoing_message *message);

/* A text message that edits nothing and carries no file: the loop's kind. */
static int lane_is_plain(const struct chat_lane *lane)
{
    const struct outgoing_message *message = &lane->head->message;
    return is_plain_message(message) && message->target == 0 && message->file == NULL;
}

/* A lane's head stays while it is ready (only its sender takes it off),
 * so the FIFO chosen here stays right. */
static void ready_push(struct telegram_sender *sender, struct chat_lane *lane)
{
    lane->state = LANE_READY;
    lane->next_ready = NULL;
    int for_loop = sender->slot_count > 0 && lane_is_plain(lane);
    struct ready_fifo *fifo = for_loop ? &sender->loop_ready : &sender->worker_ready;
    if (fifo->tail != NULL)
        fifo->tail->next_ready = lane;
    else
        fifo->head = lane;
    fifo->tail = lane;
    if (for_loop)
        wake_loop(sender);
    else
        pthread_cond_signal(&sender->work);
}

static struct chat_lane *ready_pop(struct ready_fifo *fifo)
{
    struct chat_lane *lane = fifo->head;
    fifo->head = lane->next_ready;
    if (fifo->head == NULL)
        fifo->tail = NULL;
    return lane;
}

static void free_lane(struct telegram_sender *sender, struct chat_lane *lane)
{
    id_table_remove(&sender->lanes, lane->chat_id);
    free(lane);
}

/* Files a lane that is in neither the FIFO nor the heap where it belongs
 * now. An empty lane lingers until its bucket is full again: freed earlier,
 * a chat could come back with a fresh burst and exceed its rate. */
static void settle_lane(struct telegram_sender *sender, struct chat_lane *lane, int64_t now)
{
    refill(&lane->tokens, &lane->refilled_ms, sender->limits.per_chat_per_second,
           sender->chat_capacity, now);
    int64_t wait;
    if (lane->head == NULL) {
        wait = ms_until_tokens(lane->tokens, sender->chat_capacity,
                               sender->limits.per_chat_per_second);
        if (wait == 0) {
            free_lane(sender, lane);
            return;
        }
        lane->state = LANE_IDLE;
    } else {
        wait = ms_until_tokens(lane->tokens, 1.0, sender->limits.per_chat_per_second);
        if (lane->paused_until_ms - now > wait)
            wait = lane->paused_until_ms - now;
        if (wait == 0) {
            ready_push(sender, lane);
            return;
        }
        lane->state = LANE_WAITING;
    }
    lane->due_ms = now + wait;
    if (heap_push(sender, lane) != 0) {
        /* out of memory for the heap: a ready lane only loses its wait, an
         * idle one its linger (both rare and bounded by the rate checks of
         * a worker that picks it) */
        if (lane->head == NULL)
            free_lane(sender, lane);
        else
            ready_push(sender, lane);
    }
}

/* Lanes whose wait is over leave the heap. */
static void promote_due_lanes(struct telegram_sender *sender, int64_t now)
{
    while (sender->heap_size > 0 && sender->heap[0]->due_ms <= now) {
        struct chat_lane *lane = sender->heap[0];
        heap_remove(sender, lane);
        settle_lane(sender, lane, now);
    }
}

static int64_t migrated_chat(const struct telegram_sender *sender, int64_t chat_id)
{
    const struct chat_migration *migration = id_table_find(&sender->migrations, chat_id);
    return migration != NULL ? migration->to : chat_id;
}

static void remember_migration(struct telegram_sender *sender, int64_t from, int64_t to)
{
    struct chat_migration *migration = id_table_find(&sender->migrations, from);
    if (migration != NULL) {
        migration->to = to;
        return;
    }
    migration = malloc(sizeof *migration);
    if (migration == NULL)
        return; /* the next message to `from` is migrated again: slower, not lost */
    migration->from = from;
    migration->to = to;
    if (id_table_insert(&sender->migrations, &migration->from) != 0)
        free(migration);
}

/* The lane for a chat (its migrated id, so later messages queue behind the
 * migrated ones), created with a full bucket. */
static struct chat_lane *lane_for(struct telegram_sender *sender, int64_t chat_id, int64_t now)
{
    /* a lane still under the old id (the new one had a lane of its own when
     * the chat migrated) keeps the chat's order until it drains */
    struct chat_lane *lane = id_table_find(&sender->lanes, chat_id);
    if (lane != NULL)
        return lane;
    int64_t target = migrated_chat(sender, chat_id);
    lane = id_table_find(&sender->lanes, target);
    if (lane != NULL)
        return lane;
    lane = calloc(1, sizeof *lane);
    if (lane == NULL)
        return NULL;
    lane->chat_id = target;
    lane->tokens = sender->chat_capacity;
    lane->refilled_ms = now;
    lane->state = LANE_NEW;
    if (id_table_insert(&sender->lanes, &lane->chat_id) != 0) {
        free(lane);
        return NULL;
    }
    return lane;
}

/* ---- the public queue ---- */

static const char *method_of(const struct outgoing_message *message)
{
    return message->method != NULL && message->method[0] != '\0' ? message->method : "sendMessage";
}

static int is_plain_message(const struct outgoing_message *message)
{
    return strcmp(method_of(message), "sendMessage") == 0;
}

/* What an absent or empty optional text of a queued message points to:
 * most parts are plain messages without method, options or file name, and
 * a flood queues thousands of them, so those three are not copied. */
static const char NO_TEXT[] = "";

static void free_optional(const char *text)
{
    if (text != NO_TEXT)
        free((char *)text);
}

static void free_pending(struct pending *pending)
{
    free((char *)pending->message.text);
    free_optional(pending->message.method);
    free_optional(pending->message.options);
    free((void *)pending->message.file);
    free_optional(pending->message.file_name);
    free(pending);
}

static const char *copy_or_empty(const char *text)
{
    return text != NULL && text[0] != '\0' ? strdup(text) : NO_TEXT;
}

static struct pending *copy_message(const struct outgoing_message *message)
{
    struct pending *pending = calloc(1, sizeof *pending);
    if (pending == NULL)
        return NULL;
    size_t length = 0, replaced = 0;
    const char *text = message->text != NULL ? message->text : "";
    pending->message = *message;
    /* jansson refuses invalid UTF-8: repaired here, the text still goes out */
    pending->message.text = utf8_repair(text, strlen(text), &length, &replaced);
    pending->message.method = copy_or_empty(message->method);
    pending->message.options = copy_or_empty(message->options);
    pending->message.file_name = copy_or_empty(message->file_name);
    pending->message.file = NULL;
    if (message->file != NULL && message->file_length > 0) {
        void *file = malloc(message->file_length);
        if (file != NULL)
            memcpy(file, message->file, message->file_length);
        pending->message.file = file;
    }
    if (pending->message.text == NULL || pending->message.method == NULL ||
        pending->message.options == NULL || pending->message.file_name == NULL ||
        (message->file_length > 0 && pending->message.file == NULL)) {
        free_pending(pending);
        return NULL;
    }
    return pending;
}

void telegram_sender_set_gate(struct telegram_sender *sender, telegram_gate_fn open, void *context)
{
    pthread_mutex_lock(&sender->lock);
    sender->gate = open;
    sender->gate_context = context;
    pthread_mutex_unlock(&sender->lock);
}

/* Called and returns with sender->lock held; asks the gate without it. */
static int gate_open(struct telegram_sender *sender)
{
    if (sender->gate == NULL)
        return 1;
    telegram_gate_fn gate = sender->gate;
    void *context = sender->gate_context;
    pthread_mutex_unlock(&sender->lock);
    int open = gate(context);
    pthread_mutex_lock(&sender->lock);
    return open;
}

void telegram_sender_set_before_send(struct telegram_sender *sender,
                                     telegram_before_send_fn before_send, void *context)
{
    pthread_mutex_lock(&sender->lock);
    sender->before_send = before_send;
    sender->before_send_context = context;
    pthread_mutex_unlock(&sender->lock);
}

void telegram_sender_set_resolver(struct telegram_sender *sender, telegram_resolve_fn resolve,
                                  void *context)
{
    pthread_mutex_lock(&sender->lock);
    sender->resolve = resolve;
    sender->resolve_context = context;
    pthread_mutex_unlock(&sender->lock);
}

int telegram_sender_enqueue(struct telegram_sender *sender, const struct outgoing_message *message)
{
    if (message == NULL ||
        (is_plain_message(message) && (message->text == NULL || message->text[0] == '\0')))
        return JV_E_INVAL; /* Telegram refuses empty messages */
    struct pending *pending = copy_message(message);
    if (pending == NULL)
        return JV_E_NOMEM;
    /* formatted text is split on what it shows, which only Telegram counts */
    if (is_plain_message(message) && strstr(pending->message.options, "parse_mode") == NULL &&
        jv_utf16_length(pending->message.text) > TELEGRAM_MESSAGE_LIMIT) {
        log_warn("telegram: a message to chat %" PRId64 " is longer than %d UTF-16 units; "
                 "split it before queueing",
                 message->chat_id, TELEGRAM_MESSAGE_LIMIT);
        free_pending(pending);
        return JV_E_INVAL;
    }
    int64_t now = monotonic_ms();
    pthread_mutex_lock(&sender->lock);
    if (sender->stopping) {
        pthread_mutex_unlock(&sender->lock);
        free_pending(pending);
        return JV_E_STATE;
    }
    struct chat_lane *lane = lane_for(sender, message->chat_id, now);
    if (lane == NULL) {
        pthread_mutex_unlock(&sender->lock);
        free_pending(pending);
        return JV_E_NOMEM;
    }
    if (lane->tail != NULL)
        lane->tail->next = pending;
    else
        lane->head = pending;
    lane->tail = pending;
    sender->queued++;
    /* a ready or waiting lane is filed already; a sending one is refiled by
     * its worker */
    if (lane->state == LANE_IDLE)
        heap_remove(sender, lane);
    if (lane->state == LANE_IDLE || lane->state == LANE_NEW)
        settle_lane(sender, lane, now);
    pthread_mutex_unlock(&sender->lock);
    return JV_OK;
}

size_t telegram_sender_queued(struct telegram_sender *sender)
{
    pthread_mutex_lock(&sender->lock);
    size_t queued = sender->queued;
    pthread_mutex_unlock(&sender->lock);
    return queued;
}

size_t telegram_sender_lane_count(struct telegram_sender *sender)
{
    pthread_mutex_lock(&sender->lock);
    size_t count = sender->lanes.count;
    pthread_mutex_unlock(&sender->lock);
    return count;
}

size_t telegram_sender_flush(struct telegram_sender *sender, int64_t timeout_ms)
{
    int64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&sender->lock);
    for (;;) {
        int64_t left = deadline - monotonic_ms();
        if (sender->queued == 0 || left <= 0)
            break;
        struct timespec wake = monotonic_deadline_after(left);
        pthread_cond_timedwait(&sender->progress, &sender->lock, &wake);
    }
    size_t left = sender->queued;
    pthread_mutex_unlock(&sender->lock);
    return left;
}

/* ---- what a send's result means ---- */

static const char *describe_update(int64_t update_id, char *buffer, size_t size)
{
    if (update_id < 0)
        return "no update";
    snprintf(buffer, size, "update %" PRId64, update_id);
    return buffer;
}

static void note_recovered(struct telegram_sender *sender)
{
    if (sender->failing)
        log_info("telegram: sendMessage works again");
    sender->failing = 0;
    backoff_reset(&sender->backoff);
}

/* Every chat waits: a 5xx or a dead network is not one chat's problem. Sends
 * already in flight when the pause began fail for the same outage, so only a
 * send started after the last pause climbs the ladder. */
static void pause_for_outage(struct telegram_sender *sender, const struct telegram_result *result,
                             int64_t started_ms, int64_t now)
{
    if (!sender->failing)
        log_warn("telegram: sendMessage failing (%s); retrying with backoff", result->description);
    sender->failing = 1;
    if (started_ms >= sender->paused_until_ms)
        sender->paused_until_ms = now + backoff_next_delay(&sender->backoff);
}

static void refuse(struct telegram_sender *sender, const struct pending *pending, int64_t chat_id,
                   const struct telegram_result *result)
{
    char update[48];
    log_warn("telegram: sendMessage to chat %" PRId64 " (%s) refused (%ld %s); message dropped",
             chat_id, describe_update(pending->message.update_id, update, sizeof update),
             result->error_code, result->description);
    note_recovered(sender);
}

/* The wording of the 400 varies ("message thread not found", TOPIC_CLOSED...);
 * what we know is that we named a topic, and a reply in the chat's General
 * topic beats a lost one. The message stays first, so the chat keeps its order. */
static void drop_topic(struct telegram_sender *sender, struct pending *pending, int64_t chat_id,
                       const struct telegram_result *result)
{
    log_warn("telegram: chat %" PRId64 " refused topic %" PRId64 " (%s); sending the message "
             "without it",
             chat_id, pending->message.thread_id, result->description);
    pending->message.thread_id = 0;
    note_recovered(sender);
}

/* The lane takes the chat's new id, so a message queued after the
 * migration waits behind the ones resent there instead of overtaking them
 * from a lane of its own. When the new id has a lane already, both drain
 * (lane_for finds the old one by its own id). */
static void rekey_lane(struct telegram_sender *sender, struct chat_lane *lane, int64_t to)
{
    if (lane->chat_id == to || id_table_find(&sender->lanes, to) != NULL)
        return;
    int64_t from = lane->chat_id;
    id_table_remove(&sender->lanes, from);
    lane->chat_id = to;
    if (id_table_insert(&sender->lanes, &lane->chat_id) == 0)
        return;
    /* the slot just freed takes it back: a removal never leaves less room */
    lane->chat_id = from;
    (void)id_table_insert(&sender->lanes, &lane->chat_id);
}

static int follow_migration(struct telegram_sender *sender, struct chat_lane *lane,
                            struct pending *pending, int64_t chat_id,
                            const struct telegram_result *result)
{
    int64_t to = result->migrate_to_chat_id;
    if (to == chat_id || ++pending->migrations > MIGRATION_HOPS_MAX)
        return 0;
    log_info("telegram: chat %" PRId64 " became supergroup %" PRId64 "; sending there", chat_id,
             to);
    remember_migration(sender, chat_id, to);
    if (lane->chat_id != chat_id)
        remember_migration(sender, lane->chat_id, to);
    if (pending->message.chat_id != lane->chat_id)
        remember_migration(sender, pending->message.chat_id, to);
    rekey_lane(sender, lane, to);
    return 1;
}

/* Under the lock, after a send: 1 when the message is finished (*outcome
 * set), 0 when it stays at the head of its lane to be sent again. */
static int apply_result(struct telegram_sender *sender, struct chat_lane *lane,
                        struct pending *pending, int64_t chat_id, int64_t started_ms,
                        const struct telegram_result *result, enum send_outcome *outcome)
{
    int64_t now = monotonic_ms();
    telegram_metrics_send(result);
    /* an edit that changes nothing did what it was asked */
    if (result->outcome == TELEGRAM_REJECTED &&
        strstr(result->description, "message is not modified") != NULL) {
        note_recovered(sender);
        *outcome = SEND_DELIVERED;
        return 1;
    }
    if (result->outcome == TELEGRAM_REJECTED && result->error_code == 400 &&
        pending->message.thread_id != 0) {
        drop_topic(sender, pending, chat_id, result);
        return 0;
    }
    char update[48];
    switch (result->outcome) {
        case TELEGRAM_OK:
            note_recovered(sender);
            *outcome = SEND_DELIVERED;
            return 1;
        case TELEGRAM_RETRY_AFTER:
            /* retry_after is the wait before *this request* may be repeated:
         * only this chat waits, the others keep their own limits */
            log_warn("telegram: sendMessage to chat %" PRId64
                     " (%s) hit flood control; waiting %" PRId64 " s as Telegram asks",
                     chat_id, describe_update(pending->message.update_id, update, sizeof update),
                     result->retry_after_s);
            lane->paused_until_ms = now + result->retry_after_s * 1000;
            return 0;
        case TELEGRAM_MIGRATED:
            if (follow_migration(sender, lane, pending, chat_id, result))
                return 0;
            refuse(sender, pending, chat_id, result);
            *outcome = SEND_REFUSED;
            return 1;
        case TELEGRAM_TRANSIENT:
        case TELEGRAM_UNAUTHORIZED:
            /* a refused token is the bot's fault, not the message's: it stays
         * queued (the poll loop stops the process with exit 78) */
            pause_for_outage(sender, result, started_ms, now);
            return 0;
        case TELEGRAM_ABORTED: return 0;
        default:
            refuse(sender, pending, chat_id, result);
            *outcome = SEND_REFUSED;
            return 1;
    }
}

/* ---- the workers ---- */

static void fail_locally(struct telegram_result *result, enum telegram_outcome outcome,
                         const char *description)
{
    *result = (struct telegram_result){.outcome = outcome, .error_code = 400};
    snprintf(result->description, sizeof result->description, "%s", description);
}

static int method_is(const char *method, const char *name)
{
    return strcmp(method, name) == 0;
}

/* The request's parameters: the stored options plus chat, topic, text. */
static json_t *request_parameters(const char *method, int64_t chat_id,
                                  const struct pending *pending)
{
    const struct outgoing_message *message = &pending->message;
    json_t *parameters =
        message->options[0] != '\0' ? json_loads(message->options, 0, NULL) : json_object();
    if (!json_is_object(parameters)) {
        json_decref(parameters);
        return NULL;
    }
    json_object_set_new(parameters, "chat_id", json_integer(chat_id));
    int sends = method_is(method, "sendMessage") || method_is(method, "sendPhoto") ||
                method_is(method, "sendDocument");
    if (sends && message->thread_id != 0)
        json_object_set_new(parameters, "message_thread_id", json_integer(message->thread_id));
    if (method_is(method, "sendMessage") || method_is(method, "editMessageText"))
        json_object_set_new(parameters, "text", json_string(message->text));
    else if (sends && message->text[0] != '\0')
        json_object_set_new(parameters, "caption", json_string(message->text));
    if (method_is(method, "answerCallbackQuery"))
        json_object_del(parameters, "chat_id");
    return parameters;
}

/* What Telegram called the part: from the answer's head or its decoded result. */
static void note_sent_message_id(struct pending *pending, const struct telegram_result *result)
{
    json_t *message_id = json_object_get(result->value, "message_id");
    if (result->outcome == TELEGRAM_OK && json_is_integer(message_id))
        pending->message.sent_message_id = json_integer_value(message_id);
    else if (result->outcome == TELEGRAM_OK && result->message_id > 0)
        pending->message.sent_message_id = result->message_id;
}

/* A text message that edits nothing and carries no file, the most common
 * part by far: its body is written directly. 0 when it is not that kind or
 * the direct body does not apply; the general path then sends it. */
static int send_plain(struct telegram_api *api, int64_t chat_id, struct pending *pending,
                      struct telegram_result *result)
{
    const struct outgoing_message *message = &pending->message;
    if (!is_plain_message(message) || message->target != 0 || message->file != NULL)
        return 0;
    char *body =
        telegram_send_message_body(chat_id, message->thread_id, message->text, message->options);
    if (body == NULL)
        return 0;
    telegram_api_post(api, "sendMessage", body, message->reference != 0, SEND_TIMEOUT_S, result);
    free(body);
    note_sent_message_id(pending, result);
    return 1;
}

static void send_one(struct telegram_sender *sender, struct telegram_api *api, int64_t chat_id,
                     struct pending *pending, struct telegram_result *result)
{
    const struct outgoing_message *message = &pending->message;
    const char *method = method_of(message);
    if (send_plain(api, chat_id, pending, result))
        return;
    json_t *parameters = request_parameters(method, chat_id, pending);
    if (parameters == NULL) {
        fail_locally(result, TELEGRAM_REJECTED, "Bad Request: unreadable stored options");
        return;
    }
    if (message->target != 0) {
        pthread_mutex_lock(&sender->lock);
        telegram_resolve_fn resolve = sender->resolve;
        void *context = sender->resolve_context;
        pthread_mutex_unlock(&sender->lock);
        int64_t message_id = resolve != NULL ? resolve(message->target, context) : 0;
        if (message_id <= 0) {
            json_decref(parameters);
            fail_locally(result, TELEGRAM_REJECTED,
                         "the edited message is not known (never sent, or too old)");
            return;
        }
        json_object_set_new(parameters, "message_id", json_integer(message_id));
    }
    if (message->file != NULL)
        telegram_api_call_with_file(
            api, method, parameters, method_is(method, "sendPhoto") ? "photo" : "document",
            message->file, message->file_length, message->file_name, SEND_TIMEOUT_S * 4, result);
    else if (message->reference != 0)
        telegram_api_call_for_message_id(api, method, parameters, SEND_TIMEOUT_S, result);
    else
        telegram_api_call_without_result(api, method, parameters, SEND_TIMEOUT_S, result);
    json_decref(parameters);
    note_sent_message_id(pending, result);
}

/* The lane of fifo that may be sent for now, with both tokens taken; else
 * NULL and how long to sleep (-1: until woken, nothing is due). */
static struct chat_lane *take_lane(struct telegram_sender *sender, struct ready_fifo *fifo,
                                   int64_t now, int64_t *wait_ms)
{
    promote_due_lanes(sender, now);
    if (now < sender->paused_until_ms) {
        *wait_ms = sender->paused_until_ms - now;
        return NULL;
    }
    if (fifo->head == NULL) {
        /* with a loop, the loop watches the heap and refiles what is due */
        int watches_heap = fifo == &sender->loop_ready || sender->slot_count == 0;
        *wait_ms = watches_heap && sender->heap_size > 0 ? sender->heap[0]->due_ms - now : -1;
        return NULL;
    }
    refill(&sender->total_tokens, &sender->total_refilled_ms, sender->limits.total_per_second,
           sender->total_capacity, now);
    *wait_ms = ms_until_tokens(sender->total_tokens, 1.0, sender->limits.total_per_second);
    if (*wait_ms > 0)
        return NULL;
    struct chat_lane *lane = ready_pop(fifo);
    lane->state = LANE_SENDING;
    lane->tokens -= 1.0;
    sender->total_tokens -= 1.0;
    return lane;
}

/* Called with the lock held and returns with it held; the callback runs
 * without it (the caller writes to its store there). The lane stays
 * LANE_SENDING meanwhile, so the chat's next message waits for it. */
static void finish_message(struct telegram_sender *sender, struct chat_lane *lane,
                           enum send_outcome outcome)
{
    struct pending *pending = lane->head;
    lane->head = pending->next;
    if (lane->head == NULL)
        lane->tail = NULL;
    pthread_mutex_unlock(&sender->lock);
    sender->on_sent(&pending->message, outcome, sender->context);
    free_pending(pending);
    pthread_mutex_lock(&sender->lock);
    sender->queued--;
    pthread_cond_broadcast(&sender->progress);
}

static void *worker_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-sender"); /* roles in top -H, /proc */
    struct sender_worker *worker = argument;
    struct telegram_sender *sender = worker->sender;
    pthread_mutex_lock(&sender->lock);
    while (!sender->stopping) {
        int64_t now = monotonic_ms();
        int64_t wait_ms = -1;
        if (sender->queued > 0 && !gate_open(sender)) {
            struct timespec wake = monotonic_deadline_after(GATE_WAIT_MS);
            pthread_cond_timedwait(&sender->work, &sender->lock, &wake);
            continue;
        }
        struct chat_lane *lane = take_lane(sender, &sender->worker_ready, now, &wait_ms);
        if (lane == NULL && wait_ms < 0) {
            pthread_cond_wait(&sender->work, &sender->lock); /* an idle sender costs nothing */
            continue;
        }
        if (lane == NULL) {
            struct timespec wake = monotonic_deadline_after(wait_ms > 0 ? wait_ms : 1);
            pthread_cond_timedwait(&sender->work, &sender->lock, &wake);
            continue;
        }
        /* only this worker touches the head while the lane is LANE_SENDING */
        struct pending *pending = lane->head;
        int64_t chat_id = migrated_chat(sender, lane->chat_id);
        telegram_before_send_fn before_send = sender->before_send;
        void *before_send_context = sender->before_send_context;
        pthread_mutex_unlock(&sender->lock);

        if (before_send != NULL)
            before_send(pending->message.chat_id, before_send_context);
        struct telegram_result result;
        send_one(sender, worker->api, chat_id, pending, &result);
        telegram_result_release(&result);

        pthread_mutex_lock(&sender->lock);
        if (result.outcome == TELEGRAM_ABORTED)
            break; /* stopping: destroy frees the lane */
        enum send_outcome outcome = SEND_DELIVERED;
        if (apply_result(sender, lane, pending, chat_id, now, &result, &outcome))
            finish_message(sender, lane, outcome);
        settle_lane(sender, lane, monotonic_ms());
    }
    pthread_mutex_unlock(&sender->lock);
    return NULL;
}

/* ---- the loop: text messages, many in flight, one thread ---- */

#define WAKE_TAG ((void *)1)
#define ABORT_TAG ((void *)2)

/* The epoll watches what the slot's exchange waits for. A new connection
 * (a reconnect) has a new socket, maybe under the old number, and a new
 * generation: the closed one left the epoll with its close. */
static void watch_slot(struct telegram_sender *sender, struct send_slot *slot, int wants_write)
{
    unsigned long generation = 0;
    int socket = telegram_api_socket(slot->api, &generation);
    if (socket < 0)
        return;
    uint32_t events = wants_write ? EPOLLOUT : EPOLLIN;
    struct epoll_event event = {.events = events, .data.ptr = slot};
    if (generation != slot->generation) {
        if (epoll_ctl(sender->epoll_fd, EPOLL_CTL_ADD, socket, &event) != 0 && errno == EEXIST)
            epoll_ctl(sender->epoll_fd, EPOLL_CTL_MOD, socket, &event);
        slot->generation = generation;
    } else if (events != slot->events) {
        epoll_ctl(sender->epoll_fd, EPOLL_CTL_MOD, socket, &event);
    }
    slot->events = events;
}

/* Under the lock: what the send's result means, as a worker does it. */
static void complete_slot(struct telegram_sender *sender, struct send_slot *slot,
                          struct telegram_result *result)
{
    struct chat_lane *lane = slot->lane;
    struct pending *pending = slot->pending;
    slot->lane = NULL;
    slot->pending = NULL;
    note_sent_message_id(pending, result);
    if (result->outcome != TELEGRAM_ABORTED) { /* stopping: destroy frees the lane */
        enum send_outcome outcome = SEND_DELIVERED;
        if (apply_result(sender, lane, pending, slot->chat_id, slot->started_ms, result, &outcome))
            finish_message(sender, lane, outcome);
        settle_lane(sender, lane, monotonic_ms());
    }
    telegram_result_release(result);
}

/* Under the lock, after a step of the slot's send: its end, or its next wait. */
static void after_step(struct telegram_sender *sender, struct send_slot *slot, int done,
                       struct telegram_result *result, int wants_write)
{
    if (done)
        complete_slot(sender, slot, result);
    else
        watch_slot(sender, slot, wants_write);
}

/* Without the lock: 1 when the send is over already. */
static int start_send(struct telegram_sender *sender, struct send_slot *slot,
                      struct telegram_result *result, int *wants_write)
{
    const struct outgoing_message *message = &slot->pending->message;
    char *body = telegram_send_message_body(slot->chat_id, message->thread_id, message->text,
                                            message->options);
    if (body == NULL) { /* options the direct body does not take: the general path */
        send_one(sender, slot->api, slot->chat_id, slot->pending, result);
        return 1;
    }
    int done = telegram_api_start_post(slot->api, "sendMessage", body, message->reference != 0,
                                       SEND_TIMEOUT_S, result, wants_write);
    free(body);
    return done;
}

/* Under the lock (let go while the request starts): the slot's connection is there. */
static void begin_send(struct telegram_sender *sender, struct send_slot *slot)
{
    telegram_before_send_fn before_send = sender->before_send;
    void *before_send_context = sender->before_send_context;
    pthread_mutex_unlock(&sender->lock);
    if (before_send != NULL)
        before_send(slot->pending->message.chat_id, before_send_context);
    struct telegram_result result;
    int wants_write = 0;
    int done = start_send(sender, slot, &result, &wants_write);
    pthread_mutex_lock(&sender->lock);
    after_step(sender, slot, done, &result, wants_write);
}

/* Under the lock. */
static void start_slot(struct telegram_sender *sender, struct send_slot *slot,
                       struct chat_lane *lane, int64_t now)
{
    slot->lane = lane;
    slot->pending = lane->head; /* only this slot touches the head while LANE_SENDING */
    slot->chat_id = migrated_chat(sender, lane->chat_id);
    slot->started_ms = now;
    if (!telegram_api_connected(slot->api)) {
        slot->connecting = 1;
        pthread_cond_signal(&sender->connect_work);
        return;
    }
    begin_send(sender, slot);
}

/* Under the lock: slots whose connect is over send, or fail as a send would. */
static void finish_connects(struct telegram_sender *sender)
{
    for (int i = 0; i < sender->slot_count && !sender->stopping; i++) {
        struct send_slot *slot = &sender->slots[i];
        if (!slot->connecting || !slot->connect_done)
            continue;
        slot->connecting = 0;
        slot->connect_done = 0;
        if (slot->connect_result.outcome == TELEGRAM_OK)
            begin_send(sender, slot);
        else
            complete_slot(sender, slot, &slot->connect_result);
    }
}

static void *connector_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-connector"); /* roles in top -H, /proc */
    struct telegram_sender *sender = argument;
    pthread_mutex_lock(&sender->lock);
    while (!sender->stopping) {
        struct send_slot *slot = NULL;
        for (int i = 0; i < sender->slot_count && slot == NULL; i++)
            if (sender->slots[i].connecting && !sender->slots[i].connect_done)
                slot = &sender->slots[i];
        if (slot == NULL) {
            pthread_cond_wait(&sender->connect_work, &sender->lock);
            continue;
        }
        pthread_mutex_unlock(&sender->lock);
        struct telegram_result result;
        if (telegram_api_connect(slot->api, SEND_TIMEOUT_S, &result) == 0)
            result.outcome = TELEGRAM_OK;
        pthread_mutex_lock(&sender->lock);
        slot->connect_result = result;
        slot->connect_done = 1;
        wake_loop(sender);
    }
    pthread_mutex_unlock(&sender->lock);
    return NULL;
}

/* Under the lock: free slots take ready lanes. The ms until the loop must
 * look again for lanes, -1 when only an event can bring one. */
static int64_t fill_slots(struct telegram_sender *sender, int64_t now)
{
    if (sender->queued > 0 && !gate_open(sender))
        return GATE_WAIT_MS;
    for (int i = 0; i < sender->slot_count && !sender->stopping; i++) {
        struct send_slot *slot = &sender->slots[i];
        if (slot->lane != NULL)
            continue;
        int64_t wait_ms = -1;
        struct chat_lane *lane = take_lane(sender, &sender->loop_ready, now, &wait_ms);
        if (lane == NULL)
            return wait_ms;
        start_slot(sender, slot, lane, now);
    }
    /* every slot busy: the next answer frees one, but a lane of the
     * workers' may come due in the heap meanwhile (the loop refiles it) */
    int64_t later = monotonic_ms();
    promote_due_lanes(sender, later); /* what is due now leaves the heap */
    return sender->heap_size > 0 ? sender->heap[0]->due_ms - later : -1;
}

/* Under the lock: an event on a slot's socket. */
static void progress_slot(struct telegram_sender *sender, struct send_slot *slot)
{
    if (slot->lane == NULL) {
        /* readable between exchanges: the server closed it (or talks out of turn) */
        telegram_api_drop_idle(slot->api);
        return;
    }
    pthread_mutex_unlock(&sender->lock);
    struct telegram_result result;
    int wants_write = 0;
    int done = telegram_api_resume(slot->api, &result, &wants_write);
    pthread_mutex_lock(&sender->lock);
    after_step(sender, slot, done, &result, wants_write);
}

/* Under the lock: sends past their deadline end as timed out; the ms until
 * the next deadline (-1: none in flight). */
static int64_t expire_slots(struct telegram_sender *sender, int64_t now)
{
    int64_t next = -1;
    for (int i = 0; i < sender->slot_count; i++) {
        struct send_slot *slot = &sender->slots[i];
        if (slot->lane == NULL || slot->connecting) /* a connect keeps its own time */
            continue;
        int64_t left = telegram_api_deadline_ms(slot->api) - now;
        if (left <= 0) {
            struct telegram_result result;
            telegram_api_give_up(slot->api, &result);
            complete_slot(sender, slot, &result);
            continue;
        }
        if (next < 0 || left < next)
            next = left;
    }
    return next;
}

static int shorter_wait(int64_t a, int64_t b)
{
    int64_t wait = a < 0 ? b : (b < 0 || a < b ? a : b);
    if (wait > LONGEST_WAIT_MS)
        wait = LONGEST_WAIT_MS;
    return (int)wait;
}

static void handle_events(struct telegram_sender *sender, const struct epoll_event *events,
                          int count)
{
    for (int i = 0; i < count && !sender->stopping; i++) {
        void *tag = events[i].data.ptr;
        if (tag == WAKE_TAG) {
            uint64_t value;
            ssize_t got = read(sender->wake_fd, &value, sizeof value);
            (void)got;
        } else if (tag != ABORT_TAG) {
            progress_slot(sender, tag);
        }
    }
}

static void *loop_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-sender"); /* roles in top -H, /proc */
    struct telegram_sender *sender = argument;
    struct epoll_event events[MAXIMUM_CONNECTIONS + 2];
    pthread_mutex_lock(&sender->lock);
    while (!sender->stopping) {
        finish_connects(sender);
        int64_t now = monotonic_ms();
        int64_t lanes_wait = fill_slots(sender, now);
        if (sender->stopping)
            break;
        int64_t deadline_wait = expire_slots(sender, monotonic_ms());
        int timeout = shorter_wait(lanes_wait, deadline_wait);
        sender->loop_sleeping = 1;
        pthread_mutex_unlock(&sender->lock);
        int count = epoll_wait(sender->epoll_fd, events, sender->slot_count + 2, timeout);
        pthread_mutex_lock(&sender->lock);
        sender->loop_sleeping = 0;
        if (count > 0)
            handle_events(sender, events, count);
    }
    pthread_mutex_unlock(&sender->lock);
    return NULL;
}

static int start_loop(struct telegram_sender *sender, const char *api_base, const char *token)
{
    sender->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    sender->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (sender->epoll_fd < 0 || sender->wake_fd < 0)
        return -1;
    struct epoll_event wake = {.events = EPOLLIN, .data.ptr = WAKE_TAG};
    struct epoll_event abort = {.events = EPOLLIN, .data.ptr = ABORT_TAG};
    if (epoll_ctl(sender->epoll_fd, EPOLL_CTL_ADD, sender->wake_fd, &wake) != 0 ||
        epoll_ctl(sender->epoll_fd, EPOLL_CTL_ADD, sender->abort_fd, &abort) != 0)
        return -1;
    for (int i = 0; i < sender->slot_count; i++) {
        struct send_slot *slot = &sender->slots[i];
        if (slot->api == NULL) /* the first is made already (telegram_sender_create) */
            slot->api = telegram_api_create(api_base, token);
        if (slot->api == NULL)
            return -1;
        telegram_api_set_abort_fd(slot->api, sender->abort_fd);
    }
    if (pthread_create(&sender->connector, NULL, connector_main, sender) != 0)
        return -1;
    sender->connector_started = 1;
    if (pthread_create(&sender->loop, NULL, loop_main, sender) != 0)
        return -1;
    sender->loop_started = 1;
    return 0;
}

/* ---- creation and teardown ---- */

static int start_workers(struct telegram_sender *sender, const char *api_base, const char *token)
{
    for (int i = 0; i < sender->worker_count; i++) {
        struct sender_worker *worker = &sender->workers[i];
        worker->sender = sender;
        worker->api = telegram_api_create(api_base, token);
        if (worker->api == NULL)
            return -1;
        telegram_api_set_abort_fd(worker->api, sender->abort_fd);
        if (pthread_create(&worker->thread, NULL, worker_main, worker) != 0)
            return -1;
        worker->started = 1;
    }
    return 0;
}

struct telegram_sender *telegram_sender_create(const char *api_base, const char *token,
                                               const struct telegram_send_limits *limits,
                                               telegram_sent_fn on_sent, void *context)
{
    struct telegram_sender *sender = calloc(1, sizeof *sender);
    if (sender == NULL)
        return NULL;
    sender->limits = *limits;
    /* a rate of 0 would never refill (config.c refuses it; other callers may not) */
    if (!(sender->limits.per_chat_per_second > 0))
        sender->limits.per_chat_per_second = DEFAULT_PER_CHAT_PER_SECOND;
    if (!(sender->limits.total_per_second > 0))
        sender->limits.total_per_second = DEFAULT_TOTAL_PER_SECOND;
    limits = &sender->limits;
    sender->chat_capacity = limits->per_chat_burst < 1 ? 1 : limits->per_chat_burst;
    sender->total_capacity = limits->total_per_second < 1 ? 1 : limits->total_per_second;
    backoff_init(&sender->backoff, limits->backoff_initial_ms, limits->backoff_max_ms);
    sender->on_sent = on_sent;
    sender->context = context;
    sender->total_tokens = sender->total_capacity;
    sender->total_refilled_ms = monotonic_ms();
    id_table_init(&sender->lanes);
    id_table_init(&sender->migrations);
    int connections = limits->connections > 0 ? limits->connections : DEFAULT_CONNECTIONS;
    if (connections > MAXIMUM_CONNECTIONS)
        connections = MAXIMUM_CONNECTIONS;
    sender->epoll_fd = -1;
    sender->wake_fd = -1;
    /* the loop runs when calls go by hand, not through libcurl transfers (a
     * proxy from the environment, an unusual base URL); the api that tells
     * is the loop's first */
    struct telegram_api *first = telegram_api_create(api_base, token);
    if (first != NULL && telegram_api_can_start(first)) {
        sender->slot_count = connections;
        sender->slots = calloc((size_t)connections, sizeof *sender->slots);
        if (sender->slots != NULL)
            sender->slots[0].api = first;
        else
            telegram_api_destroy(first);
        sender->worker_count = WORKERS_BESIDE_LOOP;
    } else {
        telegram_api_destroy(first);
        sender->worker_count = connections;
    }
    sender->workers = calloc((size_t)sender->worker_count, sizeof *sender->workers);
    sender->abort_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&sender->lock, NULL);
    monotonic_cond_init(&sender->work);
    monotonic_cond_init(&sender->progress);
    pthread_cond_init(&sender->connect_work, NULL);
    if (sender->workers == NULL || sender->abort_fd < 0 ||
        (sender->slot_count > 0 && sender->slots == NULL) ||
        (sender->slot_count > 0 && start_loop(sender, api_base, token) != 0) ||
        start_workers(sender, api_base, token) != 0) {
        telegram_sender_destroy(sender);
        return NULL;
    }
    return sender;
}

static void free_lane_and_queue(void *record, void *context)
{
    struct chat_lane *lane = record;
    size_t *unsent = context;
    while (lane->head != NULL) {
        struct pending *pending = lane->head;
        lane->head = pending->next;
        free_pending(pending);
        ++*unsent;
    }
    free(lane);
}

static void free_record(void *record, void *context)
{
    (void)context;
    free(record);
}

void telegram_sender_destroy(struct telegram_sender *sender)
{
    if (sender == NULL)
        return;
    pthread_mutex_lock(&sender->lock);
    sender->stopping = 1;
    pthread_cond_broadcast(&sender->work);
    pthread_cond_broadcast(&sender->connect_work);
    pthread_mutex_unlock(&sender->lock);
    if (sender->abort_fd >= 0) {
        uint64_t one = 1;
        ssize_t written = write(sender->abort_fd, &one, sizeof one);
        (void)written;
    }
    for (int i = 0; sender->workers != NULL && i < sender->worker_count; i++) {
        if (sender->workers[i].started)
            pthread_join(sender->workers[i].thread, NULL);
        telegram_api_destroy(sender->workers[i].api);
    }
    if (sender->loop_started)
        pthread_join(sender->loop, NULL);
    if (sender->connector_started)
        pthread_join(sender->connector, NULL);
    for (int i = 0; sender->slots != NULL && i < sender->slot_count; i++)
        telegram_api_destroy(sender->slots[i].api); /* an exchange in flight ends with it */
    free(sender->slots);
    if (sender->epoll_fd >= 0)
        close(sender->epoll_fd);
    if (sender->wake_fd >= 0)
        close(sender->wake_fd);
    size_t unsent = 0;
    id_table_each(&sender->lanes, free_lane_and_queue, &unsent);
    if (unsent > 0)
        log_warn("telegram: %zu message(s) not sent before shutdown; they stay queued with the "
                 "caller and go out after a restart",
                 unsent);
    id_table_each(&sender->migrations, free_record, NULL);
    id_table_clear(&sender->lanes);
    id_table_clear(&sender->migrations);
    free(sender->heap);
    free(sender->workers);
    if (sender->abort_fd >= 0)
        close(sender->abort_fd);
    pthread_cond_destroy(&sender->work);
    pthread_cond_destroy(&sender->progress);
    pthread_cond_destroy(&sender->connect_work);
    pthread_mutex_destroy(&sender->lock);
    free(sender);
}
