/* The store's semantics, the same tests against each backend: SQLite always,
 * PostgreSQL when JARVIS_TEST_PG_DSN names a database (the integration test
 * test_postgres_store.py starts a private cluster and runs this binary with
 * it). kv with binary values and byte-ordered prefixes, transactions,
 * inbox, outbox with files, sent records, re-open, schema versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "state/store.h"
#include "state/store_pipeline.h"

struct fixture {
    enum store_backend_kind backend;
    char directory[64];
    struct store_settings settings;
    struct store *store;
};

static const char *pg_dsn(void)
{
    const char *dsn = getenv("JARVIS_TEST_PG_DSN");
    return dsn != NULL && dsn[0] != '\0' ? dsn : NULL;
}

/* Plain libpq beside the store, to empty the tables or set a version. */
static void pg_run(const char *sql)
{
    PGconn *connection = PQconnectdb(pg_dsn());
    assert_int_equal(PQstatus(connection), CONNECTION_OK);
    PQclear(PQexec(connection, "SET client_min_messages = warning"));
    PGresult *result = PQexec(connection, sql);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(connection));
    PQclear(result);
    PQfinish(connection);
}

static struct store *open_store(struct fixture *fixture)
{
    char error[512] = "";
    enum store_open_failure failure;
    struct store *store = store_open_settings(&fixture->settings, error, sizeof error, &failure);
    if (store == NULL)
        fail_msg("store_open_settings: %s", error);
    return store;
}

static int set_up(void **state, enum store_backend_kind backend)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    fixture->backend = backend;
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis_test_backends.XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    fixture->settings.backend = backend;
    fixture->settings.state_dir = fixture->directory;
    fixture->settings.dsn = pg_dsn();
    if (backend == STORE_BACKEND_POSTGRES)
        pg_run("DROP TABLE IF EXISTS jarvis_kv, jarvis_inbox, jarvis_outbox, "
               "jarvis_sent_message, jarvis_owner, jarvis_schema_version");
    fixture->store = open_store(fixture);
    *state = fixture;
    return 0;
}

static int set_up_sqlite(void **state)
{
    return set_up(state, STORE_BACKEND_SQLITE);
}

static int set_up_postgres(void **state)
{
    return set_up(state, STORE_BACKEND_POSTGRES);
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    store_close(fixture->store);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", fixture->directory);
    if (system(command) != 0)
        fprintf(stderr, "cannot remove %s\n", fixture->directory);
    free(fixture);
    return 0;
}

static void assert_bytes(struct store *store, const char *space, const char *key,
                         const void *expected, size_t expected_length)
{
    char *value = NULL;
    size_t length = 0;
    assert_int_equal(store_get(store, space, key, &value, &length), 0);
    assert_int_equal(length, expected_length);
    assert_memory_equal(value, expected, expected_length);
    assert_int_equal(value[length], '\0');
    free(value);
}

static void test_kv_set_get_delete(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    char *value = NULL;
    assert_int_equal(store_get(store, "hello", "missing", &value, NULL), 1);
    assert_null(value);
    assert_int_equal(store_set(store, "hello", "greeting", "hi", 2), 0);
    assert_int_equal(store_set(store, "hello", "greeting", "hello again", 11), 0);
    assert_bytes(store, "hello", "greeting", "hello again", 11);
    /* spaces are separate */
    assert_int_equal(store_get(store, "other", "greeting", &value, NULL), 1);
    assert_int_equal(store_set(store, "hello", "empty", "", 0), 0);
    assert_bytes(store, "hello", "empty", "", 0);
    assert_int_equal(store_delete(store, "hello", "greeting"), 0);
    assert_int_equal(store_delete(store, "hello", "greeting"), 1);
    assert_int_equal(store_get(store, "hello", "greeting", &value, NULL), 1);
}

static void test_kv_binary_values(void **state)
{
    struct fixture *fixture = *state;
    unsigned char bytes[512];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 7);
    bytes[0] = 0;
    bytes[1] = 0xFF;
    assert_int_equal(store_set(fixture->store, "bin", "all", bytes, sizeof bytes), 0);
    assert_bytes(fixture->store, "bin", "all", bytes, sizeof bytes);
    /* keys are bytes too: UTF-8 and 0xFF */
    assert_int_equal(store_set(fixture->store, "bin", "caf\xc3\xa9", "1", 1), 0);
    assert_int_equal(store_set(fixture->store, "bin", "\xff\xfe", "2", 1), 0);
    assert_bytes(fixture->store, "bin", "\xff\xfe", "2", 1);
}

