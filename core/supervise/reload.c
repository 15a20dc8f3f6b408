/* Hot reload. A plan compares the running plugins with the re-read file:
 * disabled ones unload, a changed .so (by content hash) is swapped, a
 * changed section restarts its plugin, newly enabled ones load, and every
 * consumer of a service whose provider goes is restarted with it (it holds
 * a vtable pointer into the provider's image). New builds are checked and
 * mapped before anything stops, so a refused one costs nothing. Then the
 * workers pause, the plan runs, the workers resume. */
#include "supervise/reload.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "config/config.h"
#include "dispatch/dispatch.h"
#include "plugin/host.h"
#include "base/lifecycle.h"
#include "base/log.h"
#include "plugin/plugin_image.h"
#include "plugin/plugin_record.h"
#include "base/pointer_list.h"
#include "plugin/registry.h"
#include "config/reload_settings.h"
#include "dispatch/sched.h"
#include "transport/transport.h"
#include "plugin/plugins.h"
#include "plugin/services.h"
#include "config/config_schema.h"

#define REASON_SIZE 96
#define SUMMARY_SIZE 3072

struct reloader {
    struct host *host;
    struct sched *sched;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    int stopping;
    /* struct config *: every configuration a reload adopted. Plugins may
     * keep config values until they unload, so none is freed before exit. */
    struct pointer_list configs;
};

enum reload_action {
    ACTION_KEEP,    /* unchanged, or its new build was refused */
    ACTION_UNLOAD,  /* no longer enabled */
    ACTION_SWAP,    /* its .so changed */
    ACTION_RESTART, /* same build, new section or a restarted provider */
    ACTION_LOAD,    /* newly enabled */
};

struct reload_item {
    char name[PLUGIN_NAME_MAX + 1];
    enum reload_action action;
    struct jv_plugin *running;  /* NULL for ACTION_LOAD */
    struct plugin_build *build; /* what starts for SWAP, RESTART and LOAD */
    char why[PLUGIN_NAME_MAX + 32];
    char dir[PATH_MAX]; /* the search path's entry its file is read from */
};

struct reload_plan {
    struct registry *registry;
    struct reload_item *items;
    size_t count;
    const struct config *adopted;
    const char *dirs;               /* [plugins] dir: a search path */
    char refused[SUMMARY_SIZE / 2]; /* "name: reason, ..." */
};

/* ---- text ---- */

static void append_text(char *text, size_t size, const char *separator, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
static void append_text(char *text, size_t size, const char *separator, const char *format, ...)
{
    size_t used = strlen(text);
    if (used + 1 >= size)
        return;
    if (used > 0)
        used += (size_t)snprintf(text + used, size - used, "%s", separator);
    if (used + 1 >= size)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(text + used, size - used, format, args);
    va_end(args);
}

static const char *version_of(const struct jv_plugin *plugin)
{
    return plugin->info.version ? plugin->info.version : "";
}

/* ---- planning ---- */

static int is_enabled(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->enable_count; i++)
        if (strcmp(config->enable[i], name) == 0)
            return 1;
    return 0;
}

static struct reload_item *find_item(struct reload_plan *plan, const char *name)
{
    for (size_t i = 0; i < plan->count; i++)
        if (strcmp(plan->items[i].name, name) == 0)
            return &plan->items[i];
    return NULL;
}

static void note_refused(struct reload_plan *plan, const char *name, const char *reason)
{
    append_text(plan->refused, sizeof plan->refused, ", ", "%s (%s)", name, reason);
}

/* Maps the build from disk; on refusal the item keeps what runs. */
static void prepare_item(struct reload_plan *plan, struct reload_item *item,
                         enum reload_action action)
{
    char reason[REASON_SIZE] = "";
    char dir_problem[3 * PATH_MAX + 512] = ""; /* names the dir up to three times */
    int dir_fd = plugins_open_dir(item->dir, dir_problem, sizeof dir_problem);
    if (dir_fd < 0) {
        log_error("reload: plugin %s/%s.so: refused: %s", item->dir, item->name, dir_problem);
        note_refused(plan, item->name, "unsafe or missing plugin directory");
        return;
    }
    item->build =
        plugins_prepare_build(plan->registry, dir_fd, item->dir, item->name, reason, sizeof reason);
    close(dir_fd);
    if (item->build == NULL) {
        note_refused(plan, item->name, reason);
        return;
    }
    item->action = action;
}

