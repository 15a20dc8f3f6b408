/* Test plugin "versioned", built twice by the Makefile (VERSIONED_BUILD=1
 * and 2) for the reload tests: /ver names the build that answers, /count
 * shows whether in-memory state survived, /greeting the [versioned] greeting
 * read at init, a service naming the build, and an optional job. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jarvis/plugin.h>

#ifndef VERSIONED_BUILD
#define VERSIONED_BUILD 1
#endif
#if VERSIONED_BUILD == 2
#define VERSIONED_TEXT "2.0"
#else
#define VERSIONED_TEXT "1.0"
#endif

/* what versioned_user.c declares too */
typedef struct {
    uint32_t struct_size;
    int (*build)(void);
} versioned_service_api;

static const jv_host_api *api;
static char greeting[128];
/* in-memory state: survives while the plugin stays loaded, reset by init */
static atomic_int counter;
static int64_t job_chat;

static int on_ver(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    char text[256];
    snprintf(text, sizeof text, "v%d %s", VERSIONED_BUILD, message->args);
    return api->reply(message, text);
}

static int on_count(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    char text[64];
    snprintf(text, sizeof text, "count %d", atomic_fetch_add(&counter, 1) + 1);
    return api->reply(message, text);
}

static int on_greeting(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    return api->reply(message, greeting);
}

static int on_tick(jv_plugin *self, void *user_data)
{
    (void)user_data;
    char text[64];
    snprintf(text, sizeof text, "job v%d", VERSIONED_BUILD);
    return api->send_message(self, job_chat, text);
}

static int service_build(void) { return VERSIONED_BUILD; }

static const versioned_service_api service = {sizeof service, service_build};

static int add_command(jv_plugin *self, const char *name, jv_command_fn handler)
{
    jv_command_spec spec = {sizeof spec, name, name, name, 0, handler, NULL, NULL};
    return api->register_command(self, &spec, sizeof spec);
}

static int versioned_init(jv_plugin *self, const jv_host_api *host_api, char *err,
                          size_t err_length)
{
    api = host_api;
    atomic_store(&counter, 0);
    /* a slow init (a plugin reading a file, a network check) widens the
     * window in which a half-loaded plugin could be asked */
    int64_t delay_ms = api->config_get_int(self, "init_delay_ms", 0);
    struct timespec delay = {(time_t)(delay_ms / 1000), (long)(delay_ms % 1000) * 1000000L};
    while (delay_ms > 0 && nanosleep(&delay, &delay) != 0) {
    }
    snprintf(greeting, sizeof greeting, "%s", api->config_get(self, "greeting", "no greeting"));
    if (api->config_get_int(self, "fail_init_build", 0) == VERSIONED_BUILD) {
        snprintf(err, err_length, "build %d refuses to start", VERSIONED_BUILD);
        return JV_E_INVAL;
    }
    int result = add_command(self, "ver", on_ver) | add_command(self, "count", on_count) |
                 add_command(self, "greeting", on_greeting) |
                 api->provide_service(self, "versioned.build", 1, &service);
    int64_t interval = api->config_get_int(self, "job_interval_ms", 0);
    if (interval > 0) {
        job_chat = api->config_get_int(self, "job_chat", 77);
        jv_job_spec job = {sizeof job, "tick", interval, 0, on_tick, NULL, NULL};
        result |= api->register_job(self, &job, sizeof job);
    }
    if (result != 0) {
        snprintf(err, err_length, "registration failed");
        return JV_E_INTERNAL;
    }
    return JV_OK;
}

JV_PLUGIN_DEFINE("versioned", VERSIONED_TEXT, "test plugin: which build answers", 0,
                 versioned_init, NULL, NULL);
