/* Fuzz-style tests of grok_weighting's answer validation: mutated
 * chat-completions bodies, generated rating contents with wrong types and
 * out-of-range numbers, random bytes and error bodies under every status.
 * A rating is only ever filled from a valid answer, in range; every reason
 * and summary is one line; grok_one_line and grok_scrub_secret keep their
 * promises on random bytes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "fuzz_input.h"
#include "grok_weighting/grok_response.h"

#define ITERATIONS 3000

static const char *const bodies[] = {
    "{\"id\":\"x1\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"grok-4\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"score\\\":"
    "0.42,\\\"confidence\\\":0.7,\\\"summary\\\":\\\"Upbeat chatter about ETF flows.\\\"}\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}}",
    "{\"choices\":[{\"message\":{\"content\":\"```json\\n{\\\"score\\\":-1,\\\"confidence\\\":0,"
    "\\\"summary\\\":\\\"\\\"}\\n```\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"Solana looks\\nstrong \\u00e9\\ud83d\\ude80 today."
    "\"}}]}",
    "{\"code\":\"Client specified an invalid argument\",\"error\":\"Incorrect API key provided: "
    "xa***ey. You can obtain an API key from https://console.x.ai.\"}",
    "{\"error\":{\"message\":\"You have run out of credits\",\"type\":\"invalid_request_error\","
    "\"code\":\"insufficient_quota\"}}",
    "{\"error\":{\"code\":\"rate_limit_exceeded\"}}",
    "{\"choices\":[]}",
};

static const long statuses[] = {200, 200, 200, 200, 201, 299, 400, 401, 403, 404, 429, 500, 503,
                                0, -1, 199, 300, 999};

static int is_one_clean_line(const char *text, size_t size)
{
    size_t length = strnlen(text, size);
    if (length == size)
        return 0;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return 0;
    return 1;
}

static int counts[GROK_FAIL_INPUT + 1];

static void check_rating(long status, const char *body)
{
    jv_grok_rating rating;
    memset(&rating, 0x5A, sizeof rating);
    enum grok_failure failure = grok_parse_rating(status, body, 30, &rating);
    assert_true(failure >= GROK_OK && failure <= GROK_FAIL_INPUT);
    counts[failure]++;
    assert_true(is_one_clean_line(rating.reason, sizeof rating.reason));
    if (failure == GROK_OK) {
        assert_true(status >= 200 && status <= 299);
        assert_int_equal(rating.available, 1);
        assert_true(isfinite(rating.score) && rating.score >= -1.0 && rating.score <= 1.0);
        assert_true(isfinite(rating.confidence) && rating.confidence >= 0.0 &&
                    rating.confidence <= 1.0);
        assert_true(rating.summary[0] != '\0');
        assert_true(is_one_clean_line(rating.summary, sizeof rating.summary));
        assert_string_equal(rating.reason, "");
        return;
    }
    assert_int_equal(rating.available, 0);
    assert_true(rating.reason[0] != '\0');
    assert_true(rating.score == 0.0 && rating.confidence == 0.0);
    if (status < 200 || status > 299)
        assert_true(failure != GROK_FAIL_ANSWER);
}

static void check_text(long status, const char *body, size_t out_length)
{
    char out[300];
    char reason[160];
    memset(out, 'Z', sizeof out);
    enum grok_failure failure = grok_parse_text(status, body, 0, out, out_length, reason,
                                                sizeof reason);
    assert_true(failure >= GROK_OK && failure <= GROK_FAIL_INPUT);
    assert_true(is_one_clean_line(reason, sizeof reason));
    if (out_length < sizeof out)
        assert_int_equal(out[out_length], 'Z'); /* nothing written past out_length */
    if (failure == GROK_OK) {
        assert_true(out_length > 0 && out[0] != '\0');
        assert_true(is_one_clean_line(out, out_length));
        return;
    }
    assert_true(reason[0] != '\0');
}

/* A rating content with each field sometimes right, sometimes not. */
static char *generated_content(fuzz_rng *rng)
{
    static const double numbers[] = {0.5, -1.0, 1.0, 0.0, -1.0000001, 1.5, 1e308, -0.0, 2.0};
    json_t *object = json_object();
    const char *const fields[] = {"score", "confidence"};
    for (size_t f = 0; f < 2; f++) {
        size_t choice = fuzz_below(rng, 6);
        if (choice == 0)
            continue;
        json_object_set_new(object, fields[f],
                            choice == 1 ? json_string("0.5")
                            : choice == 2 ? json_integer((json_int_t)fuzz_below(rng, 3) - 1)
                            : json_real(numbers[fuzz_below(rng, sizeof numbers /
                                                                     sizeof numbers[0])]));
    }
    static const char *const summaries[] = {"fine", "", "a\nb\tc\x7f", "\xC3\xA9\xF0\x9F\x9A\x80",
                                            "   ", "\xE2\x82"};
    if (!fuzz_one_in(rng, 6))
        json_object_set_new(object, "summary",
                            fuzz_one_in(rng, 8)
                                ? json_integer(3)
                                : json_string(summaries[fuzz_below(rng, sizeof summaries /
                                                                            sizeof summaries[0])]));
    char *text = json_dumps(object, JSON_COMPACT);
    json_decref(object);
    return text;
}