static void plan_running_plugin(struct reload_plan *plan, struct reload_item *item,
                                const struct config *running_config)
{
    const char *name = item->name;
    if (!is_enabled(plan->adopted, name)) {
        item->action = ACTION_UNLOAD;
        return;
    }
    char file_name[PLUGIN_NAME_MAX + 8];
    snprintf(file_name, sizeof file_name, "%s.so", name);
    uint64_t hash = 0;
    if (plugin_image_hash_file(item->dir, file_name, &hash) != 0) {
        log_error("reload: plugin %s/%s: cannot read it (%s); the running build stays", item->dir,
                  file_name, strerror(errno));
        note_refused(plan, name, "cannot read");
        return;
    }
    if (hash != item->running->content_hash) {
        prepare_item(plan, item, ACTION_SWAP);
    } else if (reload_section_changed(running_config, plan->adopted, name)) {
        snprintf(item->why, sizeof item->why, "section changed");
        prepare_item(plan, item, ACTION_RESTART);
    }
}

static int is_going(const struct reload_item *item)
{
    return item->action == ACTION_UNLOAD || item->action == ACTION_SWAP ||
           item->action == ACTION_RESTART;
}

/* The running build again, not the file: a consumer whose new build was
 * refused must not stop because its provider changed. */
static void restart_consumer(struct reload_item *consumer, const struct reload_item *provider)
{
    char reason[REASON_SIZE] = "";
    snprintf(consumer->why, sizeof consumer->why, "uses %s", provider->name);
    consumer->build = plugins_rebuild_from(consumer->running, reason, sizeof reason);
    consumer->action = ACTION_RESTART;
    if (consumer->build != NULL)
        return;
    /* it cannot run on without its provider's image: it stops with it */
    log_error("reload: plugin %s: cannot restart it (%s); it is unloaded with %s", consumer->name,
              reason, provider->name);
    consumer->action = ACTION_UNLOAD;
}

/* A kept plugin that acquired a service of one that goes restarts too,
 * after it, so its post_init acquires the new provider; repeated until no
 * more join (consumers of consumers). */
static void add_consumers(struct reload_plan *plan)
{
    int added = 1;
    while (added) {
        added = 0;
        for (size_t i = 0; i < plan->count; i++) {
            struct reload_item *consumer = &plan->items[i];
            if (consumer->action != ACTION_KEEP || consumer->running == NULL)
                continue;
            for (size_t j = 0; j < plan->count; j++) {
                struct reload_item *provider = &plan->items[j];
                if (!is_going(provider) || provider->running == NULL ||
                    !registry_plugin_uses(consumer->running, provider->running))
                    continue;
                restart_consumer(consumer, provider);
                added = 1;
                break;
            }
        }
    }
}

static int build_plan(struct reload_plan *plan, struct registry *registry,
                      const struct config *running_config)
{
    size_t running = registry_plugin_count(registry);
    const struct config *adopted = plan->adopted;
    plan->items = calloc(running + adopted->enable_count + 1, sizeof *plan->items);
    if (plan->items == NULL)
        return -1;
    plan->dirs = adopted->plugin_dir && *adopted->plugin_dir ? adopted->plugin_dir : "plugins";
    for (size_t i = 0; i < running; i++) {
        struct jv_plugin *plugin = registry_plugin_at(registry, i);
        if (plugin == NULL || plugin->unloaded)
            continue;
        struct reload_item *item = &plan->items[plan->count++];
        snprintf(item->name, sizeof item->name, "%s", plugin->name);
        plugins_choose_dir(plan->dirs, item->name, item->dir, sizeof item->dir);
        item->running = plugin;
        plan_running_plugin(plan, item, running_config);
    }
    for (size_t i = 0; i < adopted->enable_count; i++) {
        const char *name = adopted->enable[i];
        if (find_item(plan, name) != NULL)
            continue;
        struct reload_item *item = &plan->items[plan->count++];
        snprintf(item->name, sizeof item->name, "%.32s", name);
        plugins_choose_dir(plan->dirs, item->name, item->dir, sizeof item->dir);
        if (!plugin_name_is_valid(name)) {
            log_error("reload: plugin '%.60s' in [plugins] enable: refused: expected a name "
                      "matching [a-z0-9_]{1,32}; fix the name",
                      name);
            note_refused(plan, item->name, "invalid name");
            continue;
        }
        prepare_item(plan, item, ACTION_LOAD);
        if (item->action != ACTION_LOAD)
            item->action = ACTION_KEEP; /* nothing runs: the item only names the refusal */
    }
    add_consumers(plan);
    return 0;
}

