/* The VADER-family scorer (see scorer.h). Per matched entry, in VADER's
 * order: valence, ALL-CAPS emphasis, boosters among the three preceding
 * words, negation among them, then "but" contrast; then '!' and '?'. One
 * deliberate difference: the three-word look-back stops at a clause break
 * (". , ; : ! ?"), so "Not sure. Great team" does not negate "great".
 * Idioms ("kiss of death") are lexicon phrases, matched before their words. */
#include "scorer.h"
#include "words.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char *const negation_words[] = {
    "not",     "no",     "never",   "none",    "nobody",   "nothing", "neither", "nor",
    "nowhere", "cannot", "cant",    "dont",    "doesnt",   "didnt",   "isnt",    "arent",
    "wasnt",   "werent", "wont",    "wouldnt", "shouldnt", "couldnt", "hasnt",   "havent",
    "hadnt",   "aint",   "mustnt",  "mightnt", "neednt",   "shant",   "nope",    "without",
    "rarely",  "seldom", "despite", "uhuh",    "noone",    "zero",    NULL};

static const char *const booster_words[] = {
    "absolutely", "amazingly",    "awfully",    "completely",   "considerably",  "decidedly",
    "deeply",     "enormously",   "entirely",   "especially",   "exceptionally", "extremely",
    "fabulously", "fully",        "greatly",    "highly",       "hugely",        "incredibly",
    "intensely",  "majorly",      "more",       "most",         "particularly",  "purely",
    "quite",      "really",       "remarkably", "so",           "substantially", "thoroughly",
    "totally",    "tremendously", "uber",       "unbelievably", "unusually",     "utterly",
    "very",       "super",        "mega",       "hella",        "insanely",      "ultra",
    "truly",      "seriously",    "wildly",     "massively",    "too",           NULL};

static const char *const dampener_words[] = {
    "almost",     "barely",       "hardly",   "kinda",    "kindof",   "less",     "little",
    "marginally", "occasionally", "partly",   "scarcely", "slightly", "somewhat", "sorta",
    "sortof",     "mildly",       "modestly", "lightly",  NULL};

/* two-word dampeners, matched on their last word: "kind of", "sort of", "a bit" */
static const char *const dampener_pairs[][2] = {
    {"kind", "of"}, {"sort", "of"}, {"a", "bit"}, {"a", "tad"}, {NULL, NULL}};

static int word_is(const sentiment_words *words, size_t index, const char *literal)
{
    size_t length = strlen(literal);
    return words->items[index].normal_length == length &&
           memcmp(sentiment_word_text(words, index), literal, length) == 0;
}

static int word_in(const sentiment_words *words, size_t index, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (word_is(words, index, list[i]))
            return 1;
    }
    return 0;
}

static int is_negation(const sentiment_words *words, size_t index)
{
    const char *text = sentiment_word_text(words, index);
    size_t length = words->items[index].normal_length;
    if (length >= 3 && memcmp(text + length - 3, "n't", 3) == 0)
        return 1;
    if (word_in(words, index, negation_words))
        return 1;
    /* "least" negates, except in "at least" and "very least" */
    if (word_is(words, index, "least"))
        return index == 0 ||
               !(word_is(words, index - 1, "at") || word_is(words, index - 1, "very"));
    return 0;
}

static int is_dampener_pair_end(const sentiment_words *words, size_t index)
{
    if (index == 0 || words->items[index].clause_start)
        return 0;
    for (size_t i = 0; dampener_pairs[i][0] != NULL; i++) {
        if (word_is(words, index - 1, dampener_pairs[i][0]) &&
            word_is(words, index, dampener_pairs[i][1]))
            return 1;
    }
    return 0;
}

/* +1 booster, -1 dampener, 0 neither */
static int booster_direction(const sentiment_words *words, size_t index)
{
    if (word_in(words, index, booster_words))
        return 1;
    if (word_in(words, index, dampener_words) || is_dampener_pair_end(words, index))
        return -1;
    return 0;
}

static int is_caps_emphasis(const sentiment_words *words, size_t first, size_t count)
{
    if (!words->mixed_case)
        return 0;
    int any_letters = 0;
    for (size_t i = first; i < first + count; i++) {
        if (!words->items[i].has_letter)
            continue;
        if (!words->items[i].is_caps)
            return 0;
        any_letters = 1;
    }
    return any_letters;
}

static double toward(double valence, double amount)
{
    return valence < 0 ? -amount : amount;
}

/* What a word in the look-back of a match at first does to its valence:
 * ×-0.74 for a negation, with VADER's two exceptions: "never so good" and
 * "never this good" intensify (×1.25), "without doubt good" leaves it alone.
 * 1.0 for any other word. */
/* Comparatives after "never" intensify: "never been more bullish", "never
 * felt better". */
static const char *const never_comparatives[] = {
    "so", "this", "more", "better", "happier", "prouder", "stronger", "bullisher", NULL};

