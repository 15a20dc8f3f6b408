/* The sentiment plugin's scorer and lexicon: a table of chat sentences with
 * expected labels, score orderings that pin each VADER rule (boosters, caps,
 * '!', negation, "but", phrases, emoji), hostile UTF-8, and lexicon file
 * errors that must name the line. Uses the lexicon shipped with the plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sentiment/lexicon.h"
#include "sentiment/scorer.h"
#include "sentiment/words.h"

static sentiment_lexicon *shipped;

static int load_shipped(void **state)
{
    (void)state;
    static const char *const candidates[] = {"plugins/sentiment/lexicon.txt",
                                             "../../plugins/sentiment/lexicon.txt"};
    char error[512] = "";
    for (size_t i = 0; i < 2 && shipped == NULL; i++)
        shipped = sentiment_lexicon_load(candidates[i], error, sizeof error);
    if (shipped == NULL)
        fprintf(stderr, "cannot load the shipped lexicon: %s\n", error);
    return shipped == NULL ? -1 : 0;
}

static int free_shipped(void **state)
{
    (void)state;
    sentiment_lexicon_free(shipped);
    shipped = NULL;
    return 0;
}

static double compound_of(const char *text)
{
    sentiment_score score;
    assert_int_equal(sentiment_score_text(shipped, text, &score), 0);
    assert_true(score.compound >= -1.0 && score.compound <= 1.0);
    return score.compound;
}

/* ---- the sentence table ---- */

typedef struct labelled {
    const char *text;
    const char *label;
} labelled;

static const labelled sentences[] = {
    /* general chat */
    {"good morning everyone", "positive"},
    {"what a great day", "positive"},
    {"this is terrible", "negative"},
    {"I love this community", "positive"},
    {"I hate waiting", "negative"},
    {"the meeting is at 5pm", "neutral"},
    {"the weather is okay I guess", "positive"},
    {"thanks for the help", "positive"},
    {"this app is broken again", "negative"},
    {"what time is it?", "neutral"},
    {"it is what it is", "neutral"},
    {"awesome work team", "positive"},
    {"worst update ever", "negative"},
    {"I am so sad today", "negative"},
    {"congrats on the launch", "positive"},
    /* crypto chat */
    {"SOL is bullish", "positive"},
    {"BTC looks bearish", "negative"},
    {"we are going to the moon", "positive"},
    {"this is a rug pull", "negative"},
    {"got rekt on that trade", "negative"},
    {"HODL and relax", "positive"},
    {"new ATH for ETH", "positive"},
    {"BTC just hit an all time high", "positive"},
    {"total scam project", "negative"},
    {"the bridge got hacked", "negative"},
    {"they delisted the token", "negative"},
    {"buy the dip", "positive"},
    {"this dip is painful", "negative"},
    {"pump and dump group", "negative"},
    {"wagmi", "positive"},
    {"ngmi with these bags", "negative"},
    {"dead cat bounce, careful", "negative"},
    {"stop spreading FUD", "negative"},
    {"lambo soon", "positive"},
    {"the market crashed overnight", "negative"},
    {"devs shilling their own coin", "negative"},
    {"exploit drained the pool", "negative"},
    {"bagholders everywhere", "negative"},
    /* negation */
    {"not bullish", "negative"},
    {"SOL isn't bullish anymore", "negative"},
    {"this is not bad at all", "positive"},
    {"never a scam", "positive"},
    {"I don't love it", "negative"},
    {"don’t like the dump", "positive"}, /* typographic apostrophe negates too */
    {"no rug here", "positive"},
    {"Not sure. Great team though", "positive"}, /* negation stops at a clause break */
    /* negation exceptions: "never so/this" intensifies, "without doubt"
     * does not negate, "least" negates except in "at least"/"very least" */
    {"never so good", "positive"},
    {"never this bullish before", "positive"},
    {"the team was never helpful", "negative"},
    {"without doubt the best chain", "positive"},
    {"without doubt the worst chain", "negative"},
    {"the least reliable bridge", "negative"},
    {"at least the team is reliable", "positive"},
    {"the very least is safe", "positive"},
    /* idioms: the phrase overrides its words */
    {"that upgrade was the kiss of death", "negative"},
    {"this wallet is the bomb", "positive"},
    {"their roadmap doesn't cut the mustard", "negative"},
    {"gains to die for", "positive"},
    {"yeah right", "negative"},
    {"the project is dead in the water", "negative"},
    {"over the moon with my SOL", "positive"},
    /* caps */
    {"GREAT news everyone", "positive"},
    {"this is BAD", "negative"},
    {"MOON MOON MOON", "positive"},
    /* but */
    {"the team is great but the token is a scam", "negative"},
    {"the chart looks bad but the fundamentals are excellent", "positive"},
    /* emoji */
    {"🚀🚀🚀", "positive"},
    {"📉📉", "negative"},
    {"SOL 📈", "positive"},
    {"rekt 💀", "negative"},
    {"💎🙌", "positive"},
    {"😭😭😭", "negative"},
    {"🤡 project", "negative"},
    {"to the moon 🚀", "positive"},
    /* phrases */
    {"rug-pull confirmed", "negative"},
    {"diamond hands only", "positive"},
    {"paper hands sold", "negative"},
    {"bull run incoming", "positive"},
    {"bear market blues", "negative"},
    /* boosters and dampeners */
    {"very good", "positive"},
    {"extremely bearish", "negative"},
    {"slightly bullish", "positive"},
    {"kind of bad", "negative"},
    /* punctuation */
    {"great!!!", "positive"},
    {"scam!!!", "negative"},
    {"really??", "neutral"},
    {"", "neutral"},
};

