/* The registry's lifetime and its plugin records: adding and finding them,
 * the registering window, and stopping a plugin's callbacks before unload.
 * What plugins register lives in registration.c and services.c, the running
 * of their callbacks in callbacks.c, the command listing in help.c. */
#include "plugin/registry.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "plugin/registry_internal.h"

int registry_plugin_is_valid(const struct jv_plugin *plugin)
{
    return plugin && plugin->magic == PLUGIN_RECORD_MAGIC && plugin->registry;
}

/* ---- lifetime ---- */

struct registry *registry_create(struct host *host, const jv_host_api *api)
{
    struct registry *registry = calloc(1, sizeof *registry);
    if (!registry)
        return NULL;
    registry->host = host;
    registry->api = api;
    pthread_mutex_init(&registry->lock, NULL);
    monotonic_cond_init(&registry->callback_finished);
    return registry;
}

static void free_plugin_record(struct jv_plugin *plugin)
{
    plugin->magic = 0;
    if (plugin->fd >= 0)
        close(plugin->fd);
    pthread_mutex_destroy(&plugin->serial);
    free(plugin->path);
    free(plugin);
}

void registry_destroy(struct registry *registry)
{
    if (!registry)
        return;
    for (size_t i = 0; i < registry->plugins.count; i++)
        free_plugin_record(registry->plugins.items[i]);
    free(registry->plugins.items);
    for (size_t i = 0; i < registry->retired.count; i++)
        free_plugin_record(registry->retired.items[i]);
    free(registry->retired.items);
    free(registry->commands.items);
    free(registry->callbacks.items);
    free(registry->handlers.items);
    free(registry->jobs.items);
    free(registry->services.items);
    for (size_t i = 0; i < registry->edges.count; i++)
        free(registry->edges.items[i]);
    free(registry->edges.items);
    pthread_cond_destroy(&registry->callback_finished);
    pthread_mutex_destroy(&registry->lock);
    free(registry);
}

const jv_host_api *registry_host_api(struct registry *registry)
{
    return registry->api;
}

struct host *registry_host(struct registry *registry)
{
    return registry->host;
}

/* ---- plugin records ---- */

struct jv_plugin *registry_find_plugin(struct registry *registry, const char *name)
{
    struct jv_plugin *found = NULL;
    pthread_mutex_lock(&registry->lock);
    for (size_t i = 0; i < registry->plugins.count && !found; i++) {
        struct jv_plugin *plugin = registry->plugins.items[i];
        if (strcmp(plugin->name, name) == 0)
            found = plugin;
    }
    pthread_mutex_unlock(&registry->lock);
    return found;
}

void registry_add_plugin(struct registry *registry, struct jv_plugin *plugin)
{
    pthread_mutex_lock(&registry->lock);
    plugin->registry = registry;
    plugin->load_index = registry->next_load_index++;
    if (pointer_list_append(&registry->plugins, plugin) != 0)
        log_error("plugin '%s': out of memory recording it", plugin->name);
    pthread_mutex_unlock(&registry->lock);
}

void registry_remove_plugin(struct registry *registry, struct jv_plugin *plugin)
{
    pthread_mutex_lock(&registry->lock);
    for (size_t i = 0; i < registry->plugins.count; i++) {
        if (registry->plugins.items[i] == plugin) {
            pointer_list_remove_at(&registry->plugins, i);
            break;
        }
    }
    pthread_mutex_unlock(&registry->lock);
}

void registry_retire_plugin(struct registry *registry, struct jv_plugin *plugin)
{
    pthread_mutex_lock(&registry->lock);
    for (size_t i = 0; i < registry->plugins.count; i++) {
        if (registry->plugins.items[i] != plugin)
            continue;
        /* a plugin's thread may still call in with this record: it stays valid */
        if (pointer_list_append(&registry->retired, plugin) == 0)
            pointer_list_remove_at(&registry->plugins, i);
        else
            log_error("plugin '%s': out of memory retiring it", plugin->name);
        break;
    }
    pthread_mutex_unlock(&registry->lock);
}

static const struct jv_plugin *find_by_file(const struct pointer_list *list, dev_t device,
                                            ino_t inode)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct jv_plugin *plugin = list->items[i];
        if (plugin->handle && plugin->file_device == device && plugin->file_inode == inode)
            return plugin;
    }
    return NULL;
}

int registry_mapped_file_hash(struct registry *registry, dev_t device, ino_t inode,
                              uint64_t *content_hash)
{
    pthread_mutex_lock(&registry->lock);
    const struct jv_plugin *plugin = find_by_file(&registry->plugins, device, inode);
    if (plugin == NULL)
        plugin = find_by_file(&registry->retired, device, inode);
    if (plugin != NULL)
        *content_hash = plugin->content_hash;
    pthread_mutex_unlock(&registry->lock);
    return plugin != NULL;
}

void registry_set_registering(struct jv_plugin *plugin, int registering)
{
    pthread_mutex_lock(&plugin->registry->lock);
    plugin->registering = registering;
    pthread_mutex_unlock(&plugin->registry->lock);
}

size_t registry_plugin_count(struct registry *registry)
{
    pthread_mutex_lock(&registry->lock);
    size_t count = registry->plugins.count;
    pthread_mutex_unlock(&registry->lock);
    return count;
}

struct jv_plugin *registry_plugin_at(struct registry *registry, size_t index)
{
    pthread_mutex_lock(&registry->lock);
    struct jv_plugin *plugin =
        index < registry->plugins.count ? registry->plugins.items[index] : NULL;
    pthread_mutex_unlock(&registry->lock);
    return plugin;
}

/* ---- unloading ---- */

int registry_quiesce_plugin(struct jv_plugin *plugin, int64_t timeout_ms)
{
    struct registry *registry = plugin->registry;
    struct timespec deadline = monotonic_deadline_after(timeout_ms);
    pthread_mutex_lock(&registry->lock);
    plugin->stopping = 1;
    int timed_out = 0;
    while (plugin->running > 0 && !timed_out)
        timed_out =
            pthread_cond_timedwait(&registry->callback_finished, &registry->lock, &deadline) != 0;
    int still_running = plugin->running > 0;
    pthread_mutex_unlock(&registry->lock);
    return still_running ? -1 : 0;
}

void registry_mark_unloaded(struct jv_plugin *plugin)
{
    pthread_mutex_lock(&plugin->registry->lock);
    plugin->unloaded = 1;
    plugin->stopping = 1;
    pthread_mutex_unlock(&plugin->registry->lock);
}
