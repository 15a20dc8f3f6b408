/* The retry ladder after a failure, shared by the getUpdates loop and the
 * message sender: start at initial, double up to max, and wait a jittered
 * 50..100 % of the step so many clients do not retry in step. */
#ifndef JARVIS_BACKOFF_H
#define JARVIS_BACKOFF_H

#include <stdint.h>

struct backoff {
    int64_t initial_ms;
    int64_t max_ms;     /* never below initial_ms */
    int64_t current_ms; /* the last step taken; 0 = none since the last reset */
};

/* max below initial is raised to initial. */
void backoff_init(struct backoff *backoff, int64_t initial_ms, int64_t max_ms);
/* Takes the next step of the ladder and returns how long to wait for it. */
int64_t backoff_next_delay(struct backoff *backoff);
/* After a success: the next failure starts again at initial. */
void backoff_reset(struct backoff *backoff);

#endif
