/* The grok_weighting plugin: reads [grok_weighting], provides the
 * sentiment.weight service (combine, grok_rate, narrate) and the /grok,
 * /grok_usage and /weights commands. Ratings come from a background refresh
 * (grok_refresh) and are only ever read from the cache in a reply. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jarvis/plugin.h>
#include <jarvis/svc/sentiment_weight.h>
#include <jarvis/util.h>
#include <jarvis/svc/token_registry.h>

#include "grok_client.h"
#include "grok_follow.h"
#include "grok_ledger.h"
#include "grok_limits.h"
#include "grok_narratives.h"
#include "grok_record.h"
#include "grok_refresh.h"
#include "grok_tokens.h"
#include "weighting.h"

#define DEFAULT_BASE_URL "https://api.x.ai/v1"
#define DEFAULT_MODEL "grok-4.3"
#define TRACK_MAX 32
#define NO_KEY_REASON "no API key configured (set XAI_API_KEY)"

struct grok_state {
    const jv_host_api *api;
    jv_plugin *self;
    struct grok_client client;
    struct grok_weights weights;
    int refuse_ungrounded; /* ungrounded = refuse (else mark "not from X") */
    int64_t refresh_interval_s;
    int64_t recent_s; /* tokens asked this recently are refreshed */
    int64_t failure_ttl_s;
    size_t max_concurrent;
    char track[TRACK_MAX][GROK_SYMBOL_SIZE];
    size_t track_count;
    const jv_token_registry_api *registry;
    struct grok_ledger ledger;
    struct grok_limits user_limits;
    struct grok_limits chat_limits;
    struct grok_narratives narratives;
    int64_t narrative_ttl_s;
    pthread_mutex_t counter_lock;
    int64_t narratives_from_cache; /* since start: narrate calls that paid nothing */
    struct grok_refresh *refresh;
    pthread_mutex_t backoff_lock;
    int64_t backoff_until_ms; /* wall clock; no API call before this */
    char backoff_reason[160];
};

/* For post_init and shutdown, which the ABI gives only self. Only init,
 * post_init and shutdown touch it, and the host runs those one at a time;
 * the service never reads it (it has its own guarded endpoint). */
static struct grok_state *plugin_state;

/* ---- backoff after 429 / credits / 410 ---- */

/* A 429 is per team, not per symbol: while it lasts nothing is asked. */
static int backoff_active(struct grok_state *state, char *reason, size_t reason_length)
{
    pthread_mutex_lock(&state->backoff_lock);
    int active = state->api->now_ms() < state->backoff_until_ms;
    if (active)
        snprintf(reason, reason_length, "%s", state->backoff_reason);
    pthread_mutex_unlock(&state->backoff_lock);
    return active;
}

static void note_failure(struct grok_state *state, enum grok_failure failure, int64_t retry_after_s,
                         const char *reason)
{
    if (failure != GROK_FAIL_RATE_LIMIT && failure != GROK_FAIL_CREDITS &&
        failure != GROK_FAIL_GONE && failure != GROK_FAIL_AUTH)
        return;
    int64_t hold_s = grok_failure_hold_s(failure, retry_after_s, state->failure_ttl_s);
    pthread_mutex_lock(&state->backoff_lock);
    state->backoff_until_ms = state->api->now_ms() + hold_s * 1000;
    snprintf(state->backoff_reason, sizeof state->backoff_reason, "%s", reason);
    pthread_mutex_unlock(&state->backoff_lock);
}

/* Budgets and backoff, before any paid call: 0 when the call may go ahead. */
static int may_call(struct grok_state *state, enum grok_call_kind kind, char *reason,
                    size_t reason_length)
{
    if (backoff_active(state, reason, reason_length))
        return -1;
    return grok_ledger_reserve(&state->ledger, kind, reason, reason_length);
}

/* ---- the background fetch ---- */

static void store_record(struct grok_state *state, const struct grok_record *record)
{
    char key[32];
    snprintf(key, sizeof key, "rating/%s", record->symbol);
    char *text = grok_record_encode(record);
    if (text == NULL || state->api->kv_set(state->self, key, text, strlen(text)) != JV_OK)
        state->api->log(state->self, JV_LOG_WARN, "cannot store the rating of %s", record->symbol);
    free(text);
}

static void record_failure(struct grok_record *record, const char *reason, int64_t now_ms)
{
    snprintf(record->failure, sizeof record->failure, "%s", reason);
    record->failure_at_ms = now_ms;
}

/* An answer without X searches or cited X posts is not X sentiment. */
static int ungrounded_refused(struct grok_state *state, const struct grok_answer *answer,
                              struct grok_record *record)
{
    if (state->client.api_mode == GROK_API_CHAT || answer->grounded || !state->refuse_ungrounded)
        return 0;
    char reason[160];
    snprintf(reason, sizeof reason,
             "Grok answered without reading X (%lld searches, %lld cited posts); not used",
             (long long)answer->x_searches, (long long)answer->cited_posts);
    record_failure(record, reason, answer->rating.fetched_at_ms);
    return 1;
}