struct visited {
    char keys[16][32];
    size_t count;
    size_t stop_after;
    struct store *store; /* visitors read the store back (re-entry) */
};

static int visit_key(const char *key, const void *value, size_t value_length, void *user_data)
{
    struct visited *visited = user_data;
    if (visited->store != NULL) {
        char *again = NULL;
        size_t again_length = 0;
        assert_int_equal(store_get(visited->store, "list", key, &again, &again_length), 0);
        assert_int_equal(again_length, value_length);
        assert_memory_equal(again, value, value_length);
        free(again);
    }
    snprintf(visited->keys[visited->count++], sizeof visited->keys[0], "%s", key);
    return visited->stop_after != 0 && visited->count >= visited->stop_after;
}

static void test_kv_list_in_byte_order(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    const char *keys[] = {"sub:b", "sub:a", "sub:\xc3\xa9", "sub;", "su", "sub:\xff", "\xff\xff",
                          "\xff\xff\x01"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(store_set(store, "list", keys[i], keys[i], strlen(keys[i])), 0);
    assert_int_equal(store_set(store, "other", "sub:x", "x", 1), 0);
    struct visited visited = {.store = store};
    assert_int_equal(store_list(store, "list", "sub:", visit_key, &visited), 0);
    assert_int_equal(visited.count, 4);
    assert_string_equal(visited.keys[0], "sub:a");
    assert_string_equal(visited.keys[1], "sub:b");
    assert_string_equal(visited.keys[2], "sub:\xc3\xa9");
    assert_string_equal(visited.keys[3], "sub:\xff");
    struct visited high = {0};
    assert_int_equal(store_list(store, "list", "\xff\xff", visit_key, &high), 0);
    assert_int_equal(high.count, 2);
    struct visited first_two = {.stop_after = 2};
    assert_int_equal(store_list(store, "list", "", visit_key, &first_two), 0);
    assert_int_equal(first_two.count, 2);
    assert_string_equal(first_two.keys[0], "su");
    assert_string_equal(first_two.keys[1], "sub:a");
}

static void test_kv_delete_range(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    const char *keys[] = {"h:001", "h:002", "h:003", "h:010", "i:000"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(store_set(store, "range", keys[i], "v", 1), 0);
    assert_int_equal(store_delete_range(store, "range", "h:001", "h:010"), 3);
    struct visited left = {0};
    assert_int_equal(store_list(store, "range", "", visit_key, &left), 0);
    assert_int_equal(left.count, 2);
    assert_string_equal(left.keys[0], "h:010");
    assert_string_equal(left.keys[1], "i:000");
}

static void test_transactions(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    char *value = NULL;
    assert_int_equal(store_begin(store, STORE_UNSYNCED), 0);
    assert_int_equal(store_begin(store, STORE_UNSYNCED), -1); /* not nested */
    assert_int_equal(store_set(store, "tx", "a", "1", 1), 0);
    assert_int_equal(store_inbox_add(store, 5, 1, "{}", 1), 0);
    store_rollback(store);
    assert_int_equal(store_get(store, "tx", "a", &value, NULL), 1);
    assert_int_equal(store_inbox_count(store), 0);
    assert_int_equal(store_begin(store, STORE_SYNCED), 0);
    assert_int_equal(store_set(store, "tx", "a", "2", 1), 0);
    assert_int_equal(store_inbox_add(store, 6, 1, "{}", 1), 0);
    assert_int_equal(store_commit(store), 0);
    assert_bytes(store, "tx", "a", "2", 1);
    assert_int_equal(store_inbox_count(store), 1);
    assert_int_equal(store_commit(store), -1); /* none open */
    assert_int_equal(store_begin(store, STORE_UNSYNCED), 0);
    assert_int_equal(store_set(store, "tx", "b", "3", 1), 0);
    assert_int_equal(store_commit(store), 0);
    assert_bytes(store, "tx", "b", "3", 1);
}

struct inbox_seen {
    int64_t ids[8];
    int crashes[8];
    char plugins[8][16];
    char payloads[8][32];
    int64_t arrivals[8];
    size_t count;
};

static int visit_inbox(const struct inbox_row *row, void *context)
{
    struct inbox_seen *seen = context;
    seen->ids[seen->count] = row->update_id;
    seen->crashes[seen->count] = row->crashes;
    seen->arrivals[seen->count] = row->arrival;
    snprintf(seen->plugins[seen->count], sizeof seen->plugins[0], "%s", row->crash_plugin);
    snprintf(seen->payloads[seen->count], sizeof seen->payloads[0], "%s", row->payload);
    seen->count++;
    return 0;
}

static void test_inbox(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    assert_int_equal(store_inbox_add(store, 9000000000LL, -100123, "{\"text\":\"b\"}", 2), 0);
    assert_int_equal(store_inbox_add(store, 7, 42, "{\"text\":\"a \xc3\xa9\"}", 1), 0);
    assert_int_equal(store_inbox_add(store, 7, 42, "{\"text\":\"again\"}", 3), 1);
    assert_int_equal(store_inbox_count_crash(store, 7, "crasher"), 0);
    assert_int_equal(store_inbox_count_crash(store, 7, "crasher"), 0);
    assert_int_equal(store_inbox_count(store), 2);
    struct inbox_seen seen = {0};
    assert_int_equal(store_inbox_list(store, visit_inbox, &seen), 0);
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.ids[0], 7); /* arrival order, not id order */
    assert_int_equal(seen.crashes[0], 2);
    assert_string_equal(seen.plugins[0], "crasher");
    assert_string_equal(seen.payloads[0], "{\"text\":\"a \xc3\xa9\"}");
    assert_int_equal(seen.ids[1], 9000000000LL);
    assert_int_equal(seen.crashes[1], 0);
    /* a flooding chat's load: by key, in the order asked, missing ids skipped */
    assert_int_equal(store_inbox_add(store, 11, 42, "{\"text\":\"c\"}", 4), 0);
    const int64_t wanted[] = {11, 8, 9000000000LL, 7};
    struct inbox_seen got = {0};
    assert_int_equal(store_inbox_get(store, wanted, 4, visit_inbox, &got), 0);
    assert_int_equal(got.count, 3);
    assert_int_equal(got.ids[0], 11);
    assert_int_equal(got.ids[1], 9000000000LL);
    assert_int_equal(got.ids[2], 7);
    assert_string_equal(got.payloads[0], "{\"text\":\"c\"}");
    assert_int_equal(got.arrivals[2], 1);
    assert_int_equal(got.crashes[2], 2);
    struct inbox_seen none = {0};
    assert_int_equal(store_inbox_get(store, wanted, 0, visit_inbox, &none), 0);
    assert_int_equal(none.count, 0);
    assert_int_equal(store_inbox_remove(store, 11), 0);
    assert_int_equal(store_inbox_remove(store, 7), 0);
    assert_int_equal(store_inbox_remove(store, 7), 0); /* a missing row is no error */
    assert_int_equal(store_inbox_count(store), 1);
}

struct outbox_seen {
    struct outbox_row rows[4];
    unsigned char files[4][8];
    char texts[4][32];
    char methods[4][32];
    size_t count;
};

static int visit_outbox(const struct outbox_row *row, void *context)
{
    struct outbox_seen *seen = context;
    seen->rows[seen->count] = *row;
    if (row->file != NULL)
        memcpy(seen->files[seen->count], row->file, row->file_length < 8 ? row->file_length : 8);
    snprintf(seen->texts[seen->count], sizeof seen->texts[0], "%s", row->text);
    snprintf(seen->methods[seen->count], sizeof seen->methods[0], "%s", row->method);
    seen->count++;
    return 0;
}

static void test_outbox(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    int64_t first = store_outbox_add(store, 7, 42, 0, "plain reply");
    assert_true(first > 0);
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 0xFF, 0, 1};
    struct outbox_row photo = {.update_id = -1, .chat_id = -100123, .thread_id = 9,
                               .text = "caption", .method = "sendPhoto",
                               .options = "{\"parse_mode\":\"HTML\"}", .file = png,
                               .file_length = sizeof png, .file_name = "chart.png",
                               .reference = 77, .target = 5};
    int64_t second = store_outbox_add_row(store, &photo);
    assert_true(second > first);
    assert_int_equal(store_outbox_count(store), 2);
    struct outbox_seen seen = {0};
    assert_int_equal(store_outbox_list(store, visit_outbox, &seen), 0);
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.rows[0].id, first);
    assert_null(seen.rows[0].file);
    assert_string_equal(seen.texts[0], "plain reply");
    assert_string_equal(seen.methods[0], "");
    assert_int_equal(seen.rows[1].id, second);
    assert_int_equal(seen.rows[1].update_id, -1);
    assert_int_equal(seen.rows[1].chat_id, -100123);
    assert_int_equal(seen.rows[1].thread_id, 9);
    assert_int_equal(seen.rows[1].file_length, sizeof png);
    assert_memory_equal(seen.files[1], png, sizeof png);
    assert_string_equal(seen.methods[1], "sendPhoto");
    assert_int_equal(seen.rows[1].reference, 77);
    assert_int_equal(seen.rows[1].target, 5);
    assert_int_equal(store_outbox_remove(store, first), 0);
    assert_int_equal(store_outbox_count(store), 1);
}

