/* Whitespace and trimming (text.h). */
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
