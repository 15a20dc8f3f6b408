/* Forum topics: which updates name a topic (telegram_parse_update), and how
 * the dispatcher and the pipeline carry it to the medium while plain sends
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

#include "config/config.h"
#include "dispatch/dispatch.h"
#include "plugin/host.h"
#include "base/log.h"
#include "dispatch/pipeline.h"
#include "plugin/registry.h"
#include "state/store.h"
#include "transport/telegram/telegram_update.h"
#include "dispatch/host_api.h"
#include "dispatch/host_send.h"
#include "plugin/plugins.h"

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

/* ---- a pipeline whose medium records chat and topic ---- */

struct sent {
    int64_t chat_id;
    int64_t thread_id; /* 0: no topic */
    char text[128];
};

static struct {
    pthread_mutex_t lock;
    struct sent items[32];
    int count;
} sent_log = {PTHREAD_MUTEX_INITIALIZER, {{0, 0, ""}}, 0};

static struct pipeline *pipeline;

static int record_part(void *context, const struct outbox_row *row)
{
    (void)context;
    pthread_mutex_lock(&sent_log.lock);
    if (sent_log.count < 32) {
        struct sent *item = &sent_log.items[sent_log.count++];
        item->chat_id = row->chat_id;
        item->thread_id = row->thread_id;
        snprintf(item->text, sizeof item->text, "%s", row->text);
    }
    pthread_mutex_unlock(&sent_log.lock);
    pipeline_sent(pipeline, row);
    return JV_OK;
}

/* ---- through the dispatcher and the pipeline ---- */

struct fixture {
    struct config config;
    struct host host;
    char directory[64];
};

static int setup_dispatcher(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jv_topics_XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    fixture->config.path = "test_topics";
    fixture->config.token = "";
    fixture->config.workers = 3;
    fixture->config.shutdown_grace_ms = 5000;
    fixture->config.plugin_dir = "/nonexistent";
    fixture->host.config = &fixture->config;
    char error[256];
    fixture->host.store = store_open(fixture->directory, error, sizeof error);
    assert_non_null(fixture->host.store);
    fixture->host.registry = registry_create(&fixture->host, host_api_table());
    assert_non_null(fixture->host.registry);
    fixture->host.dispatch = dispatch_create(&fixture->host, fixture->config.workers);
    assert_non_null(fixture->host.dispatch);
    struct pipeline_delivery delivery = {.deliver = record_part};
    pipeline = pipeline_create(&fixture->host, &delivery);
    fixture->host.pipeline = pipeline;
    sent_log.count = 0;
    *state = fixture;
    return 0;
}

static int teardown_dispatcher(void **state)
{
    struct fixture *fixture = *state;
    dispatch_destroy(fixture->host.dispatch);
    plugins_unload_all(fixture->host.registry);
    registry_destroy(fixture->host.registry);
    pipeline_destroy(pipeline);
    store_close(fixture->host.store);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", fixture->directory);
    assert_int_equal(system(command), 0);
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
    (void)fixture;
    assert_int_equal(pipeline_accept(pipeline, &message, 1, NULL, 0), 0);
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
    assert_true(second->thread_id == 0); /* a message outside topics */
    assert_true(third->thread_id == 7);
    assert_string_equal(third->text, "Unknown command /nosuch. Send /help for the list.");
    assert_true(other->thread_id == 11);
}

/* Jobs and send_message answer no message: never a topic. */
static void test_plain_sends_name_no_topic(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(host_send(&fixture->host, 5, "plain"), JV_OK);
    assert_int_equal(host_send(&fixture->host, 5, NULL), JV_E_INVAL);
    assert_int_equal(sent_log.count, 1);
    assert_true(sent_log.items[0].chat_id == 5);
    assert_true(sent_log.items[0].thread_id == 0);
    assert_string_equal(sent_log.items[0].text, "plain");
}

int main(void)
{
    log_open(NULL, LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_message_names_its_topic),
        cmocka_unit_test(test_thread_without_topic_flag_names_none),
        cmocka_unit_test(test_unusable_topic_ids_name_none),
        cmocka_unit_test_setup_teardown(test_builtin_answers_go_to_the_topic, setup_dispatcher,
                                        teardown_dispatcher),
        cmocka_unit_test_setup_teardown(test_plain_sends_name_no_topic, setup_dispatcher,
                                        teardown_dispatcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
