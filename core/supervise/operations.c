/* Starting and running the operator's view (see operations.h). The gauges
 * that mirror queues are read from the store, which holds the truth a
 * restart also sees, rather than kept in step by every caller. */
#include "supervise/operations.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "config/config.h"
#include "plugin/host.h"
#include "base/lifecycle.h"
#include "base/listen_address.h"
#include "base/log.h"
#include "base/metrics.h"
#include "supervise/metrics_server.h"
#include "plugin/plugin_record.h"
#include "plugin/registry.h"
#include "supervise/status_snapshot.h"
#include "state/store.h"
#include "base/version.h"
#include "state/store_pipeline.h"

#define SNAPSHOT_EVERY_MS 1000

struct operations {
    struct host *host;
    struct metrics_server *server;
    int64_t started_ms;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    int snapshot_failed; /* logged once until it works again */
    char *last_snapshot; /* the text last written, so an unchanged one is not rewritten */
};

static void refresh_gauges(void *context)
{
    struct operations *operations = context;
    struct host *host = operations->host;
    long inbox = store_inbox_count(host->store);
    long outbox = store_outbox_count(host->store);
    if (inbox >= 0)
        metrics_set(METRIC_INBOX_DEPTH, (double)inbox);
    if (outbox >= 0)
        metrics_set(METRIC_OUTBOX_DEPTH, (double)outbox);
    metrics_set(METRIC_PLUGINS_LOADED, (double)registry_plugin_count(host->registry));
}

static void write_snapshot(struct operations *operations)
{
    int failed = status_snapshot_write(operations->host, operations->started_ms,
                                       &operations->last_snapshot) != 0;
    if (failed && !operations->snapshot_failed)
        log_warn("cannot write %s/%s; `jarvis status` shows less until it works",
                 operations->host->config->state_dir, STATUS_SNAPSHOT_FILE);
    operations->snapshot_failed = failed;
}

static void *snapshot_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-snapshot"); /* roles in top -H, /proc */
    struct operations *operations = argument;
    pthread_mutex_lock(&operations->lock);
    while (!operations->stopping) {
        pthread_mutex_unlock(&operations->lock);
        refresh_gauges(operations);
        write_snapshot(operations);
        pthread_mutex_lock(&operations->lock);
        struct timespec deadline = monotonic_deadline_after(SNAPSHOT_EVERY_MS);
        if (!operations->stopping)
            pthread_cond_timedwait(&operations->wake, &operations->lock, &deadline);
    }
    pthread_mutex_unlock(&operations->lock);
    return NULL;
}

/* The kernel's start time of this process (field 22 of /proc/self/stat,
 * in clock ticks after boot), so a standby's wait for the lock counts. */
static double process_start_seconds(void)
{
    double now = (double)wall_ms() / 1000.0;
    FILE *stat_file = fopen("/proc/self/stat", "re");
    char line[1024];
    int read_ok = stat_file != NULL && fgets(line, sizeof line, stat_file) != NULL;
    if (stat_file != NULL)
        fclose(stat_file);
    const char *after_name = read_ok ? strrchr(line, ')') : NULL;
    unsigned long long start_ticks = 0;
    /* after ")": state is field 3, starttime field 22 */
    if (after_name == NULL ||
        sscanf(after_name + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
               "%*d %*d %*d %llu",
               &start_ticks) != 1)
        return now;
    struct timespec since_boot;
    clock_gettime(CLOCK_BOOTTIME, &since_boot);
    double uptime = (double)since_boot.tv_sec + since_boot.tv_nsec / 1e9;
    long ticks_per_second = sysconf(_SC_CLK_TCK);
    if (ticks_per_second <= 0)
        return now;
    return now - uptime + (double)start_ticks / (double)ticks_per_second;
}

static void start_server(struct operations *operations)
{
    const struct config *config = operations->host->config;
    if (config->metrics_listen == NULL || config->metrics_listen[0] == '\0')
        return;
    struct listen_address address;
    char problem[128];
    /* config.c checked it; parse again for the socket address */
    if (listen_address_parse(config->metrics_listen, &address, problem, sizeof problem) != 0) {
        log_error("metrics: [metrics] listen: %s", problem);
        return;
    }
    operations->server =
        metrics_server_start(&address, config->metrics_listen, refresh_gauges, operations);
}

struct operations *operations_start(struct host *host)
{
    metrics_init(JARVIS_VERSION, process_start_seconds());
    struct operations *operations = calloc(1, sizeof *operations);
    if (operations == NULL)
        return NULL;
    operations->host = host;
    operations->started_ms = wall_ms();
    pthread_mutex_init(&operations->lock, NULL);
    monotonic_cond_init(&operations->wake);
    refresh_gauges(operations);
    start_server(operations);
    sigset_t previous;
    lifecycle_block_signals(&previous);
    operations->thread_started =
        pthread_create(&operations->thread, NULL, snapshot_main, operations) == 0;
    lifecycle_restore_signals(&previous);
    if (!operations->thread_started)
        log_warn("cannot start the status snapshot thread; `jarvis status` shows less");
    return operations;
}

void operations_stop(struct operations *operations)
{
    if (operations == NULL)
        return;
    metrics_server_stop(operations->server);
    if (operations->thread_started) {
        pthread_mutex_lock(&operations->lock);
        operations->stopping = 1;
        pthread_cond_broadcast(&operations->wake);
        pthread_mutex_unlock(&operations->lock);
        pthread_join(operations->thread, NULL);
    }
    write_snapshot(operations);
    free(operations->last_snapshot);
    pthread_cond_destroy(&operations->wake);
    pthread_mutex_destroy(&operations->lock);
    free(operations);
}
