/* The registry and the host API, driven by in-process descriptors through the
 * loader's own descriptor checks (no dlopen here; test_loader.py does that):
 * registration rules, undo on failed init, handler order, admin refusal,
 * serialisation, the budget warning, services and unload order. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "plugin/host.h"
#include "base/log.h"
#include "plugin/plugin_record.h"
#include "dispatch/pipeline.h"
#include "plugin/registry.h"
#include "state/store.h"
#include "state/unit_of_work.h"
#include "transport/transport.h"
#include "dispatch/host_api.h"
#include "plugin/callbacks.h"
#include "plugin/help.h"
#include "plugin/plugins.h"
#include "plugin/registration.h"

/* ---- fixture: a host with a recording transport and a log file ---- */

#define MAX_SENT 16

static struct {
    pthread_mutex_t lock;
    char *texts[MAX_SENT];
    int64_t chats[MAX_SENT];
    int count;
} sent = {PTHREAD_MUTEX_INITIALIZER, {0}, {0}, 0};

static void record_send(int64_t chat_id, const char *text)
{
    pthread_mutex_lock(&sent.lock);
    if (sent.count < MAX_SENT) {
        sent.chats[sent.count] = chat_id;
        sent.texts[sent.count++] = strdup(text);
    }
    pthread_mutex_unlock(&sent.lock);
}

/* send_message goes through a real pipeline and store (a second host's, so
 * the plugin host itself can stay storeless as in `jarvis check`); this
 * delivery records what reached the medium. */
static struct host pipeline_host;
static struct pipeline *pipeline;

static int record_part(void *context, const struct outbox_row *row)
{
    (void)context;
    record_send(row->chat_id, row->text);
    pipeline_sent(pipeline, row);
    return JV_OK;
}

/* What a handler replied to message, as the pipeline would commit it. */
static struct jv_context reply_work;

static void record_replies(void)
{
    for (size_t i = 0; i < reply_work.reply_count; i++)
        record_send(reply_work.replies[i].chat_id, reply_work.replies[i].text);
}
static int64_t admins[] = {42};
static struct config_entry entries[] = {
    {"alpha", "number", "12", 3},
    {"alpha", "bad_number", "12x", 4},
    {"alpha", "ratio", "0.25", 5},
    {"alpha", "flag", "yes", 6},
    {"alpha", "bad_flag", "maybe", 7},
    {"alpha", "name", "jarvis", 8},
};
static struct config config;
static struct host host;
static char log_path[64];
static char log_directory[32];

static const jv_host_api *api;

/* per-test observations */
static atomic_int destructor_calls;
static atomic_int init_calls;
static char order[256];
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static void note(const char *event)
{
    pthread_mutex_lock(&order_lock);
    if (order[0])
        strncat(order, " ", sizeof order - strlen(order) - 1);
    strncat(order, event, sizeof order - strlen(order) - 1);
    pthread_mutex_unlock(&order_lock);
}

static int setup(void **state)
{
    (void)state;
    snprintf(log_directory, sizeof log_directory, "/tmp/jv_registry_XXXXXX");
    assert_non_null(mkdtemp(log_directory));
    snprintf(log_path, sizeof log_path, "%s/log", log_directory);
    assert_int_equal(log_open(log_path, LOG_DEBUG), 0);
    memset(&config, 0, sizeof config);
    config.path = "plugins.ini";
    config.handler_budget_ms = 10000;
    config.shutdown_grace_ms = 2000;
    config.admins = admins;
    config.admin_count = 1;
    config.entries = entries;
    config.entry_count = sizeof entries / sizeof entries[0];
    memset(&host, 0, sizeof host);
    host.config = &config;
    char error[256];
    pipeline_host.store = store_open(log_directory, error, sizeof error);
    assert_non_null(pipeline_host.store);
    struct pipeline_delivery delivery = {.deliver = record_part};
    pipeline = pipeline_create(&pipeline_host, &delivery);
    host.pipeline = pipeline;
    unit_of_work_init(&reply_work, 1, 7, 0);
    host.registry = registry_create(&host, host_api_table());
    assert_non_null(host.registry);
    api = host_api_table();
    atomic_store(&destructor_calls, 0);
    atomic_store(&init_calls, 0);
    order[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    plugins_unload_all(host.registry);
    registry_destroy(host.registry);
    pipeline_destroy(pipeline);
    store_close(pipeline_host.store);
    unit_of_work_release(&reply_work);
    log_close();
    char path[128];
    for (const char *name = "jarvis.db"; name; name = strcmp(name, "jarvis.db") == 0 ? "jarvis.db-wal" : strcmp(name, "jarvis.db-wal") == 0 ? "jarvis.db-shm" : NULL) {
        snprintf(path, sizeof path, "%s/%s", log_directory, name);
        unlink(path);
    }
    unlink(log_path);
    rmdir(log_directory);
    for (int i = 0; i < sent.count; i++)
        free(sent.texts[i]);
    sent.count = 0;
    return 0;
}

static char *read_log(void)
{
    FILE *file = fopen(log_path, "r");
    assert_non_null(file);
    static char text[65536];
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    return text;
}

static int log_count(const char *needle)
{
    int count = 0;
    for (const char *at = read_log(); (at = strstr(at, needle)) != NULL; at += strlen(needle))
        count++;
    return count;
}

static struct jv_plugin *attach(const jv_plugin_info *descriptor, char *reason, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "test/%s.so", descriptor->name);
    return plugins_attach_descriptor(host.registry, descriptor->name, path, descriptor,
                                     sizeof *descriptor, reason, size);
}

