/* The update pipeline's tables in the SQLite backend: the inbox (updates
 * accepted from the transport and not yet handled), the outbox (reply
 * parts not yet sent) and sent_message. A row leaves its table when its
 * work is done. */
#include "state/store_sqlite_pipeline.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

/* Every commit appends each page it touched to the WAL, so the tables have
 * no secondary index and no AUTOINCREMENT (whose sqlite_sequence row is one
 * more page per insert): update_id is the inbox's key, arrival order a plain
 * column sorted only at recovery; an outbox id may be reused once its row
 * is gone, which no one can tell. */
static const char CREATE_INBOX_SQL[] = "CREATE TABLE IF NOT EXISTS inbox ("
                                       " update_id INTEGER PRIMARY KEY,"
                                       " arrival INTEGER NOT NULL,"
                                       " chat_id INTEGER NOT NULL,"
                                       " payload TEXT NOT NULL,"
                                       " crashes INTEGER NOT NULL DEFAULT 0,"
                                       " crash_plugin TEXT NOT NULL DEFAULT '')";
static const char CREATE_OUTBOX_SQL[] = "CREATE TABLE IF NOT EXISTS outbox ("
                                        " id INTEGER PRIMARY KEY,"
                                        " update_id INTEGER NOT NULL,"
                                        " chat_id INTEGER NOT NULL,"
                                        " thread_id INTEGER NOT NULL,"
                                        " text TEXT NOT NULL,"
                                        " method TEXT NOT NULL DEFAULT '',"
                                        " options TEXT NOT NULL DEFAULT '',"
                                        " file BLOB,"
                                        " file_name TEXT NOT NULL DEFAULT '',"
                                        " reference INTEGER NOT NULL DEFAULT 0,"
                                        " target INTEGER NOT NULL DEFAULT 0)";
/* Schema 1 -> 2: the outbox learns methods other than sendMessage. */
static const char *const OUTBOX_V2_COLUMNS[] = {
    "ALTER TABLE outbox ADD COLUMN method TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE outbox ADD COLUMN options TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE outbox ADD COLUMN file BLOB",
    "ALTER TABLE outbox ADD COLUMN file_name TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE outbox ADD COLUMN reference INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE outbox ADD COLUMN target INTEGER NOT NULL DEFAULT 0",
};
/* A host reference -> what Telegram called the message once it was sent. */
static const char CREATE_SENT_SQL[] = "CREATE TABLE IF NOT EXISTS sent_message ("
                                      " reference INTEGER PRIMARY KEY,"
                                      " chat_id INTEGER NOT NULL,"
                                      " message_id INTEGER NOT NULL,"
                                      " sent_at INTEGER NOT NULL)";

static const char INBOX_ADD_SQL[] =
    "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, arrival) VALUES (?1, ?2, ?3, ?4)";
static const char INBOX_REMOVE_SQL[] = "DELETE FROM inbox WHERE update_id = ?1";
static const char INBOX_CRASH_SQL[] =
    "UPDATE inbox SET crashes = crashes + 1, crash_plugin = ?2 WHERE update_id = ?1";
static const char INBOX_LIST_SQL[] =
    "SELECT update_id, chat_id, payload, crashes, crash_plugin, arrival FROM inbox"
    " ORDER BY arrival";
/* A flooding chat's row left in the inbox, loaded by its key as room frees
 * up (chat_admission.c remembers which). */
static const char INBOX_GET_SQL[] =
    "SELECT update_id, chat_id, payload, crashes, crash_plugin, arrival FROM inbox"
    " WHERE update_id = ?1";
static const char INBOX_COUNT_SQL[] = "SELECT count(*) FROM inbox";
static const char OUTBOX_ADD_SQL[] =
    "INSERT INTO outbox (update_id, chat_id, thread_id, text, method, options, file, file_name,"
    " reference, target) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char OUTBOX_REMOVE_SQL[] = "DELETE FROM outbox WHERE id = ?1";
/* A mark from the sent journal (sent_journal.h): the row goes only when it
 * is still the part that was sent. */
static const char OUTBOX_REMOVE_SENT_SQL[] =
    "DELETE FROM outbox WHERE id = ?1 AND update_id = ?2 AND chat_id = ?3"
    " AND length(CAST(text AS BLOB)) = ?4";
static const char OUTBOX_LIST_SQL[] =
    "SELECT id, update_id, chat_id, thread_id, text, method, options, file, file_name,"
    " reference, target FROM outbox ORDER BY id";
