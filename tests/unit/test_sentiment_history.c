/* The sentiment plugin's stateful parts against a fake host table with an
 * in-memory KV store: observation keys, window means and trend, pruning,
 * subscriptions (records old and new, the keyboard, presses), the chat
 * watcher, the token view with and without the sentiment.weight service,
 * and the periodic report on each chat's own interval and tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sentiment/commands.h"
#include "sentiment/history.h"
#include "sentiment/questions.h"
#include "sentiment/report.h"
#include "sentiment/state.h"
#include "sentiment/subscribe.h"
#include "sentiment/subscribe_keyboard.h"
#include "sentiment/subscriptions.h"
#include "sentiment/token_view.h"

#define NOW_MS INT64_C(1750000000000)
#define HOUR_MS INT64_C(3600000)

/* ---- the fake host ---- */

typedef struct kv_entry {
    char *key;
    char *value;
    size_t length;
} kv_entry;

static kv_entry store[256];
static size_t store_count;
static int64_t sent_chats[16];
static char sent_texts[16][8192];
static size_t sent_count;
static int weight_present;
static jv_grok_rating fake_rating;

static int compare_keys(const void *left, const void *right)
{
    return strcmp(((const kv_entry *)left)->key, ((const kv_entry *)right)->key);
}

static int kv_set_fails; /* makes fake_kv_set answer JV_E_IO */

static int fake_kv_set(jv_plugin *self, const char *key, const void *value, size_t length)
{
    (void)self;
    if (kv_set_fails)
        return JV_E_IO;
    for (size_t i = 0; i < store_count; i++) {
        if (strcmp(store[i].key, key) == 0) {
            free(store[i].value);
            store[i].value = strndup(value, length);
            store[i].length = length;
            return JV_OK;
        }
    }
    if (store_count == sizeof store / sizeof store[0])
        return JV_E_IO;
    store[store_count++] = (kv_entry){strdup(key), strndup(value, length), length};
    qsort(store, store_count, sizeof store[0], compare_keys);
    return JV_OK;
}

static int fake_kv_get(jv_plugin *self, const char *key, char **value, size_t *length)
{
    (void)self;
    for (size_t i = 0; i < store_count; i++) {
        if (strcmp(store[i].key, key) == 0) {
            *value = strndup(store[i].value, store[i].length);
            *length = store[i].length;
            return JV_OK;
        }
    }
    return JV_E_NOTFOUND;
}

static int fake_kv_delete(jv_plugin *self, const char *key)
{
    (void)self;
    for (size_t i = 0; i < store_count; i++) {
        if (strcmp(store[i].key, key) == 0) {
            free(store[i].key);
            free(store[i].value);
            memmove(&store[i], &store[i + 1], (store_count - i - 1) * sizeof store[0]);
            store_count--;
            return JV_OK;
        }
    }
    return JV_E_NOTFOUND;
}

static int fake_kv_list(jv_plugin *self, const char *prefix, jv_kv_visit_fn visit, void *data)
{
    (void)self;
    for (size_t i = 0; i < store_count; i++) {
        if (strncmp(store[i].key, prefix, strlen(prefix)) == 0 &&
            visit(store[i].key, store[i].value, store[i].length, data) != 0)
            break;
    }
    return JV_OK;
}

static int fake_combine(const jv_weight_component *components, size_t count,
                        jv_weight_result *result)
{
    /* fixed configured weights chat 0.6, grok 0.4, renormalised over the present */
    static const double configured[2] = {0.6, 0.4};
    double total = 0;
    for (size_t i = 0; i < count; i++)
        total += components[i].present ? configured[i] : 0;
    result->composite = 0;
    result->count = count;
    result->confidence = total;
    for (size_t i = 0; i < count; i++) {
        result->weight[i] = components[i].present ? configured[i] / total : 0;
        result->contribution[i] = result->weight[i] * components[i].score;
        result->composite += result->contribution[i];
    }
    /* version 2 fields: the label rule at its default threshold */
    snprintf(result->label, sizeof result->label, "%s",
             result->composite >= 0.15 ? "bullish" : result->composite <= -0.15 ? "bearish" : "neutral");
    result->certainty = result->confidence * 0.9;
    result->enough_evidence = 1;
    result->sources_used = (size_t)(components[0].present + (count > 1 && components[1].present));
    return JV_OK;
}

static int fake_grok_rate(const char *symbol, jv_grok_rating *rating)
{
    (void)symbol;
    *rating = fake_rating;
    return rating->available ? JV_OK : JV_E_NOTFOUND;
}

static const jv_sentiment_weight_api fake_weight = {sizeof fake_weight, fake_combine,
                                                    fake_grok_rate, NULL};

static const void *fake_acquire(jv_plugin *self, const char *name, uint32_t version)
{
    (void)self;
    (void)version;
    return weight_present && strcmp(name, JV_SVC_SENTIMENT_WEIGHT) == 0 ? &fake_weight : NULL;
}

static void fake_release(jv_plugin *self, const char *name)
{
    (void)self;
    (void)name;
}

