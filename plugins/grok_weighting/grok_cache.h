/* Per-symbol cache of Grok ratings with single flight: good answers live for
 * ttl, failures for a hold the fetcher chooses, and concurrent asks for one
 * symbol wait for the one fetch in flight instead of making their own. */
#ifndef GROK_CACHE_H
#define GROK_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/svc/sentiment_weight.h>

struct grok_cache;

/* Fetches a rating for symbol (called without the cache lock held) and sets
 * *keep_ms: how long the result stays cached. */
typedef void (*grok_fetch_fn)(const char *symbol, jv_grok_rating *rating, int64_t *keep_ms,
                              void *context);
/* Monotonic milliseconds; injectable so the expiry tests need no sleeping. */
typedef int64_t (*grok_clock_fn)(void *context);

/* clock NULL: CLOCK_MONOTONIC. capacity: most symbols remembered (>= 1). */
struct grok_cache *grok_cache_create(size_t capacity, grok_clock_fn clock, void *clock_context);
void grok_cache_destroy(struct grok_cache *cache);

/* The cached rating when fresh; otherwise fetches it (one caller fetches,
 * the others wait for its result). *from_cache tells which (may be NULL). */
void grok_cache_get(struct grok_cache *cache, const char *symbol, grok_fetch_fn fetch,
                    void *fetch_context, jv_grok_rating *rating, int *from_cache);

/* How many callers are waiting on symbol's fetch in flight (for tests). */
size_t grok_cache_waiters(struct grok_cache *cache, const char *symbol);

#endif
