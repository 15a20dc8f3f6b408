/* The crypto symbol table and token-mention detection (rules in tokens.h). */
#include "tokens.h"
#include "words.h"

#include <jarvis/plugin.h>
#include <jarvis/svc/token_registry.h>
#include <jarvis/utf8.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_alnum_ascii(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_upper_or_digit(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char to_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char to_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void trim(const char **start, size_t *length)
{
    while (*length > 0 && (**start == ' ' || **start == '\t')) {
        (*start)++;
        (*length)--;
    }
    while (*length > 0 && ((*start)[*length - 1] == ' ' || (*start)[*length - 1] == '\t'))
        (*length)--;
}

/* Copies an alphanumeric field, upper- or lower-cased; -1 if it is not one. */
static int copy_field(const char *field, size_t length, char *out, size_t out_size, int upper)
{
    if (length == 0 || length >= out_size)
        return -1;
    int has_letter = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)field[i];
        if (!is_alnum_ascii(c))
            return -1;
        has_letter |= !(c >= '0' && c <= '9');
        out[i] = upper ? to_upper((char)c) : to_lower((char)c);
    }
    out[length] = '\0';
    return has_letter ? 0 : -1;
}

static int find_symbol(const sentiment_token_table *table, const char *word)
{
    for (size_t i = 0; i < table->count; i++) {
        if (strcasecmp(table->tokens[i].symbol, word) == 0)
            return (int)i;
    }
    return -1;
}

static int find_name(const sentiment_token_table *table, const char *word)
{
    for (size_t i = 0; i < table->count; i++) {
        for (size_t n = 0; n < table->tokens[i].name_count; n++) {
            if (strcasecmp(table->tokens[i].names[n], word) == 0)
                return (int)i;
        }
    }
    return -1;
}

/* The entry as an error may quote it: control characters (a CR inside a
 * config value) become spaces, so the error stays one line. */
