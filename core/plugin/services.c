/* Services between plugins: a plugin provides a named, versioned vtable in
 * init, others acquire it; each acquisition records a dependency edge, and
 * those edges decide the unload order (consumers before their providers). */
#include "plugin/services.h"

#include "plugin/registry.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "plugin/registry_internal.h"

#define SERVICE_NAME_MAX 64

/* Service names are dotted ("sentiment.weight"), so dots and dashes are allowed. */
static int service_name_is_valid(const char *name)
{
    if (!name || !*name || strlen(name) > SERVICE_NAME_MAX)
        return 0;
    for (const char *c = name; *c; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' ||
                 *c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Called with the lock held. */
static struct service *find_service(struct registry *registry, const char *name)
{
    for (size_t i = 0; i < registry->services.count; i++) {
        struct service *service = registry->services.items[i];
        if (strcmp(service->name, name) == 0)
            return service;
    }
    return NULL;
}

/* Called with the lock held. */
static int add_service(struct registry *registry, struct jv_plugin *provider, const char *name,
                       uint32_t version, const void *vtable)
{
    struct service *service = calloc(1, sizeof *service);
    char *copy = strdup(name);
    if (!service || !copy || pointer_list_append(&registry->services, service) != 0) {
        free(service);
        free(copy);
        return JV_E_NOMEM;
    }
    service->name = copy;
    service->version = version;
    service->vtable = vtable;
    service->provider = provider;
    return JV_OK;
}

int registry_provide_service(struct jv_plugin *plugin, const char *name, uint32_t version,
                             const void *vtable)
{
    if (!registry_plugin_is_valid(plugin) || !vtable)
        return JV_E_INVAL;
    if (!service_name_is_valid(name)) {
        log_error("plugin '%s': service name '%.70s' is invalid: expected [a-z0-9_.-]{1,64}",
                  plugin->name, name ? name : "(null)");
        return JV_E_INVAL;
    }
    struct registry *registry = plugin->registry;
    pthread_mutex_lock(&registry->lock);
    int status = JV_OK;
    struct service *owner = find_service(registry, name);
    if (!plugin->registering) {
        log_error("plugin '%s': service '%s' provided outside init/post_init; provide it in init",
                  plugin->name, name);
        status = JV_E_STATE;
    } else if (owner) {
        log_error("plugin '%s': service '%s' is already provided by plugin '%s'", plugin->name,
                  name, owner->provider->name);
        status = JV_E_EXISTS;
    } else {
        status = add_service(registry, plugin, name, version, vtable);
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

/* Called with the lock held. */
static void record_edge(struct registry *registry, struct jv_plugin *consumer,
                        struct jv_plugin *provider)
{
    if (consumer == provider)
        return;
    for (size_t i = 0; i < registry->edges.count; i++) {
        struct service_edge *edge = registry->edges.items[i];
        if (edge->consumer == consumer && edge->provider == provider)
            return;
    }
    struct service_edge *edge = malloc(sizeof *edge);
    if (!edge)
        return;
    edge->consumer = consumer;
    edge->provider = provider;
    if (pointer_list_append(&registry->edges, edge) != 0)
        free(edge);
}

const void *registry_acquire_service(struct jv_plugin *plugin, const char *name,
                                     uint32_t min_version)
{
    if (!registry_plugin_is_valid(plugin) || !name)
        return NULL;
    struct registry *registry = plugin->registry;
    const void *vtable = NULL;
    pthread_mutex_lock(&registry->lock);
    struct service *service = find_service(registry, name);
    if (service && service->version >= min_version && !service->provider->stopping) {
        vtable = service->vtable;
        record_edge(registry, plugin, service->provider);
    }
    pthread_mutex_unlock(&registry->lock);
    return vtable;
}

void registry_release_service(struct jv_plugin *plugin, const char *name)
{
    /* The dependency edge stays until the consumer unloads: it decides the
     * unload order, and a consumer may still call during its shutdown. */
    (void)plugin;
    (void)name;
}

void registry_detach_services(struct registry *registry, struct jv_plugin *plugin)
{
    for (size_t i = registry->services.count; i-- > 0;) {
        struct service *service = registry->services.items[i];
        if (service->provider != plugin)
            continue;
        pointer_list_remove_at(&registry->services, i);
        free(service->name);
        free(service);
    }
    for (size_t i = registry->edges.count; i-- > 0;) {
        struct service_edge *edge = registry->edges.items[i];
        if (edge->consumer != plugin && edge->provider != plugin)
            continue;
        pointer_list_remove_at(&registry->edges, i);
        free(edge);
    }
}

/* ---- unload order ---- */

/* Called with the lock held. */
static int has_loaded_consumer(struct registry *registry, const struct jv_plugin *provider)
{
    for (size_t i = 0; i < registry->edges.count; i++) {
        struct service_edge *edge = registry->edges.items[i];
        if (edge->provider == provider && edge->consumer != provider && !edge->consumer->unloaded)
            return 1;
    }
    return 0;
}

int registry_plugin_uses(struct jv_plugin *consumer, const struct jv_plugin *provider)
{
    struct registry *registry = consumer->registry;
    int uses = 0;
    pthread_mutex_lock(&registry->lock);
    for (size_t i = 0; i < registry->edges.count && !uses; i++) {
        struct service_edge *edge = registry->edges.items[i];
        uses = edge->consumer == consumer && edge->provider == provider;
    }
    pthread_mutex_unlock(&registry->lock);
    return uses;
}

int registry_has_loaded_consumer(struct jv_plugin *provider)
{
    pthread_mutex_lock(&provider->registry->lock);
    int found = has_loaded_consumer(provider->registry, provider);
    pthread_mutex_unlock(&provider->registry->lock);
    return found;
}

struct jv_plugin *registry_next_to_unload(struct registry *registry)
{
    struct jv_plugin *latest = NULL;
    struct jv_plugin *chosen = NULL;
    pthread_mutex_lock(&registry->lock);
    for (size_t i = registry->plugins.count; i-- > 0 && !chosen;) {
        struct jv_plugin *plugin = registry->plugins.items[i];
        if (plugin->unloaded)
            continue;
        if (!latest)
            latest = plugin;
        if (!has_loaded_consumer(registry, plugin))
            chosen = plugin;
    }
    pthread_mutex_unlock(&registry->lock);
    /* A dependency cycle leaves no free choice: fall back to load order. */
    return chosen ? chosen : latest;
}
