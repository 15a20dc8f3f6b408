/* Field names follow the struct; a record that does not decode cleanly is
 * dropped (the token is simply rated again), never half-loaded. */
#include "grok_record.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

char *grok_record_encode(const struct grok_record *record)
{
    const jv_grok_rating *rating = &record->rating;
    json_t *root = json_pack(
        "{s:s, s:b, s:f, s:f, s:s, s:I, s:b, s:b, s:I, s:I, s:s, s:I, s:I}", "symbol",
        record->symbol, "has_rating", record->has_rating, "score", rating->score, "confidence",
        rating->confidence, "summary", rating->summary, "fetched_at_ms",
        (json_int_t)rating->fetched_at_ms, "grounded", record->grounded, "chat_api",
        record->chat_api, "x_searches", (json_int_t)record->x_searches, "cited_posts",
        (json_int_t)record->cited_posts, "failure", record->failure, "failure_at_ms",
        (json_int_t)record->failure_at_ms, "last_asked_ms", (json_int_t)record->last_asked_ms);
    if (root == NULL)
        return NULL;
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

static int valid_symbol(const char *symbol)
{
    size_t length = strlen(symbol);
    if (length == 0 || length >= GROK_SYMBOL_SIZE)
        return 0;
    for (size_t i = 0; i < length; i++)
        if (!isupper((unsigned char)symbol[i]) && !isdigit((unsigned char)symbol[i]))
            return 0;
    return 1;
}

int grok_record_decode(const char *text, size_t length, struct grok_record *record)
{
    memset(record, 0, sizeof *record);
    json_t *root = json_loadb(text, length, 0, NULL);
    const char *symbol = NULL, *summary = NULL, *failure = NULL;
    int has_rating = 0, grounded = 0, chat_api = 0;
    double score = 0, confidence = 0;
    json_int_t fetched = 0, searches = 0, posts = 0, failed_at = 0, asked = 0;
    int bad = root == NULL ||
              json_unpack(root, "{s:s, s:b, s:F, s:F, s:s, s:I, s:b, s:b, s:I, s:I, s:s, s:I, s:I}",
                          "symbol", &symbol, "has_rating", &has_rating, "score", &score,
                          "confidence", &confidence, "summary", &summary, "fetched_at_ms", &fetched,
                          "grounded", &grounded, "chat_api", &chat_api, "x_searches", &searches,
                          "cited_posts", &posts, "failure", &failure, "failure_at_ms", &failed_at,
                          "last_asked_ms", &asked) != 0;
    if (!bad)
        bad = !valid_symbol(symbol) || !isfinite(score) || fabs(score) > 1.0 ||
              !(confidence >= 0.0 && confidence <= 1.0) || searches < 0 || posts < 0;
    if (!bad) {
        snprintf(record->symbol, sizeof record->symbol, "%s", symbol);
        record->has_rating = has_rating;
        record->rating.available = has_rating;
        record->rating.score = score;
        record->rating.confidence = confidence;
        snprintf(record->rating.summary, sizeof record->rating.summary, "%s", summary);
        record->rating.fetched_at_ms = fetched;
        record->grounded = grounded;
        record->chat_api = chat_api;
        record->x_searches = searches;
        record->cited_posts = posts;
        snprintf(record->failure, sizeof record->failure, "%s", failure);
        record->failure_at_ms = failed_at;
        record->last_asked_ms = asked;
    }
    json_decref(root);
    return bad ? -1 : 0;
}
