/* Splits chat text into words and emoji (see words.h). Lexicon keys go
 * through the same splitter, so a key always matches what the scorer sees:
 * "rug-pull" and "rug pull" both become the words "rug" "pull". */
#include "words.h"

#include <stdlib.h>
#include <string.h>

#include <jarvis/utf8.h>

enum char_class {
    CLASS_WORD,       /* part of a word */
    CLASS_APOSTROPHE, /* part of a word only between letters: isn't, don't */
    CLASS_EMOJI,      /* a word on its own */
    CLASS_MODIFIER,   /* emoji variation selectors, joiners, skin tones: dropped */
    CLASS_CLAUSE,     /* separator that also ends a clause */
    CLASS_SEPARATOR
};

static int is_emoji_modifier(unsigned int cp)
{
    return cp == 0xFE0F || cp == 0xFE0E || cp == 0x200D || cp == 0x20E3 ||
           (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F);
}

static int is_emoji(unsigned int cp)
{
    return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) ||
           (cp >= 0x2300 && cp <= 0x23FF) || (cp >= 0x2B00 && cp <= 0x2BFF);
}

static enum char_class classify_ascii(unsigned int cp)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
        return CLASS_WORD;
    if (cp == '\'')
        return CLASS_APOSTROPHE;
    if (strchr(".,;:!?\n", (int)cp) != NULL && cp != 0)
        return CLASS_CLAUSE;
    return CLASS_SEPARATOR;
}

static enum char_class classify(unsigned int cp)
{
    if (cp < 0x80)
        return classify_ascii(cp);
    if (cp == 0x2018 || cp == 0x2019)
        return CLASS_APOSTROPHE;
    if (is_emoji_modifier(cp))
        return CLASS_MODIFIER;
    if (is_emoji(cp))
        return CLASS_EMOJI;
    if (cp == 0x2026 || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF0C)
        return CLASS_CLAUSE; /* ellipsis, CJK full stop, full-width ! ? , */
    if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7)
        return CLASS_SEPARATOR; /* C1 controls, NBSP, Latin-1 punctuation */
    if ((cp >= 0x2000 && cp <= 0x22FF) || (cp >= 0x3000 && cp <= 0x303F) ||
        (cp >= 0xFF00 && cp <= 0xFF0F))
        return CLASS_SEPARATOR; /* spaces, punctuation, arrows, math */
    return CLASS_WORD;          /* letters of any script */
}

typedef struct splitter {
    const unsigned char *text;
    size_t text_length;
    sentiment_words *words;
    size_t capacity;
    size_t normal_length;
    int in_word;
    int pending_clause;
    sentiment_word current;
} splitter;

static int grow(splitter *s)
{
    if (s->words->count < s->capacity)
        return 0;
    size_t capacity = s->capacity ? s->capacity * 2 : 16;
    sentiment_word *items = realloc(s->words->items, capacity * sizeof *items);
    if (items == NULL)
        return -1;
    s->words->items = items;
    s->capacity = capacity;
    return 0;
}

static void open_word(splitter *s, size_t start, int emoji)
{
    memset(&s->current, 0, sizeof s->current);
    s->current.start = start;
    s->current.normal_offset = s->normal_length;
    s->current.is_emoji = emoji;
    s->current.clause_start = s->pending_clause;
    s->pending_clause = 0;
    s->in_word = 1;
}

static int close_word(splitter *s, size_t end)
{
    if (!s->in_word)
        return 0;
    s->in_word = 0;
    if (grow(s) != 0)
        return -1;
    sentiment_word *word = &s->current;
    word->length = end - word->start;
    word->normal_length = s->normal_length - word->normal_offset;
    word->is_caps = word->is_caps && !word->has_lower;
    s->words->items[s->words->count++] = *word;
    return 0;
}

static void append(splitter *s, const unsigned char *bytes, size_t length)
{
    memcpy(s->words->normal + s->normal_length, bytes, length);
    s->normal_length += length;
}

static void append_ascii_letter(splitter *s, unsigned char byte)
{
    if (byte >= 'A' && byte <= 'Z') {
        s->current.is_caps = 1; /* provisional: "has an upper-case letter" */
        s->current.has_letter = 1;
        byte = (unsigned char)(byte - 'A' + 'a');
    } else if (byte >= 'a' && byte <= 'z') {
        s->current.has_lower = 1;
        s->current.has_letter = 1;
    }
    append(s, &byte, 1);
}

static int next_is_ascii_letter(const splitter *s, size_t position)
{
    if (position >= s->text_length)
        return 0;
    unsigned char next = s->text[position];
    return (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z');
}

/* Handles one code point at [position, position + length). */
static int take(splitter *s, size_t position, size_t length, unsigned int cp)
{
    switch (classify(cp)) {
        case CLASS_WORD:
            if (!s->in_word)
                open_word(s, position, 0);
            if (cp < 0x80) {
                append_ascii_letter(s, (unsigned char)cp);
            } else {
                s->current.has_letter = 1;
                append(s, s->text + position, length);
            }
            return 0;
        case CLASS_APOSTROPHE:
            if (s->in_word && !s->current.is_emoji && next_is_ascii_letter(s, position + length)) {
                append(s, (const unsigned char *)"'", 1);
                return 0;
            }
            return close_word(s, position);
        case CLASS_EMOJI:
            if (close_word(s, position) != 0)
                return -1;
            open_word(s, position, 1);
            append(s, s->text + position, length);
            return close_word(s, position + length);
        case CLASS_MODIFIER: return 0;
        case CLASS_CLAUSE:
            if (cp == '!')
                s->words->exclamations++;
            if (cp == '?')
                s->words->questions++;
            s->pending_clause = 1;
            return close_word(s, position);
        default: return close_word(s, position);
    }
}

static void mark_mixed_case(sentiment_words *words)
{
    int caps = 0;
    int not_caps = 0;
    for (size_t i = 0; i < words->count; i++) {
        if (!words->items[i].has_letter)
            continue;
        if (words->items[i].is_caps)
            caps = 1;
        else
            not_caps = 1;
    }
    words->mixed_case = caps && not_caps;
}

int sentiment_words_split(const char *text, sentiment_words *words)
{
    memset(words, 0, sizeof *words);
    splitter s = {0};
    s.text = (const unsigned char *)text;
    s.text_length = strlen(text);
    s.words = words;
    words->normal = malloc(s.text_length + 1);
    if (words->normal == NULL)
        return -1;
    size_t position = 0;
    while (position < s.text_length) {
        uint32_t cp = 0;
        size_t length = jv_utf8_decode(s.text + position, s.text_length - position, &cp);
        int failed = length == 0 ? close_word(&s, position) : take(&s, position, length, cp);
        if (failed != 0) {
            sentiment_words_free(words);
            return -1;
        }
        position += length == 0 ? 1 : length;
    }
    if (close_word(&s, position) != 0) {
        sentiment_words_free(words);
        return -1;
    }
    words->normal[s.normal_length] = '\0';
    mark_mixed_case(words);
    return 0;
}

void sentiment_words_free(sentiment_words *words)
{
    free(words->items);
    free(words->normal);
    memset(words, 0, sizeof *words);
}

const char *sentiment_word_text(const sentiment_words *words, size_t index)
{
    return words->normal + words->items[index].normal_offset;
}
