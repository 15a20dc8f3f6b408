/* The dispatcher: command parsing, and the worker pool driven through a real
 * registry that dlopens the test plugins slow.so and serial.so. Parallelism
 * and ordering are proven by handshakes between handlers, never by timing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "dispatch/dispatch.h"
#include "state/unit_of_work.h"
#include "plugin/host.h"
#include "base/log.h"
#include "plugin/registry.h"
#include "transport/transport.h"
#include "plugin/plugins.h"
#include "dispatch/host_api.h"
#include "dispatch/host_send.h"
#include "dispatch/command_text.h"

#define WAIT_GUARD_MS 20000 /* failure guard only; a passing run never waits this long */

static const char *program_path = "";

/* ---- command parsing ---- */

static void expect_command(const char *text, const char *bot, const char *command,
                           const char *args)
{
    char name[64];
    const char *rest = NULL;
    assert_int_equal(command_parse(text, bot, name, sizeof name, &rest), 1);
    assert_string_equal(name, command);
    assert_non_null(rest);
    assert_string_equal(rest, args);
}

static void expect_free_text(const char *text, const char *bot)
{
    char name[64];
    const char *rest = "unchanged";
    assert_int_equal(command_parse(text, bot, name, sizeof name, &rest), 0);
    assert_null(rest);
}

static void test_parse_bare_command(void **state)
{
    (void)state;
    expect_command("/ping", "", "ping", "");
    expect_command("/ping", NULL, "ping", "");
    expect_command("/echo a  b", "", "echo", "a  b");
}

static void test_parse_bot_suffix_matches_case_insensitively(void **state)
{
    (void)state;
    expect_command("/echo@JarvisBot  hello there", "jarvisbot", "echo", "hello there");
    expect_command("/ping@jarvisbot", "JarvisBot", "ping", "");
}

static void test_parse_lowercases_the_name(void **state)
{
    (void)state;
    expect_command("/PING", "", "ping", "");
    expect_command("/Sentiment_2 SOL", "", "sentiment_2", "SOL");
}

static void test_parse_other_bot_is_refused(void **state)
{
    (void)state;
    char name[64];
    const char *rest;
    assert_int_equal(command_parse("/ping@OtherBot x", "JarvisBot", name, sizeof name,
                                            &rest),
                     -1);
    /* without a username of our own, any @bot suffix is for someone else */
    assert_int_equal(command_parse("/ping@JarvisBot", "", name, sizeof name, &rest), -1);
    assert_int_equal(command_parse("/ping@JarvisBot", NULL, name, sizeof name, &rest),
                     -1);
    assert_int_equal(command_parse("/ping@ x", "JarvisBot", name, sizeof name, &rest), -1);
    /* a prefix of our name is another bot */
    assert_int_equal(command_parse("/ping@JarvisBo", "JarvisBot", name, sizeof name,
                                            &rest),
                     -1);
}

static void test_parse_free_text(void **state)
{
    (void)state;
    expect_free_text("hello", "");
    expect_free_text("", "");
    expect_free_text("/", "");
    expect_free_text("/ ping", "");
    expect_free_text("/@JarvisBot", "JarvisBot");
    expect_free_text("say /ping", "");
    expect_free_text("/usr/bin/env", "");
    expect_free_text(NULL, "");
}

static void test_parse_leading_whitespace_and_separators(void **state)
{
    (void)state;
    expect_command("   /ping x", "", "ping", "x");
    expect_command("\t/ping\tx y", "", "ping", "x y");
    expect_command("/echo\nsecond line", "", "echo", "second line");
    /* args keep trailing spaces here; the dispatcher trims its own copy */
    expect_command("/echo a ", "", "echo", "a ");
}

static void test_parse_unicode(void **state)
{
    (void)state;
    expect_command("/echo héllo ✓ 🚀", "", "echo", "héllo ✓ 🚀");
    expect_free_text("/привет", "");
    expect_free_text("/pingé", "");
    expect_free_text("🚀 /ping", "");
}

static void test_parse_name_limits(void **state)
{
    (void)state;
    char small[4];
    const char *rest;
    assert_int_equal(command_parse("/abcdef x", "", small, sizeof small, &rest), 1);
    assert_string_equal(small, "abc");
    assert_string_equal(rest, "x");
    expect_command("/abcdefghijabcdefghijabcdefghij12", "", "abcdefghijabcdefghijabcdefghij12",
                   "");
    expect_free_text("/abcdefghijabcdefghijabcdefghij123", ""); /* 33 characters */
}

/* ---- a recording transport ---- */

struct sent_message {
    int64_t chat_id;
    char *text;
};

struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct sent_message *messages;
    size_t count;
    size_t capacity;
};

static struct recorder recorder = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0,
                                   0};

