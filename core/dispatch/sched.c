/* Periodic jobs. Each registered job gets its own thread that sleeps until
 * the job is due, runs it, and computes the next due time; so a job can never
 * overlap itself and a slow job never delays another. A housekeeping thread
 * checks handler budgets. */
#include "dispatch/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "config/config.h"
#include "plugin/host.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "base/pointer_list.h"
#include "dispatch/pipeline.h"
#include "plugin/registry.h"
#include "plugin/callbacks.h"
#include "plugin/registration.h"

/* The handler-budget check runs when registry_check_budgets says it is
 * due, but never more often than this. */
#define HOUSEKEEPING_PERIOD_MS 200
#define NO_BUDGET_WAIT_MS 60000

struct job_runner {
    struct sched *sched;
    struct registry_job *job;
    pthread_t thread;
    int started;
    int stopping; /* under sched->lock: this job alone stops (its plugin unloads) */
    int finished; /* under sched->lock */
};

struct sched {
    struct host *host;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    int stopping;
    /* struct job_runner *, each its own allocation: a reload removes some
     * while the others' threads keep their pointer */
    struct pointer_list runners;
    pthread_t housekeeper;
    int housekeeper_started;
    int housekeeping_asked;          /* a failed inbox load wants its retry soon */
    struct pipeline *retry_pipeline; /* whose retry wake is ours */
};

static struct timespec monotonic_timespec(int64_t ms)
{
    struct timespec when = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    return when;
}

/* Sleeps until due_ms or a stop (of all, or of runner when given);
 * returns 1 when it is time to run. */
static int wait_until(struct sched *sched, const struct job_runner *runner, int64_t due_ms)
{
    struct timespec deadline = monotonic_timespec(due_ms);
    pthread_mutex_lock(&sched->lock);
    while (!sched->stopping && !(runner && runner->stopping) &&
           !(runner == NULL && sched->housekeeping_asked) && monotonic_ms() < due_ms)
        pthread_cond_timedwait(&sched->wake, &sched->lock, &deadline);
    int run = !sched->stopping && !(runner && runner->stopping);
    if (runner == NULL)
        sched->housekeeping_asked = 0;
    pthread_mutex_unlock(&sched->lock);
    return run;
}

/* Next due time on the original grid; ticks that passed while the job ran
 * are dropped (never run late in a burst), with one warning per overrun. */
static int64_t next_due(const struct registry_job *job, int64_t due_ms, int64_t interval_ms)
{
    int64_t now = monotonic_ms();
    int64_t next = due_ms + interval_ms;
    if (next > now)
        return next;
    int64_t skipped = (now - next) / interval_ms + 1;
    log_warn("job %s ran past its next tick; skipped %lld tick(s)", registry_job_name(job),
             (long long)skipped);
    return next + skipped * interval_ms;
}

static void *job_thread_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-job"); /* roles in top -H, /proc */
    struct job_runner *runner = argument;
    struct sched *sched = runner->sched;
    struct registry_job *job = runner->job;
    int64_t interval = registry_job_interval_ms(job);
    int64_t delay = registry_job_initial_delay_ms(job);
    int64_t due = monotonic_ms() + (delay > 0 ? delay : interval);
    while (wait_until(sched, runner, due)) {
        registry_run_job(sched->host->registry, job); /* logs its own failures */
        due = next_due(job, due, interval);
    }
    pthread_mutex_lock(&sched->lock);
    runner->finished = 1;
    pthread_cond_broadcast(&sched->wake);
    pthread_mutex_unlock(&sched->lock);
    return NULL;
}

static void *housekeeping_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-housekeep"); /* roles in top -H, /proc */
    struct sched *sched = argument;
    int64_t due;
    do {
        /* no sooner than the period (a budget of 1 ms must not spin); no
         * budget, nothing to check: a stop still wakes the wait */
        int64_t next = registry_check_budgets(sched->host->registry);
        /* a chat whose waiting rows could not be read is tried again (the
         * pipeline is the transport's; it outlives this thread) */
        int64_t retry = pipeline_retry_loads(sched->host->pipeline);
        if (retry >= 0 && (next < 0 || retry < next))
            next = retry;
        if (next < 0)
            next = NO_BUDGET_WAIT_MS;
        due = monotonic_ms() + (next > HOUSEKEEPING_PERIOD_MS ? next : HOUSEKEEPING_PERIOD_MS);
    } while (wait_until(sched, NULL, due));
    return NULL;
}

/* The pipeline's retry wake: a set flag, not only a signal, so that a wake
 * while the housekeeper is busy is not lost. */
static void ask_housekeeping(void *context)
{
    struct sched *sched = context;
    pthread_mutex_lock(&sched->lock);
    sched->housekeeping_asked = 1;
    pthread_cond_broadcast(&sched->wake);
    pthread_mutex_unlock(&sched->lock);
}

/* Called with signals blocked (see lifecycle_block_signals). */
static void start_runner(struct sched *sched, struct registry_job *job)
{
    struct job_runner *runner = calloc(1, sizeof *runner);
    if (runner == NULL || pointer_list_append(&sched->runners, runner) != 0) {
        free(runner);
        log_error("job %s: out of memory starting it", registry_job_name(job));
        return;
    }
    runner->sched = sched;
    runner->job = job;
    /* registration refused intervals <= 0, so every job is schedulable */
    runner->started = pthread_create(&runner->thread, NULL, job_thread_main, runner) == 0;
    if (!runner->started)
        log_error("job %s: cannot start its thread", registry_job_name(job));
}

static int job_has_runner(struct sched *sched, const struct registry_job *job)
{
    for (size_t i = 0; i < sched->runners.count; i++)
        if (((struct job_runner *)sched->runners.items[i])->job == job)
            return 1;
    return 0;
}

