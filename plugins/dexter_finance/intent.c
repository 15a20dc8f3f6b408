/* Question parsing for dexter_finance: splits the text into words, finds the
 * tokens it names, the period and the cue words, and picks one intent. The
 * rules are deliberately simple and listed in docs/dexter_finance.md. */
#include "intent.h"

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

#define WORD_MAX 48
#define WORDS_MAX 64

typedef struct word {
    char lower[WORD_MAX];
    char original[WORD_MAX];
    int cashtag;
} word;

typedef struct word_list {
    word items[WORDS_MAX];
    int count;
    int question_mark;
} word_list;

static int in_list(const char *text, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(text, list[i]) == 0)
            return 1;
    return 0;
}

static void copy_lower(char *out, size_t out_length, const char *text, size_t length)
{
    size_t n = length < out_length - 1 ? length : out_length - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)text[i]);
    out[n] = '\0';
}

/* ---- the token map ---------------------------------------------------- */

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
    copy_lower(token->provider_id, sizeof token->provider_id, provider, strlen(provider));
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
        copy_lower(token->aliases[token->alias_count], DEXTER_ALIAS_MAX, alias, strlen(alias));
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
    copy_lower(lower, sizeof lower, word_text, strlen(word_text));
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

/* ---- splitting the text ----------------------------------------------- */

static int is_word_byte(unsigned char c)
{
    return isalnum(c) || c == '\'';
}

static void add_word(word_list *words, const char *start, size_t length, int cashtag)
{
    if (words->count == WORDS_MAX || length == 0)
        return;
    word *item = &words->items[words->count];
    size_t n = 0;
    for (size_t i = 0; i < length && n < WORD_MAX - 1; i++) {
        if (start[i] == '\'') /* "what's" -> "whats" */
            continue;
        item->original[n++] = start[i];
    }
    item->original[n] = '\0';
    if (n == 0)
        return;
    copy_lower(item->lower, sizeof item->lower, item->original, n);
    item->cashtag = cashtag;
    words->count++;
}

static void split_words(const char *text, word_list *words)
{
    memset(words, 0, sizeof *words);
    const char *p = text;
    while (*p) {
        unsigned char c = (unsigned char)*p;
        if (c == '?')
            words->question_mark = 1;
        if (c == '@') { /* a mention of the bot or a user ("@jarvis_bot"), not a token */
            p++;
            while (*p && (is_word_byte((unsigned char)*p) || *p == '_'))
                p++;
            continue;
        }
        int cashtag = 0;
        if (c == '$' && isalpha((unsigned char)p[1])) {
            cashtag = 1;
            p++;
        } else if (!is_word_byte(c)) {
            p++;
            continue;
        }
        const char *start = p;
        while (*p && is_word_byte((unsigned char)*p))
            p++;
        add_word(words, start, (size_t)(p - start), cashtag);
    }
}

/* ---- cue words -------------------------------------------------------- */

static const char *const outlook_cues[] = {
    "bullish", "bearish", "bull", "bear", "outlook", "buy", "sell", "worried", "worry",
    "worrying", "concerned", "scared", "safe", "risky", "pump", "pumping", "dump", "dumping",
    "moon", "mooning", "hold", "hodl", "sentiment", "trend", "trending", "momentum", "rally",
    "crash", "crashing", "forecast", "predict", "prediction", "signal", "verdict", "look",
    "looking", "heading", "going", "think", "opinion", NULL};

static const char *const price_cues[] = {"price", "prices", "cost", "costs", "worth", "quote",
                                         "value", "much", "trading", NULL};

static const char *const change_cues[] = {
    "perform", "performed", "performing", "performance", "change", "changed", "gain",
    "gained", "gains", "lost", "moved", "move", "return", "returns", "up", "down", NULL};

/* A first word that makes a question even without a '?'. */
static const char *const interrogatives[] = {
    "what", "whats", "how", "hows", "why", "when", "where", "which", "who", "is", "isnt", "are",
    "arent", "was", "were", "do", "does", "did", "should", "shall", "can", "could", "will",
    "would", "has", "have", "wen", NULL};

/* Only count as a change cue after "how": "how did ETH do". */
static const char *const how_verbs[] = {"did", "do", "does", "doing", "done", NULL};

static const char *const compare_cues[] = {"vs", "versus", "against", "compare", "compared",
                                           "comparison", NULL};

/* Capitalised words that are not token symbols. */
static const char *const not_symbols[] = {
    "i", "a", "usd", "usdt", "utc", "ath", "atl", "fud", "hodl", "rsi", "sma", "ema", "ok",
    "dca", "etf", "ai", "nft", "dex", "cex", "ta", "imo", "lol", "fomo", "gm", "us", "uk",
    "eu", "pls", "is", "the", "what", "how", "should", "will", "can", "it", "my", "vs", "or",
    "and", "now", "right", "today", "price", "of", "do", "did", "be", "me", "to", "in", "on",
    "at", "tldr", "asap", "btw", "wen", "ngmi", "wagmi", "dyor", "nfa", NULL};

