/* The narrative checker (rules in narrative.h and docs/dexter_finance.md). */
#include "narrative.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBERS_MAX 96

typedef struct number {
    double value;    /* magnitude: a sign is a direction, checked apart */
    double rounding; /* half a unit of the last digit written */
    char text[32];
} number;

typedef struct number_list {
    number items[NUMBERS_MAX];
    size_t count;
} number_list;

/* Reads "1,234.5", "0.00002", "62" at p; commas group thousands only. */
static size_t read_number(const char *p, number *out)
{
    char digits[32];
    size_t n = 0, used = 0, decimals = 0;
    int after_point = 0;
    while (p[used] && n + 1 < sizeof digits) {
        char c = p[used];
        if (isdigit((unsigned char)c)) {
            digits[n++] = c;
            decimals += after_point;
        } else if (c == '.' && !after_point && isdigit((unsigned char)p[used + 1])) {
            digits[n++] = c;
            after_point = 1;
        } else if (c == ',' && !after_point && isdigit((unsigned char)p[used + 1]) &&
                   isdigit((unsigned char)p[used + 2]) && isdigit((unsigned char)p[used + 3])) {
            /* a thousands separator: skip it */
        } else {
            break;
        }
        used++;
    }
    digits[n] = '\0';
    out->value = strtod(digits, NULL);
    out->rounding = 0.5 * pow(10.0, -(double)decimals) + 1e-12;
    snprintf(out->text, sizeof out->text, "%s", digits);
    return used;
}

/* Numbers glued to letters ("SMA7", "RSI-14", "24h", "7-day") are names
 * of things or periods; they are collected too, and the facts name them. */
static void collect(const char *text, number_list *list)
{
    list->count = 0;
    for (const char *p = text; *p;) {
        if (!isdigit((unsigned char)*p)) {
            p++;
            continue;
        }
        number value;
        size_t used = read_number(p, &value);
        if (list->count < NUMBERS_MAX)
            list->items[list->count++] = value;
        p += used ? used : 1;
    }
}

static int appears_in(const number *wanted, const number_list *facts)
{
    for (size_t i = 0; i < facts->count; i++) {
        /* the narrative may round a fact, never invent a more precise one */
        double tolerance = fmax(wanted->rounding, facts->items[i].rounding);
        if (fabs(wanted->value - facts->items[i].value) <= tolerance)
            return 1;
    }
    return 0;
}

static int has_word(const char *text, const char *const *words)
{
    for (size_t w = 0; words[w]; w++) {
        size_t length = strlen(words[w]);
        for (const char *p = text; (p = strcasestr(p, words[w])) != NULL; p += length) {
            int starts = p == text || !isalpha((unsigned char)p[-1]);
            int ends = !isalpha((unsigned char)p[length]);
            if (starts && ends)
                return 1;
        }
    }
    return 0;
}

static const char *const bullish_words[] = {"bullish",   "uptrend", "upward",  "rally",
                                            "rallying",  "surge",   "surging", "soaring",
                                            "skyrocket", "moon",    NULL};
static const char *const bearish_words[] = {"bearish",  "downtrend", "downward", "selloff",
                                            "sell-off", "plunge",    "plunging", "crash",
                                            "crashing", "collapse",  "tanking",  NULL};

int dexter_narrative_check(const char *narrative, const char *facts, const char *verdict_label,
                           char *why, size_t why_length)
{
    if (!narrative || !facts || !verdict_label) {
        snprintf(why, why_length, "nothing to check");
        return -1;
    }
    static __thread number_list said, known;
    collect(narrative, &said);
    collect(facts, &known);
    for (size_t i = 0; i < said.count; i++) {
        if (!appears_in(&said.items[i], &known)) {
            snprintf(why, why_length, "the number %s is not in the facts", said.items[i].text);
            return -1;
        }
    }
    int up = has_word(narrative, bullish_words);
    int down = has_word(narrative, bearish_words);
    int bullish = strcmp(verdict_label, "bullish") == 0;
    int bearish = strcmp(verdict_label, "bearish") == 0;
    if ((bullish && down && !up) || (bearish && up && !down) ||
        (!bullish && !bearish && (up || down)) || (up && down)) {
        snprintf(why, why_length, "its direction (%s) disagrees with the verdict %s",
                 up && down ? "both ways"
                 : up       ? "bullish"
                            : "bearish",
                 verdict_label);
        return -1;
    }
    return 0;
}
