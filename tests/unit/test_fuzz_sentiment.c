/* Fuzz-style tests of the sentiment plugin's text side: the scorer on random
 * and invalid UTF-8, emoji runs and 64 KB lines (compound in [-1, 1], finite
 * sums, sane contributors), token detection and the token list parser, and
 * the lexicon parser on mutated copies of the shipped lexicon. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz_input.h"
#include "sentiment/lexicon.h"
#include "sentiment/scorer.h"
#include "sentiment/tokens.h"

#define ITERATIONS 2500
#define LONG_LINE (64 * 1024)

static sentiment_lexicon *shipped;
static char *shipped_text;

static const char *const chat_words[] = {
    "good", "great", "not", "never", "so", "very", "but", "kind", "of", "without", "doubt",
    "bad", "terrible", "rug", "pull", "scam", "moon", "love", "hate", "isn't", "don\xE2\x80\x99t",
    "least", "at", "SOL", "$sol", "solana", "BTC", "bitcoin", "eth", "Ether", "$PEPE", "my_SOL",
    "sola\xC3\xB1o", "\xF0\x9F\x9A\x80", "\xF0\x9F\x98\x82", "\xF0\x9F\x92\x80",
    "\xE2\x9D\xA4\xEF\xB8\x8F", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBB", "lol", "ngmi", "wagmi",
    "kiss", "death", "a", "bit", "!!!", "??", "\xE2\x80\xA6", "\xE4\xB8\xAD",
};

#define CHAT_WORD_COUNT (sizeof chat_words / sizeof chat_words[0])

static char *read_whole_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    char *text = calloc(1, 256 * 1024);
    size_t length = text ? fread(text, 1, 256 * 1024 - 1, file) : 0;
    fclose(file);
    if (text != NULL)
        text[length] = '\0';
    return text;
}

static int load_shipped(void **state)
{
    (void)state;
    static const char *const candidates[] = {"plugins/sentiment/lexicon.txt",
                                             "../../plugins/sentiment/lexicon.txt"};
    char error[512] = "";
    for (size_t i = 0; i < 2 && shipped == NULL; i++) {
        shipped = sentiment_lexicon_load(candidates[i], error, sizeof error);
        if (shipped != NULL)
            shipped_text = read_whole_file(candidates[i]);
    }
    return shipped != NULL && shipped_text != NULL ? 0 : -1;
}

static int free_shipped(void **state)
{
    (void)state;
    sentiment_lexicon_free(shipped);
    free(shipped_text);
    shipped = NULL;
    shipped_text = NULL;
    return 0;
}

static void check_score(const char *text)
{
    sentiment_score score;
    assert_int_equal(sentiment_score_text(shipped, text, &score), 0);
    assert_true(isfinite(score.compound) && score.compound >= -1.0 && score.compound <= 1.0);
    assert_true(isfinite(score.sum));
    assert_true(score.contributor_count <= SENTIMENT_MAX_CONTRIBUTORS);
    assert_true(score.contributor_count <= score.matches);
    if (score.matches == 0)
        assert_true(score.compound == 0.0);
    int input_valid = fuzz_is_valid_utf8(text, strlen(text));
    for (size_t i = 0; i < score.contributor_count; i++) {
        const sentiment_contributor *contributor = &score.contributors[i];
        size_t length = strnlen(contributor->text, sizeof contributor->text);
        assert_true(length < sizeof contributor->text);
        assert_non_null(strstr(text, contributor->text)); /* as written in the message */
        if (input_valid)
            assert_true(fuzz_is_valid_utf8(contributor->text, length));
        assert_true(isfinite(contributor->valence));
        if (i > 0)
            assert_true(fabs(score.contributors[i - 1].valence) >= fabs(contributor->valence));
    }
    const char *label = sentiment_label(score.compound);
    assert_true(strcmp(label, "positive") == 0 ? score.compound >= 0.05
                : strcmp(label, "negative") == 0 ? score.compound <= -0.05
                                                 : fabs(score.compound) < 0.05);
}

static void test_scorer_random_text(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text text = {0};
    fuzz_seed(&rng, 0x5E471001);
    for (int i = 0; i < ITERATIONS; i++) {
        switch (fuzz_below(&rng, 3)) {
        case 0:
            fuzz_random_bytes(&rng, &text, fuzz_below(&rng, 200), 0);
            break;
        case 1:
            fuzz_random_chat(&rng, &text, chat_words, CHAT_WORD_COUNT, fuzz_below(&rng, 40));
            break;
        default:
            fuzz_random_chat(&rng, &text, chat_words, CHAT_WORD_COUNT, 1 + fuzz_below(&rng, 12));
            fuzz_mutate_once(&rng, &text, chat_words, CHAT_WORD_COUNT);
            break;
        }
        check_score(text.data);
    }
    fuzz_free(&text);
}

