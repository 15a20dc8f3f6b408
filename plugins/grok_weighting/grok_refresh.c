/* One mutex guards the table; the queue is the records' queue_order
 * (first asked, first fetched). Workers block every signal: the host's
 * signal handling must never run on them. */
#include "grok_refresh.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    int used;
    struct grok_record record;
    uint64_t queue_order; /* 0: not queued */
    int in_flight;
    struct grok_follower followers[GROK_FOLLOWERS_MAX];
    size_t follower_count;
};

struct grok_refresh {
    pthread_mutex_t lock;
    pthread_cond_t work;
    int stopping;
    uint64_t next_order;
    size_t running;
    size_t peak;
    struct slot slots[GROK_REFRESH_CAPACITY];
    grok_refresh_fetch_fn fetch;
    grok_refresh_done_fn done;
    void *context;
    pthread_t *threads;
    size_t thread_count;
};

static struct slot *find(struct grok_refresh *refresh, const char *symbol)
{
    for (size_t i = 0; i < GROK_REFRESH_CAPACITY; i++)
        if (refresh->slots[i].used && strcmp(refresh->slots[i].record.symbol, symbol) == 0)
            return &refresh->slots[i];
    return NULL;
}

/* symbol's slot, created when missing: a free one, else the idle one asked
 * about longest ago. NULL when every slot is busy. */
static struct slot *find_or_add(struct grok_refresh *refresh, const char *symbol)
{
    struct slot *slot = find(refresh, symbol);
    if (slot != NULL)
        return slot;
    struct slot *victim = NULL;
    for (size_t i = 0; i < GROK_REFRESH_CAPACITY; i++) {
        struct slot *candidate = &refresh->slots[i];
        if (!candidate->used) {
            victim = candidate;
            break;
        }
        if (candidate->in_flight || candidate->queue_order != 0)
            continue;
        if (victim == NULL || candidate->record.last_asked_ms < victim->record.last_asked_ms)
            victim = candidate;
    }
    if (victim == NULL)
        return NULL;
    memset(victim, 0, sizeof *victim);
    victim->used = 1;
    snprintf(victim->record.symbol, sizeof victim->record.symbol, "%s", symbol);
    return victim;
}

static struct slot *next_queued(struct grok_refresh *refresh)
{
    struct slot *first = NULL;
    for (size_t i = 0; i < GROK_REFRESH_CAPACITY; i++) {
        struct slot *slot = &refresh->slots[i];
        if (slot->used && slot->queue_order != 0 &&
            (first == NULL || slot->queue_order < first->queue_order))
            first = slot;
    }
    return first;
}

static void run_one(struct grok_refresh *refresh, struct slot *slot)
{
    struct grok_record record = slot->record;
    slot->queue_order = 0;
    slot->in_flight = 1;
    refresh->running++;
    if (refresh->running > refresh->peak)
        refresh->peak = refresh->running;
    pthread_mutex_unlock(&refresh->lock);

    refresh->fetch(&record, refresh->context);

    pthread_mutex_lock(&refresh->lock);
    record.last_asked_ms = slot->record.last_asked_ms; /* asks during the fetch count */
    slot->record = record;
    slot->in_flight = 0;
    refresh->running--;
    struct grok_follower followers[GROK_FOLLOWERS_MAX];
    size_t follower_count = slot->follower_count;
    memcpy(followers, slot->followers, sizeof followers);
    slot->follower_count = 0;
    pthread_mutex_unlock(&refresh->lock);

    refresh->done(&record, followers, follower_count, refresh->context);
    pthread_mutex_lock(&refresh->lock);
}

static void *worker_main(void *argument)
{
    struct grok_refresh *refresh = argument;
    pthread_mutex_lock(&refresh->lock);
    for (;;) {
        struct slot *slot = NULL;
        while (!refresh->stopping && (slot = next_queued(refresh)) == NULL)
            pthread_cond_wait(&refresh->work, &refresh->lock);
        if (refresh->stopping)
            break;
        run_one(refresh, slot);
    }
    pthread_mutex_unlock(&refresh->lock);
    return NULL;
}