static struct jv_plugin *attach_ok(const jv_plugin_info *descriptor)
{
    char reason[96] = "";
    struct jv_plugin *plugin = attach(descriptor, reason, sizeof reason);
    if (!plugin)
        fail_msg("plugin %s refused: %s", descriptor->name, reason);
    return plugin;
}

static jv_message command_message(const char *command, const char *args, int64_t user_id)
{
    jv_message message = {.struct_size = sizeof message, .chat_id = 7, .user_id = user_id,
                          .chat_type = "private", .user_name = "", .text = "",
                          .command = command, .args = args, .context = &reply_work};
    return message;
}

static jv_message text_message(const char *text)
{
    jv_message message = {.struct_size = sizeof message, .chat_id = 7, .user_id = 1,
                          .chat_type = "private", .user_name = "", .text = text,
                          .context = &reply_work};
    return message;
}

static void count_destructor(void *user_data)
{
    (void)user_data;
    atomic_fetch_add(&destructor_calls, 1);
}

/* ---- plugin "alpha": commands of every kind ---- */

static jv_plugin *alpha_self;
static int alpha_codes[10];

static int on_hi(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self;
    (void)user_data;
    return api->reply(message, "hi there");
}

static int on_fail(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)message, (void)user_data;
    return JV_E_IO;
}

static int on_admin(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)user_data;
    note("admin-ran");
    return api->reply(message, "admin ok");
}

static int register_simple(jv_plugin *self, const char *name, uint32_t flags, jv_command_fn fn)
{
    jv_command_spec spec = {sizeof spec, name, "", "", flags, fn, NULL, NULL};
    return api->register_command(self, &spec, sizeof spec);
}

static int alpha_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)err, (void)size;
    alpha_self = self;
    atomic_fetch_add(&init_calls, 1);
    /* The spec and its strings are freed before the host uses them: it must copy. */
    char *name = strdup("hi");
    char *help = strdup("greets you");
    jv_command_spec *spec = calloc(1, sizeof *spec);
    *spec = (jv_command_spec){sizeof *spec, name, "/hi", help, 0, on_hi, NULL, count_destructor};
    int status = host_api->register_command(self, spec, sizeof *spec);
    free(name);
    free(help);
    free(spec);
    if (status == JV_OK)
        status = register_simple(self, "fail", 0, on_fail);
    if (status == JV_OK)
        status = register_simple(self, "secret", JV_COMMAND_ADMIN, on_admin);
    /* the refusals, kept for the test to check */
    alpha_codes[0] = register_simple(self, "hi", 0, on_hi);
    alpha_codes[1] = register_simple(self, "help", 0, on_hi);
    alpha_codes[2] = register_simple(self, "Bad", 0, on_hi);
    alpha_codes[3] = register_simple(self, "a_name_that_is_longer_than_32_chars", 0, on_hi);
    alpha_codes[4] = register_simple(self, "nohandler", 0, NULL);
    jv_command_spec small = {sizeof small, "small", "", "", 0, on_hi, NULL, NULL};
    alpha_codes[5] = host_api->register_command(self, &small, offsetof(jv_command_spec, flags));
    /* a plugin built for a newer minor passes a bigger spec: fine */
    struct {
        jv_command_spec v1;
        void *added_later;
    } bigger = {{sizeof bigger, "bigger", "", "", 0, on_hi, NULL, NULL}, NULL};
    alpha_codes[6] = host_api->register_command(self, &bigger.v1, sizeof bigger);
    alpha_codes[7] = host_api->register_command(NULL, &small, sizeof small);
    /* struct_size is read: it must match the size passed */
    jv_command_spec lying = {sizeof lying + 8, "lying", "", "", 0, on_hi, NULL, NULL};
    alpha_codes[8] = host_api->register_command(self, &lying, sizeof lying);
    jv_command_spec stated_once = {sizeof stated_once, "stated_once", "", "", 0, on_hi, NULL, NULL};
    alpha_codes[9] = JV_REGISTER_COMMAND(host_api, self, &stated_once);
    return status;
}

