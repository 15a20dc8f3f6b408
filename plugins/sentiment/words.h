/* Splits chat text into words and emoji for the sentiment scorer and for
 * lexicon keys, so both sides see text the same way. UTF-8 safe: invalid
 * bytes are treated as separators, never read past the end. */
#ifndef SENTIMENT_WORDS_H
#define SENTIMENT_WORDS_H

#include <stddef.h>

typedef struct sentiment_word {
    size_t start;         /* byte offset of the word in the original text */
    size_t length;        /* its length in the original text */
    size_t normal_offset; /* the normalised form inside sentiment_words.normal */
    size_t normal_length;
    int is_emoji;
    int has_letter;   /* at least one letter (ASCII or not) */
    int is_caps;      /* ASCII letters present, none lower-case */
    int has_lower;    /* a lower-case ASCII letter */
    int clause_start; /* a clause break (. , ; : ! ? newline) precedes it */
} sentiment_word;

typedef struct sentiment_words {
    sentiment_word *items;
    size_t count;
    char *normal;     /* ASCII lower-cased, typographic apostrophes made ASCII */
    int exclamations; /* '!' in the whole text */
    int questions;    /* '?' in the whole text */
    int mixed_case;   /* some words are ALL CAPS and some are not */
} sentiment_words;

/* 0 on success, -1 when out of memory. Free with sentiment_words_free. */
int sentiment_words_split(const char *text, sentiment_words *words);
void sentiment_words_free(sentiment_words *words);

/* The normalised form of word index (not NUL-terminated: use the length). */
const char *sentiment_word_text(const sentiment_words *words, size_t index);

#endif
