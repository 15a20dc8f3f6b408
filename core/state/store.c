/* Durable key-value state: one SQLite database <state_dir>/jarvis.db in WAL
 * mode, one connection shared under a mutex, prepared statements cached.
 * Keys are TEXT compared bytewise (BINARY collation). Transactions group
 * writes into one commit; see store.h for what each durability level costs. */
#include "state/store.h"

#include "base/directories.h"
#include "base/log.h"
#include "state/store_health.h"
#include "state/store_pipeline.h"
#include "state/store_sql.h"

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



static const char CREATE_TABLE_SQL[] =
    "CREATE TABLE IF NOT EXISTS kv ("
    " space TEXT NOT NULL COLLATE BINARY,"
    " key TEXT NOT NULL COLLATE BINARY,"
    " value BLOB NOT NULL,"
    " PRIMARY KEY (space, key)) WITHOUT ROWID";
static const char SET_SQL[] = "INSERT INTO kv (space, key, value) VALUES (?1, ?2, ?3)"
                              " ON CONFLICT (space, key) DO UPDATE SET value = excluded.value";
static const char GET_SQL[] = "SELECT value FROM kv WHERE space = ?1 AND key = ?2";
static const char DELETE_SQL[] = "DELETE FROM kv WHERE space = ?1 AND key = ?2";
static const char DELETE_RANGE_SQL[] =
    "DELETE FROM kv WHERE space = ?1 AND key >= ?2 AND key < ?3";
static const char LIST_RANGE_SQL[] = "SELECT key, value FROM kv WHERE space = ?1"
                                     " AND key >= ?2 AND key < ?3 ORDER BY key";
static const char LIST_FROM_SQL[] = "SELECT key, value FROM kv WHERE space = ?1"
                                    " AND key >= ?2 ORDER BY key";

static int enable_wal(struct store *store, char *error, size_t error_size)
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

static int prepare_all(struct store *store, char *error, size_t error_size)
{
    struct {
        const char *sql;
        sqlite3_stmt **statement;
    } statements[] = {
        {SET_SQL, &store->set_statement},
        {GET_SQL, &store->get_statement},
        {DELETE_SQL, &store->delete_statement},
        {DELETE_RANGE_SQL, &store->delete_range_statement},
        {LIST_RANGE_SQL, &store->list_range_statement},
        {LIST_FROM_SQL, &store->list_from_statement},
        {"BEGIN IMMEDIATE", &store->begin_statement},
        {"COMMIT", &store->commit_statement},
        {"ROLLBACK", &store->rollback_statement},
        {"PRAGMA synchronous=FULL", &store->sync_full_statement},
        {"PRAGMA synchronous=NORMAL", &store->sync_normal_statement},
    };
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
        if (store_prepare(store, statements[i].sql, statements[i].statement, error, error_size) != 0)
            return -1;
    }
    return 0;
}

