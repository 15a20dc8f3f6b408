/* The registry of what plugins registered (commands, message handlers, jobs,
 * services) and the running of their callbacks: per-plugin serialisation,
 * the handler time budget, and the bookkeeping that lets unload wait. */
#include "registry.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "log.h"
#include "plugin_record.h"

#define SERVICE_NAME_MAX 64
#define JOB_NAME_MAX 64

struct command {
    char name[PLUGIN_NAME_MAX + 1];
    char *usage;
    char *help;
    uint32_t flags;
    jv_command_fn handler;
    void *user_data;
    jv_free_fn free_user_data;
    struct jv_plugin *plugin;
};

struct message_handler {
    int priority;
    jv_message_fn handler;
    void *user_data;
    jv_free_fn free_user_data;
    struct jv_plugin *plugin;
};

struct registry_job {
    char *full_name; /* "plugin/job" */
    char *name;
    int64_t interval_ms;
    int64_t initial_delay_ms;
    jv_job_fn run;
    void *user_data;
    jv_free_fn free_user_data;
    struct jv_plugin *plugin;
};

struct service {
    char *name;
    uint32_t version;
    const void *vtable;
    struct jv_plugin *provider;
};

/* consumer acquired a service of provider at least once */
struct service_edge {
    struct jv_plugin *consumer;
    struct jv_plugin *provider;
};

/* One callback in progress, linked from the caller's stack frame. */
struct running_callback {
    struct jv_plugin *plugin;
    char what[JOB_NAME_MAX + 16]; /* "command /x", "job y", "message handler" */
    int64_t started_ms;
    int warned;
    struct running_callback *next;
};

struct pointer_list {
    void **items;
    size_t count;
    size_t capacity;
};

struct registry {
    struct host *host;
    pthread_mutex_t lock;
    pthread_cond_t callback_finished;
    struct pointer_list plugins;  /* struct jv_plugin *, load order */
    struct pointer_list commands; /* struct command * */
    struct pointer_list handlers; /* struct message_handler *, run order */
    struct pointer_list jobs;     /* struct registry_job * */
    struct pointer_list services; /* struct service * */
    struct pointer_list edges;    /* struct service_edge * */
    struct running_callback *running;
    size_t next_load_index;
};

static _Atomic(struct host *) current_host;

static const char *const builtin_commands[][2] = {
    {"help", "list the commands"},
    {"start", "say hello and list the commands"},
};

static int64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int list_append(struct pointer_list *list, void *item)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        void **items = realloc(list->items, capacity * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = item;
    return 0;
}

static int list_insert(struct pointer_list *list, size_t index, void *item)
{
    if (list_append(list, item) != 0)
        return -1;
    memmove(&list->items[index + 1], &list->items[index],
            (list->count - 1 - index) * sizeof *list->items);
    list->items[index] = item;
    return 0;
}

static void list_remove_at(struct pointer_list *list, size_t index)
{
    memmove(&list->items[index], &list->items[index + 1],
            (list->count - 1 - index) * sizeof *list->items);
    list->count--;
}

int plugin_name_is_valid(const char *name)
{
    if (!name || !*name)
        return 0;
    size_t length = 0;
    for (const char *c = name; *c; c++, length++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
        if (!ok || length >= PLUGIN_NAME_MAX)
            return 0;
    }
    return 1;
}

