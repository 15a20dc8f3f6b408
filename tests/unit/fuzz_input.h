/* Deterministic input generation for the fuzz-style unit tests: a xorshift64*
 * generator from a fixed seed (so a failure repeats exactly), random bytes,
 * and mutations of real-shaped inputs (bit flips, truncation, duplication,
 * splicing, insertion of hostile byte runs). Header-only: static inline. */
#ifndef JARVIS_TESTS_FUZZ_INPUT_H
#define JARVIS_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fuzz_rng {
    uint64_t state;
} fuzz_rng;

/* A growable byte string, always NUL-terminated after length (it may also
 * hold NUL bytes inside, for parsers that take a length). */
typedef struct fuzz_text {
    char *data;
    size_t length;
    size_t capacity;
} fuzz_text;

static inline void fuzz_seed(fuzz_rng *rng, uint64_t seed)
{
    rng->state = seed != 0 ? seed : 0x9E3779B97F4A7C15ull; /* xorshift never leaves 0 */
}

static inline uint64_t fuzz_next(fuzz_rng *rng)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform enough in [0, bound); 0 when bound is 0. */
static inline size_t fuzz_below(fuzz_rng *rng, size_t bound)
{
    return bound == 0 ? 0 : (size_t)(fuzz_next(rng) % bound);
}

/* 1 with probability 1/n. */
static inline int fuzz_one_in(fuzz_rng *rng, size_t n)
{
    return fuzz_below(rng, n) == 0;
}

static inline void fuzz_reserve(fuzz_text *text, size_t needed)
{
    if (needed + 1 <= text->capacity)
        return;
    size_t capacity = text->capacity ? text->capacity : 64;
    while (capacity < needed + 1)
        capacity *= 2;
    char *grown = realloc(text->data, capacity);
    if (grown == NULL) {
        fprintf(stderr, "fuzz_input: out of memory\n");
        abort();
    }
    text->data = grown;
    text->capacity = capacity;
}

static inline void fuzz_clear(fuzz_text *text)
{
    fuzz_reserve(text, 0);
    text->length = 0;
    text->data[0] = '\0';
}

static inline void fuzz_free(fuzz_text *text)
{
    free(text->data);
    memset(text, 0, sizeof *text);
}

static inline void fuzz_append(fuzz_text *text, const void *bytes, size_t length)
{
    fuzz_reserve(text, text->length + length);
    memcpy(text->data + text->length, bytes, length);
    text->length += length;
    text->data[text->length] = '\0';
}

static inline void fuzz_append_string(fuzz_text *text, const char *string)
{
    fuzz_append(text, string, strlen(string));
}

static inline void fuzz_set(fuzz_text *text, const void *bytes, size_t length)
{
    fuzz_clear(text);
    fuzz_append(text, bytes, length);
}

/* Inserts at position (clamped to the end). */
static inline void fuzz_insert(fuzz_text *text, size_t position, const void *bytes,
                               size_t length)
{
    if (position > text->length)
        position = text->length;
    fuzz_reserve(text, text->length + length);
    memmove(text->data + position + length, text->data + position, text->length - position);
    memcpy(text->data + position, bytes, length);
    text->length += length;
    text->data[text->length] = '\0';
}

/* Byte fragments that tend to break text parsers: invalid and truncated
 * UTF-8, overlong forms, surrogates, emoji with joiners, control bytes. */
static const char *const fuzz_hostile_fragments[] = {
    "\xC0\x80",         "\xC3",
    "\xE2\x82",         "\xF0\x9F\x98",
    "\xED\xA0\x80",     "\xF4\x90\x80\x80",
    "\xFF\xFE",         "\x80\x80\x80",
    "\xE0\x80\xAF",     "\xF8\x88\x80\x80\x80",
    "\xF0\x9F\x9A\x80", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", "\xE2\x9D\xA4\xEF\xB8\x8F",
    "\xE2\x80\x99",     "\xE2\x80\xA6",
    "\xC3\xB1",         "\xE4\xB8\xAD\xE6\x96\x87",
    "\r",               "\n",
    "\t",               "\x01\x02\x1B[0m",
    "\x7F",             "\\u0000",
    "\\ud800",          "\\udc00\\ud800",
    "\\uD83D\\uDE00",   "\\",
    "\"",               "%s%n%x",
    "$",                "/",
    "@",                "'",
    "!!!",              "???",
    "[",                "]",
    "=",                ";",
    "#",                ":",
    ",",                "{",
    "}",                "1e999",
    "-0",               "9223372036854775808",
    "-9223372036854775809", "1.7976931348623157e308",
    "NaN",              "null",
    "true",             "[[[[[[[[",
};

