/* Group commits on a real SQLite store in a temporary directory: a unit
 * that fails is undone alone while the others of its group commit; a
 * process that dies before the COMMIT loses the whole group (the inbox
 * rows are still there); the open group is read by its own connection
 * only; another kind of commit ends the group first; the bound's timer
 * commits a group that nobody else does; a sent mark is found at once and
 * commits before its chat's or its sender thread's next send. What is durable is read through
 * a second connection, as a restart would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/metrics.h"
#include "dispatch/group_commit.h"
#include "state/store.h"
#include "state/store_group.h"
#include "state/store_handle.h"
#include "state/store_sqlite_statements.h"
#include "state/store_pipeline.h"

#define NEVER_MS (3600 * 1000) /* a bound the tests never reach */
#define WAIT_GUARD_MS 20000

static char directory[64];

static int make_directory(void **state)
{
    (void)state;
    snprintf(directory, sizeof directory, "/tmp/jv_group_XXXXXX");
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

static int has_key(struct store *store, const char *key)
{
    char *value = NULL;
    int found = store_get(store, "test", key, &value, NULL);
    free(value);
    assert_true(found >= 0);
    return found == 0;
}

struct inbox_ids {
    int64_t ids[8];
    int count;
};

static int collect_id(const struct inbox_row *row, void *context)
{
    struct inbox_ids *ids = context;
    if (ids->count < 8)
        ids->ids[ids->count++] = row->update_id;
    return 0;
}

static struct inbox_ids inbox_of(struct store *store)
{
    struct inbox_ids ids = {0};
    assert_int_equal(store_inbox_list(store, collect_id, &ids), 0);
    return ids;
}

static void add_inbox_rows(struct store *store, int count)
{
    for (int id = 1; id <= count; id++)
        assert_int_equal(store_inbox_add(store, id, 100, "{}", id), 0);
}

/* A handled commit's shape: the inbox row goes, a kv key is written; a
 * failing one writes too, then fails, so its undo has something to undo. */
struct test_unit {
    struct group_unit link; /* first */
    struct store *store;
    int64_t update_id;
    int fails;
    atomic_int done, committed;
};

static int apply_unit(struct group_unit *link)
{
    struct test_unit *unit = (struct test_unit *)link;
    char key[16];
    snprintf(key, sizeof key, "k%lld", (long long)unit->update_id);
    if (store_inbox_remove(unit->store, unit->update_id) != 0 ||
        store_set(unit->store, "test", key, "v", 1) != 0)
        return -1;
    return unit->fails ? -1 : 0;
}

static void unit_done(struct group_unit *link, int committed)
{
    struct test_unit *unit = (struct test_unit *)link;
    atomic_store(&unit->committed, committed);
    atomic_store(&unit->done, 1);
}

static void unit_init(struct test_unit *unit, struct store *store, int64_t update_id, int fails)
{
    memset(unit, 0, sizeof *unit);
    unit->link.done = unit_done;
    unit->store = store;
    unit->update_id = update_id;
    unit->fails = fails;
}

static double commits(const char *why)
{
    return metrics_value(METRIC_STORE_COMMITS, why, NULL);
}

static void test_a_failing_unit_is_undone_alone(void **state)
{
    (void)state;
    struct store *store = open_store();
    add_inbox_rows(store, 3);
    struct commit_group *group = commit_group_create(store, NEVER_MS);
    assert_non_null(group);
    struct test_unit units[3];
    for (int i = 0; i < 3; i++)
        unit_init(&units[i], store, i + 1, i == 1);
    double idle_before = commits("idle");
    assert_int_equal(commit_group_add(group, &units[0].link, apply_unit, 1), 0);
    assert_int_equal(commit_group_add(group, &units[1].link, apply_unit, 1), -1);
    assert_int_equal(commit_group_add(group, &units[2].link, apply_unit, 1), 0);
    assert_false(atomic_load(&units[0].done)); /* waiting: more work was said to be ready */
    commit_group_flush(group, "idle");
    assert_true(commits("idle") == idle_before + 1); /* one COMMIT for the group */
    assert_true(atomic_load(&units[0].done) && atomic_load(&units[0].committed));
    assert_false(atomic_load(&units[1].done)); /* refused: never queued */
    assert_true(atomic_load(&units[2].done) && atomic_load(&units[2].committed));
    commit_group_destroy(group);

    struct store *restarted = open_store();
    struct inbox_ids ids = inbox_of(restarted);
    assert_int_equal(ids.count, 1);
    assert_int_equal(ids.ids[0], 2); /* the failed unit's row is untouched */
    assert_true(has_key(restarted, "k1"));
    assert_false(has_key(restarted, "k2"));
    assert_true(has_key(restarted, "k3"));
    store_close(restarted);
    store_close(store);
}

static void test_a_death_before_the_commit_loses_the_group(void **state)
{
    (void)state;
    struct store *store = open_store();
    add_inbox_rows(store, 2);
    store_close(store);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct store *doomed = open_store();
        struct commit_group *group = commit_group_create(doomed, NEVER_MS);
        struct test_unit units[2];
        for (int i = 0; i < 2; i++) {
            unit_init(&units[i], doomed, i + 1, 0);
            if (group == NULL || commit_group_add(group, &units[i].link, apply_unit, 1) != 0)
                _exit(2);
        }
        _exit(has_key(doomed, "k2") ? 0 : 3); /* written, not committed */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    struct store *restarted = open_store();
    assert_int_equal(inbox_of(restarted).count, 2);
    assert_false(has_key(restarted, "k1"));
    assert_false(has_key(restarted, "k2"));
    store_close(restarted);
}

static void test_the_open_group_is_read_by_its_own_connection(void **state)
{
    (void)state;
    struct store *store = open_store();
    struct store *other = open_store();
    add_inbox_rows(store, 1);
    struct commit_group *group = commit_group_create(store, NEVER_MS);
    struct test_unit unit;
    unit_init(&unit, store, 1, 0);
    assert_int_equal(commit_group_add(group, &unit.link, apply_unit, 1), 0);
    assert_true(has_key(store, "k1")); /* the next update reads what this one wrote */
    assert_false(has_key(other, "k1"));
    commit_group_flush(group, "idle");
    assert_true(has_key(other, "k1"));
    commit_group_destroy(group);
    store_close(other);
    store_close(store);
}

static void test_another_commit_ends_the_group_first(void **state)
{
    (void)state;
    struct store *store = open_store();
    struct store *other = open_store();
    add_inbox_rows(store, 1);
    struct commit_group *group = commit_group_create(store, NEVER_MS);
    struct test_unit unit;
    unit_init(&unit, store, 1, 0);
    double other_before = commits("other"), idle_before = commits("idle");
    assert_int_equal(commit_group_add(group, &unit.link, apply_unit, 1), 0);
    /* a write of its own (a job's) is durable when it returns: the group
     * commits before it, so the unit is durable too */
    assert_int_equal(store_set(store, "test", "job", "1", 1), 0);
    assert_true(has_key(other, "k1"));
    assert_true(has_key(other, "job"));
    assert_true(commits("other") == other_before + 1);
    commit_group_flush(group, "idle"); /* nothing open: no COMMIT, the completion runs */
    assert_true(commits("idle") == idle_before);
    assert_true(atomic_load(&unit.done) && atomic_load(&unit.committed));
    commit_group_destroy(group);
    store_close(other);
    store_close(store);
}

static void test_nothing_waits_when_no_more_work_is_ready(void **state)
{
    (void)state;
    struct store *store = open_store();
    add_inbox_rows(store, 1);
    struct commit_group *group = commit_group_create(store, NEVER_MS);
    struct test_unit unit;
    unit_init(&unit, store, 1, 0);
    double idle_before = commits("idle");
    assert_int_equal(commit_group_add(group, &unit.link, apply_unit, 0), 0);
    /* committed and completed before the call returned */
    assert_true(atomic_load(&unit.done) && atomic_load(&unit.committed));
    assert_true(commits("idle") == idle_before + 1);
    commit_group_destroy(group);
    store_close(store);
}

static void test_the_bound_commits_a_waiting_group(void **state)
{
    (void)state;
    struct store *store = open_store();
    add_inbox_rows(store, 1);
    struct commit_group *group = commit_group_create(store, 1);
    struct test_unit unit;
    unit_init(&unit, store, 1, 0);
    double timer_before = commits("timer");
    assert_int_equal(commit_group_add(group, &unit.link, apply_unit, 1), 0);
    for (int waited = 0; !atomic_load(&unit.done) && waited < WAIT_GUARD_MS; waited++)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    assert_true(atomic_load(&unit.done) && atomic_load(&unit.committed));
    assert_true(commits("timer") == timer_before + 1);
    commit_group_destroy(group);
    store_close(store);
}

struct mark_call {
    struct store *store;
    struct commit_group *group;
    int64_t part, reference, chat_id;
    int result;
};

/* A sent mark as a sender thread writes it, waiting for more sends. */
static void *mark_sent(void *argument)
{
    struct mark_call *call = argument;
    uint64_t number = 0;
    call->result = store_part_sent_in_group(call->store, call->part, call->reference,
                                            call->chat_id, 55, 1000, &number);
    if (call->result == 0)
        commit_group_mark(call->group, number, call->chat_id, 1);
    return NULL;
}

static void mark_on_another_thread(struct mark_call *call)
{
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, mark_sent, call), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(call->result, 0);
}

