/* Splitting outgoing text into Telegram-sized parts (telegram_send.h):
 * Telegram counts a message's length in UTF-16 units, so the cut is made on
 * that count, at a line break or space when there is one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telegram_api.h"
#include "telegram_send.h"


static size_t utf8_decode(const unsigned char *text, uint32_t *code_point)
{
    unsigned char lead = text[0];
    if (lead < 0x80) {
        *code_point = lead;
        return 1;
    }
    size_t length = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
    uint32_t code = lead & (0x7F >> length);
    for (size_t i = 1; i < length; i++)
        code = (code << 6) | (text[i] & 0x3F);
    *code_point = code;
    return length;
}

size_t telegram_utf16_length(const char *text)
{
    const unsigned char *cursor = (const unsigned char *)text;
    size_t units = 0;
    while (*cursor) {
        uint32_t code_point;
        cursor += utf8_decode(cursor, &code_point);
        units += code_point >= 0x10000 ? 2 : 1;
    }
    return units;
}

static int is_blank(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
            return 0;
    return 1;
}

static int append_chunk(char ***chunks, long *count, const char *text, size_t length)
{
    if (is_blank(text, length))
        return 0;
    char **grown = realloc(*chunks, (size_t)(*count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    *chunks = grown;
    char *copy = strndup(text, length);
    if (copy == NULL)
        return -1;
    grown[(*count)++] = copy;
    return 0;
}

/* Where the chunk starting at start ends, given that the character at limit
 * would overflow: after the last newline, else the last space, else limit. */
static size_t choose_cut(const char *text, size_t start, size_t limit, size_t *next_start)
{
    for (size_t i = limit; i > start; i--)
        if (text[i - 1] == '\n') {
            *next_start = i;
            return i - 1;
        }
    for (size_t i = limit; i > start; i--)
        if (text[i - 1] == ' ') {
            *next_start = i;
            return i - 1;
        }
    *next_start = limit;
    return limit;
}

static long split_clean(const char *text, size_t max_units, char ***chunks)
{
    long count = 0;
    size_t start = 0, position = 0, units = 0;
    while (text[position]) {
        uint32_t code_point;
        size_t length = utf8_decode((const unsigned char *)text + position, &code_point);
        size_t width = code_point >= 0x10000 ? 2 : 1;
        if (units + width > max_units) {
            size_t next_start;
            size_t end = choose_cut(text, start, position, &next_start);
            if (append_chunk(chunks, &count, text + start, end - start) != 0)
                return -1;
            start = next_start;
            position = start;
            units = 0;
            continue;
        }
        units += width;
        position += length;
    }
    if (append_chunk(chunks, &count, text + start, position - start) != 0)
        return -1;
    return count;
}

long telegram_split_text(const char *text, size_t max_units, char ***chunks)
{
    *chunks = NULL;
    if (max_units < 2)
        return -1;
    size_t clean_length = 0, replaced = 0;
    char *clean = telegram_repair_utf8(text, strlen(text), &clean_length, &replaced);
    if (clean == NULL)
        return -1;
    long count = split_clean(clean, max_units, chunks);
    free(clean);
    if (count < 0) {
        telegram_chunks_free(*chunks, 0);
        *chunks = NULL;
    }
    return count;
}

void telegram_chunks_free(char **chunks, long count)
{
    for (long i = 0; i < count; i++)
        free(chunks[i]);
    free(chunks);
}
