/* Loader test: a constructor that leaves a marker file when dlopen runs it;
 * descriptor {JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR}, named 'hello'. */
#include "ctor_marker.h"

__attribute__((constructor)) static void on_load(void) { leave_marker("ctor_wrong_name"); }

JV_EXPORT const jv_plugin_info jv_plugin_descriptor = {
    JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR, sizeof(jv_plugin_info), 0,
    "hello", "1", "constructor marker", marker_init, NULL, NULL};