static void free_plan(struct reload_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++)
        plugins_discard_build(plan->items[i].build);
    free(plan->items);
}

static int plan_changes_plugins(const struct reload_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++)
        if (plan->items[i].action != ACTION_KEEP)
            return 1;
    return 0;
}

/* ---- running the plan ---- */

static int64_t grace_ms(const struct config *config)
{
    return config_shutdown_grace_ms(config);
}

/* Every job of a plugin that goes stops first: a job must not run while its
 * plugin unloads. On a stuck job nothing changes. */
static int stop_jobs(struct reloader *reloader, struct reload_plan *plan, int64_t grace)
{
    if (reloader->sched == NULL)
        return 0;
    for (size_t i = 0; i < plan->count; i++) {
        struct reload_item *item = &plan->items[i];
        if (!is_going(item))
            continue;
        if (sched_stop_jobs_of(reloader->sched, item->running, grace) != 0) {
            log_error("reload: plugin %s: a job still ran after %" PRId64 " ms; nothing changed, "
                      "send SIGHUP again",
                      item->name, grace);
            sched_start_new_jobs(reloader->sched); /* those already stopped */
            return -1;
        }
    }
    return 0;
}

/* Consumers before their providers, later loads first. */
static struct reload_item *next_to_unload(struct reload_plan *plan)
{
    struct reload_item *latest = NULL;
    struct reload_item *chosen = NULL;
    for (size_t i = 0; i < plan->count; i++) {
        struct reload_item *item = &plan->items[i];
        if (!is_going(item) || item->running->unloaded)
            continue;
        size_t index = item->running->load_index;
        if (latest == NULL || index > latest->running->load_index)
            latest = item;
        if ((chosen == NULL || index > chosen->running->load_index) &&
            !registry_has_loaded_consumer(item->running))
            chosen = item;
    }
    return chosen ? chosen : latest; /* a dependency cycle: load order decides */
}

static void unload_going(struct registry *registry, struct reload_plan *plan)
{
    struct reload_item *item;
    while ((item = next_to_unload(plan)) != NULL) {
        plugins_unload_one(registry, item->running);
        registry_retire_plugin(registry, item->running);
    }
}

/* A swap whose new build fails its init falls back to the previous image. */
static void start_previous(struct registry *registry, struct reload_item *item, const char *reason,
                           struct reload_plan *plan)
{
    char again[REASON_SIZE] = "";
    struct plugin_build *build = plugins_rebuild_from(item->running, again, sizeof again);
    struct jv_plugin *plugin =
        build ? plugins_start_build(registry, build, again, sizeof again) : NULL;
    if (plugin != NULL) {
        log_warn("reload: plugin %s: new build refused (%s); the previous build runs again, "
                 "its in-memory state lost",
                 item->name, reason);
        note_refused(plan, item->name, reason);
        item->action = ACTION_KEEP;
        return;
    }
    log_error("reload: plugin %s: new build refused (%s) and the previous one failed to start "
              "again (%s); it is not running",
              item->name, reason, again);
    note_refused(plan, item->name, "not running");
    item->action = ACTION_UNLOAD;
}

static size_t next_load_index(struct registry *registry)
{
    size_t next = 0;
    size_t count = registry_plugin_count(registry);
    for (size_t i = 0; i < count; i++) {
        struct jv_plugin *plugin = registry_plugin_at(registry, i);
        if (plugin != NULL && plugin->load_index >= next)
            next = plugin->load_index + 1;
    }
    return next;
}

/* In the order of [plugins] enable, then every post_init, so consumers
 * acquire the services of providers loaded before them. */
static void start_builds(struct registry *registry, struct reload_plan *plan)
{
    size_t first_new = next_load_index(registry);
    for (size_t i = 0; i < plan->adopted->enable_count; i++) {
        struct reload_item *item = find_item(plan, plan->adopted->enable[i]);
        if (item == NULL || item->build == NULL)
            continue;
        char reason[REASON_SIZE] = "";
        struct plugin_build *build = item->build;
        item->build = NULL;
        if (plugins_start_build(registry, build, reason, sizeof reason) != NULL)
            continue;
        if (item->running != NULL) {
            start_previous(registry, item, reason, plan);
        } else {
            note_refused(plan, item->name, reason);
            item->action = ACTION_KEEP;
        }
    }
    plugins_run_post_init_from(registry, first_new);
}

