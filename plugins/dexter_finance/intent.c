/* Question parsing for dexter_finance: splits the text into words, finds the
 * tokens it names, the period and the cue words, and picks one intent. The
 * rules are deliberately simple and listed in docs/dexter_finance.md. */
#include "intent.h"
#include "registry.h"
#include "token_map.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WORD_MAX 48
#define WORDS_MAX 64

typedef struct word {
    char lower[WORD_MAX];
    char original[WORD_MAX];
    char stem[WORD_MAX]; /* "btc" for "BTC's": a possessive without its 's */
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
    dexter_copy_lower(item->lower, sizeof item->lower, item->original, n);
    item->stem[0] = '\0';
    if (length > 2 && start[length - 2] == '\'' &&
        (start[length - 1] == 's' || start[length - 1] == 'S'))
        dexter_copy_lower(item->stem, sizeof item->stem, item->original, n - 1);
    item->cashtag = cashtag;
    words->count++;
}

/* U+2019 (’) as in "BTC’s" reads as an ASCII apostrophe. */
static void normalise_apostrophes(const char *text, char *out, size_t out_size)
{
    size_t n = 0;
    for (size_t i = 0; text[i] && n + 1 < out_size; i++) {
        if ((unsigned char)text[i] == 0xE2 && (unsigned char)text[i + 1] == 0x80 &&
            (unsigned char)text[i + 2] == 0x99) {
            out[n++] = '\'';
            i += 2;
            continue;
        }
        out[n++] = text[i];
    }
    out[n] = '\0';
}

static void split_words(const char *original, word_list *words)
{
    memset(words, 0, sizeof *words);
    char text[2048];
    normalise_apostrophes(original, text, sizeof text);
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
    "bullish",  "bearish",  "bull",      "bear",    "outlook",  "buy",      "sell",      "worried",
    "worry",    "worrying", "concerned", "scared",  "safe",     "risky",    "pump",      "pumping",
    "dump",     "dumping",  "moon",      "mooning", "hold",     "hodl",     "sentiment", "trend",
    "trending", "momentum", "rally",     "crash",   "crashing", "signal",   "verdict",   "look",
    "looking",  "heading",  "going",     "think",   "opinion",  "thoughts", "views",     "view",
    "overview", "analysis", "analyse",   "analyze", NULL};

/* Outlook words that ask for one ("SOL outlook", "predict doge"), where
 * "bullish" or "pump" alone state an opinion. */
static const char *const outlook_requests[] = {
    "outlook", "opinion", "thoughts", "take",     "views",      "overview", "analysis",  "analyse",
    "analyze", "verdict", "predict",  "forecast", "prediction", "target",   "sentiment", NULL};

/* Outlook words only next to a token: "is doge ok", not "good morning". */
static const char *const weak_outlook_cues[] = {"ok",      "okay",    "fine", "good", "bad",
                                                "healthy", "alright", "tell", "take", NULL};

/* The future: refused, with what the data does show. */
static const char *const forecast_cues[] = {
    "forecast", "forecasts", "predict", "prediction", "predictions", "target", "will",
    "gonna",    "tomorrow",  "next",    "future",     "reach",       NULL};

static const char *const price_cues[] = {"price", "prices", "cost",    "costs",  "worth", "quote",
                                         "value", "much",   "trading", "priced", NULL};

static const char *const change_cues[] = {
    "perform", "performed", "performing", "performance", "change", "changed", "gain", "gained",
    "gains",   "lost",      "moved",      "move",        "return", "returns", "up",   "down",
    "dropped", "drop",      "rose",       "fell",        "been",   NULL};

static const char *const volume_cues[] = {"volume", "volumes", "turnover", "traded", NULL};
static const char *const cap_cues[] = {"mcap",           "marketcap", "capitalisation",
                                       "capitalization", "valuation", NULL};
static const char *const high_cues[] = {"high", "highest", "peak", "top", "max", "maximum", NULL};
static const char *const low_cues[] = {"low", "lowest", "bottom", "min", "minimum", NULL};
static const char *const ath_cues[] = {"ath", "record", NULL};

