/* Header-only helpers for jarvis plugins: plain static inline functions
 * that need no host call, so they add nothing to the ABI (plugin.h) and
 * work with any host version.
 *
 * jv_url_escape: a user's text inside a URL. "/weather New York" or
 * "a&b=c" must reach the server as one query value, not as a broken URL or
 * an extra parameter.
 *
 * jv_sized_copy: a service provider answering into a caller's struct that
 * starts with struct_size, whatever edition of it the caller was built with. */
#ifndef JARVIS_UTIL_H
#define JARVIS_UTIL_H

#include <stddef.h>
#include <string.h>

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

/* Copies filled (a complete struct whose first member is size_t
 * struct_size, filled_size bytes) into out, whose struct_size the caller
 * set: never past it (an older, shorter edition) nor past filled_size (a
 * newer, longer one keeps the tail the caller set); out's struct_size stays.
 * Returns 0, or -1 with nothing written when out's struct_size is below
 * minimum_size (the first edition's size, which every caller has). */
static inline int jv_sized_copy(void *out, const void *filled, size_t filled_size,
                                size_t minimum_size)
{
    size_t wanted;
    memcpy(&wanted, out, sizeof wanted);
    if (wanted < minimum_size || wanted < sizeof(size_t))
        return -1;
    size_t length = wanted < filled_size ? wanted : filled_size;
    memcpy((char *)out + sizeof(size_t), (const char *)filled + sizeof(size_t),
           length - sizeof(size_t));
    return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* JARVIS_UTIL_H */