static void test_sent_records(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    int64_t message_id = 0;
    int64_t day_ms = 24LL * 3600 * 1000;
    assert_int_equal(store_sent_lookup(store, 1, &message_id), 1);
    assert_int_equal(store_sent_record(store, 1, 42, 500, 1000), 0);
    assert_int_equal(store_sent_lookup(store, 1, &message_id), 0);
    assert_int_equal(message_id, 500);
    assert_int_equal(store_sent_record(store, 1, 42, 501, 2000), 0);
    assert_int_equal(store_sent_lookup(store, 1, &message_id), 0);
    assert_int_equal(message_id, 501);
    /* every 256th record prunes what is older than a week */
    for (int64_t reference = 2; reference <= 255; reference++)
        assert_int_equal(store_sent_record(store, reference, 42, reference, 3000), 0);
    assert_int_equal(store_sent_record(store, 1000, 42, 1, 3000 + 8 * day_ms), 0);
    assert_int_equal(store_sent_lookup(store, 1, &message_id), 1);
    assert_int_equal(store_sent_lookup(store, 1000, &message_id), 0);
}

#define MARK_THREADS 6
#define MARKS_EACH 40

struct marker {
    struct store *store;
    int64_t ids[MARKS_EACH];
    int64_t first_reference;
    int failures;
};