static void test_a_sent_mark_is_found_before_its_commit(void **state)
{
    (void)state;
    struct store *store = open_store();
    struct store *other = open_store();
    struct mark_call call = {.store = store,
                             .part = store_outbox_add(store, 1, 100, 0, "hello"),
                             .reference = (int64_t)1 << 40,
                             .chat_id = 100};
    assert_true(call.part > 0);
    call.group = commit_group_create(store, NEVER_MS);
    mark_on_another_thread(&call);
    /* an edit queued behind the part finds its message id at once */
    int64_t message_id = 0;
    assert_int_equal(store_sent_lookup(store, call.reference, &message_id), 0);
    assert_int_equal(message_id, 55);
    assert_int_equal(store_outbox_count(other), 1);
    commit_group_before_send(call.group, 999, 0); /* another chat, another thread: no commit */
    assert_int_equal(store_outbox_count(other), 1);
    /* this chat's next part: the mark commits first */
    commit_group_before_send(call.group, 100, 1);
    assert_int_equal(store_outbox_count(other), 0);
    commit_group_destroy(call.group);
    store_close(other);
    store_close(store);
}

static void test_a_sender_commits_its_mark_before_its_next_send(void **state)
{
    (void)state;
    struct store *store = open_store();
    struct store *other = open_store();
    struct mark_call call = {
        .store = store, .part = store_outbox_add(store, 1, 100, 0, "hello"), .chat_id = 100};
    assert_true(call.part > 0);
    call.group = commit_group_create(store, NEVER_MS);
    mark_sent(&call); /* on this thread, the sender's */
    assert_int_equal(call.result, 0);
    assert_int_equal(store_outbox_count(other), 1);
    commit_group_before_send(call.group, 999, 0); /* any chat: this thread's own mark goes first */
    assert_int_equal(store_outbox_count(other), 0);
    commit_group_destroy(call.group);
    store_close(other);
    store_close(store);
}