#define FUZZ_HOSTILE_COUNT (sizeof fuzz_hostile_fragments / sizeof fuzz_hostile_fragments[0])

static inline const char *fuzz_hostile(fuzz_rng *rng)
{
    return fuzz_hostile_fragments[fuzz_below(rng, FUZZ_HOSTILE_COUNT)];
}

/* length random bytes; NUL bytes only when allow_nul. */
static inline void fuzz_random_bytes(fuzz_rng *rng, fuzz_text *text, size_t length,
                                     int allow_nul)
{
    fuzz_clear(text);
    fuzz_reserve(text, length);
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)fuzz_next(rng);
        if (byte == 0 && !allow_nul)
            byte = 0x80;
        text->data[i] = (char)byte;
    }
    text->length = length;
    text->data[length] = '\0';
}

/* Text that looks like chat: words from vocabulary, spaces, punctuation and,
 * now and then, a hostile fragment or a long run of one character. */
static inline void fuzz_random_chat(fuzz_rng *rng, fuzz_text *text,
                                    const char *const *vocabulary, size_t vocabulary_count,
                                    size_t words)
{
    static const char *const separators[] = {" ", " ", " ", ", ", ". ", "! ", "? ", "  ",
                                             "\n", " - ", "...", ":)"};
    fuzz_clear(text);
    for (size_t i = 0; i < words; i++) {
        size_t choice = fuzz_below(rng, 10);
        if (choice < 7 && vocabulary_count > 0) {
            const char *word = vocabulary[fuzz_below(rng, vocabulary_count)];
            size_t start = text->length;
            fuzz_append_string(text, word);
            if (fuzz_one_in(rng, 5)) /* SHOUTED */
                for (size_t j = start; j < text->length; j++)
                    if (text->data[j] >= 'a' && text->data[j] <= 'z')
                        text->data[j] = (char)(text->data[j] - 'a' + 'A');
        } else if (choice < 9) {
            fuzz_append_string(text, fuzz_hostile(rng));
        } else {
            size_t run = 1 + fuzz_below(rng, 40);
            char byte = (char)(fuzz_one_in(rng, 2) ? "!?a$.\x80"[fuzz_below(rng, 6)]
                                                   : (char)fuzz_next(rng));
            for (size_t j = 0; j < run; j++)
                fuzz_append(text, byte ? &byte : "x", 1);
        }
        fuzz_append_string(text, separators[fuzz_below(rng, sizeof separators /
                                                                sizeof separators[0])]);
    }
}

/* One in-place mutation of text; corpus (may be NULL) supplies splices. */
static inline void fuzz_mutate_once(fuzz_rng *rng, fuzz_text *text,
                                    const char *const *corpus, size_t corpus_count)
{
    size_t length = text->length;
    switch (fuzz_below(rng, 9)) {
    case 0: /* bit flip */
        if (length > 0)
            text->data[fuzz_below(rng, length)] ^= (char)(1u << fuzz_below(rng, 8));
        break;
    case 1: /* one byte set to anything */
        if (length > 0)
            text->data[fuzz_below(rng, length)] = (char)fuzz_next(rng);
        break;
    case 2: /* truncation */
        text->length = fuzz_below(rng, length + 1);
        text->data[text->length] = '\0';
        break;
    case 3: { /* a range duplicated in place */
        if (length == 0)
            break;
        size_t start = fuzz_below(rng, length);
        size_t span = 1 + fuzz_below(rng, length - start < 256 ? length - start : 256);
        char copy[256];
        memcpy(copy, text->data + start, span);
        fuzz_insert(text, start + span, copy, span);
        break;
    }
    case 4: { /* a range deleted */
        if (length == 0)
            break;
        size_t start = fuzz_below(rng, length);
        size_t span = 1 + fuzz_below(rng, length - start);
        memmove(text->data + start, text->data + start + span, length - start - span);
        text->length -= span;
        text->data[text->length] = '\0';
        break;
    }
    case 5: { /* splice: our head, another input's tail */
        if (corpus == NULL || corpus_count == 0)
            break;
        const char *other = corpus[fuzz_below(rng, corpus_count)];
        size_t other_length = strlen(other);
        text->length = fuzz_below(rng, length + 1);
        text->data[text->length] = '\0';
        fuzz_append_string(text, other + fuzz_below(rng, other_length + 1));
        break;
    }
    case 6: { /* a hostile fragment inserted */
        const char *fragment = fuzz_hostile(rng);
        fuzz_insert(text, fuzz_below(rng, length + 1), fragment, strlen(fragment));
        break;
    }
    case 7: { /* random bytes inserted */
        char bytes[16];
        size_t count = 1 + fuzz_below(rng, sizeof bytes);
        for (size_t i = 0; i < count; i++)
            bytes[i] = (char)fuzz_next(rng);
        fuzz_insert(text, fuzz_below(rng, length + 1), bytes, count);
        break;
    }
    default: { /* a digit run made huge or negative */
        for (size_t i = 0; i < length; i++) {
            if (text->data[i] >= '0' && text->data[i] <= '9' && fuzz_one_in(rng, 4)) {
                const char *replacement = fuzz_one_in(rng, 2) ? "99999999999999999999999"
                                                              : "-1";
                fuzz_insert(text, i, replacement, strlen(replacement));
                break;
            }
        }
        break;
    }
    }
}