static int configure(struct store *store, char *error, size_t error_size)
{
    sqlite3_busy_timeout(store->database, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(store->database, 1);
    if (enable_wal(store, error, error_size) != 0)
        return -1;
    /* NORMAL in WAL mode: a commit survives any death of the process (the WAL
     * is in the kernel's page cache); only a power loss can take the last
     * commits back. Commits that must survive that too ask for
     * STORE_SYNCED, which syncs the WAL for that commit alone. */
    if (store_execute(store, "PRAGMA synchronous=NORMAL", error, error_size) != 0)
        return -1;
    if (store_execute(store, CREATE_TABLE_SQL, error, error_size) != 0)
        return -1;
    if (store_pipeline_create_tables(store, error, error_size) != 0)
        return -1;
    if (prepare_all(store, error, error_size) != 0)
        return -1;
    return store_pipeline_prepare(store, error, error_size);
}

static void release(struct store *store)
{
    store_pipeline_finalize(store);
    sqlite3_finalize(store->set_statement);
    sqlite3_finalize(store->get_statement);
    sqlite3_finalize(store->delete_statement);
    sqlite3_finalize(store->delete_range_statement);
    sqlite3_finalize(store->list_range_statement);
    sqlite3_finalize(store->list_from_statement);
    sqlite3_finalize(store->begin_statement);
    sqlite3_finalize(store->commit_statement);
    sqlite3_finalize(store->rollback_statement);
    sqlite3_finalize(store->sync_full_statement);
    sqlite3_finalize(store->sync_normal_statement);
    if (store->database != NULL)
        sqlite3_close(store->database);
    pthread_mutex_destroy(&store->mutex);
    free(store->path);
    free(store);
}

static char *database_path(const char *state_dir)
{
    size_t length = strlen(state_dir) + sizeof DATABASE_NAME + 1;
    char *path = malloc(length);
    if (path != NULL)
        snprintf(path, length, "%s/%s", state_dir, DATABASE_NAME);
    return path;
}

int store_exists(const char *state_dir)
{
    char *path = database_path(state_dir);
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

static void init_recursive_mutex(pthread_mutex_t *mutex)
{
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
}

/* A database that cannot be used: the open is given up before anything
 * is written, and the line says how to recover. */
static struct store *give_up_unusable(struct store *store, int damaged, const char *reason,
                                      char *error, size_t error_size,
                                      enum store_open_failure *failure)
{
    store_health_describe(store->path, damaged, reason, error, error_size);
    *failure = STORE_OPEN_UNUSABLE;
    release(store);
    return NULL;
}

static struct store *give_up_on_database(struct store *store, char *error, size_t error_size,
                                         enum store_open_failure *failure)
{
    char reason[256];
    snprintf(reason, sizeof reason, "%s", sqlite3_errmsg(store->database));
    int damaged = store_health_code_is_damage(sqlite3_extended_errcode(store->database));
    return give_up_unusable(store, damaged, reason, error, error_size, failure);
}

struct store *store_open_classified(const char *state_dir, char *error, size_t error_size,
                                    enum store_open_failure *failure)
{
    char ignored[8];
    if (error == NULL || error_size == 0) {
        error = ignored;
        error_size = sizeof ignored;
    }
    error[0] = '\0';
    *failure = STORE_OPEN_SETUP;
    if (state_dir == NULL || state_dir[0] == '\0') {
        snprintf(error, error_size, "store: no state_dir given");
        return NULL;
    }
    if (directories_make(state_dir, 0700) != 0) {
        snprintf(error, error_size, "%s: cannot create state directory: %s", state_dir,
                 strerror(errno));
        return NULL;
    }
    struct store *store = calloc(1, sizeof *store);
    if (store == NULL || (store->path = database_path(state_dir)) == NULL) {
        snprintf(error, error_size, "%s: out of memory", state_dir);
        free(store);
        return NULL;
    }
    init_recursive_mutex(&store->mutex);
    if (create_private_file(store->path) != 0)
        return give_up_unusable(store, 0, strerror(errno), error, error_size, failure);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
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
    if (configure(store, error, error_size) != 0)
        return give_up_on_database(store, error, error_size, failure);
    return store;
}

struct store *store_open(const char *state_dir, char *error, size_t error_size)
{
    enum store_open_failure failure;
    return store_open_classified(state_dir, error, error_size, &failure);
}

void store_close(struct store *store)
{
    if (store != NULL)
        release(store);
}

static void log_failure(struct store *store, const char *operation, const char *space,
                        const char *key)
{
    log_error("store %s: %s '%s' key '%s': %s", store->path, operation, space, key,
              sqlite3_errmsg(store->database));
}

static int bind_space_key(sqlite3_stmt *statement, const char *space, const char *key)
{
    if (sqlite3_bind_text(statement, 1, space, -1, SQLITE_STATIC) != SQLITE_OK)
        return -1;
    return sqlite3_bind_text(statement, 2, key, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

static void finish(sqlite3_stmt *statement)
{
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
}

static int valid_arguments(struct store *store, const char *space, const char *key)
{
    return store != NULL && space != NULL && key != NULL;
}

int store_set(struct store *store, const char *space, const char *key, const void *value,
              size_t value_length)
{
    if (!valid_arguments(store, space, key) || (value == NULL && value_length > 0) ||
        value_length > (size_t)INT32_MAX)
        return -1;
    static const char empty = 0;
    pthread_mutex_lock(&store->mutex);
    sqlite3_stmt *statement = store->set_statement;
    int result = -1;
    if (bind_space_key(statement, space, key) == 0 &&
        sqlite3_bind_blob(statement, 3, value != NULL ? value : &empty, (int)value_length,
                          SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = 0;
    if (result != 0)
        log_failure(store, "set", space, key);
    finish(statement);
    pthread_mutex_unlock(&store->mutex);
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

int store_get(struct store *store, const char *space, const char *key, char **value,
              size_t *value_length)
{
    if (!valid_arguments(store, space, key) || value == NULL)
        return -1;
    *value = NULL;
    if (value_length != NULL)
        *value_length = 0;
    pthread_mutex_lock(&store->mutex);
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
    finish(statement);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_delete(struct store *store, const char *space, const char *key)
{
    if (!valid_arguments(store, space, key))
        return -1;
    pthread_mutex_lock(&store->mutex);
    sqlite3_stmt *statement = store->delete_statement;
    int result = -1;
    if (bind_space_key(statement, space, key) == 0 && sqlite3_step(statement) == SQLITE_DONE)
        result = sqlite3_changes(store->database) > 0 ? 0 : 1;
    if (result < 0)
        log_failure(store, "delete", space, key);
    finish(statement);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

long store_delete_range(struct store *store, const char *space, const char *from_key,
                        const char *to_key)
{
    if (!valid_arguments(store, space, from_key) || to_key == NULL)
        return -1;
    pthread_mutex_lock(&store->mutex);
    sqlite3_stmt *statement = store->delete_range_statement;
    long result = -1;
    if (bind_space_key(statement, space, from_key) == 0 &&
        sqlite3_bind_text(statement, 3, to_key, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = sqlite3_changes(store->database);
    if (result < 0)
        log_failure(store, "delete range from", space, from_key);
    finish(statement);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

/* The smallest string greater than every string starting with prefix: drop
 * trailing 0xFF bytes, then increment the last byte. NULL when none exists
 * (prefix empty or all 0xFF): the range is then open above. */
static char *prefix_upper_bound(const char *prefix)
{
    size_t length = strlen(prefix);
    while (length > 0 && (unsigned char)prefix[length - 1] == 0xFF)
        length--;
    if (length == 0)
        return NULL;
    char *bound = malloc(length + 1);
    if (bound == NULL)
        return NULL;
    memcpy(bound, prefix, length);
    bound[length - 1] = (char)((unsigned char)bound[length - 1] + 1);
    bound[length] = '\0';
    return bound;
}

/* The cached statement, or a fresh one when a visitor re-enters store_list
 * while the cached one is still stepping. */
static sqlite3_stmt *list_statement(struct store *store, int bounded, int *owned)
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

static int visit_rows(sqlite3_stmt *statement, const char *prefix,
                      int (*visit)(const char *key, const void *value, size_t value_length,
                                   void *user_data),
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
        if (visit(key, value != NULL ? value : "", value_length, user_data) !=
            0)
            return 0;
    }
}

int store_list(struct store *store, const char *space, const char *prefix,
               int (*visit)(const char *key, const void *value, size_t value_length,
                            void *user_data),
               void *user_data)
{
    if (store == NULL || space == NULL || visit == NULL)
        return -1;
    if (prefix == NULL)
        prefix = "";
    char *upper = prefix_upper_bound(prefix);
    int bounded = upper != NULL;
    pthread_mutex_lock(&store->mutex);
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
            finish(statement);
    }
    pthread_mutex_unlock(&store->mutex);
    free(upper);
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

/* SQLite refuses to change the synchronous level inside a transaction, so a
 * synced transaction raises it before BEGIN and lowers it after COMMIT. */
int store_begin(struct store *store, enum store_sync sync)
{
    if (store == NULL)
        return -1;
    pthread_mutex_lock(&store->mutex);
    if (store->in_transaction) {
        log_error("store: a transaction is already open on this connection");
        pthread_mutex_unlock(&store->mutex);
        return -1;
    }
    if (sync == STORE_SYNCED && run_cached(store->sync_full_statement) != 0)
        log_warn("store %s: cannot raise the sync level: %s", store->path,
                 sqlite3_errmsg(store->database));
    if (run_cached(store->begin_statement) != 0) {
        log_error("store %s: cannot begin a transaction: %s", store->path,
                  sqlite3_errmsg(store->database));
        if (sync == STORE_SYNCED)
            run_cached(store->sync_normal_statement);
        pthread_mutex_unlock(&store->mutex);
        return -1;
    }
    store->in_transaction = sync == STORE_SYNCED ? 2 : 1;
    return 0;
}

static void end_transaction(struct store *store)
{
    if (store->in_transaction == 2)
        run_cached(store->sync_normal_statement);
    store->in_transaction = 0;
    pthread_mutex_unlock(&store->mutex);
}

int store_commit(struct store *store)
{
    if (store == NULL || !store->in_transaction)
        return -1;
    int result = 0;
    if (run_cached(store->commit_statement) != 0) {
        log_error("store %s: commit failed: %s", store->path, sqlite3_errmsg(store->database));
        run_cached(store->rollback_statement);
        result = -1;
    }
    end_transaction(store);
    return result;
}

void store_rollback(struct store *store)
{
    if (store == NULL || !store->in_transaction)
        return;
    run_cached(store->rollback_statement);
    end_transaction(store);
}
