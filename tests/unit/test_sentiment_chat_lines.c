/* The scorer on labelled crypto-chat lines, by category (plain praise and
 * complaint, slang and idioms, negated negatives, "never been more",
 * laughter, sarcasm, mixed and neutral chatter). Prints the accuracy and
 * fails below the floor; a few categories must be right line by line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sentiment/scorer.h"

#define ACCURACY_FLOOR 0.90 /* of all lines; measured 2026-12 at the value printed */

enum { NEG = -1, NEU = 0, POS = 1 };

typedef struct line {
    const char *text;
    int label;
    int strict; /* 1: a category this change must get right every time */
} line;

static const line lines[] = {
    /* plain praise */
    {"SOL looks great today!", POS, 0}, {"love this project, the team ships", POS, 0},
    {"ETH upgrade went smoothly, impressive", POS, 0}, {"best entry I've had all year", POS, 0},
    {"this chart is beautiful", POS, 0}, {"happy with my bags", POS, 0},
    {"solid fundamentals, strong community", POS, 0}, {"what a rally", POS, 0},
    {"nice pump on bonk", POS, 0}, {"devs are awesome", POS, 0},
    {"I'm really excited about this launch", POS, 0}, {"that was a brilliant move", POS, 0},
    {"gains all week, feeling good", POS, 0}, {"BTC breaking out, bullish", POS, 0},
    {"the new wallet is fantastic", POS, 0}, {"super smooth swap, thanks", POS, 0},
    /* plain complaint */
    {"this is a scam", NEG, 0}, {"lost everything on that trade", NEG, 0},
    {"terrible fees today", NEG, 0}, {"the bridge got hacked again", NEG, 0},
    {"I hate this market", NEG, 0}, {"worst launch ever", NEG, 0},
    {"dumping hard, bearish", NEG, 0}, {"so tired of these delays", NEG, 0},
    {"awful liquidity, can't exit", NEG, 0}, {"another rug pull, unbelievable", NEG, 0},
    {"my portfolio is down 40%, painful", NEG, 0}, {"the app keeps crashing", NEG, 0},
    {"fud everywhere and prices bleeding", NEG, 0}, {"the team went silent, worrying", NEG, 0},
    {"horrible support, still waiting", NEG, 0}, {"sad to see it fall apart", NEG, 0},
    /* chat slang and idioms */
    {"it's over for alts", NEG, 1}, {"its over, sold everything", NEG, 1},
    {"we're back baby", POS, 1}, {"we are back, green candles", POS, 1},
    {"ngmi with this attitude", NEG, 1}, {"we're cooked", NEG, 1},
    {"that token looks sketchy", NEG, 1}, {"paper hands selling the bottom", NEG, 1},
    {"diamond hands, holding", POS, 1}, {"wagmi", POS, 1}, {"lfg", POS, 1},
    {"got rekt on leverage", NEG, 1}, {"this is exit liquidity for whales", NEG, 1},
    {"classic pump and dump", NEG, 1}, {"just a dead cat bounce", NEG, 1},
    {"dev team is goated", POS, 1}, {"up only from here", POS, 1}, {"send it", POS, 1},
    {"the whole thing is a ponzi", NEG, 1}, {"sus contract, stay away", NEG, 1},
    {"shady team, anon devs", NEG, 1}, {"market got nuked overnight", NEG, 1},
    {"bullish af", POS, 1}, {"this airdrop slaps", POS, 1}, {"down bad this week", NEG, 1},
    {"honeypot, can't sell", NEG, 1}, {"rugged again", NEG, 1}, {"pure copium", NEG, 1},
    {"no brainer at this price", POS, 1}, {"that coin is mid", NEG, 0},
    /* negated negatives */
    {"zero regrets buying SOL", POS, 1}, {"no complaints about the upgrade", POS, 1},
    {"no worries, funds are safe", POS, 1}, {"not bad at all", POS, 1},
    {"never had a problem with this wallet", POS, 1}, {"no issues with the bridge", POS, 1},
    {"not a scam, audited twice", POS, 0}, {"nothing wrong with a dip", POS, 0},
    {"I don't hate it", POS, 0}, {"zero problems so far", POS, 1},
    /* "nothing but" */
    {"nothing but gains this month", POS, 1}, {"nothing but love for this community", POS, 1},
    {"nothing but problems since the fork", NEG, 1}, {"nothing but losses", NEG, 1},
    /* never more / never better */
    {"never been more bullish on ETH", POS, 1}, {"never felt better about SOL", POS, 1},
    {"never been so happy with a trade", POS, 1}, {"never been more excited", POS, 1},
    {"never been more worried about this chain", NEG, 1}, {"I never liked this coin", NEG, 0},
    {"never again, what a scam", NEG, 0},
    /* laughter stays near neutral */
    {"lol", NEU, 1}, {"lmao", NEU, 1}, {"haha true", NEU, 1}, {"😂😂", NEU, 1},
    {"lol the chart", NEU, 1}, {"haha what", NEU, 1}, {"lmao look at this candle", NEU, 1},
    {"lol great trade", POS, 0}, {"lmao this is a scam", NEG, 0},
    /* sarcasm */
    {"oh perfect, another exploit", NEG, 1}, {"oh great, the bridge is down again", NEG, 1},
    {"oh fantastic, fees doubled", NEG, 1}, {"great job devs 🙃", NEG, 1},
    {"love waiting 3 hours for a withdrawal 🙄", NEG, 1},
    {"oh wonderful, another delay", NEG, 1}, {"just perfect, I got liquidated", NEG, 1},
    {"amazing, my tx failed again 🙃", NEG, 1}, {"oh nice, we're rugged", NEG, 1},
    {"oh great news, mainnet is live", POS, 0},
    /* mixed, "but" */
    {"the tech is good but the team is terrible", NEG, 0},
    {"rough week but I'm still bullish", POS, 0}, {"nice idea but no users", NEG, 0},
    {"fees are high but the app is great", POS, 0},
    /* neutral chatter */
    {"what time is the AMA?", NEU, 0}, {"anyone bridging to base today", NEU, 0},
    {"gm", NEU, 0}, {"the unlock is on friday", NEU, 0}, {"sent you the address", NEU, 0},
    {"which wallet do you use", NEU, 0}, {"chart on 4h", NEU, 0},
    {"price is 142 right now", NEU, 0}, {"reading the docs", NEU, 0},
    {"new block every 400ms", NEU, 0}, {"where is the contract address", NEU, 0},
    {"holding SOL and ETH", NEU, 0}, {"moving funds to cold storage", NEU, 0},
    {"vote closes tomorrow", NEU, 0}, {"DM me the link", NEU, 0},
    {"testing the new RPC", NEU, 0}, {"ok", POS, 0}, {"thanks", POS, 0},
    /* more crypto positives and negatives */
    {"to the moon 🚀", POS, 0}, {"pumping 🚀🚀", POS, 0}, {"green candles everywhere", POS, 0},
    {"ATH incoming", POS, 0}, {"this is bullish news", POS, 0}, {"huge partnership announced", POS, 0},
    {"adoption keeps growing", POS, 0}, {"the dip is a gift", POS, 0},
    {"crashing again", NEG, 0}, {"liquidated, I'm done", NEG, 0}, {"bagholders everywhere", NEG, 0},
    {"dead project", NEG, 0}, {"this is so overhyped", NEG, 0}, {"total scam, avoid", NEG, 0},
    {"we got rugged", NEG, 0}, {"it's bleeding out", NEG, 0},
    {"not bullish at all", NEG, 0}, {"not great, not terrible", NEU, 0},
    {"hardly impressive", NEG, 0}, {"kinda disappointed", NEG, 0},
    {"absolutely love it", POS, 0}, {"really really bad", NEG, 0},
    {"I'm not worried", POS, 0}, {"can't complain", POS, 0},
    {"this is fine", POS, 0}, {"doing ok", POS, 0}, {"scary drop", NEG, 0},
    {"pain", NEG, 0}, {"wow", POS, 0}, {"ugh", NEG, 0}, {"based devs", POS, 0},
    {"the roadmap is clear", POS, 0}, {"the UI is confusing", NEG, 0},
    {"solid week", POS, 0}, {"it is over", NEG, 1},
};

