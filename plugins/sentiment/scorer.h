/* The VADER-family scorer: lexicon valences adjusted by caps, boosters,
 * negation, "but" and punctuation, normalised to a compound in [-1, 1].
 * Pure and re-entrant: safe to call from any number of threads at once. */
#ifndef SENTIMENT_SCORER_H
#define SENTIMENT_SCORER_H

#include <stddef.h>

#include "lexicon.h"

#define SENTIMENT_MAX_CONTRIBUTORS 16
#define SENTIMENT_CONTRIBUTOR_TEXT 48

/* The rule constants, VADER's values (API_FACTS.md section 6). */
#define SENTIMENT_BOOSTER_STEP 0.293
#define SENTIMENT_CAPS_STEP 0.733
#define SENTIMENT_NEGATION_SCALE -0.74
#define SENTIMENT_NEVER_SO_SCALE 1.25 /* "never so good" */
#define SENTIMENT_EXCLAMATION_STEP 0.292
#define SENTIMENT_EXCLAMATION_MAX 4
#define SENTIMENT_QUESTION_STEP 0.18
#define SENTIMENT_QUESTION_MANY 0.96
#define SENTIMENT_NORMALISE_ALPHA 15.0
#define SENTIMENT_LABEL_THRESHOLD 0.05

/* One matched lexicon entry and what the rules made of it. */
typedef struct sentiment_contributor {
    char text[SENTIMENT_CONTRIBUTOR_TEXT]; /* as written in the message (cut at a
                                              UTF-8 boundary when long) */
    double valence;                        /* after caps, boosters, negation, "but" */
} sentiment_contributor;

typedef struct sentiment_score {
    double compound; /* [-1, 1] */
    double sum;      /* valences plus punctuation emphasis, before normalising */
    size_t matches;  /* lexicon entries found */
    /* the strongest contributors, strongest first (by |valence|) */
    size_t contributor_count;
    sentiment_contributor contributors[SENTIMENT_MAX_CONTRIBUTORS];
} sentiment_score;

/* 0, or -1 when out of memory. An empty text scores 0. */
int sentiment_score_text(const sentiment_lexicon *lexicon, const char *text,
                         sentiment_score *score);

/* "positive" / "negative" / "neutral" by VADER's thresholds (+-0.05). */
const char *sentiment_label(double compound);
/* The same thresholds for a token: "bullish" / "bearish" / "neutral". */
const char *sentiment_market_label(double compound);

#endif