static char *wrapped(const char *content, int fenced)
{
    json_t *message = json_object();
    if (fenced) {
        size_t size = strlen(content) + 16;
        char *fence = malloc(size);
        assert_non_null(fence);
        snprintf(fence, size, "```json\n%s\n```", content);
        json_object_set_new(message, "content", json_string(fence));
        free(fence);
    } else {
        json_object_set_new(message, "content", json_string(content));
    }
    json_t *choice = json_object();
    json_object_set_new(choice, "message", message);
    json_t *choices = json_array();
    json_array_append_new(choices, choice);
    json_t *root = json_object();
    json_object_set_new(root, "choices", choices);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

static void test_generated_ratings(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_seed(&rng, 0x6A0C0001);
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < ITERATIONS; i++) {
        char *content = generated_content(&rng);
        char *body = wrapped(content, fuzz_one_in(&rng, 4));
        check_rating(fuzz_one_in(&rng, 8) ? 500 : 200, body);
        check_text(200, body, fuzz_below(&rng, 300));
        free(body);
        free(content);
    }
    assert_true(counts[GROK_OK] > 50 && counts[GROK_FAIL_ANSWER] > 50);
}

static void test_mutated_bodies(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text body = {0};
    fuzz_seed(&rng, 0x6A0C0002);
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < ITERATIONS; i++) {
        size_t choice = fuzz_below(&rng, 6);
        if (choice == 0) {
            fuzz_random_bytes(&rng, &body, fuzz_below(&rng, 200), 0);
        } else if (choice == 1) {
            fuzz_mutated_copy(&rng, &body, bodies, sizeof bodies / sizeof bodies[0], 3);
        } else {
            const char *text = bodies[fuzz_below(&rng, sizeof bodies / sizeof bodies[0])];
            fuzz_set(&body, text, strlen(text));
            for (size_t n = 1 + fuzz_below(&rng, 2); n > 0; n--)
                fuzz_mutate_json_value(&rng, &body);
        }
        long status = statuses[fuzz_below(&rng, sizeof statuses / sizeof statuses[0])];
        check_rating(status, body.data);
        check_text(status, body.data, fuzz_below(&rng, 300));
    }
    for (int failure = GROK_OK; failure <= GROK_FAIL_ANSWER; failure++)
        if (failure != GROK_FAIL_NO_KEY && counts[failure] < 5)
            fail_msg("failure %d reached only %d times", failure, counts[failure]);
    check_rating(200, NULL);
    check_text(429, NULL, 10);
    fuzz_free(&body);
}

static void test_one_line_and_scrub(void **state)
{
    (void)state;
    fuzz_rng rng;
    fuzz_text text = {0};
    fuzz_seed(&rng, 0x6A0C0003);
    static const char *const words[] = {"key", "xai-SECRET", "\xF0\x9F\x9A\x80", "\xC3\xA9",
                                        "\xE4\xB8\xAD"};
    for (int i = 0; i < ITERATIONS; i++) {
        if (fuzz_one_in(&rng, 2))
            fuzz_random_bytes(&rng, &text, fuzz_below(&rng, 300), 0);
        else
            fuzz_random_chat(&rng, &text, words, sizeof words / sizeof words[0],
                             fuzz_below(&rng, 40));
        char out[300];
        size_t out_length = 1 + fuzz_below(&rng, sizeof out - 1);
        memset(out, 'Z', sizeof out);
        grok_one_line(text.data, out, out_length);
        assert_true(is_one_clean_line(out, out_length));
        size_t length = strlen(out);
        if (out_length < sizeof out)
            assert_int_equal(out[out_length], 'Z');
        if (length > 0) {
            assert_true(out[0] != ' ' && out[length - 1] != ' ');
            assert_null(strstr(out, "  "));
        }
        /* a cut never splits a character of well-formed input */
        if (fuzz_is_valid_utf8(text.data, text.length))
            assert_true(fuzz_is_valid_utf8(out, length));

        static const char *const secrets[] = {"xai-SECRET", "SECR", "****", "a***", "abc"};
        const char *secret = secrets[fuzz_below(&rng, sizeof secrets / sizeof secrets[0])];
        fuzz_insert(&text, fuzz_below(&rng, text.length + 1), secret, strlen(secret));
        grok_scrub_secret(text.data, text.capacity, secret);
        if (strlen(secret) >= 4)
            assert_null(strstr(text.data, secret));
    }
    fuzz_free(&text);
}

/* Found by test_one_line_and_scrub: cutting a character that did not fit
 * left the space before it at the end. */
static void test_one_line_regressions(void **state)
{
    (void)state;
    char out[7];
    grok_one_line("abcd \xE2\x82\xAC", out, sizeof out); /* "abcd €" into 6 bytes */
    assert_string_equal(out, "abcd");
    grok_one_line("abc  \xE2\x82", out, 6); /* a truncated sequence at the end */
    assert_string_equal(out, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_ratings),
        cmocka_unit_test(test_mutated_bodies),
        cmocka_unit_test(test_one_line_and_scrub),
        cmocka_unit_test(test_one_line_regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