static int fake_send(jv_plugin *self, int64_t chat_id, const char *text)
{
    (void)self;
    assert_true(sent_count < 16);
    sent_chats[sent_count] = chat_id;
    snprintf(sent_texts[sent_count], sizeof sent_texts[0], "%s", text);
    sent_count++;
    return JV_OK;
}

static char replied[8192];
static uint32_t replied_flags;
static size_t replied_buttons;

/* Replies and reports are Telegram HTML: the assertions read what the user
 * sees, tags dropped and entities decoded, as Telegram shows it. */
static void html_to_plain(const char *html, char *out, size_t size)
{
    static const char *const entities[][2] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                                              {"&amp;", "&"}};
    size_t length = 0;
    while (*html && length + 1 < size) {
        if (*html == '<') {
            const char *end = strchr(html, '>');
            html = end ? end + 1 : html + strlen(html);
            continue;
        }
        int decoded = 0;
        for (size_t i = 0; i < 4 && !decoded; i++) {
            size_t entity_length = strlen(entities[i][0]);
            if (strncmp(html, entities[i][0], entity_length) == 0) {
                out[length++] = entities[i][1][0];
                html += entity_length;
                decoded = 1;
            }
        }
        if (!decoded)
            out[length++] = *html++;
    }
    out[length] = '\0';
}

static int fake_reply_with(const jv_message *message, const jv_outgoing *content,
                           int64_t *reference)
{
    (void)message, (void)reference;
    replied_flags = content->flags;
    replied_buttons = content->button_count;
    html_to_plain(content->text, replied, sizeof replied);
    return JV_OK;
}

static int fake_send_with(jv_plugin *self, int64_t chat_id, const jv_outgoing *content,
                          int64_t *reference)
{
    (void)reference;
    assert_true(content->flags & JV_FORMAT_HTML);
    char plain[sizeof sent_texts[0]];
    html_to_plain(content->text, plain, sizeof plain);
    return fake_send(self, chat_id, plain);
}

static int fake_reply(const jv_message *message, const char *text)
{
    (void)message;
    snprintf(replied, sizeof replied, "%s", text);
    return JV_OK;
}

static const char *fake_strerror(int code)
{
    return code == JV_OK ? "ok" : "error";
}

static char logged[512]; /* the last log line */

static void fake_log(jv_plugin *self, int level, const char *format, ...)
{
    (void)self;
    (void)level;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(logged, sizeof logged, format, arguments);
    va_end(arguments);
}

static int64_t clock_ms; /* what now_ms answers */

static int64_t fake_now(void)
{
    return clock_ms;
}

static char toasted[128];   /* the last answer_callback text */
static int answers;         /* answer_callback calls */
static char edited[8192];   /* the last edit, as the user sees it */
static int64_t edited_message;
static size_t edited_buttons;

static int fake_answer_callback(const jv_message *press, const char *text, int show_alert)
{
    (void)press, (void)show_alert;
    snprintf(toasted, sizeof toasted, "%s", text ? text : "");
    answers++;
    return JV_OK;
}

static int fake_edit_message(jv_plugin *self, int64_t chat_id, int64_t message,
                             const jv_outgoing *content)
{
    (void)self, (void)chat_id;
    assert_true(content->flags & JV_FORMAT_HTML);
    html_to_plain(content->text, edited, sizeof edited);
    edited_message = message;
    edited_buttons = content->button_count;
    return JV_OK;
}

static jv_host_api fake_api;
static sentiment_state state;
static char plugin_handle; /* the opaque jv_plugin pointer */

static int setup(void **unused)
{
    (void)unused;
    memset(&fake_api, 0, sizeof fake_api);
    fake_api.struct_size = sizeof fake_api;
    fake_api.free = free;
    fake_api.strerror = fake_strerror;
    fake_api.log = fake_log;
    fake_api.kv_set = fake_kv_set;
    fake_api.kv_get = fake_kv_get;
    fake_api.kv_delete = fake_kv_delete;
    fake_api.kv_list = fake_kv_list;
    fake_api.acquire_service = fake_acquire;
    fake_api.release_service = fake_release;
    fake_api.send_message = fake_send;
    fake_api.reply = fake_reply;
    fake_api.reply_with = fake_reply_with;
    fake_api.send_with = fake_send_with;
    fake_api.now_ms = fake_now;
    fake_api.answer_callback = fake_answer_callback;
    fake_api.edit_message = fake_edit_message;
    clock_ms = NOW_MS;
    toasted[0] = edited[0] = '\0';
    answers = 0;
    edited_message = 0;
    memset(&state, 0, sizeof state);
    state.api = &fake_api;
    state.self = (jv_plugin *)&plugin_handle;
    state.window_ms = 24 * HOUR_MS;
    state.retention_ms = 7 * 24 * HOUR_MS;
    state.report_interval_ms = HOUR_MS;
    state.report_check_ms = 60000;
    state.started_ms = NOW_MS - 10 * HOUR_MS;
    char error[512];
    if (sentiment_tokens_parse(SENTIMENT_DEFAULT_TOKENS, &state.tokens, error, sizeof error) != 0)
        return -1;
    state.report_tokens[0] = (size_t)sentiment_tokens_lookup(&state.tokens, "SOL");
    state.report_tokens[1] = (size_t)sentiment_tokens_lookup(&state.tokens, "BTC");
    state.report_token_count = 2;
    state.lexicon = sentiment_lexicon_load("plugins/sentiment/lexicon.txt", error, sizeof error);
    pthread_mutex_init(&state.lock, NULL);
    weight_present = 0;
    memset(&fake_rating, 0, sizeof fake_rating);
    sent_count = 0;
    replied[0] = '\0';
    logged[0] = '\0';
    kv_set_fails = 0;
    return state.lexicon == NULL ? -1 : 0;
}

