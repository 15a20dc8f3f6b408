/* Test plugin "versioned_user": acquires the versioned.build service in
 * post_init and /askver reports the build behind the vtable it holds, so a
 * reload that swaps the provider without restarting its consumer shows. */
#include <stdio.h>

#include <jarvis/plugin.h>

typedef struct {
    uint32_t struct_size;
    int (*build)(void);
} versioned_service_api;

static const jv_host_api *api;
static const versioned_service_api *service;

static int on_askver(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    char text[64];
    if (service == NULL)
        snprintf(text, sizeof text, "user: no service");
    else
        snprintf(text, sizeof text, "user sees v%d", service->build());
    return api->reply(message, text);
}

static int user_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t err_length)
{
    api = host_api;
    service = NULL;
    jv_command_spec spec = {sizeof spec, "askver", "askver", "ask versioned", 0, on_askver,
                            NULL, NULL};
    if (api->register_command(self, &spec, sizeof spec) != JV_OK) {
        snprintf(err, err_length, "registration failed");
        return JV_E_INTERNAL;
    }
    return JV_OK;
}

static int user_post_init(jv_plugin *self)
{
    service = api->acquire_service(self, "versioned.build", 1);
    return JV_OK;
}

static void user_shutdown(jv_plugin *self)
{
    api->release_service(self, "versioned.build");
    service = NULL;
}

JV_PLUGIN_DEFINE("versioned_user", "1.0", "test plugin: consumer of versioned.build", 0,
                 user_init, user_post_init, user_shutdown);
