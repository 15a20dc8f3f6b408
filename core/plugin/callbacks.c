/* Running plugin callbacks (commands, message handlers, jobs) on the caller's
 * thread: per-plugin serialisation unless the plugin is JV_PLUGIN_CONCURRENT,
 * the count that lets unload wait, and the handler time budget warnings. */
#include "plugin/callbacks.h"

#include "plugin/registry.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "config/config.h"
#include "state/crash_record.h"
#include "plugin/host.h"
#include "base/log.h"
#include "base/text.h"
#include "plugin/registry_internal.h"
#include "base/error_text.h"
#include "plugin/registration.h"

/* Returns 0 when the plugin may run (serial lock taken if needed and the
 * callback tracked for the budget), -1 when it is being unloaded. */
static int callback_enter(struct registry *registry, struct jv_plugin *plugin,
                          struct running_callback *running, int64_t update_id)
{
    pthread_mutex_lock(&registry->lock);
    if (plugin->stopping) {
        pthread_mutex_unlock(&registry->lock);
        return -1;
    }
    plugin->running++;
    pthread_mutex_unlock(&registry->lock);
    if (!(plugin->info.flags & JV_PLUGIN_CONCURRENT))
        pthread_mutex_lock(&plugin->serial);
    /* The clock starts once it runs: waiting for the plugin's turn is not its fault. */
    running->plugin = plugin;
    running->started_ms = monotonic_ms();
    running->warned = 0;
    pthread_mutex_lock(&registry->lock);
    running->next = registry->running;
    registry->running = running;
    pthread_mutex_unlock(&registry->lock);
    /* from here a fatal signal on this thread is this plugin's crash */
    crash_record_enter(update_id, plugin->name);
    return 0;
}

static void callback_leave(struct registry *registry, struct jv_plugin *plugin,
                           struct running_callback *running)
{
    crash_record_leave();
    int64_t elapsed = monotonic_ms() - running->started_ms;
    pthread_mutex_lock(&registry->lock);
    for (struct running_callback **link = &registry->running; *link; link = &(*link)->next) {
        if (*link == running) {
            *link = running->next;
            break;
        }
    }
    int warned = running->warned;
    pthread_mutex_unlock(&registry->lock);
    if (!(plugin->info.flags & JV_PLUGIN_CONCURRENT))
        pthread_mutex_unlock(&plugin->serial);
    if (warned)
        log_info("plugin '%s' %s finished after %" PRId64 " ms", plugin->name, running->what,
                 elapsed);
    pthread_mutex_lock(&registry->lock);
    plugin->running--;
    pthread_cond_broadcast(&registry->callback_finished);
    pthread_mutex_unlock(&registry->lock);
}

static int user_is_admin(struct registry *registry, int64_t user_id)
{
    return registry->host && registry->host->config &&
           config_is_admin(registry->host->config, user_id);
}

static callback_observer_fn observer;

void callbacks_set_observer(callback_observer_fn new_observer)
{
    __atomic_store_n(&observer, new_observer, __ATOMIC_RELEASE);
}

static void observe(const char *plugin, const char *command, int64_t started_ns, int result)
{
    callback_observer_fn current = __atomic_load_n(&observer, __ATOMIC_ACQUIRE);
    if (current != NULL)
        current(plugin, command, monotonic_ns() - started_ns, result);
}

/* A copy of what find finds for key (a command, a callback), taken under
 * the lock because the table may change once it is released. 1 found. */
static int copy_found(struct registry *registry,
                      struct command *(*find)(struct registry *, const char *), const char *key,
                      struct command *copy)
{
    pthread_mutex_lock(&registry->lock);
    struct command *found = find(registry, key);
    if (found)
        *copy = *found;
    pthread_mutex_unlock(&registry->lock);
    return found != NULL;
}

int registry_run_command(struct registry *registry, const jv_message *message)
{
    if (!registry || !message || !message->command)
        return JV_E_INVAL;
    struct command command;
    if (!copy_found(registry, registry_find_command, message->command, &command))
        return JV_E_NOTFOUND;
    if ((command.flags & JV_COMMAND_ADMIN) && !user_is_admin(registry, message->user_id)) {
        log_info("update %" PRId64 ": command /%s refused: user %" PRId64 " is not in [bot] admins",
                 message->update_id, command.name, message->user_id);
        return JV_E_STATE;
    }
    struct running_callback running;
    text_join(running.what, sizeof running.what, "command /", command.name);
    if (callback_enter(registry, command.plugin, &running, message->update_id) != 0)
        return JV_E_NOTFOUND;
    int64_t started_ns = monotonic_ns();
    int result = command.handler(command.plugin, message, command.user_data);
    callback_leave(registry, command.plugin, &running);
    observe(command.plugin->name, command.name, started_ns, result);
    if (result < 0)
        log_warn("update %" PRId64 ": plugin '%s' command /%s failed: %s (%d)", message->update_id,
                 command.plugin->name, command.name, error_text(result), result);
    return JV_OK;
}

