/* Loader test: a constructor that leaves a marker file when dlopen runs it;
 * descriptor {0x0BADF00Du, JV_ABI_MAJOR, JV_ABI_MINOR}, named 'ctor_wrong_magic'. */
#include "ctor_marker.h"

__attribute__((constructor)) static void on_load(void) { leave_marker("ctor_wrong_magic"); }

JV_EXPORT const jv_plugin_info jv_plugin_descriptor = {
    0x0BADF00Du, JV_ABI_MAJOR, JV_ABI_MINOR, sizeof(jv_plugin_info), 0,
    "ctor_wrong_magic", "1", "constructor marker", marker_init, NULL, NULL};