static void fetch_rating(struct grok_record *record, void *context)
{
    struct grok_state *state = context;
    char reason[160];
    if (may_call(state, GROK_CALL_RATING, reason, sizeof reason) != 0) {
        record_failure(record, reason, state->api->now_ms());
        return;
    }
    struct grok_answer answer;
    int64_t retry_after_s = -1;
    enum grok_failure failure =
        grok_client_rate_answer(&state->client, record->symbol, &answer, &retry_after_s);
    if (answer.answered)
        grok_ledger_record(&state->ledger, GROK_CALL_RATING, &answer.usage);
    if (failure != GROK_OK) {
        note_failure(state, failure, retry_after_s, answer.rating.reason);
        record_failure(record, answer.rating.reason, answer.rating.fetched_at_ms);
        state->api->log(state->self, JV_LOG_WARN, "Grok rating for %s unavailable: %s",
                        record->symbol, answer.rating.reason);
        return;
    }
    state->api->log(state->self, JV_LOG_INFO,
                    "Grok rated %s: %.2f (confidence %.2f), %lld X searches, %lld cited posts",
                    record->symbol, answer.rating.score, answer.rating.confidence,
                    (long long)answer.x_searches, (long long)answer.cited_posts);
    if (ungrounded_refused(state, &answer, record)) {
        state->api->log(state->self, JV_LOG_WARN, "Grok rating for %s refused: %s", record->symbol,
                        record->failure);
        return;
    }
    record->has_rating = 1;
    record->rating = answer.rating;
    record->grounded = answer.grounded;
    record->chat_api = state->client.api_mode == GROK_API_CHAT;
    record->x_searches = answer.x_searches;
    record->cited_posts = answer.cited_posts;
    record->failure[0] = '\0';
    record->failure_at_ms = 0;
}

/* ---- presenting a rating ---- */

static void describe_age(int64_t age_ms, char *out, size_t out_length)
{
    int64_t minutes = age_ms > 0 ? age_ms / 60000 : 0;
    if (minutes < 1)
        snprintf(out, out_length, "just now");
    else if (minutes < 120)
        snprintf(out, out_length, "%lld min ago", (long long)minutes);
    else
        snprintf(out, out_length, "%lld h ago", (long long)(minutes / 60));
}

/* "Grok on X, 14 min ago, from 23 posts", or the ungrounded label. */
static void describe_source(const struct grok_record *record, int64_t now_ms, char *out,
                            size_t out_length)
{
    char age[32];
    describe_age(now_ms - record->rating.fetched_at_ms, age, sizeof age);
    if (record->chat_api)
        snprintf(out, out_length, "not from X: Grok chat without search, %s", age);
    else if (!record->grounded)
        snprintf(out, out_length, "not from X: Grok did not cite X posts, %s", age);
    else
        snprintf(out, out_length, "Grok on X, %s, from %lld post%s", age,
                 (long long)record->cited_posts, record->cited_posts == 1 ? "" : "s");
}

/* The service's view of a record: the summary carries its source line so
 * every consumer shows where the rating came from and how old it is. */
static void rating_from_record(const struct grok_record *record, int64_t now_ms,
                               jv_grok_rating *rating)
{
    char source[96];
    describe_source(record, now_ms, source, sizeof source);
    *rating = record->rating;
    rating->available = 1;
    rating->reason[0] = '\0';
    snprintf(rating->summary, sizeof rating->summary, "%.*s (%s)",
             (int)(sizeof rating->summary - sizeof source - 4), record->rating.summary, source);
}

static int rating_due(const struct grok_state *state, const struct grok_record *record,
                      int64_t now_ms)
{
    if (record->failure[0] != '\0' && now_ms - record->failure_at_ms < state->failure_ttl_s * 1000)
        return 0;
    if (!record->has_rating)
        return 1;
    return now_ms - record->rating.fetched_at_ms >= state->refresh_interval_s * 1000;
}

enum lookup_result { LOOKUP_RATED, LOOKUP_PENDING, LOOKUP_FAILED };

/* The cached rating of a known symbol; queues a refresh when due (chat_id,
 * when not 0, is sent the rating once it arrives). Never blocks. */
static enum lookup_result lookup_rating(struct grok_state *state, const char *symbol,
                                        int64_t chat_id, jv_grok_rating *rating)
{
    int64_t now_ms = state->api->now_ms();
    grok_refresh_touch(state->refresh, symbol, now_ms);
    struct grok_record record;
    int pending = 0;
    grok_refresh_lookup(state->refresh, symbol, &record, &pending);
    int queued = 0;
    if (!pending && rating_due(state, &record, now_ms))
        queued = grok_refresh_request(state->refresh, symbol, chat_id) >= 0;
    else if (pending && !record.has_rating)
        grok_refresh_request(state->refresh, symbol, chat_id); /* follow the fetch in flight */
    memset(rating, 0, sizeof *rating);
    if (record.has_rating) {
        rating_from_record(&record, now_ms, rating);
        return LOOKUP_RATED;
    }
    if (pending || queued) {
        snprintf(rating->reason, sizeof rating->reason, "rating in progress");
        return LOOKUP_PENDING;
    }
    snprintf(rating->reason, sizeof rating->reason, "%s",
             record.failure[0] ? record.failure : "no rating yet");
    return LOOKUP_FAILED;
}