/* 64 KB lines: one emoji repeated, one word repeated (huge sums), boosters
 * and negations in a row, invalid bytes, and random chat. */
static void test_scorer_long_lines(void **state)
{
    (void)state;
    static const char *const units[] = {
        "\xF0\x9F\x9A\x80", "great ", "GREAT!!! ", "not very ", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBB",
        "\xFF", "\xE2\x80\x8D", "scam ", "but ", "a", "'", "!", "?",
    };
    fuzz_text text = {0};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        fuzz_clear(&text);
        while (text.length < LONG_LINE)
            fuzz_append_string(&text, units[u]);
        check_score(text.data);
    }
    fuzz_rng rng;
    fuzz_seed(&rng, 0x5E471002);
    for (int i = 0; i < 4; i++) {
        fuzz_clear(&text);
        while (text.length < LONG_LINE) {
            fuzz_text part = {0};
            fuzz_random_chat(&rng, &part, chat_words, CHAT_WORD_COUNT, 50);
            fuzz_append(&text, part.data, part.length);
            fuzz_free(&part);
        }
        check_score(text.data);
    }
    fuzz_free(&text);
}

static void check_mentions(const sentiment_token_table *table, const char *text)
{
    unsigned char found[SENTIMENT_MAX_TOKENS + 1];
    memset(found, 0xEE, sizeof found);
    size_t distinct = sentiment_tokens_mentioned(table, text, found);
    size_t marked = 0;
    for (size_t i = 0; i < table->count; i++) {
        assert_true(found[i] == 0 || found[i] == 1);
        marked += found[i];
        if (!found[i])
            continue;
        /* a found token's symbol or one of its names is in the text */
        int present = strcasestr(text, table->tokens[i].symbol) != NULL;
        for (size_t n = 0; n < table->tokens[i].name_count && !present; n++)
            present = strcasestr(text, table->tokens[i].names[n]) != NULL;
        assert_true(present);
    }
    assert_int_equal(found[table->count], 0xEE); /* nothing written past count */
    assert_int_equal(distinct, marked);
}

static void test_token_detection(void **state)
{
    (void)state;
    sentiment_token_table table;
    char error[160];
    assert_int_equal(sentiment_tokens_parse(SENTIMENT_DEFAULT_TOKENS, &table, error, sizeof error),
                     0);
    fuzz_rng rng;
    fuzz_text text = {0};
    fuzz_seed(&rng, 0x5E471003);
    size_t with_mentions = 0;
    for (int i = 0; i < ITERATIONS; i++) {
        if (fuzz_one_in(&rng, 3))
            fuzz_random_bytes(&rng, &text, fuzz_below(&rng, 120), 0);
        else
            fuzz_random_chat(&rng, &text, chat_words, CHAT_WORD_COUNT, fuzz_below(&rng, 20));
        check_mentions(&table, text.data);
        unsigned char found[SENTIMENT_MAX_TOKENS];
        with_mentions += sentiment_tokens_mentioned(&table, text.data, found) > 0;
        int index = sentiment_tokens_lookup(&table, text.data);
        assert_true(index >= -1 && index < (int)table.count);
    }
    assert_true(with_mentions > ITERATIONS / 10);
    fuzz_clear(&text);
    while (text.length < LONG_LINE)
        fuzz_append_string(&text, "$SOL_sol\xC3\xB1" "BTC ");
    check_mentions(&table, text.data);
    fuzz_free(&text);
}

