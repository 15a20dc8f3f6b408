/* The plugin loader: finds, checks, dlopens and starts plugins, and unloads
 * them. */
#ifndef JARVIS_PLUGINS_H
#define JARVIS_PLUGINS_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct registry;
struct plugin_build;

/* Loads [plugins] enable in order from [plugins] dir; logs one line per
 * refused plugin and a summary line. Then runs every post_init.
 * Never fails the process: counts come back in loaded / refused. */
void plugins_load_all(struct registry *registry, size_t *loaded, size_t *refused);
/* shutdown in reverse load order, then the user_data destructors. */
void plugins_unload_all(struct registry *registry);

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
/* Checks and opens the plugin directory: its fd, or -1 with the problem
 * every plugin in it is refused for. */
int plugins_open_dir(const char *dir, char *problem, size_t problem_size);
/* A reload's two steps, so that a build refused before init (file checks,
 * dlopen, descriptor head) never costs the running one: prepare checks and
 * maps <dir>/<name>.so (dir_fd: the checked directory) and returns NULL with
 * a short reason, the problem already logged; start runs its init and keeps
 * it, or returns NULL (the build consumed either way). */
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

#endif
