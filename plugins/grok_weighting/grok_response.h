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
    GROK_FAIL_NO_KEY,     /* no API key configured */
    GROK_FAIL_AUTH,       /* 401/403, or 400 naming the key */
    GROK_FAIL_RATE_LIMIT, /* 429, tokens or requests per minute */
    GROK_FAIL_CREDITS,    /* 429, credits used up / spending limit */
    GROK_FAIL_SERVER,     /* 5xx */
    GROK_FAIL_REQUEST,    /* other 4xx, or an error body with 2xx */
    GROK_FAIL_ANSWER,     /* 2xx but the answer is malformed or out of range */
    GROK_FAIL_TIMEOUT,    /* no answer within timeout_ms */
    GROK_FAIL_TRANSPORT,  /* connection refused, DNS, TLS ... */
    GROK_FAIL_INPUT,      /* bad symbol or prompt from the caller */
    GROK_FAIL_GONE,       /* 410: a removed API feature (Live Search) */
};

/* What a call cost, from its usage block (chat or Responses names). */
struct grok_usage {
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t total_tokens;
    int64_t billed_searches; /* successful server-side tool calls, all kinds */
};

/* A Responses API rating and the evidence that it was read from X. */
struct grok_answer {
    jv_grok_rating rating;
    struct grok_usage usage;
    int answered;        /* the server gave a 2xx JSON answer: the call is billed */
    int64_t x_searches;  /* X searches the server ran */
    int64_t cited_posts; /* distinct X posts cited (x.com / twitter.com status URLs) */
    int64_t citations;   /* every distinct cited URL */
    int grounded;        /* x_searches > 0 and cited_posts > 0 */
};

/* Validates a rating answer. On GROK_OK fills available, score, confidence
 * and summary; otherwise sets available = 0 and writes reason. fetched_at_ms
 * is left to the caller. body may be NULL. */
enum grok_failure grok_parse_rating(long status, const char *body, int64_t retry_after_s,
                                    jv_grok_rating *rating);

/* Validates a Responses API rating answer: output items, the message's
 * output_text (the strict JSON), citations (top-level and url_citation
 * annotations) and usage with its server-side tool counts. Fills *answer
 * (usage even when the rating itself is invalid). */
enum grok_failure grok_parse_responses_rating(long status, const char *body, int64_t retry_after_s,
                                              struct grok_answer *answer);

/* Reads the usage block of a chat or Responses answer body into *usage
 * (zeros when absent). Returns 1 when body is a 2xx-shaped JSON object. */
int grok_parse_usage(const char *body, struct grok_usage *usage);

/* 1 when url is an X post: http(s)://[www.|mobile.](x|twitter).com/<user>/status/<id>;
 * the post id goes into id (digits only). */
int grok_x_post_id(const char *url, char *id, size_t id_length);

/* Validates a plain-text answer (narrate): its content flattened to one
 * paragraph into out, or a reason. */
enum grok_failure grok_parse_text(long status, const char *body, int64_t retry_after_s, char *out,
                                  size_t out_length, char *reason, size_t reason_length);

/* How long (seconds) a failure of this kind should keep the API unasked. */
int64_t grok_failure_hold_s(enum grok_failure failure, int64_t retry_after_s,
                            int64_t default_hold_s);

/* Copies text as one line: control characters and runs of whitespace become
 * one space, trimmed, cut at a UTF-8 boundary to fit out_length. */
void grok_one_line(const char *text, char *out, size_t out_length);

/* Replaces every occurrence of secret (when >= 4 bytes) in text by "***". */
void grok_scrub_secret(char *text, size_t capacity, const char *secret);

#endif
