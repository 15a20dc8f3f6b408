/* What the store's implementation files share: the SQLite connection and
 * its cached statements, and the two helpers every file runs SQL with.
 * Only store*.c include this. */
#ifndef JARVIS_STORE_SQL_H
#define JARVIS_STORE_SQL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

struct store {
    sqlite3 *database;
    char *path;
    /* Recursive: a kv_list visitor may call back into the store. */
    pthread_mutex_t mutex;
    sqlite3_stmt *set_statement;
    sqlite3_stmt *get_statement;
    sqlite3_stmt *delete_statement;
    sqlite3_stmt *delete_range_statement;
    sqlite3_stmt *list_range_statement; /* prefix with an upper bound */
    sqlite3_stmt *list_from_statement;  /* prefix "" or all 0xFF: no upper bound */
    /* the update pipeline's tables (store_pipeline.c) */
    sqlite3_stmt *inbox_add_statement;
    sqlite3_stmt *inbox_remove_statement;
    sqlite3_stmt *inbox_crash_statement;
    sqlite3_stmt *inbox_list_statement;
    sqlite3_stmt *inbox_count_statement;
    sqlite3_stmt *outbox_add_statement;
    sqlite3_stmt *outbox_remove_statement;
    sqlite3_stmt *outbox_list_statement;
    sqlite3_stmt *outbox_count_statement;
    sqlite3_stmt *sent_record_statement;
    sqlite3_stmt *sent_lookup_statement;
    sqlite3_stmt *sent_prune_statement;
    unsigned long sent_records; /* prunes every so many */
    sqlite3_stmt *begin_statement;
    sqlite3_stmt *commit_statement;
    sqlite3_stmt *rollback_statement;
    sqlite3_stmt *sync_full_statement;
    sqlite3_stmt *sync_normal_statement;
    int in_transaction;
};

int store_execute(struct store *store, const char *sql, char *error, size_t error_size);
int store_prepare(struct store *store, const char *sql, sqlite3_stmt **statement, char *error,
                  size_t error_size);

#endif
