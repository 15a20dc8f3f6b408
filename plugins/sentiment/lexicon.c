/* Loads the lexicon file (see lexicon.h). Format, one entry a line:
 *   word or phrase <TAB or spaces> valence   # optional comment
 * Keys are normalised through the word splitter and kept in a sorted array. */
#include "lexicon.h"
#include "words.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jarvis/utf8.h>

typedef struct lexicon_entry {
    char key[SENTIMENT_LEXICON_KEY_MAX];
    double valence;
    int line;
} lexicon_entry;

struct sentiment_lexicon {
    lexicon_entry *entries;
    size_t count;
    size_t capacity;
    size_t longest;
};

typedef struct parse_place {
    const char *name;
    int line;
    char *error;
    size_t error_size;
} parse_place;

/* The detail quotes the file, so control characters (a CR inside an entry)
 * become spaces: the error stays one line. */
static int fail(const parse_place *place, const char *what, const char *detail)
{
    snprintf(place->error, place->error_size, "%s:%d: %s%s", place->name, place->line, what,
             detail);
    for (char *p = place->error; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Drops a trailing comment (a '#' after whitespace) and surrounding space. */
static char *trim_line(char *line)
{
    if (*line == '\0')
        return line;
    for (char *p = line + 1; *p != '\0'; p++) {
        if (*p == '#' && is_space(p[-1])) {
            *p = '\0';
            break;
        }
    }
    while (is_space(*line))
        line++;
    size_t length = strlen(line);
    while (length > 0 && is_space(line[length - 1]))
        line[--length] = '\0';
    return line;
}

static int parse_valence(const char *text, double *valence, const parse_place *place)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(value))
        return fail(place, "valence is not a number: ", text);
    if (value < -4.0 || value > 4.0)
        return fail(place, "valence outside -4..4: ", text);
    *valence = value;
    return 0;
}

/* Normalises a key the way the scorer will see it in chat text. */
static int normalise_key(const char *phrase, lexicon_entry *entry, size_t *word_count,
                         const parse_place *place)
{
    if (!jv_utf8_is_valid(phrase, strlen(phrase)))
        return fail(place, "entry is not valid UTF-8", "");
    sentiment_words words;
    if (sentiment_words_split(phrase, &words) != 0)
        return fail(place, "out of memory", "");
    int result = 0;
    size_t used = 0;
    if (words.count == 0)
        result = fail(place, "entry has no word or emoji in it: ", phrase);
    else if (words.count > SENTIMENT_LEXICON_MAX_WORDS)
        result = fail(place, "phrase has more than 5 words: ", phrase);
    for (size_t i = 0; result == 0 && i < words.count; i++) {
        size_t length = words.items[i].normal_length;
        if (used + (i > 0) + length >= sizeof entry->key) {
            result = fail(place, "entry longer than 63 bytes: ", phrase);
            break;
        }
        if (i > 0)
            entry->key[used++] = ' ';
        memcpy(entry->key + used, sentiment_word_text(&words, i), length);
        used += length;
    }
    entry->key[used] = '\0';
    *word_count = words.count;
    sentiment_words_free(&words);
    return result;
}

static int add_entry(sentiment_lexicon *lexicon, const lexicon_entry *entry)
{
    if (lexicon->count == lexicon->capacity) {
        size_t capacity = lexicon->capacity ? lexicon->capacity * 2 : 512;
        lexicon_entry *entries = realloc(lexicon->entries, capacity * sizeof *entries);
        if (entries == NULL)
            return -1;
        lexicon->entries = entries;
        lexicon->capacity = capacity;
    }
    lexicon->entries[lexicon->count++] = *entry;
    return 0;
}

static int parse_line(sentiment_lexicon *lexicon, char *raw, const parse_place *place)
{
    char *line = trim_line(raw);
    if (*line == '\0' || *line == '#')
        return 0;
    char *split = line + strlen(line);
    while (split > line && !is_space(split[-1]))
        split--;
    if (split == line)
        return fail(place, "expected a word or phrase, then its valence: ", line);
    lexicon_entry entry = {.line = place->line};
    if (parse_valence(split, &entry.valence, place) != 0)
        return -1;
    *split = '\0';
    size_t word_count = 0;
    if (normalise_key(trim_line(line), &entry, &word_count, place) != 0)
        return -1;
    if (word_count > lexicon->longest)
        lexicon->longest = word_count;
    if (add_entry(lexicon, &entry) != 0)
        return fail(place, "out of memory", "");
    return 0;
}