/* A first word that makes a question even without a '?'. */
static const char *const interrogatives[] = {
    "what",   "whats", "how",  "hows",  "why",      "when",    "where", "which", "who",
    "is",     "isnt",  "are",  "arent", "was",      "were",    "do",    "does",  "did",
    "should", "shall", "can",  "could", "will",     "would",   "has",   "have",  "wen",
    "tell",   "show",  "give", "any",   "thoughts", "compare", NULL};

/* Opening words that carry no meaning for the question: greetings, fillers. */
static const char *const openers[] = {
    "hi",   "hey",    "hello", "yo",       "gm",   "morning", "evening", "ok",
    "okay", "so",     "um",    "uh",       "well", "jarvis",  "bot",     "please",
    "pls",  "plz",    "quick", "question", "btw",  "also",    "hmm",     "sup",
    "oh",   "dexter", "mate",  "guys",     "and",  "but",     NULL};

/* Only count as a change cue after "how": "how did ETH do". */
static const char *const how_verbs[] = {"did", "do", "does", "doing", "done", NULL};

static const char *const compare_cues[] = {"vs",           "versus",     "against", "compare",
                                           "compared",     "comparison", "better",  "outperform",
                                           "outperformed", NULL};

/* Words that refer back to the token asked about last. */
static const char *const pronouns[] = {"it", "its", "that", "this", "them", "same", NULL};

/* Currencies people ask for; prices here are in USD. */
static const char *const currencies[] = {"eur",  "euro", "euros", "gbp", "pound", "pounds", "jpy",
                                         "yen",  "chf",  "cad",   "aud", "inr",   "rupees", "cny",
                                         "yuan", "krw",  "won",   "brl", "try",   "rub",    NULL};
static const char *const currency_codes[] = {"eur", "eur", "eur", "gbp", "gbp", "gbp", "jpy",
                                             "jpy", "chf", "cad", "aud", "inr", "inr", "cny",
                                             "cny", "krw", "krw", "brl", "try", "rub", NULL};

/* Capitalised words that are not token symbols. */
static const char *const not_symbols[] = {
    "i",    "a",   "usd",  "usdt",  "utc",  "ath", "atl", "fud", "hodl",  "rsi",   "sma",
    "ema",  "ok",  "dca",  "etf",   "ai",   "nft", "dex", "cex", "ta",    "imo",   "lol",
    "fomo", "gm",  "us",   "uk",    "eu",   "pls", "is",  "the", "what",  "how",   "should",
    "will", "can", "it",   "my",    "vs",   "or",  "and", "now", "right", "today", "price",
    "of",   "do",  "did",  "be",    "me",   "to",  "in",  "on",  "at",    "tldr",  "asap",
    "btw",  "wen", "ngmi", "wagmi", "dyor", "nfa", "eur", "gbp", "jpy",   "ytd",   "mtd",
    "api",  "ceo", "sec",  "fed",   "cpi",  "gdp", NULL};

/* Lower-case symbols that are also everyday words: a token only when
 * written in capitals, as a cashtag, or when nothing else is named. */
static const char *const word_like_symbols[] = {"link", "dot",  "ada", "sol", "wif",
                                                "jup",  "bonk", "sui", "trx", NULL};

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

static int unit_hours(const char *unit)
{
    static const char *const hours[] = {"h", "hr", "hrs", "hour", "hours", "hourly", NULL};
    static const char *const days[] = {"d", "day", "days", "daily", NULL};
    static const char *const weeks[] = {"w", "wk", "wks", "week", "weeks", "weekly", NULL};
    static const char *const months[] = {"m", "mo", "mos", "month", "months", "monthly", NULL};
    static const char *const years[] = {"y", "yr", "yrs", "year", "years", "yearly", NULL};
    if (in_list(unit, hours))
        return 1;
    if (in_list(unit, days))
        return 24;
    if (in_list(unit, weeks))
        return 24 * 7;
    if (in_list(unit, months))
        return 24 * 30;
    if (in_list(unit, years))
        return 24 * 365;
    return 0;
}

typedef struct period {
    long hours;
    int ytd;
    const char *note; /* how a calendar word was read */
} period;

