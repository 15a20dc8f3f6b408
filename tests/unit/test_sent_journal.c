/* The sent journal on real files and a real SQLite store: marks outlive the
 * process that wrote them (a child that dies without closing anything), the
 * next open of the store folds them in before the outbox is read, a mark
 * whose row no longer matches removes nothing, a damaged or foreign file is
 * started afresh with one warning naming it, a full journal refuses, and
 * the outbox read inside a transaction (where no fold can run) still skips
 * what the journal marks sent. A journal of another database (moved aside
 * and made anew) is not believed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "state/sent_journal.h"
#include "state/store.h"
#include "state/store_group.h"
#include "state/store_pipeline.h"

static char directory[64];
static char journal_path[128];
static char log_path[128];

static int make_directory(void **state)
{
    (void)state;
    snprintf(directory, sizeof directory, "/tmp/jv_journal_XXXXXX");
    assert_non_null(mkdtemp(directory));
    snprintf(journal_path, sizeof journal_path, "%s/jarvis.db-sent", directory);
    snprintf(log_path, sizeof log_path, "%s/test.log", directory);
    assert_int_equal(log_open(log_path, LOG_INFO), 0);
    return 0;
}

static int remove_directory(void **state)
{
    (void)state;
    log_close();
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", directory);
    assert_int_equal(system(command), 0);
    return 0;
}

static char *read_log(void)
{
    static char text[8192];
    text[0] = '\0';
    FILE *file = fopen(log_path, "r");
    if (file == NULL)
        return text;
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    return text;
}

#define DATABASE_KEY 0x1234

static struct sent_journal *open_journal_of(uint64_t database_key)
{
    char error[256];
    struct sent_journal *journal =
        sent_journal_open(journal_path, database_key, error, sizeof error);
    if (journal == NULL)
        fail_msg("sent_journal_open: %s", error);
    return journal;
}

static struct sent_journal *open_journal(void)
{
    return open_journal_of(DATABASE_KEY);
}

static struct sent_mark_entry mark_of(int64_t id)
{
    return (struct sent_mark_entry){
        .outbox_id = id, .update_id = 1000 + id, .chat_id = 70, .text_length = 5};
}

static size_t pending(struct sent_journal *journal, size_t *first)
{
    return sent_journal_pending(journal, first);
}

static void test_marks_are_kept_in_order_and_folded(void **state)
{
    (void)state;
    struct sent_journal *journal = open_journal();
    size_t first = 99;
    assert_int_equal(pending(journal, &first), 0);
    assert_int_equal(first, 0);
    for (int64_t id = 1; id <= 3; id++) {
        struct sent_mark_entry mark = mark_of(id);
        assert_int_equal(sent_journal_append(journal, &mark), 0);
    }
    assert_int_equal(pending(journal, &first), 3);
    assert_int_equal(first, 0);
    assert_int_equal(sent_journal_entry(journal, 1)->outbox_id, 2);
    assert_int_equal(sent_journal_entry(journal, 1)->update_id, 1002);
    sent_journal_folded(journal, 2); /* a fold that saw only the first two */
    assert_int_equal(pending(journal, &first), 3);
    assert_int_equal(first, 2);
    sent_journal_folded(journal, 3); /* all folded: it starts over at slot 0 */
    assert_int_equal(pending(journal, &first), 0);
    assert_int_equal(first, 0);
    sent_journal_close(journal);
}

static void test_marks_outlive_the_process_that_wrote_them(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct sent_journal *journal = open_journal();
        struct sent_mark_entry mark = mark_of(7);
        sent_journal_append(journal, &mark);
        _exit(0); /* no close, no unmap by hand: as a kill -9 leaves it */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    struct sent_journal *journal = open_journal();
    size_t first = 0;
    assert_int_equal(pending(journal, &first), 1);
    assert_int_equal(sent_journal_entry(journal, first)->outbox_id, 7);
    assert_int_equal(sent_journal_entry(journal, first)->chat_id, 70);
    sent_journal_close(journal);
    assert_null(strstr(read_log(), "started afresh"));
}

static void test_a_full_journal_refuses(void **state)
{
    (void)state;
    struct sent_journal *journal = open_journal();
    size_t appended = 0;
    struct sent_mark_entry mark = mark_of(1);
    while (appended < 1000000 && sent_journal_append(journal, &mark) == 0)
        mark = mark_of((int64_t)++appended + 1);
    assert_true(appended >= 1024 && appended < 1000000); /* it holds many, and it fills */
    size_t first = 0;
    assert_int_equal(pending(journal, &first), appended);
    struct sent_mark_entry one_more = mark_of(0);
    assert_int_equal(sent_journal_append(journal, &one_more), -1);
    sent_journal_folded(journal, appended);
    assert_int_equal(sent_journal_append(journal, &one_more), 0);
    sent_journal_close(journal);
}

static void write_file(const char *bytes, size_t length)
{
    int fd = open(journal_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, length), (ssize_t)length);
    close(fd);
}

static off_t journal_size(void)
{
    struct stat status;
    assert_int_equal(stat(journal_path, &status), 0);
    return status.st_size;
}

