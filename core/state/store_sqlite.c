/* The SQLite backend: one database <state_dir>/jarvis.db in WAL mode, one
 * connection (the front serialises the calls), prepared statements cached.
 * Keys are TEXT compared bytewise (BINARY collation). Transactions group
 * writes into one commit; see store.h for what each durability level costs. */
#include "state/store_sqlite.h"

#include "base/directories.h"
#include "base/log.h"
#include "state/store_health.h"
#include "state/store_sqlite_pipeline.h"
#include "state/store_sqlite_statements.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define DATABASE_NAME "jarvis.db"

static const char CREATE_TABLE_SQL[] = "CREATE TABLE IF NOT EXISTS kv ("
                                       " space TEXT NOT NULL COLLATE BINARY,"
                                       " key TEXT NOT NULL COLLATE BINARY,"
                                       " value BLOB NOT NULL,"
                                       " PRIMARY KEY (space, key)) WITHOUT ROWID";
static const char SET_SQL[] = "INSERT INTO kv (space, key, value) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT (space, key) DO UPDATE SET value = excluded.value";
static const char GET_SQL[] = "SELECT value FROM kv WHERE space = ?1 AND key = ?2";
static const char DELETE_SQL[] = "DELETE FROM kv WHERE space = ?1 AND key = ?2";
static const char DELETE_RANGE_SQL[] = "DELETE FROM kv WHERE space = ?1 AND key >= ?2 AND key < ?3";
static const char LIST_RANGE_SQL[] = "SELECT key, value FROM kv WHERE space = ?1"
                                     " AND key >= ?2 AND key < ?3 ORDER BY key";
static const char LIST_FROM_SQL[] = "SELECT key, value FROM kv WHERE space = ?1"
                                    " AND key >= ?2 ORDER BY key";

static int enable_wal(struct sqlite_store *store, char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(store->database, "PRAGMA journal_mode=WAL", -1, &statement, NULL) !=
        SQLITE_OK) {
        snprintf(error, error_size, "%s: %s", store->path, sqlite3_errmsg(store->database));
        return -1;
    }
    int result = -1;
    if (sqlite3_step(statement) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(statement, 0);
        if (mode != NULL && strcmp(mode, "wal") == 0)
            result = 0;
        else
            snprintf(error, error_size, "%s: cannot switch to WAL mode (got '%s')", store->path,
                     mode != NULL ? mode : "");
    } else {
        snprintf(error, error_size, "%s: %s", store->path, sqlite3_errmsg(store->database));
    }
    sqlite3_finalize(statement);
    return result;
}

static int prepare_all(struct sqlite_store *store, char *error, size_t error_size)
{
    const struct sqlite_statement_slot statements[] = {
        {SET_SQL, &store->set_statement},
        {GET_SQL, &store->get_statement},
        {DELETE_SQL, &store->delete_statement},
        {DELETE_RANGE_SQL, &store->delete_range_statement},
        {LIST_RANGE_SQL, &store->list_range_statement},
        {LIST_FROM_SQL, &store->list_from_statement},
        {"BEGIN IMMEDIATE", &store->begin_statement},
        {"COMMIT", &store->commit_statement},
        {"ROLLBACK", &store->rollback_statement},
        {"SAVEPOINT unit", &store->savepoint_statement},
        {"RELEASE unit", &store->release_statement},
        {"ROLLBACK TO unit", &store->rollback_to_statement},
    };
    return sqlite_store_prepare_all(store, statements, sizeof statements / sizeof statements[0],
                                    error, error_size);
}

