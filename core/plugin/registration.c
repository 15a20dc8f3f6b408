/* What plugins register from init/post_init: commands, free-text message
 * handlers and periodic jobs, checked and copied into the registry's tables;
 * and the dropping of all of it, destructors included, when a plugin goes. */
#include "plugin/registration.h"

#include "plugin/registry.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "plugin/registry_internal.h"
#include "plugin/help.h"
#include "plugin/services.h"

/* Checks self and the init/post_init window; locks the registry on success. */
static int begin_registration(struct jv_plugin *plugin, const void *spec, size_t spec_size,
                              size_t v1_size, const char *what)
{
    if (!registry_plugin_is_valid(plugin) || !spec)
        return JV_E_INVAL;
    if (spec_size < v1_size) {
        log_error("plugin '%s': %s spec of %zu bytes, expected at least %zu; rebuild against "
                  "include/jarvis/plugin.h",
                  plugin->name, what, spec_size, v1_size);
        return JV_E_ABI;
    }
    /* Every spec starts with its struct_size; a plugin that sets it must
     * agree with the size it passes (0: not set, as some 1.0 plugins did). */
    size_t stated = *(const size_t *)spec;
    if (stated != 0 && stated != spec_size) {
        log_error("plugin '%s': %s spec says struct_size %zu but %zu bytes were passed; use "
                  "JV_REGISTER_* from include/jarvis/plugin.h, which state it once",
                  plugin->name, what, stated, spec_size);
        return JV_E_ABI;
    }
    pthread_mutex_lock(&plugin->registry->lock);
    if (!plugin->registering) {
        pthread_mutex_unlock(&plugin->registry->lock);
        log_error("plugin '%s': %s registered outside init/post_init; register in init",
                  plugin->name, what);
        return JV_E_STATE;
    }
    return JV_OK;
}

/* Copies what the caller gave, zero-filling members it does not know yet. */
static void copy_spec(void *destination, size_t destination_size, const void *spec,
                      size_t spec_size)
{
    memset(destination, 0, destination_size);
    memcpy(destination, spec, spec_size < destination_size ? spec_size : destination_size);
}

/* ---- commands ---- */

struct command *registry_find_command(struct registry *registry, const char *name)
{
    for (size_t i = 0; i < registry->commands.count; i++) {
        struct command *command = registry->commands.items[i];
        if (strcmp(command->name, name) == 0)
            return command;
    }
    return NULL;
}

/* Called with the lock held; logs and returns JV_OK or the refusal. */
static int check_command_spec(struct registry *registry, struct jv_plugin *plugin,
                              const jv_command_spec *spec)
{
    const char *name = spec->name;
    if (!plugin_name_is_valid(name)) {
        log_error("plugin '%s': command name '%.40s' is invalid: expected [a-z0-9_]{1,32}; "
                  "fix the name",
                  plugin->name, name ? name : "(null)");
        return JV_E_INVAL;
    }
    if (registry_is_builtin_command(name)) {
        log_error("plugin '%s': command /%s is built into jarvis; pick another name", plugin->name,
                  name);
        return JV_E_EXISTS;
    }
    struct command *owner = registry_find_command(registry, name);
    if (owner) {
        log_error("plugin '%s': command /%s is already registered by plugin '%s'; rename one "
                  "of them",
                  plugin->name, name, owner->plugin->name);
        return JV_E_EXISTS;
    }
    if (!spec->handler) {
        log_error("plugin '%s': command /%s has no handler", plugin->name, name);
        return JV_E_INVAL;
    }
    return JV_OK;
}

static void command_free(struct command *command)
{
    free(command->usage);
    free(command->help);
    free(command);
}

static struct command *command_create(struct jv_plugin *plugin, const jv_command_spec *spec)
{
    struct command *command = calloc(1, sizeof *command);
    if (!command)
        return NULL;
    command->usage = strdup(spec->usage ? spec->usage : "");
    command->help = strdup(spec->help ? spec->help : "");
    if (!command->usage || !command->help) {
        command_free(command);
        return NULL;
    }
    snprintf(command->name, sizeof command->name, "%s", spec->name);
    command->flags = spec->flags;
    command->handler = spec->handler;
    command->user_data = spec->user_data;
    command->free_user_data = spec->free_user_data;
    command->plugin = plugin;
    return command;
}