static void test_a_foreign_file_is_started_afresh_with_one_warning(void **state)
{
    (void)state;
    /* the right size, the wrong content */
    struct sent_journal *journal = open_journal();
    sent_journal_close(journal);
    off_t size = journal_size();
    char *garbage = malloc((size_t)size);
    assert_non_null(garbage);
    memset(garbage, 'x', (size_t)size);
    write_file(garbage, (size_t)size);
    free(garbage);
    journal = open_journal();
    size_t first = 0;
    assert_int_equal(pending(journal, &first), 0);
    sent_journal_close(journal);
    const char *log = read_log();
    assert_non_null(strstr(log, journal_path));
    assert_non_null(strstr(log, "not a sent journal; started afresh"));
    /* the wrong size: started afresh at the right one */
    write_file("short", 5);
    journal = open_journal();
    assert_int_equal(pending(journal, &first), 0);
    struct sent_mark_entry mark = mark_of(1);
    assert_int_equal(sent_journal_append(journal, &mark), 0);
    sent_journal_close(journal);
    assert_int_equal(journal_size(), size);
    assert_non_null(strstr(read_log(), "5 bytes where a sent journal has"));
}

static void test_a_count_beyond_the_file_is_not_believed(void **state)
{
    (void)state;
    struct sent_journal *journal = open_journal();
    sent_journal_close(journal);
    int fd = open(journal_path, O_RDWR);
    assert_true(fd >= 0);
    uint64_t huge = UINT64_C(1) << 40;
    assert_int_equal(pwrite(fd, &huge, sizeof huge, 24), (ssize_t)sizeof huge); /* count */
    close(fd);
    journal = open_journal();
    size_t first = 0;
    assert_int_equal(pending(journal, &first), 0);
    sent_journal_close(journal);
    assert_non_null(strstr(read_log(), "its mark count is beyond its size"));
}

static void test_marks_of_another_database_are_not_believed(void **state)
{
    (void)state;
    struct sent_journal *journal = open_journal();
    struct sent_mark_entry mark = mark_of(3);
    assert_int_equal(sent_journal_append(journal, &mark), 0);
    sent_journal_close(journal);
    /* the database was moved aside and made anew: its outbox is not the
     * one these marks are of */
    journal = open_journal_of(DATABASE_KEY + 1);
    size_t first = 0;
    assert_int_equal(pending(journal, &first), 0);
    sent_journal_close(journal);
    assert_non_null(strstr(read_log(), "its marks are of another database"));
    /* and the journal is that database's now: its own marks are kept */
    journal = open_journal_of(DATABASE_KEY + 1);
    assert_int_equal(sent_journal_append(journal, &mark), 0);
    sent_journal_close(journal);
    journal = open_journal_of(DATABASE_KEY + 1);
    assert_int_equal(pending(journal, &first), 1);
    sent_journal_close(journal);
}

static void test_a_journal_that_cannot_be_made_says_where(void **state)
{
    (void)state;
    char path[192], error[256] = "";
    snprintf(path, sizeof path, "%s/missing/jarvis.db-sent", directory);
    assert_null(sent_journal_open(path, DATABASE_KEY, error, sizeof error));
    assert_non_null(strstr(error, path));
    assert_non_null(strstr(error, "cannot open"));
}

/* ---- through the store ---- */

static struct store *open_store(int journal)
{
    struct store_settings settings = {
        .backend = STORE_BACKEND_SQLITE, .state_dir = directory, .sent_journal = journal};
    char error[256];
    struct store *store = store_open_settings(&settings, error, sizeof error, NULL);
    if (store == NULL)
        fail_msg("store_open_settings: %s", error);
    return store;
}

struct outbox_ids {
    int64_t ids[8];
    int count;
};

static int collect_outbox(const struct outbox_row *row, void *context)
{
    struct outbox_ids *ids = context;
    if (ids->count < 8)
        ids->ids[ids->count++] = row->id;
    return 0;
}

static struct outbox_ids outbox_ids(struct store *store)
{
    struct outbox_ids ids = {0};
    assert_int_equal(store_outbox_list(store, collect_outbox, &ids), 0);
    return ids;
}

static void test_a_dead_senders_marks_are_folded_before_the_outbox_is_read(void **state)
{
    (void)state;
    struct store *store = open_store(1);
    int64_t first = store_outbox_add(store, 501, 70, 0, "hello");
    int64_t second = store_outbox_add(store, 502, 70, 0, "world");
    int64_t reused = store_outbox_add(store, 503, 71, 0, "other");
    assert_true(first > 0 && second > 0 && reused > 0);
    store_close(store);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct store *mine = open_store(1);
        store_part_sent_journaled(mine, first, 501, 70, strlen("hello"));
        /* a mark for that id that no longer matches the row (another part
         * given the id after a power loss): it must remove nothing */
        store_part_sent_journaled(mine, reused, 503, 71, strlen("a longer text"));
        _exit(0); /* dies with both marks unfolded */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    /* another process's view (jarvis status): no journal, nothing folded */
    store = open_store(0);
    assert_int_equal(store_outbox_count(store), 3);
    store_close(store);
    store = open_store(1);
    assert_int_equal(store_journal_pending(store), 0); /* folded at the open */
    struct outbox_ids left = outbox_ids(store);
    assert_int_equal(left.count, 2);
    assert_int_equal(left.ids[0], second);
    assert_int_equal(left.ids[1], reused);
    store_close(store);
}

