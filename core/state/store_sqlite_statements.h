/* What the SQLite backend's files share: the connection, its cached
 * statements, and running or preparing a statement with the error text.
 * Only store_sqlite*.c include this. */
#ifndef JARVIS_STORE_SQLITE_STATEMENTS_H
#define JARVIS_STORE_SQLITE_STATEMENTS_H

#include <sqlite3.h>
#include <stddef.h>

#include "state/store_health.h"

struct sqlite_store {
    sqlite3 *database;
    char *path;
    sqlite3_stmt *set_statement;
    sqlite3_stmt *get_statement;
    sqlite3_stmt *delete_statement;
    sqlite3_stmt *delete_range_statement;
    sqlite3_stmt *list_range_statement; /* prefix with an upper bound */
    sqlite3_stmt *list_from_statement;  /* prefix "" or all 0xFF: no upper bound */
    /* the update pipeline's tables (store_sqlite_pipeline.c) */
    sqlite3_stmt *inbox_add_statement;
    sqlite3_stmt *inbox_remove_statement;
    sqlite3_stmt *inbox_crash_statement;
    sqlite3_stmt *inbox_list_statement;
    sqlite3_stmt *inbox_get_statement;
    sqlite3_stmt *inbox_count_statement;
    sqlite3_stmt *outbox_add_statement;
    sqlite3_stmt *outbox_remove_statement;
    sqlite3_stmt *outbox_remove_sent_statement;
    sqlite3_stmt *outbox_list_statement;
    sqlite3_stmt *outbox_count_statement;
    sqlite3_stmt *sent_record_statement;
    sqlite3_stmt *sent_lookup_statement;
    sqlite3_stmt *sent_prune_statement;
    unsigned long sent_records; /* prunes every so many */
    sqlite3_stmt *begin_statement;
    sqlite3_stmt *commit_statement;
    sqlite3_stmt *rollback_statement;
    /* one unit of a group commit (store_group.h) */
    sqlite3_stmt *savepoint_statement;
    sqlite3_stmt *release_statement;
    sqlite3_stmt *rollback_to_statement;
    int synced_transaction; /* the sync level is raised until the transaction ends */
    int in_transaction;
    struct store_write_health write_health; /* one log line per change */
};

struct sqlite_statement_slot {
    const char *sql;
    sqlite3_stmt **statement;
};

int sqlite_store_execute(struct sqlite_store *store, const char *sql, char *error,
                         size_t error_size);
/* Prepares each slot's statement (persistent); 0, or -1 with the reason. */
int sqlite_store_prepare_all(struct sqlite_store *store, const struct sqlite_statement_slot *slots,
                             size_t count, char *error, size_t error_size);
/* Resets a cached statement and clears its bindings for the next call. */
void sqlite_store_finish(sqlite3_stmt *statement);

/* A failed write or commit, logged as a state change (store_health.h), and
 * one that worked (outside a transaction: its own commit). */
void sqlite_store_write_failed(struct sqlite_store *store, const char *what);
void sqlite_store_write_worked(struct sqlite_store *store);

#endif