/* ---- the report ---- */

static void summarise(struct registry *registry, const struct reload_plan *plan,
                      const char *live_settings, int restart_settings)
{
    char loaded[SUMMARY_SIZE / 4] = "", unloaded[SUMMARY_SIZE / 4] = "";
    char swapped[SUMMARY_SIZE / 4] = "", restarted[SUMMARY_SIZE / 4] = "";
    char unchanged[SUMMARY_SIZE / 4] = "";
    for (size_t i = 0; i < plan->count; i++) {
        const struct reload_item *item = &plan->items[i];
        struct jv_plugin *now = registry_find_plugin(registry, item->name);
        switch (item->action) {
            case ACTION_LOAD:
                append_text(loaded, sizeof loaded, ", ", "%s %s", item->name,
                            now ? version_of(now) : "");
                break;
            case ACTION_UNLOAD:
                append_text(unloaded, sizeof unloaded, ", ", "%s%s%s%s", item->name,
                            item->why[0] ? " (" : "", item->why, item->why[0] ? ")" : "");
                break;
            case ACTION_SWAP:
                append_text(swapped, sizeof swapped, ", ", "%s %s -> %s", item->name,
                            version_of(item->running), now ? version_of(now) : "?");
                break;
            case ACTION_RESTART:
                append_text(restarted, sizeof restarted, ", ", "%s (%s)", item->name, item->why);
                break;
            case ACTION_KEEP:
                if (item->running != NULL)
                    append_text(unchanged, sizeof unchanged, ", ", "%s", item->name);
                break;
        }
    }
    char line[SUMMARY_SIZE] = "";
    append_text(line, sizeof line, "; ", "loaded %s", loaded[0] ? loaded : "none");
    append_text(line, sizeof line, "; ", "unloaded %s", unloaded[0] ? unloaded : "none");
    append_text(line, sizeof line, "; ", "swapped %s", swapped[0] ? swapped : "none");
    append_text(line, sizeof line, "; ", "restarted %s", restarted[0] ? restarted : "none");
    append_text(line, sizeof line, "; ", "unchanged %s", unchanged[0] ? unchanged : "none");
    if (plan->refused[0])
        append_text(line, sizeof line, "; ", "refused %s", plan->refused);
    if (live_settings[0])
        append_text(line, sizeof line, "; ", "settings %s", live_settings);
    if (restart_settings > 0)
        append_text(line, sizeof line, "; ", "%d setting(s) need a restart", restart_settings);
    if (plan->refused[0])
        log_warn("reload: %s", line);
    else
        log_info("reload: %s", line);
}

/* ---- one reload ---- */

static struct config *read_config(const char *path)
{
    struct config *config = calloc(1, sizeof *config);
    if (config == NULL) {
        log_error("reload: out of memory; the running configuration stays");
        return NULL;
    }
    char error[512];
    if (config_load(path, config, error, sizeof error) != 0) {
        log_error("reload: %s; the running configuration stays", error);
        config_free(config);
        free(config);
        return NULL;
    }
    return config;
}

static void discard_config(struct config *config)
{
    config_free(config);
    free(config);
}

/* Readers on other threads load host->config without a lock; each sees the
 * old or the new one, and both stay valid (see reloader.configs). */
static void adopt_config(struct reloader *reloader, struct config *adopted)
{
    __atomic_store_n(&reloader->host->config, adopted, __ATOMIC_RELEASE);
    log_set_level((enum log_level)adopted->log_level);
}

/* Pauses the workers and stops the jobs of what goes; -1: nothing changed. */
static int hold_updates(struct reloader *reloader, struct reload_plan *plan, int64_t grace)
{
    struct dispatch *dispatch = reloader->host->dispatch;
    if (dispatch != NULL && dispatch_pause(dispatch, grace) != 0) {
        log_error("reload: handlers still ran after %" PRId64 " ms; nothing changed, send SIGHUP "
                  "again",
                  grace);
        return -1;
    }
    if (stop_jobs(reloader, plan, grace) != 0) {
        if (dispatch != NULL)
            dispatch_resume(dispatch);
        return -1;
    }
    return 0;
}

