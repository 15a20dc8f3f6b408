/* The per-chat in-memory cap of chat_admission.h. A chat has a slot while
 * it holds anything or has rows waiting; parts remember their chat so the
 * sender's callback needs to know nothing about it. The waiting rows are
 * remembered by update_id, in the order they were offered, so a load reads
 * each by its key: a search of the inbox by chat would scan every row of
 * every chat (the inbox has no index on chat, which would cost its pages in
 * every commit). */
#include "dispatch/chat_admission.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/id_table.h"

#define LOAD_RETRY_FIRST_MS 100
#define LOAD_RETRY_MAX_MS 30000

struct chat_slot {
    int64_t chat_id;      /* first: the id_table key */
    long held;            /* updates in dispatch + parts not yet sent */
    int64_t last_arrival; /* of the last row admitted */
    int loading;          /* a caller is loading its rows */
    /* After a load whose read failed: not taken again before retry_at_ms
     * (monotonic), the wait doubling from LOAD_RETRY_FIRST_MS up to
     * LOAD_RETRY_MAX_MS; 0 when the last load read. */
    int64_t retry_at_ms;
    int64_t retry_wait_ms;
    /* The rows left in the inbox: waiting update_ids from waiting_ids[first]
     * on, oldest first, in an array of allocated. */
    int64_t *waiting_ids;
    size_t first, waiting, allocated;
};

struct held_part {
    int64_t outbox_id; /* first: the id_table key */
    int64_t chat_id;
};

struct chat_admission {
    pthread_mutex_t lock;
    long cap;
    struct id_table chats;
    struct id_table parts;
    size_t held, most_of_one_chat;
    size_t retrying; /* slots backing off after a failed read: 0 spares the walk */
};

struct chat_admission *chat_admission_create(long cap)
{
    struct chat_admission *admission = calloc(1, sizeof *admission);
    if (admission == NULL)
        return NULL;
    pthread_mutex_init(&admission->lock, NULL);
    admission->cap = cap > 0 ? cap : 1;
    id_table_init(&admission->chats);
    id_table_init(&admission->parts);
    return admission;
}

static void free_record(void *record, void *context)
{
    (void)context;
    free(record);
}

static void free_slot(void *record, void *context)
{
    (void)context;
    struct chat_slot *slot = record;
    free(slot->waiting_ids);
    free(slot);
}

void chat_admission_destroy(struct chat_admission *admission)
{
    if (admission == NULL)
        return;
    id_table_each(&admission->chats, free_slot, NULL);
    id_table_clear(&admission->chats);
    id_table_each(&admission->parts, free_record, NULL);
    id_table_clear(&admission->parts);
    pthread_mutex_destroy(&admission->lock);
    free(admission);
}

/* Under the lock. NULL only when out of memory. */
static struct chat_slot *slot_for(struct chat_admission *admission, int64_t chat_id)
{
    struct chat_slot *slot = id_table_find(&admission->chats, chat_id);
    if (slot != NULL)
        return slot;
    slot = calloc(1, sizeof *slot);
    if (slot == NULL)
        return NULL;
    slot->chat_id = chat_id;
    if (id_table_insert(&admission->chats, &slot->chat_id) != 0) {
        free(slot);
        return NULL;
    }
    return slot;
}

/* Under the lock: a chat that holds nothing and waits for nothing is
 * forgotten, so memory follows the active chats, not all chats ever seen. */
static void forget_if_idle(struct chat_admission *admission, struct chat_slot *slot)
{
    if (slot->held > 0 || slot->waiting > 0 || slot->loading)
        return;
    id_table_remove(&admission->chats, slot->chat_id);
    free_slot(slot, NULL);
}

/* Under the lock: update_id joins the end of the chat's waiting rows; -1
 * when out of memory. */
