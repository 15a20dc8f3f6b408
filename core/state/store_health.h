/* Whether the state database can be used at all, checked read-only before
 * the store writes to it, and the one-line recovery hint when it cannot.
 * Only store.c calls these. */
#ifndef JARVIS_STORE_HEALTH_H
#define JARVIS_STORE_HEALTH_H

#include <sqlite3.h>
#include <stddef.h>

/* PRAGMA quick_check(1) on an open connection, before anything is written:
 * 0 when sound, else -1 with the damage described (store_health_describe). */
int store_health_check(sqlite3 *database, const char *path, char *error, size_t error_size);
/* The line for a database that cannot be used: what failed, that nothing was
 * changed, and how to recover. damaged: corrupt or not a database (move it
 * aside); else unreadable/unwritable storage (fix the storage). */
void store_health_describe(const char *path, int damaged, const char *reason, char *error,
                           size_t error_size);
/* 1 when a SQLite result code means the file's content is damaged. */
int store_health_code_is_damage(int code);

#endif
