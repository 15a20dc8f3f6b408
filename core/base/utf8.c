/* UTF-8 repair (utf8.h). */
#include "base/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Bytes that are not part of a valid sequence, each of which becomes the
 * 3-byte U+FFFD: counted first so the copy is allocated at its exact size
 * (a getUpdates answer can be megabytes; three times that is waste). */
size_t utf8_invalid_bytes(const char *bytes, size_t length)
{
    const unsigned char *text = (const unsigned char *)bytes;
    size_t invalid = 0;
    for (size_t i = 0; i < length;) {
        if (text[i] < 0x80) {
            i++;
            continue;
        }
        size_t sequence = jv_utf8_decode(text + i, length - i, NULL);
        invalid += sequence == 0;
        i += sequence == 0 ? 1 : sequence;
    }
    return invalid;
}

char *utf8_repair(const char *text, size_t length, size_t *out_length, size_t *replaced)
{
    const unsigned char *in = (const unsigned char *)text;
    *replaced = utf8_invalid_bytes(text, length);
    char *clean = malloc(length + *replaced * 2 + 1);
    if (clean == NULL)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < length;) {
        size_t sequence = jv_utf8_decode(in + i, length - i, NULL);
        if (sequence == 0) {
            memcpy(clean + used, "\xEF\xBF\xBD", 3);
            used += 3;
            i++;
            continue;
        }
        memcpy(clean + used, in + i, sequence);
        used += sequence;
        i += sequence;
    }
    clean[used] = '\0';
    *out_length = used;
    return clean;
}