/* The flags of what find finds for key (a command, a callback), or 0. */
static uint32_t flags_of(struct registry *registry,
                         struct command *(*find)(struct registry *, const char *), const char *key)
{
    struct command found;
    if (!registry || !key || !copy_found(registry, find, key, &found))
        return 0;
    return found.flags;
}

uint32_t registry_command_flags(struct registry *registry, const char *name)
{
    return flags_of(registry, registry_find_command, name);
}

uint32_t registry_callback_flags(struct registry *registry, const char *data)
{
    return flags_of(registry, registry_find_callback, data);
}

int registry_run_callback(struct registry *registry, const jv_message *message, int *ran)
{
    *ran = 0;
    if (!registry || !message || !message->callback_data)
        return JV_E_INVAL;
    struct command callback;
    if (!copy_found(registry, registry_find_callback, message->callback_data, &callback))
        return JV_E_NOTFOUND;
    if ((callback.flags & JV_COMMAND_ADMIN) && !user_is_admin(registry, message->user_id)) {
        log_info("update %" PRId64 ": button '%s' refused: user %" PRId64 " is not in [bot] admins",
                 message->update_id, callback.name, message->user_id);
        return JV_E_STATE;
    }
    struct running_callback running;
    snprintf(running.what, sizeof running.what, "button %.40s", callback.name);
    if (callback_enter(registry, callback.plugin, &running, message->update_id) != 0)
        return JV_E_NOTFOUND;
    *ran = 1;
    int result = callback.handler(callback.plugin, message, callback.user_data);
    callback_leave(registry, callback.plugin, &running);
    if (result < 0 && result != JV_E_NOTFOUND)
        log_warn("update %" PRId64 ": plugin '%s' button '%s' failed: %s (%d)", message->update_id,
                 callback.plugin->name, callback.name, error_text(result), result);
    return result < 0 ? result : JV_OK;
}

/* Copies the handler table so handlers run without the registry lock. */
static struct message_handler *snapshot_handlers(struct registry *registry, size_t *count)
{
    pthread_mutex_lock(&registry->lock);
    *count = registry->handlers.count;
    struct message_handler *copy = calloc(*count ? *count : 1, sizeof *copy);
    for (size_t i = 0; copy && i < *count; i++)
        copy[i] = *(struct message_handler *)registry->handlers.items[i];
    pthread_mutex_unlock(&registry->lock);
    if (!copy)
        *count = 0;
    return copy;
}

int registry_run_message_handlers(struct registry *registry, const jv_message *message)
{
    if (!registry || !message)
        return 0;
    size_t count;
    struct message_handler *handlers = snapshot_handlers(registry, &count);
    int ran = 0;
    for (size_t i = 0; i < count; i++) {
        struct message_handler *handler = &handlers[i];
        struct running_callback running;
        text_join(running.what, sizeof running.what, "message handler", "");
        if (callback_enter(registry, handler->plugin, &running, message->update_id) != 0)
            continue;
        int64_t started_ns = monotonic_ns();
        int result = handler->handler(handler->plugin, message, handler->user_data);
        callback_leave(registry, handler->plugin, &running);
        observe(handler->plugin->name, NULL, started_ns, result);
        ran++;
        if (result < 0)
            log_warn("update %" PRId64 ": plugin '%s' message handler failed: %s (%d)",
                     message->update_id, handler->plugin->name, error_text(result), result);
        if (result == JV_HANDLED)
            break;
    }
    free(handlers);
    return ran;
}

int registry_run_job(struct registry *registry, struct registry_job *job)
{
    if (!registry || !job)
        return JV_E_INVAL;
    struct jv_plugin *plugin = job->plugin;
    struct running_callback running;
    snprintf(running.what, sizeof running.what, "job %s", job->name);
    if (callback_enter(registry, plugin, &running, -1) != 0)
        return JV_E_STATE;
    int result = job->run(plugin, job->user_data);
    callback_leave(registry, plugin, &running);
    if (result < 0)
        log_warn("plugin '%s' job %s failed: %s (%d)", plugin->name, job->name, error_text(result),
                 result);
    return result < 0 ? result : JV_OK;
}

int64_t registry_check_budgets(struct registry *registry)
{
    if (!registry || !registry->host || !registry->host->config)
        return -1;
    int64_t budget = registry->host->config->handler_budget_ms;
    if (budget <= 0)
        return -1;
    int64_t now = monotonic_ms();
    int64_t next = budget / 2 > 0 ? budget / 2 : 1;
    pthread_mutex_lock(&registry->lock);
    for (struct running_callback *running = registry->running; running; running = running->next) {
        int64_t elapsed = now - running->started_ms;
        if (running->warned)
            continue;
        if (elapsed <= budget) {
            if (budget - elapsed + 1 < next)
                next = budget - elapsed + 1;
            continue;
        }
        running->warned = 1;
        log_warn("plugin '%s' %s still running after %" PRId64 " ms (budget %" PRId64 " ms)",
                 running->plugin->name, running->what, elapsed, budget);
    }
    pthread_mutex_unlock(&registry->lock);
    return next;
}
