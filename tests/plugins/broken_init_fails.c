/* Loader test: init registers a command and a job, then fails. The host must
 * undo both and call each free_user_data exactly once (the log shows it). */
#include <jarvis/plugin.h>

#include <stdlib.h>
#include <stdio.h>

static const jv_host_api *api;
static jv_plugin *plugin;

static int never_runs(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)user_data;
    return api->reply(message, "broken_init_fails should not be loaded");
}

static int never_ticks(jv_plugin *self, void *user_data)
{
    (void)self, (void)user_data;
    return JV_OK;
}

static void release(void *user_data)
{
    api->log(plugin, JV_LOG_INFO, "destructor ran for %s", (const char *)user_data);
}

static int broken_init(jv_plugin *self, const jv_host_api *host, char *err, size_t err_length)
{
    api = host;
    plugin = self;
    jv_command_spec command = {sizeof command, "init_fails_cmd", "/init_fails_cmd", "never",
                               0, never_runs, "command", release};
    jv_job_spec job = {sizeof job, "init_fails_job", 1000, 0, never_ticks, "job", release};
    if (api->register_command(self, &command, sizeof command) != JV_OK ||
        api->register_job(self, &job, sizeof job) != JV_OK) {
        snprintf(err, err_length, "unexpected registration failure");
        return JV_E_INTERNAL;
    }
    snprintf(err, err_length, "missing [broken_init_fails] api_key");
    return JV_E_INVAL;
}

JV_PLUGIN_DEFINE("broken_init_fails", "1", "init fails after registering", 0, broken_init, NULL,
                 NULL);
