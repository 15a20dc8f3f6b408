/* token.registry over dexter's token map (see registry.h). */
#include "registry.h"

#include <jarvis/plugin.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WORD_MAX 64

static void copy_word(const char *text, char *out, size_t out_size)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t n = 0;
    for (; text[n] && n + 1 < out_size; n++)
        out[n] = (char)tolower((unsigned char)text[n]);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        n--;
    out[n] = '\0';
}

static void fill_info(const dexter_token *token, jv_token_info *info)
{
    size_t size = info->struct_size;
    jv_token_info full;
    memset(&full, 0, sizeof full);
    full.struct_size = size;
    snprintf(full.symbol, sizeof full.symbol, "%s", token->symbol);
    snprintf(full.name, sizeof full.name, "%s", token->name);
    snprintf(full.coingecko_id, sizeof full.coingecko_id, "%s", token->provider_id);
    for (int i = 0; i < token->alias_count && full.alias_count < JV_TOKEN_MAX_ALIASES; i++)
        snprintf(full.aliases[full.alias_count++], JV_TOKEN_NAME_MAX, "%s", token->aliases[i]);
    full.stablecoin = token->stablecoin;
    memcpy(info, &full, size < sizeof full ? size : sizeof full);
}

static int usable(const jv_token_info *info)
{
    return info && info->struct_size >= offsetof(jv_token_info, stablecoin) + sizeof(int);
}

static jv_token_match match_kind(const dexter_token *token, const char *raw, const char *word)
{
    if (raw[0] == '$')
        return JV_TOKEN_MATCH_CASHTAG;
    if (strcasecmp(token->symbol, word) == 0)
        return JV_TOKEN_MATCH_SYMBOL;
    if (strcasecmp(token->name, word) == 0)
        return JV_TOKEN_MATCH_NAME;
    for (int i = 0; i < token->alias_count; i++)
        if (strcmp(token->aliases[i], word) == 0)
            return JV_TOKEN_MATCH_ALIAS;
    return JV_TOKEN_MATCH_PROVIDER_ID;
}

static int registry_lookup(const void *context, const char *text, jv_token_info *info,
                           jv_token_match *matched_by)
{
    if (!context || !text || !usable(info))
        return text && info ? JV_E_ABI : JV_E_INVAL;
    char word[WORD_MAX];
    copy_word(text, word, sizeof word);
    const dexter_token *token = dexter_token_lookup(context, word);
    if (!token)
        return JV_E_NOTFOUND;
    fill_info(token, info);
    if (matched_by)
        *matched_by = match_kind(token, word, word[0] == '$' ? word + 1 : word);
    return JV_OK;
}

static size_t registry_count(const void *context)
{
    return context ? ((const dexter_token_map *)context)->count : 0;
}

static int registry_at(const void *context, size_t index, jv_token_info *info)
{
    const dexter_token_map *map = context;
    if (!map || !info)
        return JV_E_INVAL;
    if (!usable(info))
        return JV_E_ABI;
    if (index >= map->count)
        return JV_E_NOTFOUND;
    fill_info(&map->tokens[index], info);
    return JV_OK;
}

/* Levenshtein distance, capped: words here are short. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= WORD_MAX || lb >= WORD_MAX)
        return WORD_MAX;
    size_t row[WORD_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diagonal + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

static void consider(const dexter_token *token, const char *candidate, const char *word,
                     const dexter_token **best, size_t *best_distance)
{
    size_t distance = edit_distance(word, candidate);
    /* two edits turn "weather" into "ether": allow them only between long words */
    size_t shorter = strlen(word) < strlen(candidate) ? strlen(word) : strlen(candidate);
    size_t allowed = shorter >= 6 ? 2 : 1;
    if (distance > 0 && distance <= allowed && distance < *best_distance) {
        *best = token;
        *best_distance = distance;
    }
}

const dexter_token *dexter_registry_suggest(const dexter_token_map *map, const char *text)
{
    if (!map || !text)
        return NULL;
    char word[WORD_MAX];
    copy_word(text[0] == '$' ? text + 1 : text, word, sizeof word);
    if (strlen(word) < 3 || dexter_token_lookup(map, word))
        return NULL; /* two letters are a near miss of too much */
    const dexter_token *best = NULL;
    size_t best_distance = WORD_MAX;
    for (size_t i = 0; i < map->count; i++) {
        const dexter_token *token = &map->tokens[i];
        consider(token, token->symbol, word, &best, &best_distance);
        for (int a = 0; a < token->alias_count; a++)
            consider(token, token->aliases[a], word, &best, &best_distance);
    }
    return best;
}

static int registry_suggest(const void *context, const char *text, jv_token_info *info)
{
    if (!context || !text || !info)
        return JV_E_INVAL;
    if (!usable(info))
        return JV_E_ABI;
    const dexter_token *token = dexter_registry_suggest(context, text);
    if (!token)
        return JV_E_NOTFOUND;
    fill_info(token, info);
    return JV_OK;
}

void dexter_registry_init(jv_token_registry_api *vtable, const dexter_token_map *map)
{
    memset(vtable, 0, sizeof *vtable);
    vtable->struct_size = sizeof *vtable;
    vtable->context = map;
    vtable->lookup = registry_lookup;
    vtable->count = registry_count;
    vtable->at = registry_at;
    vtable->suggest = registry_suggest;
}
