/* dexter_finance's reading of questions, by category: a table of phrasings
 * with the expected status, intent, tokens, window, currency and behaviour
 * (answered or left to the chat, forecast refused, approximation noted,
 * near-miss suggestion). Categories, not a lookup of examples: each holds
 * several wordings. The pass rate is printed; every row must pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dexter_finance/follow_up.h"
#include "dexter_finance/intent.h"

#define OK DEXTER_PARSE_OK
#define NOT_FIN DEXTER_PARSE_NOT_FINANCE
#define NO_TOKEN DEXTER_PARSE_NO_TOKEN
#define UNKNOWN DEXTER_PARSE_UNKNOWN_TOKEN
#define OUTLOOK DEXTER_INTENT_OUTLOOK
#define PRICE DEXTER_INTENT_PRICE
#define CHANGE DEXTER_INTENT_CHANGE
#define COMPARE DEXTER_INTENT_COMPARE
#define CAP DEXTER_INTENT_MARKET_CAP
#define VOLUME DEXTER_INTENT_VOLUME
#define HIGH DEXTER_INTENT_HIGH
#define LOW DEXTER_INTENT_LOW
#define ATH DEXTER_INTENT_ATH

/* behaviour flags */
#define ANSWERED 1  /* a plain message gets an answer (question or request) */
#define STATEMENT 2 /* a plain message is left to the chat and the watcher */
#define FORECAST 4  /* refused as a forecast */
#define NOTE 8      /* the window is an approximation and says so */
#define SUGGEST 16  /* a near miss gets "did you mean" */
#define FOLLOW 32   /* reads as a follow-up */

typedef struct phrasing {
    const char *text;
    dexter_parse_status status;
    dexter_intent_kind kind; /* OK only */
    const char *tokens;      /* symbols in order, space-separated; UNKNOWN: the word */
    int hours;               /* 0: not checked */
    const char *currency;    /* "" none */
    int flags;
} phrasing;

