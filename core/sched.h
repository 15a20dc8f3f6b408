/* Periodic jobs: one scheduler thread runs each registered job every
 * interval on the worker side; a job never overlaps itself (a tick due while
 * it still runs is skipped with a warning). Also drives budget checks. */
#ifndef JARVIS_SCHED_H
#define JARVIS_SCHED_H

struct host;
struct sched;

struct sched *sched_start(struct host *host);
/* Stops ticking and waits for running jobs (bounded by shutdown grace). */
void sched_stop(struct sched *sched);

#endif
