/* Names of the JV_E_* codes (see error_text.h). */
#include "base/error_text.h"

#include <jarvis/plugin.h>

const char *error_text(int code)
{
    switch (code) {
        case JV_OK: return "ok";
        case JV_E_INVAL: return "invalid argument";
        case JV_E_NOMEM: return "out of memory";
        case JV_E_EXISTS: return "name already taken";
        case JV_E_NOTFOUND: return "not found";
        case JV_E_STATE: return "not allowed now";
        case JV_E_ABI: return "ABI version or struct size mismatch";
        case JV_E_INTERNAL: return "internal host error";
        case JV_E_IO: return "storage or network failure";
        case JV_E_TIMEOUT: return "timed out";
        default: return "unknown error";
    }
}
