/* Per-user and per-chat limits on asks that start a paid xAI call: at most
 * N per id in a fixed one-hour window, in memory (a restart forgives). */
#ifndef GROK_LIMITS_H
#define GROK_LIMITS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define GROK_LIMIT_SLOTS 256

struct grok_limit_slot {
    int64_t id;
    int64_t window_start_ms;
    int64_t count;
};

struct grok_limits {
    pthread_mutex_t lock;
    int64_t per_hour; /* 0: no limit */
    struct grok_limit_slot slots[GROK_LIMIT_SLOTS];
};

void grok_limits_init(struct grok_limits *limits, int64_t per_hour);
void grok_limits_destroy(struct grok_limits *limits);

/* 1 and the ask counted when id is under its limit at now_ms, else 0 with
 * *wait_s the seconds until its window ends. */
int grok_limits_take(struct grok_limits *limits, int64_t id, int64_t now_ms, int64_t *wait_s);

#endif
