/* Running and preparing the SQLite backend's statements, with the line that
 * says what failed (the database path and SQLite's message). */
#include "state/store_sqlite_statements.h"

#include <stdio.h>

int sqlite_store_execute(struct sqlite_store *store, const char *sql, char *error,
                         size_t error_size)
{
    char *message = NULL;
    if (sqlite3_exec(store->database, sql, NULL, NULL, &message) == SQLITE_OK)
        return 0;
    snprintf(error, error_size, "%s: %s", store->path,
             message != NULL ? message : sqlite3_errmsg(store->database));
    sqlite3_free(message);
    return -1;
}

int sqlite_store_prepare_all(struct sqlite_store *store, const struct sqlite_statement_slot *slots,
                             size_t count, char *error, size_t error_size)
{
    for (size_t i = 0; i < count; i++) {
        if (sqlite3_prepare_v3(store->database, slots[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                               slots[i].statement, NULL) != SQLITE_OK) {
            snprintf(error, error_size, "%s: %s", store->path, sqlite3_errmsg(store->database));
            return -1;
        }
    }
    return 0;
}

void sqlite_store_finish(sqlite3_stmt *statement)
{
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
}
