/* Loader test: a descriptor whose struct_size claims more bytes than its
 * symbol has; the host must refuse it rather than read past the symbol. */
#include <jarvis/plugin.h>

static int big_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    (void)self, (void)api, (void)err, (void)err_length;
    return JV_OK;
}

JV_EXPORT const jv_plugin_info jv_plugin_descriptor = {
    JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR, sizeof(jv_plugin_info) + 64, 0,
    "broken_big_struct", "1", "struct_size larger than the symbol", big_init, NULL, NULL};