static void reload_once(struct reloader *reloader)
{
    struct host *host = reloader->host;
    struct config *running = host->config;
    struct config *adopted = read_config(running->path);
    if (adopted == NULL)
        return;
    if (host->transport != NULL && host->transport->adjust_config != NULL)
        host->transport->adjust_config(host->transport, adopted);
    int restart_settings = reload_settings_carry_over(running, adopted);
    if (restart_settings < 0 || pointer_list_append(&reloader->configs, adopted) != 0) {
        log_error("reload: out of memory; the running configuration stays");
        discard_config(adopted);
        return;
    }
    char live[256];
    reload_settings_describe_live(running, adopted, live, sizeof live);
    struct reload_plan plan = {.registry = host->registry, .adopted = adopted};
    if (build_plan(&plan, host->registry, running) != 0) {
        log_error("reload: out of memory; the running configuration stays");
        free_plan(&plan);
        return; /* adopted stays listed (unused) until exit */
    }
    if (!plan_changes_plugins(&plan)) {
        adopt_config(reloader, adopted);
        summarise(host->registry, &plan, live, restart_settings);
        free_plan(&plan);
        return;
    }
    int64_t started = monotonic_ms();
    if (hold_updates(reloader, &plan, grace_ms(running)) != 0) {
        free_plan(&plan);
        return;
    }
    unload_going(host->registry, &plan);
    adopt_config(reloader, adopted); /* new plugins read their new sections */
    start_builds(host->registry, &plan);
    if (reloader->sched != NULL)
        sched_start_new_jobs(reloader->sched);
    if (host->dispatch != NULL)
        dispatch_resume(host->dispatch);
    log_debug("reload: updates held for %" PRId64 " ms", monotonic_ms() - started);
    summarise(host->registry, &plan, live, restart_settings);
    free_plan(&plan);
}

/* ---- the thread ---- */

/* 1 when a SIGHUP came, 0 once stopping. */
static int wait_for_request(struct reloader *reloader)
{
    for (;;) {
        pthread_mutex_lock(&reloader->lock);
        int stopping = reloader->stopping;
        pthread_mutex_unlock(&reloader->lock);
        if (stopping)
            return 0;
        if (lifecycle_take_hangup_request())
            return 1;
        lifecycle_wait_hangup();
    }
}

static void *reload_main(void *argument)
{
    pthread_setname_np(pthread_self(), "jv-reload"); /* roles in top -H, /proc */
    struct reloader *reloader = argument;
    while (wait_for_request(reloader)) {
        /* logrotate's SIGHUP: the log first, so the reload's lines land in the new file */
        if (log_reopen() != 0)
            log_error("SIGHUP: cannot reopen the log file");
        log_info("SIGHUP: log reopened; reloading %s", reloader->host->config->path);
        reload_once(reloader);
    }
    return NULL;
}

struct reloader *reload_start(struct host *host, struct sched *sched)
{
    struct reloader *reloader = calloc(1, sizeof *reloader);
    if (reloader == NULL)
        return NULL;
    reloader->host = host;
    reloader->sched = sched;
    pthread_mutex_init(&reloader->lock, NULL);
    sigset_t previous;
    lifecycle_block_signals(&previous);
    reloader->started = pthread_create(&reloader->thread, NULL, reload_main, reloader) == 0;
    lifecycle_restore_signals(&previous);
    if (!reloader->started) {
        reload_destroy(reloader);
        return NULL;
    }
    return reloader;
}

void reload_stop(struct reloader *reloader)
{
    if (reloader == NULL || !reloader->started)
        return;
    pthread_mutex_lock(&reloader->lock);
    reloader->stopping = 1;
    pthread_mutex_unlock(&reloader->lock);
    lifecycle_wake_hangup_waiter();
    pthread_join(reloader->thread, NULL);
    reloader->started = 0;
}

void reload_destroy(struct reloader *reloader)
{
    if (reloader == NULL)
        return;
    reload_stop(reloader);
    for (size_t i = 0; i < reloader->configs.count; i++)
        discard_config(reloader->configs.items[i]);
    free(reloader->configs.items);
    pthread_mutex_destroy(&reloader->lock);
    free(reloader);
}
