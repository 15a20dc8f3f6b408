/* The built-in list is the fallback for a bot without the sentiment plugin
 * (which provides token.registry): the large caps and the chat favourites. */
#include "grok_tokens.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jarvis/plugin.h>

struct known_token {
    const char *symbol;
    const char *names[3];
};

static const struct known_token BUILT_IN[] = {
    {"BTC", {"bitcoin", NULL}},      {"ETH", {"ethereum", "ether"}},    {"SOL", {"solana", NULL}},
    {"BNB", {"binance coin", NULL}}, {"XRP", {"ripple", NULL}},         {"ADA", {"cardano", NULL}},
    {"DOGE", {"dogecoin", NULL}},    {"AVAX", {"avalanche", NULL}},     {"DOT", {"polkadot", NULL}},
    {"LINK", {"chainlink", NULL}},   {"POL", {"polygon", "matic"}},     {"TRX", {"tron", NULL}},
    {"LTC", {"litecoin", NULL}},     {"SHIB", {"shiba inu", "shiba"}},  {"PEPE", {"pepe", NULL}},
    {"BONK", {"bonk", NULL}},        {"WIF", {"dogwifhat", NULL}},      {"TON", {"toncoin", NULL}},
    {"SUI", {"sui", NULL}},          {"APT", {"aptos", NULL}},          {"ARB", {"arbitrum", NULL}},
    {"OP", {"optimism", NULL}},      {"NEAR", {"near protocol", NULL}}, {"ATOM", {"cosmos", NULL}},
    {"UNI", {"uniswap", NULL}},      {"JUP", {"jupiter", NULL}},        {"USDT", {"tether", NULL}},
    {"USDC", {"usd coin", NULL}},
};

static int from_registry(const jv_token_registry_api *registry, const char *text, char *out,
                         size_t out_length)
{
    if (registry == NULL ||
        registry->struct_size < offsetof(jv_token_registry_api, lookup) + sizeof registry->lookup ||
        registry->lookup == NULL)
        return -1; /* no usable registry: fall back */
    jv_token_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (registry->lookup(registry->context, text, &info, NULL) != JV_OK)
        return 0;
    info.symbol[sizeof info.symbol - 1] = '\0';
    if (info.symbol[0] == '\0' || strlen(info.symbol) >= out_length)
        return 0;
    snprintf(out, out_length, "%s", info.symbol);
    return 1;
}

static int from_built_in(const char *text, char *out, size_t out_length)
{
    const char *word = text[0] == '$' ? text + 1 : text;
    for (size_t i = 0; i < sizeof BUILT_IN / sizeof BUILT_IN[0]; i++) {
        const struct known_token *token = &BUILT_IN[i];
        int match = strcasecmp(word, token->symbol) == 0;
        for (size_t n = 0; !match && n < 3 && token->names[n] != NULL; n++)
            match = text[0] != '$' && strcasecmp(word, token->names[n]) == 0;
        if (match && strlen(token->symbol) < out_length) {
            snprintf(out, out_length, "%s", token->symbol);
            return 1;
        }
    }
    return 0;
}

int grok_token_resolve(const jv_token_registry_api *registry, const char *text, char *out,
                       size_t out_length)
{
    if (text == NULL || out == NULL || out_length == 0)
        return 0;
    while (isspace((unsigned char)*text))
        text++;
    if (*text == '\0' || strlen(text) > 48)
        return 0;
    int found = from_registry(registry, text, out, out_length);
    return found >= 0 ? found : from_built_in(text, out, out_length);
}
