/* Whether the state database can be used at all, checked read-only before
 * the store writes to it, and the one-line recovery hint when it cannot;
 * then, while it runs, whether its writes work (one log line per change).
 * Only store*.c call these. */
#ifndef JARVIS_STORE_HEALTH_H
#define JARVIS_STORE_HEALTH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

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

/* Writes failing (disk full, I/O error) or working, kept under the store's
 * mutex. Callers retry with backoff; the log says each change once. */
struct store_write_health {
    int failing;
    long failures;    /* failed writes since the last one that worked */
    int64_t since_ms; /* wall clock of the first of them */
    char reason[160]; /* SQLite's word for the first of them */
};
/* A write failed: ERROR when the writes worked until now, else debug. */
void store_health_write_failed(struct store_write_health *health, const char *path,
                               const char *what, const char *reason);
/* A write worked: one line when they had been failing. */
void store_health_write_worked(struct store_write_health *health, const char *path);

#endif