static void unavailable(jv_grok_rating *rating, const char *reason)
{
    memset(rating, 0, sizeof *rating);
    snprintf(rating->reason, sizeof rating->reason, "%s", reason);
}

/* ---- the service ---- */

/* The service's context. It is static, not part of the heap state, because
 * a call may arrive while the state is set up or freed (a reload, or a
 * dependency cycle that unloads this plugin before a consumer): the lock
 * must outlive every state, and shutdown takes it to wait for the calls in
 * flight before it frees. The version 1 members, which get no context, are
 * the only code that names it. */
struct grok_service {
    pthread_rwlock_t lock;
    struct grok_state *state; /* NULL when closed */
};

static struct grok_service endpoint = {PTHREAD_RWLOCK_INITIALIZER, NULL};

static void service_open(struct grok_state *state)
{
    pthread_rwlock_wrlock(&endpoint.lock);
    endpoint.state = state;
    pthread_rwlock_unlock(&endpoint.lock);
}

static void service_close(void)
{
    pthread_rwlock_wrlock(&endpoint.lock);
    endpoint.state = NULL;
    pthread_rwlock_unlock(&endpoint.lock);
}

static int rate_symbol(struct grok_state *state, const char *symbol, jv_grok_rating *rating)
{
    char known[GROK_SYMBOL_SIZE];
    if (!grok_token_resolve(state->registry, symbol, known, sizeof known)) {
        unavailable(rating, "not a token Grok rates");
        return JV_E_INVAL;
    }
    if (state->client.api_key[0] == '\0') {
        unavailable(rating, NO_KEY_REASON);
        return JV_E_NOTFOUND;
    }
    return lookup_rating(state, known, 0, rating) == LOOKUP_RATED ? JV_OK : JV_E_IO;
}

static int narrate_prompt(struct grok_state *state, const char *prompt, char *out,
                          size_t out_length)
{
    if (state->client.api_key[0] == '\0')
        return JV_E_NOTFOUND;
    if (grok_narratives_find(&state->narratives, prompt, state->api->now_ms(), out, out_length)) {
        pthread_mutex_lock(&state->counter_lock);
        state->narratives_from_cache++;
        pthread_mutex_unlock(&state->counter_lock);
        return JV_OK;
    }
    char reason[160];
    if (may_call(state, GROK_CALL_NARRATIVE, reason, sizeof reason) != 0) {
        state->api->log(state->self, JV_LOG_INFO, "Grok narrative not asked: %s", reason);
        return JV_E_IO;
    }
    int64_t retry_after_s = -1;
    struct grok_usage usage;
    enum grok_failure failure = grok_client_narrate(&state->client, prompt, out, out_length, reason,
                                                    sizeof reason, &retry_after_s, &usage);
    grok_ledger_record(&state->ledger, GROK_CALL_NARRATIVE, &usage);
    if (failure == GROK_OK) {
        grok_narratives_store(&state->narratives, prompt, out, state->api->now_ms());
        return JV_OK;
    }
    note_failure(state, failure, retry_after_s, reason);
    state->api->log(state->self, JV_LOG_WARN, "Grok narrative unavailable: %s", reason);
    out[0] = '\0';
    return failure == GROK_FAIL_TIMEOUT ? JV_E_TIMEOUT : JV_E_IO;
}

/* Each call holds the endpoint's read lock, so the state it uses is freed
 * only after it returns; a closed endpoint answers JV_E_STATE. */
static int combine_with(struct grok_service *service, const jv_weight_component *components,
                        size_t count, jv_weight_result *result)
{
    pthread_rwlock_rdlock(&service->lock);
    int code = service->state == NULL
                   ? JV_E_STATE
                   : grok_combine(&service->state->weights, components, count, result);
    pthread_rwlock_unlock(&service->lock);
    return code;
}

static int grok_rate_with(struct grok_service *service, const char *symbol, jv_grok_rating *rating)
{
    if (rating == NULL)
        return JV_E_INVAL;
    pthread_rwlock_rdlock(&service->lock);
    int code = JV_E_STATE;
    if (service->state == NULL)
        unavailable(rating, "grok_weighting is not running");
    else
        code = rate_symbol(service->state, symbol, rating);
    pthread_rwlock_unlock(&service->lock);
    return code;
}

static int narrate_with(struct grok_service *service, const char *prompt, char *out,
                        size_t out_length)
{
    if (out == NULL || out_length == 0 || prompt == NULL || prompt[0] == '\0')
        return JV_E_INVAL;
    out[0] = '\0';
    pthread_rwlock_rdlock(&service->lock);
    int code = service->state == NULL ? JV_E_STATE
                                      : narrate_prompt(service->state, prompt, out, out_length);
    pthread_rwlock_unlock(&service->lock);
    return code;
}

