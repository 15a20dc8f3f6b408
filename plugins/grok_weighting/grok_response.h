/* Strict validation of chat-completions answers (OpenAI shape, xAI error
 * bodies): a rating is only ever filled from a fully valid answer; anything
 * else becomes a one-line reason that never contains the API key. */
#ifndef GROK_RESPONSE_H
#define GROK_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include <jarvis/svc/sentiment_weight.h>

enum grok_failure {
    GROK_OK = 0,
    GROK_FAIL_NO_KEY,      /* no API key configured */
    GROK_FAIL_AUTH,        /* 401/403, or 400 naming the key */
    GROK_FAIL_RATE_LIMIT,  /* 429, tokens or requests per minute */
    GROK_FAIL_CREDITS,     /* 429, credits used up / spending limit */
    GROK_FAIL_SERVER,      /* 5xx */
    GROK_FAIL_REQUEST,     /* other 4xx, or an error body with 2xx */
    GROK_FAIL_ANSWER,      /* 2xx but the answer is malformed or out of range */
    GROK_FAIL_TIMEOUT,     /* no answer within timeout_ms */
    GROK_FAIL_TRANSPORT,   /* connection refused, DNS, TLS ... */
    GROK_FAIL_INPUT,       /* bad symbol or prompt from the caller */
};

/* Validates a rating answer. On GROK_OK fills available, score, confidence
 * and summary; otherwise sets available = 0 and writes reason. fetched_at_ms
 * is left to the caller. body may be NULL. */
enum grok_failure grok_parse_rating(long status, const char *body, int64_t retry_after_s,
                                    jv_grok_rating *rating);

/* Validates a plain-text answer (narrate): its content flattened to one
 * paragraph into out, or a reason. */
enum grok_failure grok_parse_text(long status, const char *body, int64_t retry_after_s,
                                  char *out, size_t out_length, char *reason,
                                  size_t reason_length);

/* How long (seconds) a failure of this kind should keep the API unasked. */
int64_t grok_failure_hold_s(enum grok_failure failure, int64_t retry_after_s,
                            int64_t default_hold_s);

/* Copies text as one line: control characters and runs of whitespace become
 * one space, trimmed, cut at a UTF-8 boundary to fit out_length. */
void grok_one_line(const char *text, char *out, size_t out_length);

/* Replaces every occurrence of secret (when >= 4 bytes) in text by "***". */
void grok_scrub_secret(char *text, size_t capacity, const char *secret);

#endif