static const jv_plugin_info alpha = {JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR,
                                     sizeof(jv_plugin_info), 0, "alpha", "1", "", alpha_init,
                                     NULL, NULL};

static void test_command_runs_and_its_reply_reaches_the_transport(void **state)
{
    (void)state;
    attach_ok(&alpha);
    jv_message message = command_message("hi", "", 1);
    assert_int_equal(registry_run_command(host.registry, &message), JV_OK);
    record_replies();
    assert_int_equal(sent.count, 1);
    assert_string_equal(sent.texts[0], "hi there");
    assert_int_equal(sent.chats[0], 7);
    jv_message unknown = command_message("nope", "", 1);
    assert_int_equal(registry_run_command(host.registry, &unknown), JV_E_NOTFOUND);
}

static void test_registration_refusals_have_their_codes(void **state)
{
    (void)state;
    attach_ok(&alpha);
    assert_int_equal(alpha_codes[0], JV_E_EXISTS);
    assert_int_equal(alpha_codes[1], JV_E_EXISTS);
    assert_int_equal(alpha_codes[2], JV_E_INVAL);
    assert_int_equal(alpha_codes[3], JV_E_INVAL);
    assert_int_equal(alpha_codes[4], JV_E_INVAL);
    assert_int_equal(alpha_codes[5], JV_E_ABI);
    assert_int_equal(alpha_codes[6], JV_OK);
    assert_int_equal(alpha_codes[7], JV_E_INVAL);
    assert_int_equal(alpha_codes[8], JV_E_ABI);
    assert_int_equal(log_count("spec says struct_size"), 1);
    assert_int_equal(alpha_codes[9], JV_OK);
    assert_int_equal(log_count("command /help is built into jarvis"), 1);
}

static void test_registration_after_init_is_refused(void **state)
{
    (void)state;
    struct jv_plugin *plugin = attach_ok(&alpha);
    assert_int_equal(register_simple(plugin, "late", 0, on_hi), JV_E_STATE);
    static const int vtable = 1;
    assert_int_equal(api->provide_service(plugin, "late.svc", 1, &vtable), JV_E_STATE);
    jv_message late = command_message("late", "", 1);
    assert_int_equal(registry_run_command(host.registry, &late), JV_E_NOTFOUND);
}

static void test_admin_command_refused_for_non_admin(void **state)
{
    (void)state;
    attach_ok(&alpha);
    jv_message stranger = command_message("secret", "", 7);
    assert_int_equal(registry_run_command(host.registry, &stranger), JV_E_STATE);
    assert_string_equal(order, "");
    jv_message admin = command_message("secret", "", 42);
    assert_int_equal(registry_run_command(host.registry, &admin), JV_OK);
    assert_string_equal(order, "admin-ran");
}

static void test_negative_handler_result_is_logged_not_fatal(void **state)
{
    (void)state;
    attach_ok(&alpha);
    jv_message message = command_message("fail", "", 1);
    message.update_id = 9001;
    assert_int_equal(registry_run_command(host.registry, &message), JV_OK);
    assert_int_equal(log_count("plugin 'alpha' command /fail failed"), 1);
    /* the line names the update, so it can be found in the journal */
    assert_int_equal(log_count("update 9001: plugin 'alpha' command /fail failed"), 1);
}

static void test_help_lists_builtins_then_sorted_commands(void **state)
{
    (void)state;
    attach_ok(&alpha);
    char *help = registry_help_text(host.registry);
    assert_non_null(help);
    const char *expected_order[] = {"/help - ", "/start - ", "/bigger\n", "/fail\n",
                                    "/hi - greets you\n", "/secret\n"};
    const char *at = help;
    for (size_t i = 0; i < sizeof expected_order / sizeof expected_order[0]; i++) {
        const char *found = strstr(at, expected_order[i]);
        if (!found)
            fail_msg("'%s' missing or out of order in:\n%s", expected_order[i], help);
        at = found;
    }
    free(help);
}