/* Version 3: the context, and sized outputs. */
static int service_combine2(void *context, const jv_weight_component *components, size_t count,
                            jv_weight_result2 *result)
{
    if (result == NULL)
        return JV_E_INVAL;
    jv_weight_result reading;
    memset(&reading, 0, sizeof reading);
    int code = combine_with(context, components, count, &reading);
    jv_weight_result2 full = {.struct_size = sizeof full,
                              .composite = reading.composite,
                              .confidence = reading.confidence,
                              .count = reading.count,
                              .certainty = reading.certainty,
                              .enough_evidence = reading.enough_evidence,
                              .sources_used = reading.sources_used,
                              .sources_configured = reading.sources_configured};
    memcpy(full.weight, reading.weight, sizeof full.weight);
    memcpy(full.contribution, reading.contribution, sizeof full.contribution);
    memcpy(full.label, reading.label, sizeof full.label);
    memcpy(full.evidence_note, reading.evidence_note, sizeof full.evidence_note);
    if (jv_sized_copy(result, &full, sizeof full, sizeof full) != 0)
        return JV_E_ABI;
    return code;
}

static int service_grok_rate2(void *context, const char *symbol, jv_grok_rating2 *rating)
{
    if (rating == NULL)
        return JV_E_INVAL;
    jv_grok_rating reading;
    memset(&reading, 0, sizeof reading);
    int code = grok_rate_with(context, symbol, &reading);
    jv_grok_rating2 full = {.struct_size = sizeof full,
                            .available = reading.available,
                            .score = reading.score,
                            .confidence = reading.confidence,
                            .fetched_at_ms = reading.fetched_at_ms};
    memcpy(full.summary, reading.summary, sizeof full.summary);
    memcpy(full.reason, reading.reason, sizeof full.reason);
    if (jv_sized_copy(rating, &full, sizeof full, sizeof full) != 0)
        return JV_E_ABI;
    return code;
}

static int service_narrate2(void *context, const char *prompt, char *out, size_t out_length)
{
    return narrate_with(context, prompt, out, out_length);
}

/* Versions 1 and 2: no context, hence the static endpoint. */
static int service_combine(const jv_weight_component *components, size_t count,
                           jv_weight_result *result)
{
    return combine_with(&endpoint, components, count, result);
}

static int service_grok_rate(const char *symbol, jv_grok_rating *rating)
{
    return grok_rate_with(&endpoint, symbol, rating);
}

static int service_narrate(const char *prompt, char *out, size_t out_length)
{
    return narrate_with(&endpoint, prompt, out, out_length);
}

static const jv_sentiment_weight_api service_vtable = {
    .struct_size = sizeof(jv_sentiment_weight_api),
    .combine = service_combine,
    .grok_rate = service_grok_rate,
    .narrate = service_narrate,
    .context = &endpoint,
    .combine2 = service_combine2,
    .grok_rate2 = service_grok_rate2,
    .narrate2 = service_narrate2,
};

/* ---- replies ---- */

static void format_rating(const struct grok_record *record, int64_t now_ms, char *text,
                          size_t text_length)
{
    char source[96];
    describe_source(record, now_ms, source, sizeof source);
    snprintf(text, text_length, "Grok on %s: score %+.2f, confidence %.2f (%s)\n%s", record->symbol,
             record->rating.score, record->rating.confidence, source, record->rating.summary);
}

static void describe_outcome(const struct grok_record *record, int64_t now_ms, char *text,
                             size_t text_length)
{
    if (record->has_rating && record->failure[0] == '\0')
        format_rating(record, now_ms, text, text_length);
    else
        snprintf(text, text_length, "Grok on %s: unavailable (%s)", record->symbol,
                 record->failure);
}

/* The rating for the chats that were told "rating in progress". */
static void deliver_rating(const struct grok_record *record, const struct grok_follower *followers,
                           size_t follower_count, void *context)
{
    struct grok_state *state = context;
    store_record(state, record);
    if (follower_count == 0)
        return;
    char text[640];
    describe_outcome(record, state->api->now_ms(), text, sizeof text);
    for (size_t i = 0; i < follower_count; i++)
        grok_follow_send(state->api, state->self, &followers[i], text, 1);
}

/* Limits apply to asks that start a paid call; cached answers are free. */
static int within_limits(struct grok_state *state, const jv_message *message, char *text,
                         size_t text_length)
{
    int64_t now_ms = state->api->now_ms(), wait_s = 0;
    if (!grok_limits_take(&state->user_limits, message->user_id, now_ms, &wait_s)) {
        snprintf(text, text_length,
                 "Grok: you have asked for %lld new ratings this hour, the limit; try again in "
                 "%lld min",
                 (long long)state->user_limits.per_hour, (long long)(wait_s + 59) / 60);
        return 0;
    }
    if (!grok_limits_take(&state->chat_limits, message->chat_id, now_ms, &wait_s)) {
        snprintf(text, text_length,
                 "Grok: this chat has asked for %lld new ratings this hour, the limit; try "
                 "again in %lld min",
                 (long long)state->chat_limits.per_hour, (long long)(wait_s + 59) / 60);
        return 0;
    }
    return 1;
}

