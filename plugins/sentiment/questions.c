/* Question detection for the chat watcher (see questions.h). Works on bytes:
 * only ASCII decides, so any UTF-8 (or invalid bytes) is safe. */
#include "questions.h"

#include <string.h>

#define FIRST_WORD_MAX 16

static const char *const interrogatives[] = {
    "what", "whats", "how",    "hows",  "why",   "when",   "where", "which", "who",
    "whom", "whose", "is",     "isnt",  "are",   "arent",  "am",    "was",   "were",
    "do",   "does",  "doesnt", "did",   "didnt", "should", "shall", "can",   "could",
    "will", "would", "may",    "might", "has",   "have",   "had",   "wen",   NULL};

static int is_ascii_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ascii_word_byte(unsigned char c)
{
    return is_ascii_letter(c) || (c >= '0' && c <= '9');
}

/* Trailing bytes that do not end a sentence: spaces, closing quotes and
 * brackets, emoji and other non-ASCII symbols (a full-width '?' is checked
 * before this is asked). */
static int is_trailing_decoration(unsigned char c)
{
    return c >= 0x80 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           strchr("\"')]}*_~>", c) != NULL;
}

/* U+FF1F FULLWIDTH QUESTION MARK ends at end: bytes EF BC 9F. */
static int fullwidth_question_before(const unsigned char *text, size_t end)
{
    return end >= 3 && text[end - 3] == 0xEF && text[end - 2] == 0xBC && text[end - 1] == 0x9F;
}

static int ends_with_question_mark(const char *text)
{
    const unsigned char *bytes = (const unsigned char *)text;
    size_t end = strlen(text);
    for (;;) {
        if (fullwidth_question_before(bytes, end))
            return 1;
        if (end == 0 || !is_trailing_decoration(bytes[end - 1]))
            break;
        end--;
    }
    /* the final run of '?' and '!': "really?!" and "what!?" are questions */
    while (end > 0 && (bytes[end - 1] == '!' || bytes[end - 1] == '?')) {
        if (bytes[end - 1] == '?')
            return 1;
        end--;
    }
    return 0;
}

/* Copies the next ASCII word from *cursor, lower-cased and without
 * apostrophes ("What's" -> "whats"), skipping @mentions and punctuation.
 * Returns 0 when there is none or it does not fit. */
static int next_word(const unsigned char **cursor, char *word, size_t size)
{
    const unsigned char *p = *cursor;
    for (;;) {
        while (*p != '\0' && !is_ascii_word_byte(*p) && *p != '@')
            p++;
        if (*p != '@')
            break;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
            p++; /* "@jarvis_bot what is ..." : the mention is not the first word */
    }
    size_t length = 0;
    for (;;) {
        if (is_ascii_word_byte(*p)) {
            if (length + 1 >= size)
                return 0;
            word[length++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
            p++;
        } else if (length > 0 && *p == '\'') {
            p++;
        } else if (length > 0 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x99) {
            p += 3; /* the typographic apostrophe of "what’s" */
        } else {
            break;
        }
    }
    word[length] = '\0';
    *cursor = p;
    return length > 0;
}

static int in_list(const char *word, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(word, list[i]) == 0)
            return 1;
    }
    return 0;
}

static int opens_with_interrogative(const char *text)
{
    const unsigned char *cursor = (const unsigned char *)text;
    char first[FIRST_WORD_MAX];
    if (!next_word(&cursor, first, sizeof first) || !in_list(first, interrogatives))
        return 0;
    char second[FIRST_WORD_MAX];
    if (!next_word(&cursor, second, sizeof second))
        return 1;
    /* "what a run", "what an entry" exclaim; "do not sell" commands */
    if (strcmp(first, "what") == 0 && (strcmp(second, "a") == 0 || strcmp(second, "an") == 0))
        return 0;
    return !(strcmp(first, "do") == 0 && strcmp(second, "not") == 0);
}

int sentiment_is_question(const char *text, int addressed_to_bot)
{
    if (text == NULL)
        return 0;
    if (ends_with_question_mark(text))
        return 1;
    return addressed_to_bot && opens_with_interrogative(text);
}