/* After a full disk or an I/O error SQLite may roll the transaction back
 * by itself: the group's units must then commit again, and the next unit
 * must not run outside any transaction (it would commit alone, unseen). */
static void test_a_group_rolled_back_by_sqlite_is_redone(void **state)
{
    (void)state;
    struct store *store = open_store();
    struct store *other = open_store();
    add_inbox_rows(store, 2);
    struct commit_group *group = commit_group_create(store, NEVER_MS);
    struct test_unit units[2];
    unit_init(&units[0], store, 1, 0);
    unit_init(&units[1], store, 2, 0);
    assert_int_equal(commit_group_add(group, &units[0].link, apply_unit, 1), 0);
    struct sqlite_store *connection = store->connection;
    assert_int_equal(sqlite3_exec(connection->database, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(commit_group_add(group, &units[1].link, apply_unit, 1), -1);
    assert_false(has_key(other, "k2")); /* not committed on its own */
    commit_group_flush(group, "idle");
    assert_true(atomic_load(&units[0].done));
    assert_false(atomic_load(&units[0].committed)); /* its owner commits it alone */
    assert_int_equal(inbox_of(other).count, 2);
    commit_group_destroy(group);
    store_close(other);
    store_close(store);
}

int main(void)
{
    metrics_init("test", 0);
#define TEST(name) cmocka_unit_test_setup_teardown(name, make_directory, remove_directory)
    const struct CMUnitTest tests[] = {
        TEST(test_a_failing_unit_is_undone_alone),
        TEST(test_a_death_before_the_commit_loses_the_group),
        TEST(test_the_open_group_is_read_by_its_own_connection),
        TEST(test_another_commit_ends_the_group_first),
        TEST(test_nothing_waits_when_no_more_work_is_ready),
        TEST(test_the_bound_commits_a_waiting_group),
        TEST(test_a_sent_mark_is_found_before_its_commit),
        TEST(test_a_sender_commits_its_mark_before_its_next_send),
        TEST(test_a_group_rolled_back_by_sqlite_is_redone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
