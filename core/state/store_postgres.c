/* The PostgreSQL backend: the key-value table and transactions over one
 * libpq connection (the front serialises the calls). A transaction is
 * BEGIN ... COMMIT on that connection; a STORE_SYNCED one raises
 * synchronous_commit for itself alone (SET LOCAL), the session default
 * being off: see docs/postgres.md for what that means for "0 lost". */
#include "state/store_postgres.h"

#include "base/directories.h"
#include "state/store_postgres_connection.h"
#include "state/store_postgres_pipeline.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *postgres_open(const struct store_settings *settings, char *error, size_t error_size,
                           enum store_open_failure *failure)
{
    if (settings->dsn == NULL || settings->dsn[0] == '\0') {
        snprintf(error, error_size, "store: backend = postgres needs [state] dsn");
        return NULL;
    }
    /* the state dir still holds this host's own files (the crash record,
     * the status snapshot) */
    if (settings->state_dir != NULL && settings->state_dir[0] != '\0' &&
        directories_make(settings->state_dir, 0700) != 0) {
        snprintf(error, error_size, "%s: cannot create state directory: %s", settings->state_dir,
                 strerror(errno));
        return NULL;
    }
    struct pg_store *store =
        pg_store_connect(settings->dsn, settings->call_timeout_ms, error, error_size);
    if (store == NULL) {
        *failure = STORE_OPEN_UNUSABLE;
        return NULL;
    }
    if (settings->owner != NULL) {
        if (strlen(settings->owner) >= sizeof store->owner) {
            snprintf(error, error_size, "store: the host's owner name is too long");
            pg_store_close(store);
            return NULL;
        }
        snprintf(store->owner, sizeof store->owner, "%s", settings->owner);
    }
    store->claim_ms = settings->claim_ms > 0 ? settings->claim_ms : 10000;
    return store;
}

static void postgres_close(void *connection)
{
    pg_store_close(connection);
}

static int postgres_available(void *connection)
{
    return pg_store_ready(connection);
}

/* ---- key-value ---- */

static int postgres_set(void *connection, const char *space, const char *key, const void *value,
                        size_t value_length)
{
    const char *values[] = {space, key, value};
    const int lengths[] = {(int)strlen(space), (int)strlen(key), (int)value_length};
    PGresult *result = pg_store_run(connection, PG_KV_SET, values, lengths, "set");
    PQclear(result);
    return result != NULL ? 0 : -1;
}

static int postgres_get(void *connection, const char *space, const char *key, char **value,
                        size_t *value_length)
{
    const char *values[] = {space, key};
    const int lengths[] = {(int)strlen(space), (int)strlen(key)};
    PGresult *result = pg_store_run(connection, PG_KV_GET, values, lengths, "get");
    if (result == NULL)
        return -1;
    if (PQntuples(result) == 0) {
        PQclear(result);
        return 1;
    }
    size_t length = (size_t)PQgetlength(result, 0, 0);
    char *copy = malloc(length + 1);
    if (copy != NULL) {
        memcpy(copy, PQgetvalue(result, 0, 0), length);
        copy[length] = '\0';
        *value = copy;
        if (value_length != NULL)
            *value_length = length;
    }
    PQclear(result);
    return copy != NULL ? 0 : -1;
}

static int postgres_remove(void *connection, const char *space, const char *key)
{
    const char *values[] = {space, key};
    const int lengths[] = {(int)strlen(space), (int)strlen(key)};
    PGresult *result = pg_store_run(connection, PG_KV_DELETE, values, lengths, "delete");
    if (result == NULL)
        return -1;
    long changed = pg_result_changed(result);
    PQclear(result);
    return changed > 0 ? 0 : 1;
}

static long postgres_remove_range(void *connection, const char *space, const char *from_key,
                                  const char *to_key)
{
    const char *values[] = {space, from_key, to_key};
    const int lengths[] = {(int)strlen(space), (int)strlen(from_key), (int)strlen(to_key)};
    PGresult *result =
        pg_store_run(connection, PG_KV_DELETE_RANGE, values, lengths, "delete range");
    if (result == NULL)
        return -1;
    long changed = pg_result_changed(result);
    PQclear(result);
    return changed;
}