static const char OUTBOX_COUNT_SQL[] = "SELECT count(*) FROM outbox";
static const char SENT_RECORD_SQL[] =
    "INSERT OR REPLACE INTO sent_message (reference, chat_id, message_id, sent_at)"
    " VALUES (?1, ?2, ?3, ?4)";
static const char SENT_LOOKUP_SQL[] = "SELECT message_id FROM sent_message WHERE reference = ?1";
static const char SENT_PRUNE_SQL[] = "DELETE FROM sent_message WHERE sent_at < ?1";
#define SENT_KEEP_MS (7LL * 24 * 3600 * 1000)
#define SENT_PRUNE_EVERY 256

/* The schema's version lives in SQLite's user_version, so a later jarvis
 * knows which migrations a database has had (1: the inbox and outbox; 2:
 * outbox methods, options, files, references, and the sent_message table). */
#define SCHEMA_VERSION 2

static int schema_version(struct sqlite_store *store)
{
    sqlite3_stmt *statement = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(store->database, "PRAGMA user_version", -1, &statement, NULL) ==
            SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        version = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    return version;
}

static int has_outbox_table(struct sqlite_store *store)
{
    sqlite3_stmt *statement = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(store->database,
                           "SELECT 1 FROM sqlite_master WHERE type='table' AND name='outbox'", -1,
                           &statement, NULL) == SQLITE_OK)
        found = sqlite3_step(statement) == SQLITE_ROW;
    sqlite3_finalize(statement);
    return found;
}

int sqlite_pipeline_create_tables(struct sqlite_store *store, char *error, size_t error_size)
{
    int version = schema_version(store);
    if (version < 0) {
        snprintf(error, error_size, "%s: cannot read the schema version: %s", store->path,
                 sqlite3_errmsg(store->database));
        return -1;
    }
    if (version > SCHEMA_VERSION) {
        snprintf(error, error_size,
                 "%s: schema version %d is newer than this jarvis knows (%d); run the newer "
                 "jarvis or move the state dir away",
                 store->path, version, SCHEMA_VERSION);
        return -1;
    }
    int migrate = version < 2 && has_outbox_table(store);
    if (sqlite_store_execute(store, CREATE_INBOX_SQL, error, error_size) != 0)
        return -1;
    if (sqlite_store_execute(store, CREATE_OUTBOX_SQL, error, error_size) != 0)
        return -1;
    for (size_t i = 0; migrate && i < sizeof OUTBOX_V2_COLUMNS / sizeof OUTBOX_V2_COLUMNS[0]; i++)
        if (sqlite_store_execute(store, OUTBOX_V2_COLUMNS[i], error, error_size) != 0)
            return -1;
    if (migrate)
        log_info("store %s: schema migrated from version %d to %d", store->path, version,
                 SCHEMA_VERSION);
    if (sqlite_store_execute(store, CREATE_SENT_SQL, error, error_size) != 0)
        return -1;
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
    return sqlite_store_execute(store, sql, error, error_size);
}

int sqlite_pipeline_prepare(struct sqlite_store *store, char *error, size_t error_size)
{
    const struct sqlite_statement_slot statements[] = {
        {INBOX_ADD_SQL, &store->inbox_add_statement},
        {INBOX_REMOVE_SQL, &store->inbox_remove_statement},
        {INBOX_CRASH_SQL, &store->inbox_crash_statement},
        {INBOX_LIST_SQL, &store->inbox_list_statement},
        {INBOX_GET_SQL, &store->inbox_get_statement},
        {INBOX_COUNT_SQL, &store->inbox_count_statement},
        {OUTBOX_ADD_SQL, &store->outbox_add_statement},
        {OUTBOX_REMOVE_SQL, &store->outbox_remove_statement},
        {OUTBOX_REMOVE_SENT_SQL, &store->outbox_remove_sent_statement},
        {OUTBOX_LIST_SQL, &store->outbox_list_statement},
        {OUTBOX_COUNT_SQL, &store->outbox_count_statement},
        {SENT_RECORD_SQL, &store->sent_record_statement},
        {SENT_LOOKUP_SQL, &store->sent_lookup_statement},
        {SENT_PRUNE_SQL, &store->sent_prune_statement},
    };
    return sqlite_store_prepare_all(store, statements, sizeof statements / sizeof statements[0],
                                    error, error_size);
}

