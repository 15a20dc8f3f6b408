/* Unit tests for the journal in core/telegram_updates.c, on a real store:
 * attempts and done marks, the offset as the done prefix, forgetting what
 * Telegram confirmed (records deleted, unfinished ones kept), and the
 * clean-up of records a crash left below the persisted offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "store.h"
#include "telegram_updates.h"

#define SPACE "core"

struct fixture {
    char directory[64];
    struct store *store;
};

static int set_up(void **state)
{
    struct fixture *fixture = calloc(1, sizeof *fixture);
    assert_non_null(fixture);
    snprintf(fixture->directory, sizeof fixture->directory, "/tmp/jarvis_test_journal.XXXXXX");
    assert_non_null(mkdtemp(fixture->directory));
    char error[256] = "";
    fixture->store = store_open(fixture->directory, error, sizeof error);
    if (fixture->store == NULL)
        fail_msg("store_open: %s", error);
    *state = fixture;
    return 0;
}

static int tear_down(void **state)
{
    struct fixture *fixture = *state;
    store_close(fixture->store);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", fixture->directory);
    assert_int_equal(system(command), 0);
    free(fixture);
    return 0;
}

static int count_key(const char *key, const void *value, size_t value_length, void *user_data)
{
    (void)key;
    (void)value;
    (void)value_length;
    (*(int *)user_data)++;
    return 0;
}

static int record_count(struct store *store)
{
    int count = 0;
    assert_int_equal(store_list(store, SPACE, "telegram.update.", count_key, &count), 0);
    return count;
}

static void record_key(char *key, size_t size, int64_t update_id)
{
    snprintf(key, size, "telegram.update.%019lld", (long long)update_id);
}

static void begin_and_record(struct update_journal *journal, int64_t update_id)
{
    int attempt = 0;
    assert_int_equal(update_journal_begin(journal, update_id, &attempt), JOURNAL_DISPATCH);
    assert_int_equal(attempt, 1);
    update_journal_record_attempt(journal, update_id, attempt);
}

static void test_offset_follows_the_done_prefix_and_forget_deletes(void **state)
{
    struct fixture *fixture = *state;
    struct update_journal *journal = update_journal_open(fixture->store);
    assert_non_null(journal);
    assert_int_equal(update_journal_offset(journal), 0);
    for (int64_t id = 10; id <= 13; id++)
        begin_and_record(journal, id);
    assert_int_equal(record_count(fixture->store), 4);
    update_journal_done(journal, 10);
    update_journal_done(journal, 12);
    assert_int_equal(update_journal_offset(journal), 11); /* 11 is still running */
    assert_int_equal(update_journal_in_flight(journal), 2);
    update_journal_done(journal, 11);
    int64_t offset = update_journal_offset(journal);
    assert_int_equal(offset, 13);
    assert_int_equal(update_journal_persist_offset(journal, offset), 0);
    update_journal_forget_below(journal, offset);
    /* 10..12 confirmed and gone; 13 keeps its attempt record */
    assert_int_equal(record_count(fixture->store), 1);
    char key[64];
    record_key(key, sizeof key, 13);
    char *value = NULL;
    assert_int_equal(store_get(fixture->store, SPACE, key, &value, NULL), 0);
    assert_string_equal(value, "attempts 1");
    free(value);
    int attempt = 0;
    assert_int_equal(update_journal_begin(journal, 12, &attempt), JOURNAL_KNOWN);
    assert_int_equal(update_journal_begin(journal, 13, &attempt), JOURNAL_KNOWN);
    update_journal_close(journal);
}

/* An unfinished update below the offset Telegram confirmed (not what the
 * transport sends, but the journal must not lose its count if it happens). */
static void test_forget_keeps_an_unfinished_record(void **state)
{
    struct fixture *fixture = *state;
    struct update_journal *journal = update_journal_open(fixture->store);
    begin_and_record(journal, 5);
    begin_and_record(journal, 6);
    update_journal_done(journal, 5);
    update_journal_forget_below(journal, 7);
    char key[64];
    record_key(key, sizeof key, 6);
    char *value = NULL;
    assert_int_equal(store_get(fixture->store, SPACE, key, &value, NULL), 0);
    free(value);
    record_key(key, sizeof key, 5);
    assert_int_equal(store_get(fixture->store, SPACE, key, &value, NULL), 1);
    assert_int_equal(update_journal_in_flight(journal), 1);
    update_journal_close(journal);
}

/* The first poll of a run, and every empty one: nothing fetched yet, so
 * nothing to forget, but the offset Telegram accepted still counts. */
static void test_forget_on_an_empty_journal(void **state)
{
    struct fixture *fixture = *state;
    struct update_journal *journal = update_journal_open(fixture->store);
    update_journal_forget_below(journal, 0);
    update_journal_forget_below(journal, 500);
    assert_int_equal(update_journal_offset(journal), 500);
    assert_int_equal(update_journal_in_flight(journal), 0);
    int attempt = 0;
    assert_int_equal(update_journal_begin(journal, 499, &attempt), JOURNAL_KNOWN);
    update_journal_close(journal);
}

/* A crash between the offset write and the deletes leaves records below
 * the offset; the next open removes them and keeps the newer ones. */
static void test_open_deletes_records_below_the_persisted_offset(void **state)
{
    struct fixture *fixture = *state;
    char key[64];
    for (int64_t id = 98; id <= 101; id++) {
        record_key(key, sizeof key, id);
        assert_int_equal(store_set(fixture->store, SPACE, key, "done", 4), 0);
    }
    assert_int_equal(store_set(fixture->store, SPACE, "telegram.offset", "100", 3), 0);
    struct update_journal *journal = update_journal_open(fixture->store);
    assert_non_null(journal);
    assert_int_equal(update_journal_offset(journal), 100);
    assert_int_equal(record_count(fixture->store), 2);
    int attempt = 0;
    assert_int_equal(update_journal_begin(journal, 99, &attempt), JOURNAL_KNOWN);
    assert_int_equal(update_journal_begin(journal, 100, &attempt), JOURNAL_ALREADY_DONE);
    update_journal_close(journal);
}

/* A start that never finished counts; the third unfinished one is poison. */
static void test_attempts_survive_a_restart_until_poison(void **state)
{
    struct fixture *fixture = *state;
    for (int run = 1; run <= UPDATE_MAX_ATTEMPTS; run++) {
        struct update_journal *journal = update_journal_open(fixture->store);
        int attempt = 0;
        assert_int_equal(update_journal_begin(journal, 42, &attempt), JOURNAL_DISPATCH);
        assert_int_equal(attempt, run);
        update_journal_record_attempt(journal, 42, attempt);
        update_journal_close(journal); /* "crash": never done */
    }
    struct update_journal *journal = update_journal_open(fixture->store);
    int attempt = 0;
    assert_int_equal(update_journal_begin(journal, 42, &attempt), JOURNAL_POISON);
    update_journal_close(journal);
}

int main(void)
{
    log_open(NULL, LOG_ERROR);
#define TEST(name) cmocka_unit_test_setup_teardown(name, set_up, tear_down)
    const struct CMUnitTest tests[] = {
        TEST(test_offset_follows_the_done_prefix_and_forget_deletes),
        TEST(test_forget_keeps_an_unfinished_record),
        TEST(test_forget_on_an_empty_journal),
        TEST(test_open_deletes_records_below_the_persisted_offset),
        TEST(test_attempts_survive_a_restart_until_poison),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
