/* A small fixed-capacity table under one mutex. Each entry has its own
 * condition variable so a finished fetch wakes only the callers waiting for
 * that symbol. Entries with a fetch in flight or waiters are never evicted. */
#include "grok_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SYMBOL_MAX 32

struct cache_entry {
    char symbol[SYMBOL_MAX];
    int used;
    int has_value;
    int in_flight;
    size_t waiters;
    uint64_t generation; /* bumped when a fetch completes */
    int64_t expires_at_ms;
    jv_grok_rating rating;
    pthread_cond_t done;
};

struct grok_cache {
    pthread_mutex_t lock;
    struct cache_entry *entries;
    size_t capacity;
    grok_clock_fn clock;
    void *clock_context;
};

static int64_t monotonic_ms(void *context)
{
    (void)context;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

struct grok_cache *grok_cache_create(size_t capacity, grok_clock_fn clock, void *clock_context)
{
    if (capacity == 0)
        capacity = 1;
    struct grok_cache *cache = calloc(1, sizeof *cache);
    if (cache == NULL)
        return NULL;
    cache->entries = calloc(capacity, sizeof *cache->entries);
    if (cache->entries == NULL) {
        free(cache);
        return NULL;
    }
    cache->capacity = capacity;
    cache->clock = clock ? clock : monotonic_ms;
    cache->clock_context = clock_context;
    pthread_mutex_init(&cache->lock, NULL);
    for (size_t i = 0; i < capacity; i++)
        pthread_cond_init(&cache->entries[i].done, NULL);
    return cache;
}

void grok_cache_destroy(struct grok_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->capacity; i++)
        pthread_cond_destroy(&cache->entries[i].done);
    pthread_mutex_destroy(&cache->lock);
    free(cache->entries);
    free(cache);
}

static struct cache_entry *find(struct grok_cache *cache, const char *symbol)
{
    for (size_t i = 0; i < cache->capacity; i++) {
        struct cache_entry *entry = &cache->entries[i];
        if (entry->used && strcmp(entry->symbol, symbol) == 0)
            return entry;
    }
    return NULL;
}

static int evictable(const struct cache_entry *entry)
{
    return !entry->in_flight && entry->waiters == 0;
}

/* A free slot, else the idle entry that expires first; NULL when every
 * entry is busy (the caller then fetches without caching). */
static struct cache_entry *claim(struct grok_cache *cache, const char *symbol)
{
    struct cache_entry *victim = NULL;
    for (size_t i = 0; i < cache->capacity; i++) {
        struct cache_entry *entry = &cache->entries[i];
        if (!entry->used) {
            victim = entry;
            break;
        }
        if (evictable(entry) && (victim == NULL || entry->expires_at_ms < victim->expires_at_ms))
            victim = entry;
    }
    if (victim == NULL)
        return NULL;
    victim->used = 1;
    victim->has_value = 0;
    victim->in_flight = 0;
    victim->expires_at_ms = 0;
    strncpy(victim->symbol, symbol, SYMBOL_MAX - 1);
    victim->symbol[SYMBOL_MAX - 1] = '\0';
    return victim;
}

static int fresh(struct grok_cache *cache, const struct cache_entry *entry)
{
    return entry->has_value && cache->clock(cache->clock_context) < entry->expires_at_ms;
}

static void fetch_uncached(const char *symbol, grok_fetch_fn fetch, void *context,
                           jv_grok_rating *rating)
{
    int64_t keep_ms = 0;
    memset(rating, 0, sizeof *rating);
    fetch(symbol, rating, &keep_ms, context);
}

void grok_cache_get(struct grok_cache *cache, const char *symbol, grok_fetch_fn fetch,
                    void *fetch_context, jv_grok_rating *rating, int *from_cache)
{
    int cached = 0;
    pthread_mutex_lock(&cache->lock);
    struct cache_entry *entry = find(cache, symbol);
    if (entry == NULL)
        entry = claim(cache, symbol);
    if (entry == NULL) {
        pthread_mutex_unlock(&cache->lock);
        fetch_uncached(symbol, fetch, fetch_context, rating);
        goto out;
    }
    if (entry->in_flight) {
        uint64_t generation = entry->generation;
        entry->waiters++;
        while (entry->generation == generation)
            pthread_cond_wait(&entry->done, &cache->lock);
        entry->waiters--;
        *rating = entry->rating;
        cached = 1;
        pthread_mutex_unlock(&cache->lock);
        goto out;
    }
    if (fresh(cache, entry)) {
        *rating = entry->rating;
        cached = 1;
        pthread_mutex_unlock(&cache->lock);
        goto out;
    }
    entry->in_flight = 1;
    pthread_mutex_unlock(&cache->lock);

    jv_grok_rating result;
    int64_t keep_ms = 0;
    memset(&result, 0, sizeof result);
    fetch(symbol, &result, &keep_ms, fetch_context);

    pthread_mutex_lock(&cache->lock);
    entry->rating = result;
    entry->has_value = 1;
    entry->expires_at_ms = cache->clock(cache->clock_context) + (keep_ms > 0 ? keep_ms : 0);
    entry->in_flight = 0;
    entry->generation++;
    pthread_cond_broadcast(&entry->done);
    pthread_mutex_unlock(&cache->lock);
    *rating = result;
out:
    if (from_cache != NULL)
        *from_cache = cached;
}

size_t grok_cache_waiters(struct grok_cache *cache, const char *symbol)
{
    pthread_mutex_lock(&cache->lock);
    struct cache_entry *entry = find(cache, symbol);
    size_t waiters = entry ? entry->waiters : 0;
    pthread_mutex_unlock(&cache->lock);
    return waiters;
}