static sentiment_lexicon *load(void)
{
    static const char *const candidates[] = {"plugins/sentiment/lexicon.txt",
                                             "../../plugins/sentiment/lexicon.txt"};
    char error[200];
    for (size_t i = 0; i < 2; i++) {
        sentiment_lexicon *lexicon = sentiment_lexicon_load(candidates[i], error, sizeof error);
        if (lexicon)
            return lexicon;
    }
    fail_msg("the shipped lexicon did not load: %s", error);
    return NULL;
}

static int label_of(double compound)
{
    if (compound >= SENTIMENT_LABEL_THRESHOLD)
        return POS;
    return compound <= -SENTIMENT_LABEL_THRESHOLD ? NEG : NEU;
}

static void test_labelled_chat_lines(void **unused)
{
    (void)unused;
    sentiment_lexicon *lexicon = load();
    size_t count = sizeof lines / sizeof lines[0];
    assert_true(count >= 150);
    size_t right = 0, strict_wrong = 0;
    for (size_t i = 0; i < count; i++) {
        sentiment_score score;
        assert_int_equal(sentiment_score_text(lexicon, lines[i].text, &score), 0);
        int label = label_of(score.compound);
        if (label == lines[i].label) {
            right++;
            continue;
        }
        strict_wrong += lines[i].strict;
        fprintf(stderr, "%s\"%s\": %+.3f, want %d\n", lines[i].strict ? "STRICT " : "",
                lines[i].text, score.compound, lines[i].label);
    }
    double accuracy = (double)right / (double)count;
    printf("sentiment chat lines: %zu of %zu right (%.1f%%), floor %.0f%%\n", right, count,
           accuracy * 100.0, ACCURACY_FLOOR * 100.0);
    sentiment_lexicon_free(lexicon);
    assert_int_equal(strict_wrong, 0);
    assert_true(accuracy >= ACCURACY_FLOOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_labelled_chat_lines)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
