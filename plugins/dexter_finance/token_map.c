/* The token map of dexter_finance: the built-in list and `tokens` from
 * plugins.ini parsed into symbols, provider ids and aliases, and the
 * case-insensitive lookup the question parser and the registry share. */
#include "token_map.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The built-in token registry (docs/dexter_finance.md, "Tokens"); the
 * sentiment plugin's fallback list names the same symbols (a unit test
 * compares them). Aliases are words people write, never ordinary English. */
const char dexter_default_tokens[] =
    "BTC:bitcoin:bitcoin, ETH:ethereum:ethereum:ether, SOL:solana:solana, "
    "BNB:binancecoin, XRP:ripple:ripple, ADA:cardano:cardano, DOGE:dogecoin:dogecoin, "
    "AVAX:avalanche-2:avalanche, DOT:polkadot:polkadot, LINK:chainlink:chainlink, "
    "BONK:bonk:bonk, JUP:jupiter-exchange-solana:jupiter, WIF:dogwifcoin:dogwifhat, "
    "PEPE:pepe:pepe, LTC:litecoin:litecoin, SHIB:shiba-inu:shiba, TRX:tron:tron, "
    "USDC:usd-coin:stablecoin, USDT:tether:tether:stablecoin";

/* Lookups compare at most this many bytes of a word. */
#define WORD_MAX 48

void dexter_copy_lower(char *out, size_t out_length, const char *text, size_t length)
{
    size_t n = length < out_length - 1 ? length : out_length - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)text[i]);
    out[n] = '\0';
}

static char *trim(char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t length = strlen(text);
    while (length > 0 && isspace((unsigned char)text[length - 1]))
        text[--length] = '\0';
    return text;
}

static int valid_name(const char *text, size_t max_length, int allow_dash)
{
    size_t length = strlen(text);
    if (length == 0 || length >= max_length)
        return 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!isalnum(c) && !(allow_dash && (c == '-' || c == '_' || c == '.')))
            return 0;
    }
    return 1;
}

static int parse_entry(char *entry, dexter_token *token, char *err, size_t err_length)
{
    memset(token, 0, sizeof *token);
    char *save = NULL;
    char *symbol = strtok_r(entry, ":", &save);
    char *provider = strtok_r(NULL, ":", &save);
    if (!symbol || !provider) {
        snprintf(err, err_length, "tokens: entry \"%s\" is not SYMBOL:provider-id[:alias...]",
                 entry);
        return -1;
    }
    symbol = trim(symbol);
    provider = trim(provider);
    if (!valid_name(symbol, DEXTER_SYMBOL_MAX, 0) ||
        !valid_name(provider, DEXTER_PROVIDER_ID_MAX, 1)) {
        snprintf(err, err_length, "tokens: bad symbol or provider id in entry \"%s:%s\"", symbol,
                 provider);
        return -1;
    }
    for (size_t i = 0; symbol[i]; i++)
        token->symbol[i] = (char)toupper((unsigned char)symbol[i]);
    dexter_copy_lower(token->provider_id, sizeof token->provider_id, provider, strlen(provider));
    for (char *alias = strtok_r(NULL, ":", &save); alias; alias = strtok_r(NULL, ":", &save)) {
        alias = trim(alias);
        if (strcasecmp(alias, "stablecoin") == 0) {
            token->stablecoin = 1;
            continue;
        }
        if (token->alias_count == DEXTER_ALIASES_PER_TOKEN ||
            !valid_name(alias, DEXTER_ALIAS_MAX, 1)) {
            snprintf(err, err_length, "tokens: bad or too many aliases for %s (at most %d)",
                     token->symbol, DEXTER_ALIASES_PER_TOKEN);
            return -1;
        }
        dexter_copy_lower(token->aliases[token->alias_count], DEXTER_ALIAS_MAX, alias,
                          strlen(alias));
        token->alias_count++;
    }
    snprintf(token->name, sizeof token->name, "%s",
             token->alias_count > 0 ? token->aliases[0] : token->symbol);
    token->name[0] = (char)toupper((unsigned char)token->name[0]);
    return 0;
}

static int put_token(dexter_token_map *map, const dexter_token *token)
{
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->tokens[i].symbol, token->symbol) == 0) {
            map->tokens[i] = *token;
            return 0;
        }
    }
    dexter_token *grown = realloc(map->tokens, (map->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    map->tokens = grown;
    map->tokens[map->count++] = *token;
    return 0;
}

/* Errors quote the entry; a CR in the config value must not break the line. */
static void make_one_line(char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text < 0x20 || *text == 0x7f)
            *text = ' ';
}

int dexter_token_map_add(dexter_token_map *map, const char *spec, char *err, size_t err_length)
{
    char *copy = strdup(spec ? spec : "");
    if (!copy) {
        snprintf(err, err_length, "tokens: out of memory");
        return -1;
    }
    /* Parse everything first so a bad entry leaves the map as it was. */
    dexter_token *parsed = NULL;
    size_t parsed_count = 0;
    int result = 0;
    char *save = NULL;
    for (char *entry = strtok_r(copy, ",", &save); entry; entry = strtok_r(NULL, ",", &save)) {
        entry = trim(entry);
        if (*entry == '\0')
            continue;
        dexter_token token;
        dexter_token *grown = realloc(parsed, (parsed_count + 1) * sizeof *grown);
        if (!grown || parse_entry(entry, &token, err, err_length) != 0) {
            if (!grown)
                snprintf(err, err_length, "tokens: out of memory");
            else
                parsed = grown;
            result = -1;
            break;
        }
        parsed = grown;
        parsed[parsed_count++] = token;
    }
    for (size_t i = 0; result == 0 && i < parsed_count; i++) {
        if (put_token(map, &parsed[i]) != 0) {
            snprintf(err, err_length, "tokens: out of memory");
            result = -1;
        }
    }
    free(parsed);
    free(copy);
    if (result != 0)
        make_one_line(err);
    return result;
}

void dexter_token_map_free(dexter_token_map *map)
{
    free(map->tokens);
    map->tokens = NULL;
    map->count = 0;
}

const dexter_token *dexter_token_lookup(const dexter_token_map *map, const char *word_text)
{
    if (!map || !word_text)
        return NULL;
    if (*word_text == '$')
        word_text++;
    char lower[WORD_MAX];
    dexter_copy_lower(lower, sizeof lower, word_text, strlen(word_text));
    if (lower[0] == '\0')
        return NULL;
    for (size_t i = 0; i < map->count; i++) {
        const dexter_token *token = &map->tokens[i];
        if (strcasecmp(token->symbol, lower) == 0 || strcmp(token->provider_id, lower) == 0)
            return token;
        for (int a = 0; a < token->alias_count; a++)
            if (strcmp(token->aliases[a], lower) == 0)
                return token;
    }
    return NULL;
}