static void test_unload_runs_command_destructor_once(void **state)
{
    (void)state;
    attach_ok(&alpha);
    plugins_unload_all(host.registry);
    assert_int_equal(atomic_load(&destructor_calls), 1);
    jv_message message = command_message("hi", "", 1);
    assert_int_equal(registry_run_command(host.registry, &message), JV_E_NOTFOUND);
}

/* ---- descriptor checks ---- */

static void expect_refusal(jv_plugin_info descriptor, const char *expected_name,
                           size_t descriptor_size, const char *reason_part,
                           const char *log_part)
{
    char reason[96] = "";
    struct jv_plugin *plugin = plugins_attach_descriptor(
        host.registry, expected_name, "test/x.so", &descriptor, descriptor_size, reason,
        sizeof reason);
    assert_null(plugin);
    if (!strstr(reason, reason_part))
        fail_msg("reason '%s' lacks '%s'", reason, reason_part);
    if (log_count(log_part) < 1)
        fail_msg("log lacks '%s':\n%s", log_part, read_log());
}

static void test_descriptor_checks_refuse_before_init(void **state)
{
    (void)state;
    jv_plugin_info good = alpha;
    jv_plugin_info bad = good;
    bad.magic = 0x12345678u;
    expect_refusal(bad, "alpha", sizeof bad, "wrong magic",
                   "wrong magic: expected 0x4C50564A, found 0x12345678");
    bad = good;
    bad.abi_major = JV_ABI_MAJOR + 1;
    expect_refusal(bad, "alpha", sizeof bad, "wrong ABI major", "ABI major: expected 1, found 2");
    bad = good;
    bad.abi_minor = JV_ABI_MINOR + 1;
    expect_refusal(bad, "alpha", sizeof bad, "ABI minor", "ABI minor: expected at most 3");
    bad = good;
    bad.struct_size = 16;
    expect_refusal(bad, "alpha", 16, "too small", "struct_size: expected at least 64, found 16");
    bad = good;
    expect_refusal(bad, "alpha", 8, "too small", "jv_plugin_descriptor is 8 bytes");
    bad = good;
    bad.init = NULL;
    expect_refusal(bad, "alpha", sizeof bad, "no init", "init: expected a function, found NULL");
    expect_refusal(good, "other", sizeof good, "name does not match",
                   "expected 'other' (the file name), found 'alpha'");
    bad = good;
    bad.name = "Alpha!";
    expect_refusal(bad, "Alpha!", sizeof bad, "invalid name", "found 'Alpha!'");
    bad = good;
    bad.name = "bot";
    expect_refusal(bad, "bot", sizeof bad, "reserved", "name 'bot' is reserved");
    /* "core" is the core's namespace in the store (the Telegram journal) */
    bad.name = "core";
    expect_refusal(bad, "core", sizeof bad, "reserved", "name 'core' is reserved");
    assert_int_equal(atomic_load(&init_calls), 0);
    attach_ok(&alpha);
    expect_refusal(good, "alpha", sizeof good, "already loaded", "'alpha' is already loaded");
    assert_int_equal(atomic_load(&init_calls), 1);
}

static void test_newer_larger_descriptor_is_read_up_to_what_host_knows(void **state)
{
    (void)state;
    struct {
        jv_plugin_info v1;
        void *added_later;
    } larger = {alpha, (void *)&larger};
    larger.v1.struct_size = sizeof larger;
    char reason[96] = "";
    assert_non_null(plugins_attach_descriptor(host.registry, "alpha", "test/alpha.so", &larger,
                                              sizeof larger, reason, sizeof reason));
}

/* ---- failing init ---- */

static int never_runs(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)message, (void)user_data;
    fail_msg("a failed plugin's handler ran");
    return JV_OK;
}

static int never_ticks(jv_plugin *self, void *user_data)
{
    (void)self, (void)user_data;
    return JV_OK;
}

