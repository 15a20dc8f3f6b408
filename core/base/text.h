/* Whitespace and trimming, the one definition the core uses: a space is
 * ' ', \t, \n, \r, \v or \f (what isspace means in the C locale, without
 * its locale dependence); and joining two strings into a buffer. */
#ifndef JARVIS_TEXT_H
#define JARVIS_TEXT_H

#include <stddef.h>
#include <stdint.h>

int text_is_space(char c);
/* The first non-space character of text. */
const char *text_skip_spaces(const char *text);
/* A malloc'd copy without leading and trailing spaces, NULL out of memory. */
char *text_trimmed_copy(const char *text);
/* first then second into out, cut to fit and always NUL-terminated (size
 * > 0), as snprintf(out, size, "%s%s") but without a format's cost: the
 * pipeline names things this way several times an update. The length
 * written. */
size_t text_join(char *out, size_t size, const char *first, const char *second);
/* value in decimal at out (at least TEXT_INT64_MAX bytes), NUL-terminated,
 * as "%" PRId64 writes it; the length written. Request bodies and heads
 * carry a few numbers each. */
#define TEXT_INT64_MAX 21
size_t text_int64(char *out, int64_t value);

#endif
