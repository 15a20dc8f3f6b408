/* Service "token.registry": the one list of crypto tokens every plugin knows
 * (symbol, display name, aliases, cashtag, provider ids), so a token known to
 * one plugin is known to all. Provided by the sentiment plugin: a built-in
 * default plus the tokens added in plugins.ini. Consumers must cope with its
 * absence (fall back to their own built-in list). Inputs are borrowed, outputs
 * go into caller-provided structs. Thread-safe; the list is fixed after init. */
#ifndef JARVIS_SVC_TOKEN_REGISTRY_H
#define JARVIS_SVC_TOKEN_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#define JV_SVC_TOKEN_REGISTRY "token.registry"
#define JV_SVC_TOKEN_REGISTRY_VERSION 1

#define JV_TOKEN_SYMBOL_MAX 16      /* with NUL: [A-Z0-9]{1,15}, at least one letter */
#define JV_TOKEN_NAME_MAX 48        /* with NUL */
#define JV_TOKEN_PROVIDER_ID_MAX 64 /* with NUL */
#define JV_TOKEN_MAX_ALIASES 6

/* How a lookup matched; a consumer decides what it trusts. Chat detection,
 * for instance, takes a bare symbol only written in upper case, while a
 * question addressed to the bot may write "link" or "sol". */
typedef enum jv_token_match {
    JV_TOKEN_MATCH_SYMBOL = 1,     /* "SOL", "sol": the symbol in any case */
    JV_TOKEN_MATCH_CASHTAG = 2,    /* "$SOL", "$sol" */
    JV_TOKEN_MATCH_NAME = 3,       /* "Solana", "solana": the display name */
    JV_TOKEN_MATCH_ALIAS = 4,      /* "ether" for ETH */
    JV_TOKEN_MATCH_PROVIDER_ID = 5 /* "jupiter-exchange-solana" */
} jv_token_match;

/* One token. The caller sets struct_size = sizeof(jv_token_info) before the
 * call; the provider fills what fits and never writes past struct_size.
 * Strings are NUL-terminated; an unknown field is "". */
typedef struct jv_token_info {
    size_t struct_size;
    char symbol[JV_TOKEN_SYMBOL_MAX];            /* upper case: "SOL"; its cashtag is "$SOL" */
    char name[JV_TOKEN_NAME_MAX];                /* display name: "Solana" */
    char coingecko_id[JV_TOKEN_PROVIDER_ID_MAX]; /* CoinGecko API id: "solana" */
    size_t alias_count;
    char aliases[JV_TOKEN_MAX_ALIASES][JV_TOKEN_NAME_MAX]; /* lower case words */
    int stablecoin; /* 1: pegged to the US dollar (prices read to 4 digits) */
} jv_token_info;

typedef struct jv_token_registry_api {
    size_t struct_size;
    /* Passed back as the first argument of every function below. */
    const void *context;
    /* Resolves a symbol, cashtag, name, alias or provider id, any case, with
     * surrounding spaces ignored. JV_OK and *info filled (*matched_by too when
     * not NULL), JV_E_NOTFOUND when it is none of ours, JV_E_INVAL for NULL
     * arguments, JV_E_ABI when info->struct_size is too small. */
    int (*lookup)(const void *context, const char *text, jv_token_info *info,
                  jv_token_match *matched_by);
    /* The number of tokens; indexes 0 .. count-1 are stable until unload. */
    size_t (*count)(const void *context);
    /* The token at index, in configuration order. JV_E_NOTFOUND past the end. */
    int (*at)(const void *context, size_t index, jv_token_info *info);
    /* The closest token to a near miss ("ETHH", "solanna", "$BTCC"): the
     * smallest edit distance to a symbol, name or alias, at most 1, or 2 when
     * both words have 6 characters or more; text of 3 characters at least.
     * JV_OK and *info filled, or
     * JV_E_NOTFOUND when nothing is that close (or text is a token itself:
     * use lookup first). */
    int (*suggest)(const void *context, const char *text, jv_token_info *info);
} jv_token_registry_api;

#endif