static int failing_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    jv_command_spec command = {sizeof command, "doomed", "", "", 0, never_runs, NULL,
                               count_destructor};
    jv_message_handler_spec handler = {sizeof handler, 0, never_runs, NULL, count_destructor};
    jv_job_spec job = {sizeof job, "doomed_job", 1000, 0, never_ticks, NULL, count_destructor};
    static const int vtable = 1;
    assert_int_equal(host_api->register_command(self, &command, sizeof command), JV_OK);
    assert_int_equal(host_api->register_message_handler(self, &handler, sizeof handler), JV_OK);
    assert_int_equal(host_api->register_job(self, &job, sizeof job), JV_OK);
    assert_int_equal(host_api->provide_service(self, "doomed.svc", 1, &vtable), JV_OK);
    snprintf(err, size, "no api key configured");
    return JV_E_INVAL;
}

static const jv_plugin_info failing = {JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR,
                                       sizeof(jv_plugin_info), 0, "failing", "1", "",
                                       failing_init, NULL, NULL};

static void test_failed_init_is_undone_and_destructors_run_once(void **state)
{
    (void)state;
    struct jv_plugin *consumer = attach_ok(&alpha);
    char reason[96] = "";
    assert_null(attach(&failing, reason, sizeof reason));
    assert_string_equal(reason, "init failed: no api key configured");
    assert_int_equal(atomic_load(&destructor_calls), 3);
    assert_int_equal(log_count("test/failing.so: refused: init failed: invalid argument (-1): "
                               "no api key configured"),
                     1);
    jv_message doomed = command_message("doomed", "", 1);
    assert_int_equal(registry_run_command(host.registry, &doomed), JV_E_NOTFOUND);
    jv_message text = text_message("anything");
    assert_int_equal(registry_run_message_handlers(host.registry, &text), 0);
    assert_int_equal(registry_job_count(host.registry), 0);
    assert_null(api->acquire_service(consumer, "doomed.svc", 0));
    assert_null(registry_find_plugin(host.registry, "failing"));
    plugins_unload_all(host.registry);
    assert_int_equal(atomic_load(&destructor_calls), 4); /* + alpha's /hi */
}

/* ---- message handlers: priority, then load order; HANDLED stops ---- */

static int handler_note(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)message;
    const char *label = user_data;
    note(label);
    if (strcmp(label, "b5") == 0)
        return JV_HANDLED;
    if (strcmp(label, "b10") == 0)
        return JV_E_INTERNAL;
    return JV_CONTINUE;
}

static int add_handler(jv_plugin *self, int priority, const char *label)
{
    jv_message_handler_spec spec = {sizeof spec, priority, handler_note, (void *)label, NULL};
    return api->register_message_handler(self, &spec, sizeof spec);
}

static int first_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)host_api, (void)err, (void)size;
    add_handler(self, 0, "a0");
    return add_handler(self, 10, "a10");
}

static int second_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)host_api, (void)err, (void)size;
    add_handler(self, -1, "b-1");
    add_handler(self, 10, "b10");
    return add_handler(self, 5, "b5");
}

static void test_message_handlers_run_by_priority_then_load_order(void **state)
{
    (void)state;
    jv_plugin_info first = alpha, second = alpha;
    first.name = "first";
    first.init = first_init;
    second.name = "second";
    second.init = second_init;
    attach_ok(&first);
    attach_ok(&second);
    jv_message message = text_message("hello there");
    message.update_id = 9002;
    assert_int_equal(registry_run_message_handlers(host.registry, &message), 3);
    assert_string_equal(order, "a10 b10 b5");
    assert_int_equal(log_count("update 9002: plugin 'second' message handler failed"), 1);
}

/* ---- jobs ---- */

static atomic_int job_runs;

static int count_job(jv_plugin *self, void *user_data)
{
    (void)self, (void)user_data;
    atomic_fetch_add(&job_runs, 1);
    return JV_OK;
}

static int job_codes[3];

static int jobs_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)err, (void)size;
    jv_job_spec zero = {sizeof zero, "zero", 0, 0, count_job, NULL, NULL};
    jv_job_spec tick = {sizeof tick, "tick", 250, 50, count_job, NULL, NULL};
    job_codes[0] = host_api->register_job(self, &zero, sizeof zero);
    job_codes[1] = host_api->register_job(self, &tick, sizeof tick);
    job_codes[2] = host_api->register_job(self, &tick, sizeof tick);
    return JV_OK;
}