static int never_intensifies(const sentiment_words *words, size_t index, size_t first)
{
    if (!word_is(words, index, "never"))
        return 0;
    for (size_t i = index + 1; i <= first && i < words->count; i++) {
        if (i > index + 1 && words->items[i].clause_start)
            return 0;
        if (word_in(words, i, never_comparatives))
            return 1;
    }
    return 0;
}

static double negation_factor(const sentiment_words *words, size_t index, size_t first)
{
    if (!is_negation(words, index))
        return 1.0;
    if (never_intensifies(words, index, first))
        return SENTIMENT_NEVER_SO_SCALE;
    size_t next = index + 1;
    if (next < first && !words->items[next].clause_start) {
        /* "nothing but love": an exception, not a negation */
        if (word_is(words, next, "but") &&
            (word_is(words, index, "nothing") || word_is(words, index, "none")))
            return 1.0;
        if (word_is(words, index, "without") && word_is(words, next, "doubt"))
            return 1.0;
    }
    return SENTIMENT_NEGATION_SCALE;
}

/* Boosters, dampeners and negations among the three words before first,
 * stopping at a clause break. */
static double apply_preceding(const sentiment_words *words, size_t first, double valence)
{
    static const double distance_scale[3] = {1.0, 0.95, 0.9};
    double adjusted = valence;
    for (size_t distance = 1; distance <= 3 && distance <= first; distance++) {
        if (words->items[first - distance + 1].clause_start)
            break;
        size_t index = first - distance;
        int direction = booster_direction(words, index);
        if (direction != 0) {
            double step = toward(valence, SENTIMENT_BOOSTER_STEP) * direction;
            if (is_caps_emphasis(words, index, 1))
                step += toward(valence, SENTIMENT_CAPS_STEP);
            adjusted += step * distance_scale[distance - 1];
        }
        adjusted *= negation_factor(words, index, first);
    }
    return adjusted;
}

/* The longest entry starting at first that stays inside one clause. */
static size_t longest_match(const sentiment_lexicon *lexicon, const sentiment_words *words,
                            size_t first, double *valence)
{
    size_t limit = sentiment_lexicon_longest(lexicon);
    if (limit > words->count - first)
        limit = words->count - first;
    for (size_t span = 1; span < limit; span++) {
        if (words->items[first + span].clause_start) {
            limit = span;
            break;
        }
    }
    char key[SENTIMENT_LEXICON_KEY_MAX];
    for (size_t span = limit; span >= 1; span--) {
        size_t used = 0;
        int fits = 1;
        for (size_t i = first; i < first + span && fits; i++) {
            size_t length = words->items[i].normal_length;
            fits = used + (i > first) + length < sizeof key;
            if (!fits)
                break;
            if (i > first)
                key[used++] = ' ';
            memcpy(key + used, sentiment_word_text(words, i), length);
            used += length;
        }
        if (fits && sentiment_lexicon_find(lexicon, key, used, valence))
            return span;
    }
    return 0;
}

static size_t first_but(const sentiment_words *words)
{
    for (size_t i = 0; i < words->count; i++) {
        /* "nothing but gains" is no contrast */
        if (word_is(words, i, "but") &&
            !(i > 0 && (word_is(words, i - 1, "nothing") || word_is(words, i - 1, "none"))))
            return i;
    }
    return SIZE_MAX;
}

/* Sarcasm cues: "oh great" / "oh perfect" next to something bad, and the
 * upside-down face or eye-roll emoji, which turn praise around. */
static const char *const sarcastic_praise[] = {
    "great",   "perfect", "fantastic", "wonderful", "nice",     "lovely", "brilliant",
    "awesome", "amazing", "cool",      "yay",       "splendid", NULL};
static const char *const sarcasm_emoji[] = {"\xf0\x9f\x99\x83", "\xf0\x9f\x99\x84", NULL};

static int is_sarcastic_praise(const sentiment_words *words, size_t index)
{
    return index > 0 && word_in(words, index, sarcastic_praise) &&
           (word_is(words, index - 1, "oh") || word_is(words, index - 1, "just"));
}

static int has_sarcasm_emoji(const sentiment_words *words)
{
    for (size_t i = 0; i < words->count; i++)
        if (word_in(words, i, sarcasm_emoji))
            return 1;
    return 0;
}

/* Copies the original text of a match, cut at a UTF-8 character boundary. */
static void copy_span(const char *text, const sentiment_words *words, size_t first, size_t span,
                      char *out)
{
    size_t start = words->items[first].start;
    const sentiment_word *last = &words->items[first + span - 1];
    size_t length = last->start + last->length - start;
    if (length >= SENTIMENT_CONTRIBUTOR_TEXT) {
        length = SENTIMENT_CONTRIBUTOR_TEXT - 1;
        while (length > 0 && ((unsigned char)text[start + length] & 0xC0) == 0x80)
            length--;
    }
    memcpy(out, text + start, length);
    out[length] = '\0';
}

