/* Forum topics: which updates name a topic (telegram_parse_update), and how
 * the dispatcher and host_reply carry it to the transport while plain sends
 * (jobs, reports) name none. Uses a real dispatcher with no plugins: the
 * built-in answers (/start, unknown commands) take the same reply path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jarvis/plugin.h>

#include "config.h"
#include "dispatch.h"
#include "host.h"
#include "log.h"
#include "registry.h"
#include "telegram_updates.h"
#include "transport.h"

#define WAIT_GUARD_MS 20000 /* failure guard only */

/* ---- parsing ---- */

static void parse(const char *text, struct parsed_update *out, json_t **root)
{
    json_error_t error;
    *root = json_loads(text, 0, &error);
    assert_non_null(*root);
    telegram_parse_update(*root, 777, out);
}

static int64_t topic_of(const char *message_members)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"update_id\":5,\"message\":{\"message_id\":3,\"date\":1,\"chat\":{\"id\":-100123,"
             "\"type\":\"supergroup\",\"is_forum\":true},\"from\":{\"id\":9,\"is_bot\":false,"
             "\"first_name\":\"A\"},\"text\":\"/ping\"%s}}",
             message_members);
    struct parsed_update update;
    json_t *root;
    parse(text, &update, &root);
    assert_int_equal(update.kind, UPDATE_TEXT);
    int64_t topic = update.message.message_thread_id;
    json_decref(root);
    return topic;
}

static void test_topic_message_names_its_topic(void **state)
{
    (void)state;
    assert_int_equal(topic_of(",\"message_thread_id\":7,\"is_topic_message\":true"), 7);
    assert_true(topic_of(",\"is_topic_message\":true,\"message_thread_id\":4294967302") ==
                4294967302LL);
}

static void test_thread_without_topic_flag_names_none(void **state)
{
    (void)state;
    /* replies in a non-forum supergroup carry a thread id but are no topic */
    assert_int_equal(topic_of(",\"message_thread_id\":7"), 0);
    assert_int_equal(topic_of(",\"message_thread_id\":7,\"is_topic_message\":false"), 0);
    assert_int_equal(topic_of(""), 0); /* the General topic */
}

static void test_unusable_topic_ids_name_none(void **state)
{
    (void)state;
    assert_int_equal(topic_of(",\"message_thread_id\":\"7\",\"is_topic_message\":true"), 0);
    assert_int_equal(topic_of(",\"message_thread_id\":-7,\"is_topic_message\":true"), 0);
    assert_int_equal(topic_of(",\"message_thread_id\":7.5,\"is_topic_message\":true"), 0);
    assert_int_equal(topic_of(",\"is_topic_message\":true"), 0);
    assert_int_equal(topic_of(",\"message_thread_id\":7,\"is_topic_message\":1"), 0);
}

/* ---- a transport recording chat and topic ---- */

struct sent {
    int64_t chat_id;
    int64_t thread_id; /* -1: sent through plain send */
    char text[128];
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct sent items[32];
    int count;
} sent_log = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0, 0, ""}}, 0};

static int record(int64_t chat_id, int64_t thread_id, const char *text)
{
    pthread_mutex_lock(&sent_log.lock);
    if (sent_log.count < 32) {
        struct sent *item = &sent_log.items[sent_log.count++];
        item->chat_id = chat_id;
        item->thread_id = thread_id;
        snprintf(item->text, sizeof item->text, "%s", text);
    }
    pthread_cond_broadcast(&sent_log.changed);
    pthread_mutex_unlock(&sent_log.lock);
    return JV_OK;
}

static int record_send(struct transport *transport, int64_t chat_id, const char *text)
{
    (void)transport;
    return record(chat_id, -1, text);
}

/* Set by a test: while the reply is being sent its message is still being
 * handled, so copies of that jv_message can be looked up from here. */
static struct dispatch *probe_dispatch;
static int64_t probe_same_copy = -1, probe_other_copy = -1;

