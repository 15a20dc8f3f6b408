/* Plugin loading and the registry of what plugins registered: commands,
 * message handlers, jobs, services. Also runs plugin callbacks, applying the
 * per-plugin serialisation and the handler time budget. Implemented by
 * plugins.c (loading), registry.c (records), registration.c, services.c,
 * callbacks.c (running) and help.c (command listing). */
#ifndef JARVIS_REGISTRY_H
#define JARVIS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct host;
struct registry;
struct registry_job; /* opaque, handed to the scheduler */

struct registry *registry_create(struct host *host);
/* Unloads what is still loaded (see plugins_unload_all), frees the registry. */
void registry_destroy(struct registry *registry);

/* Loads [plugins] enable in order from [plugins] dir; logs one line per
 * refused plugin and a summary line. Then runs every post_init.
 * Never fails the process: counts come back in loaded / refused. */
void plugins_load_all(struct registry *registry, size_t *loaded, size_t *refused);
/* shutdown in reverse load order, then the user_data destructors. */
void plugins_unload_all(struct registry *registry);

/* Runs the command's handler on the calling thread. Returns 0 when a
 * handler ran, JV_E_NOTFOUND when no plugin registered that command,
 * JV_E_STATE for an admin command from a non-admin. */
int registry_run_command(struct registry *registry, const jv_message *message);
/* The JV_COMMAND_* flags of a plugin command, 0 when there is none. */
uint32_t registry_command_flags(struct registry *registry, const char *name);
/* Runs the callback handler whose prefix starts message->callback_data;
 * *ran tells whether a handler ran. JV_E_NOTFOUND when no plugin owns such
 * a prefix, JV_E_STATE for an admin button pressed by a non-admin, else
 * what the handler returned (JV_E_NOTFOUND: data it no longer knows). */
int registry_run_callback(struct registry *registry, const jv_message *message, int *ran);
/* The flags of the callback owning data's prefix, 0 when there is none. */
uint32_t registry_callback_flags(struct registry *registry, const char *data);
int registry_register_callback(struct jv_plugin *plugin, const jv_callback_spec *spec,
                               size_t spec_size);
/* Runs free-text handlers in priority order until one returns JV_HANDLED.
 * Returns the number of handlers that ran. */
int registry_run_message_handlers(struct registry *registry, const jv_message *message);

/* "/name - help" lines, sorted by name; malloc'd. Built-ins included. */
char *registry_help_text(struct registry *registry);
/* One command's help, usage line and admin note (malloc'd), or NULL when no
 * command has that name; "/name" and "name" both work. */
char *registry_command_help(struct registry *registry, const char *name);
/* Visits every command (name, help), for Telegram's setMyCommands. */
void registry_for_each_command(struct registry *registry,
                               void (*visit)(const char *name, const char *help, void *context),
                               void *context);

/* Jobs, for the scheduler. */
size_t registry_job_count(struct registry *registry);
struct registry_job *registry_job_at(struct registry *registry, size_t index);
const char *registry_job_name(const struct registry_job *job); /* "plugin/job" */
int64_t registry_job_interval_ms(const struct registry_job *job);
int64_t registry_job_initial_delay_ms(const struct registry_job *job);
const jv_plugin *registry_job_plugin(const struct registry_job *job);
/* Runs it on the calling thread under the plugin's serialisation. */
int registry_run_job(struct registry *registry, struct registry_job *job);

/* Handlers and jobs still running past [bot] handler_budget_ms get one
 * warning each naming plugin and command; called periodically. */
void registry_check_budgets(struct registry *registry);

/* The jv_host_api table given to plugins (host_api.c). */
const jv_host_api *host_api_table(void);

#endif