static int teardown(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < store_count; i++) {
        free(store[i].key);
        free(store[i].value);
    }
    store_count = 0;
    sentiment_lexicon_free(state.lexicon);
    pthread_mutex_destroy(&state.lock);
    return 0;
}

static void record(const char *symbol, int64_t age_ms, double score)
{
    assert_int_equal(sentiment_history_record(&fake_api, state.self, symbol, NOW_MS - age_ms, 42,
                                              sentiment_state_next_sequence(&state), score),
                     JV_OK);
}

static void view(size_t token, char *buffer, size_t size, int *has_data)
{
    sentiment_text text;
    sentiment_text_init(&text, buffer, size);
    assert_int_equal(sentiment_token_view(&state, token, NOW_MS, &text, has_data), JV_OK);
    char *html = strdup(buffer);
    assert_non_null(html);
    html_to_plain(html, buffer, size);
    free(html);
}

/* ---- tests ---- */

static void keys_sort_by_time(void **unused)
{
    (void)unused;
    char key[SENTIMENT_HISTORY_KEY_MAX];
    assert_int_equal(sentiment_history_key(key, sizeof key, "SOL", NOW_MS, -100123, 7), 0);
    assert_string_equal(key, "obs/SOL/1750000000000/-100123/7");
    assert_int_equal(sentiment_history_key(key, sizeof key, "SOL", 999, 1, 1), -1);
    assert_int_equal(sentiment_history_key(key, 10, "SOL", NOW_MS, 1, 1), -1);
}

static void window_means_and_previous_window(void **unused)
{
    (void)unused;
    record("SOL", 1 * HOUR_MS, 0.5);
    record("SOL", 2 * HOUR_MS, -0.1);
    record("SOL", 25 * HOUR_MS, 0.2);
    record("SOL", 47 * HOUR_MS, 0.4);
    record("SOL", 49 * HOUR_MS, 0.9); /* older than both windows */
    record("SOLX", 1 * HOUR_MS, -1.0); /* another symbol sharing a prefix */
    fake_kv_set(NULL, "obs/SOL/1749999999000/1/1", "garbage", 7); /* damaged: skipped */
    jv_token_sentiment snapshot;
    assert_int_equal(sentiment_history_window(&fake_api, state.self, "SOL", NOW_MS, 24 * HOUR_MS,
                                              &snapshot),
                     JV_OK);
    assert_int_equal(snapshot.samples, 2);
    assert_true(snapshot.mean > 0.1999 && snapshot.mean < 0.2001);
    assert_int_equal(snapshot.previous_samples, 2);
    assert_true(snapshot.previous_mean > 0.2999 && snapshot.previous_mean < 0.3001);
    assert_int_equal(snapshot.window_s, 86400);
    assert_int_equal(snapshot.last_seen_ms, NOW_MS - HOUR_MS);

    assert_int_equal(sentiment_history_window(&fake_api, state.self, "BTC", NOW_MS, 24 * HOUR_MS,
                                              &snapshot),
                     JV_OK);
    assert_int_equal(snapshot.samples, 0);
    assert_int_equal(snapshot.last_seen_ms, 0);
}

