/* Services plugins provide to each other (jv_service), and who uses whose. */
#ifndef JARVIS_SERVICES_H
#define JARVIS_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct registry;

/* services.c; called with the lock held: drops the services the plugin
 * provides and every dependency edge it is part of. */
void registry_detach_services(struct registry *registry, struct jv_plugin *plugin);

/* services.c: whether consumer acquired a service of provider; whether a
 * plugin not yet unloaded acquired one of provider's. */
int registry_plugin_uses(struct jv_plugin *consumer, const struct jv_plugin *provider);
int registry_has_loaded_consumer(struct jv_plugin *provider);
/* The next plugin to unload: the latest loaded one that no loaded plugin
 * still depends on (service edges); NULL when all are unloaded. */
struct jv_plugin *registry_next_to_unload(struct registry *registry);
int registry_provide_service(struct jv_plugin *plugin, const char *name, uint32_t version,
                             const void *vtable);
const void *registry_acquire_service(struct jv_plugin *plugin, const char *name,
                                     uint32_t min_version);
void registry_release_service(struct jv_plugin *plugin, const char *name);

#endif
