/* The host's record of one plugin (the opaque jv_plugin of the ABI) and the
 * internal calls shared by plugins.c (loading), the registry's files (what
 * plugins registered, running callbacks) and host_api.c (the jv_host_api
 * table). */
#ifndef JARVIS_PLUGIN_RECORD_H
#define JARVIS_PLUGIN_RECORD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jarvis/plugin.h>

struct host;
struct registry;

#define PLUGIN_RECORD_MAGIC 0x4A56504Cu
#define PLUGIN_NAME_MAX 32

/* The descriptor as jarvis 1.0 knows it: everything up to shutdown. */
#define PLUGIN_INFO_V1_SIZE (offsetof(jv_plugin_info, shutdown) + sizeof(void (*)(void)))

struct jv_plugin {
    uint32_t magic; /* PLUGIN_RECORD_MAGIC while the record is alive */
    struct registry *registry;
    char name[PLUGIN_NAME_MAX + 1];
    char *path;           /* the file it came from, for log lines */
    void *handle;         /* dlopen handle; NULL for in-process descriptors */
    int fd;               /* kept open so /proc/self/fd/N names stay unique */
    jv_plugin_info info;  /* the descriptor, zero-padded past its struct_size */
    size_t load_index;
    /* The loaded file: a reload swaps the plugin when the bytes on disk
     * hash differently; the inode is what dlopen recognises an image by. */
    uint64_t content_hash;
    dev_t file_device;
    ino_t file_inode;
    /* The rest is guarded by the registry lock. */
    int registering;      /* inside init / post_init */
    int stopping;         /* no new callbacks start */
    int unloaded;         /* shutdown and destructors done */
    int running;          /* callbacks in progress */
    pthread_mutex_t serial; /* held around callbacks unless JV_PLUGIN_CONCURRENT */
};

/* [a-z0-9_]{1,32}: plugin and command names. */
int plugin_name_is_valid(const char *name);
/* registry.c: a live record handed in by a plugin (its self pointer). */
int registry_plugin_is_valid(const struct jv_plugin *plugin);

/* Validates an in-memory descriptor (magic, ABI, size, name, init), runs
 * init and, on success, keeps the plugin. path names it in log lines. On
 * refusal writes a short reason ("wrong ABI major") and returns NULL; the
 * long explanation is already logged. The loader and unit tests use it. */
struct jv_plugin *plugins_attach_descriptor(struct registry *registry, const char *expected_name,
                                            const char *path, const void *descriptor,
                                            size_t descriptor_size, char *reason,
                                            size_t reason_size);
/* Runs every loaded plugin's post_init, in load order. */
void plugins_run_post_init(struct registry *registry);
/* Only those loaded at or after first_load_index (a reload's new ones). */
void plugins_run_post_init_from(struct registry *registry, size_t first_load_index);

/* A reload's two steps, so that a build refused before init (file checks,
 * dlopen, descriptor head) never costs the running one: prepare checks and
 * maps <dir>/<name>.so (dir_fd: the checked directory) and returns NULL with
 * a short reason, the problem already logged; start runs its init and keeps
 * it, or returns NULL (the build consumed either way). */
struct plugin_build;
/* Checks and opens the plugin directory: its fd, or -1 with the problem
 * every plugin in it is refused for. */
int plugins_open_dir(const char *dir, char *problem, size_t problem_size);
/* [plugins] dir is a search path (a:b): the first entry holding <name>.so,
 * else the first entry (whose refusal then names the missing file). */
void plugins_choose_dir(const char *dirs, const char *name, char *dir, size_t dir_size);
struct plugin_build *plugins_prepare_build(struct registry *registry, int dir_fd, const char *dir,
                                           const char *name, char *reason, size_t reason_size);
struct jv_plugin *plugins_start_build(struct registry *registry, struct plugin_build *build,
                                      char *reason, size_t reason_size);
/* The image of a record again, for starting the same build anew: a
 * consumer restarted with its provider, or a swap rolled back after its
 * new build failed init. */
struct plugin_build *plugins_rebuild_from(const struct jv_plugin *previous, char *reason,
                                          size_t reason_size);
void plugins_discard_build(struct plugin_build *build);
/* Stops, shuts down and unregisters one plugin (see plugins_unload_all);
 * 0, or -1 when its callbacks still ran past the grace period. */
int plugins_unload_one(struct registry *registry, struct jv_plugin *plugin);
/* registry.c: an unloaded record leaves the plugin list (its name is free
 * again) but lives until registry_destroy, as its image does. */
void registry_retire_plugin(struct registry *registry, struct jv_plugin *plugin);
/* services.c: whether consumer acquired a service of provider; whether a
 * plugin not yet unloaded acquired one of provider's. */
int registry_plugin_uses(struct jv_plugin *consumer, const struct jv_plugin *provider);
int registry_has_loaded_consumer(struct jv_plugin *provider);
/* 1 and the content hash of a loaded or retired record mapped from this
 * inode, or 0 when none is. */
int registry_mapped_file_hash(struct registry *registry, dev_t device, ino_t inode,
                              uint64_t *content_hash);

/* registry.c, services.c, registration.c: bookkeeping used by the loader. */
struct host *registry_host(struct registry *registry);
struct jv_plugin *registry_find_plugin(struct registry *registry, const char *name);
/* Takes ownership of the record; assigns its load index. */
void registry_add_plugin(struct registry *registry, struct jv_plugin *plugin);
/* Forgets a refused plugin: removes its registrations (running their
 * destructors) and its record from the list. Does not free the record. */
void registry_remove_plugin(struct registry *registry, struct jv_plugin *plugin);
void registry_set_registering(struct jv_plugin *plugin, int registering);
size_t registry_plugin_count(struct registry *registry);
struct jv_plugin *registry_plugin_at(struct registry *registry, size_t index);
/* The next plugin to unload: the latest loaded one that no loaded plugin
 * still depends on (service edges); NULL when all are unloaded. */
struct jv_plugin *registry_next_to_unload(struct registry *registry);
/* Stops new callbacks and waits up to timeout_ms for running ones.
 * Returns 0 when idle, -1 when callbacks are still running. */
int registry_quiesce_plugin(struct jv_plugin *plugin, int64_t timeout_ms);
/* Removes everything the plugin registered and runs the destructors. */
void registry_drop_registrations(struct jv_plugin *plugin);
void registry_mark_unloaded(struct jv_plugin *plugin);

/* registration.c, services.c: what host_api.c forwards to. Each returns
 * JV_OK or JV_E_*. */
int registry_register_command(struct jv_plugin *plugin, const jv_command_spec *spec,
                              size_t spec_size);
int registry_register_message_handler(struct jv_plugin *plugin,
                                      const jv_message_handler_spec *spec, size_t spec_size);
int registry_register_job(struct jv_plugin *plugin, const jv_job_spec *spec, size_t spec_size);
int registry_provide_service(struct jv_plugin *plugin, const char *name, uint32_t version,
                             const void *vtable);
const void *registry_acquire_service(struct jv_plugin *plugin, const char *name,
                                     uint32_t min_version);
void registry_release_service(struct jv_plugin *plugin, const char *name);

#endif