static void prune_deletes_only_expired_observations(void **unused)
{
    (void)unused;
    record("SOL", 1 * HOUR_MS, 0.5);
    record("SOL", 200 * HOUR_MS, 0.5);
    record("BTC", 300 * HOUR_MS, 0.5);
    record("BTC", 301 * HOUR_MS, 0.5);
    fake_kv_set(NULL, "sub/5", "1", 1);
    size_t deleted = 0;
    assert_int_equal(sentiment_history_prune(&fake_api, state.self, NOW_MS - 168 * HOUR_MS, 2,
                                             &deleted),
                     JV_OK);
    assert_int_equal(deleted, 2); /* the batch limit */
    assert_int_equal(sentiment_history_prune(&fake_api, state.self, NOW_MS - 168 * HOUR_MS, 100,
                                             &deleted),
                     JV_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(store_count, 2); /* the fresh observation and the subscription */
}

static void subscriptions_are_idempotent(void **unused)
{
    (void)unused;
    sentiment_subscription subscription;
    assert_int_equal(sentiment_subscribe(&state, 1, &subscription), 1);
    assert_int_equal(subscription.since_ms, NOW_MS);
    assert_int_equal(sentiment_subscribe(&state, 1, &subscription), 0);
    assert_int_equal(sentiment_subscribe(&state, -100500, &subscription), 1);
    sentiment_subscription *list = NULL;
    size_t count = 0;
    assert_int_equal(sentiment_subscriptions_list(&state, &list, &count), JV_OK);
    assert_int_equal(count, 2);
    assert_true((list[0].chat_id == 1 && list[1].chat_id == -100500) ||
                (list[0].chat_id == -100500 && list[1].chat_id == 1));
    free(list);
    assert_int_equal(sentiment_unsubscribe(&state, 1), 1);
    assert_int_equal(sentiment_unsubscribe(&state, 1), 0);
}

static void subscription_records_old_new_and_unreadable(void **unused)
{
    (void)unused;
    sentiment_subscription read = {.chat_id = 9};
    /* the record before the buttons: the subscription time alone */
    assert_int_equal(sentiment_subscription_parse("1700000000000", 13, &state.tokens, &read), 0);
    assert_true(read.legacy && read.interval_ms == 0 && !read.has_tokens);
    assert_int_equal(read.chat_id, 9);
    size_t tokens[SENTIMENT_MAX_TOKENS];
    assert_int_equal(sentiment_subscription_tokens(&state, &read, tokens), 2); /* report_tokens */
    assert_int_equal(sentiment_subscription_interval(&state, &read), HOUR_MS);

    sentiment_subscription chosen = {.chat_id = 9, .since_ms = NOW_MS,
                                     .interval_ms = 4 * HOUR_MS, .has_tokens = 1};
    chosen.tokens[sentiment_tokens_lookup(&state.tokens, "ETH")] = 1;
    chosen.tokens[sentiment_tokens_lookup(&state.tokens, "WIF")] = 1;
    char value[256];
    assert_int_equal(sentiment_subscription_format(&chosen, &state.tokens, value, sizeof value), 0);
    assert_string_equal(value, "2 1750000000000 14400000 ETH,WIF");
    assert_int_equal(sentiment_subscription_parse(value, strlen(value), &state.tokens, &read), 0);
    assert_false(read.legacy);
    assert_int_equal(read.since_ms, NOW_MS);
    assert_int_equal(sentiment_subscription_interval(&state, &read), 4 * HOUR_MS);
    assert_int_equal(sentiment_subscription_tokens(&state, &read, tokens), 2);
    assert_string_equal(state.tokens.tokens[tokens[0]].symbol, "ETH");
    assert_string_equal(state.tokens.tokens[tokens[1]].symbol, "WIF");

    /* a token no longer tracked is dropped; none left, and an interval no
     * longer offered, fall back to the defaults */
    const char *stale = "2 5 7200000 NOPE";
    assert_int_equal(sentiment_subscription_parse(stale, strlen(stale), &state.tokens, &read), 0);
    assert_int_equal(sentiment_subscription_tokens(&state, &read, tokens), 2);
    assert_int_equal(sentiment_subscription_interval(&state, &read), HOUR_MS);
    const char *defaults = "2 5 0 *";
    assert_int_equal(sentiment_subscription_parse(defaults, 7, &state.tokens, &read), 0);
    assert_true(!read.legacy && !read.has_tokens && read.interval_ms == 0 && read.since_ms == 5);

    const char *garbage[] = {"", "3 1 2 SOL", "2 1 2", "2 x 2 SOL", "2 1 2 SOL extra", "-5"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        assert_int_equal(sentiment_subscription_parse(garbage[i], strlen(garbage[i]),
                                                      &state.tokens, &read),
                         -1);
        assert_true(read.legacy && !read.has_tokens && read.interval_ms == 0);
    }
}

static void interval_choices_include_the_default(void **unused)
{
    (void)unused;
    int64_t choices[SENTIMENT_INTERVAL_CHOICES];
    assert_int_equal(sentiment_interval_choices(&state, choices), 4); /* default 1h is one */
    assert_true(choices[0] == HOUR_MS && choices[3] == 24 * HOUR_MS);
    state.report_interval_ms = 300;
    assert_int_equal(sentiment_interval_choices(&state, choices), 5);
    assert_true(choices[0] == 300 && choices[1] == HOUR_MS);
    state.report_interval_ms = 2 * HOUR_MS;
    assert_int_equal(sentiment_interval_choices(&state, choices), 5);
    assert_true(choices[1] == 2 * HOUR_MS && choices[2] == 4 * HOUR_MS);
    state.report_interval_ms = 48 * HOUR_MS;
    assert_int_equal(sentiment_interval_choices(&state, choices), 5);
    assert_true(choices[4] == 48 * HOUR_MS);
    assert_false(sentiment_interval_offered(&state, 2 * HOUR_MS));
}

static void keyboard_marks_the_choice_and_reads_presses_back(void **unused)
{
    (void)unused;
    sentiment_subscription subscription = {.chat_id = 5, .interval_ms = 12 * HOUR_MS};
    sentiment_keyboard keyboard;
    sentiment_keyboard_build(&state, &subscription, &keyboard);
    assert_int_equal(keyboard.count, 4 + state.tokens.count);
    assert_string_equal(keyboard.buttons[0].text, "1h");
    assert_string_equal(keyboard.buttons[2].text, "\xE2\x9C\x85 12h");
    assert_string_equal(keyboard.buttons[2].callback_data, "sentiment:i:43200000");
    assert_true(keyboard.buttons[4].new_row && !keyboard.buttons[5].new_row);
    assert_string_equal(keyboard.buttons[4].text, "\xE2\x9C\x85 SOL"); /* report_tokens: SOL, BTC */
    assert_string_equal(keyboard.buttons[4].callback_data, "sentiment:t:SOL");
    assert_string_equal(keyboard.buttons[5].text, "\xE2\x9C\x85 BTC");
    assert_string_equal(keyboard.buttons[6].text, "ETH");
    for (size_t i = 0; i < keyboard.count; i++)
        assert_true(strlen(keyboard.buttons[i].callback_data) <= JV_CALLBACK_DATA_MAX);

    sentiment_press press;
    const char *problem = NULL;
    assert_int_equal(sentiment_press_read(&state, "sentiment:i:14400000", &press, &problem), 0);
    assert_true(press.kind == SENTIMENT_PRESS_INTERVAL && press.interval_ms == 4 * HOUR_MS);
    assert_int_equal(sentiment_press_read(&state, "sentiment:t:ETH", &press, &problem), 0);
    assert_true(press.kind == SENTIMENT_PRESS_TOKEN &&
                press.token == (size_t)sentiment_tokens_lookup(&state.tokens, "ETH"));
    const struct {
        const char *data, *problem;
    } refused[] = {
        {"sentiment:i:7200000", "That interval is not offered any more."},
        {"sentiment:t:NOPE", "That token is not tracked any more."},
        {"sentiment:t:eth", "That token is not tracked any more."},
        {"sentiment:i:", "This button has expired."},
        {"sentiment:i:0", "This button has expired."},
        {"sentiment:i:3600000x", "This button has expired."},
        {"sentiment:i:99999999999999999999999", "This button has expired."},
        {"sentiment:x:SOL", "This button has expired."},
        {"sentiment:", "This button has expired."},
        {"dexter:o:7d:SOL", "This button has expired."},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(sentiment_press_read(&state, refused[i].data, &press, &problem), -1);
        assert_string_equal(problem, refused[i].problem);
    }
}

static jv_message press_message(int64_t chat_id, const char *data)
{
    return (jv_message){.struct_size = sizeof(jv_message), .update_id = 30, .chat_id = chat_id,
                        .message_id = 77, .user_id = 4, .callback_data = data};
}

static void a_press_saves_the_choice_and_edits_the_message(void **unused)
{
    (void)unused;
    jv_message subscribe = {.struct_size = sizeof subscribe, .update_id = 29, .chat_id = 5,
                            .text = "/subscribe", .command = "subscribe", .args = ""};
    sentiment_subscribe_command(state.self, &subscribe, &state);
    jv_message press = press_message(5, "sentiment:i:14400000");
    assert_int_equal(sentiment_subscribe_press(state.self, &press, &state), JV_OK);
    assert_string_equal(toasted, "Every 4h.");
    assert_int_equal(edited_message, 77);
    assert_int_equal(edited_buttons, 4 + state.tokens.count);
    assert_non_null(strstr(edited, "Subscribed: this chat gets a sentiment report every 4h.\n"
                                   "Tokens: SOL, BTC\n"));
    press = press_message(5, "sentiment:t:SOL");
    assert_int_equal(sentiment_subscribe_press(state.self, &press, &state), JV_OK);
    assert_string_equal(toasted, "SOL off.");
    assert_non_null(strstr(edited, "Tokens: BTC\n"));
    sentiment_subscription saved;
    assert_int_equal(sentiment_subscription_load(&state, 5, &saved), JV_OK);
    assert_int_equal(sentiment_subscription_interval(&state, &saved), 4 * HOUR_MS);
    size_t tokens[SENTIMENT_MAX_TOKENS];
    assert_int_equal(sentiment_subscription_tokens(&state, &saved, tokens), 1);
    assert_string_equal(state.tokens.tokens[tokens[0]].symbol, "BTC");

    /* nothing changes: the last token stays on, the same interval, forged
     * and stale data, a chat that is not subscribed; each gets its toast */
    edited[0] = '\0';
    const struct {
        int64_t chat;
        const char *data, *toast;
        int result;
    } unchanged[] = {
        {5, "sentiment:t:BTC", "Keep at least one token on.", JV_OK},
        {5, "sentiment:i:14400000", "Already every 4h.", JV_OK},
        {5, "sentiment:i:60000", "That interval is not offered any more.", JV_E_NOTFOUND},
        {5, "sentiment:t:NOPE", "That token is not tracked any more.", JV_E_NOTFOUND},
        {5, "sentiment:\xff<b>&", "This button has expired.", JV_E_NOTFOUND},
        {6, "sentiment:t:SOL", "This chat is not subscribed: send /subscribe.", JV_OK},
    };
    for (size_t i = 0; i < sizeof unchanged / sizeof unchanged[0]; i++) {
        answers = 0;
        press = press_message(unchanged[i].chat, unchanged[i].data);
        assert_int_equal(sentiment_subscribe_press(state.self, &press, &state), unchanged[i].result);
        assert_string_equal(toasted, unchanged[i].toast);
        assert_int_equal(answers, 1);
    }
    assert_string_equal(edited, "");
    sentiment_subscription again;
    assert_int_equal(sentiment_subscription_load(&state, 5, &again), JV_OK);
    assert_int_equal(again.interval_ms, saved.interval_ms);
    assert_int_equal(again.has_tokens, saved.has_tokens);
    assert_memory_equal(again.tokens, saved.tokens, sizeof saved.tokens);
    assert_int_equal(sentiment_subscription_load(&state, 6, &again), JV_E_NOTFOUND);

    /* a store that fails: the user is told, nothing is edited */
    kv_set_fails = 1;
    press = press_message(5, "sentiment:t:ETH");
    assert_true(sentiment_subscribe_press(state.self, &press, &state) < 0);
    assert_string_equal(toasted, "Could not save the choice; try again.");
    assert_string_equal(edited, "");
}

static void subscribe_command_states_the_interval_and_failures(void **unused)
{
    (void)unused;
    jv_message message = {.struct_size = sizeof message, .update_id = 12, .chat_id = 5,
                          .text = "/subscribe", .command = "subscribe", .args = ""};
    state.report_interval_ms = 3600 * 1000;
    sentiment_subscribe_command(state.self, &message, &state);
    assert_string_equal(replied, "Subscribed: this chat gets a sentiment report every 1h.\n"
                                 "Tokens: SOL, BTC\n"
                                 "Tap an interval, or a token to switch it on or off.");
    assert_true(replied_flags & JV_FORMAT_HTML);
    assert_int_equal(replied_buttons, 4 + state.tokens.count);
    /* a test interval that is not whole seconds is not rounded into a false one */
    state.report_interval_ms = 1500;
    sentiment_subscribe_command(state.self, &message, &state);
    assert_non_null(strstr(replied, "Already subscribed: this chat gets a sentiment report every "
                                    "1500ms.\n"));
    /* a store that fails: the user is told, the log names chat and update */
    kv_set_fails = 1;
    message.chat_id = 6;
    sentiment_subscribe_command(state.self, &message, &state);
    assert_string_equal(replied, "Could not subscribe: error.");
    assert_non_null(strstr(logged, "/subscribe"));
    assert_non_null(strstr(logged, "chat 6"));
    assert_non_null(strstr(logged, "update 12"));
}

static void watcher_records_mentions_and_never_consumes(void **unused)
{
    (void)unused;
    jv_message message = {.struct_size = sizeof message, .chat_id = 7,
                          .text = "$SOL and bitcoin to the moon 🚀"};
    assert_int_equal(sentiment_watch_message(state.self, &message, &state), JV_CONTINUE);
    assert_int_equal(store_count, 2);
    assert_non_null(strstr(store[0].key, "obs/BTC/1750000000000/7/"));
    assert_non_null(strstr(store[1].key, "obs/SOL/1750000000000/7/"));
    assert_true(atof(store[1].value) > 0.5);

    jv_message plain = {.struct_size = sizeof plain, .chat_id = 7, .text = "el sol brilla"};
    assert_int_equal(sentiment_watch_message(state.self, &plain, &state), JV_CONTINUE);
    jv_message command = {.struct_size = sizeof command, .chat_id = 7, .text = "/sentiment SOL",
                          .command = "sentiment", .args = "SOL"};
    assert_int_equal(sentiment_watch_message(state.self, &command, &state), JV_CONTINUE);
    assert_int_equal(store_count, 2);
}

static size_t recorded_after(const char *text, int is_private, int mentions_bot)
{
    jv_message message = {.struct_size = sizeof message, .chat_id = -500, .text = text,
                          .is_private = is_private, .mentions_bot = mentions_bot};
    size_t before = store_count;
    assert_int_equal(sentiment_watch_message(state.self, &message, &state), JV_CONTINUE);
    return store_count - before;
}

static void watcher_skips_questions(void **unused)
{
    (void)unused;
    /* a '?' at the end of the last sentence: a question wherever it is asked */
    assert_int_equal(recorded_after("Is SOL bullish right now?", 0, 0), 0);
    assert_int_equal(recorded_after("Is SOL bullish right now?", 1, 0), 0);
    assert_int_equal(recorded_after("$SOL pumped hard. Is it over?! 🤔", 0, 0), 0);
    assert_int_equal(recorded_after("\"is $SOL a scam?\" ", 0, 0), 0);
    assert_int_equal(recorded_after("SOL 要涨了吗？", 0, 0), 0); /* full-width '?' */
    /* an interrogative opening counts only when the bot is addressed */
    assert_int_equal(recorded_after("is SOL bullish right now", 1, 0), 0);
    assert_int_equal(recorded_after("@jarvis_bot how is SOL doing", 0, 1), 0);
    assert_int_equal(recorded_after("What’s up with SOL", 1, 0), 0);
    assert_int_equal(recorded_after("is SOL bullish right now", 0, 0), 1);
    /* opinions are recorded, in any chat */
    assert_int_equal(recorded_after("SOL dumped? no way, it is strong", 0, 0), 1);
    assert_int_equal(recorded_after("what a run for $SOL", 1, 0), 1);
    assert_int_equal(recorded_after("do not sell your SOL", 1, 0), 1);
    assert_int_equal(recorded_after("SOL to the moon 🚀", 1, 0), 1);
}

static void question_rule_edges(void **unused)
{
    (void)unused;
    assert_false(sentiment_is_question(NULL, 1));
    assert_false(sentiment_is_question("", 1));
    assert_false(sentiment_is_question("   ", 1));
    assert_true(sentiment_is_question("?", 0));
    assert_true(sentiment_is_question("really?)", 0));
    assert_true(sentiment_is_question("why!?", 0));
    assert_false(sentiment_is_question("why not!", 0));
    assert_true(sentiment_is_question("why not!", 1));
    assert_false(sentiment_is_question("whatever, SOL is fine", 1)); /* whole words only */
    assert_false(sentiment_is_question("what an entry on $SOL", 1));
    assert_true(sentiment_is_question("Should I buy?\xff\xfe", 0)); /* invalid bytes trail */
    assert_false(sentiment_is_question("\xff\xfe\xfd", 1));
    assert_true(sentiment_is_question("@bot @other what now", 1));
    char long_word[64];
    memset(long_word, 'w', sizeof long_word - 1);
    long_word[sizeof long_word - 1] = '\0';
    assert_false(sentiment_is_question(long_word, 1));
}

static void sentiment_command_replies(void **unused)
{
    (void)unused;
    const char *floki[] = {"FLOKI", NULL};
    jv_message message = {.struct_size = sizeof message, .chat_id = 1, .text = "/sentiment FLOKI",
                          .command = "sentiment", .args = "FLOKI", .argc = 1, .argv = floki};
    assert_int_equal(sentiment_command(state.self, &message, &state), JV_HANDLED);
    assert_non_null(strstr(replied, "FLOKI is not a token I track. Tracked: SOL, BTC, ETH,"));
    assert_non_null(strstr(replied, "/sentiment <text>"));
    assert_true(replied_flags & JV_FORMAT_HTML);

    const char *wagmi[] = {"WAGMI", NULL}; /* a lexicon word in capitals is text */
    message.args = "WAGMI";
    message.argv = wagmi;
    assert_int_equal(sentiment_command(state.self, &message, &state), JV_HANDLED);
    assert_non_null(strstr(replied, "Sentiment: +"));

    const char *sol[] = {"$sol", NULL};
    message.args = "$sol";
    message.argv = sol;
    assert_int_equal(sentiment_command(state.self, &message, &state), JV_HANDLED);
    assert_string_equal(replied, "SOL: no chat messages mentioned it in the last 24h.\n"
                                 "No combined score: weighting is unavailable.");

    const char *none[] = {NULL};
    message.args = "";
    message.argc = 0;
    message.argv = none;
    assert_int_equal(sentiment_command(state.self, &message, &state), JV_HANDLED);
    assert_true(strncmp(replied, "Usage: /sentiment <text>", 24) == 0);
}

static void view_without_weighting_says_so(void **unused)
{
    (void)unused;
    record("SOL", 1 * HOUR_MS, 0.5);
    record("SOL", 2 * HOUR_MS, -0.1);
    char text[4096];
    int has_data = 0;
    view(state.report_tokens[0], text, sizeof text, &has_data);
    assert_true(has_data);
    assert_non_null(strstr(text, "SOL: chat sentiment +0.20 from 2 messages in the last 24h."));
    assert_non_null(strstr(text, "Trend: no messages in the 24h before"));
    assert_non_null(strstr(text, "Chat score alone: weighting is unavailable."));

    view(state.report_tokens[1], text, sizeof text, &has_data);
    assert_false(has_data);
    assert_non_null(strstr(text, "BTC: no chat messages mentioned it in the last 24h."));
    assert_null(strstr(text, "+0.000")); /* no invented numbers */
}

static void view_with_weighting_shows_each_contribution(void **unused)
{
    (void)unused;
    record("SOL", 1 * HOUR_MS, 0.5);
    record("SOL", 2 * HOUR_MS, -0.1);
    record("SOL", 30 * HOUR_MS, -0.4);
    weight_present = 1;
    fake_rating = (jv_grok_rating){.available = 1, .score = 0.5, .confidence = 0.8,
                                   .summary = "traders cheer the upgrade"};
    char text[4096];
    int has_data = 0;
    view(state.report_tokens[0], text, sizeof text, &has_data);
    assert_non_null(strstr(text, "Trend: up (+0.60) versus the 24h before: -0.40 from 1 message."));
    assert_non_null(strstr(text, "Chat and Grok together: +0.32 (bullish), confidence 90%"));
    assert_non_null(strstr(text, "Coverage: chat, Grok, 2 of 2 sources"));
    assert_non_null(strstr(text, "chat: +0.20 x weight 0.60 = +0.12 (2 messages)"));
    assert_non_null(strstr(text, "Grok: +0.50 x weight 0.40 = +0.20 (confidence 80%)"));
    assert_non_null(strstr(text, "Grok says: traders cheer the upgrade"));

    fake_rating = (jv_grok_rating){.available = 0, .reason = "HTTP 429"};
    view(state.report_tokens[0], text, sizeof text, &has_data);
    assert_non_null(strstr(text, "Chat and Grok together: +0.20 (bullish)"));
    assert_non_null(strstr(text, "Coverage: chat only, 1 of 2 sources"));
    assert_non_null(strstr(text, "Grok: unavailable (HTTP 429)"));

    view(state.report_tokens[1], text, sizeof text, &has_data);
    assert_false(has_data);
    assert_non_null(strstr(text, "Chat and Grok together: nothing to combine"));

    fake_rating = (jv_grok_rating){.available = 1, .score = 7.0, .confidence = 0.8};
    view(state.report_tokens[0], text, sizeof text, &has_data);
    assert_non_null(strstr(text, "Grok: unavailable (rating out of range)"));
}

static void report_with_nothing_says_so(void **unused)
{
    (void)unused;
    char buffer[8192];
    sentiment_text text;
    sentiment_text_init(&text, buffer, sizeof buffer);
    assert_int_equal(sentiment_report_build(&state, NOW_MS, state.report_tokens,
                                            state.report_token_count, &text),
                     JV_OK);
    assert_string_equal(buffer, "<b>Sentiment report:</b> nothing to report; no chat messages mentioned "
                                "SOL, BTC in the last 24h.");
}

static void report_job_reaches_every_chat_when_it_is_due(void **unused)
{
    (void)unused;
    record("BTC", 1 * HOUR_MS, -0.6);
    assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    assert_int_equal(sent_count, 0); /* nobody subscribed: nothing sent */
    sentiment_subscription subscription;
    sentiment_subscribe(&state, 11, &subscription);
    sentiment_subscribe(&state, -22, &subscription);
    assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    assert_int_equal(sent_count, 0); /* subscribed just now: the first is an hour away */
    clock_ms = NOW_MS + HOUR_MS - 30000; /* within half a check of the hour */
    assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    assert_int_equal(sent_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_true(sent_chats[i] == 11 || sent_chats[i] == -22);
        assert_non_null(strstr(sent_texts[i], "Sentiment report (last 24h):"));
        assert_non_null(strstr(sent_texts[i], "SOL: no chat messages mentioned it"));
        assert_non_null(strstr(sent_texts[i], "BTC: chat sentiment -0.60 from 1 message"));
    }
    clock_ms += 50 * 60000;
    assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    assert_int_equal(sent_count, 2); /* 50 minutes after the last: not yet */
    clock_ms += 10 * 60000;
    assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    assert_int_equal(sent_count, 4);
}

static void each_chat_gets_its_own_tokens_at_its_own_interval(void **unused)
{
    (void)unused;
    record("ETH", 1 * HOUR_MS, 0.5);
    sentiment_subscription every_4h = {.chat_id = 40, .since_ms = NOW_MS,
                                       .interval_ms = 4 * HOUR_MS, .has_tokens = 1};
    every_4h.tokens[sentiment_tokens_lookup(&state.tokens, "ETH")] = 1;
    assert_int_equal(sentiment_subscription_save(&state, &every_4h), JV_OK);
    /* the record before the buttons: defaults, clock from the plugin's start */
    assert_int_equal(fake_kv_set(state.self, "sub/41", "1600000000000", 13), JV_OK);
    clock_ms = state.started_ms + HOUR_MS / 2; /* its 2023 time is not its clock */
    assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    assert_int_equal(sent_count, 0);
    clock_ms = state.started_ms + HOUR_MS;
    assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    assert_int_equal(sent_count, 1);
    assert_int_equal(sent_chats[0], 41);
    assert_non_null(strstr(sent_texts[0], "no chat messages mentioned SOL, BTC in the last 24h"));
    for (int hour = 1; hour <= 4; hour++) {
        clock_ms = NOW_MS + hour * HOUR_MS;
        assert_int_equal(sentiment_report_job(state.self, &state), JV_OK);
    }
    /* chat 41 every hour (its defaults), chat 40 once, at four hours */
    size_t to_40 = 0, to_41 = 0;
    for (size_t i = 0; i < sent_count; i++) {
        to_40 += sent_chats[i] == 40;
        to_41 += sent_chats[i] == 41;
        if (sent_chats[i] == 40) {
            assert_non_null(strstr(sent_texts[i], "ETH: chat sentiment +0.50"));
            assert_null(strstr(sent_texts[i], "SOL"));
        }
    }
    assert_int_equal(to_40, 1);
    assert_int_equal(to_41, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keys_sort_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(window_means_and_previous_window, setup, teardown),
        cmocka_unit_test_setup_teardown(prune_deletes_only_expired_observations, setup, teardown),
        cmocka_unit_test_setup_teardown(subscriptions_are_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(subscribe_command_states_the_interval_and_failures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(watcher_records_mentions_and_never_consumes, setup, teardown),
        cmocka_unit_test_setup_teardown(watcher_skips_questions, setup, teardown),
        cmocka_unit_test_setup_teardown(question_rule_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(sentiment_command_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(view_without_weighting_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(view_with_weighting_shows_each_contribution, setup, teardown),
        cmocka_unit_test_setup_teardown(report_with_nothing_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(report_job_reaches_every_chat_when_it_is_due, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(each_chat_gets_its_own_tokens_at_its_own_interval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(subscription_records_old_new_and_unreadable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(interval_choices_include_the_default, setup, teardown),
        cmocka_unit_test_setup_teardown(keyboard_marks_the_choice_and_reads_presses_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_press_saves_the_choice_and_edits_the_message, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
