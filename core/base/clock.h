/* The clocks the core measures with: the monotonic clock for durations and
 * deadlines (immune to wall-clock jumps), the wall clock for timestamps that
 * leave the process, and condition variables that time out on the former. */
#ifndef JARVIS_CLOCK_H
#define JARVIS_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t monotonic_ms(void);
int64_t monotonic_ns(void);
/* Milliseconds since the Unix epoch. */
int64_t wall_ms(void);
/* The CLOCK_MONOTONIC instant timeout_ms from now, for pthread_cond_timedwait
 * on a condition made by monotonic_cond_init. */
struct timespec monotonic_deadline_after(int64_t timeout_ms);
/* pthread_cond_init whose timed waits use CLOCK_MONOTONIC; 0 or an errno. */
int monotonic_cond_init(pthread_cond_t *cond);

#endif
