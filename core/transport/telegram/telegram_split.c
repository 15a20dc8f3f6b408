/* Splitting outgoing text into Telegram-sized parts (telegram_split.h):
 * Telegram counts a message's length in UTF-16 units, so the cut is made on
 * that count, at a line break or space when there is one. */
#include "transport/telegram/telegram_split.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"

/* The character at text, which utf8_repair made valid: its length; a
 * stray byte (never expected) counts as one U+FFFD so the loops advance. */
static size_t next_character(const char *text, uint32_t *code_point)
{
    size_t length = jv_utf8_decode((const unsigned char *)text, 4, code_point);
    if (length == 0) {
        *code_point = 0xFFFD;
        return 1;
    }
    return length;
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
        size_t length = next_character(text + position, &code_point);
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

/* Both splitters work on repaired UTF-8, so a cut never lands inside a
 * broken sequence; on failure nothing is returned. */
static long split_repaired(const char *text, size_t max_units, char ***chunks,
                           long (*split)(const char *clean, size_t max_units, char ***chunks))
{
    *chunks = NULL;
    if (max_units < 2)
        return -1;
    size_t clean_length = 0, replaced = 0;
    char *clean = utf8_repair(text, strlen(text), &clean_length, &replaced);
    if (clean == NULL)
        return -1;
    long count = split(clean, max_units, chunks);
    free(clean);
    if (count < 0) {
        telegram_chunks_free(*chunks, 0);
        *chunks = NULL;
    }
    return count;
}

/* The common case, a short valid text, is its own one part: its bytes are
 * at least its UTF-16 units, so it fits without being counted. */
static long whole_text(const char *text, char ***chunks)
{
    long count = 0;
    *chunks = NULL;
    if (append_chunk(chunks, &count, text, strlen(text)) != 0) {
        telegram_chunks_free(*chunks, 0);
        *chunks = NULL;
        return -1;
    }
    return count;
}

/* 1 when text is its own one part as it is: valid UTF-8 within max_units
 * bytes (a byte or more a UTF-16 unit) and, for HTML, without a tag that a
 * cut would have to close and reopen. */
static int fits_whole(const char *text, size_t max_units, int html)
{
    size_t length = strlen(text);
    return length > 0 && length <= max_units && max_units >= 2 &&
           (!html || memchr(text, '<', length) == NULL) && utf8_invalid_bytes(text, length) == 0;
}

long telegram_split_text(const char *text, size_t max_units, char ***chunks)
{
    if (fits_whole(text, max_units, 0))
        return whole_text(text, chunks);
    return split_repaired(text, max_units, chunks, split_clean);
}

void telegram_chunks_free(char **chunks, long count)
{
    for (long i = 0; i < count; i++)
        free(chunks[i]);
    free(chunks);
}

/* ---- splitting Telegram HTML ---- */

/* Telegram counts the shown text (tags count nothing, an entity one
 * character), so the cut is made on that count, and a part must be valid
 * HTML on its own: the tags open at the cut are closed at the end of the
 * part and opened again at the start of the next. */
#define HTML_DEPTH_MAX 16

struct html_tag {
    size_t start, length;           /* the whole open tag, attributes included */
    size_t name_start, name_length; /* its name */
};

struct html_stack {
    size_t count;
    struct html_tag tags[HTML_DEPTH_MAX];
};

struct html_cut {
    size_t end, next_start; /* the part ends at end, the next begins at next_start */
    struct html_stack open; /* tags open at the cut */
    int valid;
};

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* Length of the tag at text[position] ('<'), or 0 when it is no tag. */
static size_t tag_length(const char *text, size_t position)
{
    const char *end = strchr(text + position, '>');
    const char *next_open = strchr(text + position + 1, '<');
    if (end == NULL || (next_open != NULL && next_open < end))
        return 0;
    return (size_t)(end - (text + position)) + 1;
}

/* Length of the entity at text[position] ('&'), or 0 when it is none. */
static size_t entity_length(const char *text, size_t position, size_t *units)
{
    size_t i = position + 1;
    while (i - position < 12 && (is_name_char(text[i]) || text[i] == '#'))
        i++;
    if (text[i] != ';' || i == position + 1)
        return 0;
    *units = 1;
    if (text[position + 1] == '#') {
        int hex = text[position + 2] == 'x' || text[position + 2] == 'X';
        long code = strtol(text + position + (hex ? 3 : 2), NULL, hex ? 16 : 10);
        *units = code >= 0x10000 ? 2 : 1;
    }
    return i - position + 1;
}

static void apply_tag(struct html_stack *stack, const char *text, size_t start, size_t length)
{
    int closing = text[start + 1] == '/';
    size_t name_start = start + (closing ? 2 : 1), name_length = 0;
    while (is_name_char(text[name_start + name_length]))
        name_length++;
    if (!closing) {
        if (stack->count < HTML_DEPTH_MAX)
            stack->tags[stack->count++] = (struct html_tag){start, length, name_start, name_length};
        return;
    }
    for (size_t i = stack->count; i > 0; i--) {
        const struct html_tag *tag = &stack->tags[i - 1];
        if (tag->name_length == name_length &&
            strncasecmp(text + tag->name_start, text + name_start, name_length) == 0) {
            stack->count = i - 1;
            return;
        }
    }
}

/* Is what the part shows only whitespace? Tags show nothing. */
static int html_shows_nothing(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '<') {
            size_t tag = tag_length(text, i);
            if (tag > 0 && i + tag <= length) {
                i += tag - 1;
                continue;
            }
        }
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
            return 0;
    }
    return 1;
}