/* The answer to /grok for a known symbol; 1 when it is "rating in
 * progress" (the rating follows once it arrives). */
static int answer_grok(struct grok_state *state, const jv_message *message, const char *symbol,
                       char *text, size_t text_length)
{
    struct grok_record record;
    int pending = 0;
    int64_t now_ms = state->api->now_ms();
    int known = grok_refresh_lookup(state->refresh, symbol, &record, &pending);
    int needs_call = !pending && (!known || rating_due(state, &record, now_ms));
    if (needs_call && !(known && record.has_rating)) {
        char budget[160];
        grok_ledger_check(&state->ledger, budget, sizeof budget);
        if (budget[0] != '\0') {
            snprintf(text, text_length, "Grok on %s: unavailable (%s)", symbol, budget);
            return 0;
        }
        if (!within_limits(state, message, text, text_length))
            return 0;
    }
    jv_grok_rating rating;
    enum lookup_result result = lookup_rating(state, symbol, 0, &rating);
    if (result == LOOKUP_PENDING) {
        snprintf(text, text_length,
                 "Grok on %s: rating in progress (Grok reads recent X posts, which takes up to "
                 "a minute); %s",
                 symbol,
                 grok_follow_can_edit(state->api) ? "this message shows the rating when it arrives"
                                                  : "the rating follows in a new message");
        return 1;
    }
    if (result == LOOKUP_FAILED) {
        snprintf(text, text_length, "Grok on %s: unavailable (%s)", symbol, rating.reason);
        return 0;
    }
    grok_refresh_lookup(state->refresh, symbol, &record, NULL);
    format_rating(&record, now_ms, text, text_length);
    return 0;
}

/* "Rating in progress", then the chat follows the fetch. Should the rating
 * have arrived in between, it is given here, on the handler's thread, so
 * the edit commits after the answer it edits. */
static void answer_in_progress(struct grok_state *state, const jv_message *message,
                               const char *symbol, const char *text)
{
    struct grok_follower follower = {.chat_id = message->chat_id, .since_ms = state->api->now_ms()};
    jv_outgoing content = {.struct_size = sizeof content, .text = text};
    if (!grok_follow_can_edit(state->api) ||
        state->api->reply_with(message, &content, &follower.reference) != JV_OK) {
        follower.reference = 0;
        state->api->reply(message, text);
    }
    if (grok_refresh_follow(state->refresh, symbol, &follower) != 0)
        return;
    struct grok_record record;
    char outcome[640];
    if (!grok_refresh_lookup(state->refresh, symbol, &record, NULL))
        return;
    describe_outcome(&record, state->api->now_ms(), outcome, sizeof outcome);
    if (follower.reference == 0 ||
        grok_follow_send(state->api, state->self, &follower, outcome, 0) < 0)
        state->api->reply(message, outcome);
}

static int command_grok(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    struct grok_state *state = user_data;
    if (message->argc != 1) {
        state->api->reply(message, "Usage: /grok <token>, e.g. /grok SOL");
        return JV_HANDLED;
    }
    char text[640], symbol[GROK_SYMBOL_SIZE];
    if (strcasecmp(message->argv[0], "usage") == 0) {
        /* the ABI tells a plugin nothing about admins: only the host's
         * JV_COMMAND_ADMIN check on /grok_usage keeps the figures private */
        state->api->reply(message, "Grok's call and cost figures are for admins: /grok_usage");
        return JV_HANDLED;
    }
    if (!grok_token_resolve(state->registry, message->argv[0], symbol, sizeof symbol)) {
        char shown[40];
        grok_one_line(message->argv[0], shown, sizeof shown);
        snprintf(text, sizeof text,
                 "Grok: \"%s\" is not a token I know; try a symbol such as SOL, BTC or ETH", shown);
    } else if (state->client.api_key[0] == '\0') {
        snprintf(text, sizeof text, "Grok unavailable: set XAI_API_KEY (no API key configured)");
    } else if (answer_grok(state, message, symbol, text, sizeof text)) {
        answer_in_progress(state, message, symbol, text);
        return JV_HANDLED;
    }
    state->api->reply(message, text);
    return JV_HANDLED;
}

/* Ratings are this plugin's own calls; narratives are asked by the
 * consumers of sentiment.weight (dexter's summaries). The service's narrate
 * does not say who calls it, so the split is by kind, not by plugin. */