struct grok_refresh *grok_refresh_start(size_t workers, grok_refresh_fetch_fn fetch,
                                        grok_refresh_done_fn done, void *context)
{
    struct grok_refresh *refresh = calloc(1, sizeof *refresh);
    if (refresh == NULL)
        return NULL;
    refresh->threads = calloc(workers > 0 ? workers : 1, sizeof *refresh->threads);
    if (refresh->threads == NULL) {
        free(refresh);
        return NULL;
    }
    pthread_mutex_init(&refresh->lock, NULL);
    pthread_cond_init(&refresh->work, NULL);
    refresh->fetch = fetch;
    refresh->done = done;
    refresh->context = context;
    refresh->next_order = 1;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    for (size_t i = 0; i < workers; i++) {
        if (pthread_create(&refresh->threads[refresh->thread_count], NULL, worker_main, refresh) ==
            0)
            refresh->thread_count++;
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (refresh->thread_count == 0) {
        grok_refresh_stop(refresh);
        return NULL;
    }
    return refresh;
}

void grok_refresh_stop(struct grok_refresh *refresh)
{
    if (refresh == NULL)
        return;
    pthread_mutex_lock(&refresh->lock);
    refresh->stopping = 1;
    pthread_cond_broadcast(&refresh->work);
    pthread_mutex_unlock(&refresh->lock);
    for (size_t i = 0; i < refresh->thread_count; i++)
        pthread_join(refresh->threads[i], NULL);
    pthread_cond_destroy(&refresh->work);
    pthread_mutex_destroy(&refresh->lock);
    free(refresh->threads);
    free(refresh);
}

void grok_refresh_load(struct grok_refresh *refresh, const struct grok_record *record)
{
    pthread_mutex_lock(&refresh->lock);
    struct slot *slot = find_or_add(refresh, record->symbol);
    if (slot != NULL)
        slot->record = *record;
    pthread_mutex_unlock(&refresh->lock);
}

int grok_refresh_lookup(struct grok_refresh *refresh, const char *symbol, struct grok_record *out,
                        int *pending)
{
    pthread_mutex_lock(&refresh->lock);
    struct slot *slot = find(refresh, symbol);
    if (slot != NULL)
        *out = slot->record;
    if (pending != NULL)
        *pending = slot != NULL && (slot->in_flight || slot->queue_order != 0);
    pthread_mutex_unlock(&refresh->lock);
    return slot != NULL;
}

void grok_refresh_touch(struct grok_refresh *refresh, const char *symbol, int64_t now_ms)
{
    pthread_mutex_lock(&refresh->lock);
    struct slot *slot = find_or_add(refresh, symbol);
    if (slot != NULL)
        slot->record.last_asked_ms = now_ms;
    pthread_mutex_unlock(&refresh->lock);
}

/* A chat follows once; a later answer with a reference replaces one
 * without, so the newest "rating in progress" is the one edited. */
static int add_follower(struct slot *slot, const struct grok_follower *follower)
{
    if (follower->chat_id == 0)
        return 1;
    for (size_t i = 0; i < slot->follower_count; i++)
        if (slot->followers[i].chat_id == follower->chat_id) {
            if (follower->reference != 0)
                slot->followers[i] = *follower;
            return 1;
        }
    if (slot->follower_count >= GROK_FOLLOWERS_MAX)
        return -1;
    slot->followers[slot->follower_count++] = *follower;
    return 1;
}

int grok_refresh_follow(struct grok_refresh *refresh, const char *symbol,
                        const struct grok_follower *follower)
{
    pthread_mutex_lock(&refresh->lock);
    struct slot *slot = find(refresh, symbol);
    int result = 0;
    if (slot != NULL && (slot->in_flight || slot->queue_order != 0))
        result = add_follower(slot, follower);
    pthread_mutex_unlock(&refresh->lock);
    return result;
}

int grok_refresh_request(struct grok_refresh *refresh, const char *symbol, int64_t chat_id)
{
    pthread_mutex_lock(&refresh->lock);
    struct slot *slot = find_or_add(refresh, symbol);
    int result = -1;
    if (slot != NULL) {
        struct grok_follower follower = {.chat_id = chat_id};
        add_follower(slot, &follower);
        result = 0;
        if (!slot->in_flight && slot->queue_order == 0) {
            slot->queue_order = refresh->next_order++;
            pthread_cond_signal(&refresh->work);
            result = 1;
        }
    }
    pthread_mutex_unlock(&refresh->lock);
    return result;
}

size_t grok_refresh_recent(struct grok_refresh *refresh, int64_t since_ms,
                           char (*out)[GROK_SYMBOL_SIZE], size_t max)
{
    size_t count = 0;
    pthread_mutex_lock(&refresh->lock);
    for (size_t i = 0; i < GROK_REFRESH_CAPACITY && count < max; i++) {
        const struct slot *slot = &refresh->slots[i];
        if (slot->used && slot->record.last_asked_ms >= since_ms)
            snprintf(out[count++], GROK_SYMBOL_SIZE, "%s", slot->record.symbol);
    }
    pthread_mutex_unlock(&refresh->lock);
    return count;
}

size_t grok_refresh_peak(struct grok_refresh *refresh)
{
    pthread_mutex_lock(&refresh->lock);
    size_t peak = refresh->peak;
    pthread_mutex_unlock(&refresh->lock);
    return peak;
}
