/* Loader test: a shared library without jv_plugin_descriptor ("not a jarvis plugin"). */
#include <jarvis/plugin.h>

JV_EXPORT int broken_no_descriptor_answer(void)
{
    return 42;
}