static void describe_usage(struct grok_state *state, char *text, size_t text_length)
{
    struct grok_ledger_totals today, month, rating, narrative;
    grok_ledger_totals(&state->ledger, &today, &month);
    grok_ledger_kind_today(&state->ledger, GROK_CALL_RATING, &rating);
    grok_ledger_kind_today(&state->ledger, GROK_CALL_NARRATIVE, &narrative);
    pthread_mutex_lock(&state->counter_lock);
    int64_t from_cache = state->narratives_from_cache;
    pthread_mutex_unlock(&state->counter_lock);
    const struct grok_budgets *budgets = &state->ledger.budgets;
    snprintf(text, text_length,
             "Grok usage today (UTC): %lld calls, %lld searches, %lld tokens (%lld in, %lld "
             "out)\nThis month: %lld calls, %lld searches, %lld tokens (%lld in, %lld out)\n"
             "Today by use: ratings %lld calls, %lld searches, %lld tokens; narratives "
             "(summaries asked through sentiment.weight) %lld calls, %lld tokens, %lld more "
             "from the cache since start\n"
             "Budgets: %lld calls and %lld searches a day, %lld calls an hour (0: none)",
             (long long)today.calls, (long long)today.searches,
             (long long)(today.input_tokens + today.output_tokens), (long long)today.input_tokens,
             (long long)today.output_tokens, (long long)month.calls, (long long)month.searches,
             (long long)(month.input_tokens + month.output_tokens), (long long)month.input_tokens,
             (long long)month.output_tokens, (long long)rating.calls, (long long)rating.searches,
             (long long)(rating.input_tokens + rating.output_tokens), (long long)narrative.calls,
             (long long)(narrative.input_tokens + narrative.output_tokens), (long long)from_cache,
             (long long)budgets->daily_calls, (long long)budgets->daily_searches,
             (long long)budgets->hourly_calls);
}

static int command_usage(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    struct grok_state *state = user_data;
    char text[900];
    describe_usage(state, text, sizeof text);
    state->api->reply(message, text);
    return JV_HANDLED;
}

static int command_weights(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    struct grok_state *state = user_data;
    char formula[512], text[768];
    grok_weights_describe(&state->weights, formula, sizeof formula);
    if (state->client.api_key[0] == '\0')
        snprintf(text, sizeof text, "%s\nGrok unavailable: set XAI_API_KEY", formula);
    else if (state->client.api_mode == GROK_API_CHAT)
        snprintf(text, sizeof text,
                 "%s\nGrok: model %s without search (not from X), refreshed every %lld min",
                 formula, state->client.model, (long long)state->refresh_interval_s / 60);
    else
        snprintf(text, sizeof text,
                 "%s\nGrok: model %s reading X posts of the last %lld h, refreshed every %lld min",
                 formula, state->client.model, (long long)state->client.window_s / 3600,
                 (long long)state->refresh_interval_s / 60);
    state->api->reply(message, text);
    return JV_HANDLED;
}

/* ---- the periodic refresh ---- */

static void queue_if_due(struct grok_state *state, const char *symbol, int64_t now_ms)
{
    struct grok_record record;
    int pending = 0;
    if (!grok_refresh_lookup(state->refresh, symbol, &record, &pending))
        memset(&record, 0, sizeof record);
    /* a little early, so a 15-minute job never finds a 14:59 rating "fresh" */
    int64_t due_ms = state->refresh_interval_s * 1000 * 9 / 10;
    if (pending || (record.has_rating && now_ms - record.rating.fetched_at_ms < due_ms))
        return;
    grok_refresh_request(state->refresh, symbol, 0);
}

static int refresh_job(jv_plugin *self, void *user_data)
{
    (void)self;
    struct grok_state *state = user_data;
    if (state->client.api_key[0] == '\0')
        return JV_OK;
    int64_t now_ms = state->api->now_ms();
    char recent[GROK_REFRESH_CAPACITY][GROK_SYMBOL_SIZE];
    size_t count = grok_refresh_recent(state->refresh, now_ms - state->recent_s * 1000, recent,
                                       GROK_REFRESH_CAPACITY);
    for (size_t i = 0; i < state->track_count; i++)
        queue_if_due(state, state->track[i], now_ms);
    for (size_t i = 0; i < count; i++)
        queue_if_due(state, recent[i], now_ms);
    return JV_OK;
}

/* ---- configuration ---- */

static double read_weight(struct grok_state *state, const char *key, double fallback)
{
    double value = state->api->config_get_double(state->self, key, fallback);
    if (value >= 0.0 && value <= 1e6)
        return value;
    state->api->log(state->self, JV_LOG_WARN,
                    "[grok_weighting] %s = %g is out of range (0..1e6); using 0", key, value);
    return 0.0;
}

static int64_t read_positive(struct grok_state *state, const char *key, int64_t fallback)
{
    int64_t value = state->api->config_get_int(state->self, key, fallback);
    if (value > 0)
        return value;
    state->api->log(state->self, JV_LOG_WARN, "[grok_weighting] %s = %lld must be > 0; using %lld",
                    key, (long long)value, (long long)fallback);
    return fallback;
}

static int64_t read_limit(struct grok_state *state, const char *key, int64_t fallback)
{
    int64_t value = state->api->config_get_int(state->self, key, fallback);
    if (value >= 0)
        return value;
    state->api->log(state->self, JV_LOG_WARN,
                    "[grok_weighting] %s = %lld must be >= 0 (0: no limit); using %lld", key,
                    (long long)value, (long long)fallback);
    return fallback;
}

