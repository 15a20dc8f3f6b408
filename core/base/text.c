/* Whitespace, trimming and joining (text.h). */
#include "base/text.h"

#include <stdlib.h>
#include <string.h>

int text_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

const char *text_skip_spaces(const char *text)
{
    while (text_is_space(*text))
        text++;
    return text;
}

static size_t append_cut(char *out, size_t at, size_t size, const char *text)
{
    size_t length = strlen(text);
    size_t room = size - 1 - at;
    if (length > room)
        length = room;
    memcpy(out + at, text, length);
    return at + length;
}

size_t text_join(char *out, size_t size, const char *first, const char *second)
{
    if (out == NULL || size == 0)
        return 0;
    size_t at = append_cut(out, 0, size, first != NULL ? first : "");
    at = append_cut(out, at, size, second != NULL ? second : "");
    out[at] = '\0';
    return at;
}

size_t text_int64(char *out, int64_t value)
{
    char digits[TEXT_INT64_MAX];
    size_t count = 0;
    /* by the unsigned magnitude: -INT64_MIN does not fit an int64_t */
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        digits[count++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0);
    size_t length = 0;
    if (value < 0)
        out[length++] = '-';
    while (count > 0)
        out[length++] = digits[--count];
    out[length] = '\0';
    return length;
}

char *text_trimmed_copy(const char *text)
{
    const char *start = text_skip_spaces(text);
    size_t length = strlen(start);
    while (length > 0 && text_is_space(start[length - 1]))
        length--;
    char *copy = malloc(length + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, start, length);
    copy[length] = '\0';
    return copy;
}
