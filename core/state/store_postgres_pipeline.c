/* The update pipeline's tables in the postgres backend, with the semantics
 * of store_sqlite_pipeline.c: an update_id enters the inbox once, outbox
 * ids grow (an identity column), sent records older than a week are pruned
 * as new ones come. */
#include "state/store_postgres_pipeline.h"

#include "base/log.h"
#include "state/store_postgres_connection.h"

#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENT_KEEP_MS (7LL * 24 * 3600 * 1000)
#define SENT_PRUNE_EVERY 256

/* One-row, one-change statements whose parameters are int8s (and texts). */
static PGresult *run_with_ids(struct pg_store *store, enum pg_statement statement,
                              const int64_t *ids, size_t id_count, const char *text,
                              const char *what)
{
    char numbers[4][8];
    const char *values[5];
    int lengths[5];
    size_t count = 0;
    for (; count < id_count && count < 4; count++) {
        pg_int8(ids[count], numbers[count]);
        values[count] = numbers[count];
        lengths[count] = 8;
    }
    if (text != NULL) {
        values[count] = text;
        lengths[count] = (int)strlen(text);
    }
    return pg_store_run(store, statement, values, lengths, what);
}

static int run_and_clear(PGresult *result)
{
    PQclear(result);
    return result != NULL ? 0 : -1;
}

/* A fenced store's pipeline write outside a transaction is a transaction
 * of its own, so that its commit checks the lease (store_fence): 1 opened,
 * 0 none needed (not fenced, or inside the caller's), -1 failed. */
static int fenced_write_begin(struct pg_store *store)
{
    if (!store->fencing || store->in_transaction)
        return 0;
    if (pg_store_exec(store, "BEGIN", "begin") != 0)
        return -1;
    store->in_transaction = 1;
    store->transaction_failed = 0;
    return 1;
}

/* Ends what fenced_write_begin opened: ok 1 (the write worked) commits
 * with the check. 1 when the write stands, else 0. */
static int fenced_write_end(struct pg_store *store, int opened, int ok)
{
    if (opened <= 0)
        return ok;
    int committed = 0;
    if (ok && !store->transaction_failed && !store->transaction_broken)
        committed = pg_store_commit_fenced(store) == 0;
    else if (!store->transaction_broken)
        pg_store_exec(store, "ROLLBACK", "rollback");
    store->in_transaction = 0;
    store->transaction_failed = 0;
    store->transaction_broken = 0;
    return committed;
}

/* One fenced statement whose result only says whether it worked. */
static int fenced_run(struct pg_store *store, enum pg_statement statement, const int64_t *ids,
                      size_t id_count, const char *text, const char *what)
{
    int opened = fenced_write_begin(store);
    if (opened < 0)
        return -1;
    int ok = run_and_clear(run_with_ids(store, statement, ids, id_count, text, what)) == 0;
    return fenced_write_end(store, opened, ok) ? 0 : -1;
}

int pg_inbox_add(void *connection, int64_t update_id, int64_t chat_id, const char *payload,
                 int64_t arrival)
{
    char id[8], chat[8], order[8];
    pg_int8(update_id, id);
    pg_int8(chat_id, chat);
    pg_int8(arrival, order);
    struct pg_store *store = connection;
    const char *values[] = {id, chat, payload, order, store->owner};
    const int lengths[] = {8, 8, (int)strlen(payload), 8, (int)strlen(store->owner)};
    int opened = fenced_write_begin(connection);
    if (opened < 0)
        return -1;
    PGresult *result =
        pg_store_run(connection, PG_INBOX_ADD, values, lengths, "adding to the inbox");
    long added = result != NULL ? pg_result_changed(result) : 0;
    PQclear(result);
    if (!fenced_write_end(connection, opened, result != NULL))
        return -1;
    return added > 0 ? 0 : 1;
}