void sqlite_pipeline_finalize(struct sqlite_store *store)
{
    sqlite3_stmt *statements[] = {
        store->inbox_add_statement,   store->inbox_remove_statement,
        store->inbox_crash_statement, store->inbox_list_statement,
        store->inbox_get_statement,   store->inbox_count_statement,
        store->outbox_add_statement,  store->outbox_remove_statement,
        store->outbox_list_statement, store->outbox_count_statement,
        store->sent_record_statement, store->sent_lookup_statement,
        store->sent_prune_statement,  store->outbox_remove_sent_statement,
    };
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++)
        sqlite3_finalize(statements[i]);
}

static void log_failure(struct sqlite_store *store, const char *what, int64_t id)
{
    char text[128];
    snprintf(text, sizeof text, "%s %lld", what, (long long)id);
    sqlite_store_write_failed(store, text);
}

int sqlite_inbox_add(void *connection, int64_t update_id, int64_t chat_id, const char *payload,
                     int64_t arrival)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->inbox_add_statement;
    int result = -1;
    if (sqlite3_bind_int64(statement, 1, update_id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 2, chat_id) == SQLITE_OK &&
        sqlite3_bind_text(statement, 3, payload, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 4, arrival) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = sqlite3_changes(store->database) > 0 ? 0 : 1;
    if (result < 0)
        log_failure(store, "adding to the inbox update", update_id);
    sqlite_store_finish(statement);
    return result;
}

/* Runs a one-integer statement (and an optional text as ?2). */
static int run_with_id(struct sqlite_store *store, sqlite3_stmt *statement, int64_t id,
                       const char *text, const char *what)
{
    int result = -1;
    if (sqlite3_bind_int64(statement, 1, id) == SQLITE_OK &&
        (text == NULL || sqlite3_bind_text(statement, 2, text, -1, SQLITE_STATIC) == SQLITE_OK) &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = 0;
    if (result < 0)
        log_failure(store, what, id);
    else
        sqlite_store_write_worked(store);
    sqlite_store_finish(statement);
    return result;
}

int sqlite_inbox_remove(void *connection, int64_t update_id)
{
    struct sqlite_store *store = connection;
    return run_with_id(store, store->inbox_remove_statement, update_id, NULL,
                       "removing from the inbox update");
}

int sqlite_inbox_count_crash(void *connection, int64_t update_id, const char *plugin)
{
    struct sqlite_store *store = connection;
    return run_with_id(store, store->inbox_crash_statement, update_id, plugin,
                       "counting a crash of update");
}

static const char *column_text(sqlite3_stmt *statement, int column)
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    return text != NULL ? text : "";
}

/* Visits the rows a bound inbox query answers, then resets it. */
static int visit_inbox_rows(struct sqlite_store *store, sqlite3_stmt *statement,
                            store_inbox_visit visit, void *context)
{
    int result = 0, step;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        struct inbox_row row = {.update_id = sqlite3_column_int64(statement, 0),
                                .chat_id = sqlite3_column_int64(statement, 1),
                                .payload = column_text(statement, 2),
                                .crashes = sqlite3_column_int(statement, 3),
                                .crash_plugin = column_text(statement, 4),
                                .arrival = sqlite3_column_int64(statement, 5)};
        if (visit(&row, context) != 0)
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        log_failure(store, "listing the inbox at row", 0);
        result = -1;
    }
    sqlite_store_finish(statement);
    return result;
}

int sqlite_inbox_list(void *connection, store_inbox_visit visit, void *context)
{
    struct sqlite_store *store = connection;
    return visit_inbox_rows(store, store->inbox_list_statement, visit, context);
}

/* One lookup by key a row: a local read, so no batching is worth it. */
int sqlite_inbox_get(void *connection, const int64_t *update_ids, size_t count,
                     store_inbox_visit visit, void *context)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->inbox_get_statement;
    int result = 0;
    for (size_t i = 0; i < count && result == 0; i++) {
        if (sqlite3_bind_int64(statement, 1, update_ids[i]) != SQLITE_OK) {
            sqlite_store_finish(statement);
            return -1;
        }
        result = visit_inbox_rows(store, statement, visit, context);
    }
    return result;
}

static int bind_optional_text(sqlite3_stmt *statement, int index, const char *text)
{
    return sqlite3_bind_text(statement, index, text ? text : "", -1, SQLITE_STATIC);
}