static void printable_copy(const char *text, size_t length, char *out, size_t out_size)
{
    size_t used = length < out_size - 1 ? length : out_size - 1;
    for (size_t i = 0; i < used; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[used] = '\0';
}

static int parse_entry(const char *entry, size_t length, sentiment_token_table *table, char *error,
                       size_t error_size)
{
    trim(&entry, &length);
    if (length == 0)
        return 0; /* tolerate "SOL, , BTC" and a trailing comma */
    if (table->count == SENTIMENT_MAX_TOKENS) {
        snprintf(error, error_size, "tokens: more than %d entries", SENTIMENT_MAX_TOKENS);
        return -1;
    }
    sentiment_token token = {0};
    const char *field = entry;
    const char *end = entry + length;
    for (size_t index = 0; field <= end; index++) {
        const char *colon = memchr(field, ':', (size_t)(end - field));
        size_t field_length = colon ? (size_t)(colon - field) : (size_t)(end - field);
        const char *start = field;
        trim(&start, &field_length);
        int bad = index == 0
                      ? copy_field(start, field_length, token.symbol, sizeof token.symbol, 1)
                      : (token.name_count == SENTIMENT_MAX_TOKEN_NAMES
                             ? -1
                             : copy_field(start, field_length, token.names[token.name_count++],
                                          SENTIMENT_NAME_MAX, 0));
        if (bad) {
            char shown[64];
            printable_copy(entry, length, shown, sizeof shown);
            snprintf(error, error_size,
                     "tokens: bad entry '%s' (want SYMBOL[:name...], letters and digits, "
                     "at most %d names)",
                     shown, SENTIMENT_MAX_TOKEN_NAMES);
            return -1;
        }
        if (colon == NULL)
            break;
        field = colon + 1;
    }
    if (find_symbol(table, token.symbol) >= 0 || find_name(table, token.symbol) >= 0) {
        snprintf(error, error_size, "tokens: '%s' is listed twice", token.symbol);
        return -1;
    }
    for (size_t n = 0; n < token.name_count; n++) {
        if (find_name(table, token.names[n]) >= 0 || find_symbol(table, token.names[n]) >= 0) {
            snprintf(error, error_size, "tokens: name '%s' is listed twice", token.names[n]);
            return -1;
        }
    }
    table->tokens[table->count++] = token;
    return 0;
}

int sentiment_tokens_parse(const char *spec, sentiment_token_table *table, char *error,
                           size_t error_size)
{
    memset(table, 0, sizeof *table);
    const char *cursor = spec;
    for (;;) {
        const char *comma = strchr(cursor, ',');
        size_t length = comma ? (size_t)(comma - cursor) : strlen(cursor);
        if (parse_entry(cursor, length, table, error, error_size) != 0)
            return -1;
        if (comma == NULL)
            break;
        cursor = comma + 1;
    }
    if (table->count == 0) {
        snprintf(error, error_size, "tokens: no symbols given");
        return -1;
    }
    return 0;
}

static int plain_word(const char *text, size_t out_size)
{
    size_t length = strlen(text);
    if (length == 0 || length >= out_size)
        return 0;
    for (size_t i = 0; i < length; i++)
        if (!is_alnum_ascii((unsigned char)text[i]))
            return 0;
    return 1;
}

static void add_registry_token(sentiment_token_table *table, const jv_token_info *info)
{
    sentiment_token token = {0};
    if (!plain_word(info->symbol, sizeof token.symbol) || find_symbol(table, info->symbol) >= 0 ||
        find_name(table, info->symbol) >= 0)
        return;
    for (size_t i = 0; info->symbol[i]; i++)
        token.symbol[i] = to_upper(info->symbol[i]);
    for (size_t a = 0; a < info->alias_count && token.name_count < SENTIMENT_MAX_TOKEN_NAMES; a++) {
        const char *alias = info->aliases[a];
        if (!plain_word(alias, SENTIMENT_NAME_MAX) || find_name(table, alias) >= 0 ||
            find_symbol(table, alias) >= 0 || strcasecmp(alias, token.symbol) == 0)
            continue;
        char *name = token.names[token.name_count++];
        for (size_t i = 0; alias[i]; i++)
            name[i] = to_lower(alias[i]);
    }
    table->tokens[table->count++] = token;
}

size_t sentiment_tokens_add_registry(sentiment_token_table *table,
                                     const jv_token_registry_api *registry)
{
    if (!registry || registry->struct_size < sizeof *registry || !registry->count || !registry->at)
        return 0;
    size_t before = table->count;
    size_t count = registry->count(registry->context);
    for (size_t i = 0; i < count && table->count < SENTIMENT_MAX_TOKENS; i++) {
        jv_token_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (registry->at(registry->context, i, &info) == JV_OK)
            add_registry_token(table, &info);
    }
    return table->count - before;
}

static int exact_upper(const char *word, size_t length, const char *symbol)
{
    if (strlen(symbol) != length)
        return 0;
    for (size_t i = 0; i < length; i++) {
        if (!is_upper_or_digit((unsigned char)word[i]) || word[i] != symbol[i])
            return 0;
    }
    return 1;
}

/* Which token one alphanumeric run refers to, or -1. */
static int match_run(const sentiment_token_table *table, const char *run, size_t length,
                     int cashtag)
{
    char word[SENTIMENT_NAME_MAX];
    if (length >= sizeof word)
        return -1;
    memcpy(word, run, length);
    word[length] = '\0';
    for (size_t i = 0; i < table->count; i++) {
        const sentiment_token *token = &table->tokens[i];
        if (cashtag ? strcasecmp(token->symbol, word) == 0
                    : exact_upper(run, length, token->symbol))
            return (int)i;
        for (size_t n = 0; n < token->name_count; n++) {
            if (strcasecmp(token->names[n], word) == 0)
                return (int)i;
        }
    }
    return -1;
}

/* An accented Latin letter (U+00C0..U+02AF) makes an ASCII run part of a
 * longer word: "solaño" holds no "sol". Emoji and punctuation do not. */
static int is_accented_letter(const unsigned char *text, size_t available)
{
    uint32_t cp = 0;
    size_t length = jv_utf8_decode(text, available, &cp);
    return length > 0 && cp >= 0xC0 && cp <= 0x2AF && cp != 0xD7 && cp != 0xF7;
}

static int glued_before(const unsigned char *text, size_t start)
{
    if (start == 0)
        return 0;
    if (text[start - 1] == '_')
        return 1;
    size_t back = start - 1;
    while (back > 0 && start - back < 4 && (text[back] & 0xC0) == 0x80)
        back--;
    return text[start - 1] >= 0x80 && is_accented_letter(text + back, start - back);
}

static int glued_after(const unsigned char *text, size_t end)
{
    if (text[end] == '_')
        return 1;
    return text[end] >= 0x80 &&
           is_accented_letter(text + end, strnlen((const char *)text + end, 4));
}

size_t sentiment_tokens_mentioned(const sentiment_token_table *table, const char *text,
                                  unsigned char *found)
{
    memset(found, 0, table->count);
    size_t distinct = 0;
    const unsigned char *p = (const unsigned char *)text;
    size_t position = 0;
    while (p[position] != '\0') {
        if (!is_alnum_ascii(p[position])) {
            position++;
            continue;
        }
        size_t start = position;
        while (is_alnum_ascii(p[position]))
            position++;
        if (glued_before(p, start) || glued_after(p, position))
            continue; /* part of a longer word: "solaño", "my_SOL" */
        int cashtag = start > 0 && p[start - 1] == '$';
        int index = match_run(table, text + start, position - start, cashtag);
        if (index >= 0 && !found[index]) {
            found[index] = 1;
            distinct++;
        }
    }
    return distinct;
}

int sentiment_tokens_lookup(const sentiment_token_table *table, const char *argument)
{
    if (argument[0] == '$')
        argument++;
    int index = find_symbol(table, argument);
    return index >= 0 ? index : find_name(table, argument);
}
