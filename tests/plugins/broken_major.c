/* Loader test: built for ABI major 2, which this host must refuse. */
#include <jarvis/plugin.h>

static int broken_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    (void)self, (void)api, (void)err, (void)err_length;
    return JV_OK;
}

JV_EXPORT const jv_plugin_info jv_plugin_descriptor = {
    JV_PLUGIN_MAGIC, JV_ABI_MAJOR + 1, 0, sizeof(jv_plugin_info), 0,
    "broken_major", "1", "next major", broken_init, NULL, NULL};
