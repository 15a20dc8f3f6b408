/* Plain-text helpers for plugins: header-only static inline functions (no
 * host call, no ABI member), so every plugin writes the same quantity the
 * same way. jv_format_duration: a window length as people write it. */
#ifndef JARVIS_TEXT_H
#define JARVIS_TEXT_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "3d" (whole days above two), "24h", "48h", "90m", "45s" (anything else,
 * 0 and negatives included): the largest whole unit, so a window of 86400 s
 * reads "24h" as chat users say it. Always NUL-terminated when size > 0. */
static inline void jv_format_duration(int64_t seconds, char *out, size_t size)
{
    if (seconds > 2 * 86400 && seconds % 86400 == 0)
        snprintf(out, size, "%" PRId64 "d", seconds / 86400);
    else if (seconds > 0 && seconds % 3600 == 0)
        snprintf(out, size, "%" PRId64 "h", seconds / 3600);
    else if (seconds > 0 && seconds % 60 == 0)
        snprintf(out, size, "%" PRId64 "m", seconds / 60);
    else
        snprintf(out, size, "%" PRId64 "s", seconds);
}

#ifdef __cplusplus
}
#endif

#endif /* JARVIS_TEXT_H */
