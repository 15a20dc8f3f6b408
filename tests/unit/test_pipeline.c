/* The update pipeline on a real SQLite store: transactions, the inbox and
 * outbox tables, the unit of work's read-your-writes, handled commits
 * through a real dispatcher and the ABI 1.0 fixture plugin, recovery of
 * both tables, the poison skip, crash records written by a real fatal
 * signal in a child process, the lenient getUpdates decoder, and a state
 * database from schema 1 migrated with its pending reply still sent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <jarvis/plugin.h>

#include "counting_vfs.h"
#include "config/config.h"
#include "state/crash_record.h"
#include "dispatch/dispatch.h"
#include "plugin/host.h"
#include "base/log.h"
#include "dispatch/message_payload.h"
#include "dispatch/pipeline.h"
#include "dispatch/sched.h"
#include "plugin/registry.h"
#include "state/store.h"
#include "transport/telegram/telegram_api.h"
#include "transport/telegram/telegram_update.h"
#include "state/unit_of_work.h"
#include "dispatch/host_api.h"
#include "plugin/plugins.h"
#include "state/store_pipeline.h"
#include "state/store_handle.h"

#define WAIT_GUARD_MS 20000

static char directory[64];

static int make_directory(void **state)
{
    (void)state;
    snprintf(directory, sizeof directory, "/tmp/jv_pipeline_XXXXXX");
    assert_non_null(mkdtemp(directory));
    return 0;
}

static int remove_directory(void **state)
{
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", directory);
    assert_int_equal(system(command), 0);
    return 0;
}

static struct store *open_store(void)
{
    char error[256];
    struct store *store = store_open(directory, error, sizeof error);
    if (store == NULL)
        fail_msg("store_open: %s", error);
    return store;
}

static long value_of(struct store *store, const char *space, const char *key)
{
    char *value = NULL;
    size_t length = 0;
    if (store_get(store, space, key, &value, &length) != 0)
        return -1;
    long parsed = strtol(value, NULL, 10);
    free(value);
    return parsed;
}

/* ---- transactions ---- */

static void test_rollback_undoes_and_commit_keeps(void **state)
{
    (void)state;
    struct store *store = open_store();
    assert_int_equal(store_begin(store, STORE_UNSYNCED), 0);
    assert_int_equal(store_set(store, "p", "a", "1", 1), 0);
    assert_int_equal(store_inbox_add(store, 7, 70, "{}", 1), 0);
    store_rollback(store);
    assert_int_equal(value_of(store, "p", "a"), -1);
    assert_int_equal(store_inbox_count(store), 0);
    assert_int_equal(store_begin(store, STORE_SYNCED), 0);
    assert_int_equal(store_begin(store, STORE_SYNCED), -1); /* not nested */
    assert_int_equal(store_set(store, "p", "a", "2", 1), 0);
    assert_true(store_outbox_add(store, 7, 70, 0, "hi") > 0);
    assert_int_equal(store_commit(store), 0);
    assert_int_equal(store_commit(store), -1); /* nothing open */
    store_close(store);
    store = open_store(); /* what survives a reopen is what was committed */
    assert_int_equal(value_of(store, "p", "a"), 2);
    assert_int_equal(store_outbox_count(store), 1);
    store_close(store);
}

/* ---- the tables ---- */

struct listed_rows {
    int64_t ids[16];
    int crashes[16];
    char plugins[16][40];
    char texts[16][64];
    int count;
};

static int list_inbox(const struct inbox_row *row, void *context)
{
    struct listed_rows *rows = context;
    rows->ids[rows->count] = row->update_id;
    rows->crashes[rows->count] = row->crashes;
    snprintf(rows->plugins[rows->count], 40, "%s", row->crash_plugin);
    rows->count++;
    return 0;
}

static int list_outbox(const struct outbox_row *row, void *context)
{
    struct listed_rows *rows = context;
    rows->ids[rows->count] = row->id;
    snprintf(rows->texts[rows->count], 64, "%s", row->text);
    rows->count++;
    return 0;
}

