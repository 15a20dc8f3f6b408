/* The crypto symbol table ("SOL:solana, BTC:bitcoin, ...") and finding token
 * mentions in chat text. The rule, chosen to avoid ordinary words:
 *   $sol / $SOL   a cashtag matches in any case;
 *   SOL           a bare symbol matches only written in upper case, so the
 *                 Spanish "sol" or "eth" in a word never count;
 *   solana        a name matches as a whole word in any case. */
#ifndef SENTIMENT_TOKENS_H
#define SENTIMENT_TOKENS_H

#include <stddef.h>

#define SENTIMENT_MAX_TOKENS 64
#define SENTIMENT_MAX_TOKEN_NAMES 4
#define SENTIMENT_SYMBOL_MAX 16 /* with NUL */
#define SENTIMENT_NAME_MAX 32   /* with NUL */

/* The fallback when no token.registry is loaded: the registry's built-in
 * symbols (a unit test compares them). JUP, WIF and BONK go without names:
 * "jupiter" or "bonk" in chat is as often the planet or the verb. */
#define SENTIMENT_DEFAULT_TOKENS                                                                   \
    "SOL:solana, BTC:bitcoin, ETH:ethereum:ether, BNB, XRP:ripple, ADA:cardano, "                  \
    "DOGE:dogecoin, AVAX:avalanche, DOT:polkadot, LINK:chainlink, BONK, JUP, WIF, PEPE, "          \
    "LTC:litecoin, SHIB, TRX, USDC, USDT:tether"

typedef struct sentiment_token {
    char symbol[SENTIMENT_SYMBOL_MAX];                         /* upper case: [A-Z0-9]{1,15} */
    char names[SENTIMENT_MAX_TOKEN_NAMES][SENTIMENT_NAME_MAX]; /* lower case */
    size_t name_count;
} sentiment_token;

typedef struct sentiment_token_table {
    sentiment_token tokens[SENTIMENT_MAX_TOKENS];
    size_t count;
} sentiment_token_table;

/* Parses "SYM[:name[:name...]], ..." (symbols any case, stored upper case).
 * 0, or -1 with a one-line reason naming the entry in error. */
int sentiment_tokens_parse(const char *spec, sentiment_token_table *table, char *error,
                           size_t error_size);

/* Appends every token.registry token the table lacks, with those of its
 * aliases that are plain words not used by another token (at most
 * SENTIMENT_MAX_TOKEN_NAMES). Returns how many were added. */
struct jv_token_registry_api;
size_t sentiment_tokens_add_registry(sentiment_token_table *table,
                                     const struct jv_token_registry_api *registry);

/* Marks found[i] = 1 for each token text mentions (by the rule above);
 * returns how many distinct tokens were found. found has table->count slots. */
size_t sentiment_tokens_mentioned(const sentiment_token_table *table, const char *text,
                                  unsigned char *found);

/* Resolves a command argument: a symbol or name in any case, or a cashtag.
 * The token's index, or -1 when it is not one of ours. */
int sentiment_tokens_lookup(const sentiment_token_table *table, const char *argument);

#endif
