/* The store's front: checks every call's arguments, serialises the calls
 * under one recursive mutex (a store_list visitor may call back in), keeps
 * the transaction flag, and hands the work to the configured backend
 * (SQLite or PostgreSQL, see store_backend.h). The pipeline's calls have
 * their own front, store_pipeline.c. */
#include "state/store.h"

#include "base/log.h"
#include "state/sent_journal.h"
#include "state/store_backend.h"
#include "state/store_group.h"
#include "state/store_handle.h"
#include "state/store_postgres.h"
#include "state/store_sqlite.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void init_recursive_mutex(pthread_mutex_t *mutex)
{
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
}

/* Where commits are local, sent marks go to a journal beside the database;
 * marks a previous run left are folded in before anyone reads the outbox.
 * Without the journal every mark is a database write, as before. */
static void open_journal(struct store *store, const struct store_settings *settings)
{
    if (!settings->sent_journal || !store_groups_commits(store) ||
        store->backend->outbox_remove_sent == NULL || settings->state_dir == NULL)
        return;
    char *database = store_sqlite_database_path(settings->state_dir);
    char path[4096];
    struct stat file;
    int named = database != NULL &&
                snprintf(path, sizeof path, "%s-sent", database) < (int)sizeof path &&
                stat(database, &file) == 0;
    free(database);
    if (!named)
        return;
    /* the marks are this file's: a database moved aside and made anew,
     * or restored from a copy, is another file */
    uint64_t key = (uint64_t)file.st_dev << 32 ^ (uint64_t)file.st_ino;
    char error[512];
    store->journal = sent_journal_open(path, key, error, sizeof error);
    if (store->journal == NULL) {
        log_warn("%s; sent marks are written to the database one by one instead", error);
        return;
    }
    pthread_mutex_lock(&store->mutex);
    if (store_journal_fold(store) != 0)
        log_warn("%s: the marks of the last run could not be folded into the database yet; "
                 "their parts are not sent again meanwhile",
                 path);
    pthread_mutex_unlock(&store->mutex);
}

struct store *store_open_settings(const struct store_settings *settings, char *error,
                                  size_t error_size, enum store_open_failure *failure)
{
    char ignored[8];
    enum store_open_failure ignored_failure;
    if (error == NULL || error_size == 0) {
        error = ignored;
        error_size = sizeof ignored;
    }
    if (failure == NULL)
        failure = &ignored_failure;
    error[0] = '\0';
    *failure = STORE_OPEN_SETUP;
    if (settings == NULL) {
        snprintf(error, error_size, "store: no settings given");
        return NULL;
    }
    const struct store_backend *backend = settings->backend == STORE_BACKEND_POSTGRES
                                              ? &store_postgres_backend
                                              : &store_sqlite_backend;
    struct store *store = calloc(1, sizeof *store);
    if (store == NULL) {
        snprintf(error, error_size, "store: out of memory");
        return NULL;
    }
    store->backend = backend;
    store->connection = backend->open(settings, error, error_size, failure);
    if (store->connection == NULL) {
        free(store);
        return NULL;
    }
    init_recursive_mutex(&store->mutex);
    store->available = 1;
    open_journal(store, settings);
    return store;
}

struct store *store_open_classified(const char *state_dir, char *error, size_t error_size,
                                    enum store_open_failure *failure)
{
    struct store_settings settings = {.backend = STORE_BACKEND_SQLITE, .state_dir = state_dir};
    return store_open_settings(&settings, error, error_size, failure);
}

struct store *store_open(const char *state_dir, char *error, size_t error_size)
{
    enum store_open_failure failure;
    return store_open_classified(state_dir, error, error_size, &failure);
}

void store_close(struct store *store)
{
    if (store == NULL)
        return;
    pthread_mutex_lock(&store->mutex);
    store_group_end(store); /* what the group holds is done: kept, not rolled back */
    store_journal_fold(store);
    pthread_mutex_unlock(&store->mutex);
    store->backend->close(store->connection);
    sent_journal_close(store->journal);
    pthread_mutex_destroy(&store->mutex);
    free(store);
}