static void test_inbox_keeps_arrival_order_dedups_and_counts_crashes(void **state)
{
    (void)state;
    struct store *store = open_store();
    assert_int_equal(store_inbox_add(store, 30, 1, "{\"a\":1}", 1), 0);
    assert_int_equal(store_inbox_add(store, 10, 1, "{}", 2), 0); /* ids may go backwards */
    assert_int_equal(store_inbox_add(store, INT64_MAX, 2, "{}", 3), 0);
    assert_int_equal(store_inbox_add(store, 30, 1, "{\"a\":2}", 4), 1); /* already waiting */
    assert_int_equal(store_inbox_count_crash(store, 10, "crasher"), 0);
    assert_int_equal(store_inbox_count_crash(store, 10, "crasher"), 0);
    struct listed_rows rows = {0};
    assert_int_equal(store_inbox_list(store, list_inbox, &rows), 0);
    assert_int_equal(rows.count, 3);
    assert_true(rows.ids[0] == 30 && rows.ids[1] == 10 && rows.ids[2] == INT64_MAX);
    assert_int_equal(rows.crashes[0], 0);
    assert_int_equal(rows.crashes[1], 2);
    assert_string_equal(rows.plugins[1], "crasher");
    assert_int_equal(store_inbox_remove(store, 10), 0);
    assert_int_equal(store_inbox_remove(store, 10), 0); /* gone already: fine */
    assert_int_equal(store_inbox_count(store), 2);
    store_close(store);
}

static void test_outbox_ids_grow_and_rows_leave_when_sent(void **state)
{
    (void)state;
    struct store *store = open_store();
    int64_t first = store_outbox_add(store, 1, 5, 0, "one");
    int64_t second = store_outbox_add(store, -1, 5, 9, "two");
    assert_true(first > 0 && second > first);
    assert_int_equal(store_outbox_remove(store, first), 0);
    struct listed_rows rows = {0};
    assert_int_equal(store_outbox_list(store, list_outbox, &rows), 0);
    assert_int_equal(rows.count, 1);
    assert_true(rows.ids[0] == second);
    assert_string_equal(rows.texts[0], "two");
    store_close(store);
}

/* ---- the unit of work ---- */

static int collect_keys(const char *key, const void *value, size_t length, void *context)
{
    char *out = context;
    char item[64];
    snprintf(item, sizeof item, "%s=%.*s;", key, (int)length, (const char *)value);
    strcat(out, item);
    return 0;
}

static void test_unit_of_work_reads_its_own_writes_and_commits_them_once(void **state)
{
    (void)state;
    struct store *store = open_store();
    assert_int_equal(store_set(store, "p", "k1", "old", 3), 0);
    assert_int_equal(store_set(store, "p", "k2", "gone", 4), 0);
    struct jv_context work;
    unit_of_work_init(&work, 1, 1, 0);
    assert_int_equal(unit_of_work_kv_set(&work, "p", "k1", "new", 3), 0);
    assert_int_equal(unit_of_work_kv_set(&work, "p", "k3", "x", 1), 0);
    assert_int_equal(unit_of_work_kv_set(&work, "p", "k3", "y", 1), 0); /* overwrite in place */
    assert_int_equal(unit_of_work_kv_delete(&work, store, "p", "k2"), 0);
    assert_int_equal(unit_of_work_kv_delete(&work, store, "p", "k2"), 1); /* deleted already */
    assert_int_equal(unit_of_work_kv_delete(&work, store, "p", "nope"), 1);
    char *value = NULL;
    size_t length = 0;
    assert_int_equal(unit_of_work_kv_get(&work, store, "p", "k1", &value, &length), 0);
    assert_string_equal(value, "new");
    free(value);
    assert_int_equal(unit_of_work_kv_get(&work, store, "p", "k2", &value, &length), 1);
    assert_int_equal(unit_of_work_kv_get(&work, store, "other", "k1", &value, &length), 1);
    char listed[256] = "";
    assert_int_equal(unit_of_work_kv_list(&work, store, "p", "k", collect_keys, listed), 0);
    assert_string_equal(listed, "k1=new;k3=y;");
    assert_int_equal(work.write_count, 3); /* k1, k3 once, k2's delete */
    /* a buffered write outside the prefix stays out of the listing */
    assert_int_equal(unit_of_work_kv_set(&work, "p", "z", "out", 3), 0);
    listed[0] = '\0';
    assert_int_equal(unit_of_work_kv_list(&work, store, "p", "k", collect_keys, listed), 0);
    assert_string_equal(listed, "k1=new;k3=y;");
    /* nothing reached the store yet */
    assert_int_equal(value_of(store, "p", "k3"), -1);
    assert_int_equal(store_begin(store, STORE_UNSYNCED), 0);
    assert_int_equal(unit_of_work_apply_writes(&work, store), 0);
    assert_int_equal(store_commit(store), 0);
    listed[0] = '\0';
    assert_int_equal(store_list(store, "p", "", collect_keys, listed), 0);
    assert_string_equal(listed, "k1=new;k3=y;z=out;");
    unit_of_work_release(&work);
    store_close(store);
}

