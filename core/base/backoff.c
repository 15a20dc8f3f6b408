/* The doubling, capped, jittered retry delay used wherever the core retries
 * a remote service (Telegram's getUpdates loop and its sender thread). */
#include "base/backoff.h"

#include <stdlib.h>

void backoff_init(struct backoff *backoff, int64_t initial_ms, int64_t max_ms)
{
    backoff->initial_ms = initial_ms > 0 ? initial_ms : 1;
    backoff->max_ms = max_ms > backoff->initial_ms ? max_ms : backoff->initial_ms;
    backoff->current_ms = 0;
}

/* Compared against half the cap, so doubling can never overflow. */
static int64_t next_step(const struct backoff *backoff)
{
    if (backoff->current_ms == 0)
        return backoff->initial_ms;
    if (backoff->current_ms > backoff->max_ms / 2)
        return backoff->max_ms;
    return backoff->current_ms * 2;
}

int64_t backoff_next_delay(struct backoff *backoff)
{
    backoff->current_ms = next_step(backoff);
    int64_t half = backoff->current_ms / 2;
    return backoff->current_ms - half + (int64_t)(random() % (half + 1));
}

void backoff_reset(struct backoff *backoff)
{
    backoff->current_ms = 0;
}
