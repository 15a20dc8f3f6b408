/* The sentiment lexicon: words, phrases and emoji with a valence on VADER's
 * -4..+4 scale, read from a text file, one entry a line. Immutable once
 * loaded, so any number of threads may look words up at the same time. */
#ifndef SENTIMENT_LEXICON_H
#define SENTIMENT_LEXICON_H

#include <stddef.h>

#define SENTIMENT_LEXICON_KEY_MAX 64  /* bytes of a normalised key, with NUL */
#define SENTIMENT_LEXICON_MAX_WORDS 5 /* words in the longest phrase */

typedef struct sentiment_lexicon sentiment_lexicon;

/* Reads a lexicon file. NULL with one line "FILE:LINE: what is wrong" (or
 * "FILE: reason" when it cannot be read) in error. */
sentiment_lexicon *sentiment_lexicon_load(const char *path, char *error, size_t error_size);
/* The same from text in memory; name stands for the file in error messages. */
sentiment_lexicon *sentiment_lexicon_parse(const char *text, const char *name, char *error,
                                           size_t error_size);
void sentiment_lexicon_free(sentiment_lexicon *lexicon);

/* key: normalised words joined by single spaces, as the splitter makes them.
 * Returns 1 and sets *valence when the key is an entry, else 0. */
int sentiment_lexicon_find(const sentiment_lexicon *lexicon, const char *key, size_t key_length,
                           double *valence);
size_t sentiment_lexicon_size(const sentiment_lexicon *lexicon);
/* Words in the longest entry: how far the scorer looks ahead for phrases. */
size_t sentiment_lexicon_longest(const sentiment_lexicon *lexicon);

#endif
