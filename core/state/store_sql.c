/* The SQLite connection the store's files share (store_sql.h): running a
 * statement once and preparing one to keep, each failure as one line that
 * names the database file. */
#include "state/store_sql.h"

#include <stdio.h>

int store_execute(struct store *store, const char *sql, char *error, size_t error_size)
{
    char *message = NULL;
    if (sqlite3_exec(store->database, sql, NULL, NULL, &message) == SQLITE_OK)
        return 0;
    snprintf(error, error_size, "%s: %s", store->path,
             message != NULL ? message : sqlite3_errmsg(store->database));
    sqlite3_free(message);
    return -1;
}

int store_prepare(struct store *store, const char *sql, sqlite3_stmt **statement, char *error,
                  size_t error_size)
{
    if (sqlite3_prepare_v3(store->database, sql, -1, SQLITE_PREPARE_PERSISTENT, statement,
                           NULL) == SQLITE_OK)
        return 0;
    snprintf(error, error_size, "%s: %s", store->path, sqlite3_errmsg(store->database));
    return -1;
}
