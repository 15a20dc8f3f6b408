/* The narrative checker: a Grok summary that invents a number or
 * contradicts the verdict is dropped; one that restates the facts passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dexter_finance/narrative.h"

static const char facts[] =
    "Token SOL. Price $142.60. 24h change +1.82%. 7-day change +5.10%. SMA7 is above SMA25 by "
    "3.25%. RSI-14 61.4. Annualised volatility 48.2%. Verdict bullish, confidence 45%.";

static void test_summaries(void **unused)
{
    (void)unused;
    static const struct {
        const char *summary, *verdict;
        int shown;
    } rows[] = {
        {"SOL trades at $142.60, up 1.82% in a day and 5.10% over the week. The trend is "
         "bullish with RSI at 61.4.", "bullish", 1},
        {"SOL is near $143 and its 7-day gain is about 5.1%.", "bullish", 1},   /* rounded */
        {"SOL sits at $142.6 with SMA7 above SMA25.", "bullish", 1},
        {"SOL could reach $200 soon.", "bullish", 0},                          /* invented */
        {"SOL is up 12% this week.", "bullish", 0},                            /* invented */
        {"Price $142.60, RSI 62.9.", "bullish", 0},                            /* off by more than rounding */
        {"SOL looks bearish, down from recent highs at $142.60.", "bullish", 0}, /* contradicts */
        {"SOL is bullish at $142.60.", "bearish", 0},
        {"SOL is bullish at $142.60.", "neutral", 0},
        {"A rally and then a crash at $142.60.", "bullish", 0},                 /* both ways */
        {"SOL holds steady at $142.60 with moderate volatility of 48.2%.", "neutral", 1},
        {"Confidence is 45% on a 7-day view.", "bullish", 1},
        {"SOL at $1,142.60.", "bullish", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char why[160] = "";
        int shown = dexter_narrative_check(rows[i].summary, facts, rows[i].verdict, why,
                                           sizeof why) == 0;
        if (shown != rows[i].shown)
            fail_msg("row %zu \"%s\" (%s): shown %d, why '%s'", i, rows[i].summary,
                     rows[i].verdict, shown, why);
        if (!shown)
            assert_true(why[0] != '\0' && strchr(why, '\n') == NULL);
    }
    char why[160];
    assert_int_equal(dexter_narrative_check(NULL, facts, "bullish", why, sizeof why), -1);
    assert_int_equal(dexter_narrative_check("SOL could reach $200.", facts, "bullish", why,
                                            sizeof why), -1);
    assert_string_equal(why, "the number 200 is not in the facts");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_summaries)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