static void probe_copies(int64_t chat_id)
{
    if (probe_dispatch == NULL)
        return;
    jv_message copy = {.struct_size = sizeof copy, .update_id = 60, .chat_id = chat_id,
                       .message_id = 60};
    probe_same_copy = dispatch_reply_thread(probe_dispatch, &copy);
    copy.message_id = 61;
    probe_other_copy = dispatch_reply_thread(probe_dispatch, &copy);
}

static int record_send_to_thread(struct transport *transport, int64_t chat_id,
                                 int64_t thread_id, const char *text)
{
    (void)transport;
    probe_copies(chat_id);
    return record(chat_id, thread_id, text); /* a 0 here fails the checks below */
}

static const char *no_username(struct transport *transport)
{
    (void)transport;
    return "";
}

static struct transport topic_transport = {.name = "topics",
                                           .send = record_send,
                                           .bot_username = no_username,
                                           .send_to_thread = record_send_to_thread};
static struct transport flat_transport = {
    .name = "flat", .send = record_send, .bot_username = no_username};

static void sent_log_clear(void)
{
    pthread_mutex_lock(&sent_log.lock);
    sent_log.count = 0;
    pthread_mutex_unlock(&sent_log.lock);
}

/* ---- host_send_to_thread and host_reply ---- */

static void test_send_to_thread_picks_the_transport_call(void **state)
{
    (void)state;
    sent_log_clear();
    struct host host = {0};
    assert_int_equal(host_send_to_thread(&host, 1, 7, "x"), JV_E_STATE);
    host.transport = &topic_transport;
    assert_int_equal(host_send_to_thread(&host, 5, 7, "topic"), JV_OK);
    assert_int_equal(host_send_to_thread(&host, 5, 0, "general"), JV_OK);
    assert_int_equal(host_send(&host, 5, "plain"), JV_OK);
    host.transport = &flat_transport; /* console: no topics, the text still goes out */
    assert_int_equal(host_send_to_thread(&host, 5, 7, "flat"), JV_OK);
    assert_int_equal(host_send_to_thread(&host, 5, 7, NULL), JV_E_INVAL);
    assert_int_equal(sent_log.count, 4);
    assert_true(sent_log.items[0].thread_id == 7);
    assert_true(sent_log.items[1].thread_id == -1);
    assert_true(sent_log.items[2].thread_id == -1);
    assert_true(sent_log.items[3].thread_id == -1);
    assert_string_equal(sent_log.items[3].text, "flat");
}

static void test_reply_outside_dispatch_names_no_topic(void **state)
{
    (void)state;
    sent_log_clear();
    struct host host = {.transport = &topic_transport};
    jv_message message = {.struct_size = sizeof message, .chat_id = 42, .update_id = 1};
    assert_int_equal(host_reply(&host, &message, "no dispatcher"), JV_OK);
    assert_int_equal(host_reply(&host, NULL, "x"), JV_E_INVAL);
    assert_int_equal(sent_log.count, 1);
    assert_true(sent_log.items[0].chat_id == 42);
    assert_true(sent_log.items[0].thread_id == -1);
}

/* ---- through the dispatcher ---- */

struct fixture {
    struct config config;
    struct host host;
};

static int setup_dispatcher(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    fixture->config.path = "test_topics";
    fixture->config.token = "";
    fixture->config.workers = 3;
    fixture->config.shutdown_grace_ms = 5000;
    fixture->config.plugin_dir = "/nonexistent";
    fixture->host.config = &fixture->config;
    fixture->host.registry = registry_create(&fixture->host);
    assert_non_null(fixture->host.registry);
    fixture->host.transport = &topic_transport;
    fixture->host.dispatch = dispatch_create(&fixture->host, fixture->config.workers);
    assert_non_null(fixture->host.dispatch);
    sent_log_clear();
    *state = fixture;
    return 0;
}

static int teardown_dispatcher(void **state)
{
    struct fixture *fixture = *state;
    dispatch_destroy(fixture->host.dispatch);
    registry_destroy(fixture->host.registry);
    free(fixture);
    return 0;
}

