/* UTF-8 repair for text from outside (Telegram answers, plugin replies):
 * what is not valid becomes U+FFFD, so nothing downstream meets invalid
 * text. Validation, decoding and UTF-16 lengths: <jarvis/utf8.h>, shared
 * with plugins. */
#ifndef JARVIS_UTF8_H_CORE
#define JARVIS_UTF8_H_CORE

#include <stddef.h>

#include <jarvis/utf8.h>

/* How many bytes of the length at text are not part of a valid sequence
 * (0: valid UTF-8; NUL bytes are valid here). */
size_t utf8_invalid_bytes(const char *text, size_t length);
/* A malloc'd NUL-terminated copy of the length bytes at text in which each
 * byte that is not part of a valid sequence is replaced by U+FFFD;
 * *out_length its length, *replaced how many bytes were replaced. NULL out
 * of memory. */
char *utf8_repair(const char *text, size_t length, size_t *out_length, size_t *replaced);

#endif
