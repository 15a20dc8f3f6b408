/* Loader test: a library with a constructor that leaves a marker file, and
 * no descriptor at all. */
#include "ctor_marker.h"

__attribute__((constructor)) static void on_load(void) { leave_marker("ctor_no_descriptor"); }

JV_EXPORT int ctor_no_descriptor_symbol = 1;
