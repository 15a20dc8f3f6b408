/* Whitespace and trimming, the one definition the core uses: a space is
 * ' ', \t, \n, \r, \v or \f (what isspace means in the C locale, without
 * its locale dependence). */
#ifndef JARVIS_TEXT_H
#define JARVIS_TEXT_H

int text_is_space(char c);
/* The first non-space character of text. */
const char *text_skip_spaces(const char *text);
/* A malloc'd copy without leading and trailing spaces, NULL out of memory. */
char *text_trimmed_copy(const char *text);

#endif