static void *mark_parts(void *argument)
{
    struct marker *marker = argument;
    for (int i = 0; i < MARKS_EACH; i++)
        if (store_part_sent(marker->store, marker->ids[i], marker->first_reference + i, 42,
                            marker->first_reference + i + 7, 5000) != 0)
            marker->failures++;
    return NULL;
}

/* Senders marking at the same moment share commits (SQLite): every mark
 * still lands, each with its own message id, and none is lost. */
static void test_part_sent(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    struct marker markers[MARK_THREADS];
    pthread_t threads[MARK_THREADS];
    for (int t = 0; t < MARK_THREADS; t++) {
        markers[t] = (struct marker){.store = store, .first_reference = 1000 * (t + 1)};
        for (int i = 0; i < MARKS_EACH; i++)
            assert_true((markers[t].ids[i] = store_outbox_add(store, t, 42, 0, "part")) > 0);
    }
    for (int t = 0; t < MARK_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, mark_parts, &markers[t]), 0);
    for (int t = 0; t < MARK_THREADS; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(markers[t].failures, 0);
    }
    assert_int_equal(store_outbox_count(store), 0);
    for (int t = 0; t < MARK_THREADS; t++)
        for (int i = 0; i < MARKS_EACH; i++) {
            int64_t message_id = 0;
            assert_int_equal(store_sent_lookup(store, markers[t].first_reference + i, &message_id),
                             0);
            assert_int_equal(message_id, markers[t].first_reference + i + 7);
        }
    /* inside this thread's own transaction the mark is that transaction's */
    int64_t kept = store_outbox_add(store, 1, 42, 0, "kept");
    assert_true(kept > 0);
    assert_int_equal(store_begin(store, STORE_UNSYNCED), 0);
    assert_int_equal(store_part_sent(store, kept, 0, 42, 0, 5000), 0);
    store_rollback(store);
    assert_int_equal(store_outbox_count(store), 1);
}