static void test_a_message_without_a_valid_context_cannot_be_answered(void **state)
{
    (void)state;
    struct jv_context work;
    unit_of_work_init(&work, 1, 1, 0);
    jv_message message = {.struct_size = sizeof message, .context = &work};
    assert_ptr_equal(unit_of_work_of(&message), &work);
    jv_message older = message;
    older.struct_size = offsetof(jv_message, context); /* a 1.0-sized struct */
    assert_null(unit_of_work_of(&older));
    unit_of_work_release(&work); /* a released context is no longer valid */
    assert_null(unit_of_work_of(&message));
    const jv_host_api *api = host_api_table();
    assert_int_equal(api->reply(&message, "x"), JV_E_STATE);
    assert_null(api->defer_reply(&message));
}

/* ---- the pipeline with a real dispatcher and the 1.0 fixture ---- */

static struct {
    pthread_mutex_t lock;
    char texts[64][96];
    int64_t chats[64];
    int count;
} delivered = {PTHREAD_MUTEX_INITIALIZER, {""}, {0}, 0};

static struct pipeline *current_pipeline;

static int record_part(void *context, const struct outbox_row *row)
{
    (void)context;
    pthread_mutex_lock(&delivered.lock);
    if (delivered.count < 64) {
        snprintf(delivered.texts[delivered.count], 96, "%s", row->text);
        delivered.chats[delivered.count++] = row->chat_id;
    }
    pthread_mutex_unlock(&delivered.lock);
    pipeline_sent(current_pipeline, row);
    return JV_OK;
}

struct fixture {
    struct config config;
    struct host host;
    char plugin_dir[PATH_MAX];
    char *enable[1];
};

static void start_host(struct fixture *fixture)
{
    /* tests/run runs the unit binaries from the top of the tree */
    if (realpath("tests/fixtures/abi-1.0", fixture->plugin_dir) == NULL)
        fail_msg("run from the top of the tree: tests/fixtures/abi-1.0 not found");
    fixture->enable[0] = "legacy";
    fixture->config.path = "test_pipeline";
    fixture->config.token = "";
    fixture->config.workers = 3;
    fixture->config.shutdown_grace_ms = 5000;
    fixture->config.plugin_dir = fixture->plugin_dir;
    fixture->config.enable = fixture->enable;
    fixture->config.enable_count = 1;
    fixture->host.config = &fixture->config;
    fixture->host.store = open_store();
    fixture->host.registry = registry_create(&fixture->host, host_api_table());
    size_t loaded = 0, refused = 0;
    plugins_load_all(fixture->host.registry, &loaded, &refused);
    if (loaded != 1)
        fail_msg("the ABI 1.0 fixture did not load from %s", fixture->plugin_dir);
    fixture->host.dispatch = dispatch_create(&fixture->host, fixture->config.workers);
    struct pipeline_delivery delivery = {.deliver = record_part};
    current_pipeline = pipeline_create(&fixture->host, &delivery);
    fixture->host.pipeline = current_pipeline;
    delivered.count = 0;
}

static void stop_host(struct fixture *fixture)
{
    assert_int_equal(dispatch_drain(fixture->host.dispatch, WAIT_GUARD_MS), 0);
    dispatch_destroy(fixture->host.dispatch);
    plugins_unload_all(fixture->host.registry);
    registry_destroy(fixture->host.registry);
    pipeline_destroy(current_pipeline);
    current_pipeline = NULL;
    store_close(fixture->host.store);
}

static struct incoming_message message_for(int64_t update_id, int64_t chat_id, const char *text)
{
    struct incoming_message message = {.update_id = update_id, .chat_id = chat_id,
                                       .user_id = 3, .message_id = update_id,
                                       .chat_type = "private", .user_name = "t", .text = text};
    return message;
}

/* A batch taken from Telegram is fsync'd before getUpdates confirms it:
 * counted under the counting VFS, the batch's commit syncs. */
static void test_an_accepted_batch_is_synced(void **state)
{
    (void)state;
    struct store *store = open_store();
    struct incoming_message batch[2] = {message_for(300, 5, "a"), message_for(301, 6, "b")};
    long syncs, writes, syncs_after, writes_after;
    counting_vfs_read(&syncs, &writes);
    assert_int_equal(pipeline_store_batch(store, batch, 2, "test.cursor", 302), 0);
    counting_vfs_read(&syncs_after, &writes_after);
    assert_true(writes_after > writes);
    assert_true(syncs_after > syncs);
    assert_int_equal(store_inbox_count(store), 2);
    assert_int_equal(value_of(store, "core", "test.cursor"), 302);
    store_close(store);
}