/* Shared: 1 when the row is not ours (any more): another host took it over. */
int pg_inbox_remove(void *connection, int64_t update_id)
{
    struct pg_store *store = connection;
    if (store->owner[0] == '\0')
        return fenced_run(store, PG_INBOX_REMOVE, &update_id, 1, store->owner,
                          "removing from the inbox");
    /* a host sharing the tables holds no lease: nothing to fence */
    PGresult *result = run_with_ids(store, PG_INBOX_REMOVE, &update_id, 1, store->owner,
                                    "removing from the inbox");
    if (result == NULL)
        return -1;
    long removed = pg_result_changed(result);
    PQclear(result);
    return removed == 0 ? 1 : 0;
}

int pg_inbox_count_crash(void *connection, int64_t update_id, const char *plugin)
{
    return fenced_run(connection, PG_INBOX_CRASH, &update_id, 1, plugin, "counting a crash");
}

/* Visits an inbox query's rows and frees the result. */
static int visit_inbox_rows(PGresult *result, store_inbox_visit visit, void *context)
{
    if (result == NULL)
        return -1;
    int rows = PQntuples(result);
    for (int i = 0; i < rows; i++) {
        struct inbox_row row = {.update_id = pg_result_int8(result, i, 0),
                                .chat_id = pg_result_int8(result, i, 1),
                                .payload = PQgetvalue(result, i, 2),
                                .crashes = pg_result_int4(result, i, 3),
                                .crash_plugin = PQgetvalue(result, i, 4),
                                .arrival = pg_result_int8(result, i, 5)};
        if (visit(&row, context) != 0)
            break;
    }
    PQclear(result);
    return 0;
}

/* This host's rows only, when it shares the tables (store->owner). */
int pg_inbox_list(void *connection, store_inbox_visit visit, void *context)
{
    struct pg_store *store = connection;
    const char *values[] = {store->owner};
    const int lengths[] = {(int)strlen(store->owner)};
    return visit_inbox_rows(
        pg_store_run(connection, PG_INBOX_LIST, values, lengths, "listing the inbox"), visit,
        context);
}

static void put_int4(char *out, uint32_t value)
{
    uint32_t big = htobe32(value);
    memcpy(out, &big, sizeof big);
}

/* values as PostgreSQL's binary int8[]: one dimension, no nulls, the element
 * type (int8, oid 20), the dimension's length and lower bound, then each
 * element as its length and its bytes. NULL when out of memory or too long. */
static char *int8_array(const int64_t *values, size_t count, int *length)
{
    if (count > (INT32_MAX - 20) / 12)
        return NULL;
    char *array = malloc(20 + count * 12);
    if (array == NULL)
        return NULL;
    put_int4(array, 1);
    put_int4(array + 4, 0);
    put_int4(array + 8, 20);
    put_int4(array + 12, (uint32_t)count);
    put_int4(array + 16, 1);
    for (size_t i = 0; i < count; i++) {
        put_int4(array + 20 + i * 12, 8);
        pg_int8(values[i], array + 24 + i * 12);
    }
    *length = (int)(20 + count * 12);
    return array;
}

/* One round trip for a whole load, whatever its size: the store is held
 * meanwhile, and a flooding chat's load may be a cap's worth of rows. */
int pg_inbox_get(void *connection, const int64_t *update_ids, size_t count, store_inbox_visit visit,
                 void *context)
{
    struct pg_store *store = connection;
    int array_length = 0;
    char *array = int8_array(update_ids, count, &array_length);
    if (array == NULL) {
        log_error("store: out of memory reading %zu rows of the inbox", count);
        return -1;
    }
    const char *values[] = {array, store->owner};
    const int lengths[] = {array_length, (int)strlen(store->owner)};
    int result = visit_inbox_rows(
        pg_store_run(connection, PG_INBOX_GET, values, lengths, "reading rows of the inbox"), visit,
        context);
    free(array);
    return result;
}

static const char *text_or_empty(const char *text)
{
    return text != NULL ? text : "";
}