static int recorder_send(int64_t chat_id, const char *text)
{
    pthread_mutex_lock(&recorder.lock);
    if (recorder.count == recorder.capacity) {
        size_t capacity = recorder.capacity ? recorder.capacity * 2 : 64;
        recorder.messages = realloc(recorder.messages, capacity * sizeof *recorder.messages);
        recorder.capacity = capacity;
    }
    recorder.messages[recorder.count].chat_id = chat_id;
    recorder.messages[recorder.count].text = strdup(text);
    recorder.count++;
    pthread_cond_broadcast(&recorder.changed);
    pthread_mutex_unlock(&recorder.lock);
    return 0;
}

static void recorder_clear(void)
{
    pthread_mutex_lock(&recorder.lock);
    for (size_t i = 0; i < recorder.count; i++)
        free(recorder.messages[i].text);
    free(recorder.messages);
    recorder.messages = NULL;
    recorder.count = recorder.capacity = 0;
    pthread_mutex_unlock(&recorder.lock);
}

static int find_sent_locked(int64_t chat_id, const char *text)
{
    for (size_t i = 0; i < recorder.count; i++)
        if (recorder.messages[i].chat_id == chat_id && strcmp(recorder.messages[i].text, text) == 0)
            return 1;
    return 0;
}

static int wait_for_sent(int64_t chat_id, const char *text)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_GUARD_MS / 1000;
    pthread_mutex_lock(&recorder.lock);
    int found;
    while (!(found = find_sent_locked(chat_id, text)))
        if (pthread_cond_timedwait(&recorder.changed, &recorder.lock, &deadline) != 0)
            break;
    found = find_sent_locked(chat_id, text);
    pthread_mutex_unlock(&recorder.lock);
    return found;
}

/* The texts sent to one chat, in order; caller frees the array only. */
static size_t sent_to_chat(int64_t chat_id, const char **texts, size_t capacity)
{
    size_t found = 0;
    pthread_mutex_lock(&recorder.lock);
    for (size_t i = 0; i < recorder.count && found < capacity; i++)
        if (recorder.messages[i].chat_id == chat_id)
            texts[found++] = recorder.messages[i].text;
    pthread_mutex_unlock(&recorder.lock);
    return found;
}

static const char *recorder_username(struct transport *transport)
{
    (void)transport;
    return "JarvisBot";
}

static struct transport recording_transport = {.name = "recorder",
                                               .bot_username = recorder_username};

/* Stands in for the pipeline's commit: the replies a handler gave, in order. */
static void commit_replies(struct jv_context *work, void *context)
{
    (void)context;
    for (size_t i = 0; i < work->reply_count; i++)
        recorder_send(work->replies[i].chat_id, work->replies[i].text);
}

/* ---- fixture: a real host, registry and pool ---- */

struct fixture {
    struct config config;
    struct host host;
    char plugin_dir[PATH_MAX];
    char *enable[2];
    int64_t admins[1];
};

static void find_test_plugins(char *out, size_t size)
{
    const char *from_environment = getenv("JARVIS_TEST_PLUGINS");
    if (from_environment != NULL && from_environment[0] != '\0') {
        snprintf(out, size, "%s", from_environment);
        return;
    }
    /* the binary lives in <out>/unit/, the plugins in <out>/test-plugins/ */
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", program_path);
    snprintf(out, size, "%s/../test-plugins", dirname(copy));
}

static int setup_pool(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    find_test_plugins(fixture->plugin_dir, sizeof fixture->plugin_dir);
    fixture->enable[0] = "slow";
    fixture->enable[1] = "serial";
    fixture->admins[0] = 1;
    struct config *config = &fixture->config;
    config->path = "test_dispatch";
    config->token = "";
    config->workers = 4;
    config->handler_budget_ms = 0;
    config->shutdown_grace_ms = 5000;
    config->plugin_dir = fixture->plugin_dir;
    config->enable = fixture->enable;
    config->enable_count = 2;
    config->admins = fixture->admins;
    config->admin_count = 1;
    fixture->host.config = config;
    fixture->host.registry = registry_create(&fixture->host, host_api_table());
    assert_non_null(fixture->host.registry);
    size_t loaded = 0, refused = 0;
    plugins_load_all(fixture->host.registry, &loaded, &refused);
    if (loaded != 2)
        fail_msg("test plugins not loaded from %s (set JARVIS_TEST_PLUGINS)",
                 fixture->plugin_dir);
    fixture->host.transport = &recording_transport;
    fixture->host.dispatch = dispatch_create(&fixture->host, config->workers);
    assert_non_null(fixture->host.dispatch);
    dispatch_set_bot_username(fixture->host.dispatch, "JarvisBot");
    *state = fixture;
    return 0;
}

