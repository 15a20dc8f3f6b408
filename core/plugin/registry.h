/* The registry: the records of loaded plugins (struct jv_plugin, in load
 * order) and of the ones a reload retired. What plugins register lives in
 * registration.h, services.h; loading in plugins.h; running in callbacks.h. */
#ifndef JARVIS_REGISTRY_H
#define JARVIS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jarvis/plugin.h>

struct host;
struct registry;
struct registry_job; /* opaque, handed to the scheduler */

/* api: the table each plugin's init gets (the dispatch layer's host_api_table,
 * handed in so the loader does not reach up for it). */
struct registry *registry_create(struct host *host, const jv_host_api *api);
/* Frees the registry and its records; plugins_unload_all comes first (the
 * loader sits above the registry: it unloads, the registry forgets). */
void registry_destroy(struct registry *registry);

/* registry.c: a live record handed in by a plugin (its self pointer). */
int registry_plugin_is_valid(const struct jv_plugin *plugin);
/* registry.c: an unloaded record leaves the plugin list (its name is free
 * again) but lives until registry_destroy, as its image does. */
void registry_retire_plugin(struct registry *registry, struct jv_plugin *plugin);
/* 1 and the content hash of a loaded or retired record mapped from this
 * inode, or 0 when none is. */
int registry_mapped_file_hash(struct registry *registry, dev_t device, ino_t inode,
                              uint64_t *content_hash);
/* registry.c, services.c, registration.c: bookkeeping used by the loader. */
struct host *registry_host(struct registry *registry);
const jv_host_api *registry_host_api(struct registry *registry);
struct jv_plugin *registry_find_plugin(struct registry *registry, const char *name);
/* Takes ownership of the record; assigns its load index. */
void registry_add_plugin(struct registry *registry, struct jv_plugin *plugin);
/* Forgets a refused plugin's record (its registrations are dropped first,
 * registration.h). Does not free the record. */
void registry_remove_plugin(struct registry *registry, struct jv_plugin *plugin);
void registry_set_registering(struct jv_plugin *plugin, int registering);
size_t registry_plugin_count(struct registry *registry);
struct jv_plugin *registry_plugin_at(struct registry *registry, size_t index);
/* Stops new callbacks and waits up to timeout_ms for running ones.
 * Returns 0 when idle, -1 when callbacks are still running. */
int registry_quiesce_plugin(struct jv_plugin *plugin, int64_t timeout_ms);
void registry_mark_unloaded(struct jv_plugin *plugin);

#endif
