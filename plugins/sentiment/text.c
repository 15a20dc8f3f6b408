/* Bounded reply building (see text.h). */
#include "text.h"

#include <jarvis/format.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sentiment_text_init(sentiment_text *text, char *buffer, size_t size)
{
    text->data = buffer;
    text->size = size;
    text->length = 0;
    text->truncated = 0;
    if (size > 0)
        buffer[0] = '\0';
}

static void mark_truncated(sentiment_text *text)
{
    text->truncated = 1;
    if (text->size < 4)
        return;
    size_t end = text->size - 4;
    /* step back to a UTF-8 boundary so the cut never splits a character */
    while (end > 0 && ((unsigned char)text->data[end] & 0xC0) == 0x80)
        end--;
    memcpy(text->data + end, "...", 4);
    text->length = end + 3;
}

void sentiment_text_add(sentiment_text *text, const char *format, ...)
{
    if (text->truncated || text->size == 0)
        return;
    va_list arguments;
    va_start(arguments, format);
    int written =
        vsnprintf(text->data + text->length, text->size - text->length, format, arguments);
    va_end(arguments);
    if (written < 0) {
        text->data[text->length] = '\0';
        return;
    }
    if ((size_t)written >= text->size - text->length) {
        mark_truncated(text);
        return;
    }
    text->length += (size_t)written;
}

void sentiment_format_duration(int64_t seconds, char *out, size_t size)
{
    jv_format_duration(seconds, out, size);
}

const char *sentiment_escape(const char *raw, char *out, size_t size)
{
    jv_html_escape(raw, out, size);
    return out;
}
