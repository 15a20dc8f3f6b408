/* Loader test: a constructor that leaves a marker file when dlopen runs it;
 * descriptor {JV_PLUGIN_MAGIC, 2, 0}, named 'ctor_wrong_major'. */
#include "ctor_marker.h"

__attribute__((constructor)) static void on_load(void) { leave_marker("ctor_wrong_major"); }

JV_EXPORT const jv_plugin_info jv_plugin_descriptor = {
    JV_PLUGIN_MAGIC, 2, 0, sizeof(jv_plugin_info), 0,
    "ctor_wrong_major", "1", "constructor marker", marker_init, NULL, NULL};
