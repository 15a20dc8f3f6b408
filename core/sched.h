/* Periodic jobs: each registered job runs on its own scheduler thread every
 * interval; a job never overlaps itself (a tick due while
 * it still runs is skipped with a warning). Also drives budget checks. */
#ifndef JARVIS_SCHED_H
#define JARVIS_SCHED_H

#include <stddef.h>

struct host;
struct sched;

struct sched *sched_start(struct host *host);
/* Stops ticking and waits for running jobs (bounded by shutdown grace).
 * Returns how many jobs were still running when the grace ran out (their
 * threads are detached; the caller should then not unload plugins). */
size_t sched_stop(struct sched *sched);

#endif
