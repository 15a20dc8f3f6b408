/* Loader test: a descriptor whose magic is wrong (refused before anything runs). */
#include <jarvis/plugin.h>

static int broken_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    (void)self, (void)api, (void)err, (void)err_length;
    return JV_OK;
}

JV_EXPORT const jv_plugin_info jv_plugin_descriptor = {
    0xDEADBEEFu, JV_ABI_MAJOR, JV_ABI_MINOR, sizeof(jv_plugin_info), 0,
    "broken_magic", "1", "wrong magic", broken_init, NULL, NULL};