static int remember_waiting(struct chat_slot *slot, int64_t update_id)
{
    if (slot->first > 0 && slot->first + slot->waiting == slot->allocated) {
        memmove(slot->waiting_ids, slot->waiting_ids + slot->first,
                slot->waiting * sizeof *slot->waiting_ids);
        slot->first = 0;
    }
    if (slot->waiting == slot->allocated) {
        size_t allocated = slot->allocated > 0 ? slot->allocated * 2 : 16;
        int64_t *grown = realloc(slot->waiting_ids, allocated * sizeof *grown);
        if (grown == NULL)
            return -1;
        slot->waiting_ids = grown;
        slot->allocated = allocated;
    }
    slot->waiting_ids[slot->first + slot->waiting++] = update_id;
    return 0;
}

/* Under the lock: the oldest count waiting rows are done with. */
static void forget_waiting(struct chat_slot *slot, size_t count)
{
    if (count >= slot->waiting) {
        free(slot->waiting_ids); /* a flood's array goes with it */
        slot->waiting_ids = NULL;
        slot->first = slot->waiting = slot->allocated = 0;
        return;
    }
    slot->first += count;
    slot->waiting -= count;
}

static void add_held(struct chat_admission *admission, struct chat_slot *slot, long count)
{
    slot->held += count;
    admission->held = (size_t)((long)admission->held + count);
    if (slot->held > 0 && (size_t)slot->held > admission->most_of_one_chat)
        admission->most_of_one_chat = (size_t)slot->held;
}

int chat_admission_offer(struct chat_admission *admission, int64_t chat_id, int64_t update_id,
                         int64_t arrival)
{
    pthread_mutex_lock(&admission->lock);
    struct chat_slot *slot = slot_for(admission, chat_id);
    int admitted = 1; /* out of memory for the slot: as before, no cap */
    if (slot != NULL && arrival <= slot->last_arrival) {
        admitted = 0; /* not after the last admitted arrival: admitted already */
    } else if (slot != NULL &&
               (slot->waiting > 0 || slot->loading || slot->held >= admission->cap) &&
               remember_waiting(slot, update_id) == 0) {
        admitted = 0;
    } else if (slot != NULL) {
        add_held(admission, slot, 1); /* out of memory for its id: no cap for it */
        slot->last_arrival = arrival;
    }
    pthread_mutex_unlock(&admission->lock);
    return admitted;
}

int64_t *chat_admission_take_waiting(struct chat_admission *admission, int64_t chat_id,
                                     size_t *count)
{
    *count = 0;
    pthread_mutex_lock(&admission->lock);
    struct chat_slot *slot = id_table_find(&admission->chats, chat_id);
    int64_t *ids = NULL;
    /* at half the cap, so loads come in batches rather than row by row */
    if (slot != NULL && slot->waiting > 0 && !slot->loading && slot->held <= admission->cap / 2 &&
        (slot->retry_at_ms == 0 || monotonic_ms() >= slot->retry_at_ms)) {
        size_t free_room = (size_t)(admission->cap - slot->held);
        size_t room = free_room < slot->waiting ? free_room : slot->waiting;
        ids = malloc(room * sizeof *ids);
        if (ids != NULL) {
            memcpy(ids, slot->waiting_ids + slot->first, room * sizeof *ids);
            *count = room;
            slot->loading = 1;
        }
    }
    pthread_mutex_unlock(&admission->lock);
    return ids;
}

/* Under the lock: the read failed, so the rows stay waiting (the chat's
 * later updates queue behind them, its order kept) and are taken again
 * once the wait is over. */
static enum load_change load_failed(struct chat_admission *admission, struct chat_slot *slot)
{
    int first = slot->retry_wait_ms == 0;
    admission->retrying += (size_t)first;
    slot->retry_wait_ms = first ? LOAD_RETRY_FIRST_MS : slot->retry_wait_ms * 2;
    if (slot->retry_wait_ms > LOAD_RETRY_MAX_MS)
        slot->retry_wait_ms = LOAD_RETRY_MAX_MS;
    slot->retry_at_ms = monotonic_ms() + slot->retry_wait_ms;
    return first ? LOAD_FAILED : LOAD_UNCHANGED;
}