/* "this month", "this week": calendar words read as rolling windows. */
static int calendar_period(const char *text, const char *previous, period *out)
{
    int this_one = previous && (strcmp(previous, "this") == 0 || strcmp(previous, "the") == 0 ||
                                strcmp(previous, "past") == 0 || strcmp(previous, "last") == 0);
    if (strcmp(text, "today") == 0 || strcmp(text, "yesterday") == 0 ||
        strcmp(text, "overnight") == 0 || strcmp(text, "daily") == 0 ||
        (this_one && strcmp(text, "day") == 0)) {
        out->hours = 24;
        out->note = strcmp(text, "today") == 0 ? "today read as the last 24 hours" : NULL;
        return 1;
    }
    if (strcmp(text, "week") == 0 || strcmp(text, "weekly") == 0) {
        out->hours = 24 * 7;
        out->note =
            previous && strcmp(previous, "this") == 0 ? "this week read as the last 7 days" : NULL;
        return 1;
    }
    if (strcmp(text, "month") == 0 || strcmp(text, "monthly") == 0) {
        out->hours = 24 * 30;
        out->note = previous && strcmp(previous, "this") == 0
                        ? "this month read as the last 30 days"
                        : NULL;
        return 1;
    }
    if (strcmp(text, "year") == 0) {
        out->hours = 24 * 365;
        return 1;
    }
    if (strcmp(text, "ytd") == 0) {
        out->hours = 24 * 365;
        out->ytd = 1;
        return 1;
    }
    return 0;
}

/* Reads a period at words[i]: "24h", "7d", "30 days", "6 hours", "week".
 * Returns the number of words used (0: none). */
static int period_at(const word_list *words, int i, period *out)
{
    memset(out, 0, sizeof *out);
    const char *text = words->items[i].lower;
    const char *previous = i > 0 ? words->items[i - 1].lower : NULL;
    int number = 0;
    int digits = parse_number(text, &number);
    if (digits > 0) {
        const char *unit = text + digits;
        if (*unit != '\0') {
            int scale = unit_hours(unit);
            if (scale == 0)
                return 0;
            out->hours = (long)number * scale;
            return 1;
        }
        if (i + 1 < words->count) {
            int scale = unit_hours(words->items[i + 1].lower);
            if (scale > 0) {
                out->hours = (long)number * scale;
                return 2;
            }
        }
        return 0;
    }
    /* "a week", "one month", "past hour" */
    if (i + 1 < words->count && (strcmp(text, "a") == 0 || strcmp(text, "one") == 0 ||
                                 strcmp(text, "past") == 0 || strcmp(text, "last") == 0)) {
        int scale = unit_hours(words->items[i + 1].lower);
        if (scale == 1 || scale == 24) {
            out->hours = scale;
            return 2;
        }
    }
    return calendar_period(text, previous, out);
}

/* ---- the parse -------------------------------------------------------- */

typedef struct findings {
    const dexter_token *tokens[DEXTER_MAX_TOKENS];
    int token_count;
    const dexter_token *word_like; /* "link" in lower case, held back */
    char unknown_cashtag[DEXTER_ALIAS_MAX];
    char unknown_candidate[DEXTER_ALIAS_MAX];
    const dexter_token *suggestion;
    period when;
    int period_explicit;
    int outlook_request;
    int outlook, weak_outlook, price, change, compare, how, forecast, volume, cap, high, low, ath;
    char unknown_caps[DEXTER_ALIAS_MAX]; /* "FOO" in "SOL vs FOO": a token slot */
    int follow_up, refers_back, about;
    char currency[8];
    int only_tokens_and_periods;
} findings;

