/* libFuzzer target: xAI answers (chat completions, the Responses API, error
 * bodies) through grok_weighting's validators: a rating only from a fully
 * valid answer, in range, with a one-line summary; reasons one line.
 * First byte: the HTTP status class and which validator. */
#include "fuzz_common.h"
#include "grok_weighting/grok_response.h"

#include <math.h>

static void check_rating(enum grok_failure failure, const jv_grok_rating *rating)
{
    if (failure == GROK_OK) {
        FUZZ_REQUIRE(rating->available == 1);
        FUZZ_REQUIRE(isfinite(rating->score) && rating->score >= -1.0 && rating->score <= 1.0);
        FUZZ_REQUIRE(rating->confidence >= 0.0 && rating->confidence <= 1.0);
        FUZZ_REQUIRE(memchr(rating->summary, '\0', sizeof rating->summary) != NULL);
        FUZZ_REQUIRE(strchr(rating->summary, '\n') == NULL);
        FUZZ_REQUIRE(fuzz_valid_utf8(rating->summary, strlen(rating->summary)));
    } else {
        FUZZ_REQUIRE(rating->available == 0);
        FUZZ_REQUIRE(memchr(rating->reason, '\0', sizeof rating->reason) != NULL);
        FUZZ_REQUIRE(strchr(rating->reason, '\n') == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet_log();
    if (size < 1)
        return 0;
    static const long statuses[] = {200, 200, 200, 400, 401, 403, 410, 429, 500, 503, 0, 201};
    long status = statuses[(data[0] >> 2) % (sizeof statuses / sizeof statuses[0])];
    char *body = fuzz_text(data + 1, size - 1);
    switch (data[0] & 3) {
    case 0: {
        jv_grok_rating rating;
        memset(&rating, 0x5A, sizeof rating);
        check_rating(grok_parse_rating(status, body, 7, &rating), &rating);
        break;
    }
    case 1: {
        struct grok_answer answer;
        memset(&answer, 0x5A, sizeof answer);
        enum grok_failure failure = grok_parse_responses_rating(status, body, 7, &answer);
        check_rating(failure, &answer.rating);
        FUZZ_REQUIRE(answer.x_searches >= 0 && answer.cited_posts >= 0);
        FUZZ_REQUIRE(answer.grounded == (answer.x_searches > 0 && answer.cited_posts > 0));
        break;
    }
    case 2: {
        char out[512];
        char reason[160];
        enum grok_failure failure =
            grok_parse_text(status, body, 7, out, sizeof out, reason, sizeof reason);
        if (failure == GROK_OK)
            FUZZ_REQUIRE(strchr(out, '\n') == NULL && fuzz_valid_utf8(out, strlen(out)));
        else
            FUZZ_REQUIRE(strchr(reason, '\n') == NULL);
        break;
    }
    default: {
        struct grok_usage usage;
        grok_parse_usage(body, &usage);
        FUZZ_REQUIRE(usage.input_tokens >= 0 && usage.output_tokens >= 0);
        char id[32];
        if (grok_x_post_id(body, id, sizeof id))
            for (const char *c = id; *c != '\0'; c++)
                FUZZ_REQUIRE(*c >= '0' && *c <= '9');
        char line[128];
        grok_one_line(body, line, sizeof line);
        FUZZ_REQUIRE(strchr(line, '\n') == NULL);
        break;
    }
    }
    free(body);
    return 0;
}