struct html_builder {
    char *data;
    size_t length, capacity;
    int failed;
};

static void html_append(struct html_builder *builder, const char *text, size_t length)
{
    if (builder->failed)
        return;
    if (builder->length + length + 1 > builder->capacity) {
        size_t capacity = builder->capacity ? builder->capacity * 2 : 256;
        while (capacity < builder->length + length + 1)
            capacity *= 2;
        char *grown = realloc(builder->data, capacity);
        if (grown == NULL) {
            builder->failed = 1;
            return;
        }
        builder->data = grown;
        builder->capacity = capacity;
    }
    memcpy(builder->data + builder->length, text, length);
    builder->length += length;
    builder->data[builder->length] = '\0';
}

/* reopen + text[start, end) + the closers of open, as one part. */
static int emit_html_part(char ***chunks, long *count, const char *text,
                          const struct html_stack *reopen, size_t start, size_t end,
                          const struct html_stack *open)
{
    struct html_builder part = {0};
    for (size_t i = 0; i < reopen->count; i++)
        html_append(&part, text + reopen->tags[i].start, reopen->tags[i].length);
    html_append(&part, text + start, end - start);
    for (size_t i = open->count; i > 0; i--) {
        html_append(&part, "</", 2);
        html_append(&part, text + open->tags[i - 1].name_start, open->tags[i - 1].name_length);
        html_append(&part, ">", 1);
    }
    if (part.failed) {
        free(part.data);
        return -1;
    }
    if (part.data != NULL && !html_shows_nothing(part.data, part.length)) {
        char **grown = realloc(*chunks, (size_t)(*count + 1) * sizeof *grown);
        if (grown == NULL) {
            free(part.data);
            return -1;
        }
        *chunks = grown;
        grown[(*count)++] = part.data;
    } else {
        free(part.data);
    }
    return 0;
}

static void remember_cut(struct html_cut *cut, size_t end, size_t next_start,
                         const struct html_stack *open)
{
    cut->end = end;
    cut->next_start = next_start;
    cut->open = *open;
    cut->valid = 1;
}

static long split_html_clean(const char *text, size_t max_units, char ***chunks)
{
    long count = 0;
    struct html_stack open = {0}, reopen = {0};
    struct html_cut newline = {0}, space = {0};
    size_t start = 0, position = 0, units = 0;
    while (text[position]) {
        size_t length = 0, width = 1;
        if (text[position] == '<' && (length = tag_length(text, position)) > 0) {
            apply_tag(&open, text, position, length);
            position += length;
            continue;
        }
        if (text[position] != '&' || (length = entity_length(text, position, &width)) == 0) {
            uint32_t code_point;
            length = next_character(text + position, &code_point);
            width = code_point >= 0x10000 ? 2 : 1;
        }
        if (units + width > max_units) {
            struct html_cut here = {0};
            remember_cut(&here, position, position, &open);
            const struct html_cut *cut = newline.valid ? &newline : space.valid ? &space : &here;
            if (emit_html_part(chunks, &count, text, &reopen, start, cut->end, &cut->open) != 0)
                return -1;
            reopen = cut->open;
            open = cut->open;
            start = position = cut->next_start;
            units = 0;
            newline.valid = space.valid = 0;
            continue;
        }
        if (text[position] == '\n')
            remember_cut(&newline, position, position + 1, &open);
        else if (text[position] == ' ')
            remember_cut(&space, position, position + 1, &open);
        units += width;
        position += length;
    }
    if (emit_html_part(chunks, &count, text, &reopen, start, position, &open) != 0)
        return -1;
    return count;
}

long telegram_split_html(const char *text, size_t max_units, char ***chunks)
{
    if (fits_whole(text, max_units, 1))
        return whole_text(text, chunks);
    return split_repaired(text, max_units, chunks, split_html_clean);
}
