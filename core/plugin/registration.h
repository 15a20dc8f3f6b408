/* What plugins register (commands, callbacks, message handlers, jobs) and the
 * lookups over it. */
#ifndef JARVIS_REGISTRATION_H
#define JARVIS_REGISTRATION_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/plugin.h>

struct registry;
struct registry_job;
struct command;

int registry_register_callback(struct jv_plugin *plugin, const jv_callback_spec *spec,
                               size_t spec_size);
/* Jobs, for the scheduler. */
size_t registry_job_count(struct registry *registry);
struct registry_job *registry_job_at(struct registry *registry, size_t index);
const char *registry_job_name(const struct registry_job *job); /* "plugin/job" */
int64_t registry_job_interval_ms(const struct registry_job *job);
int64_t registry_job_initial_delay_ms(const struct registry_job *job);
const jv_plugin *registry_job_plugin(const struct registry_job *job);

/* registration.c; called with the lock held. */
struct command *registry_find_command(struct registry *registry, const char *name);
struct command *registry_find_callback(struct registry *registry, const char *data);

/* Removes everything the plugin registered and runs the destructors. */
void registry_drop_registrations(struct jv_plugin *plugin);
/* registration.c, services.c: what host_api.c forwards to. Each returns
 * JV_OK or JV_E_*. */
int registry_register_command(struct jv_plugin *plugin, const jv_command_spec *spec,
                              size_t spec_size);
int registry_register_message_handler(struct jv_plugin *plugin, const jv_message_handler_spec *spec,
                                      size_t spec_size);
int registry_register_job(struct jv_plugin *plugin, const jv_job_spec *spec, size_t spec_size);

#endif