static void test_jobs_are_checked_named_and_run(void **state)
{
    (void)state;
    jv_plugin_info jobs = alpha;
    jobs.name = "jobs";
    jobs.init = jobs_init;
    attach_ok(&jobs);
    assert_int_equal(job_codes[0], JV_E_INVAL);
    assert_int_equal(job_codes[1], JV_OK);
    assert_int_equal(job_codes[2], JV_E_EXISTS);
    assert_int_equal(registry_job_count(host.registry), 1);
    struct registry_job *job = registry_job_at(host.registry, 0);
    assert_string_equal(registry_job_name(job), "jobs/tick");
    assert_int_equal(registry_job_interval_ms(job), 250);
    assert_int_equal(registry_job_initial_delay_ms(job), 50);
    atomic_store(&job_runs, 0);
    assert_int_equal(registry_run_job(host.registry, job), JV_OK);
    assert_int_equal(atomic_load(&job_runs), 1);
    assert_null(registry_job_at(host.registry, 1));
}

/* ---- services and unload order ---- */

struct demo_service {
    size_t struct_size;
    int (*answer)(void);
};

static int answer_42(void)
{
    return 42;
}

static const struct demo_service demo = {sizeof demo, answer_42};
static int provide_codes[2];

static int provider_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)err, (void)size;
    provide_codes[0] = host_api->provide_service(self, "demo.svc", 2, &demo);
    provide_codes[1] = host_api->provide_service(self, "demo.svc", 3, &demo);
    return JV_OK;
}

static void provider_shutdown(jv_plugin *self)
{
    (void)self;
    note("provider-shutdown");
}

static jv_plugin *consumer_self;
static const struct demo_service *acquired;

static int consumer_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)host_api, (void)err, (void)size;
    consumer_self = self;
    return JV_OK;
}

static int consumer_post_init(jv_plugin *self)
{
    acquired = api->acquire_service(self, "demo.svc", 2);
    return JV_OK;
}

static void consumer_shutdown(jv_plugin *self)
{
    /* The provider must still be there while a consumer shuts down. */
    note(acquired && acquired->answer() == 42 ? "consumer-shutdown-with-service"
                                              : "consumer-shutdown-without");
    api->release_service(self, "demo.svc");
}

static void test_services_versions_and_consumers_unload_first(void **state)
{
    (void)state;
    jv_plugin_info consumer = alpha, provider = alpha;
    consumer.name = "consumer";
    consumer.init = consumer_init;
    consumer.post_init = consumer_post_init;
    consumer.shutdown = consumer_shutdown;
    provider.name = "provider";
    provider.init = provider_init;
    provider.shutdown = provider_shutdown;
    /* The consumer loads first, so plain reverse load order would be wrong. */
    attach_ok(&consumer);
    attach_ok(&provider);
    assert_int_equal(provide_codes[0], JV_OK);
    assert_int_equal(provide_codes[1], JV_E_EXISTS);
    assert_int_equal(log_count("service 'demo.svc' is already provided by plugin 'provider'"), 1);
    plugins_run_post_init(host.registry);
    assert_ptr_equal(acquired, &demo);
    assert_null(api->acquire_service(consumer_self, "demo.svc", 3));
    assert_null(api->acquire_service(consumer_self, "absent.svc", 0));
    plugins_unload_all(host.registry);
    assert_string_equal(order, "consumer-shutdown-with-service provider-shutdown");
}

/* ---- serialisation and concurrency ---- */

static atomic_int inside;
static atomic_int most_inside;
static pthread_mutex_t meeting_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meeting = PTHREAD_COND_INITIALIZER;
static int met;

static int on_crowd(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)message, (void)user_data;
    int now = atomic_fetch_add(&inside, 1) + 1;
    int most = atomic_load(&most_inside);
    while (now > most && !atomic_compare_exchange_weak(&most_inside, &most, now))
        ;
    usleep(1000);
    atomic_fetch_sub(&inside, 1);
    return JV_OK;
}

/* Waits (bounded) until a second caller is inside too: proves parallelism
 * by handshake instead of by timing. */
static int on_meet(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)message, (void)user_data;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&meeting_lock);
    met++;
    pthread_cond_broadcast(&meeting);
    while (met < 2 && pthread_cond_timedwait(&meeting, &meeting_lock, &deadline) == 0)
        ;
    int together = met >= 2;
    pthread_mutex_unlock(&meeting_lock);
    return together ? JV_OK : JV_E_TIMEOUT;
}

static int crowd_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)host_api, (void)err, (void)size;
    register_simple(self, "meet", 0, on_meet);
    return register_simple(self, "crowd", 0, on_crowd);
}

static void *run_crowd(void *argument)
{
    jv_message message = command_message(argument, "", 1);
    int repeats = strcmp(argument, "crowd") == 0 ? 25 : 1;
    for (int i = 0; i < repeats; i++)
        registry_run_command(host.registry, &message);
    return NULL;
}

