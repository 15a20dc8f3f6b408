/* UTF-8 for plugins and the core alike: header-only (no host call, no ABI
 * member), so one definition of "valid" serves every reader of user text.
 * Valid means RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF. Telegram counts lengths in UTF-16 units: jv_utf16_length. */
#ifndef JARVIS_UTF8_H
#define JARVIS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The valid sequence at text (at most available bytes): its length 1..4 and
 * its code point in *code_point (may be NULL); 0 when the bytes there are
 * not a valid sequence (or available is 0). */
static inline size_t jv_utf8_decode(const unsigned char *text, size_t available,
                                    uint32_t *code_point)
{
    if (available == 0)
        return 0;
    unsigned char lead = text[0];
    size_t length;
    uint32_t minimum, code;
    if (lead < 0x80) {
        length = 1, minimum = 0, code = lead;
    } else if ((lead & 0xE0) == 0xC0) {
        length = 2, minimum = 0x80, code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3, minimum = 0x800, code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4, minimum = 0x10000, code = lead & 0x07;
    } else {
        return 0;
    }
    if (length > available)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((text[i] & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (text[i] & 0x3F);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    if (code_point != NULL)
        *code_point = code;
    return length;
}

/* 1 when the length bytes at text are valid UTF-8 with no NUL byte. */
static inline int jv_utf8_is_valid(const char *text, size_t length)
{
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t i = 0; i < length;) {
        if (bytes[i] == 0)
            return 0;
        size_t step = jv_utf8_decode(bytes + i, length - i, NULL);
        if (step == 0)
            return 0;
        i += step;
    }
    return 1;
}

/* UTF-16 units of NUL-terminated UTF-8 text, as Telegram counts message
 * and caption lengths; an invalid byte counts as the one U+FFFD it would
 * be shown as. */
static inline size_t jv_utf16_length(const char *text)
{
    const unsigned char *cursor = (const unsigned char *)text;
    size_t units = 0;
    size_t left = 0;
    while (cursor[left] != 0)
        left++;
    while (left > 0) {
        uint32_t code_point = 0xFFFD;
        size_t step = jv_utf8_decode(cursor, left, &code_point);
        if (step == 0)
            step = 1;
        units += code_point >= 0x10000 ? 2 : 1;
        cursor += step;
        left -= step;
    }
    return units;
}

#endif