static int configure(struct sqlite_store *store, char *error, size_t error_size)
{
    sqlite3_busy_timeout(store->database, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(store->database, 1);
    /* A group commit carries many hot rows (inbox rows, outbox parts, sent
     * marks of a few hundred bytes), and SQLite writes each dirty page as
     * two pwrite calls: with 4 KiB pages a reply costs a quarter fewer
     * system calls than with 1 KiB ones (5,000 /echo: 59k against 79k,
     * preads 1.6k against 7k; bench/README.md). Takes effect only in a new
     * database; an existing one keeps its size (SQLite reads it from the file). */
    if (sqlite_store_execute(store, "PRAGMA page_size=4096", error, error_size) != 0)
        return -1;
    if (enable_wal(store, error, error_size) != 0)
        return -1;
    /* NORMAL in WAL mode: a commit survives any death of the process (the WAL
     * is in the kernel's page cache); only a power loss can take the last
     * commits back. Commits that must survive that too ask for
     * STORE_SYNCED, which syncs the WAL for that commit alone. */
    if (sqlite_store_execute(store, "PRAGMA synchronous=NORMAL", error, error_size) != 0)
        return -1;
    /* The hot rows (inbox, outbox, a plugin's keys) are few and recent: 512
     * KiB of page cache, not SQLite's default 2 MiB, which a long-running
     * bot otherwise fills with pages read once (a flood's inbox rows). */
    if (sqlite_store_execute(store, "PRAGMA cache_size=-512", error, error_size) != 0)
        return -1;
    if (sqlite_store_execute(store, CREATE_TABLE_SQL, error, error_size) != 0)
        return -1;
    if (sqlite_pipeline_create_tables(store, error, error_size) != 0)
        return -1;
    if (prepare_all(store, error, error_size) != 0)
        return -1;
    return sqlite_pipeline_prepare(store, error, error_size);
}

static void release(struct sqlite_store *store)
{
    sqlite_pipeline_finalize(store);
    sqlite3_finalize(store->set_statement);
    sqlite3_finalize(store->get_statement);
    sqlite3_finalize(store->delete_statement);
    sqlite3_finalize(store->delete_range_statement);
    sqlite3_finalize(store->list_range_statement);
    sqlite3_finalize(store->list_from_statement);
    sqlite3_finalize(store->begin_statement);
    sqlite3_finalize(store->commit_statement);
    sqlite3_finalize(store->rollback_statement);
    sqlite3_finalize(store->savepoint_statement);
    sqlite3_finalize(store->release_statement);
    sqlite3_finalize(store->rollback_to_statement);
    if (store->database != NULL)
        sqlite3_close(store->database);
    free(store->path);
    free(store);
}

char *store_sqlite_database_path(const char *state_dir)
{
    size_t length = strlen(state_dir) + sizeof DATABASE_NAME + 1;
    char *path = malloc(length);
    if (path != NULL)
        snprintf(path, length, "%s/%s", state_dir, DATABASE_NAME);
    return path;
}

int store_sqlite_exists(const char *state_dir)
{
    char *path = store_sqlite_database_path(state_dir);
    if (path == NULL)
        return 0;
    struct stat info;
    int exists = stat(path, &info) == 0 && S_ISREG(info.st_mode);
    free(path);
    return exists;
}

/* SQLite gives the -wal and -shm files the database file's mode, so the file
 * is created 0600 here rather than by SQLite under the process umask. */
static int create_private_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* A database that cannot be used: the open is given up before anything
 * is written, and the line says how to recover. */
static void *give_up_unusable(struct sqlite_store *store, int damaged, const char *reason,
                              char *error, size_t error_size, enum store_open_failure *failure)
{
    store_health_describe(store->path, damaged, reason, error, error_size);
    *failure = STORE_OPEN_UNUSABLE;
    release(store);
    return NULL;
}

static void *give_up_on_database(struct sqlite_store *store, char *error, size_t error_size,
                                 enum store_open_failure *failure)
{
    if (sqlite3_errcode(store->database) == SQLITE_OK && error[0] != '\0') {
        /* the store's own finding (a newer schema), not SQLite's: its line
         * already says what to do, "not an error" would hide it */
        *failure = STORE_OPEN_UNUSABLE;
        release(store);
        return NULL;
    }
    char reason[256];
    snprintf(reason, sizeof reason, "%s", sqlite3_errmsg(store->database));
    int damaged = store_health_code_is_damage(sqlite3_extended_errcode(store->database));
    return give_up_unusable(store, damaged, reason, error, error_size, failure);
}

/* Before SQLite's first use in the process (the first store opens before
 * any thread starts): no allocation statistics, whose upkeep takes a
 * global mutex on every malloc SQLite makes. Refused, harmlessly, when
 * SQLite was already initialised. */
static pthread_once_t configured_once = PTHREAD_ONCE_INIT;

static void configure_library(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void *sqlite_open(const struct store_settings *settings, char *error, size_t error_size,
                         enum store_open_failure *failure)
{
    const char *state_dir = settings->state_dir;
    if (state_dir == NULL || state_dir[0] == '\0') {
        snprintf(error, error_size, "store: no state_dir given");
        return NULL;
    }
    if (directories_make(state_dir, 0700) != 0) {
        snprintf(error, error_size, "%s: cannot create state directory: %s", state_dir,
                 strerror(errno));
        return NULL;
    }
    struct sqlite_store *store = calloc(1, sizeof *store);
    if (store == NULL || (store->path = store_sqlite_database_path(state_dir)) == NULL) {
        snprintf(error, error_size, "%s: out of memory", state_dir);
        free(store);
        return NULL;
    }
    if (create_private_file(store->path) != 0)
        return give_up_unusable(store, 0, strerror(errno), error, error_size, failure);
    /* NOMUTEX: every call on the connection, and on its statements, holds
     * the store's own mutex (store.c), so SQLite's would be a second lock
     * round on each of its ~50 internal entries an update */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    pthread_once(&configured_once, configure_library);
    if (sqlite3_open_v2(store->path, &store->database, flags, NULL) != SQLITE_OK) {
        if (store->database == NULL) {
            snprintf(error, error_size, "%s: cannot open database: out of memory", store->path);
            release(store);
            return NULL;
        }
        return give_up_on_database(store, error, error_size, failure);
    }
    /* read-only, before the WAL switch and CREATE TABLE write to the file */
    if (store_health_check(store->database, store->path, error, error_size) != 0) {
        *failure = STORE_OPEN_UNUSABLE;
        release(store);
        return NULL;
    }
    if (configure(store, error, error_size) != 0) {
        /* SQLite itself saw no error (a schema newer than this jarvis): the
         * line configure wrote says so; SQLite's "not an error" would not */
        if (sqlite3_errcode(store->database) == SQLITE_OK) {
            *failure = STORE_OPEN_UNUSABLE;
            release(store);
            return NULL;
        }
        return give_up_on_database(store, error, error_size, failure);
    }
    return store;
}

static void sqlite_close(void *connection)
{
    if (connection != NULL)
        release(connection);
}

static void log_failure(struct sqlite_store *store, const char *operation, const char *space,
                        const char *key)
{
    char what[160];
    snprintf(what, sizeof what, "%s '%s' key '%s'", operation, space, key);
    sqlite_store_write_failed(store, what);
}

static int bind_space_key(sqlite3_stmt *statement, const char *space, const char *key)
{
    if (sqlite3_bind_text(statement, 1, space, -1, SQLITE_STATIC) != SQLITE_OK)
        return -1;
    return sqlite3_bind_text(statement, 2, key, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

static int sqlite_set(void *connection, const char *space, const char *key, const void *value,
                      size_t value_length)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->set_statement;
    int result = -1;
    if (bind_space_key(statement, space, key) == 0 &&
        sqlite3_bind_blob(statement, 3, value, (int)value_length, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = 0;
    if (result != 0)
        log_failure(store, "set", space, key);
    else
        sqlite_store_write_worked(store);
    sqlite_store_finish(statement);
    return result;
}

static int copy_value(sqlite3_stmt *statement, char **value, size_t *value_length)
{
    const void *data = sqlite3_column_blob(statement, 0);
    size_t length = (size_t)sqlite3_column_bytes(statement, 0);
    char *copy = malloc(length + 1);
    if (copy == NULL)
        return -1;
    if (length > 0)
        memcpy(copy, data, length);
    copy[length] = '\0';
    *value = copy;
    if (value_length != NULL)
        *value_length = length;
    return 0;
}

static int sqlite_get(void *connection, const char *space, const char *key, char **value,
                      size_t *value_length)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->get_statement;
    int result = -1;
    if (bind_space_key(statement, space, key) == 0) {
        int step = sqlite3_step(statement);
        if (step == SQLITE_ROW)
            result = copy_value(statement, value, value_length);
        else if (step == SQLITE_DONE)
            result = 1;
    }
    if (result < 0)
        log_failure(store, "get", space, key);
    sqlite_store_finish(statement);
    return result;
}

static int sqlite_remove(void *connection, const char *space, const char *key)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->delete_statement;
    int result = -1;
    if (bind_space_key(statement, space, key) == 0 && sqlite3_step(statement) == SQLITE_DONE)
        result = sqlite3_changes(store->database) > 0 ? 0 : 1;
    if (result < 0)
        log_failure(store, "delete", space, key);
    sqlite_store_finish(statement);
    return result;
}

static long sqlite_remove_range(void *connection, const char *space, const char *from_key,
                                const char *to_key)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->delete_range_statement;
    long result = -1;
    if (bind_space_key(statement, space, from_key) == 0 &&
        sqlite3_bind_text(statement, 3, to_key, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = sqlite3_changes(store->database);
    if (result < 0)
        log_failure(store, "delete range from", space, from_key);
    sqlite_store_finish(statement);
    return result;
}

/* The cached statement, or a fresh one when a visitor re-enters store_list
 * while the cached one is still stepping. */
static sqlite3_stmt *list_statement(struct sqlite_store *store, int bounded, int *owned)
{
    sqlite3_stmt *cached = bounded ? store->list_range_statement : store->list_from_statement;
    *owned = 0;
    if (!sqlite3_stmt_busy(cached))
        return cached;
    sqlite3_stmt *fresh = NULL;
    if (sqlite3_prepare_v2(store->database, bounded ? LIST_RANGE_SQL : LIST_FROM_SQL, -1, &fresh,
                           NULL) != SQLITE_OK)
        return NULL;
    *owned = 1;
    return fresh;
}

static int visit_rows(sqlite3_stmt *statement, const char *prefix, store_kv_visit visit,
                      void *user_data)
{
    size_t prefix_length = strlen(prefix);
    for (;;) {
        int step = sqlite3_step(statement);
        if (step == SQLITE_DONE)
            return 0;
        if (step != SQLITE_ROW)
            return -1;
        const char *key = (const char *)sqlite3_column_text(statement, 0);
        if (key == NULL || strncmp(key, prefix, prefix_length) != 0)
            return 0; /* past the prefix range (keys come in order) */
        const void *value = sqlite3_column_blob(statement, 1);
        size_t value_length = (size_t)sqlite3_column_bytes(statement, 1);
        if (visit(key, value != NULL ? value : "", value_length, user_data) != 0)
            return 0;
    }
}

static int sqlite_list(void *connection, const char *space, const char *prefix, const char *upper,
                       store_kv_visit visit, void *user_data)
{
    struct sqlite_store *store = connection;
    int bounded = upper != NULL;
    int owned = 0;
    sqlite3_stmt *statement = list_statement(store, bounded, &owned);
    int result = -1;
    if (statement != NULL &&
        sqlite3_bind_text(statement, 1, space, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_text(statement, 2, prefix, -1, SQLITE_STATIC) == SQLITE_OK &&
        (!bounded || sqlite3_bind_text(statement, 3, upper, -1, SQLITE_STATIC) == SQLITE_OK))
        result = visit_rows(statement, prefix, visit, user_data);
    if (result != 0)
        log_failure(store, "list", space, prefix);
    if (statement != NULL) {
        if (owned)
            sqlite3_finalize(statement);
        else
            sqlite_store_finish(statement);
    }
    return result;
}

/* ---- transactions ---- */

/* Steps one of the cached statements: they are prepared once, since
 * parsing BEGIN and COMMIT again for every update was a tenth of the CPU. */
static int run_cached(sqlite3_stmt *statement)
{
    int step = sqlite3_step(statement);
    while (step == SQLITE_ROW) /* a PRAGMA may answer with a row */
        step = sqlite3_step(statement);
    sqlite3_reset(statement);
    return step == SQLITE_DONE ? 0 : -1;
}

/* Not a cached statement: SQLite applies PRAGMA synchronous when it
 * prepares the statement, not when it steps it, so a prepared one's first
 * run changed nothing and the first synced commit after open went unsynced
 * (found counting syncs under tests/unit/counting_vfs.h). */
static int set_sync_level(struct sqlite_store *store, const char *pragma)
{
    return sqlite3_exec(store->database, pragma, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* SQLite refuses to change the synchronous level inside a transaction, so a
 * synced transaction raises it before BEGIN and lowers it after COMMIT. */
static int sqlite_begin(void *connection, enum store_sync sync)
{
    struct sqlite_store *store = connection;
    if (sync == STORE_SYNCED && set_sync_level(store, "PRAGMA synchronous=FULL") != 0)
        log_warn("store %s: cannot raise the sync level: %s", store->path,
                 sqlite3_errmsg(store->database));
    if (run_cached(store->begin_statement) != 0) {
        sqlite_store_write_failed(store, "cannot begin a transaction");
        if (sync == STORE_SYNCED)
            set_sync_level(store, "PRAGMA synchronous=NORMAL");
        return -1;
    }
    store->synced_transaction = sync == STORE_SYNCED;
    store->in_transaction = 1;
    return 0;
}

static void end_transaction(struct sqlite_store *store)
{
    if (store->synced_transaction)
        set_sync_level(store, "PRAGMA synchronous=NORMAL");
    store->synced_transaction = 0;
    store->in_transaction = 0;
}

static int sqlite_commit(void *connection)
{
    struct sqlite_store *store = connection;
    int result = 0;
    if (run_cached(store->commit_statement) != 0) {
        sqlite_store_write_failed(store, "commit failed");
        run_cached(store->rollback_statement);
        result = -1;
    } else {
        store_health_write_worked(&store->write_health, store->path);
    }
    end_transaction(store);
    return result;
}

static void sqlite_rollback(void *connection)
{
    struct sqlite_store *store = connection;
    run_cached(store->rollback_statement);
    end_transaction(store);
}

/* A unit of a group commit: its own savepoint inside the group's
 * transaction, so that a failing unit takes back only its own writes. */
static int sqlite_unit_begin(void *connection, int savepoint)
{
    struct sqlite_store *store = connection;
    /* after an I/O error or a full disk SQLite may have rolled the whole
     * transaction back: a unit run now would commit on its own */
    if (sqlite3_get_autocommit(store->database)) {
        sqlite_store_write_failed(store, "the group's transaction was rolled back");
        return -1;
    }
    if (!savepoint || run_cached(store->savepoint_statement) == 0)
        return 0;
    sqlite_store_write_failed(store, "cannot begin a unit of a group commit");
    return -1;
}

static int sqlite_unit_end(void *connection, int keep)
{
    struct sqlite_store *store = connection;
    /* ROLLBACK TO leaves the savepoint open: RELEASE ends it either way */
    int undone = keep || run_cached(store->rollback_to_statement) == 0;
    int released = run_cached(store->release_statement) == 0;
    if (undone && released)
        return 0;
    sqlite_store_write_failed(store, "cannot end a unit of a group commit");
    return -1;
}

static int sqlite_write_failing(void *connection, int64_t *since_ms, long *failures, char *reason,
                                size_t reason_size)
{
    const struct store_write_health *health = &((struct sqlite_store *)connection)->write_health;
    if (!health->failing)
        return 0;
    *since_ms = health->since_ms;
    *failures = health->failures;
    snprintf(reason, reason_size, "%s", health->reason);
    return 1;
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .local_commits = 1,
    .open = sqlite_open,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .unit_begin = sqlite_unit_begin,
    .unit_end = sqlite_unit_end,
    .set = sqlite_set,
    .get = sqlite_get,
    .remove = sqlite_remove,
    .remove_range = sqlite_remove_range,
    .list = sqlite_list,
    .inbox_add = sqlite_inbox_add,
    .inbox_remove = sqlite_inbox_remove,
    .inbox_count_crash = sqlite_inbox_count_crash,
    .inbox_list = sqlite_inbox_list,
    .inbox_get = sqlite_inbox_get,
    .outbox_add = sqlite_outbox_add,
    .outbox_remove = sqlite_outbox_remove,
    .outbox_remove_sent = sqlite_outbox_remove_sent,
    .outbox_list = sqlite_outbox_list,
    .sent_record = sqlite_sent_record,
    .sent_lookup = sqlite_sent_lookup,
    .inbox_count = sqlite_inbox_count,
    .outbox_count = sqlite_outbox_count,
    .write_failing = sqlite_write_failing,
};