static size_t start_missing_runners(struct sched *sched)
{
    size_t count = registry_job_count(sched->host->registry);
    size_t started = 0;
    sigset_t previous;
    lifecycle_block_signals(&previous);
    pthread_mutex_lock(&sched->lock);
    for (size_t i = 0; i < count; i++) {
        struct registry_job *job = registry_job_at(sched->host->registry, i);
        if (job == NULL || job_has_runner(sched, job))
            continue;
        start_runner(sched, job);
        started++;
    }
    pthread_mutex_unlock(&sched->lock);
    lifecycle_restore_signals(&previous);
    return started;
}

struct sched *sched_start(struct host *host)
{
    struct sched *sched = calloc(1, sizeof *sched);
    if (sched == NULL)
        return NULL;
    sched->host = host;
    pthread_mutex_init(&sched->lock, NULL);
    monotonic_cond_init(&sched->wake);
    size_t jobs = start_missing_runners(sched);
    /* the transport's pipeline outlives the scheduler (main.c) */
    sched->retry_pipeline = host->pipeline;
    pipeline_set_retry_wake(sched->retry_pipeline, ask_housekeeping, sched);
    sigset_t previous;
    lifecycle_block_signals(&previous);
    sched->housekeeper_started =
        pthread_create(&sched->housekeeper, NULL, housekeeping_main, sched) == 0;
    lifecycle_restore_signals(&previous);
    log_debug("scheduler: %zu job(s)", jobs);
    return sched;
}

void sched_start_new_jobs(struct sched *sched)
{
    size_t started = start_missing_runners(sched);
    if (started > 0)
        log_debug("scheduler: %zu new job(s)", started);
}

/* Called with the lock held: how many of plugin's runners (every runner
 * when plugin is NULL) are started and not finished. */
static size_t count_running(struct sched *sched, const jv_plugin *plugin)
{
    size_t running = 0;
    for (size_t i = 0; i < sched->runners.count; i++) {
        struct job_runner *runner = sched->runners.items[i];
        if (plugin != NULL && registry_job_plugin(runner->job) != plugin)
            continue;
        if (runner->started && !runner->finished)
            running++;
    }
    return running;
}

int sched_stop_jobs_of(struct sched *sched, const jv_plugin *plugin, int64_t timeout_ms)
{
    int64_t deadline_ms = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    struct timespec deadline = monotonic_timespec(deadline_ms);
    pthread_mutex_lock(&sched->lock);
    for (size_t i = 0; i < sched->runners.count; i++) {
        struct job_runner *runner = sched->runners.items[i];
        if (registry_job_plugin(runner->job) == plugin)
            runner->stopping = 1;
    }
    pthread_cond_broadcast(&sched->wake);
    while (count_running(sched, plugin) > 0 && monotonic_ms() < deadline_ms)
        pthread_cond_timedwait(&sched->wake, &sched->lock, &deadline);
    int stuck = count_running(sched, plugin) > 0;
    for (size_t i = sched->runners.count; i-- > 0;) {
        struct job_runner *runner = sched->runners.items[i];
        if (registry_job_plugin(runner->job) != plugin)
            continue;
        if (stuck) {
            runner->stopping = 0; /* it goes on ticking: the plugin stays */
            continue;
        }
        /* gone before the registry frees the job it points to */
        if (runner->started)
            pthread_join(runner->thread, NULL);
        pointer_list_remove_at(&sched->runners, i);
        free(runner);
    }
    pthread_mutex_unlock(&sched->lock);
    return stuck ? -1 : 0;
}

/* Waits for every job thread to finish until deadline; returns how many are
 * still running (inside a job that overran the grace period). */
static size_t wait_for_runners(struct sched *sched, int64_t deadline_ms)
{
    struct timespec deadline = monotonic_timespec(deadline_ms);
    size_t running;
    pthread_mutex_lock(&sched->lock);
    while ((running = count_running(sched, NULL)) > 0 && monotonic_ms() < deadline_ms)
        pthread_cond_timedwait(&sched->wake, &sched->lock, &deadline);
    pthread_mutex_unlock(&sched->lock);
    return running;
}

static void free_sched(struct sched *sched)
{
    pthread_cond_destroy(&sched->wake);
    pthread_mutex_destroy(&sched->lock);
    for (size_t i = 0; i < sched->runners.count; i++)
        free(sched->runners.items[i]);
    free(sched->runners.items);
    free(sched);
}

size_t sched_stop(struct sched *sched)
{
    if (sched == NULL)
        return 0;
    pthread_mutex_lock(&sched->lock);
    sched->stopping = 1;
    pthread_cond_broadcast(&sched->wake);
    pthread_mutex_unlock(&sched->lock);
    if (sched->housekeeper_started)
        pthread_join(sched->housekeeper, NULL);
    pipeline_set_retry_wake(sched->retry_pipeline, NULL, NULL);
    int64_t grace = sched->host->config != NULL ? sched->host->config->shutdown_grace_ms : 0;
    size_t running = wait_for_runners(sched, monotonic_ms() + (grace > 0 ? grace : 0));
    for (size_t i = 0; i < sched->runners.count; i++) {
        struct job_runner *runner = sched->runners.items[i];
        if (!runner->started)
            continue;
        if (runner->finished) {
            pthread_join(runner->thread, NULL);
        } else {
            log_error("job %s still running after the shutdown grace period",
                      registry_job_name(runner->job));
            pthread_detach(runner->thread);
        }
    }
    /* A detached runner still touches the struct when its job returns, so
     * the struct is left allocated in that case (the process is exiting). */
    if (running == 0)
        free_sched(sched);
    return running;
}
