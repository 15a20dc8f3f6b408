/* Reading a plain-language finance question: which tokens it names (symbol,
 * $cashtag or name, through a configurable map to the data provider's ids),
 * what it asks (outlook, price, change over a period, comparison) and over
 * which period. Pure text work: no I/O, no host calls. */
#ifndef DEXTER_INTENT_H
#define DEXTER_INTENT_H

#include <stddef.h>

#include "token_map.h"

typedef enum dexter_intent_kind {
    DEXTER_INTENT_OUTLOOK,    /* "Is SOL bullish right now?", "thoughts on ETH" */
    DEXTER_INTENT_PRICE,      /* "what's the price of BTC?" */
    DEXTER_INTENT_CHANGE,     /* "how did ETH do this week?" */
    DEXTER_INTENT_COMPARE,    /* "SOL vs ETH vs BTC over 30 days" */
    DEXTER_INTENT_MARKET_CAP, /* "market cap of SOL" */
    DEXTER_INTENT_VOLUME,     /* "volume of SOL" */
    DEXTER_INTENT_HIGH,       /* "highest price of ETH this month" */
    DEXTER_INTENT_LOW,        /* "30-day low of BTC" */
    DEXTER_INTENT_ATH         /* "BTC all-time high" */
} dexter_intent_kind;

typedef enum dexter_parse_status {
    DEXTER_PARSE_OK,
    DEXTER_PARSE_NOT_FINANCE,  /* no finance words and no token: not for us */
    DEXTER_PARSE_NO_TOKEN,     /* sounds like finance, but names no token */
    DEXTER_PARSE_UNKNOWN_TOKEN /* a $cashtag or near miss not in the map */
} dexter_parse_status;

#define DEXTER_MAX_PERIOD_DAYS 365
#define DEXTER_MAX_TOKENS 5

typedef struct dexter_intent {
    dexter_intent_kind kind;
    int kind_explicit; /* a cue named the kind (a follow-up keeps the last one else) */
    int token_count;   /* 1, or 2.. for a comparison */
    const dexter_token *tokens[DEXTER_MAX_TOKENS]; /* borrowed from the map */
    int period_days;                /* 1 .. DEXTER_MAX_PERIOD_DAYS: the days of data needed */
    int period_hours;               /* the window: 6 for "6h", 24 * days otherwise */
    int period_explicit;            /* the question named the period */
    int period_ytd;                 /* "ytd": the answer counts the days itself */
    char period_note[80];           /* how a calendar window was read, "" when exact */
    int forecast;                   /* asks about the future: refused honestly */
    char currency[8];               /* asked for a currency other than USD: "eur" */
    int follow_up;                  /* "and ETH?", "what about it", "how about bonk" */
    int refers_back;                /* "it", "that one": the last token asked about */
    char unknown[DEXTER_ALIAS_MAX]; /* DEXTER_PARSE_UNKNOWN_TOKEN: the word */
    const dexter_token *suggestion; /* near miss of a known token, or NULL */
    /* How it was put, for plain (non-/ask) messages, where a statement such
     * as "SOL to the moon" is chat, not a question. Set for every status: */
    int is_question; /* has a '?' or opens (after greetings) with an interrogative */
    int is_request;  /* asks for data: a price, volume, cap, high/low or
                        comparison word, a change word or period without an
                        outlook word, or only tokens and periods ("ETH 30d") */
} dexter_intent;

dexter_parse_status dexter_parse_question(const char *text, const dexter_token_map *map,
                                          dexter_intent *intent);

/* "24h", "7 days", "30 days"... for answers. */
void dexter_period_label(int period_days, char *out, size_t out_length);
/* The same for an intent's window: "6h" when it is shorter than a day. */
void dexter_window_label(const dexter_intent *intent, char *out, size_t out_length);

#endif