static void run_in_threads(const char *command, int count)
{
    pthread_t threads[4];
    for (int i = 0; i < count; i++)
        pthread_create(&threads[i], NULL, run_crowd, (void *)command);
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
}

static void test_serialised_plugin_never_runs_two_callbacks_at_once(void **state)
{
    (void)state;
    jv_plugin_info crowd = alpha;
    crowd.name = "crowd";
    crowd.init = crowd_init;
    attach_ok(&crowd);
    atomic_store(&inside, 0);
    atomic_store(&most_inside, 0);
    run_in_threads("crowd", 4);
    assert_int_equal(atomic_load(&most_inside), 1);
}

static void test_concurrent_plugin_is_entered_in_parallel(void **state)
{
    (void)state;
    jv_plugin_info crowd = alpha;
    crowd.name = "crowd";
    crowd.init = crowd_init;
    crowd.flags = JV_PLUGIN_CONCURRENT;
    attach_ok(&crowd);
    met = 0;
    run_in_threads("meet", 2);
    assert_int_equal(met, 2);
    assert_int_equal(log_count("command /meet failed"), 0);
}

/* ---- the handler budget ---- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_changed = PTHREAD_COND_INITIALIZER;
static int gate_started, gate_open;

static int on_block(jv_plugin *self, const jv_message *message, void *user_data)
{
    (void)self, (void)message, (void)user_data;
    pthread_mutex_lock(&gate_lock);
    gate_started = 1;
    pthread_cond_broadcast(&gate_changed);
    while (!gate_open)
        pthread_cond_wait(&gate_changed, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    return JV_OK;
}

static int block_init(jv_plugin *self, const jv_host_api *host_api, char *err, size_t size)
{
    (void)host_api, (void)err, (void)size;
    return register_simple(self, "block", 0, on_block);
}

/* The plugin 'slowpoke' attached, and its /block running on a thread of
 * its own until release_blocked. */
static pthread_t start_blocked(void)
{
    jv_plugin_info slow = alpha;
    slow.name = "slowpoke";
    slow.init = block_init;
    attach_ok(&slow);
    gate_started = gate_open = 0;
    pthread_t thread;
    pthread_create(&thread, NULL, run_crowd, "block");
    pthread_mutex_lock(&gate_lock);
    while (!gate_started)
        pthread_cond_wait(&gate_changed, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    return thread;
}

static void release_blocked(pthread_t thread)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_changed);
    pthread_mutex_unlock(&gate_lock);
    pthread_join(thread, NULL);
}

static void test_budget_overrun_is_warned_once_per_callback(void **state)
{
    (void)state;
    config.handler_budget_ms = 1;
    pthread_t thread = start_blocked();
    usleep(20 * 1000); /* well past the 1 ms budget */
    for (int i = 0; i < 3; i++)
        registry_check_budgets(host.registry);
    release_blocked(thread);
    registry_check_budgets(host.registry);
    assert_int_equal(log_count("plugin 'slowpoke' command /block still running after "), 1);
    assert_int_equal(log_count("(budget 1 ms)"), 1);
    assert_int_equal(log_count("plugin 'slowpoke' command /block finished after"), 1);
}

/* The housekeeping thread sleeps as long as registry_check_budgets says:
 * half a budget with nothing running, less when a running callback comes
 * near its budget, -1 with no budget at all. */
static void test_budget_check_says_when_it_is_due_next(void **state)
{
    (void)state;
    config.handler_budget_ms = 0;
    assert_true(registry_check_budgets(host.registry) < 0);
    config.handler_budget_ms = 1000;
    assert_int_equal(registry_check_budgets(host.registry), 500);
    pthread_t thread = start_blocked();
    usleep(600 * 1000);
    int64_t next = registry_check_budgets(host.registry);
    if (log_count("still running after ") == 0)
        assert_true(next > 0 && next <= 401); /* due when the budget runs out */
    else
        assert_int_equal(next, 500); /* a stalled machine: warned already */
    release_blocked(thread);
    assert_int_equal(registry_check_budgets(host.registry), 500);
}

/* ---- host API: config getters and argument checks ---- */