static void labels_match_the_table(void **state)
{
    (void)state;
    size_t count = sizeof sentences / sizeof sentences[0];
    assert_true(count >= 60);
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        double compound = compound_of(sentences[i].text);
        const char *label = sentiment_label(compound);
        if (strcmp(label, sentences[i].label) != 0) {
            fprintf(stderr, "  %-50s expected %-8s got %-8s (%+.3f)\n", sentences[i].text,
                    sentences[i].label, label, compound);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- orderings: each pins one rule ---- */

typedef struct ordered {
    const char *lower;
    const char *higher;
    const char *rule;
} ordered;

static const ordered orderings[] = {
    {"good", "very good", "a booster raises a positive word"},
    {"very good", "VERY good!!!", "caps on the booster and '!' raise it further"},
    {"good", "good!", "'!' adds emphasis"},
    {"good!", "good!!", "each '!' adds emphasis"},
    {"good!!!!", "good!!!!!!!!", "!!!! is the cap: more does nothing"},
    {"slightly good", "good", "a dampener lowers a positive word"},
    {"kind of bullish", "bullish", "\"kind of\" dampens"},
    {"very much good", "very good", "a booster two words away counts less"},
    {"good stuff here", "GOOD stuff here", "ALL CAPS emphasis in mixed-case text"},
    {"very bad", "bad", "a booster deepens a negative word"},
    {"scam!!!", "scam", "'!' deepens a negative sentence"},
    {"bad", "not bad", "negation flips a negative word"},
    {"not good", "good", "negation flips a positive word"},
    {"not bullish", "neutral talk", "\"not bullish\" is negative"},
    {"rug pull", "rug", "the phrase outweighs its first word"},
    {"moon", "to the moon 🚀", "phrase plus emoji beat the word"},
    {"dip", "buy the dip", "\"buy the dip\" is a phrase, positive"},
    {"🚀", "🚀🚀🚀", "repeated emoji add up"},
    {"rekt 💀💀", "rekt", "skulls deepen rekt"},
    {"the team is great but the token is a scam", "the team is great and the token is a scam",
     "after \"but\" weighs more than before it"},
    {"the token is a scam and the team is great", "the token is a scam but the team is great",
     "\"but\" weights the clause after it"},
    {"bearish", "slightly bearish", "a dampener softens a negative word"},
    {"so so bad", "so bad", "two boosters deepen more than one"},
};

static void orderings_hold(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof orderings / sizeof orderings[0]; i++) {
        double lower = compound_of(orderings[i].lower);
        double higher = compound_of(orderings[i].higher);
        int strict = strcmp(orderings[i].lower, "good!!!!") != 0;
        if (strict ? !(lower < higher) : !(lower <= higher)) {
            fprintf(stderr, "  %s: \"%s\" %+.4f should be below \"%s\" %+.4f\n", orderings[i].rule,
                    orderings[i].lower, lower, orderings[i].higher, higher);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    /* the exclamation cap is exact: 4 and 8 marks score the same */
    assert_true(compound_of("good!!!!") == compound_of("good!!!!!!!!"));
}

/* ---- exact values from the rule constants ---- */

static double normalised(double sum)
{
    return sum / __builtin_sqrt(sum * sum + 15.0);
}

static void rule_arithmetic_is_vader(void **state)
{
    (void)state;
    double good = 1.9;
    assert_true(__builtin_fabs(compound_of("good") - normalised(good)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("very good") - normalised(good + 0.293)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("not good") - normalised(good * -0.74)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("good!!") - normalised(good + 2 * 0.292)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("GOOD day") - normalised(good + 0.733)) < 1e-9);
    /* all caps everywhere is not emphasis */
    assert_true(__builtin_fabs(compound_of("GOOD DAY") - normalised(good)) < 1e-9);
    /* "?" : two or three add 0.18 each, more add 0.96 */
    assert_true(__builtin_fabs(compound_of("good??") - normalised(good + 0.36)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("good?????") - normalised(good + 0.96)) < 1e-9);
    /* a single "?" changes nothing */
    assert_true(__builtin_fabs(compound_of("good?") - normalised(good)) < 1e-9);
    /* booster at distance 3 is scaled by 0.9 */
    assert_true(__builtin_fabs(compound_of("very much much good") -
                               normalised(good + 0.293 * 0.9)) < 1e-9);
    /* "but": before x0.5, after x1.5 */
    assert_true(__builtin_fabs(compound_of("good but bad") - normalised(good * 0.5 - 2.5 * 1.5)) <
                1e-9);
}

static void negation_exceptions_and_idioms_are_exact(void **state)
{
    (void)state;
    double good = 1.9, doubt = -1.4;
    /* "so" boosts, then "never so" multiplies by 1.25 instead of negating */
    assert_true(__builtin_fabs(compound_of("never so good") -
                               normalised((good + 0.293) * 1.25)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("never this good") - normalised(good * 1.25)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("never good") - normalised(good * -0.74)) < 1e-9);
    /* "without doubt" leaves "good" alone; "doubt" itself is negated by "without" */
    assert_true(__builtin_fabs(compound_of("without doubt good") -
                               normalised(doubt * -0.74 + good)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("without good") - normalised(good * -0.74)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("least good") - normalised(good * -0.74)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("at least good") - normalised(good)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("very least good") - normalised(good + 0.293 * 0.95)) <
                1e-9); /* "very" still boosts from two words away */
    /* an exception never reaches across a clause break */
    assert_true(__builtin_fabs(compound_of("never so. good") - normalised(good)) < 1e-9);
    /* idioms replace their words: "death" is -3.0 alone, "bomb" is not a word */
    assert_true(__builtin_fabs(compound_of("kiss of death") - normalised(-2.2)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("the bomb") - normalised(2.4)) < 1e-9);
    assert_true(__builtin_fabs(compound_of("doesn't cut the mustard") - normalised(1.4 * -0.74)) <
                1e-9);
}

static void contributors_name_the_words(void **state)
{
    (void)state;
    sentiment_score score;
    assert_int_equal(sentiment_score_text(shipped, "SOL to the MOON 🚀 but not a scam", &score), 0);
    assert_int_equal(score.matches, 3);
    assert_int_equal(score.contributor_count, 3);
    /* strongest first, with the text as written */
    int saw_phrase = 0, saw_rocket = 0, saw_scam = 0;
    for (size_t i = 0; i < score.contributor_count; i++) {
        if (i > 0)
            assert_true(__builtin_fabs(score.contributors[i - 1].valence) >=
                        __builtin_fabs(score.contributors[i].valence));
        saw_phrase |= strcmp(score.contributors[i].text, "to the MOON") == 0;
        saw_rocket |= strcmp(score.contributors[i].text, "🚀") == 0;
        if (strcmp(score.contributors[i].text, "scam") == 0) {
            saw_scam = 1;
            assert_true(score.contributors[i].valence > 0); /* negated, after "but" */
        }
    }
    assert_true(saw_phrase && saw_rocket && saw_scam);
}

static void many_words_keep_the_strongest_contributors(void **state)
{
    (void)state;
    char text[2048] = "";
    for (int i = 0; i < 40; i++)
        strcat(text, "ok ");
    strcat(text, "scam");
    sentiment_score score;
    assert_int_equal(sentiment_score_text(shipped, text, &score), 0);
    assert_int_equal(score.matches, 41);
    assert_int_equal(score.contributor_count, SENTIMENT_MAX_CONTRIBUTORS);
    assert_string_equal(score.contributors[0].text, "scam");
}

static void hostile_utf8_never_crashes(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "\xff\xfe\xfd",          /* not UTF-8 at all */
        "good \xf0\x9f\x9a",     /* a rocket cut short */
        "\xc0\xaf bad",          /* overlong '/' */
        "\xed\xa0\x80 good",     /* a UTF-16 surrogate */
        "\xf4\x90\x80\x80 moon", /* above U+10FFFF */
        "\xe2\x80",              /* truncated at the end */
        "🚀\xf0",                /* emoji then a lone lead byte */
        "caf\xc3\xa9 good",      /* fine Latin-1 letters */
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        (void)compound_of(inputs[i]);
    assert_string_equal(sentiment_label(compound_of("good \xf0\x9f\x9a")), "positive");
    assert_string_equal(sentiment_label(compound_of("\xc0\xaf bad")), "negative");
    assert_string_equal(sentiment_label(compound_of("\xff\xfe\xfd")), "neutral");
}

static void long_contributor_text_is_cut_on_a_character(void **state)
{
    (void)state;
    char error[256];
    /* a 3-word phrase whose written form is longer than the contributor field */
    sentiment_lexicon *lexicon =
        sentiment_lexicon_parse("aaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbb cccccccccccccccc 2\n", "t", error,
                                sizeof error);
    assert_non_null(lexicon);
    sentiment_score score;
    assert_int_equal(sentiment_score_text(lexicon,
                                          "aaaaaaaaaaaaaaaa \xc3\xa9\xc3\xa9 bbbbbbbbbbbbbbbb", &score),
                     0);
    assert_int_equal(score.matches, 0); /* é is a letter: the phrase is interrupted */
    assert_int_equal(sentiment_score_text(lexicon,
                                          "aaaaaaaaaaaaaaaa  \xe2\x80\x94  bbbbbbbbbbbbbbbb   cccccccccccccccc",
                                          &score),
                     0);
    assert_int_equal(score.matches, 1);
    assert_true(strlen(score.contributors[0].text) < SENTIMENT_CONTRIBUTOR_TEXT);
    sentiment_lexicon_free(lexicon);
}

static void labels_follow_vader_thresholds(void **state)
{
    (void)state;
    assert_string_equal(sentiment_label(0.05), "positive");
    assert_string_equal(sentiment_label(0.0499), "neutral");
    assert_string_equal(sentiment_label(-0.05), "negative");
    assert_string_equal(sentiment_label(-0.0499), "neutral");
    assert_string_equal(sentiment_market_label(0.3), "bullish");
    assert_string_equal(sentiment_market_label(-0.3), "bearish");
    assert_string_equal(sentiment_market_label(0.0), "neutral");
}

/* ---- the splitter ---- */

static void splitter_separates_emoji_and_keeps_apostrophes(void **state)
{
    (void)state;
    sentiment_words words;
    assert_int_equal(sentiment_words_split("isn't $SOL🚀🚀 rug-pull, WOW", &words), 0);
    assert_int_equal(words.count, 7);
    assert_memory_equal(sentiment_word_text(&words, 0), "isn't", 5);
    assert_memory_equal(sentiment_word_text(&words, 1), "sol", 3);
    assert_true(words.items[2].is_emoji && words.items[3].is_emoji);
    assert_memory_equal(sentiment_word_text(&words, 4), "rug", 3);
    assert_memory_equal(sentiment_word_text(&words, 5), "pull", 4);
    assert_true(words.items[6].clause_start);
    assert_true(words.items[6].is_caps);
    assert_true(words.mixed_case);
    sentiment_words_free(&words);
}

/* ---- lexicon files ---- */

static void expect_parse_error(const char *text, const char *expected)
{
    char error[256] = "";
    sentiment_lexicon *lexicon = sentiment_lexicon_parse(text, "lex.txt", error, sizeof error);
    if (lexicon != NULL || strstr(error, expected) == NULL)
        fprintf(stderr, "  for %s: expected \"%s\", got \"%s\"\n", text, expected, error);
    assert_null(lexicon);
    assert_non_null(strstr(error, expected));
}

static void bad_lexicon_lines_name_the_line(void **state)
{
    (void)state;
    expect_parse_error("good 1.9\nbad\n", "lex.txt:2: expected a word or phrase, then its valence");
    expect_parse_error("# header\n\ngood abc\n", "lex.txt:3: valence is not a number: abc");
    expect_parse_error("good 5\n", "lex.txt:1: valence outside -4..4: 5");
    expect_parse_error("good -4.5\n", "lex.txt:1: valence outside -4..4");
    expect_parse_error("good nan\n", "lex.txt:1: valence is not a number");
    expect_parse_error("good 1\n# c\nGood 2\n", "lex.txt:3: duplicate entry 'good' (first on line 1)");
    expect_parse_error("rug pull -3\nrug-pull -3\n", "lex.txt:2: duplicate entry 'rug pull'");
    expect_parse_error("ok 1\n\xff\xfe 1\n", "lex.txt:2: entry is not valid UTF-8");
    expect_parse_error("!!! 1\n", "lex.txt:1: entry has no word or emoji in it");
    expect_parse_error("one two three four five six 1\n", "lex.txt:1: phrase has more than 5 words");
    expect_parse_error("# only comments\n", "lex.txt: no entries");
    expect_parse_error("", "lex.txt: no entries");
}

static void lexicon_format_accepts_comments_tabs_and_crlf(void **state)
{
    (void)state;
    char error[256] = "";
    sentiment_lexicon *lexicon = sentiment_lexicon_parse(
        "# a comment\r\n  Moon\t2.5  # inline comment\r\nrug-pull   -3\n\nto  the   moon 3\n🚀 2.6",
        "lex.txt", error, sizeof error);
    assert_non_null(lexicon);
    assert_int_equal(sentiment_lexicon_size(lexicon), 4);
    assert_int_equal(sentiment_lexicon_longest(lexicon), 3);
    double valence = 0;
    assert_true(sentiment_lexicon_find(lexicon, "moon", 4, &valence));
    assert_true(valence == 2.5);
    assert_true(sentiment_lexicon_find(lexicon, "rug pull", 8, &valence));
    assert_true(valence == -3);
    assert_true(sentiment_lexicon_find(lexicon, "to the moon", 11, &valence));
    assert_true(sentiment_lexicon_find(lexicon, "🚀", strlen("🚀"), &valence));
    assert_false(sentiment_lexicon_find(lexicon, "Moon", 4, &valence));
    sentiment_lexicon_free(lexicon);
}

static void missing_lexicon_file_names_the_file(void **state)
{
    (void)state;
    char error[256] = "";
    assert_null(sentiment_lexicon_load("/nonexistent/lexicon.txt", error, sizeof error));
    assert_non_null(strstr(error, "/nonexistent/lexicon.txt: cannot open"));
}

static void bad_line_in_a_file_names_file_and_line(void **state)
{
    (void)state;
    char path[] = "/tmp/sentiment-lexicon-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *file = fdopen(fd, "w");
    fputs("good 1.9\nbullish 2.4\nmoon lots\n", file);
    fclose(file);
    char error[512] = "";
    assert_null(sentiment_lexicon_load(path, error, sizeof error));
    char expected[512];
    snprintf(expected, sizeof expected, "%s:3: valence is not a number: lots", path);
    assert_string_equal(error, expected);
    unlink(path);
}

static void shipped_lexicon_has_the_crypto_vocabulary(void **state)
{
    (void)state;
    assert_true(sentiment_lexicon_size(shipped) >= 300);
    static const char *const words[] = {"moon", "mooning", "pump", "dump", "rug", "rugpull",
                                        "rug pull", "rekt", "fud", "hodl", "ath",
                                        "all time high", "bullish", "bearish", "ape", "bags",
                                        "bagholder", "shill", "scam", "exploit", "hack", "hacked",
                                        "delist", "to the moon", "lambo", "wagmi", "ngmi", "dip",
                                        "buy the dip", "crash", "dead cat bounce", "🚀", "📈",
                                        "📉", "💀", "🔥", "💎", "🙌", "😭", "🤡"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        double valence = 0;
        if (!sentiment_lexicon_find(shipped, words[i], strlen(words[i]), &valence))
            fprintf(stderr, "  missing: %s\n", words[i]);
        assert_true(sentiment_lexicon_find(shipped, words[i], strlen(words[i]), &valence));
        assert_true(valence != 0 && valence >= -4 && valence <= 4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(labels_match_the_table),
        cmocka_unit_test(orderings_hold),
        cmocka_unit_test(rule_arithmetic_is_vader),
        cmocka_unit_test(negation_exceptions_and_idioms_are_exact),
        cmocka_unit_test(contributors_name_the_words),
        cmocka_unit_test(many_words_keep_the_strongest_contributors),
        cmocka_unit_test(hostile_utf8_never_crashes),
        cmocka_unit_test(long_contributor_text_is_cut_on_a_character),
        cmocka_unit_test(labels_follow_vader_thresholds),
        cmocka_unit_test(splitter_separates_emoji_and_keeps_apostrophes),
        cmocka_unit_test(bad_lexicon_lines_name_the_line),
        cmocka_unit_test(lexicon_format_accepts_comments_tabs_and_crlf),
        cmocka_unit_test(missing_lexicon_file_names_the_file),
        cmocka_unit_test(bad_line_in_a_file_names_file_and_line),
        cmocka_unit_test(shipped_lexicon_has_the_crypto_vocabulary),
    };
    return cmocka_run_group_tests(tests, load_shipped, free_shipped);
}