static const phrasing table[] = {
    /* outlook, many wordings */
    {"Is SOL bullish right now?", OK, OUTLOOK, "SOL", 720, "", ANSWERED},
    {"is eth bearish", OK, OUTLOOK, "ETH", 720, "", ANSWERED},
    {"should I sell my doge?", OK, OUTLOOK, "DOGE", 0, "", ANSWERED},
    {"Is bitcoin safe to hold?", OK, OUTLOOK, "BTC", 0, "", ANSWERED},
    {"what's the sentiment on $BONK", OK, OUTLOOK, "BONK", 0, "", ANSWERED},
    {"tell me about solana", OK, OUTLOOK, "SOL", 0, "", ANSWERED},
    {"Tell me about XRP", OK, OUTLOOK, "XRP", 0, "", ANSWERED},
    {"thoughts on ETH", OK, OUTLOOK, "ETH", 0, "", ANSWERED},
    {"any thoughts on cardano", OK, OUTLOOK, "ADA", 0, "", ANSWERED},
    {"your take on PEPE?", OK, OUTLOOK, "PEPE", 0, "", ANSWERED},
    {"opinion on avalanche", OK, OUTLOOK, "AVAX", 0, "", ANSWERED},
    {"what do you think of LTC", OK, OUTLOOK, "LTC", 0, "", ANSWERED},
    {"give me an overview of polkadot", OK, OUTLOOK, "DOT", 0, "", ANSWERED},
    {"SOL outlook", OK, OUTLOOK, "SOL", 0, "", ANSWERED},
    {"is it a good time to buy BTC?", OK, OUTLOOK, "BTC", 0, "", ANSWERED},
    {"How does tron look", OK, OUTLOOK, "TRX", 0, "", ANSWERED},
    {"ETH?", OK, OUTLOOK, "ETH", 0, "", ANSWERED},
    {"$WIF", OK, OUTLOOK, "WIF", 0, "", ANSWERED},
    {"is SHIB risky", OK, OUTLOOK, "SHIB", 0, "", ANSWERED},
    {"Is SOL bullish this week?", OK, OUTLOOK, "SOL", 168, "", ANSWERED | NOTE},
    /* greetings and fillers first */
    {"hi, is doge ok", OK, OUTLOOK, "DOGE", 0, "", ANSWERED},
    {"hey jarvis, how is BTC doing today", OK, CHANGE, "BTC", 24, "", ANSWERED | NOTE},
    {"gm! price of sol?", OK, PRICE, "SOL", 0, "", ANSWERED},
    {"hello bot what's the price of ethereum", OK, PRICE, "ETH", 0, "", ANSWERED},
    {"ok so is xrp bullish", OK, OUTLOOK, "XRP", 0, "", ANSWERED},
    {"yo quick question: should i hold $pepe", OK, OUTLOOK, "PEPE", 0, "", ANSWERED},
    {"um, how much is bitcoin", OK, PRICE, "BTC", 0, "", ANSWERED},
    {"please compare SOL and ETH", OK, COMPARE, "SOL ETH", 168, "", ANSWERED},
    {"hey, link price?", OK, PRICE, "LINK", 0, "", ANSWERED},
    /* possessives */
    {"how's BTC's week been", OK, CHANGE, "BTC", 168, "", ANSWERED},
    {"what's ETH's price", OK, PRICE, "ETH", 0, "", ANSWERED},
    {"SOL's market cap?", OK, CAP, "SOL", 0, "", ANSWERED},
    {"how has solana's month been", OK, CHANGE, "SOL", 720, "", ANSWERED},
    {"doge's volume today", OK, VOLUME, "DOGE", 0, "", ANSWERED},
    {"what is bitcoin\xe2\x80\x99s all time high", OK, ATH, "BTC", 0, "", ANSWERED},
    {"is XRP's trend bearish?", OK, OUTLOOK, "XRP", 0, "", ANSWERED},
    /* price */
    {"what's the price of BTC?", OK, PRICE, "BTC", 0, "", ANSWERED},
    {"price of btc", OK, PRICE, "BTC", 0, "", ANSWERED},
    {"How much is one ETH worth", OK, PRICE, "ETH", 0, "", ANSWERED},
    {"$SOL price", OK, PRICE, "SOL", 0, "", ANSWERED},
    {"what is solana trading at", OK, PRICE, "SOL", 0, "", ANSWERED},
    {"BONK price?", OK, PRICE, "BONK", 0, "", ANSWERED},
    {"usdc price", OK, PRICE, "USDC", 0, "", ANSWERED},
    {"what does tether cost", OK, PRICE, "USDT", 0, "", ANSWERED},
    {"link price?", OK, PRICE, "LINK", 0, "", ANSWERED},
    {"price of chainlink", OK, PRICE, "LINK", 0, "", ANSWERED},
    {"LINK", OK, OUTLOOK, "LINK", 0, "", ANSWERED},
    {"shiba inu price", OK, PRICE, "SHIB", 0, "", ANSWERED},
    /* currency */
    {"price of BTC in EUR", OK, PRICE, "BTC", 0, "eur", ANSWERED},
    {"how much is ETH in euros", OK, PRICE, "ETH", 0, "eur", ANSWERED},
    {"SOL price in GBP?", OK, PRICE, "SOL", 0, "gbp", ANSWERED},
    {"what's bitcoin worth in yen", OK, PRICE, "BTC", 0, "jpy", ANSWERED},
    {"doge in inr", OK, OUTLOOK, "DOGE", 0, "inr", ANSWERED},
    {"price of xrp in usd", OK, PRICE, "XRP", 0, "", ANSWERED},
    {"ETH market cap in eur", OK, CAP, "ETH", 0, "eur", ANSWERED},
    {"who won the game, is BTC up?", OK, CHANGE, "BTC", 0, "", ANSWERED},
    /* market cap and volume */
    {"market cap of SOL", OK, CAP, "SOL", 0, "", ANSWERED},
    {"what's ETH's market cap?", OK, CAP, "ETH", 0, "", ANSWERED},
    {"btc mcap", OK, CAP, "BTC", 0, "", ANSWERED},
    {"valuation of cardano", OK, CAP, "ADA", 0, "", ANSWERED},
    {"volume of SOL", OK, VOLUME, "SOL", 0, "", ANSWERED},
    {"how much BONK was traded today", OK, VOLUME, "BONK", 0, "", ANSWERED},
    {"what's the trading volume on doge", OK, VOLUME, "DOGE", 0, "", ANSWERED},
    {"ETH volume?", OK, VOLUME, "ETH", 0, "", ANSWERED},
    {"market caps of BTC and ETH", OK, CAP, "BTC ETH", 0, "", ANSWERED},
    {"volume for sol and bonk", OK, VOLUME, "SOL BONK", 0, "", ANSWERED},
    /* period high / low, all-time high */
    {"highest price of ETH this month", OK, HIGH, "ETH", 720, "", ANSWERED | NOTE},
    {"BTC 30-day low", OK, LOW, "BTC", 720, "", ANSWERED},
    {"what was the lowest SOL went this week", OK, LOW, "SOL", 168, "", ANSWERED | NOTE},
    {"doge peak in the last 7 days", OK, HIGH, "DOGE", 168, "", ANSWERED},
    {"xrp 90d high", OK, HIGH, "XRP", 2160, "", ANSWERED},
    {"bottom of pepe over 2 weeks", OK, LOW, "PEPE", 336, "", ANSWERED},
    {"ETH high today", OK, HIGH, "ETH", 24, "", ANSWERED | NOTE},
    {"BTC all-time high", OK, ATH, "BTC", 0, "", ANSWERED},
    {"what's the ATH of solana", OK, ATH, "SOL", 0, "", ANSWERED},
    {"ETH all time high?", OK, ATH, "ETH", 0, "", ANSWERED},
    {"record high for doge", OK, ATH, "DOGE", 0, "", ANSWERED},
    {"SOL high over the past 6 hours", OK, HIGH, "SOL", 6, "", ANSWERED},
    /* change over windows */
    {"how did ETH do this week?", OK, CHANGE, "ETH", 168, "", ANSWERED | NOTE},
    {"SOL 30d", OK, CHANGE, "SOL", 720, "", ANSWERED},
    {"SOL performance over 14 days", OK, CHANGE, "SOL", 336, "", ANSWERED},
    {"eth 24h", OK, CHANGE, "ETH", 24, "", ANSWERED},
    {"btc change 7d", OK, CHANGE, "BTC", 168, "", ANSWERED},
    {"how did solana perform this month", OK, CHANGE, "SOL", 720, "", ANSWERED | NOTE},
    {"$BONK over 3 days", OK, CHANGE, "BONK", 72, "", ANSWERED},
    {"is ETH up or down", OK, CHANGE, "ETH", 24, "", ANSWERED},
    {"price of SOL over the last 2 weeks", OK, CHANGE, "SOL", 336, "", ANSWERED},
    {"how did BTC do over 1000 days", OK, CHANGE, "BTC", 24 * DEXTER_MAX_PERIOD_DAYS, "", ANSWERED},
    {"ETH 48h", OK, CHANGE, "ETH", 48, "", ANSWERED},
    {"SOL past 6 hours", OK, CHANGE, "SOL", 6, "", ANSWERED},
    {"how has doge moved in the last 12h", OK, CHANGE, "DOGE", 12, "", ANSWERED},
    {"BTC change over 3 hours", OK, CHANGE, "BTC", 3, "", ANSWERED},
    {"eth over the past hour", OK, CHANGE, "ETH", 1, "", ANSWERED},
    {"btc ytd", OK, CHANGE, "BTC", 0, "", ANSWERED},
    {"how did SOL do over 3 months", OK, CHANGE, "SOL", 2160, "", ANSWERED},
    {"xrp 1y", OK, CHANGE, "XRP", 8760, "", ANSWERED},
    {"ada over a week", OK, CHANGE, "ADA", 168, "", ANSWERED},
    {"BTC dropped this week", OK, CHANGE, "BTC", 168, "", ANSWERED | NOTE},
    {"how is litecoin doing", OK, CHANGE, "LTC", 24, "", ANSWERED},
    {"ETH 2w", OK, CHANGE, "ETH", 336, "", ANSWERED},
    /* forecasts */
    {"forecast ETH next week", OK, OUTLOOK, "ETH", 0, "", ANSWERED | FORECAST},
    {"will BTC reach 100k?", OK, OUTLOOK, "BTC", 0, "", ANSWERED | FORECAST},
    {"what's your price prediction for SOL", OK, OUTLOOK, "SOL", 0, "", ANSWERED | FORECAST},
    {"predict doge tomorrow", OK, OUTLOOK, "DOGE", 0, "", ANSWERED | FORECAST},
    {"where will ETH be next month?", OK, OUTLOOK, "ETH", 0, "", ANSWERED | FORECAST},
    {"price target for pepe", OK, OUTLOOK, "PEPE", 0, "", ANSWERED | FORECAST},
    {"is SOL gonna pump", OK, OUTLOOK, "SOL", 0, "", ANSWERED | FORECAST},
    /* comparisons, two and more */
    {"SOL vs ETH over 30 days", OK, COMPARE, "SOL ETH", 720, "", ANSWERED},
    {"ETH vs SOL this week", OK, COMPARE, "ETH SOL", 168, "", ANSWERED | NOTE},
    {"compare bitcoin and ethereum", OK, COMPARE, "BTC ETH", 168, "", ANSWERED},
    {"$SOL versus $BTC 90d", OK, COMPARE, "SOL BTC", 2160, "", ANSWERED},
    {"which did better, sol or eth, this month?", OK, COMPARE, "SOL ETH", 720, "", ANSWERED | NOTE},
    {"BTC against ETH today", OK, COMPARE, "BTC ETH", 24, "", ANSWERED | NOTE},
    {"SOL vs ETH vs BTC", OK, COMPARE, "SOL ETH BTC", 168, "", ANSWERED},
    {"compare doge, shib and pepe over 7d", OK, COMPARE, "DOGE SHIB PEPE", 168, "", ANSWERED},
    {"btc eth sol xrp 30d", OK, COMPARE, "BTC ETH SOL XRP", 720, "", ANSWERED},
    {"how did SOL and ETH do this week", OK, COMPARE, "SOL ETH", 168, "", ANSWERED | NOTE},
    {"ETH or BTC, which outperformed over 14 days?", OK, COMPARE, "ETH BTC", 336, "", ANSWERED},
    {"SOL vs ETH vs BTC vs DOGE vs XRP", OK, COMPARE, "SOL ETH BTC DOGE XRP", 0, "", ANSWERED},
    /* follow-ups (completed from the chat's last question) */
    {"and ETH?", OK, OUTLOOK, "ETH", 0, "", ANSWERED | FOLLOW},
    {"how about bonk", OK, OUTLOOK, "BONK", 0, "", ANSWERED | FOLLOW},
    {"what about solana?", OK, OUTLOOK, "SOL", 0, "", ANSWERED | FOLLOW},
    {"and doge", OK, OUTLOOK, "DOGE", 0, "", ANSWERED | FOLLOW},
    {"what about its volume?", NO_TOKEN, VOLUME, "", 0, "", ANSWERED | FOLLOW},
    {"and over 30 days?", NO_TOKEN, CHANGE, "", 720, "", ANSWERED | FOLLOW},
    {"what about the market cap", NO_TOKEN, CAP, "", 0, "", ANSWERED | FOLLOW},
    /* near misses and unknown tokens */
    {"price of ETHH", UNKNOWN, PRICE, "ETHH", 0, "", ANSWERED | SUGGEST},
    {"is solanna bullish?", UNKNOWN, OUTLOOK, "solanna", 0, "", ANSWERED | SUGGEST},
    {"$BTCC price", UNKNOWN, PRICE, "BTCC", 0, "", ANSWERED | SUGGEST},
    {"how is etherium doing", UNKNOWN, CHANGE, "etherium", 0, "", ANSWERED | SUGGEST},
    {"should I buy $XYZ?", UNKNOWN, OUTLOOK, "XYZ", 0, "", ANSWERED},
    {"$FLOKI to the moon", UNKNOWN, OUTLOOK, "FLOKI", 0, "", STATEMENT},
    {"SOL vs FOO", UNKNOWN, COMPARE, "FOO", 0, "", ANSWERED},
    {"price of dogecoinn", UNKNOWN, PRICE, "dogecoinn", 0, "", ANSWERED | SUGGEST},
    /* capitalised words that are not tokens */
    {"is the SERVER down?", NO_TOKEN, CHANGE, "", 0, "", ANSWERED},
    {"is the server down?", NO_TOKEN, CHANGE, "", 0, "", ANSWERED},
    {"Is FLOKI bullish?", NO_TOKEN, OUTLOOK, "", 0, "", ANSWERED},
    {"what's the price of GOLD", NO_TOKEN, PRICE, "", 0, "", ANSWERED},
    {"is the API down today", NO_TOKEN, CHANGE, "", 0, "", ANSWERED},
    {"did the CEO sell?", NO_TOKEN, OUTLOOK, "", 0, "", ANSWERED},
    {"NASA launch price?", NO_TOKEN, PRICE, "", 0, "", ANSWERED},
    {"is the market bullish?", NO_TOKEN, OUTLOOK, "", 0, "", ANSWERED},
    /* statements: left to the chat and the sentiment watcher */
    {"what a great day for SOL", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"what a pump on SOL today", OK, OUTLOOK, "SOL", 0, "", STATEMENT},
    {"SOL to the moon 🚀", OK, OUTLOOK, "SOL", 0, "", STATEMENT},
    {"SOL is pumping today", OK, OUTLOOK, "SOL", 0, "", STATEMENT},
    {"bitcoin looking bullish", OK, OUTLOOK, "BTC", 0, "", STATEMENT},
    {"ETH is going up", OK, OUTLOOK, "ETH", 0, "", STATEMENT},
    {"what an awful week for doge, bearish", OK, OUTLOOK, "DOGE", 0, "", STATEMENT},
    {"I think SOL looks good", OK, OUTLOOK, "SOL", 0, "", STATEMENT},
    {"how good is BTC looking lately", OK, OUTLOOK, "BTC", 0, "", STATEMENT},
    {"doge dumping hard lol", OK, OUTLOOK, "DOGE", 0, "", STATEMENT},
    /* everyday words that are also symbols, and not finance */
    {"click the link below", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"connect the dots", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"send me the link please", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"hello there", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"good morning everyone!", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"who are you?", NOT_FIN, OUTLOOK, "", 0, "", ANSWERED},
    {"I had lunch with my friend", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"LOL", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"thanks!", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
    {"el sol brilla", NOT_FIN, OUTLOOK, "", 0, "", STATEMENT},
};

static dexter_token_map default_map(void)
{
    dexter_token_map map = {0};
    char err[200];
    assert_int_equal(dexter_token_map_add(&map, dexter_default_tokens, err, sizeof err), 0);
    return map;
}

static int tokens_match(const dexter_intent *intent, const char *expected)
{
    char list[128] = "";
    for (int i = 0; i < intent->token_count; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "",
                 intent->tokens[i]->symbol);
    return strcmp(list, expected) == 0;
}

static int row_passes(const phrasing *row, dexter_parse_status status, const dexter_intent *intent)
{
    int answered = intent->is_question || intent->is_request;
    if (status != row->status)
        return 0;
    if ((row->flags & ANSWERED) && !answered)
        return 0;
    if ((row->flags & STATEMENT) && answered)
        return 0;
    if (status == UNKNOWN)
        return strcmp(intent->unknown, row->tokens) == 0 &&
               ((row->flags & SUGGEST) != 0) == (intent->suggestion != NULL);
    if (status == NOT_FIN)
        return 1;
    if (intent->kind != row->kind && (status == OK || intent->kind_explicit))
        return 0;
    if (status == OK && !tokens_match(intent, row->tokens))
        return 0;
    if (row->hours && intent->period_hours != row->hours)
        return 0;
    if (strcmp(intent->currency, row->currency) != 0)
        return 0;
    if (((row->flags & FORECAST) != 0) != (intent->forecast != 0))
        return 0;
    if ((row->flags & NOTE) && intent->period_note[0] == '\0')
        return 0;
    if ((row->flags & FOLLOW) && !intent->follow_up)
        return 0;
    return 1;
}

static void test_phrasing_table(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    size_t rows = sizeof table / sizeof table[0];
    assert_true(rows >= 150);
    size_t passed = 0;
    for (size_t i = 0; i < rows; i++) {
        const phrasing *row = &table[i];
        dexter_intent intent;
        dexter_parse_status status = dexter_parse_question(row->text, &map, &intent);
        if (row_passes(row, status, &intent)) {
            passed++;
            continue;
        }
        fprintf(stderr,
                "row %zu \"%s\": status %d kind %d tokens %d (%s) hours %d currency '%s' "
                "forecast %d note '%s' follow %d q %d r %d unknown '%s' suggestion %s\n",
                i, row->text, status, intent.kind, intent.token_count,
                intent.token_count ? intent.tokens[0]->symbol : "-", intent.period_hours,
                intent.currency, intent.forecast, intent.period_note, intent.follow_up,
                intent.is_question, intent.is_request, intent.unknown,
                intent.suggestion ? intent.suggestion->symbol : "-");
    }
    printf("dexter phrasings: %zu of %zu read as expected\n", passed, rows);
    dexter_token_map_free(&map);
    assert_int_equal(passed, rows);
}

/* A follow-up takes the token, kind and window of the chat's last
 * question, only in that chat and only until the memory expires. */
static void test_follow_ups_complete_from_the_last_question(void **unused)
{
    (void)unused;
    dexter_token_map map = default_map();
    dexter_follow_ups *memory = dexter_follow_ups_create(600000);
    dexter_intent first, next;
    assert_int_equal(dexter_parse_question("price of SOL over 6 hours", &map, &first), OK);
    dexter_follow_ups_remember(memory, 7, &first, 1000);
    /* "and ETH?": same kind and window, new token */
    assert_int_equal(dexter_parse_question("and ETH?", &map, &next), OK);
    assert_int_equal(dexter_follow_ups_complete(memory, 7, &next, 2000), 1);
    assert_int_equal(next.kind, CHANGE);
    assert_int_equal(next.period_hours, 6);
    assert_string_equal(next.tokens[0]->symbol, "ETH");
    /* "what about its volume": the last token, the new kind */
    assert_int_equal(dexter_parse_question("what about its volume?", &map, &next), NO_TOKEN);
    assert_int_equal(dexter_follow_ups_complete(memory, 7, &next, 3000), 1);
    assert_int_equal(next.kind, VOLUME);
    assert_string_equal(next.tokens[0]->symbol, "SOL");
    /* another chat has no memory; an expired one is forgotten */
    assert_int_equal(dexter_parse_question("and ETH?", &map, &next), OK);
    assert_int_equal(dexter_follow_ups_complete(memory, 8, &next, 3000), 0);
    assert_int_equal(next.kind, OUTLOOK);
    assert_int_equal(dexter_follow_ups_complete(memory, 7, &next, 1000 + 600001), 0);
    /* a question with its own cue keeps it */
    assert_int_equal(dexter_parse_question("and the price of ETH?", &map, &next), OK);
    assert_int_equal(dexter_follow_ups_complete(memory, 7, &next, 4000), 0);
    assert_int_equal(next.kind, PRICE);
    dexter_follow_ups_destroy(memory);
    dexter_token_map_free(&map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phrasing_table),
        cmocka_unit_test(test_follow_ups_complete_from_the_last_question),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
