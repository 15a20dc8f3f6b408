/* The narrative cache (grok_narratives.h): a small fixed table keyed by a
 * hash of the prompt, guarded by one mutex, entries older than the TTL
 * ignored and overwritten first. */
#include "grok_narratives.h"

#include <stdio.h>
#include <string.h>

static uint64_t prompt_hash(const char *prompt)
{
    uint64_t hash = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)prompt; *p != '\0'; p++) {
        hash ^= *p;
        hash *= 1099511628211ull;
    }
    return hash != 0 ? hash : 1; /* 0 marks an empty slot */
}

void grok_narratives_init(struct grok_narratives *cache, int64_t ttl_ms)
{
    memset(cache, 0, sizeof *cache);
    pthread_mutex_init(&cache->lock, NULL);
    cache->ttl_ms = ttl_ms > 0 ? ttl_ms : 0;
}

void grok_narratives_destroy(struct grok_narratives *cache)
{
    pthread_mutex_destroy(&cache->lock);
}

static int is_fresh(const struct grok_narratives *cache, const struct grok_narrative_entry *entry,
                    int64_t now_ms)
{
    return entry->hash != 0 && now_ms - entry->stored_at_ms < cache->ttl_ms;
}

int grok_narratives_find(struct grok_narratives *cache, const char *prompt, int64_t now_ms,
                         char *out, size_t out_length)
{
    if (cache->ttl_ms == 0 || out_length == 0)
        return 0;
    uint64_t hash = prompt_hash(prompt);
    size_t length = strlen(prompt);
    int found = 0;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < GROK_NARRATIVES_MAX && !found; i++) {
        const struct grok_narrative_entry *entry = &cache->entries[i];
        /* the length as well, so a hash collision needs two equal-length prompts */
        if (entry->hash == hash && entry->prompt_length == length &&
            is_fresh(cache, entry, now_ms)) {
            snprintf(out, out_length, "%s", entry->text);
            found = 1;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return found;
}

void grok_narratives_store(struct grok_narratives *cache, const char *prompt, const char *text,
                           int64_t now_ms)
{
    if (cache->ttl_ms == 0)
        return;
    uint64_t hash = prompt_hash(prompt);
    pthread_mutex_lock(&cache->lock);
    struct grok_narrative_entry *slot = &cache->entries[0];
    for (size_t i = 0; i < GROK_NARRATIVES_MAX; i++) {
        struct grok_narrative_entry *entry = &cache->entries[i];
        if (entry->hash == hash || !is_fresh(cache, entry, now_ms)) {
            slot = entry;
            break;
        }
        if (entry->stored_at_ms < slot->stored_at_ms)
            slot = entry;
    }
    slot->hash = hash;
    slot->prompt_length = strlen(prompt);
    slot->stored_at_ms = now_ms;
    snprintf(slot->text, sizeof slot->text, "%s", text);
    pthread_mutex_unlock(&cache->lock);
}
