/* Periodic jobs: each registered job runs on its own scheduler thread every
 * interval; a job never overlaps itself (a tick due while
 * it still runs is skipped with a warning). Also drives budget checks. */
#ifndef JARVIS_SCHED_H
#define JARVIS_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct host;
struct sched;

struct sched *sched_start(struct host *host);
/* For a reload, before plugin unloads: stops its job threads, waiting up
 * to timeout_ms for a running job. 0, or -1 when a job still runs (its
 * jobs then go on ticking: the plugin must stay loaded). */
int sched_stop_jobs_of(struct sched *sched, const jv_plugin *plugin, int64_t timeout_ms);
/* After a reload loaded plugins: starts the jobs that have no thread yet. */
void sched_start_new_jobs(struct sched *sched);
/* Stops ticking and waits for running jobs (bounded by shutdown grace).
 * Returns how many jobs were still running when the grace ran out (their
 * threads are detached; the caller should then not unload plugins). */
size_t sched_stop(struct sched *sched);

#endif
