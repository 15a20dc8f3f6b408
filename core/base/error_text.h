/* The one return convention of the core and the ABI: JV_OK or a negative
 * JV_E_* (include/jarvis/plugin.h); this names each code for log lines and
 * for the host API's strerror. */
#ifndef JARVIS_ERROR_TEXT_H
#define JARVIS_ERROR_TEXT_H

/* A static string; "unknown error" for codes jarvis does not define. */
const char *error_text(int code);

#endif