int64_t pg_outbox_add(void *connection, const struct outbox_row *row)
{
    struct pg_store *store = connection;
    char numbers[5][8];
    pg_int8(row->update_id, numbers[0]);
    pg_int8(row->chat_id, numbers[1]);
    pg_int8(row->thread_id, numbers[2]);
    pg_int8(row->reference, numbers[3]);
    pg_int8(row->target, numbers[4]);
    const char *method = text_or_empty(row->method), *options = text_or_empty(row->options);
    const char *file_name = text_or_empty(row->file_name);
    /* a NULL value is SQL NULL: no file */
    const char *values[] = {numbers[0],
                            numbers[1],
                            numbers[2],
                            row->text,
                            method,
                            options,
                            row->file != NULL ? row->file : NULL,
                            file_name,
                            numbers[3],
                            numbers[4],
                            store->owner};
    const int lengths[] = {8,
                           8,
                           8,
                           (int)strlen(row->text),
                           (int)strlen(method),
                           (int)strlen(options),
                           (int)row->file_length,
                           (int)strlen(file_name),
                           8,
                           8,
                           (int)strlen(store->owner)};
    int opened = fenced_write_begin(connection);
    if (opened < 0)
        return -1;
    PGresult *result =
        pg_store_run(connection, PG_OUTBOX_ADD, values, lengths, "adding to the outbox");
    int64_t id = result != NULL && PQntuples(result) == 1 ? pg_result_int8(result, 0, 0) : -1;
    PQclear(result);
    return fenced_write_end(connection, opened, id >= 0) ? id : -1;
}

/* The sent mark, once per part: one statement that checks the fence
 * itself rather than a transaction of three round trips. The check is
 * evaluated (and its row lock taken) before a row is deleted. */
static const char outbox_remove_fenced_sql[] =
    "WITH tenure AS (SELECT 1 / count(*) AS held FROM (SELECT 1 FROM jarvis_lease"
    " WHERE bot_id = $2 AND generation = $3 FOR SHARE) AS lease)"
    " DELETE FROM jarvis_outbox WHERE id = $1 AND (SELECT held FROM tenure) = 1";

int pg_outbox_remove(void *connection, int64_t id)
{
    struct pg_store *store = connection;
    if (!store->fencing || store->in_transaction)
        return run_and_clear(
            run_with_ids(store, PG_OUTBOX_REMOVE, &id, 1, NULL, "removing from the outbox"));
    char numbers[3][8];
    pg_int8(id, numbers[0]);
    pg_int8(store->fence_key, numbers[1]);
    pg_int8(store->fence_generation, numbers[2]);
    const char *values[] = {numbers[0], numbers[1], numbers[2]};
    const int lengths[] = {8, 8, 8};
    return run_and_clear(pg_store_run_fenced(store, outbox_remove_fenced_sql, 3, values, lengths,
                                             "removing from the outbox"));
}

/* Visits an outbox query's rows and frees the result. */
static int visit_outbox_rows(PGresult *result, store_outbox_visit visit, void *context)
{
    if (result == NULL)
        return -1;
    int rows = PQntuples(result);
    for (int i = 0; i < rows; i++) {
        int no_file = PQgetisnull(result, i, 7);
        struct outbox_row row = {.id = pg_result_int8(result, i, 0),
                                 .update_id = pg_result_int8(result, i, 1),
                                 .chat_id = pg_result_int8(result, i, 2),
                                 .thread_id = pg_result_int8(result, i, 3),
                                 .text = PQgetvalue(result, i, 4),
                                 .method = PQgetvalue(result, i, 5),
                                 .options = PQgetvalue(result, i, 6),
                                 .file = no_file ? NULL : PQgetvalue(result, i, 7),
                                 .file_length = no_file ? 0 : (size_t)PQgetlength(result, i, 7),
                                 .file_name = PQgetvalue(result, i, 8),
                                 .reference = pg_result_int8(result, i, 9),
                                 .target = pg_result_int8(result, i, 10)};
        if (visit(&row, context) != 0)
            break;
    }
    PQclear(result);
    return 0;
}

int pg_outbox_list(void *connection, store_outbox_visit visit, void *context)
{
    struct pg_store *store = connection;
    const char *values[] = {store->owner};
    const int lengths[] = {(int)strlen(store->owner)};
    return visit_outbox_rows(
        pg_store_run(connection, PG_OUTBOX_LIST, values, lengths, "listing the outbox"), visit,
        context);
}

