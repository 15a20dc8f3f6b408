/* The token map of dexter_finance: which symbols, $cashtags and names a
 * question may use, and the data provider's id for each. Pure text work. */
#ifndef DEXTER_TOKEN_MAP_H
#define DEXTER_TOKEN_MAP_H

#include <stddef.h>

#define DEXTER_SYMBOL_MAX 16
#define DEXTER_PROVIDER_ID_MAX 64
#define DEXTER_ALIAS_MAX 32
#define DEXTER_ALIASES_PER_TOKEN 4

typedef struct dexter_token {
    char symbol[DEXTER_SYMBOL_MAX];                           /* upper case: "SOL" */
    char provider_id[DEXTER_PROVIDER_ID_MAX];                 /* CoinGecko id: "solana" */
    char aliases[DEXTER_ALIASES_PER_TOKEN][DEXTER_ALIAS_MAX]; /* lower case names */
    int alias_count;
    char name[DEXTER_ALIAS_MAX]; /* display name: the first alias capitalised, or the symbol */
    int stablecoin;              /* the entry ended in ":stablecoin" */
} dexter_token;

typedef struct dexter_token_map {
    dexter_token *tokens;
    size_t count;
} dexter_token_map;

/* The map used when plugins.ini sets no `tokens`. */
extern const char dexter_default_tokens[];

/* Adds "SYM:provider-id[:alias...][:stablecoin]" entries separated by commas to map; an
 * entry for a symbol already present replaces it. On a malformed entry
 * returns -1 with a one-line reason naming the entry; the map keeps what it
 * had. */
int dexter_token_map_add(dexter_token_map *map, const char *spec, char *err, size_t err_length);
void dexter_token_map_free(dexter_token_map *map);
/* word: a symbol, "$symbol", provider id or alias; case-insensitive. */
const dexter_token *dexter_token_lookup(const dexter_token_map *map, const char *word);

/* Lower-cases at most out_length - 1 bytes of text into out (ASCII only). */
void dexter_copy_lower(char *out, size_t out_length, const char *text, size_t length);

#endif