/* Lower-case words that follow "of"/"about" without being token names. */
static const char *const not_names[] = {
    "the", "a", "an", "it", "this", "that", "my", "your", "our", "crypto", "market",
    "markets", "coin", "coins", "token", "tokens", "me", "you", "us", "them", "time", "today",
    "now", "course", "things", "everything", "anything", "money", "days", "day", "week",
    "month", "year", "last", "past", NULL};

/* ---- periods ---------------------------------------------------------- */

static int parse_number(const char *text, int *value)
{
    if (!isdigit((unsigned char)*text))
        return 0;
    char *end = NULL;
    long number = strtol(text, &end, 10);
    if (number < 1 || number > 100000)
        return 0;
    *value = (int)number;
    return (int)(end - text);
}

static int unit_days(const char *unit)
{
    static const char *const days[] = {"d", "day", "days", "daily", NULL};
    static const char *const weeks[] = {"w", "wk", "week", "weeks", "weekly", NULL};
    static const char *const months[] = {"mo", "month", "months", "monthly", NULL};
    static const char *const years[] = {"y", "yr", "year", "years", "yearly", NULL};
    if (in_list(unit, days))
        return 1;
    if (in_list(unit, weeks))
        return 7;
    if (in_list(unit, months))
        return 30;
    if (in_list(unit, years))
        return 365;
    return 0;
}

static int clamp_days(long days)
{
    if (days < 1)
        return 1;
    return days > DEXTER_MAX_PERIOD_DAYS ? DEXTER_MAX_PERIOD_DAYS : (int)days;
}

/* Reads a period at words[i]: "24h", "7d", "30 days", "week", "today".
 * Returns the number of words used (0: none) and sets *days. */
static int period_at(const word_list *words, int i, int *days)
{
    const char *text = words->items[i].lower;
    int number = 0;
    int digits = parse_number(text, &number);
    if (digits > 0) {
        const char *unit = text + digits;
        if (strcmp(unit, "h") == 0 || strcmp(unit, "hr") == 0 || strcmp(unit, "hrs") == 0 ||
            strcmp(unit, "hours") == 0) {
            *days = clamp_days((number + 23) / 24);
            return 1;
        }
        if (*unit != '\0') {
            int scale = unit_days(unit);
            if (scale == 0)
                return 0;
            *days = clamp_days((long)number * scale);
            return 1;
        }
        if (i + 1 < words->count) {
            const char *next = words->items[i + 1].lower;
            if (strcmp(next, "hours") == 0 || strcmp(next, "hour") == 0 ||
                strcmp(next, "h") == 0) {
                *days = clamp_days((number + 23) / 24);
                return 2;
            }
            int scale = unit_days(next);
            if (scale > 0) {
                *days = clamp_days((long)number * scale);
                return 2;
            }
        }
        return 0;
    }
    if (strcmp(text, "today") == 0 || strcmp(text, "day") == 0 || strcmp(text, "daily") == 0 ||
        strcmp(text, "yesterday") == 0 || strcmp(text, "overnight") == 0) {
        *days = 1;
        return 1;
    }
    if (strcmp(text, "week") == 0 || strcmp(text, "weekly") == 0) {
        *days = 7;
        return 1;
    }
    if (strcmp(text, "month") == 0 || strcmp(text, "monthly") == 0) {
        *days = 30;
        return 1;
    }
    if (strcmp(text, "year") == 0 || strcmp(text, "ytd") == 0) {
        *days = 365;
        return 1;
    }
    return 0;
}

/* ---- the parse -------------------------------------------------------- */

typedef struct findings {
    const dexter_token *tokens[2];
    int token_count;
    char unknown_cashtag[DEXTER_ALIAS_MAX];
    char unknown_candidate[DEXTER_ALIAS_MAX];
    int period_days;
    int period_explicit;
    int outlook, price, change, compare, how;
    int only_tokens_and_periods;
} findings;

static void note_token(findings *found, const dexter_token *token)
{
    for (int i = 0; i < found->token_count; i++)
        if (found->tokens[i] == token)
            return;
    if (found->token_count < 2)
        found->tokens[found->token_count++] = token;
}

static int looks_like_symbol(const word *item)
{
    size_t length = strlen(item->original);
    if (length < 2 || length > 10 || in_list(item->lower, not_symbols))
        return 0;
    int letters = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)item->original[i];
        if (islower(c))
            return 0;
        letters += isupper(c) ? 1 : 0;
    }
    return letters > 0;
}

static void note_unknown(char *slot, const char *text)
{
    if (slot[0] == '\0')
        snprintf(slot, DEXTER_ALIAS_MAX, "%s", text);
}