static void test_a_1_0_plugin_answers_and_its_kv_writes_commit_with_the_update(void **state)
{
    (void)state;
    struct fixture fixture = {0};
    start_host(&fixture);
    struct incoming_message batch[3] = {message_for(100, 5, "/legacy_count"),
                                        message_for(101, 5, "/legacy_count"),
                                        message_for(102, 6, "/legacy_ping")};
    assert_int_equal(pipeline_accept(current_pipeline, batch, 3, "test.cursor", 103), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(pipeline_unhandled(current_pipeline), 0);
    assert_int_equal(delivered.count, 3);
    int counted = 0, ponged = 0;
    for (int i = 0; i < delivered.count; i++) {
        if (strcmp(delivered.texts[i], "legacy pong") == 0 && delivered.chats[i] == 6)
            ponged++;
        if (strncmp(delivered.texts[i], "legacy count ", 13) == 0)
            counted++;
    }
    assert_int_equal(ponged, 1);
    assert_int_equal(counted, 2);
    assert_int_equal(value_of(fixture.host.store, "legacy", "count"), 2);
    assert_int_equal(value_of(fixture.host.store, "core", "test.cursor"), 103);
    assert_int_equal(store_inbox_count(fixture.host.store), 0);
    assert_int_equal(store_outbox_count(fixture.host.store), 0);
    /* the same update again (a poll that went wrong) is not handled twice */
    assert_int_equal(store_inbox_add(fixture.host.store, 200, 5, "{}", 1), 0);
    struct incoming_message again = message_for(200, 5, "/legacy_count");
    assert_int_equal(pipeline_accept(current_pipeline, &again, 1, NULL, 0), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 3);
    stop_host(&fixture);
}

static void add_waiting(struct store *store, int64_t update_id, int64_t chat_id,
                        const char *text)
{
    struct incoming_message message = message_for(update_id, chat_id, text);
    char *payload = message_payload_encode(&message);
    assert_int_equal(store_inbox_add(store, update_id, chat_id, payload, update_id), 0);
    free(payload);
}

static void test_recovery_sends_the_outbox_reruns_the_inbox_and_skips_poison(void **state)
{
    (void)state;
    struct store *store = open_store();
    assert_true(store_outbox_add(store, 1, 9, 0, "committed before the crash") > 0);
    add_waiting(store, 2, 9, "/legacy_count");
    add_waiting(store, 3, 8, "/legacy_ping");
    for (int i = 0; i < PIPELINE_MAX_CRASHES; i++)
        assert_int_equal(store_inbox_count_crash(store, 3, "legacy"), 0);
    add_waiting(store, 4, 7, "/legacy_ping");
    assert_int_equal(store_inbox_count_crash(store, 4, "legacy"), 0); /* once: runs alone */
    assert_int_equal(store_inbox_add(store, 5, 7, "not json", 5), 0);
    store_close(store);

    struct fixture fixture = {0};
    start_host(&fixture);
    assert_int_equal(pipeline_recover(current_pipeline), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 4);
    assert_string_equal(delivered.texts[0], "committed before the crash");
    int apologies = 0, counts = 0, pongs = 0;
    for (int i = 0; i < delivered.count; i++) {
        if (strcmp(delivered.texts[i],
                   "Sorry, that message crashed the plugin 'legacy' 3 times; skipping it.") == 0 &&
            delivered.chats[i] == 8)
            apologies++;
        counts += strcmp(delivered.texts[i], "legacy count 1") == 0;
        pongs += strcmp(delivered.texts[i], "legacy pong") == 0 && delivered.chats[i] == 7;
    }
    assert_int_equal(apologies, 1);
    assert_int_equal(counts, 1);
    assert_int_equal(pongs, 1);
    assert_int_equal(store_inbox_count(fixture.host.store), 0);
    assert_int_equal(store_outbox_count(fixture.host.store), 0);
    stop_host(&fixture);
}

/* A commit whose answer is lost (a PostgreSQL COMMIT that landed before
 * the connection broke) reports failure although the batch is stored. The
 * next poll brings the same updates back: they are in the inbox already,
 * yet nobody handles them unless the pipeline remembers its own commit was
 * in doubt. The lying backend commits for real and then says it failed. */
static int (*honest_commit)(void *connection);

static int commit_then_say_it_failed(void *connection)
{
    honest_commit(connection);
    return -1;
}

static void test_a_batch_whose_commit_seemed_to_fail_is_handled_once_polled_again(void **state)
{
    (void)state;
    struct fixture fixture = {0};
    start_host(&fixture);
    struct store *store = fixture.host.store;
    const struct store_backend *honest = store->backend;
    struct store_backend lying = *honest;
    honest_commit = honest->commit;
    lying.commit = commit_then_say_it_failed;
    struct incoming_message batch[2] = {message_for(500, 5, "/legacy_ping"),
                                        message_for(501, 6, "/legacy_ping")};
    store->backend = &lying;
    assert_int_equal(pipeline_accept(current_pipeline, batch, 2, "test.cursor", 502), -1);
    store->backend = honest;
    assert_int_equal(store_inbox_count(store), 2); /* the "failed" commit landed */
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 0);

    assert_int_equal(pipeline_accept(current_pipeline, batch, 2, "test.cursor", 502), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 2);
    assert_string_equal(delivered.texts[0], "legacy pong");
    assert_string_equal(delivered.texts[1], "legacy pong");
    assert_int_equal(store_inbox_count(store), 0);
    /* remembered once: a third delivery of the same updates is a repeat */
    assert_int_equal(store_inbox_add(store, 500, 5, "{}", 1), 0);
    assert_int_equal(pipeline_accept(current_pipeline, batch, 1, NULL, 0), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 2);
    stop_host(&fixture);
}

