/* Loader test: a descriptor without init (required). */
#include <jarvis/plugin.h>

JV_PLUGIN_DEFINE("broken_null_init", "1", "no init", 0, NULL, NULL, NULL);