static void submit(struct fixture *fixture, int64_t update_id, int64_t chat_id,
                   int64_t thread_id, const char *text)
{
    struct incoming_message message = {.update_id = update_id, .chat_id = chat_id,
                                       .user_id = 9, .message_id = update_id,
                                       .chat_type = "supergroup", .user_name = "a",
                                       .text = text, .message_thread_id = thread_id};
    assert_int_equal(dispatch_submit(fixture->host.dispatch, &message, NULL, NULL), 0);
}

static const struct sent *sent_in_chat(int64_t chat_id, int index)
{
    for (int i = 0; i < sent_log.count; i++)
        if (sent_log.items[i].chat_id == chat_id && index-- == 0)
            return &sent_log.items[i];
    return NULL;
}

static void test_builtin_answers_go_to_the_topic(void **state)
{
    struct fixture *fixture = *state;
    submit(fixture, 1, -100, 7, "/start");
    submit(fixture, 2, -100, 0, "/start");
    submit(fixture, 3, -200, 11, "/nosuch");
    submit(fixture, 4, -100, 7, "/nosuch");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(sent_log.count, 4);
    const struct sent *first = sent_in_chat(-100, 0);
    const struct sent *second = sent_in_chat(-100, 1);
    const struct sent *third = sent_in_chat(-100, 2);
    const struct sent *other = sent_in_chat(-200, 0);
    assert_non_null(first);
    assert_non_null(second);
    assert_non_null(third);
    assert_non_null(other);
    assert_true(first->thread_id == 7);
    assert_true(second->thread_id == -1); /* a message outside topics */
    assert_true(third->thread_id == 7);
    assert_string_equal(third->text, "Unknown command /nosuch. Send /help for the list.");
    assert_true(other->thread_id == 11);
}

static void test_finished_message_no_longer_names_a_topic(void **state)
{
    struct fixture *fixture = *state;
    submit(fixture, 50, -100, 7, "/start");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    /* a plugin that kept a copy and replies later gets the chat, not the topic */
    jv_message late = {.struct_size = sizeof late, .update_id = 50, .chat_id = -100,
                       .message_id = 50};
    assert_true(dispatch_reply_thread(fixture->host.dispatch, &late) == 0);
    assert_int_equal(host_reply(&fixture->host, &late, "late"), JV_OK);
    assert_int_equal(sent_log.count, 2);
    assert_true(sent_log.items[1].thread_id == -1);
    assert_true(dispatch_reply_thread(NULL, &late) == 0);
    assert_true(dispatch_reply_thread(fixture->host.dispatch, NULL) == 0);
}

static void test_a_copy_of_a_message_in_hand_finds_its_topic(void **state)
{
    struct fixture *fixture = *state;
    probe_dispatch = fixture->host.dispatch;
    submit(fixture, 60, -100, 7, "/start");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    probe_dispatch = NULL;
    assert_int_equal(sent_log.count, 1);
    assert_true(probe_same_copy == 7);
    assert_true(probe_other_copy == 0);
}

int main(void)
{
    log_open(NULL, LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_message_names_its_topic),
        cmocka_unit_test(test_thread_without_topic_flag_names_none),
        cmocka_unit_test(test_unusable_topic_ids_name_none),
        cmocka_unit_test(test_send_to_thread_picks_the_transport_call),
        cmocka_unit_test(test_reply_outside_dispatch_names_no_topic),
        cmocka_unit_test_setup_teardown(test_builtin_answers_go_to_the_topic, setup_dispatcher,
                                        teardown_dispatcher),
        cmocka_unit_test_setup_teardown(test_finished_message_no_longer_names_a_topic,
                                        setup_dispatcher, teardown_dispatcher),
        cmocka_unit_test_setup_teardown(test_a_copy_of_a_message_in_hand_finds_its_topic,
                                        setup_dispatcher, teardown_dispatcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