/* A flooding chat's waiting rows that cannot be read (the store failed)
 * stay in the inbox for the next start, and the chat is not held back
 * behind them: its next update is handled. */
static int fail_to_read(void *connection, const int64_t *update_ids, size_t count,
                        store_inbox_visit visit, void *context)
{
    (void)connection, (void)update_ids, (void)count, (void)visit, (void)context;
    return -1;
}

/* The rows a failed load could not read stay waiting, the chat's later
 * update behind them; once the inbox reads again and the backoff is over,
 * the housekeeping's pipeline_retry_loads loads them, and all are handled. */
static void test_waiting_rows_that_cannot_be_read_are_retried(void **state)
{
    (void)state;
    struct fixture fixture = {0};
    fixture.config.chat_backlog_in_memory = 1;
    start_host(&fixture);
    struct store *store = fixture.host.store;
    const struct store_backend *honest = store->backend;
    struct store_backend failing = *honest;
    failing.inbox_get = fail_to_read;
    store->backend = &failing;
    struct incoming_message flood[3] = {message_for(600, 5, "/legacy_ping"),
                                        message_for(601, 5, "/legacy_ping"),
                                        message_for(602, 5, "/legacy_ping")};
    assert_int_equal(pipeline_accept(current_pipeline, flood, 3, "test.cursor", 603), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 1); /* the one admitted; the load failed */
    store->backend = honest;
    struct incoming_message later = message_for(603, 5, "/legacy_ping");
    assert_int_equal(pipeline_accept(current_pipeline, &later, 1, "test.cursor", 604), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 1); /* 603 waits behind 601 and 602 */
    assert_int_equal(store_inbox_count(store), 3);
    int64_t wait = pipeline_retry_loads(current_pipeline);
    assert_true(wait > 0 && wait <= 100); /* backing off */
    usleep((useconds_t)(wait + 20) * 1000);
    for (int round = 0; round < 100 && store_inbox_count(store) > 0; round++) {
        pipeline_retry_loads(current_pipeline);
        assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
        usleep(10 * 1000);
    }
    assert_int_equal(store_inbox_count(store), 0);
    assert_int_equal(delivered.count, 4);
    assert_int_equal(pipeline_retry_loads(current_pipeline), -1); /* nothing left to retry */
    stop_host(&fixture);
}

/* Reads fail while reads_fail is set, else go to the honest backend: the
 * switch is safe while the housekeeping thread may be reading. */
static atomic_int reads_fail;
static atomic_int failed_reads;
static const struct store_backend *honest_backend;

static int read_unless_failing(void *connection, const int64_t *update_ids, size_t count,
                               store_inbox_visit visit, void *context)
{
    if (atomic_load(&reads_fail)) {
        atomic_fetch_add(&failed_reads, 1);
        return -1;
    }
    return honest_backend->inbox_get(connection, update_ids, count, visit, context);
}

#define WAKE_FLOOD 20

/* With the real scheduler running and no handler budget (its housekeeping
 * sleeps a minute), a load that fails wakes it: the waiting rows are read
 * again within the backoff, with nobody calling pipeline_retry_loads. */
