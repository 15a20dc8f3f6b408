/* Test plugin "serial" (NOT concurrent): /enter holds the plugin for a few
 * milliseconds and counts any other callback of this plugin that gets in at
 * the same time; /overlaps reports the count, which the host's per-plugin
 * serialisation must keep at 0. */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include <jarvis/plugin.h>

static const jv_host_api *api;
static atomic_int inside;
static atomic_int entered;
static atomic_int overlaps;

static void enter(void)
{
    if (atomic_fetch_add(&inside, 1) > 0)
        atomic_fetch_add(&overlaps, 1);
    atomic_fetch_add(&entered, 1);
}

static void leave(void) { atomic_fetch_sub(&inside, 1); }

static int on_enter(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)message;
    (void)user_data;
    enter();
    /* stay inside long enough for an unserialised host to send another in */
    struct timespec pause = {0, 5 * 1000000L};
    nanosleep(&pause, NULL);
    leave();
    return JV_OK;
}

static int on_overlaps(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    enter();
    char text[96];
    snprintf(text, sizeof text, "serial entered %d overlaps %d", atomic_load(&entered) - 1,
             atomic_load(&overlaps));
    leave();
    api->reply(message, text);
    return JV_OK;
}

static int serial_init(jv_plugin *self, const jv_host_api *host_api, char *err,
                       size_t err_length)
{
    api = host_api;
    jv_command_spec enter_spec = {sizeof enter_spec, "enter", "/enter", "hold the plugin briefly",
                                  0, on_enter, NULL, NULL};
    jv_command_spec report_spec = {sizeof report_spec, "overlaps", "/overlaps",
                                   "report concurrent entries", 0, on_overlaps, NULL, NULL};
    if (api->register_command(self, &enter_spec, sizeof enter_spec) != JV_OK ||
        api->register_command(self, &report_spec, sizeof report_spec) != JV_OK) {
        snprintf(err, err_length, "registration failed");
        return JV_E_INTERNAL;
    }
    return JV_OK;
}

JV_PLUGIN_DEFINE("serial", "1.0", "test plugin: detects concurrent entry", 0, serial_init, NULL,
                 NULL);