/* text = a corpus entry with 1..max_mutations mutations applied. */
static inline void fuzz_mutated_copy(fuzz_rng *rng, fuzz_text *text, const char *const *corpus,
                                     size_t corpus_count, size_t max_mutations)
{
    fuzz_set(text, "", 0);
    if (corpus_count > 0)
        fuzz_append_string(text, corpus[fuzz_below(rng, corpus_count)]);
    size_t mutations = 1 + fuzz_below(rng, max_mutations);
    for (size_t i = 0; i < mutations; i++)
        fuzz_mutate_once(rng, text, corpus, corpus_count);
}

/* Replaces one member value ("key": value) of a JSON text with a hostile
 * one, so the document usually stays JSON and reaches the field checks. */
static inline void fuzz_mutate_json_value(fuzz_rng *rng, fuzz_text *text)
{
    static const char *const replacements[] = {
        "null", "true", "false", "\"x\"", "\"\"", "-1", "0", "1e400", "-1e400",
        "99999999999999999999", "9223372036854775807", "-9223372036854775808", "[]", "{}",
        "\"\\ud800\"", "\"a\\u0000b\"", "1.5", "\"\xFF\xFE\"", "[1,[2,[3]]]",
        "{\"id\":{\"id\":1}}", "\"a\\nb\"", "\"\\ud83d\\ude80\"", "1e300", "-1e300",
        "1.5e19", "1761004800000.5", "0.0000001"};
    size_t colons = 0;
    for (size_t i = 0; i + 1 < text->length; i++)
        colons += text->data[i] == '"' && text->data[i + 1] == ':';
    if (colons == 0)
        return;
    size_t wanted = fuzz_below(rng, colons);
    size_t start = 0;
    for (size_t i = 0; i + 1 < text->length; i++) {
        if (text->data[i] == '"' && text->data[i + 1] == ':' && wanted-- == 0) {
            start = i + 2;
            break;
        }
    }
    size_t end = start;
    if (text->data[start] == '"') {
        for (end = start + 1; end < text->length && text->data[end] != '"'; end++)
            if (text->data[end] == '\\')
                end++;
        end++;
    } else if (text->data[start] == '{' || text->data[start] == '[') {
        if (!fuzz_one_in(rng, 3))
            return; /* mostly keep containers: their members get their turn */
        int depth = 0;
        for (end = start; end < text->length; end++) {
            depth += text->data[end] == '{' || text->data[end] == '[';
            depth -= text->data[end] == '}' || text->data[end] == ']';
            if (depth == 0) {
                end++;
                break;
            }
        }
    } else {
        while (end < text->length && strchr(",}]", text->data[end]) == NULL)
            end++;
    }
    if (end > text->length)
        end = text->length;
    const char *replacement = replacements[fuzz_below(rng, sizeof replacements /
                                                               sizeof replacements[0])];
    memmove(text->data + start, text->data + end, text->length - end);
    text->length -= end - start;
    text->data[text->length] = '\0';
    fuzz_insert(text, start, replacement, strlen(replacement));
}

/* 1 when text[0..length) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static inline int fuzz_is_valid_utf8(const char *text, size_t length)
{
    static const unsigned int minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t i = 0; i < length;) {
        unsigned char lead = bytes[i];
        size_t size = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
                                      : (lead & 0xF8) == 0xF0 ? 4 : 0;
        if (size == 0 || i + size > length)
            return 0;
        unsigned int code = size == 1 ? lead : lead & (0xFFu >> (size + 1));
        for (size_t k = 1; k < size; k++) {
            if ((bytes[i + k] & 0xC0) != 0x80)
                return 0;
            code = (code << 6) | (bytes[i + k] & 0x3F);
        }
        if (code < minimum[size] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return 0;
        i += size;
    }
    return 1;
}

/* 1 when text has no line break and its NUL lies within size. */
static inline int fuzz_is_one_line(const char *text, size_t size)
{
    size_t length = strnlen(text, size);
    if (length == size)
        return 0;
    return memchr(text, '\n', length) == NULL && memchr(text, '\r', length) == NULL;
}

#endif