static void test_a_failed_load_wakes_the_housekeeping(void **state)
{
    (void)state;
    struct fixture fixture = {0};
    fixture.config.chat_backlog_in_memory = 1;
    start_host(&fixture);
    struct store *store = fixture.host.store;
    honest_backend = store->backend;
    struct store_backend switched = *honest_backend;
    switched.inbox_get = read_unless_failing;
    atomic_store(&reads_fail, 1);
    atomic_store(&failed_reads, 0);
    store->backend = &switched;
    struct sched *sched = sched_start(&fixture.host);
    assert_non_null(sched);
    usleep(50 * 1000); /* its first round is over: asleep for a minute */
    /* a worker may finish one before the next is offered, which then needs
     * no read: a flood makes sure some must be read */
    struct incoming_message flood[WAKE_FLOOD];
    for (int i = 0; i < WAKE_FLOOD; i++)
        flood[i] = message_for(700 + i, 6, "/legacy_ping");
    assert_int_equal(pipeline_accept(current_pipeline, flood, WAKE_FLOOD, "test.cursor",
                                     700 + WAKE_FLOOD),
                     0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_true(atomic_load(&failed_reads) >= 1);
    assert_true(delivered.count < WAKE_FLOOD);
    atomic_store(&reads_fail, 0);
    for (int waited_ms = 0; waited_ms < 3000 && store_inbox_count(store) > 0; waited_ms += 10)
        usleep(10 * 1000);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(store_inbox_count(store), 0);
    assert_int_equal(delivered.count, WAKE_FLOOD);
    sched_stop(sched);
    store->backend = honest_backend;
    stop_host(&fixture);
}

/* ---- a database from before the rich-chat columns ---- */

/* Schema 1 as jarvis created it before outbox schema 2 (git show
 * 45cae46:core/store_pipeline.c and core/store.c), holding one reply
 * committed but not yet sent when that jarvis stopped. */
static const char *const SCHEMA_1[] = {
    "PRAGMA journal_mode=WAL",
    "CREATE TABLE IF NOT EXISTS kv ("
    " space TEXT NOT NULL COLLATE BINARY,"
    " key TEXT NOT NULL COLLATE BINARY,"
    " value BLOB NOT NULL,"
    " PRIMARY KEY (space, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS inbox ("
    " update_id INTEGER PRIMARY KEY,"
    " arrival INTEGER NOT NULL,"
    " chat_id INTEGER NOT NULL,"
    " payload TEXT NOT NULL,"
    " crashes INTEGER NOT NULL DEFAULT 0,"
    " crash_plugin TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS outbox ("
    " id INTEGER PRIMARY KEY,"
    " update_id INTEGER NOT NULL,"
    " chat_id INTEGER NOT NULL,"
    " thread_id INTEGER NOT NULL,"
    " text TEXT NOT NULL)",
    "PRAGMA user_version=1",
    "INSERT INTO outbox (update_id, chat_id, thread_id, text)"
    " VALUES (41, 9, 0, 'queued by schema 1')",
    "INSERT INTO kv (space, key, value) VALUES ('core', 'telegram.offset', '42')",
};

static int database_version(const char *path)
{
    sqlite3 *database = NULL;
    sqlite3_stmt *statement = NULL;
    int version = -1;
    if (sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(database, "PRAGMA user_version", -1, &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        version = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(database);
    return version;
}

static void test_a_schema_1_database_is_migrated_and_its_reply_sent(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/jarvis.db", directory);
    sqlite3 *old = NULL;
    assert_int_equal(sqlite3_open(path, &old), SQLITE_OK);
    for (size_t i = 0; i < sizeof SCHEMA_1 / sizeof SCHEMA_1[0]; i++) {
        char *error = NULL;
        if (sqlite3_exec(old, SCHEMA_1[i], NULL, NULL, &error) != SQLITE_OK)
            fail_msg("%s: %s", SCHEMA_1[i], error);
    }
    sqlite3_close(old);
    assert_int_equal(database_version(path), 1);

    struct fixture fixture = {0};
    start_host(&fixture);
    assert_int_equal(database_version(path), 2);
    assert_int_equal(store_outbox_count(fixture.host.store), 1);
    assert_int_equal(pipeline_recover(current_pipeline), 0);
    assert_int_equal(dispatch_drain(fixture.host.dispatch, WAIT_GUARD_MS), 0);
    assert_int_equal(delivered.count, 1);
    assert_string_equal(delivered.texts[0], "queued by schema 1");
    assert_int_equal(delivered.chats[0], 9);
    assert_int_equal(store_outbox_count(fixture.host.store), 0);
    assert_int_equal(value_of(fixture.host.store, "core", "telegram.offset"), 42);
    /* the migrated outbox takes schema 2's rows */
    assert_true(store_outbox_add(fixture.host.store, 43, 9, 0, "after the migration") > 0);
    stop_host(&fixture);
}

/* ---- the inbox payload ---- */

static void test_payload_round_trips_any_text(void **state)
{
    (void)state;
    const char *texts[] = {"", "plain", "quote \" and \\ back", "tab\tnew\nline\x01\x1f",
                           "ümlaut \xF0\x9F\x98\x80 emoji", "</script>&<b>"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct incoming_message message = {.update_id = 1, .chat_id = INT64_MIN,
                                           .user_id = INT64_MAX, .message_id = -5,
                                           .chat_type = "supergroup", .user_name = texts[i],
                                           .text = texts[i], .is_reply_to_bot = (int)(i % 2),
                                           .message_thread_id = 77};
        char *payload = message_payload_encode(&message);
        assert_non_null(payload);
        struct incoming_message back;
        memset(&back, 0, sizeof back);
        void *holder = NULL;
        char problem[128];
        if (message_payload_decode(payload, &back, &holder, problem, sizeof problem) != 0)
            fail_msg("%s: %s", payload, problem);
        assert_true(back.chat_id == INT64_MIN && back.user_id == INT64_MAX);
        assert_true(back.message_id == -5 && back.message_thread_id == 77);
        assert_int_equal(back.is_reply_to_bot, (int)(i % 2));
        assert_string_equal(back.text, texts[i]);
        assert_string_equal(back.user_name, texts[i]);
        assert_string_equal(back.chat_type, "supergroup");
        message_payload_free(holder);
        free(payload);
    }
}

/* ---- crash records from a real fatal signal ---- */

struct seen_crash {
    int64_t update_id;
    char plugin[40];
    int signal_number;
    int count;
};

static void note_crash(int64_t update_id, const char *plugin, int signal_number, void *context)
{
    struct seen_crash *seen = context;
    seen->update_id = update_id;
    snprintf(seen->plugin, sizeof seen->plugin, "%s", plugin);
    seen->signal_number = signal_number;
    seen->count++;
}

static void crash_in_child(int inside_callback, int signal_number)
{
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (crash_record_open(directory) != 0)
            _exit(2);
        if (inside_callback)
            crash_record_enter(4242, "crasher");
        if (inside_callback == 2)
            crash_record_leave(); /* the callback returned: its crash is over */
        raise(signal_number);
        _exit(3); /* not reached: the signal ends the child */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), signal_number);
}

static void test_only_a_fatal_signal_inside_a_callback_leaves_a_record(void **state)
{
    (void)state;
    crash_in_child(1, SIGSEGV);
    crash_in_child(0, SIGSEGV); /* outside any callback: nothing to charge */
    crash_in_child(2, SIGSEGV); /* after the callback returned: nothing either */
    crash_in_child(1, SIGABRT);
    assert_int_equal(crash_record_open(directory), 0);
    struct seen_crash seen = {0};
    assert_int_equal(crash_record_collect(note_crash, &seen), 2);
    assert_int_equal(seen.count, 2);
    assert_true(seen.update_id == 4242);
    assert_string_equal(seen.plugin, "crasher");
    assert_int_equal(seen.signal_number, SIGABRT);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(crash_record_collect(note_crash, &seen), 0); /* emptied */
    crash_record_close();
}

/* A record that is not one (a torn write, another file's bytes) counts
 * for nothing; the good record after it still counts. */
static void test_a_torn_crash_record_counts_for_nothing(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/crashes", directory);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    unsigned char garbage[56]; /* a record's size: magic, signal, update, name */
    memset(garbage, 0x41, sizeof garbage);
    assert_int_equal(write(fd, garbage, sizeof garbage), (ssize_t)sizeof garbage);
    close(fd);
    crash_in_child(1, SIGSEGV);
    assert_int_equal(crash_record_open(directory), 0);
    struct seen_crash seen = {0};
    assert_int_equal(crash_record_collect(note_crash, &seen), 1);
    assert_int_equal(seen.count, 1);
    assert_true(seen.update_id == 4242);
    assert_string_equal(seen.plugin, "crasher");
    crash_record_close();
}

/* ---- getUpdates decoded update by update ---- */

static char *deeply_nested(int depth)
{
    char *text = malloc((size_t)depth * 2 + 64);
    int used = sprintf(text, "{\"update_id\":13,\"x\":");
    for (int i = 0; i < depth; i++)
        text[used++] = '[';
    for (int i = 0; i < depth; i++)
        text[used++] = ']';
    text[used++] = '}';
    text[used] = '\0';
    return text;
}

static void test_an_undecodable_update_spoils_only_itself(void **state)
{
    (void)state;
    char *deep = deeply_nested(3000);
    size_t size = strlen(deep) + 1024;
    char *body = malloc(size);
    snprintf(body, size,
             "{\"ok\":true,\"result\":[{\"update_id\":10,\"message\":{\"text\":\"a\"}},"
             "{\"update_id\":11,\"message\":{\"text\":\"nul\\u0000here\"}},"
             "{\"update_id\":12,\"message\":{\"date\":123456789012345678901234567890}},"
             "%s,{\"message\":{\"x\":1e400},\"update_id\":14},"
             "{\"update_id\":15,\"message\":{\"text\":\"b\"}}]}",
             deep);
    json_t *updates = telegram_decode_updates_leniently(body, strlen(body));
    assert_non_null(updates);
    assert_int_equal(json_array_size(updates), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *element = json_array_get(updates, i);
        assert_int_equal(json_integer_value(json_object_get(element, "update_id")), 10 + (int)i);
        int bad = json_object_get(element, "undecodable") != NULL;
        assert_int_equal(bad, i >= 1 && i <= 4);
        if (bad) {
            struct parsed_update parsed;
            telegram_parse_update(element, 0, &parsed);
            assert_int_equal(parsed.kind, UPDATE_BAD);
            assert_true(parsed.update_id == 10 + (int64_t)i); /* named in the log line */
            assert_non_null(strstr(parsed.problem, "undecodable"));
        }
    }
    json_decref(updates);
    /* cut short or not an ok envelope: no updates to skip, a failed transfer */
    body[strlen(body) - 3] = '\0';
    assert_null(telegram_decode_updates_leniently(body, strlen(body)));
    assert_null(telegram_decode_updates_leniently("{\"ok\":false,\"result\":[]}", 24));
    assert_null(telegram_decode_updates_leniently("<html>", 6));
    /* through the classifier: the call succeeds with the good updates */
    struct telegram_result result;
    const char *mixed = "{\"ok\":true,\"result\":[{\"update_id\":1},{\"update_id\":2,\"x\":1e400}]}";
    telegram_classify(200, mixed, strlen(mixed), &result);
    assert_int_equal(result.outcome, TELEGRAM_OK);
    assert_int_equal(json_array_size(result.value), 2);
    telegram_result_release(&result);
    free(body);
    free(deep);
}

int main(void)
{
    log_open(NULL, LOG_WARN);
    counting_vfs_install(); /* before any store opens */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_an_accepted_batch_is_synced, make_directory,
                                        remove_directory),
        cmocka_unit_test_setup_teardown(test_rollback_undoes_and_commit_keeps, make_directory,
                                        remove_directory),
        cmocka_unit_test_setup_teardown(test_inbox_keeps_arrival_order_dedups_and_counts_crashes,
                                        make_directory, remove_directory),
        cmocka_unit_test_setup_teardown(test_outbox_ids_grow_and_rows_leave_when_sent,
                                        make_directory, remove_directory),
        cmocka_unit_test_setup_teardown(
            test_unit_of_work_reads_its_own_writes_and_commits_them_once, make_directory,
            remove_directory),
        cmocka_unit_test(test_a_message_without_a_valid_context_cannot_be_answered),
        cmocka_unit_test_setup_teardown(
            test_a_1_0_plugin_answers_and_its_kv_writes_commit_with_the_update, make_directory,
            remove_directory),
        cmocka_unit_test_setup_teardown(
            test_recovery_sends_the_outbox_reruns_the_inbox_and_skips_poison, make_directory,
            remove_directory),
        cmocka_unit_test_setup_teardown(test_only_a_fatal_signal_inside_a_callback_leaves_a_record,
                                        make_directory, remove_directory),
        cmocka_unit_test_setup_teardown(
            test_a_batch_whose_commit_seemed_to_fail_is_handled_once_polled_again, make_directory,
            remove_directory),
        cmocka_unit_test_setup_teardown(
            test_waiting_rows_that_cannot_be_read_are_retried, make_directory,
            remove_directory),
        cmocka_unit_test_setup_teardown(test_a_failed_load_wakes_the_housekeeping, make_directory,
            remove_directory),
        cmocka_unit_test_setup_teardown(test_a_schema_1_database_is_migrated_and_its_reply_sent,
                                        make_directory, remove_directory),
        cmocka_unit_test_setup_teardown(test_a_torn_crash_record_counts_for_nothing,
                                        make_directory, remove_directory),
        cmocka_unit_test(test_an_undecodable_update_spoils_only_itself),
        cmocka_unit_test(test_payload_round_trips_any_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
