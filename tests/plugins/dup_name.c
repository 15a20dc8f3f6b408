/* Loader test: the file is dup_name.so but the descriptor claims "hello";
 * the host must refuse it (file name and descriptor name must match). */
#include <jarvis/plugin.h>

static int dup_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    (void)self, (void)api, (void)err, (void)err_length;
    return JV_OK;
}

JV_PLUGIN_DEFINE("hello", "1", "claims another plugin's name", 0, dup_init, NULL, NULL);
