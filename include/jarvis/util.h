/* Header-only helpers for jarvis plugins: plain static inline functions
 * that need no host call, so they add nothing to the ABI (plugin.h) and
 * work with any host version.
 *
 * jv_url_escape: a user's text inside a URL. "/weather New York" or
 * "a&b=c" must reach the server as one query value, not as a broken URL or
 * an extra parameter. */
#ifndef JARVIS_UTIL_H
#define JARVIS_UTIL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 3986 percent-encoding of text for a query value or a path segment:
 * A-Z a-z 0-9 - . _ ~ stay, every other byte (space, &, =, /, ?, #, +, %,
 * UTF-8 bytes) becomes %XX. Writes at most size bytes, always
 * NUL-terminated when size > 0; returns the length the whole encoding
 * needs, like snprintf: a result >= size means out was too small. */
static inline size_t jv_url_escape(const char *text, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t needed = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        int unreserved = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                         (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
                         *p == '~';
        size_t width = unreserved ? 1 : 3;
        if (needed + width < size) {
            if (unreserved) {
                out[needed] = (char)*p;
            } else {
                out[needed] = '%';
                out[needed + 1] = hex[*p >> 4];
                out[needed + 2] = hex[*p & 0x0F];
            }
        } else if (size > 0 && needed < size) {
            size = needed + 1; /* stop writing: never leave half a %XX */
        }
        needed += width;
    }
    if (size > 0)
        out[needed < size ? needed : size - 1] = '\0';
    return needed;
}

#ifdef __cplusplus
}
#endif

#endif /* JARVIS_UTIL_H */
