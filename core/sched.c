/* Periodic jobs. Each registered job gets its own thread that sleeps until
 * the job is due, runs it, and computes the next due time; so a job can never
 * overlap itself and a slow job never delays another. A housekeeping thread
 * checks handler budgets and picks up SIGHUP log-reopen requests. */
#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "host.h"
#include "lifecycle.h"
#include "log.h"
#include "registry.h"

#define HOUSEKEEPING_PERIOD_MS 200

struct job_runner {
    struct sched *sched;
    struct registry_job *job;
    pthread_t thread;
    int started;
    int finished; /* under sched->lock */
};

struct sched {
    struct host *host;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    int stopping;
    struct job_runner *runners;
    size_t runner_count;
    pthread_t housekeeper;
    int housekeeper_started;
};

static struct timespec monotonic_timespec(int64_t ms)
{
    struct timespec when = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    return when;
}

/* Sleeps until due_ms or a stop; returns 1 when it is time to run. */
static int wait_until(struct sched *sched, int64_t due_ms)
{
    struct timespec deadline = monotonic_timespec(due_ms);
    pthread_mutex_lock(&sched->lock);
    while (!sched->stopping && monotonic_ms() < due_ms)
        pthread_cond_timedwait(&sched->wake, &sched->lock, &deadline);
    int run = !sched->stopping;
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
    struct job_runner *runner = argument;
    struct sched *sched = runner->sched;
    struct registry_job *job = runner->job;
    int64_t interval = registry_job_interval_ms(job);
    int64_t delay = registry_job_initial_delay_ms(job);
    int64_t due = monotonic_ms() + (delay > 0 ? delay : interval);
    while (wait_until(sched, due)) {
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
    struct sched *sched = argument;
    int64_t due = monotonic_ms();
    do {
        registry_check_budgets(sched->host->registry);
        /* Here rather than in a transport loop, so SIGHUP works the same
         * whichever transport runs and however long it blocks. */
        if (lifecycle_take_reopen_request()) {
            if (log_reopen() == 0)
                log_info("log reopened (SIGHUP)");
            else
                log_error("SIGHUP: cannot reopen the log file");
        }
        due += HOUSEKEEPING_PERIOD_MS;
    } while (wait_until(sched, due));
    return NULL;
}

static void start_threads(struct sched *sched)
{
    sigset_t previous;
    lifecycle_block_signals(&previous);
    for (size_t i = 0; i < sched->runner_count; i++) {
        /* registration refused intervals <= 0, so every job is schedulable */
        struct job_runner *runner = &sched->runners[i];
        runner->started = pthread_create(&runner->thread, NULL, job_thread_main, runner) == 0;
        if (!runner->started)
            log_error("job %s: cannot start its thread", registry_job_name(runner->job));
    }
    sched->housekeeper_started =
        pthread_create(&sched->housekeeper, NULL, housekeeping_main, sched) == 0;
    lifecycle_restore_signals(&previous);
}

struct sched *sched_start(struct host *host)
{
    struct sched *sched = calloc(1, sizeof *sched);
    if (sched == NULL)
        return NULL;
    sched->host = host;
    sched->runner_count = registry_job_count(host->registry);
    sched->runners = calloc(sched->runner_count + 1, sizeof *sched->runners);
    if (sched->runners == NULL) {
        free(sched);
        return NULL;
    }
    pthread_mutex_init(&sched->lock, NULL);
    monotonic_cond_init(&sched->wake);
    for (size_t i = 0; i < sched->runner_count; i++) {
        sched->runners[i].sched = sched;
        sched->runners[i].job = registry_job_at(host->registry, i);
    }
    start_threads(sched);
    log_debug("scheduler: %zu job(s)", sched->runner_count);
    return sched;
}

/* Waits for every job thread to finish until deadline; returns how many are
 * still running (inside a job that overran the grace period). */
static size_t wait_for_runners(struct sched *sched, int64_t deadline_ms)
{
    struct timespec deadline = monotonic_timespec(deadline_ms);
    size_t running;
    pthread_mutex_lock(&sched->lock);
    for (;;) {
        running = 0;
        for (size_t i = 0; i < sched->runner_count; i++)
            if (sched->runners[i].started && !sched->runners[i].finished)
                running++;
        if (running == 0 || monotonic_ms() >= deadline_ms)
            break;
        pthread_cond_timedwait(&sched->wake, &sched->lock, &deadline);
    }
    pthread_mutex_unlock(&sched->lock);
    return running;
}

static void free_sched(struct sched *sched)
{
    pthread_cond_destroy(&sched->wake);
    pthread_mutex_destroy(&sched->lock);
    free(sched->runners);
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
    int64_t grace = sched->host->config != NULL ? sched->host->config->shutdown_grace_ms : 0;
    size_t running = wait_for_runners(sched, monotonic_ms() + (grace > 0 ? grace : 0));
    for (size_t i = 0; i < sched->runner_count; i++) {
        struct job_runner *runner = &sched->runners[i];
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