static void test_config_getters_parse_or_log_and_fall_back(void **state)
{
    (void)state;
    struct jv_plugin *self = attach_ok(&alpha);
    assert_int_equal(api->config_get_int(self, "number", 5), 12);
    assert_int_equal(api->config_get_int(self, "bad_number", 5), 5);
    assert_int_equal(log_count("plugins.ini:4: [alpha] bad_number: expected an integer"), 1);
    assert_int_equal(log_count("12x"), 0); /* values are never logged */
    assert_int_equal(api->config_get_int(self, "absent", -3), -3);
    assert_true(api->config_get_double(self, "ratio", 1.0) == 0.25);
    assert_true(api->config_get_double(self, "name", 1.5) == 1.5);
    assert_int_equal(log_count("plugins.ini:8: [alpha] name: expected a number"), 1);
    assert_int_equal(api->config_get_bool(self, "flag", 0), 1);
    assert_int_equal(api->config_get_bool(self, "bad_flag", 0), 0);
    assert_int_equal(log_count("plugins.ini:7: [alpha] bad_flag: expected true or false"), 1);
    assert_string_equal(api->config_get(self, "name", "x"), "jarvis");
    assert_string_equal(api->config_get(self, "absent", "fallback"), "fallback");
    assert_string_equal(api->config_get(NULL, "name", "fallback"), "fallback");
}

static int visit_nothing(const char *key, const void *value, size_t length, void *user_data)
{
    (void)key, (void)value, (void)length, (void)user_data;
    return 0;
}

static void test_host_api_rejects_misuse_without_crashing(void **state)
{
    (void)state;
    struct jv_plugin *self = attach_ok(&alpha);
    char *value = NULL;
    size_t length = 0;
    /* no store (as in jarvis check) */
    assert_int_equal(api->kv_set(self, "k", "v", 1), JV_E_STATE);
    assert_int_equal(api->kv_get(self, "k", &value, &length), JV_E_STATE);
    assert_int_equal(api->kv_delete(self, "k"), JV_E_STATE);
    assert_int_equal(api->kv_list(self, "", visit_nothing, NULL), JV_E_STATE);
    assert_int_equal(api->kv_set(NULL, "k", "v", 1), JV_E_INVAL);
    assert_int_equal(api->kv_set(self, NULL, "v", 1), JV_E_INVAL);
    assert_int_equal(api->kv_get(self, "k", NULL, &length), JV_E_INVAL);
    assert_int_equal(api->reply(NULL, "x"), JV_E_INVAL);
    assert_int_equal(api->send_message(self, 9, NULL), JV_E_INVAL);
    assert_int_equal(api->send_message(self, 9, "sent"), JV_OK);
    assert_string_equal(sent.texts[0], "sent");
    assert_int_equal(sent.chats[0], 9);
    jv_http_request short_request = {.struct_size = 8, .method = "GET", .url = "http://x"};
    jv_http_response response;
    memset(&response, 0, sizeof response);
    assert_int_equal(api->http_request(self, &short_request, &response), JV_E_ABI);
    assert_int_equal(api->http_request(self, NULL, &response), JV_E_INVAL);
    api->http_response_free(NULL);
    api->log(NULL, 99, "logged for %s", "nobody");
    assert_int_equal(log_count("logged for nobody"), 1);
    jv_plugin fake;
    memset(&fake, 0, sizeof fake);
    assert_int_equal(register_simple(&fake, "x", 0, on_hi), JV_E_INVAL);
    char *copy = api->strdup("copy");
    assert_string_equal(copy, "copy");
    api->free(copy);
    assert_null(api->strdup(NULL));
    assert_true(api->now_ms() > 1600000000000LL);
    for (int code = JV_E_TIMEOUT; code <= JV_OK; code++)
        assert_string_not_equal(api->strerror(code), "unknown error");
    assert_string_equal(api->strerror(-100), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_command_runs_and_its_reply_reaches_the_transport,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_refusals_have_their_codes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_registration_after_init_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_command_refused_for_non_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_handler_result_is_logged_not_fatal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_builtins_then_sorted_commands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unload_runs_command_destructor_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_checks_refuse_before_init, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_newer_larger_descriptor_is_read_up_to_what_host_knows,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_init_is_undone_and_destructors_run_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_message_handlers_run_by_priority_then_load_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_are_checked_named_and_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_services_versions_and_consumers_unload_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_serialised_plugin_never_runs_two_callbacks_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_plugin_is_entered_in_parallel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_budget_check_says_when_it_is_due_next, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_budget_overrun_is_warned_once_per_callback, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_getters_parse_or_log_and_fall_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_host_api_rejects_misuse_without_crashing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