static void test_the_outbox_read_in_a_transaction_skips_what_the_journal_marks(void **state)
{
    (void)state;
    struct store *store = open_store(1);
    int64_t first = store_outbox_add(store, 601, 80, 0, "one");
    int64_t second = store_outbox_add(store, 602, 80, 0, "two");
    assert_int_equal(store_part_sent_journaled(store, first, 601, 80, strlen("one")), 0);
    assert_int_equal(store_journal_pending(store), 1);
    /* counted without the marked part, and the count folds nothing */
    assert_int_equal(store_outbox_count(store), 1);
    assert_int_equal(store_journal_pending(store), 1);
    /* inside a caller's transaction no fold runs: the read filters */
    assert_int_equal(store_begin(store, STORE_UNSYNCED), 0);
    struct outbox_ids inside = outbox_ids(store);
    assert_int_equal(store_commit(store), 0);
    assert_int_equal(inside.count, 1);
    assert_int_equal(inside.ids[0], second);
    assert_int_equal(store_journal_pending(store), 1);
    /* the next commit with nothing else open folds it */
    assert_int_equal(store_group_commit(store), 2);
    assert_int_equal(store_journal_pending(store), 0);
    assert_int_equal(store_group_commit(store), 1);
    store_close(store);
    store = open_store(0);
    assert_int_equal(store_outbox_count(store), 1);
    store_close(store);
}

static void test_old_marks_are_folded_before_a_new_database_is_written(void **state)
{
    (void)state;
    struct store *store = open_store(1);
    int64_t old = store_outbox_add(store, 801, 95, 0, "old");
    store_close(store);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct store *mine = open_store(1);
        store_part_sent_journaled(mine, old, 801, 95, strlen("old"));
        _exit(0); /* dies with the mark unfolded */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    char command[256];
    snprintf(command, sizeof command, "cd %s && mv jarvis.db jarvis.db.broken && rm -f jarvis.db-wal "
             "jarvis.db-shm", directory);
    assert_int_equal(system(command), 0);
    /* the open folds the dead run's mark before anything is written, so it
     * never meets the new database's part with the same id, update, chat
     * and text (the journal's database key would refuse it too) */
    store = open_store(1);
    int64_t fresh = store_outbox_add(store, 801, 95, 0, "old");
    assert_int_equal(fresh, old);
    store_close(store);
    store = open_store(1);
    assert_int_equal(store_outbox_count(store), 1); /* the old mark removed nothing */
    store_close(store);
}

/* A journal that cannot be made costs the journal only: the store opens, says
 * so in one line naming the file, and marks go to the database as before. */
static void test_a_store_whose_journal_cannot_be_made_opens_without_one(void **state)
{
    (void)state;
    assert_int_equal(mkdir(journal_path, 0700), 0); /* a directory where the file goes */
    struct store *store = open_store(1);
    int64_t id = store_outbox_add(store, 901, 97, 0, "x");
    assert_int_equal(store_part_sent_journaled(store, id, 901, 97, 1), -1);
    assert_int_equal(store_part_sent(store, id, 0, 97, 0, 0), 0);
    assert_int_equal(store_outbox_count(store), 0);
    store_close(store);
    const char *log = read_log();
    assert_non_null(strstr(log, journal_path));
    assert_non_null(strstr(log, "sent marks are written to the database one by one instead"));
}

static void test_without_a_journal_marks_are_refused(void **state)
{
    (void)state;
    struct store *store = open_store(0);
    int64_t id = store_outbox_add(store, 701, 90, 0, "x");
    assert_int_equal(store_part_sent_journaled(store, id, 701, 90, 1), -1);
    assert_int_equal(store_outbox_count(store), 1);
    store_close(store);
    struct stat status;
    assert_int_equal(stat(journal_path, &status), -1); /* no file was made */
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, make_directory, remove_directory)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_marks_are_kept_in_order_and_folded),
        TEST(test_marks_outlive_the_process_that_wrote_them),
        TEST(test_a_full_journal_refuses),
        TEST(test_a_foreign_file_is_started_afresh_with_one_warning),
        TEST(test_a_count_beyond_the_file_is_not_believed),
        TEST(test_marks_of_another_database_are_not_believed),
        TEST(test_a_journal_that_cannot_be_made_says_where),
        TEST(test_a_dead_senders_marks_are_folded_before_the_outbox_is_read),
        TEST(test_the_outbox_read_in_a_transaction_skips_what_the_journal_marks),
        TEST(test_old_marks_are_folded_before_a_new_database_is_written),
        TEST(test_a_store_whose_journal_cannot_be_made_opens_without_one),
        TEST(test_without_a_journal_marks_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
