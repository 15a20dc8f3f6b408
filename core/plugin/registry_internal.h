/* What the registry's files share (registry.c, registration.c, services.c,
 * callbacks.c, help.c): the tables behind struct registry and the few calls
 * one piece makes into another. Nothing outside those files includes it. */
#ifndef JARVIS_REGISTRY_INTERNAL_H
#define JARVIS_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <jarvis/plugin.h>

#include "plugin/plugin_record.h"
#include "base/pointer_list.h"

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

struct registry {
    struct host *host;
    const jv_host_api *api; /* what each plugin's init is given */
    pthread_mutex_t lock;
    pthread_cond_t callback_finished; /* CLOCK_MONOTONIC */
    struct pointer_list plugins;      /* struct jv_plugin *, load order */
    struct pointer_list retired;      /* struct jv_plugin *, unloaded by a reload */
    struct pointer_list commands;     /* struct command * */
    struct pointer_list callbacks;    /* struct command *: name is the data prefix */
    struct pointer_list handlers;     /* struct message_handler *, run order */
    struct pointer_list jobs;         /* struct registry_job * */
    struct pointer_list services;     /* struct service * */
    struct pointer_list edges;        /* struct service_edge * */
    struct running_callback *running;
    size_t next_load_index;
};

#endif
