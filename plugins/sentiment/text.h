/* A bounded text builder for replies: appends formatted text into a caller's
 * buffer and never overflows it (a too-long reply is cut, marked "..."). */
#ifndef SENTIMENT_TEXT_H
#define SENTIMENT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/text.h>

typedef struct sentiment_text {
    char *data;
    size_t size;
    size_t length;
    int truncated;
} sentiment_text;

void sentiment_text_init(sentiment_text *text, char *buffer, size_t size);
void sentiment_text_add(sentiment_text *text, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* raw with <, >, & and " as HTML entities, into out (cut before an entity
 * rather than through one); returns out, for use as a %s argument. Every
 * user- or data-derived text in a reply goes through it: replies are HTML. */
const char *sentiment_escape(const char *raw, char *out, size_t size);

/* jv_format_duration under its old name: report.c and commands.c still
 * call it (another change is editing them); it goes once they call
 * jv_format_duration themselves. */
void sentiment_format_duration(int64_t seconds, char *out, size_t size);

#endif