int pg_sent_record(void *connection, int64_t reference, int64_t chat_id, int64_t message_id,
                   int64_t now_ms)
{
    struct pg_store *store = connection;
    const int64_t ids[] = {reference, chat_id, message_id, now_ms};
    if (fenced_run(store, PG_SENT_RECORD, ids, 4, NULL, "recording a sent message id") != 0)
        return -1;
    if (store->sent_records++ % SENT_PRUNE_EVERY == 0) {
        int64_t before = now_ms - SENT_KEEP_MS;
        PQclear(run_with_ids(store, PG_SENT_PRUNE, &before, 1, NULL, "pruning sent message ids"));
    }
    return 0;
}

int pg_sent_lookup(void *connection, int64_t reference, int64_t *message_id)
{
    PGresult *result = run_with_ids(connection, PG_SENT_LOOKUP, &reference, 1, NULL,
                                    "looking up a sent message id");
    if (result == NULL)
        return -1;
    int found = PQntuples(result) == 1;
    if (found)
        *message_id = pg_result_int8(result, 0, 0);
    PQclear(result);
    return found ? 0 : 1;
}

static long count_rows(struct pg_store *store, enum pg_statement statement)
{
    PGresult *result = pg_store_run(store, statement, NULL, NULL, "counting rows");
    if (result == NULL)
        return -1;
    long count = PQntuples(result) == 1 ? (long)pg_result_int8(result, 0, 0) : -1;
    PQclear(result);
    return count;
}

long pg_inbox_count(void *connection)
{
    return count_rows(connection, PG_INBOX_COUNT);
}

long pg_outbox_count(void *connection)
{
    return count_rows(connection, PG_OUTBOX_COUNT);
}

/* ---- hosts sharing the tables ---- */

int pg_claims_renew(void *connection)
{
    struct pg_store *store = connection;
    if (store->owner[0] == '\0')
        return 0;
    char lease[8];
    pg_int8(store->claim_ms, lease);
    const char *values[] = {store->owner, lease};
    const int lengths[] = {(int)strlen(store->owner), 8};
    PGresult *result =
        pg_store_run(store, PG_OWNER_RENEW, values, lengths, "renewing this host's claims");
    if (result == NULL)
        return -1;
    /* a boolean in binary format: one byte */
    int lapsed = PQntuples(result) == 1 && PQgetlength(result, 0, 0) == 1 &&
                 PQgetvalue(result, 0, 0)[0] != 0;
    PQclear(result);
    return lapsed ? 1 : 0;
}

int pg_inbox_claim_stale(void *connection, int64_t first_arrival, size_t limit,
                         store_inbox_visit visit, void *context)
{
    struct pg_store *store = connection;
    if (store->owner[0] == '\0')
        return 0;
    char first[8], most[8];
    pg_int8(first_arrival, first);
    pg_int8((int64_t)limit, most);
    const char *values[] = {store->owner, first, most};
    const int lengths[] = {(int)strlen(store->owner), 8, 8};
    return visit_inbox_rows(pg_store_run(store, PG_INBOX_CLAIM, values, lengths,
                                         "taking over the inbox rows of a stopped host"),
                            visit, context);
}

int pg_outbox_claim_stale(void *connection, store_outbox_visit visit, void *context)
{
    struct pg_store *store = connection;
    if (store->owner[0] == '\0')
        return 0;
    const char *values[] = {store->owner};
    const int lengths[] = {(int)strlen(store->owner)};
    return visit_outbox_rows(pg_store_run(store, PG_OUTBOX_CLAIM, values, lengths,
                                          "taking over the outbox rows of a stopped host"),
                             visit, context);
}

int pg_lock_update(void *connection, int64_t update_id)
{
    return run_and_clear(run_with_ids(connection, PG_UPDATE_LOCK, &update_id, 1, NULL,
                                      "locking an update_id for its acceptance"));
}
