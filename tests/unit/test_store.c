/* Unit tests for core/store.c: set/get/delete, prefix listing in byte order
 * with early stop and 0xFF prefixes, binary values, persistence, the 0700
 * state directory, concurrent writers, re-entrant visitors, open errors. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/log.h"
#include "state/store.h"

struct fixture {
    char directory[64];
    char state_dir[128];
    struct store *store;
};

static int remove_tree(const char *path)
{
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", path);
    return system(command);
}

static int set_up(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis_test_store.XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    snprintf(fixture->state_dir, sizeof fixture->state_dir, "%s/a/b/state", fixture->directory);
    char error[256] = "";
    fixture->store = store_open(fixture->state_dir, error, sizeof error);
    if (fixture->store == NULL)
        fail_msg("store_open: %s", error);
    *state = fixture;
    return 0;
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    store_close(fixture->store);
    remove_tree(fixture->directory);
    free(fixture);
    return 0;
}

static void assert_value(struct store *store, const char *space, const char *key,
                         const char *expected)
{
    char *value = NULL;
    size_t length = 0;
    assert_int_equal(store_get(store, space, key, &value, &length), 0);
    assert_int_equal(length, strlen(expected));
    assert_string_equal(value, expected);
    free(value);
}

static void test_set_get_overwrite(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(store_set(fixture->store, "core", "offset", "42", 2), 0);
    assert_value(fixture->store, "core", "offset", "42");
    assert_int_equal(store_set(fixture->store, "core", "offset", "1000", 4), 0);
    assert_value(fixture->store, "core", "offset", "1000");
}

static void test_get_absent(void **state)
{
    struct fixture *fixture = *state;
    char *value = (char *)"untouched";
    size_t length = 99;
    assert_int_equal(store_get(fixture->store, "core", "nothing", &value, &length), 1);
    assert_null(value);
    assert_int_equal(length, 0);
}

static void test_spaces_are_separate(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(store_set(fixture->store, "alpha", "key", "a", 1), 0);
    assert_int_equal(store_set(fixture->store, "beta", "key", "b", 1), 0);
    assert_value(fixture->store, "alpha", "key", "a");
    assert_value(fixture->store, "beta", "key", "b");
    assert_int_equal(store_delete(fixture->store, "alpha", "key"), 0);
    assert_value(fixture->store, "beta", "key", "b");
}

static void test_delete(void **state)
{
    struct fixture *fixture = *state;
    char *value = NULL;
    assert_int_equal(store_set(fixture->store, "s", "k", "v", 1), 0);
    assert_int_equal(store_delete(fixture->store, "s", "k"), 0);
    assert_int_equal(store_get(fixture->store, "s", "k", &value, NULL), 1);
    assert_int_equal(store_delete(fixture->store, "s", "k"), 1);
}

/* [from, to) in byte order, in one space only; the count comes back. */
static void test_delete_range(void **state)
{
    struct fixture *fixture = *state;
    static const char *const keys[] = {"r.0001", "r.0002", "r.0003", "r.0010", "r.", "s.0001"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(store_set(fixture->store, "s", keys[i], "v", 1), 0);
    assert_int_equal(store_set(fixture->store, "other", "r.0001", "v", 1), 0);
    assert_int_equal(store_delete_range(fixture->store, "s", "r.0001", "r.0003"), 2);
    char *value = NULL;
    assert_int_equal(store_get(fixture->store, "s", "r.0001", &value, NULL), 1);
    assert_int_equal(store_get(fixture->store, "s", "r.0002", &value, NULL), 1);
    assert_value(fixture->store, "s", "r.0003", "v");
    assert_value(fixture->store, "s", "r.0010", "v");
    assert_value(fixture->store, "s", "r.", "v");
    assert_value(fixture->store, "s", "s.0001", "v");
    assert_value(fixture->store, "other", "r.0001", "v");
    assert_int_equal(store_delete_range(fixture->store, "s", "r.0004", "r.0005"), 0);
    assert_int_equal(store_delete_range(fixture->store, "s", "r.", "r.9999"), 3);
    assert_int_equal(store_delete_range(NULL, "s", "a", "b"), -1);
    assert_int_equal(store_delete_range(fixture->store, "s", "a", NULL), -1);
}

static void test_binary_and_empty_values(void **state)
{
    struct fixture *fixture = *state;
    const unsigned char binary[] = {0x00, 0xFF, 0x01, 0x00, 0x80, 'x'};
    assert_int_equal(store_set(fixture->store, "s", "bin", binary, sizeof binary), 0);
    char *value = NULL;
    size_t length = 0;
    assert_int_equal(store_get(fixture->store, "s", "bin", &value, &length), 0);
    assert_int_equal(length, sizeof binary);
    assert_memory_equal(value, binary, sizeof binary);
    assert_int_equal(value[length], '\0');
    free(value);

    assert_int_equal(store_set(fixture->store, "s", "empty", NULL, 0), 0);
    assert_int_equal(store_get(fixture->store, "s", "empty", &value, &length), 0);
    assert_int_equal(length, 0);
    assert_string_equal(value, "");
    free(value);
}

struct collected {
    char keys[32][32];
    char values[32][32];
    size_t count;
    size_t stop_after; /* 0: never stop */
};

static int collect(const char *key, const void *value, size_t value_length, void *user_data)
{
    struct collected *collected = user_data;
    assert_true(collected->count < 32);
    snprintf(collected->keys[collected->count], 32, "%s", key);
    snprintf(collected->values[collected->count], 32, "%.*s", (int)value_length,
             (const char *)value);
    collected->count++;
    return collected->stop_after != 0 && collected->count >= collected->stop_after;
}

static void put(struct store *store, const char *space, const char *key)
{
    char value[64];
    snprintf(value, sizeof value, "v:%s", key);
    assert_int_equal(store_set(store, space, key, value, strlen(value)), 0);
}

static void test_list_prefix_in_byte_order(void **state)
{
    struct fixture *fixture = *state;
    const char *keys[] = {"sub:20", "sub:3", "sub:100", "sub;x", "su", "sub:", "Sub:1",
                          "sub:\xC3\xA9", "sub:Z", "other"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put(fixture->store, "p", keys[i]);
    put(fixture->store, "q", "sub:1");

    struct collected collected = {0};
    assert_int_equal(store_list(fixture->store, "p", "sub:", collect, &collected), 0);
    const char *expected[] = {"sub:", "sub:100", "sub:20", "sub:3", "sub:Z", "sub:\xC3\xA9"};
    assert_int_equal(collected.count, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(collected.keys[i], expected[i]);
        char value[64];
        snprintf(value, sizeof value, "v:%s", expected[i]);
        assert_string_equal(collected.values[i], value);
    }
}

static void test_list_everything_and_early_stop(void **state)
{
    struct fixture *fixture = *state;
    put(fixture->store, "p", "c");
    put(fixture->store, "p", "a");
    put(fixture->store, "p", "b");
    struct collected all = {0};
    assert_int_equal(store_list(fixture->store, "p", "", collect, &all), 0);
    assert_int_equal(all.count, 3);
    assert_string_equal(all.keys[0], "a");
    assert_string_equal(all.keys[2], "c");

    struct collected first_two = {.stop_after = 2};
    assert_int_equal(store_list(fixture->store, "p", NULL, collect, &first_two), 0);
    assert_int_equal(first_two.count, 2);
    assert_string_equal(first_two.keys[1], "b");

    struct collected none = {0};
    assert_int_equal(store_list(fixture->store, "p", "zzz", collect, &none), 0);
    assert_int_equal(none.count, 0);
}

static void test_list_prefix_ending_in_0xff(void **state)
{
    struct fixture *fixture = *state;
    put(fixture->store, "p", "a\xFF");
    put(fixture->store, "p", "a\xFF\xFF" "z");
    put(fixture->store, "p", "a\xFF\x01");
    put(fixture->store, "p", "b");
    put(fixture->store, "p", "a");
    struct collected collected = {0};
    assert_int_equal(store_list(fixture->store, "p", "a\xFF", collect, &collected), 0);
    assert_int_equal(collected.count, 3);
    assert_string_equal(collected.keys[0], "a\xFF");
    assert_string_equal(collected.keys[1], "a\xFF\x01");
    assert_string_equal(collected.keys[2], "a\xFF\xFF" "z");

    struct collected all_ff = {0};
    put(fixture->store, "p", "\xFF\xFF");
    assert_int_equal(store_list(fixture->store, "p", "\xFF", collect, &all_ff), 0);
    assert_int_equal(all_ff.count, 1);
    assert_string_equal(all_ff.keys[0], "\xFF\xFF");
}

/* Walks the plan of the store's range query: it must search the primary key,
 * neither scan the table nor sort in a temporary b-tree. */
static void test_list_uses_the_primary_key_index(void **state)
{
    struct fixture *fixture = *state;
    char path[200];
    snprintf(path, sizeof path, "%s/jarvis.db", fixture->state_dir);
    sqlite3 *database = NULL;
    assert_int_equal(sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *statement = NULL;
    assert_int_equal(sqlite3_prepare_v2(database,
                                        "EXPLAIN QUERY PLAN SELECT key, value FROM kv WHERE "
                                        "space = ?1 AND key >= ?2 AND key < ?3 ORDER BY key",
                                        -1, &statement, NULL),
                     SQLITE_OK);
    char plan[512] = "";
    while (sqlite3_step(statement) == SQLITE_ROW) {
        size_t used = strlen(plan);
        snprintf(plan + used, sizeof plan - used, "%s;", sqlite3_column_text(statement, 3));
    }
    sqlite3_finalize(statement);
    sqlite3_close(database);
    if (strstr(plan, "SEARCH kv USING PRIMARY KEY (space=? AND key>? AND key<?)") == NULL)
        fail_msg("plan: %s", plan);
    assert_null(strstr(plan, "TEMP B-TREE"));
}

static int write_during_visit(const char *key, const void *value, size_t value_length,
                              void *user_data)
{
    (void)value;
    (void)value_length;
    struct store *store = user_data;
    char copy_key[64];
    snprintf(copy_key, sizeof copy_key, "copy-%s", key);
    assert_int_equal(store_set(store, "other", copy_key, "x", 1), 0);
    struct collected inner = {0};
    assert_int_equal(store_list(store, "r", "", collect, &inner), 0);
    assert_int_equal(inner.count, 2);
    return 0;
}

static void test_visitor_may_use_the_store(void **state)
{
    struct fixture *fixture = *state;
    put(fixture->store, "r", "one");
    put(fixture->store, "r", "two");
    assert_int_equal(store_list(fixture->store, "r", "", write_during_visit, fixture->store), 0);
    assert_value(fixture->store, "other", "copy-one", "x");
    assert_value(fixture->store, "other", "copy-two", "x");
}

static void test_persists_across_reopen(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(store_set(fixture->store, "core", "offset", "777", 3), 0);
    store_close(fixture->store);
    char error[256] = "";
    fixture->store = store_open(fixture->state_dir, error, sizeof error);
    assert_non_null(fixture->store);
    assert_value(fixture->store, "core", "offset", "777");
}

static void test_state_dir_created_private(void **state)
{
    struct fixture *fixture = *state;
    struct stat info;
    assert_int_equal(stat(fixture->state_dir, &info), 0);
    assert_true(S_ISDIR(info.st_mode));
    assert_int_equal(info.st_mode & 0777, 0700);
    char parent[200];
    snprintf(parent, sizeof parent, "%s/a", fixture->directory);
    assert_int_equal(stat(parent, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0700);
    char database[200];
    snprintf(database, sizeof database, "%s/jarvis.db", fixture->state_dir);
    assert_int_equal(stat(database, &info), 0);
    assert_int_equal(info.st_mode & 0077, 0);
}

static void test_wal_mode_files(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(store_set(fixture->store, "s", "k", "v", 1), 0);
    char wal[200];
    snprintf(wal, sizeof wal, "%s/jarvis.db-wal", fixture->state_dir);
    struct stat info;
    assert_int_equal(stat(wal, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
}

static void test_open_errors_name_the_path(void **state)
{
    struct fixture *fixture = *state;
    char file_path[200];
    snprintf(file_path, sizeof file_path, "%s/plain-file", fixture->directory);
    FILE *file = fopen(file_path, "w");
    assert_non_null(file);
    fclose(file);

    char error[256] = "";
    assert_null(store_open(file_path, error, sizeof error));
    assert_non_null(strstr(error, file_path));
    assert_non_null(strstr(error, "Not a directory"));
    assert_null(strchr(error, '\n'));

    char below_file[220];
    snprintf(below_file, sizeof below_file, "%s/sub", file_path);
    assert_null(store_open(below_file, error, sizeof error));
    assert_non_null(strstr(error, below_file));

    /* a database file that is not a database */
    char bad_state[200];
    snprintf(bad_state, sizeof bad_state, "%s/bad", fixture->directory);
    assert_int_equal(mkdir(bad_state, 0700), 0);
    char bad_database[220];
    snprintf(bad_database, sizeof bad_database, "%s/jarvis.db", bad_state);
    file = fopen(bad_database, "w");
    assert_non_null(file);
    fputs("this is not an sqlite database, just some text that is long enough", file);
    fclose(file);
    assert_null(store_open(bad_state, error, sizeof error));
    assert_non_null(strstr(error, bad_database));
    assert_non_null(strstr(error, "not a database"));
}

#define WRITER_THREADS 4
#define WRITES_PER_THREAD 50

struct writer {
    struct store *store;
    int number;
    int failures;
};

static void *write_keys(void *argument)
{
    struct writer *writer = argument;
    for (int i = 0; i < WRITES_PER_THREAD; i++) {
        char key[32];
        char value[32];
        snprintf(key, sizeof key, "t%d:%03d", writer->number, i);
        snprintf(value, sizeof value, "value %d %d", writer->number, i);
        if (store_set(writer->store, "threads", key, value, strlen(value)) != 0)
            writer->failures++;
        char *read_back = NULL;
        if (store_get(writer->store, "threads", key, &read_back, NULL) != 0 ||
            strcmp(read_back, value) != 0)
            writer->failures++;
        free(read_back);
    }
    return NULL;
}

static int count_keys(const char *key, const void *value, size_t value_length, void *user_data)
{
    (void)key;
    (void)value;
    (void)value_length;
    (*(size_t *)user_data)++;
    return 0;
}

static void test_concurrent_writers(void **state)
{
    struct fixture *fixture = *state;
    pthread_t threads[WRITER_THREADS];
    struct writer writers[WRITER_THREADS];
    for (int i = 0; i < WRITER_THREADS; i++) {
        writers[i] = (struct writer){.store = fixture->store, .number = i};
        assert_int_equal(pthread_create(&threads[i], NULL, write_keys, &writers[i]), 0);
    }
    for (int i = 0; i < WRITER_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(writers[i].failures, 0);
    }
    size_t count = 0;
    assert_int_equal(store_list(fixture->store, "threads", "t", count_keys, &count), 0);
    assert_int_equal(count, WRITER_THREADS * WRITES_PER_THREAD);
    assert_value(fixture->store, "threads", "t3:049", "value 3 49");
}

static void test_second_connection_sees_committed_data(void **state)
{
    struct fixture *fixture = *state;
    char error[256] = "";
    struct store *second = store_open(fixture->state_dir, error, sizeof error);
    assert_non_null(second);
    assert_int_equal(store_set(fixture->store, "core", "offset", "5", 1), 0);
    assert_value(second, "core", "offset", "5");
    assert_int_equal(store_set(second, "core", "offset", "6", 1), 0);
    assert_value(fixture->store, "core", "offset", "6");
    store_close(second);
}

static void test_bad_arguments(void **state)
{
    struct fixture *fixture = *state;
    char *value = NULL;
    assert_int_equal(store_set(fixture->store, NULL, "k", "v", 1), -1);
    assert_int_equal(store_set(fixture->store, "s", "k", NULL, 3), -1);
    assert_int_equal(store_get(fixture->store, "s", NULL, &value, NULL), -1);
    assert_int_equal(store_delete(NULL, "s", "k"), -1);
    assert_int_equal(store_list(fixture->store, "s", "", NULL, NULL), -1);
    char error[64] = "";
    assert_null(store_open("", error, sizeof error));
    assert_true(strlen(error) > 0);
}

int main(void)
{
    log_set_level(LOG_ERROR);
#define TEST(name) cmocka_unit_test_setup_teardown(name, set_up, tear_down)
    const struct CMUnitTest tests[] = {
        TEST(test_set_get_overwrite),
        TEST(test_get_absent),
        TEST(test_spaces_are_separate),
        TEST(test_delete),
        TEST(test_delete_range),
        TEST(test_binary_and_empty_values),
        TEST(test_list_prefix_in_byte_order),
        TEST(test_list_everything_and_early_stop),
        TEST(test_list_prefix_ending_in_0xff),
        TEST(test_list_uses_the_primary_key_index),
        TEST(test_visitor_may_use_the_store),
        TEST(test_persists_across_reopen),
        TEST(test_state_dir_created_private),
        TEST(test_wal_mode_files),
        TEST(test_open_errors_name_the_path),
        TEST(test_concurrent_writers),
        TEST(test_second_connection_sees_committed_data),
        TEST(test_bad_arguments),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