static const char *read_choice(struct grok_state *state, const char *key, const char *first,
                               const char *second)
{
    const char *value = state->api->config_get(state->self, key, first);
    if (strcasecmp(value, first) == 0 || value[0] == '\0')
        return first;
    if (strcasecmp(value, second) == 0)
        return second;
    state->api->log(state->self, JV_LOG_WARN,
                    "[grok_weighting] %s = %s is neither %s nor %s; using %s", key, value, first,
                    second, first);
    return first;
}

static void read_track(struct grok_state *state)
{
    const char *list = state->api->config_get(state->self, "track", "");
    char word[64];
    while (*list != '\0' && state->track_count < TRACK_MAX) {
        size_t length = strcspn(list, ", \t");
        if (length > 0 && length < sizeof word) {
            memcpy(word, list, length);
            word[length] = '\0';
            char *slot = state->track[state->track_count];
            if (grok_token_resolve(NULL, word, slot, GROK_SYMBOL_SIZE))
                state->track_count++;
            else
                state->api->log(state->self, JV_LOG_WARN,
                                "[grok_weighting] track: \"%s\" is not a known token; skipped",
                                word);
        }
        list += length;
        list += strspn(list, ", \t");
    }
}

/* The label rule every plugin shows (sentiment.weight v2): a threshold
 * outside (0, 1) would make every composite one label, so it is refused. */
static void read_label_rule(struct grok_state *state)
{
    double threshold =
        state->api->config_get_double(state->self, "label_threshold", JV_WEIGHT_LABEL_THRESHOLD);
    if (!(threshold > 0.0 && threshold < 1.0)) {
        state->api->log(state->self, JV_LOG_WARN,
                        "[grok_weighting] label_threshold = %g must be > 0 and < 1; using %g",
                        threshold, JV_WEIGHT_LABEL_THRESHOLD);
        threshold = JV_WEIGHT_LABEL_THRESHOLD;
    }
    state->weights.label_threshold = threshold;
    state->weights.min_chat_samples =
        read_positive(state, "min_chat_samples", JV_WEIGHT_MIN_CHAT_SAMPLES);
    state->weights.min_market_days =
        read_positive(state, "min_market_days", JV_WEIGHT_MIN_MARKET_DAYS);
}

static void read_config(struct grok_state *state)
{
    const jv_host_api *api = state->api;
    state->client.api = api;
    state->client.self = state->self;
    state->client.base_url = api->config_get(state->self, "base_url", DEFAULT_BASE_URL);
    state->client.model = api->config_get(state->self, "model", DEFAULT_MODEL);
    state->client.api_key = api->config_get(state->self, "api_key", "");
    if (state->client.base_url[0] == '\0')
        state->client.base_url = DEFAULT_BASE_URL;
    if (state->client.model[0] == '\0')
        state->client.model = DEFAULT_MODEL;
    state->client.api_mode = strcmp(read_choice(state, "api", "responses", "chat"), "chat") == 0
                                 ? GROK_API_CHAT
                                 : GROK_API_RESPONSES;
    state->client.timeout_ms = read_positive(state, "timeout_ms", 120000);
    state->client.window_s = read_positive(state, "window_hours", 24) * 3600;
    state->refuse_ungrounded =
        strcmp(read_choice(state, "ungrounded", "refuse", "mark"), "refuse") == 0;
    state->refresh_interval_s = read_positive(state, "refresh_interval", 900);
    state->recent_s = read_positive(state, "recent_hours", 24) * 3600;
    state->failure_ttl_s = read_positive(state, "failure_ttl", 30);
    state->narrative_ttl_s = read_limit(state, "narrative_ttl", state->refresh_interval_s);
    state->max_concurrent = (size_t)read_positive(state, "max_concurrent", 2);
    if (state->max_concurrent > 16)
        state->max_concurrent = 16;
    read_track(state);
    state->weights.chat = read_weight(state, "w_chat", 0.4);
    state->weights.grok = read_weight(state, "w_grok", 0.3);
    state->weights.market = read_weight(state, "w_market", 0.3);
    state->weights.chat_full_samples = read_positive(state, "chat_full_samples", 50);
    read_label_rule(state);
    grok_weights_sanitise(&state->weights);
}

static void read_limits(struct grok_state *state, struct grok_budgets *budgets)
{
    budgets->daily_calls = read_limit(state, "daily_call_budget", 500);
    budgets->daily_searches = read_limit(state, "daily_search_budget", 2000);
    budgets->hourly_calls = read_limit(state, "hourly_call_budget", 60);
    grok_limits_init(&state->user_limits, read_limit(state, "user_limit_per_hour", 10));
    grok_limits_init(&state->chat_limits, read_limit(state, "chat_limit_per_hour", 30));
}

/* ---- lifecycle ---- */