static void note_token(findings *found, const dexter_token *token)
{
    for (int i = 0; i < found->token_count; i++)
        if (found->tokens[i] == token)
            return;
    if (found->token_count < DEXTER_MAX_TOKENS)
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

static int is_cue(const char *text)
{
    return in_list(text, outlook_cues) || in_list(text, price_cues) || in_list(text, change_cues) ||
           in_list(text, compare_cues) || in_list(text, volume_cues) || in_list(text, high_cues) ||
           in_list(text, low_cues);
}

static int next_is(const word_list *words, int i, const char *text)
{
    return i + 1 < words->count && strcmp(words->items[i + 1].lower, text) == 0;
}

static int previous_is(const word_list *words, int i, const char *text)
{
    return i > 0 && strcmp(words->items[i - 1].lower, text) == 0;
}

/* Multi-word cues: "market cap", "all time high", "what about", "tell me about". */
static void phrase_cues(const word_list *words, int i, findings *found)
{
    const char *text = words->items[i].lower;
    if (strcmp(text, "market") == 0 &&
        (next_is(words, i, "cap") || next_is(words, i, "caps") ||
         next_is(words, i, "capitalisation") || next_is(words, i, "capitalization")))
        found->cap = 1;
    if (strcmp(text, "all") == 0 && next_is(words, i, "time"))
        found->ath = 1;
    if (strcmp(text, "alltime") == 0)
        found->ath = 1;
    if ((strcmp(text, "about") == 0 || strcmp(text, "on") == 0 || strcmp(text, "of") == 0) &&
        (previous_is(words, i, "thoughts") || previous_is(words, i, "me") ||
         previous_is(words, i, "opinion") || previous_is(words, i, "take") ||
         previous_is(words, i, "views") || previous_is(words, i, "think")))
        found->outlook = 1;
    if (strcmp(text, "about") == 0 &&
        (previous_is(words, i, "what") || previous_is(words, i, "how")))
        found->about = 1;
}

static int read_currency(const word_list *words, int i, findings *found)
{
    const char *text = words->items[i].lower;
    for (size_t c = 0; currencies[c]; c++) {
        if (strcmp(text, currencies[c]) != 0)
            continue;
        /* "in eur", "eur price", "price in euros": a currency; "won" alone is a verb */
        if (strcmp(text, "won") == 0 || strcmp(text, "try") == 0 || strcmp(text, "pound") == 0) {
            if (!previous_is(words, i, "in"))
                return 0;
        }
        snprintf(found->currency, sizeof found->currency, "%s", currency_codes[c]);
        return 1;
    }
    return 0;
}

static const dexter_token *lookup_word(const dexter_token_map *map, const word *item,
                                       findings *found)
{
    const dexter_token *token = dexter_token_lookup(map, item->lower);
    if (!token && item->stem[0])
        token = dexter_token_lookup(map, item->stem);
    if (!token)
        return NULL;
    /* "link" or "dot" in lower case: an everyday word unless nothing else fits */
    if (!item->cashtag && in_list(item->lower, word_like_symbols) &&
        strcasecmp(item->original, token->symbol) != 0 &&
        strcmp(item->lower, token->aliases[0]) != 0) {
        if (!found->word_like)
            found->word_like = token;
        return NULL;
    }
    return token;
}

static void scan_cues(const word *item, findings *found)
{
    found->outlook |= in_list(item->lower, outlook_cues);
    found->weak_outlook |= in_list(item->lower, weak_outlook_cues);
    found->outlook_request |= in_list(item->lower, outlook_requests);
    found->price |= in_list(item->lower, price_cues);
    found->change |= in_list(item->lower, change_cues);
    found->compare |= in_list(item->lower, compare_cues);
    found->volume |= in_list(item->lower, volume_cues);
    found->cap |= in_list(item->lower, cap_cues);
    found->high |= in_list(item->lower, high_cues);
    found->low |= in_list(item->lower, low_cues);
    found->ath |= in_list(item->lower, ath_cues);
    found->refers_back |= in_list(item->lower, pronouns);
    found->forecast |= in_list(item->lower, forecast_cues);
    if (strcmp(item->lower, "how") == 0)
        found->how = 1;
    else if (found->how && in_list(item->lower, how_verbs))
        found->change = 1;
}

static void scan(const word_list *words, int first, const dexter_token_map *map, findings *found)
{
    memset(found, 0, sizeof *found);
    found->only_tokens_and_periods = words->count > first;
    for (int i = first; i < words->count; i++) {
        const word *item = &words->items[i];
        period when;
        int used = period_at(words, i, &when);
        if (used > 0) {
            found->when = when;
            found->period_explicit = 1;
            i += used - 1;
            continue;
        }
        const dexter_token *token = lookup_word(map, item, found);
        if (token) {
            note_token(found, token);
            continue;
        }
        if (read_currency(words, i, found))
            continue;
        if (strcmp(item->lower, "and") != 0 && strcmp(item->lower, "or") != 0 &&
            strcmp(item->lower, "over") != 0 && strcmp(item->lower, "the") != 0 &&
            strcmp(item->lower, "last") != 0 && strcmp(item->lower, "past") != 0 &&
            strcmp(item->lower, "this") != 0 && strcmp(item->lower, "in") != 0)
            found->only_tokens_and_periods = 0;
        if (item->cashtag) {
            if (found->unknown_cashtag[0] == '\0')
                snprintf(found->unknown_cashtag, DEXTER_ALIAS_MAX, "%s", item->original);
            continue;
        }
        scan_cues(item, found);
        phrase_cues(words, i, found);
        if (found->unknown_caps[0] == '\0' && looks_like_symbol(item) && !is_cue(item->lower))
            snprintf(found->unknown_caps, DEXTER_ALIAS_MAX, "%s", item->original);
        /* an unknown capitalised word is a token only as a near miss of one */
        if (found->unknown_candidate[0] == '\0' && !is_cue(item->lower) &&
            (looks_like_symbol(item) || strlen(item->lower) >= 5)) {
            const dexter_token *near = dexter_registry_suggest(map, item->lower);
            if (near) {
                snprintf(found->unknown_candidate, DEXTER_ALIAS_MAX, "%s", item->original);
                found->suggestion = near;
            }
        }
    }
    if (found->token_count == 0 && found->word_like)
        note_token(found, found->word_like);
}

static dexter_intent_kind choose_kind(const findings *found, int *explicit_kind)
{
    *explicit_kind = 1;
    if (found->token_count >= 2 && !found->volume && !found->cap && !found->high && !found->low &&
        !found->ath)
        return DEXTER_INTENT_COMPARE;
    if (found->ath)
        return DEXTER_INTENT_ATH;
    if (found->cap)
        return DEXTER_INTENT_MARKET_CAP;
    if (found->volume)
        return DEXTER_INTENT_VOLUME;
    if (found->high && !found->low)
        return DEXTER_INTENT_HIGH;
    if (found->low && !found->high)
        return DEXTER_INTENT_LOW;
    if (found->outlook || found->forecast || found->weak_outlook)
        return DEXTER_INTENT_OUTLOOK;
    if (found->price)
        return found->period_explicit ? DEXTER_INTENT_CHANGE : DEXTER_INTENT_PRICE;
    if (found->change || found->period_explicit)
        return DEXTER_INTENT_CHANGE;
    *explicit_kind = 0;
    return DEXTER_INTENT_OUTLOOK;
}

static int default_hours(dexter_intent_kind kind)
{
    switch (kind) {
        case DEXTER_INTENT_COMPARE: return 24 * 7;
        case DEXTER_INTENT_OUTLOOK:
        case DEXTER_INTENT_HIGH:
        case DEXTER_INTENT_LOW: return 24 * 30;
        case DEXTER_INTENT_ATH: return 24 * DEXTER_MAX_PERIOD_DAYS;
        default: return 24;
    }
}

/* Skips greetings and fillers at the start: "hi, is doge ok" asks "is doge ok". */
static int first_meaningful(const word_list *words, const dexter_token_map *map)
{
    int i = 0;
    while (i < words->count && in_list(words->items[i].lower, openers) &&
           !dexter_token_lookup(map, words->items[i].lower))
        i++;
    return i < words->count ? i : 0;
}

/* "what a great day for SOL": an exclamation, not a question. */
static int exclamation(const word_list *words, int first)
{
    if (first + 1 >= words->count)
        return 0;
    const char *opener = words->items[first].lower;
    const char *next = words->items[first + 1].lower;
    return (strcmp(opener, "what") == 0 && (strcmp(next, "a") == 0 || strcmp(next, "an") == 0)) ||
           (strcmp(opener, "how") == 0 &&
            (strcmp(next, "good") == 0 || strcmp(next, "great") == 0 ||
             strcmp(next, "amazing") == 0 || strcmp(next, "awesome") == 0));
}

static void fill_period(const findings *found, dexter_intent *intent)
{
    long hours = found->period_explicit ? found->when.hours : default_hours(intent->kind);
    if (hours < 1)
        hours = 1;
    if (hours > 24L * DEXTER_MAX_PERIOD_DAYS)
        hours = 24L * DEXTER_MAX_PERIOD_DAYS;
    intent->period_hours = (int)hours;
    intent->period_days = (int)((hours + 23) / 24);
    intent->period_explicit = found->period_explicit;
    intent->period_ytd = found->period_explicit && found->when.ytd;
    if (found->period_explicit && found->when.note)
        snprintf(intent->period_note, sizeof intent->period_note, "%s", found->when.note);
}

static int is_follow_up(const word_list *words)
{
    if (words->count == 0)
        return 0;
    const char *opener = words->items[0].lower;
    if (strcmp(opener, "and") == 0 || strcmp(opener, "also") == 0 || strcmp(opener, "same") == 0)
        return 1;
    return words->count >= 2 &&
           (strcmp(opener, "what") == 0 || strcmp(opener, "how") == 0 ||
            strcmp(opener, "whats") == 0) &&
           strcmp(words->items[1].lower, "about") == 0;
}

dexter_parse_status dexter_parse_question(const char *text, const dexter_token_map *map,
                                          dexter_intent *intent)
{
    memset(intent, 0, sizeof *intent);
    if (!text || !map)
        return DEXTER_PARSE_NOT_FINANCE;
    word_list words;
    split_words(text, &words);
    int first = first_meaningful(&words, map);
    findings found;
    scan(&words, first, map, &found);

    int cue = found.outlook || found.price || found.change || found.compare || found.volume ||
              found.cap || found.high || found.low || found.ath || found.forecast ||
              found.period_explicit || found.about;
    intent->follow_up = is_follow_up(&words);
    intent->refers_back = found.refers_back;
    intent->forecast = found.forecast;
    snprintf(intent->currency, sizeof intent->currency, "%s", found.currency);
    intent->is_question =
        words.question_mark ||
        (words.count > first && in_list(words.items[first].lower, interrogatives) &&
         !exclamation(&words, first)) ||
        intent->follow_up;
    /* data words ask for data; "up", "down" or a period next to an outlook
     * word ("SOL is going up today") are an opinion */
    intent->is_request = found.only_tokens_and_periods || found.price || found.compare ||
                         found.outlook_request || found.volume || found.cap || found.high ||
                         found.low || found.ath ||
                         ((found.change || found.period_explicit) && !found.outlook);
    intent->kind = choose_kind(&found, &intent->kind_explicit);
    fill_period(&found, intent);
    /* "SOL vs FOO": the word beside a comparison is meant as a token */
    if (found.compare && found.token_count == 1 && !found.unknown_candidate[0] &&
        found.unknown_caps[0])
        snprintf(found.unknown_candidate, sizeof found.unknown_candidate, "%s", found.unknown_caps);
    if (found.unknown_cashtag[0] || (found.token_count <= 1 && found.unknown_candidate[0] &&
                                     (found.token_count == 0 || found.compare))) {
        snprintf(intent->unknown, sizeof intent->unknown, "%s",
                 found.unknown_cashtag[0] ? found.unknown_cashtag : found.unknown_candidate);
        intent->suggestion = found.unknown_cashtag[0]
                                 ? dexter_registry_suggest(map, found.unknown_cashtag)
                                 : found.suggestion;
        return DEXTER_PARSE_UNKNOWN_TOKEN;
    }
    if (found.token_count == 0)
        return cue || intent->follow_up || intent->refers_back ? DEXTER_PARSE_NO_TOKEN
                                                               : DEXTER_PARSE_NOT_FINANCE;
    if (!cue && !found.weak_outlook && !words.question_mark && !found.only_tokens_and_periods &&
        !intent->is_question)
        return DEXTER_PARSE_NOT_FINANCE;
    intent->token_count = found.token_count;
    for (int i = 0; i < found.token_count; i++)
        intent->tokens[i] = found.tokens[i];
    return DEXTER_PARSE_OK;
}

void dexter_period_label(int period_days, char *out, size_t out_length)
{
    if (period_days == 1)
        snprintf(out, out_length, "24h");
    else
        snprintf(out, out_length, "%d days", period_days);
}

void dexter_window_label(const dexter_intent *intent, char *out, size_t out_length)
{
    if (intent->period_ytd)
        snprintf(out, out_length, "the year to date");
    else if (intent->period_hours > 0 && intent->period_hours < 24)
        snprintf(out, out_length, "%dh", intent->period_hours);
    else
        dexter_period_label(intent->period_days, out, out_length);
}