static void test_reopen_keeps_everything(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(store_set(fixture->store, "keep", "k", "\0v", 2), 0);
    assert_int_equal(store_inbox_add(fixture->store, 11, 1, "{}", 1), 0);
    assert_true(store_outbox_add(fixture->store, 11, 1, 0, "r") > 0);
    store_close(fixture->store);
    fixture->store = open_store(fixture); /* no migration now: the schema is current */
    assert_bytes(fixture->store, "keep", "k", "\0v", 2);
    assert_int_equal(store_inbox_count(fixture->store), 1);
    assert_int_equal(store_outbox_count(fixture->store), 1);
    assert_int_equal(store_available(fixture->store), 1);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *fixture = *state;
    store_close(fixture->store);
    fixture->store = NULL;
    if (fixture->backend == STORE_BACKEND_POSTGRES) {
        pg_run("UPDATE jarvis_schema_version SET version = 99");
    } else {
        char path[128];
        snprintf(path, sizeof path, "%s/jarvis.db", fixture->directory);
        sqlite3 *database = NULL;
        assert_int_equal(sqlite3_open(path, &database), SQLITE_OK);
        assert_int_equal(sqlite3_exec(database, "PRAGMA user_version=99", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(database);
    }
    char error[512] = "";
    enum store_open_failure failure;
    assert_null(store_open_settings(&fixture->settings, error, sizeof error, &failure));
    if (strstr(error, "newer than this jarvis knows") == NULL)
        fail_msg("unexpected error: %s", error);
}

/* Two webhook hosts on one database: each lists only the rows it took; the
 * rows of one whose claim lapsed go to the other once, in arrival order
 * and renumbered from the given arrival. SQLite: one host, nothing to take. */
static struct store *open_owned(struct fixture *fixture, const char *owner)
{
    struct store_settings settings = fixture->settings;
    settings.owner = owner;
    settings.claim_ms = 60000;
    char error[512] = "";
    struct store *store = store_open_settings(&settings, error, sizeof error, NULL);
    if (store == NULL)
        fail_msg("store_open_settings: %s", error);
    return store;
}

static void test_claims_of_a_stopped_host(void **state)
{
    struct fixture *fixture = *state;
    struct store *first = open_owned(fixture, "host-a:/state");
    struct store *second = open_owned(fixture, "host-b:/state");
    assert_int_equal(store_claims_renew(first), 0);
    assert_int_equal(store_claims_renew(second), 0);
    assert_int_equal(store_inbox_add(first, 11, 42, "{\"text\":\"a\"}", 5), 0);
    assert_int_equal(store_inbox_add(first, 12, 42, "{\"text\":\"b\"}", 4), 0);
    assert_int_equal(store_inbox_add(second, 11, 42, "{\"text\":\"a\"}", 9), 1);
    assert_true(store_outbox_add(first, 11, 42, 0, "reply of a") > 0);
    int shared = fixture->backend == STORE_BACKEND_POSTGRES;
    struct inbox_seen seen = {0};
    assert_int_equal(store_inbox_list(second, visit_inbox, &seen), 0);
    assert_int_equal(seen.count, shared ? 0 : 2);
    struct outbox_seen sent = {0};
    assert_int_equal(store_outbox_list(second, visit_outbox, &sent), 0);
    assert_int_equal(sent.count, shared ? 0 : 1);
    /* host a renews: nothing is stale */
    memset(&seen, 0, sizeof seen);
    assert_int_equal(store_inbox_claim_stale(second, 1000, 100, visit_inbox, &seen), 0);
    assert_int_equal(seen.count, 0);
    if (shared)
        pg_run("UPDATE jarvis_owner SET alive_until = now() - interval '1 second'"
               " WHERE owner = 'host-a:/state'");
    memset(&sent, 0, sizeof sent);
    assert_int_equal(store_outbox_claim_stale(second, visit_outbox, &sent), 0);
    assert_int_equal(sent.count, shared ? 1 : 0);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(store_inbox_claim_stale(second, 1000, 100, visit_inbox, &seen), 0);
    assert_int_equal(seen.count, shared ? 2 : 0);
    if (shared) {
        assert_string_equal(sent.texts[0], "reply of a");
        assert_int_equal(seen.ids[0], 12); /* arrival order */
        assert_int_equal(seen.arrivals[0], 1001);
        assert_int_equal(seen.ids[1], 11);
        assert_int_equal(seen.arrivals[1], 1002);
        /* taken once: b owns them now, a lists none, a second claim finds none */
        memset(&seen, 0, sizeof seen);
        assert_int_equal(store_inbox_claim_stale(second, 2000, 100, visit_inbox, &seen), 0);
        assert_int_equal(seen.count, 0);
        assert_int_equal(store_inbox_list(first, visit_inbox, &seen), 0);
        assert_int_equal(seen.count, 0);
        assert_int_equal(store_inbox_list(second, visit_inbox, &seen), 0);
        assert_int_equal(seen.count, 2);
    }
    store_close(first);
    store_close(second);
}

/* A version 1 database (before the owners) with rows in it: version 2
 * adds the columns and jarvis_owner and keeps the rows, a polling
 * holder's (owner ''), which a webhook host may take over. */
static void test_migration_from_version_1(void **state)
{
    struct fixture *fixture = *state;
    store_close(fixture->store);
    fixture->store = NULL;
    pg_run("DROP TABLE jarvis_owner; ALTER TABLE jarvis_inbox DROP COLUMN owner;"
           " ALTER TABLE jarvis_outbox DROP COLUMN owner;"
           " UPDATE jarvis_schema_version SET version = 1;"
           " INSERT INTO jarvis_inbox (update_id, chat_id, payload, arrival)"
           " VALUES (21, 42, '{}', 1);"
           " INSERT INTO jarvis_outbox (update_id, chat_id, thread_id, text)"
           " VALUES (21, 42, 0, 'old reply')");
    fixture->store = open_store(fixture);
    assert_int_equal(store_inbox_count(fixture->store), 1);
    struct store *webhook = open_owned(fixture, "host-a:/state");
    struct outbox_seen sent = {0};
    assert_int_equal(store_outbox_claim_stale(webhook, visit_outbox, &sent), 0);
    assert_int_equal(sent.count, 1);
    assert_string_equal(sent.texts[0], "old reply");
    struct inbox_seen seen = {0};
    assert_int_equal(store_inbox_claim_stale(webhook, 100, 10, visit_inbox, &seen), 0);
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.ids[0], 21);
    store_close(webhook);
}

static void test_bad_dsn_names_no_password(void **state)
{
    (void)state;
    struct store_settings settings = {
        .backend = STORE_BACKEND_POSTGRES,
        .dsn = "host=127.0.0.1 port=1 user=bot password=hunter2hunter2 connect_timeout=2"};
    char error[512] = "";
    enum store_open_failure failure;
    assert_null(store_open_settings(&settings, error, sizeof error, &failure));
    assert_int_equal(failure, STORE_OPEN_UNUSABLE);
    assert_non_null(strstr(error, "127.0.0.1:1"));
    assert_null(strstr(error, "hunter2"));
    settings.dsn = "host=127.0.0.1 password=first secondhalf";
    assert_null(store_open_settings(&settings, error, sizeof error, &failure));
    assert_non_null(strstr(error, "[state] dsn"));
    assert_null(strstr(error, "secondhalf"));
}

static long pg_count(const char *sql)
{
    PGconn *connection = PQconnectdb(pg_dsn());
    assert_int_equal(PQstatus(connection), CONNECTION_OK);
    PGresult *result = PQexec(connection, sql);
    if (PQresultStatus(result) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(connection));
    long count = atol(PQgetvalue(result, 0, 0));
    PQclear(result);
    PQfinish(connection);
    return count;
}

/* store_fence: pipeline commits go through while the lease row has our
 * generation; once another holder's claim bumped it, the next one is
 * refused (nothing of it lands), and the store refuses everything after. */
static void test_fenced_commits(void **state)
{
    struct fixture *fixture = *state;
    struct store *store = fixture->store;
    pg_run("DROP TABLE IF EXISTS jarvis_lease");
    pg_run("CREATE TABLE jarvis_lease (bot_id bigint PRIMARY KEY, hostname text NOT NULL,"
           " pid integer NOT NULL, backend_pid integer NOT NULL, since timestamptz NOT NULL,"
           " renewed_at timestamptz NOT NULL, generation bigint NOT NULL DEFAULT 0)");
    pg_run("INSERT INTO jarvis_lease VALUES (5, 'h', 1, 1, now(), now(), 3)");
    store_fence(store, 5, 3);
    assert_int_equal(store_fenced(store), 0);
    assert_int_equal(store_inbox_add(store, 1, 42, "{}", 1), 0);
    assert_int_equal(store_begin(store, STORE_SYNCED), 0);
    assert_int_equal(store_inbox_add(store, 2, 42, "{}", 2), 0);
    assert_int_equal(store_set(store, "core", "offset", "3", 1), 0);
    assert_int_equal(store_commit(store), 0);
    int64_t id = store_outbox_add(store, 1, 42, 0, "reply");
    assert_true(id > 0);
    assert_int_equal(store_outbox_remove(store, id), 0);
    int64_t kept = store_outbox_add(store, 1, 42, 0, "waiting reply");
    assert_true(kept > 0);
    assert_int_equal(store_inbox_count(store), 2);
    /* a second process of the same tenure, for the transaction's refusal */
    struct store *other = open_store(fixture);
    store_fence(other, 5, 3);
    /* a standby took over: a new generation */
    pg_run("UPDATE jarvis_lease SET generation = 4");
    assert_int_equal(store_outbox_remove(store, kept), -1); /* the one-statement sent mark */
    assert_int_equal(store_fenced(store), 1);
    assert_int_equal(store_available(store), 0);
    assert_int_equal(store_inbox_add(store, 3, 42, "{}", 3), -1);
    assert_int_equal(store_begin(other, STORE_UNSYNCED), 0);
    assert_true(store_outbox_add(other, 2, 42, 0, "late reply") > 0);
    assert_int_equal(store_inbox_remove(other, 2), 0);
    assert_int_equal(store_commit(other), -1);
    assert_int_equal(store_fenced(other), 1);
    store_close(other);
    assert_int_equal(pg_count("SELECT count(*) FROM jarvis_outbox"), 1);
    assert_int_equal(pg_count("SELECT count(*) FROM jarvis_inbox"), 2);
    /* the refused transaction is not left open on the server */
    assert_int_equal(pg_count("SELECT count(*) FROM pg_stat_activity WHERE state LIKE"
                              " 'idle in transaction%' AND datname = current_database()"),
                     0);
    pg_run("DROP TABLE jarvis_lease");
}

#define BOTH(name)                                                                         \
    cmocka_unit_test_setup_teardown(name, set_up_sqlite, tear_down)

#define POSTGRES(name) cmocka_unit_test_setup_teardown(name, set_up_postgres, tear_down)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {
        BOTH(test_kv_set_get_delete),  BOTH(test_kv_binary_values),
        BOTH(test_kv_list_in_byte_order), BOTH(test_kv_delete_range),
        BOTH(test_transactions),       BOTH(test_inbox),
        BOTH(test_outbox),             BOTH(test_sent_records), BOTH(test_part_sent),
        BOTH(test_reopen_keeps_everything), BOTH(test_claims_of_a_stopped_host),
        BOTH(test_newer_schema_refused), cmocka_unit_test(test_bad_dsn_names_no_password),
    };
    const struct CMUnitTest postgres_tests[] = {
        POSTGRES(test_kv_set_get_delete),  POSTGRES(test_kv_binary_values),
        POSTGRES(test_kv_list_in_byte_order), POSTGRES(test_kv_delete_range),
        POSTGRES(test_transactions),       POSTGRES(test_inbox),
        POSTGRES(test_outbox),             POSTGRES(test_sent_records), POSTGRES(test_part_sent),
        POSTGRES(test_reopen_keeps_everything), POSTGRES(test_claims_of_a_stopped_host),
        POSTGRES(test_migration_from_version_1), POSTGRES(test_fenced_commits),
        POSTGRES(test_newer_schema_refused),
    };
    int failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
    if (pg_dsn() != NULL)
        failed += cmocka_run_group_tests_name("postgres", postgres_tests, NULL, NULL);
    else
        printf("postgres: JARVIS_TEST_PG_DSN not set; test_postgres_store.py runs this group\n");
    return failed;
}