int store_exists(const char *state_dir)
{
    return state_dir != NULL && store_sqlite_exists(state_dir);
}

/* Asked before every poll and send: a store busy on another thread answers
 * with what it said last instead of making the caller wait for it. */
int store_available(struct store *store)
{
    if (store == NULL)
        return 0;
    if (store->backend->available == NULL)
        return 1;
    if (pthread_mutex_trylock(&store->mutex) != 0)
        return __atomic_load_n(&store->available, __ATOMIC_RELAXED);
    int available = store->backend->available(store->connection);
    __atomic_store_n(&store->available, available, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&store->mutex);
    return available;
}

void store_fence(struct store *store, int64_t key, int64_t generation)
{
    if (store == NULL || store->backend->fence == NULL)
        return;
    pthread_mutex_lock(&store->mutex);
    store->backend->fence(store->connection, key, generation);
    pthread_mutex_unlock(&store->mutex);
}

int store_fenced(struct store *store)
{
    return store != NULL && store->backend->fenced != NULL &&
           store->backend->fenced(store->connection);
}

/* ---- transactions ---- */

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
    /* a transaction of its own: the open group's units commit before it */
    store_group_end(store);
    if (store->backend->begin(store->connection, sync) != 0) {
        pthread_mutex_unlock(&store->mutex);
        return -1;
    }
    store->in_transaction = 1;
    return 0; /* the mutex stays held until commit or rollback */
}

static void end_transaction(struct store *store)
{
    store->in_transaction = 0;
    pthread_mutex_unlock(&store->mutex);
}

int store_commit(struct store *store)
{
    if (store == NULL || !store->in_transaction)
        return -1;
    int result = store->backend->commit(store->connection);
    end_transaction(store);
    return result;
}

void store_rollback(struct store *store)
{
    if (store == NULL || !store->in_transaction)
        return;
    store->backend->rollback(store->connection);
    end_transaction(store);
}

/* ---- key-value ---- */

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
    store_lock_for_write(store);
    int result = store->backend->set(store->connection, space, key, value != NULL ? value : &empty,
                                     value_length);
    pthread_mutex_unlock(&store->mutex);
    return result;
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
    int result = store->backend->get(store->connection, space, key, value, value_length);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

int store_delete(struct store *store, const char *space, const char *key)
{
    if (!valid_arguments(store, space, key))
        return -1;
    store_lock_for_write(store);
    int result = store->backend->remove(store->connection, space, key);
    pthread_mutex_unlock(&store->mutex);
    return result;
}

long store_delete_range(struct store *store, const char *space, const char *from_key,
                        const char *to_key)
{
    if (!valid_arguments(store, space, from_key) || to_key == NULL)
        return -1;
    store_lock_for_write(store);
    long result = store->backend->remove_range(store->connection, space, from_key, to_key);
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

int store_list(struct store *store, const char *space, const char *prefix, store_kv_visit visit,
               void *user_data)
{
    if (store == NULL || space == NULL || visit == NULL)
        return -1;
    if (prefix == NULL)
        prefix = "";
    char *upper = prefix_upper_bound(prefix);
    pthread_mutex_lock(&store->mutex);
    int result = store->backend->list(store->connection, space, prefix, upper, visit, user_data);
    pthread_mutex_unlock(&store->mutex);
    free(upper);
    return result;
}

int store_write_failing(struct store *store, int64_t *since_ms, long *failures, char *reason,
                        size_t reason_size)
{
    if (store == NULL || store->backend->write_failing == NULL)
        return 0;
    pthread_mutex_lock(&store->mutex);
    int failing =
        store->backend->write_failing(store->connection, since_ms, failures, reason, reason_size);
    pthread_mutex_unlock(&store->mutex);
    return failing;
}