int64_t sqlite_outbox_add(void *connection, const struct outbox_row *row)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->outbox_add_statement;
    int64_t id = -1;
    int file_bound = row->file != NULL ? sqlite3_bind_blob64(statement, 7, row->file,
                                                             row->file_length, SQLITE_STATIC)
                                       : sqlite3_bind_null(statement, 7);
    if (file_bound == SQLITE_OK && sqlite3_bind_int64(statement, 1, row->update_id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 2, row->chat_id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 3, row->thread_id) == SQLITE_OK &&
        sqlite3_bind_text(statement, 4, row->text, -1, SQLITE_STATIC) == SQLITE_OK &&
        bind_optional_text(statement, 5, row->method) == SQLITE_OK &&
        bind_optional_text(statement, 6, row->options) == SQLITE_OK &&
        bind_optional_text(statement, 8, row->file_name) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 9, row->reference) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 10, row->target) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid(store->database);
    if (id < 0)
        log_failure(store, "adding to the outbox a reply to update", row->update_id);
    sqlite_store_finish(statement);
    return id;
}

int sqlite_sent_record(void *connection, int64_t reference, int64_t chat_id, int64_t message_id,
                       int64_t now_ms)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->sent_record_statement;
    int result = -1;
    if (sqlite3_bind_int64(statement, 1, reference) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 2, chat_id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 3, message_id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 4, now_ms) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = 0;
    if (result < 0)
        log_failure(store, "recording the message id of reference", reference);
    sqlite_store_finish(statement);
    if (result == 0 && store->sent_records++ % SENT_PRUNE_EVERY == 0) {
        sqlite3_stmt *prune = store->sent_prune_statement;
        if (sqlite3_bind_int64(prune, 1, now_ms - SENT_KEEP_MS) != SQLITE_OK ||
            sqlite3_step(prune) != SQLITE_DONE)
            log_failure(store, "pruning sent message ids before", now_ms - SENT_KEEP_MS);
        sqlite_store_finish(prune);
    }
    return result;
}

int sqlite_sent_lookup(void *connection, int64_t reference, int64_t *message_id)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->sent_lookup_statement;
    int result = -1;
    if (sqlite3_bind_int64(statement, 1, reference) == SQLITE_OK) {
        int step = sqlite3_step(statement);
        if (step == SQLITE_ROW) {
            *message_id = sqlite3_column_int64(statement, 0);
            result = 0;
        } else if (step == SQLITE_DONE) {
            result = 1;
        }
    }
    sqlite_store_finish(statement);
    return result;
}

int sqlite_outbox_remove(void *connection, int64_t id)
{
    struct sqlite_store *store = connection;
    return run_with_id(store, store->outbox_remove_statement, id, NULL,
                       "removing from the outbox message");
}

int sqlite_outbox_remove_sent(void *connection, int64_t id, int64_t update_id, int64_t chat_id,
                              int64_t text_length)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->outbox_remove_sent_statement;
    int result = -1;
    if (sqlite3_bind_int64(statement, 1, id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 2, update_id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 3, chat_id) == SQLITE_OK &&
        sqlite3_bind_int64(statement, 4, text_length) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_DONE)
        result = 0;
    if (result < 0)
        log_failure(store, "removing a sent part from the outbox message", id);
    else
        sqlite_store_write_worked(store);
    sqlite_store_finish(statement);
    return result;
}

int sqlite_outbox_list(void *connection, store_outbox_visit visit, void *context)
{
    struct sqlite_store *store = connection;
    sqlite3_stmt *statement = store->outbox_list_statement;
    int result = 0, step;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        struct outbox_row row = {.id = sqlite3_column_int64(statement, 0),
                                 .update_id = sqlite3_column_int64(statement, 1),
                                 .chat_id = sqlite3_column_int64(statement, 2),
                                 .thread_id = sqlite3_column_int64(statement, 3),
                                 .text = column_text(statement, 4),
                                 .method = column_text(statement, 5),
                                 .options = column_text(statement, 6),
                                 .file = sqlite3_column_blob(statement, 7),
                                 .file_length = (size_t)sqlite3_column_bytes(statement, 7),
                                 .file_name = column_text(statement, 8),
                                 .reference = sqlite3_column_int64(statement, 9),
                                 .target = sqlite3_column_int64(statement, 10)};
        if (visit(&row, context) != 0)
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        log_failure(store, "listing the outbox at row", 0);
        result = -1;
    }
    sqlite_store_finish(statement);
    return result;
}

static long count_rows(sqlite3_stmt *statement)
{
    long count = -1;
    if (sqlite3_step(statement) == SQLITE_ROW)
        count = (long)sqlite3_column_int64(statement, 0);
    sqlite_store_finish(statement);
    return count;
}

long sqlite_inbox_count(void *connection)
{
    return count_rows(((struct sqlite_store *)connection)->inbox_count_statement);
}

long sqlite_outbox_count(void *connection)
{
    return count_rows(((struct sqlite_store *)connection)->outbox_count_statement);
}
