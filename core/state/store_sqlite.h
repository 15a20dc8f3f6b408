/* The SQLite backend of the store (store_sqlite.c): its function table and
 * whether a state_dir already holds its database. */
#ifndef JARVIS_STORE_SQLITE_H
#define JARVIS_STORE_SQLITE_H

#include "state/store_backend.h"

extern const struct store_backend store_sqlite_backend;

/* 1 when state_dir already holds the SQLite database. */
int store_sqlite_exists(const char *state_dir);
/* Its file's path in state_dir (malloc'd; NULL out of memory). */
char *store_sqlite_database_path(const char *state_dir);

#endif