static int compare_entries(const void *left, const void *right)
{
    return strcmp(((const lexicon_entry *)left)->key, ((const lexicon_entry *)right)->key);
}

static int reject_duplicates(const sentiment_lexicon *lexicon, parse_place *place)
{
    for (size_t i = 1; i < lexicon->count; i++) {
        const lexicon_entry *first = &lexicon->entries[i - 1];
        const lexicon_entry *second = &lexicon->entries[i];
        if (strcmp(first->key, second->key) != 0)
            continue;
        const lexicon_entry *later = first->line > second->line ? first : second;
        const lexicon_entry *earlier = later == first ? second : first;
        char detail[SENTIMENT_LEXICON_KEY_MAX + 40];
        snprintf(detail, sizeof detail, "'%s' (first on line %d)", later->key, earlier->line);
        place->line = later->line;
        return fail(place, "duplicate entry ", detail);
    }
    return 0;
}

sentiment_lexicon *sentiment_lexicon_parse(const char *text, const char *name, char *error,
                                           size_t error_size)
{
    sentiment_lexicon *lexicon = calloc(1, sizeof *lexicon);
    char *copy = strdup(text);
    parse_place place = {name, 0, error, error_size};
    if (lexicon == NULL || copy == NULL) {
        free(copy);
        free(lexicon);
        snprintf(error, error_size, "%s: out of memory", name);
        return NULL;
    }
    int failed = 0;
    char *cursor = copy;
    while (!failed && cursor != NULL) {
        char *newline = strchr(cursor, '\n');
        if (newline != NULL)
            *newline = '\0';
        place.line++;
        failed = parse_line(lexicon, cursor, &place) != 0;
        cursor = newline != NULL ? newline + 1 : NULL;
    }
    free(copy);
    if (!failed && lexicon->count > 0) {
        qsort(lexicon->entries, lexicon->count, sizeof *lexicon->entries, compare_entries);
        failed = reject_duplicates(lexicon, &place) != 0;
    }
    if (!failed && lexicon->count == 0) {
        snprintf(error, error_size, "%s: no entries", name);
        failed = 1;
    }
    if (failed) {
        sentiment_lexicon_free(lexicon);
        return NULL;
    }
    return lexicon;
}

static char *read_file(const char *path, char *error, size_t error_size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(error, error_size, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t capacity = 64 * 1024;
    size_t length = 0;
    char *text = malloc(capacity);
    while (text != NULL) {
        length += fread(text + length, 1, capacity - length - 1, file);
        if (length < capacity - 1)
            break;
        char *bigger = capacity > 64u * 1024 * 1024 ? NULL : realloc(text, capacity * 2);
        if (bigger == NULL) {
            free(text);
            text = NULL;
            break;
        }
        text = bigger;
        capacity *= 2;
    }
    int read_failed = ferror(file);
    fclose(file);
    if (text == NULL || read_failed) {
        free(text);
        snprintf(error, error_size, "%s: cannot read (too large or I/O error)", path);
        return NULL;
    }
    text[length] = '\0';
    if (strlen(text) != length) {
        free(text);
        snprintf(error, error_size, "%s: contains a NUL byte; not a text file", path);
        return NULL;
    }
    return text;
}

sentiment_lexicon *sentiment_lexicon_load(const char *path, char *error, size_t error_size)
{
    char *text = read_file(path, error, error_size);
    if (text == NULL)
        return NULL;
    sentiment_lexicon *lexicon = sentiment_lexicon_parse(text, path, error, error_size);
    free(text);
    return lexicon;
}

void sentiment_lexicon_free(sentiment_lexicon *lexicon)
{
    if (lexicon == NULL)
        return;
    free(lexicon->entries);
    free(lexicon);
}

int sentiment_lexicon_find(const sentiment_lexicon *lexicon, const char *key, size_t key_length,
                           double *valence)
{
    if (key_length >= SENTIMENT_LEXICON_KEY_MAX)
        return 0;
    lexicon_entry probe;
    memcpy(probe.key, key, key_length);
    probe.key[key_length] = '\0';
    const lexicon_entry *found = bsearch(&probe, lexicon->entries, lexicon->count,
                                         sizeof *lexicon->entries, compare_entries);
    if (found == NULL)
        return 0;
    *valence = found->valence;
    return 1;
}

size_t sentiment_lexicon_size(const sentiment_lexicon *lexicon)
{
    return lexicon->count;
}

size_t sentiment_lexicon_longest(const sentiment_lexicon *lexicon)
{
    return lexicon->longest;
}