int registry_register_command(struct jv_plugin *plugin, const jv_command_spec *given,
                              size_t spec_size)
{
    int status = begin_registration(plugin, given, spec_size, sizeof(jv_command_spec), "command");
    if (status != JV_OK)
        return status;
    struct registry *registry = plugin->registry;
    jv_command_spec spec;
    copy_spec(&spec, sizeof spec, given, spec_size);
    status = check_command_spec(registry, plugin, &spec);
    if (status == JV_OK) {
        struct command *command = command_create(plugin, &spec);
        if (!command) {
            status = JV_E_NOMEM;
        } else if (pointer_list_append(&registry->commands, command) != 0) {
            command_free(command);
            status = JV_E_NOMEM;
        }
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

/* ---- button callbacks ---- */

#define CALLBACK_PREFIX_MAX 32

/* Printable ASCII without spaces: the data is the plugin's to lay out. */
static int callback_prefix_is_valid(const char *prefix)
{
    size_t length = prefix ? strlen(prefix) : 0;
    if (length == 0 || length > CALLBACK_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < length; i++)
        if (prefix[i] <= ' ' || prefix[i] > '~')
            return 0;
    return 1;
}

static int starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* Called with the lock held: the owner of data, or NULL. Prefixes never
 * start one another, so at most one matches. */
struct command *registry_find_callback(struct registry *registry, const char *data)
{
    for (size_t i = 0; i < registry->callbacks.count; i++) {
        struct command *callback = registry->callbacks.items[i];
        if (starts_with(data, callback->name))
            return callback;
    }
    return NULL;
}

static int check_callback_spec(struct registry *registry, struct jv_plugin *plugin,
                               const jv_callback_spec *spec)
{
    if (!callback_prefix_is_valid(spec->prefix)) {
        log_error("plugin '%s': callback prefix '%.40s' is invalid: expected 1..%d printable "
                  "characters without spaces",
                  plugin->name, spec->prefix ? spec->prefix : "(null)", CALLBACK_PREFIX_MAX);
        return JV_E_INVAL;
    }
    for (size_t i = 0; i < registry->callbacks.count; i++) {
        struct command *other = registry->callbacks.items[i];
        if (starts_with(other->name, spec->prefix) || starts_with(spec->prefix, other->name)) {
            log_error("plugin '%s': callback prefix '%s' overlaps '%s' of plugin '%s'; a press "
                      "must have one owner, pick another prefix",
                      plugin->name, spec->prefix, other->name, other->plugin->name);
            return JV_E_EXISTS;
        }
    }
    if (!spec->handler) {
        log_error("plugin '%s': callback prefix '%s' has no handler", plugin->name, spec->prefix);
        return JV_E_INVAL;
    }
    return JV_OK;
}

int registry_register_callback(struct jv_plugin *plugin, const jv_callback_spec *given,
                               size_t spec_size)
{
    int status = begin_registration(plugin, given, spec_size, sizeof(jv_callback_spec), "callback");
    if (status != JV_OK)
        return status;
    struct registry *registry = plugin->registry;
    jv_callback_spec spec;
    copy_spec(&spec, sizeof spec, given, spec_size);
    status = check_callback_spec(registry, plugin, &spec);
    if (status == JV_OK) {
        jv_command_spec as_command = {.struct_size = sizeof as_command,
                                      .name = spec.prefix,
                                      .flags = spec.flags,
                                      .handler = spec.handler,
                                      .user_data = spec.user_data,
                                      .free_user_data = spec.free_user_data};
        struct command *callback = command_create(plugin, &as_command);
        if (!callback) {
            status = JV_E_NOMEM;
        } else if (pointer_list_append(&registry->callbacks, callback) != 0) {
            command_free(callback);
            status = JV_E_NOMEM;
        }
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

/* ---- message handlers ---- */

/* Called with the lock held: higher priority first, then load order, then
 * registration order. */
static size_t handler_position(struct registry *registry, int priority,
                               const struct jv_plugin *plugin)
{
    size_t index = 0;
    while (index < registry->handlers.count) {
        struct message_handler *other = registry->handlers.items[index];
        if (other->priority < priority)
            break;
        if (other->priority == priority && other->plugin->load_index > plugin->load_index)
            break;
        index++;
    }
    return index;
}

int registry_register_message_handler(struct jv_plugin *plugin,
                                      const jv_message_handler_spec *given, size_t spec_size)
{
    int status = begin_registration(plugin, given, spec_size, sizeof(jv_message_handler_spec),
                                    "message handler");
    if (status != JV_OK)
        return status;
    struct registry *registry = plugin->registry;
    jv_message_handler_spec spec;
    copy_spec(&spec, sizeof spec, given, spec_size);
    struct message_handler *handler = NULL;
    if (!spec.handler) {
        log_error("plugin '%s': message handler has no handler function", plugin->name);
        status = JV_E_INVAL;
    } else if (!(handler = calloc(1, sizeof *handler))) {
        status = JV_E_NOMEM;
    } else {
        handler->priority = spec.priority;
        handler->handler = spec.handler;
        handler->user_data = spec.user_data;
        handler->free_user_data = spec.free_user_data;
        handler->plugin = plugin;
        size_t position = handler_position(registry, spec.priority, plugin);
        if (pointer_list_insert(&registry->handlers, position, handler) != 0) {
            free(handler);
            status = JV_E_NOMEM;
        }
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

/* ---- jobs ---- */

/* Called with the lock held. */
static int job_name_taken(struct registry *registry, const struct jv_plugin *plugin,
                          const char *name)
{
    for (size_t i = 0; i < registry->jobs.count; i++) {
        struct registry_job *job = registry->jobs.items[i];
        if (job->plugin == plugin && strcmp(job->name, name) == 0)
            return 1;
    }
    return 0;
}

/* Called with the lock held. */
static int check_job_spec(struct registry *registry, struct jv_plugin *plugin,
                          const jv_job_spec *spec)
{
    if (!spec->name || !*spec->name || strlen(spec->name) > JOB_NAME_MAX) {
        log_error("plugin '%s': job name must be 1..%d characters", plugin->name, JOB_NAME_MAX);
        return JV_E_INVAL;
    }
    if (spec->interval_ms <= 0 || spec->initial_delay_ms < 0 || !spec->run) {
        log_error("plugin '%s': job '%s' needs interval_ms > 0 (got %" PRId64
                  "), initial_delay_ms >= 0 (got %" PRId64 ") and a run function",
                  plugin->name, spec->name, spec->interval_ms, spec->initial_delay_ms);
        return JV_E_INVAL;
    }
    if (job_name_taken(registry, plugin, spec->name)) {
        log_error("plugin '%s': job '%s' is already registered", plugin->name, spec->name);
        return JV_E_EXISTS;
    }
    return JV_OK;
}

static void job_free(struct registry_job *job)
{
    free(job->name);
    free(job->full_name);
    free(job);
}

static struct registry_job *job_create(struct jv_plugin *plugin, const jv_job_spec *spec)
{
    struct registry_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->name = strdup(spec->name);
    size_t full_length = strlen(plugin->name) + 1 + strlen(spec->name) + 1;
    job->full_name = malloc(full_length);
    if (!job->name || !job->full_name) {
        job_free(job);
        return NULL;
    }
    snprintf(job->full_name, full_length, "%s/%s", plugin->name, spec->name);
    job->interval_ms = spec->interval_ms;
    job->initial_delay_ms = spec->initial_delay_ms;
    job->run = spec->run;
    job->user_data = spec->user_data;
    job->free_user_data = spec->free_user_data;
    job->plugin = plugin;
    return job;
}

int registry_register_job(struct jv_plugin *plugin, const jv_job_spec *given, size_t spec_size)
{
    int status = begin_registration(plugin, given, spec_size, sizeof(jv_job_spec), "job");
    if (status != JV_OK)
        return status;
    struct registry *registry = plugin->registry;
    jv_job_spec spec;
    copy_spec(&spec, sizeof spec, given, spec_size);
    status = check_job_spec(registry, plugin, &spec);
    if (status == JV_OK) {
        struct registry_job *job = job_create(plugin, &spec);
        if (!job) {
            status = JV_E_NOMEM;
        } else if (pointer_list_append(&registry->jobs, job) != 0) {
            job_free(job);
            status = JV_E_NOMEM;
        }
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

/* The scheduler reads the job table once, after loading: the records stay
 * put until their plugin unloads, which happens after the scheduler stops. */
size_t registry_job_count(struct registry *registry)
{
    pthread_mutex_lock(&registry->lock);
    size_t count = registry->jobs.count;
    pthread_mutex_unlock(&registry->lock);
    return count;
}

struct registry_job *registry_job_at(struct registry *registry, size_t index)
{
    pthread_mutex_lock(&registry->lock);
    struct registry_job *job = index < registry->jobs.count ? registry->jobs.items[index] : NULL;
    pthread_mutex_unlock(&registry->lock);
    return job;
}

const char *registry_job_name(const struct registry_job *job)
{
    return job->full_name;
}

int64_t registry_job_interval_ms(const struct registry_job *job)
{
    return job->interval_ms;
}

int64_t registry_job_initial_delay_ms(const struct registry_job *job)
{
    return job->initial_delay_ms;
}

const jv_plugin *registry_job_plugin(const struct registry_job *job)
{
    return job->plugin;
}

/* ---- dropping registrations ---- */

struct destructor {
    jv_free_fn free_user_data;
    void *user_data;
};

struct destructor_list {
    struct destructor *items;
    size_t count;
};

static void remember_destructor(struct destructor_list *list, jv_free_fn fn, void *user_data)
{
    if (!fn)
        return;
    /* Sized up front by the caller; never grows here. */
    list->items[list->count].free_user_data = fn;
    list->items[list->count].user_data = user_data;
    list->count++;
}

/* Called with the lock held. Moves the plugin's commands, handlers and jobs
 * out of the tables, remembering their destructors. */
static void detach_callbacks(struct registry *registry, struct jv_plugin *plugin,
                             struct destructor_list *destructors)
{
    for (size_t i = registry->commands.count; i-- > 0;) {
        struct command *command = registry->commands.items[i];
        if (command->plugin != plugin)
            continue;
        remember_destructor(destructors, command->free_user_data, command->user_data);
        pointer_list_remove_at(&registry->commands, i);
        command_free(command);
    }
    for (size_t i = registry->callbacks.count; i-- > 0;) {
        struct command *callback = registry->callbacks.items[i];
        if (callback->plugin != plugin)
            continue;
        remember_destructor(destructors, callback->free_user_data, callback->user_data);
        pointer_list_remove_at(&registry->callbacks, i);
        command_free(callback);
    }
    for (size_t i = registry->handlers.count; i-- > 0;) {
        struct message_handler *handler = registry->handlers.items[i];
        if (handler->plugin != plugin)
            continue;
        remember_destructor(destructors, handler->free_user_data, handler->user_data);
        pointer_list_remove_at(&registry->handlers, i);
        free(handler);
    }
    for (size_t i = registry->jobs.count; i-- > 0;) {
        struct registry_job *job = registry->jobs.items[i];
        if (job->plugin != plugin)
            continue;
        remember_destructor(destructors, job->free_user_data, job->user_data);
        pointer_list_remove_at(&registry->jobs, i);
        job_free(job);
    }
}

void registry_drop_registrations(struct jv_plugin *plugin)
{
    struct registry *registry = plugin->registry;
    pthread_mutex_lock(&registry->lock);
    size_t most = registry->commands.count + registry->callbacks.count + registry->handlers.count +
                  registry->jobs.count;
    struct destructor_list destructors = {calloc(most ? most : 1, sizeof(struct destructor)), 0};
    if (!destructors.items) {
        pthread_mutex_unlock(&registry->lock);
        log_error("plugin '%s': out of memory while unregistering it", plugin->name);
        return;
    }
    detach_callbacks(registry, plugin, &destructors);
    registry_detach_services(registry, plugin);
    pthread_mutex_unlock(&registry->lock);
    /* Outside the lock: a destructor may call back into the host API (log). */
    for (size_t i = destructors.count; i-- > 0;)
        destructors.items[i].free_user_data(destructors.items[i].user_data);
    free(destructors.items);
}