static void keep_contributor(sentiment_score *score, const sentiment_contributor *candidate)
{
    if (score->contributor_count < SENTIMENT_MAX_CONTRIBUTORS) {
        score->contributors[score->contributor_count++] = *candidate;
        return;
    }
    size_t weakest = 0;
    for (size_t i = 1; i < score->contributor_count; i++) {
        if (fabs(score->contributors[i].valence) < fabs(score->contributors[weakest].valence))
            weakest = i;
    }
    if (fabs(candidate->valence) > fabs(score->contributors[weakest].valence))
        score->contributors[weakest] = *candidate;
}

/* Strongest first; insertion sort keeps text order among equals. */
static void sort_contributors(sentiment_score *score)
{
    for (size_t i = 1; i < score->contributor_count; i++) {
        sentiment_contributor moving = score->contributors[i];
        size_t j = i;
        while (j > 0 && fabs(score->contributors[j - 1].valence) < fabs(moving.valence)) {
            score->contributors[j] = score->contributors[j - 1];
            j--;
        }
        score->contributors[j] = moving;
    }
}

static double punctuation_emphasis(const sentiment_words *words)
{
    int exclamations = words->exclamations;
    if (exclamations > SENTIMENT_EXCLAMATION_MAX)
        exclamations = SENTIMENT_EXCLAMATION_MAX;
    double emphasis = exclamations * SENTIMENT_EXCLAMATION_STEP;
    if (words->questions > 1)
        emphasis += words->questions <= 3 ? words->questions * SENTIMENT_QUESTION_STEP
                                          : SENTIMENT_QUESTION_MANY;
    return emphasis;
}

static double normalise(double sum)
{
    double compound = sum / sqrt(sum * sum + SENTIMENT_NORMALISE_ALPHA);
    if (compound > 1.0)
        return 1.0;
    if (compound < -1.0)
        return -1.0;
    return compound;
}

static void score_words(const sentiment_lexicon *lexicon, const char *text,
                        const sentiment_words *words, sentiment_score *score)
{
    size_t but = first_but(words);
    size_t index = 0;
    double praise = 0.0, negative = 0.0, positive = 0.0;
    int bare_praise = 0;
    while (index < words->count) {
        double valence = 0;
        size_t span = longest_match(lexicon, words, index, &valence);
        /* a booster is a modifier even if a user lexicon lists it */
        if (span == 1 && booster_direction(words, index) != 0)
            span = 0;
        if (span == 0) {
            index++;
            continue;
        }
        if (is_caps_emphasis(words, index, span))
            valence += toward(valence, SENTIMENT_CAPS_STEP);
        valence = apply_preceding(words, index, valence);
        if (but != SIZE_MAX)
            valence *= index < but ? 0.5 : 1.5;
        sentiment_contributor contributor = {.valence = valence};
        copy_span(text, words, index, span, contributor.text);
        keep_contributor(score, &contributor);
        score->sum += valence;
        score->matches++;
        if (valence > 0 && span == 1 && is_sarcastic_praise(words, index))
            praise += valence;
        if (valence > 0 && span == 1 && is_sarcastic_praise(words, index) &&
            (index + 1 >= words->count || words->items[index + 1].clause_start))
            bare_praise = 1; /* "oh great," with nothing praised after it */
        else if (valence < 0)
            negative += valence;
        else
            positive += valence;
        index += span;
    }
    /* "oh perfect, another exploit": the praise is the complaint */
    if (praise > 0 && (negative < 0 || (bare_praise && positive <= 0)))
        score->sum -= 1.5 * praise;
    /* an eye-roll over praise flips and damps it */
    if (positive + praise > 0 && has_sarcasm_emoji(words))
        score->sum = score->sum > 0 ? -0.5 * score->sum : score->sum;
}

int sentiment_score_text(const sentiment_lexicon *lexicon, const char *text, sentiment_score *score)
{
    memset(score, 0, sizeof *score);
    sentiment_words words;
    if (sentiment_words_split(text, &words) != 0)
        return -1;
    score_words(lexicon, text, &words, score);
    if (score->sum != 0)
        score->sum += toward(score->sum, punctuation_emphasis(&words));
    score->compound = normalise(score->sum);
    sort_contributors(score);
    sentiment_words_free(&words);
    return 0;
}

const char *sentiment_label(double compound)
{
    if (compound >= SENTIMENT_LABEL_THRESHOLD)
        return "positive";
    if (compound <= -SENTIMENT_LABEL_THRESHOLD)
        return "negative";
    return "neutral";
}

const char *sentiment_market_label(double compound)
{
    if (compound >= SENTIMENT_LABEL_THRESHOLD)
        return "bullish";
    if (compound <= -SENTIMENT_LABEL_THRESHOLD)
        return "bearish";
    return "neutral";
}
