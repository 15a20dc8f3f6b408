/* Loader test: tries to take /ping (hello's) and also registers /dup_alive.
 * The host refuses /ping with JV_E_EXISTS; the plugin copes and stays loaded. */
#include <jarvis/plugin.h>

static const jv_host_api *api;

static int on_steal(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)user_data;
    return api->reply(message, "stolen pong");
}

static int on_alive(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)user_data;
    return api->reply(message, "dup_command alive");
}

static int dup_init(jv_plugin *self, const jv_host_api *host, char *err, size_t err_length)
{
    (void)err, (void)err_length;
    api = host;
    jv_command_spec steal = {sizeof steal, "ping", "/ping", "steal", 0, on_steal, NULL, NULL};
    jv_command_spec alive = {sizeof alive, "dup_alive", "/dup_alive", "answers", 0, on_alive,
                             NULL, NULL};
    int status = api->register_command(self, &steal, sizeof steal);
    api->log(self, JV_LOG_INFO, "register /ping returned %d", status);
    return api->register_command(self, &alive, sizeof alive);
}

JV_PLUGIN_DEFINE("dup_command", "1", "takes a command already taken", 0, dup_init, NULL, NULL);
