/* Loader test: needs a symbol nothing provides, so dlopen(RTLD_NOW) fails
 * (the real build links plugins with -z defs to catch this earlier). */
#include <jarvis/plugin.h>

extern int jarvis_symbol_that_does_not_exist(void);

static int broken_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    (void)self, (void)api, (void)err, (void)err_length;
    return jarvis_symbol_that_does_not_exist();
}

JV_PLUGIN_DEFINE("broken_undefined", "1", "unresolved symbol", 0, broken_init, NULL, NULL);