static void test_token_list_parser(void **state)
{
    (void)state;
    static const char *const specs[] = {
        SENTIMENT_DEFAULT_TOKENS, "SOL", "sol:solana:sol2", "A:b:c:d:e:f", "BTC, BTC",
        "X1:y2, Z3", ", , ,", "", "SOL:", ":solana", "SOLANASOLANASOLAN:x",
    };
    fuzz_rng rng;
    fuzz_text spec = {0};
    fuzz_seed(&rng, 0x5E471004);
    for (int i = 0; i < ITERATIONS; i++) {
        fuzz_mutated_copy(&rng, &spec, specs, sizeof specs / sizeof specs[0], 4);
        for (size_t k = 0; k < spec.length; k++) /* a config value is one line */
            if (spec.data[k] == '\n')
                spec.data[k] = ' ';
        sentiment_token_table table;
        char error[200];
        memset(error, 'x', sizeof error);
        int result = sentiment_tokens_parse(spec.data, &table, error, sizeof error);
        if (result != 0) {
            assert_int_equal(result, -1);
            if (!fuzz_is_one_line(error, sizeof error))
                fail_msg("not one line: '%.*s'", (int)sizeof error, error);
            assert_true(strncmp(error, "tokens: ", 8) == 0);
            continue;
        }
        assert_true(table.count >= 1 && table.count <= SENTIMENT_MAX_TOKENS);
        for (size_t t = 0; t < table.count; t++) {
            const char *symbol = table.tokens[t].symbol;
            assert_true(symbol[0] != '\0' &&
                        strspn(symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(symbol));
            assert_true(table.tokens[t].name_count <= SENTIMENT_MAX_TOKEN_NAMES);
            for (size_t n = 0; n < table.tokens[t].name_count; n++) {
                const char *name = table.tokens[t].names[n];
                assert_true(name[0] != '\0' &&
                            strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(name));
            }
        }
    }
    fuzz_free(&spec);
}

/* Found by test_token_list_parser: a CR inside the value (possible in a
 * plugins.ini value) was quoted raw into the error. */
static void test_token_list_regressions(void **state)
{
    (void)state;
    sentiment_token_table table;
    char error[200];
    assert_int_equal(sentiment_tokens_parse("SOL, \rB BTC", &table, error, sizeof error), -1);
    assert_true(fuzz_is_one_line(error, sizeof error));
    assert_non_null(strstr(error, "bad entry ' B BTC'"));
}

/* Found while fuzzing the lexicon parser: an entry of control characters
 * around a CR was quoted raw into the error. */
static void test_lexicon_regressions(void **state)
{
    (void)state;
    char error[256];
    assert_null(sentiment_lexicon_parse("good 1\n\x01\r\x01 1.0\n", "x.txt", error,
                                        sizeof error));
    assert_true(fuzz_is_one_line(error, sizeof error));
    assert_non_null(strstr(error, "x.txt:2: entry has no word or emoji in it"));
}

/* Mutated slices of the shipped lexicon (an operator edits that file). */
static void test_lexicon_parser(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text text = {0};
    fuzz_seed(&rng, 0x5E471005);
    size_t total = strlen(shipped_text);
    int accepted = 0;
    for (int i = 0; i < ITERATIONS / 5; i++) {
        size_t start = fuzz_below(&rng, total);
        while (start > 0 && shipped_text[start - 1] != '\n')
            start--;
        size_t length = fuzz_below(&rng, 600);
        if (start + length > total)
            length = total - start;
        fuzz_set(&text, shipped_text + start, length);
        size_t mutations = fuzz_below(&rng, 4);
        for (size_t m = 0; m < mutations; m++)
            fuzz_mutate_once(&rng, &text, chat_words, CHAT_WORD_COUNT);
        char error[256];
        memset(error, 'x', sizeof error);
        sentiment_lexicon *lexicon = sentiment_lexicon_parse(text.data, "fuzz.txt", error,
                                                             sizeof error);
        if (lexicon == NULL) {
            if (!fuzz_is_one_line(error, sizeof error))
                fail_msg("not one line: '%.*s'", (int)sizeof error, error);
            assert_true(strncmp(error, "fuzz.txt", 8) == 0);
            continue;
        }
        accepted++;
        assert_true(sentiment_lexicon_longest(lexicon) <= SENTIMENT_LEXICON_MAX_WORDS);
        sentiment_score score;
        assert_int_equal(sentiment_score_text(lexicon, text.data, &score), 0);
        assert_true(score.compound >= -1.0 && score.compound <= 1.0);
        sentiment_lexicon_free(lexicon);
    }
    assert_true(accepted > ITERATIONS / 50);
    fuzz_free(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scorer_random_text),
        cmocka_unit_test(test_scorer_long_lines),
        cmocka_unit_test(test_token_detection),
        cmocka_unit_test(test_token_list_parser),
        cmocka_unit_test(test_token_list_regressions),
        cmocka_unit_test(test_lexicon_parser),
        cmocka_unit_test(test_lexicon_regressions),
    };
    return cmocka_run_group_tests(tests, load_shipped, free_shipped);
}
