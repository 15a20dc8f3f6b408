/* A small table: an id's slot, or the slot whose window started longest
 * ago is reused (a forgotten id only gets a fresh window: never fewer asks). */
#include "grok_limits.h"

#include <string.h>

#define WINDOW_MS (3600 * 1000)

void grok_limits_init(struct grok_limits *limits, int64_t per_hour)
{
    memset(limits, 0, sizeof *limits);
    limits->per_hour = per_hour > 0 ? per_hour : 0;
    pthread_mutex_init(&limits->lock, NULL);
}

void grok_limits_destroy(struct grok_limits *limits)
{
    pthread_mutex_destroy(&limits->lock);
}

static struct grok_limit_slot *slot_for(struct grok_limits *limits, int64_t id)
{
    struct grok_limit_slot *oldest = &limits->slots[0];
    for (size_t i = 0; i < GROK_LIMIT_SLOTS; i++) {
        struct grok_limit_slot *slot = &limits->slots[i];
        if (slot->count > 0 && slot->id == id)
            return slot;
        if (slot->window_start_ms < oldest->window_start_ms)
            oldest = slot;
    }
    memset(oldest, 0, sizeof *oldest);
    oldest->id = id;
    return oldest;
}

int grok_limits_take(struct grok_limits *limits, int64_t id, int64_t now_ms, int64_t *wait_s)
{
    *wait_s = 0;
    if (limits->per_hour == 0)
        return 1;
    pthread_mutex_lock(&limits->lock);
    struct grok_limit_slot *slot = slot_for(limits, id);
    if (slot->count == 0 || now_ms - slot->window_start_ms >= WINDOW_MS) {
        slot->window_start_ms = now_ms;
        slot->count = 0;
    }
    int allowed = slot->count < limits->per_hour;
    if (allowed)
        slot->count++;
    else
        *wait_s = (slot->window_start_ms + WINDOW_MS - now_ms + 999) / 1000;
    pthread_mutex_unlock(&limits->lock);
    return allowed;
}