static int teardown_pool(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    dispatch_destroy(fixture->host.dispatch);
    plugins_unload_all(fixture->host.registry);
    registry_destroy(fixture->host.registry);
    recorder_clear();
    free(fixture);
    return 0;
}

static int64_t next_update_id = 1;

static void submit_full(struct fixture *fixture, int64_t chat_id, int64_t user_id,
                        const char *chat_type, int is_reply_to_bot, const char *text)
{
    struct incoming_message message = {
        .update_id = next_update_id++, .chat_id = chat_id, .user_id = user_id,
        .message_id = next_update_id, .chat_type = chat_type, .user_name = "tester",
        .text = text, .is_reply_to_bot = is_reply_to_bot};
    assert_int_equal(dispatch_submit(fixture->host.dispatch, &message, commit_replies, NULL), 0);
}

static void submit(struct fixture *fixture, int64_t chat_id, const char *text)
{
    submit_full(fixture, chat_id, 1, "private", 0, text);
}

static void expect_chat_replies(int64_t chat_id, const char *const *expected, size_t count)
{
    const char *texts[64];
    size_t found = sent_to_chat(chat_id, texts, 64);
    assert_int_equal(found, count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(texts[i], expected[i]);
}

/* ---- dispatch ---- */

static void test_each_chat_keeps_its_order(void **state)
{
    struct fixture *fixture = *state;
    enum { CHATS = 4, PER_CHAT = 40 };
    char text[64];
    for (int n = 0; n < PER_CHAT; n++)
        for (int chat = 0; chat < CHATS; chat++) {
            snprintf(text, sizeof text, "/say c%d n%d", chat, n);
            submit(fixture, 100 + chat, text);
        }
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    for (int chat = 0; chat < CHATS; chat++) {
        const char *texts[PER_CHAT + 1];
        assert_int_equal(sent_to_chat(100 + chat, texts, PER_CHAT + 1), PER_CHAT);
        for (int n = 0; n < PER_CHAT; n++) {
            snprintf(text, sizeof text, "c%d n%d", chat, n);
            assert_string_equal(texts[n], text);
        }
    }
}

static void test_blocked_chat_does_not_delay_another(void **state)
{
    struct fixture *fixture = *state;
    /* chat 10 can only finish when chat 20's handler runs meanwhile */
    submit(fixture, 10, "/block gate_a");
    submit(fixture, 20, "/unblock gate_a");
    assert_true(wait_for_sent(10, "unblocked gate_a"));
    assert_true(wait_for_sent(20, "unblocking gate_a"));
}

static void test_one_chat_runs_one_message_at_a_time(void **state)
{
    struct fixture *fixture = *state;
    /* The /unblock queued behind the /block in the same chat must not run
     * until the block gives up: a deterministic outcome, whatever the speed. */
    submit(fixture, 30, "/block gate_b 300");
    submit(fixture, 30, "/unblock gate_b");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    const char *expected[] = {"block gate_b timed out", "unblocking gate_b"};
    expect_chat_replies(30, expected, 2);
}

static void test_drain_reports_unfinished_messages(void **state)
{
    struct fixture *fixture = *state;
    submit(fixture, 40, "/block gate_c");
    submit(fixture, 40, "/say after");
    /* nothing can unblock gate_c yet, so both are still unfinished */
    assert_int_equal(dispatch_drain(fixture->host.dispatch, 50), 2);
    submit(fixture, 41, "/unblock gate_c");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    const char *expected[] = {"unblocked gate_c", "after"};
    expect_chat_replies(40, expected, 2);
}

static void test_serialised_plugin_is_never_entered_twice(void **state)
{
    struct fixture *fixture = *state;
    for (int n = 0; n < 8; n++)
        for (int chat = 0; chat < 6; chat++)
            submit(fixture, 200 + chat, "/enter");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    submit(fixture, 300, "/overlaps");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    const char *expected[] = {"serial entered 48 overlaps 0"};
    expect_chat_replies(300, expected, 1);
}

static void test_builtins_and_error_replies(void **state)
{
    struct fixture *fixture = *state;
    submit(fixture, 50, "/start");
    submit(fixture, 50, "/nosuch x");
    submit(fixture, 50, "/NoSuch@jarvisbot");
    submit_full(fixture, 50, 5, "private", 0, "/slowadmin");
    submit_full(fixture, 50, 1, "private", 0, "/slowadmin");
    submit(fixture, 50, "/say@OtherBot ignored");
    submit(fixture, 50, "/say@jarvisbot addressed");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    const char *expected[] = {
        "Hello, I am jarvis. Send /help for the list of commands.",
        "Unknown command /nosuch. Send /help for the list.",
        "Unknown command /nosuch. Send /help for the list.",
        "/slowadmin is for admins only.",
        "admin ok",
        "addressed",
    };
    expect_chat_replies(50, expected, 6);
}

static void test_help_lists_plugin_and_builtin_commands(void **state)
{
    struct fixture *fixture = *state;
    submit(fixture, 60, "/help");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    const char *texts[2];
    assert_int_equal(sent_to_chat(60, texts, 2), 1);
    assert_non_null(strstr(texts[0], "/sleep - sleep N ms, then reply"));
    assert_non_null(strstr(texts[0], "/enter"));
    assert_non_null(strstr(texts[0], "/help"));
    assert_non_null(strstr(texts[0], "/start"));
    assert_int_not_equal(texts[0][strlen(texts[0]) - 1], '\n');
}

static void test_message_fields(void **state)
{
    struct fixture *fixture = *state;
    submit(fixture, 70, "/argv  a  b   c ");
    submit(fixture, 70, "/say   spaced  out  ");
    submit(fixture, 70, "/argv");
    submit(fixture, 70, "slow? hi @jarvisbot");
    submit_full(fixture, 70, 1, "group", 1, "slow? hi @JarvisBotter");
    submit(fixture, 70, "no handler takes this");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    const char *expected[] = {
        "argc=3 [a][b][c]",
        "spaced  out",
        "argc=0 ",
        "heard private=1 mentions=1 reply=0 command=null",
        "heard private=0 mentions=0 reply=1 command=null",
    };
    expect_chat_replies(70, expected, 5);
}

static void test_submit_copies_the_message(void **state)
{
    struct fixture *fixture = *state;
    submit(fixture, 80, "/block gate_d");
    char text[32] = "/say original";
    char chat_type[16] = "private";
    struct incoming_message message = {.update_id = 9000, .chat_id = 80, .user_id = 1,
                                       .chat_type = chat_type, .user_name = "x", .text = text};
    assert_int_equal(dispatch_submit(fixture->host.dispatch, &message, commit_replies, NULL), 0);
    memset(text, 'X', sizeof text - 1);
    memset(chat_type, 'Y', sizeof chat_type - 1);
    submit(fixture, 81, "/unblock gate_d");
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    const char *expected[] = {"unblocked gate_d", "original"};
    expect_chat_replies(80, expected, 2);
}

struct done_record {
    pthread_mutex_t lock;
    int64_t seen[16];
    int count;
};

static void record_done(struct jv_context *work, void *context)
{
    struct done_record *record = context;
    pthread_mutex_lock(&record->lock);
    if (record->count < 16)
        record->seen[record->count] = work->update_id;
    record->count++;
    pthread_mutex_unlock(&record->lock);
}

static void test_done_runs_once_per_message_after_handling(void **state)
{
    struct fixture *fixture = *state;
    struct done_record record = {.lock = PTHREAD_MUTEX_INITIALIZER};
    const char *texts[] = {"/say one", "free text", "/nosuch", "/say@OtherBot x", "/help"};
    for (int i = 0; i < 5; i++) {
        struct incoming_message message = {.update_id = 500 + i, .chat_id = 90, .user_id = 1,
                                           .chat_type = "private", .user_name = "x",
                                           .text = texts[i]};
        assert_int_equal(dispatch_submit(fixture->host.dispatch, &message, record_done, &record),
                         0);
    }
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(record.count, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(record.seen[i], 500 + i); /* one chat: done in order too */
}

/* ---- host_send ---- */

static void test_host_send_without_transport(void **state)
{
    (void)state;
    struct host host = {0};
    assert_int_equal(host_send(&host, 1, "x"), JV_E_STATE);
    assert_int_equal(host_send(&host, 1, NULL), JV_E_INVAL);
}

int main(int argc, char **argv)
{
    (void)argc;
    program_path = argv[0];
    log_open(NULL, LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bare_command),
        cmocka_unit_test(test_parse_bot_suffix_matches_case_insensitively),
        cmocka_unit_test(test_parse_lowercases_the_name),
        cmocka_unit_test(test_parse_other_bot_is_refused),
        cmocka_unit_test(test_parse_free_text),
        cmocka_unit_test(test_parse_leading_whitespace_and_separators),
        cmocka_unit_test(test_parse_unicode),
        cmocka_unit_test(test_parse_name_limits),
        cmocka_unit_test(test_host_send_without_transport),
        cmocka_unit_test_setup_teardown(test_each_chat_keeps_its_order, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(test_blocked_chat_does_not_delay_another, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_one_chat_runs_one_message_at_a_time, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_drain_reports_unfinished_messages, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_serialised_plugin_is_never_entered_twice, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_builtins_and_error_replies, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_help_lists_plugin_and_builtin_commands, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_message_fields, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(test_submit_copies_the_message, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(test_done_runs_once_per_message_after_handling, setup_pool,
                                        teardown_pool),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    log_close();
    return failed;
}