/* Service names are dotted ("sentiment.weight"), so dots and dashes are allowed. */
static int service_name_is_valid(const char *name)
{
    if (!name || !*name || strlen(name) > SERVICE_NAME_MAX)
        return 0;
    for (const char *c = name; *c; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                 *c == '.' || *c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static int plugin_is_valid(const struct jv_plugin *plugin)
{
    return plugin && plugin->magic == PLUGIN_RECORD_MAGIC && plugin->registry;
}

static char *copy_text(const char *text)
{
    return strdup(text ? text : "");
}

/* ---- lifetime ---- */

struct registry *registry_create(struct host *host)
{
    struct registry *registry = calloc(1, sizeof *registry);
    if (!registry)
        return NULL;
    registry->host = host;
    pthread_mutex_init(&registry->lock, NULL);
    pthread_cond_init(&registry->callback_finished, NULL);
    atomic_store(&current_host, host);
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
    plugins_unload_all(registry);
    for (size_t i = 0; i < registry->plugins.count; i++)
        free_plugin_record(registry->plugins.items[i]);
    free(registry->plugins.items);
    free(registry->commands.items);
    free(registry->handlers.items);
    free(registry->jobs.items);
    free(registry->services.items);
    for (size_t i = 0; i < registry->edges.count; i++)
        free(registry->edges.items[i]);
    free(registry->edges.items);
    struct host *expected = registry->host;
    atomic_compare_exchange_strong(&current_host, &expected, NULL);
    pthread_cond_destroy(&registry->callback_finished);
    pthread_mutex_destroy(&registry->lock);
    free(registry);
}

struct host *registry_current_host(void)
{
    return atomic_load(&current_host);
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
    if (list_append(&registry->plugins, plugin) != 0)
        log_error("plugin '%s': out of memory recording it", plugin->name);
    pthread_mutex_unlock(&registry->lock);
}

void registry_remove_plugin(struct registry *registry, struct jv_plugin *plugin)
{
    registry_drop_registrations(plugin);
    pthread_mutex_lock(&registry->lock);
    for (size_t i = 0; i < registry->plugins.count; i++) {
        if (registry->plugins.items[i] == plugin) {
            list_remove_at(&registry->plugins, i);
            break;
        }
    }
    pthread_mutex_unlock(&registry->lock);
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

/* Called with the lock held. */
static int has_loaded_consumer(struct registry *registry, const struct jv_plugin *provider)
{
    for (size_t i = 0; i < registry->edges.count; i++) {
        struct service_edge *edge = registry->edges.items[i];
        if (edge->provider == provider && edge->consumer != provider &&
            !edge->consumer->unloaded)
            return 1;
    }
    return 0;
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

int registry_quiesce_plugin(struct jv_plugin *plugin, int64_t timeout_ms)
{
    struct registry *registry = plugin->registry;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&registry->lock);
    plugin->stopping = 1;
    int timed_out = 0;
    while (plugin->running > 0 && !timed_out)
        timed_out = pthread_cond_timedwait(&registry->callback_finished, &registry->lock,
                                           &deadline) != 0;
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
        list_remove_at(&registry->commands, i);
        free(command->usage);
        free(command->help);
        free(command);
    }
    for (size_t i = registry->handlers.count; i-- > 0;) {
        struct message_handler *handler = registry->handlers.items[i];
        if (handler->plugin != plugin)
            continue;
        remember_destructor(destructors, handler->free_user_data, handler->user_data);
        list_remove_at(&registry->handlers, i);
        free(handler);
    }
    for (size_t i = registry->jobs.count; i-- > 0;) {
        struct registry_job *job = registry->jobs.items[i];
        if (job->plugin != plugin)
            continue;
        remember_destructor(destructors, job->free_user_data, job->user_data);
        list_remove_at(&registry->jobs, i);
        free(job->full_name);
        free(job->name);
        free(job);
    }
}

/* Called with the lock held. */
static void detach_services(struct registry *registry, struct jv_plugin *plugin)
{
    for (size_t i = registry->services.count; i-- > 0;) {
        struct service *service = registry->services.items[i];
        if (service->provider != plugin)
            continue;
        list_remove_at(&registry->services, i);
        free(service->name);
        free(service);
    }
    for (size_t i = registry->edges.count; i-- > 0;) {
        struct service_edge *edge = registry->edges.items[i];
        if (edge->consumer != plugin && edge->provider != plugin)
            continue;
        list_remove_at(&registry->edges, i);
        free(edge);
    }
}

void registry_drop_registrations(struct jv_plugin *plugin)
{
    struct registry *registry = plugin->registry;
    pthread_mutex_lock(&registry->lock);
    size_t most = registry->commands.count + registry->handlers.count + registry->jobs.count;
    struct destructor_list destructors = {calloc(most ? most : 1, sizeof(struct destructor)), 0};
    if (!destructors.items) {
        pthread_mutex_unlock(&registry->lock);
        log_error("plugin '%s': out of memory while unregistering it", plugin->name);
        return;
    }
    detach_callbacks(registry, plugin, &destructors);
    detach_services(registry, plugin);
    pthread_mutex_unlock(&registry->lock);
    /* Outside the lock: a destructor may call back into the host API (log). */
    for (size_t i = destructors.count; i-- > 0;)
        destructors.items[i].free_user_data(destructors.items[i].user_data);
    free(destructors.items);
}

/* ---- registration ---- */

/* Checks self and the init/post_init window; locks the registry on success. */
static int begin_registration(struct jv_plugin *plugin, const void *spec, size_t spec_size,
                              size_t v1_size, const char *what)
{
    if (!plugin_is_valid(plugin) || !spec)
        return JV_E_INVAL;
    if (spec_size < v1_size) {
        log_error("plugin '%s': %s spec of %zu bytes, expected at least %zu; rebuild against "
                  "include/jarvis/plugin.h",
                  plugin->name, what, spec_size, v1_size);
        return JV_E_ABI;
    }
    pthread_mutex_lock(&plugin->registry->lock);
    if (!plugin->registering) {
        pthread_mutex_unlock(&plugin->registry->lock);
        log_error("plugin '%s': %s registered outside init/post_init; register in init", plugin->name,
                  what);
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

static int is_builtin_command(const char *name)
{
    for (size_t i = 0; i < sizeof builtin_commands / sizeof builtin_commands[0]; i++)
        if (strcmp(builtin_commands[i][0], name) == 0)
            return 1;
    return 0;
}

/* Called with the lock held. */
static struct command *find_command(struct registry *registry, const char *name)
{
    for (size_t i = 0; i < registry->commands.count; i++) {
        struct command *command = registry->commands.items[i];
        if (strcmp(command->name, name) == 0)
            return command;
    }
    return NULL;
}

/* Called with the lock held; logs and returns JV_OK or the refusal. */
static int check_command_name(struct registry *registry, struct jv_plugin *plugin,
                              const char *name)
{
    if (!plugin_name_is_valid(name)) {
        log_error("plugin '%s': command name '%.40s' is invalid: expected [a-z0-9_]{1,32}; "
                  "fix the name",
                  plugin->name, name ? name : "(null)");
        return JV_E_INVAL;
    }
    if (is_builtin_command(name)) {
        log_error("plugin '%s': command /%s is built into jarvis; pick another name",
                  plugin->name, name);
        return JV_E_EXISTS;
    }
    struct command *owner = find_command(registry, name);
    if (owner) {
        log_error("plugin '%s': command /%s is already registered by plugin '%s'; rename one "
                  "of them",
                  plugin->name, name, owner->plugin->name);
        return JV_E_EXISTS;
    }
    return JV_OK;
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
    status = check_command_name(registry, plugin, spec.name);
    if (status == JV_OK && !spec.handler) {
        log_error("plugin '%s': command /%s has no handler", plugin->name, spec.name);
        status = JV_E_INVAL;
    }
    struct command *command = NULL;
    if (status == JV_OK) {
        command = calloc(1, sizeof *command);
        if (command) {
            command->usage = copy_text(spec.usage);
            command->help = copy_text(spec.help);
        }
        if (!command || !command->usage || !command->help)
            status = JV_E_NOMEM;
    }
    if (status == JV_OK) {
        snprintf(command->name, sizeof command->name, "%s", spec.name);
        command->flags = spec.flags;
        command->handler = spec.handler;
        command->user_data = spec.user_data;
        command->free_user_data = spec.free_user_data;
        command->plugin = plugin;
        if (list_append(&registry->commands, command) != 0)
            status = JV_E_NOMEM;
    }
    if (status != JV_OK && command) {
        free(command->usage);
        free(command->help);
        free(command);
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

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
        if (list_insert(&registry->handlers, position, handler) != 0) {
            free(handler);
            status = JV_E_NOMEM;
        }
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

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

static struct registry_job *job_create(struct jv_plugin *plugin, const jv_job_spec *spec)
{
    struct registry_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->name = strdup(spec->name);
    size_t full_length = strlen(plugin->name) + 1 + strlen(spec->name) + 1;
    job->full_name = malloc(full_length);
    if (!job->name || !job->full_name) {
        free(job->name);
        free(job->full_name);
        free(job);
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
        } else if (list_append(&registry->jobs, job) != 0) {
            free(job->name);
            free(job->full_name);
            free(job);
            status = JV_E_NOMEM;
        }
    }
    pthread_mutex_unlock(&registry->lock);
    return status;
}

/* ---- services ---- */

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

int registry_provide_service(struct jv_plugin *plugin, const char *name, uint32_t version,
                             const void *vtable)
{
    if (!plugin_is_valid(plugin) || !vtable)
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
        struct service *service = calloc(1, sizeof *service);
        char *copy = strdup(name);
        if (!service || !copy || list_append(&registry->services, service) != 0) {
            free(service);
            free(copy);
            status = JV_E_NOMEM;
        } else {
            service->name = copy;
            service->version = version;
            service->vtable = vtable;
            service->provider = plugin;
        }
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
    if (list_append(&registry->edges, edge) != 0)
        free(edge);
}

const void *registry_acquire_service(struct jv_plugin *plugin, const char *name,
                                     uint32_t min_version)
{
    if (!plugin_is_valid(plugin) || !name)
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

/* ---- running callbacks ---- */

/* Returns 0 when the plugin may run (serial lock taken if needed and the
 * callback tracked for the budget), -1 when it is being unloaded. */
static int callback_enter(struct registry *registry, struct jv_plugin *plugin,
                          struct running_callback *running)
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
    return 0;
}

static void callback_leave(struct registry *registry, struct jv_plugin *plugin,
                           struct running_callback *running)
{
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

int registry_run_command(struct registry *registry, const jv_message *message)
{
    if (!registry || !message || !message->command)
        return JV_E_INVAL;
    pthread_mutex_lock(&registry->lock);
    struct command *found = find_command(registry, message->command);
    struct command command;
    if (found)
        command = *found; /* the table may change once the lock is released */
    pthread_mutex_unlock(&registry->lock);
    if (!found)
        return JV_E_NOTFOUND;
    if ((command.flags & JV_COMMAND_ADMIN) && !user_is_admin(registry, message->user_id)) {
        log_info("command /%s refused: user %" PRId64 " is not in [bot] admins", command.name,
                 message->user_id);
        return JV_E_STATE;
    }
    struct running_callback running;
    snprintf(running.what, sizeof running.what, "command /%s", command.name);
    if (callback_enter(registry, command.plugin, &running) != 0)
        return JV_E_NOTFOUND;
    int result = command.handler(command.plugin, message, command.user_data);
    callback_leave(registry, command.plugin, &running);
    if (result < 0)
        log_warn("plugin '%s' command /%s failed: %s (%d)", command.plugin->name, command.name,
                 host_api_table()->strerror(result), result);
    return JV_OK;
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
        snprintf(running.what, sizeof running.what, "message handler");
        if (callback_enter(registry, handler->plugin, &running) != 0)
            continue;
        int result = handler->handler(handler->plugin, message, handler->user_data);
        callback_leave(registry, handler->plugin, &running);
        ran++;
        if (result < 0)
            log_warn("plugin '%s' message handler failed: %s (%d)", handler->plugin->name,
                     host_api_table()->strerror(result), result);
        if (result == JV_HANDLED)
            break;
    }
    free(handlers);
    return ran;
}

/* ---- help and command listing ---- */

struct command_line {
    char *name;
    char *help;
};

static int compare_command_lines(const void *a, const void *b)
{
    return strcmp(((const struct command_line *)a)->name, ((const struct command_line *)b)->name);
}

/* Built-ins first, then the plugins' commands sorted by name; all copied. */
static struct command_line *snapshot_commands(struct registry *registry, size_t *count)
{
    size_t builtins = sizeof builtin_commands / sizeof builtin_commands[0];
    pthread_mutex_lock(&registry->lock);
    size_t total = builtins + registry->commands.count;
    struct command_line *lines = calloc(total, sizeof *lines);
    for (size_t i = 0; lines && i < total; i++) {
        const char *name, *help;
        if (i < builtins) {
            name = builtin_commands[i][0];
            help = builtin_commands[i][1];
        } else {
            struct command *command = registry->commands.items[i - builtins];
            name = command->name;
            help = *command->help ? command->help : command->usage;
        }
        lines[i].name = strdup(name);
        lines[i].help = strdup(help);
    }
    pthread_mutex_unlock(&registry->lock);
    if (!lines) {
        *count = 0;
        return NULL;
    }
    qsort(lines + builtins, total - builtins, sizeof *lines, compare_command_lines);
    *count = total;
    return lines;
}

static void free_command_lines(struct command_line *lines, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(lines[i].name);
        free(lines[i].help);
    }
    free(lines);
}

char *registry_help_text(struct registry *registry)
{
    size_t count;
    struct command_line *lines = snapshot_commands(registry, &count);
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    if (!stream) {
        free_command_lines(lines, count);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (!lines[i].name || !lines[i].help)
            continue;
        if (*lines[i].help)
            fprintf(stream, "/%s - %s\n", lines[i].name, lines[i].help);
        else
            fprintf(stream, "/%s\n", lines[i].name);
    }
    fclose(stream);
    free_command_lines(lines, count);
    return text;
}

void registry_for_each_command(struct registry *registry,
                               void (*visit)(const char *name, const char *help, void *context),
                               void *context)
{
    if (!registry || !visit)
        return;
    size_t count;
    struct command_line *lines = snapshot_commands(registry, &count);
    for (size_t i = 0; i < count; i++)
        if (lines[i].name && lines[i].help)
            visit(lines[i].name, lines[i].help, context);
    free_command_lines(lines, count);
}

/* ---- jobs ---- */

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

int registry_run_job(struct registry *registry, struct registry_job *job)
{
    if (!registry || !job)
        return JV_E_INVAL;
    struct jv_plugin *plugin = job->plugin;
    struct running_callback running;
    snprintf(running.what, sizeof running.what, "job %s", job->name);
    if (callback_enter(registry, plugin, &running) != 0)
        return JV_E_STATE;
    int result = job->run(plugin, job->user_data);
    callback_leave(registry, plugin, &running);
    if (result < 0)
        log_warn("plugin '%s' job %s failed: %s (%d)", plugin->name, job->name,
                 host_api_table()->strerror(result), result);
    return result < 0 ? result : JV_OK;
}

/* ---- budget ---- */

void registry_check_budgets(struct registry *registry)
{
    if (!registry || !registry->host || !registry->host->config)
        return;
    int64_t budget = registry->host->config->handler_budget_ms;
    if (budget <= 0)
        return;
    int64_t now = monotonic_ms();
    pthread_mutex_lock(&registry->lock);
    for (struct running_callback *running = registry->running; running; running = running->next) {
        int64_t elapsed = now - running->started_ms;
        if (running->warned || elapsed <= budget)
            continue;
        running->warned = 1;
        log_warn("plugin '%s' %s still running after %" PRId64 " ms (budget %" PRId64 " ms)",
                 running->plugin->name, running->what, elapsed, budget);
    }
    pthread_mutex_unlock(&registry->lock);
}
