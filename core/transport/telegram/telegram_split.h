/* Cutting a reply into parts Telegram takes: at most 4096 UTF-16 units each,
 * never inside a tag or an entity of an HTML reply. */
#ifndef JARVIS_TELEGRAM_SPLIT_H
#define JARVIS_TELEGRAM_SPLIT_H

#include <stddef.h>
#include <stdint.h>

/* Splits UTF-8 text into chunks of at most max_units UTF-16 units, cutting at
 * the last line break, else the last space, else between characters (never
 * inside a UTF-8 sequence). Invalid UTF-8 becomes U+FFFD; whitespace-only
 * chunks are dropped. Returns the number of chunks (malloc'd strings in a
 * malloc'd array; free with telegram_chunks_free), or -1 when out of memory. */
long telegram_split_text(const char *text, size_t max_units, char ***chunks);
void telegram_chunks_free(char **chunks, long count);
/* The same for Telegram HTML: max_units counts the text shown (tags
 * nothing, an entity one character), a cut never falls inside a tag or an
 * entity, and the tags open at a cut are closed at the end of the part and
 * opened again at the start of the next, so every part parses alone. */
long telegram_split_html(const char *text, size_t max_units, char ***chunks);

#endif
