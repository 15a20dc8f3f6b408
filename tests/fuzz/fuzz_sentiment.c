/* libFuzzer target: the sentiment scorer with the shipped lexicon on any
 * chat text: compound in [-1, 1], contributors bounded and NUL-terminated. */
#include "fuzz_common.h"
#include "sentiment/lexicon.h"
#include "sentiment/scorer.h"

#include <math.h>

static sentiment_lexicon *lexicon;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char error[256];
    lexicon = sentiment_lexicon_load(FUZZ_REPO "/plugins/sentiment/lexicon.txt", error,
                                     sizeof error);
    if (lexicon == NULL) {
        fprintf(stderr, "fuzz_sentiment: %s\n", error);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    sentiment_score score;
    if (sentiment_score_text(lexicon, text, &score) == 0) {
        FUZZ_REQUIRE(isfinite(score.compound) && score.compound >= -1.0 && score.compound <= 1.0);
        FUZZ_REQUIRE(isfinite(score.sum));
        FUZZ_REQUIRE(score.contributor_count <= SENTIMENT_MAX_CONTRIBUTORS);
        for (size_t i = 0; i < score.contributor_count; i++) {
            const sentiment_contributor *contributor = &score.contributors[i];
            FUZZ_REQUIRE(memchr(contributor->text, '\0', sizeof contributor->text) != NULL);
            FUZZ_REQUIRE(isfinite(contributor->valence));
            if (i > 0)
                FUZZ_REQUIRE(fabs(score.contributors[i - 1].valence) >=
                             fabs(contributor->valence));
        }
        FUZZ_REQUIRE(sentiment_label(score.compound) != NULL);
    }
    free(text);
    return 0;
}