static int is_cue(const char *text)
{
    return in_list(text, outlook_cues) || in_list(text, price_cues) ||
           in_list(text, change_cues) || in_list(text, compare_cues);
}

static void scan(const word_list *words, const dexter_token_map *map, findings *found)
{
    memset(found, 0, sizeof *found);
    found->only_tokens_and_periods = words->count > 0;
    for (int i = 0; i < words->count; i++) {
        const word *item = &words->items[i];
        int days = 0;
        int used = period_at(words, i, &days);
        if (used > 0) {
            found->period_days = days;
            found->period_explicit = 1;
            i += used - 1;
            continue;
        }
        const dexter_token *token = dexter_token_lookup(map, item->lower);
        if (token) {
            note_token(found, token);
            continue;
        }
        found->only_tokens_and_periods = 0;
        if (item->cashtag) {
            note_unknown(found->unknown_cashtag, item->original);
            continue;
        }
        found->outlook |= in_list(item->lower, outlook_cues);
        found->price |= in_list(item->lower, price_cues);
        found->change |= in_list(item->lower, change_cues);
        found->compare |= in_list(item->lower, compare_cues);
        if (strcmp(item->lower, "how") == 0)
            found->how = 1;
        else if (found->how && in_list(item->lower, how_verbs))
            found->change = 1;
        if (looks_like_symbol(item) && !is_cue(item->lower))
            note_unknown(found->unknown_candidate, item->original);
        if ((strcmp(item->lower, "of") == 0 || strcmp(item->lower, "about") == 0) &&
            i + 1 < words->count) {
            const word *next = &words->items[i + 1];
            if (!next->cashtag && !dexter_token_lookup(map, next->lower) &&
                !in_list(next->lower, not_names) && !is_cue(next->lower) &&
                isalpha((unsigned char)next->lower[0]))
                note_unknown(found->unknown_candidate, next->original);
        }
    }
}

static dexter_intent_kind choose_kind(const findings *found)
{
    if (found->token_count >= 2)
        return DEXTER_INTENT_COMPARE;
    if (found->outlook)
        return DEXTER_INTENT_OUTLOOK;
    if (found->price)
        return found->period_explicit ? DEXTER_INTENT_CHANGE : DEXTER_INTENT_PRICE;
    if (found->change || found->period_explicit)
        return DEXTER_INTENT_CHANGE;
    return DEXTER_INTENT_OUTLOOK;
}

static int default_period(dexter_intent_kind kind)
{
    switch (kind) {
    case DEXTER_INTENT_COMPARE:
        return 7;
    case DEXTER_INTENT_OUTLOOK:
        return 30;
    default:
        return 1;
    }
}

dexter_parse_status dexter_parse_question(const char *text, const dexter_token_map *map,
                                          dexter_intent *intent)
{
    memset(intent, 0, sizeof *intent);
    if (!text || !map)
        return DEXTER_PARSE_NOT_FINANCE;
    word_list words;
    split_words(text, &words);
    findings found;
    scan(&words, map, &found);

    int cue = found.outlook || found.price || found.change || found.compare ||
              found.period_explicit;
    intent->is_question = words.question_mark ||
                          (words.count > 0 && in_list(words.items[0].lower, interrogatives));
    /* price and comparison words ask for data; "up", "down" or a period
     * next to an outlook word ("SOL is going up today") are an opinion */
    intent->is_request = found.only_tokens_and_periods || found.price || found.compare ||
                         ((found.change || found.period_explicit) && !found.outlook);
    if (found.unknown_cashtag[0]) {
        snprintf(intent->unknown, sizeof intent->unknown, "%s", found.unknown_cashtag);
        return DEXTER_PARSE_UNKNOWN_TOKEN;
    }
    if (found.token_count == 0 || (found.compare && found.token_count == 1 &&
                                   found.unknown_candidate[0])) {
        if (found.unknown_candidate[0] && (cue || words.question_mark)) {
            snprintf(intent->unknown, sizeof intent->unknown, "%s", found.unknown_candidate);
            return DEXTER_PARSE_UNKNOWN_TOKEN;
        }
        if (found.token_count == 0)
            return cue ? DEXTER_PARSE_NO_TOKEN : DEXTER_PARSE_NOT_FINANCE;
    }
    if (!cue && !words.question_mark && !found.only_tokens_and_periods)
        return DEXTER_PARSE_NOT_FINANCE;

    intent->kind = choose_kind(&found);
    intent->token_count = found.token_count;
    intent->tokens[0] = found.tokens[0];
    intent->tokens[1] = found.tokens[1];
    intent->period_explicit = found.period_explicit;
    intent->period_days =
        found.period_explicit ? found.period_days : default_period(intent->kind);
    return DEXTER_PARSE_OK;
}

void dexter_period_label(int period_days, char *out, size_t out_length)
{
    if (period_days == 1)
        snprintf(out, out_length, "24h");
    else
        snprintf(out, out_length, "%d days", period_days);
}