static int load_stored_rating(const char *key, const void *value, size_t value_length,
                              void *user_data)
{
    struct grok_state *state = user_data;
    struct grok_record record;
    if (grok_record_decode(value, value_length, &record) == 0)
        grok_refresh_load(state->refresh, &record);
    else
        state->api->log(state->self, JV_LOG_WARN, "stored rating %s is unreadable; dropped", key);
    return 0;
}

static void free_state(struct grok_state *state)
{
    if (state == NULL)
        return;
    grok_refresh_stop(state->refresh);
    grok_ledger_destroy(&state->ledger);
    grok_limits_destroy(&state->user_limits);
    grok_limits_destroy(&state->chat_limits);
    grok_narratives_destroy(&state->narratives);
    pthread_mutex_destroy(&state->counter_lock);
    pthread_mutex_destroy(&state->backoff_lock);
    free(state);
}

static int register_all(struct grok_state *state)
{
    jv_command_spec grok = {
        .name = "grok",
        .usage = "/grok <token>",
        .help = "Grok's reading of recent X posts about a token: score, confidence, summary",
        .handler = command_grok,
        .user_data = state,
    };
    jv_command_spec usage = {
        .name = "grok_usage",
        .usage = "/grok_usage",
        .help = "Grok calls, searches and tokens today and this month, and the budgets",
        .flags = JV_COMMAND_ADMIN,
        .handler = command_usage,
        .user_data = state,
    };
    jv_command_spec weights = {
        .name = "weights",
        .usage = "/weights",
        .help = "how chat, Grok and market signals are weighted",
        .handler = command_weights,
        .user_data = state,
    };
    jv_job_spec job = {
        .name = "refresh",
        .interval_ms = state->refresh_interval_s * 1000,
        .initial_delay_ms = 1000,
        .run = refresh_job,
        .user_data = state,
    };
    int code = JV_REGISTER_COMMAND(state->api, state->self, &grok);
    if (code == JV_OK)
        code = JV_REGISTER_COMMAND(state->api, state->self, &usage);
    if (code == JV_OK)
        code = JV_REGISTER_COMMAND(state->api, state->self, &weights);
    if (code == JV_OK)
        code = JV_REGISTER_JOB(state->api, state->self, &job);
    if (code == JV_OK)
        code = state->api->provide_service(state->self, JV_SVC_SENTIMENT_WEIGHT,
                                           JV_SVC_SENTIMENT_WEIGHT_VERSION, &service_vtable);
    return code;
}

static int grok_init(jv_plugin *self, const jv_host_api *api, char *err, size_t err_length)
{
    struct grok_state *state = calloc(1, sizeof *state);
    if (state == NULL) {
        snprintf(err, err_length, "out of memory");
        return JV_E_NOMEM;
    }
    state->api = api;
    state->self = self;
    pthread_mutex_init(&state->backoff_lock, NULL);
    pthread_mutex_init(&state->counter_lock, NULL);
    read_config(state);
    grok_narratives_init(&state->narratives, state->narrative_ttl_s * 1000);
    struct grok_budgets budgets;
    read_limits(state, &budgets);
    grok_ledger_init(&state->ledger, api, self, &budgets);
    state->refresh = grok_refresh_start(state->max_concurrent, fetch_rating, deliver_rating, state);
    if (state->refresh == NULL) {
        free_state(state);
        snprintf(err, err_length, "cannot start the rating threads");
        return JV_E_NOMEM;
    }
    api->kv_list(self, "rating/", load_stored_rating, state);
    int code = register_all(state);
    if (code != JV_OK) {
        snprintf(err, err_length, "registration failed: %s", api->strerror(code));
        free_state(state);
        return code;
    }
    plugin_state = state;
    service_open(state);
    if (state->client.api_key[0] == '\0')
        api->log(self, JV_LOG_INFO, "no api_key configured: Grok ratings unavailable");
    else
        api->log(self, JV_LOG_INFO,
                 "Grok model %s over the %s API, refresh every %lld s, %zu at once",
                 state->client.model,
                 state->client.api_mode == GROK_API_CHAT ? "chat (no search)" : "Responses",
                 (long long)state->refresh_interval_s, state->max_concurrent);
    return JV_OK;
}

static int grok_post_init(jv_plugin *self)
{
    struct grok_state *state = plugin_state;
    if (state == NULL)
        return JV_OK;
    state->registry =
        state->api->acquire_service(self, JV_SVC_TOKEN_REGISTRY, JV_SVC_TOKEN_REGISTRY_VERSION);
    return JV_OK;
}

static void grok_shutdown(jv_plugin *self)
{
    struct grok_state *state = plugin_state;
    plugin_state = NULL;
    service_close(); /* waits for service calls in flight */
    if (state != NULL && state->registry != NULL)
        state->api->release_service(self, JV_SVC_TOKEN_REGISTRY);
    free_state(state);
}

JV_PLUGIN_DEFINE("grok_weighting", "2.0.0",
                 "Grok's X sentiment ratings and the sentiment.weight service",
                 JV_PLUGIN_CONCURRENT, grok_init, grok_post_init, grok_shutdown);