/* The whole result is read before the first visit, so a visitor may call
 * back into the store. */
static int postgres_list(void *connection, const char *space, const char *prefix, const char *upper,
                         store_kv_visit visit, void *user_data)
{
    const char *values[] = {space, prefix, upper};
    const int lengths[] = {(int)strlen(space), (int)strlen(prefix),
                           upper != NULL ? (int)strlen(upper) : 0};
    PGresult *result = pg_store_run(connection, upper != NULL ? PG_KV_LIST_RANGE : PG_KV_LIST_FROM,
                                    values, lengths, "list");
    if (result == NULL)
        return -1;
    size_t prefix_length = strlen(prefix);
    int rows = PQntuples(result);
    for (int row = 0; row < rows; row++) {
        const char *key = PQgetvalue(result, row, 0); /* libpq NUL-terminates */
        if (strncmp(key, prefix, prefix_length) != 0)
            break;
        if (visit(key, PQgetvalue(result, row, 1), (size_t)PQgetlength(result, row, 1),
                  user_data) != 0)
            break;
    }
    PQclear(result);
    return 0;
}

/* ---- transactions ---- */

static int postgres_begin(void *connection, enum store_sync sync)
{
    struct pg_store *store = connection;
    char sql[96] = "BEGIN";
    if (sync == STORE_SYNCED)
        snprintf(sql, sizeof sql, "BEGIN; SET LOCAL synchronous_commit = %s", store->synced_level);
    if (pg_store_exec(store, sql, "begin") != 0)
        return -1;
    store->in_transaction = 1;
    store->transaction_failed = 0;
    return 0;
}

static void end_transaction(struct pg_store *store)
{
    store->in_transaction = 0;
    store->transaction_failed = 0;
    store->transaction_broken = 0;
}

/* A statement that failed inside leaves the transaction aborted, and
 * PostgreSQL answers COMMIT with a ROLLBACK then: the commit fails. */
static int postgres_commit(void *connection)
{
    struct pg_store *store = connection;
    int result = -1;
    if (store->transaction_broken) {
        result = -1;
    } else if (store->transaction_failed) {
        pg_store_exec(store, "ROLLBACK", "rollback");
    } else {
        result = store->fencing ? pg_store_commit_fenced(store)
                                : pg_store_exec(store, "COMMIT", "commit");
    }
    end_transaction(store);
    return result;
}

static void postgres_rollback(void *connection)
{
    struct pg_store *store = connection;
    if (!store->transaction_broken)
        pg_store_exec(store, "ROLLBACK", "rollback");
    end_transaction(store);
}

/* ---- fencing ---- */

static void postgres_fence(void *connection, int64_t key, int64_t generation)
{
    struct pg_store *store = connection;
    store->fencing = 1;
    store->fence_key = key;
    store->fence_generation = generation;
}

static int postgres_fenced(void *connection)
{
    struct pg_store *store = connection;
    return atomic_load(&store->fenced);
}

const struct store_backend store_postgres_backend = {
    .name = "postgres",
    .open = postgres_open,
    .close = postgres_close,
    .begin = postgres_begin,
    .commit = postgres_commit,
    .rollback = postgres_rollback,
    .set = postgres_set,
    .get = postgres_get,
    .remove = postgres_remove,
    .remove_range = postgres_remove_range,
    .list = postgres_list,
    .inbox_add = pg_inbox_add,
    .inbox_remove = pg_inbox_remove,
    .inbox_count_crash = pg_inbox_count_crash,
    .inbox_list = pg_inbox_list,
    .inbox_get = pg_inbox_get,
    .outbox_add = pg_outbox_add,
    .outbox_remove = pg_outbox_remove,
    .outbox_list = pg_outbox_list,
    .sent_record = pg_sent_record,
    .sent_lookup = pg_sent_lookup,
    .inbox_count = pg_inbox_count,
    .outbox_count = pg_outbox_count,
    .claims_renew = pg_claims_renew,
    .inbox_claim_stale = pg_inbox_claim_stale,
    .outbox_claim_stale = pg_outbox_claim_stale,
    .lock_update = pg_lock_update,
    .available = postgres_available,
    .fence = postgres_fence,
    .fenced = postgres_fenced,
};
