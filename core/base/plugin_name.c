/* Plugin and command names: [a-z0-9_]{1,32} (see plugin_name.h). */
#include "base/plugin_name.h"

#include <stddef.h>

int plugin_name_is_valid(const char *name)
{
    if (!name || !*name)
        return 0;
    size_t length = 0;
    for (const char *c = name; *c; c++, length++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
        if (!ok || length >= PLUGIN_NAME_MAX)
            return 0;
    }
    return 1;
}
