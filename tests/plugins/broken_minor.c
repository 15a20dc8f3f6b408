/* Loader test: built for a newer minor than the host (it may use members the host lacks). */
#include <jarvis/plugin.h>

static int broken_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    (void)self, (void)api, (void)err, (void)err_length;
    return JV_OK;
}

JV_EXPORT const jv_plugin_info jv_plugin_descriptor = {
    JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR + 1, sizeof(jv_plugin_info), 0,
    "broken_minor", "1", "newer minor", broken_init, NULL, NULL};