enum load_change chat_admission_loaded(struct chat_admission *admission, int64_t chat_id,
                                       size_t taken, int read, size_t dispatched,
                                       int64_t last_arrival)
{
    enum load_change change = LOAD_UNCHANGED;
    pthread_mutex_lock(&admission->lock);
    struct chat_slot *slot = id_table_find(&admission->chats, chat_id);
    if (slot != NULL) {
        slot->loading = 0;
        add_held(admission, slot, (long)dispatched);
        if (last_arrival > slot->last_arrival)
            slot->last_arrival = last_arrival;
        if (!read) {
            change = load_failed(admission, slot);
        } else {
            change = slot->retry_wait_ms != 0 ? LOAD_RECOVERED : LOAD_UNCHANGED;
            admission->retrying -= (size_t)(change == LOAD_RECOVERED);
            slot->retry_at_ms = slot->retry_wait_ms = 0;
            forget_waiting(slot, taken);
        }
        forget_if_idle(admission, slot);
    }
    pthread_mutex_unlock(&admission->lock);
    return change;
}

struct due_loads {
    int64_t now_ms, next_ms;
    int64_t *chats;
    size_t max, count;
};

static void collect_due(void *record, void *context)
{
    struct chat_slot *slot = record;
    struct due_loads *due = context;
    if (slot->retry_at_ms == 0 || slot->loading || slot->waiting == 0)
        return;
    if (slot->retry_at_ms <= due->now_ms && due->count < due->max)
        due->chats[due->count++] = slot->chat_id;
    int64_t wait = slot->retry_at_ms > due->now_ms ? slot->retry_at_ms - due->now_ms : 0;
    if (due->next_ms < 0 || wait < due->next_ms)
        due->next_ms = wait;
}

int64_t chat_admission_due_loads(struct chat_admission *admission, int64_t *chats, size_t max,
                                 size_t *count)
{
    struct due_loads due = {.now_ms = monotonic_ms(), .next_ms = -1, .chats = chats, .max = max};
    pthread_mutex_lock(&admission->lock);
    if (admission->retrying > 0) /* else no slot backs off: none to visit */
        id_table_each(&admission->chats, collect_due, &due);
    pthread_mutex_unlock(&admission->lock);
    *count = due.count;
    return due.next_ms;
}

void chat_admission_handled(struct chat_admission *admission, int64_t chat_id,
                            const int64_t *outbox_ids, size_t part_count)
{
    pthread_mutex_lock(&admission->lock);
    struct chat_slot *slot = id_table_find(&admission->chats, chat_id);
    if (slot != NULL) {
        size_t kept = 0;
        for (size_t i = 0; i < part_count; i++) {
            if (id_table_find(&admission->parts, outbox_ids[i]) != NULL)
                continue; /* held already: an id is never held twice */
            struct held_part *part = malloc(sizeof *part);
            if (part == NULL)
                continue; /* not held: it never counts against the chat */
            *part = (struct held_part){.outbox_id = outbox_ids[i], .chat_id = chat_id};
            if (id_table_insert(&admission->parts, &part->outbox_id) != 0) {
                free(part);
                continue;
            }
            kept++;
        }
        add_held(admission, slot, (long)kept - 1);
        forget_if_idle(admission, slot);
    }
    pthread_mutex_unlock(&admission->lock);
}

int chat_admission_part_sent(struct chat_admission *admission, int64_t outbox_id, int64_t *chat_id)
{
    pthread_mutex_lock(&admission->lock);
    struct held_part *part = id_table_find(&admission->parts, outbox_id);
    int held = part != NULL;
    if (held) {
        *chat_id = part->chat_id;
        id_table_remove(&admission->parts, outbox_id);
        free(part);
        struct chat_slot *slot = id_table_find(&admission->chats, *chat_id);
        if (slot != NULL) {
            add_held(admission, slot, -1);
            forget_if_idle(admission, slot);
        }
    }
    pthread_mutex_unlock(&admission->lock);
    return held;
}

size_t chat_admission_held(struct chat_admission *admission, size_t *most_of_one_chat)
{
    pthread_mutex_lock(&admission->lock);
    size_t held = admission->held;
    if (most_of_one_chat != NULL)
        *most_of_one_chat = admission->most_of_one_chat;
    pthread_mutex_unlock(&admission->lock);
    return held;
}
