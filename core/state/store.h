/* Durable state: by default one SQLite database in WAL mode under [bot]
 * state_dir; with [state] backend = postgres, a PostgreSQL database (see
 * docs/postgres.md for what the durability levels mean there).
 * Holds the plugins' namespaced key-value data, the core's own keys
 * (namespace "core": the Telegram offset, poll status) and the update
 * pipeline's inbox and outbox. Thread-safe.
 *
 * What survives what: every commit survives any death of the process
 * (kill -9, a segfault, the OOM killer). A power loss may take back the
 * last commits made with STORE_UNSYNCED (plugin writes, handled marks,
 * sent marks): the update is then handled again or the reply sent again,
 * a repeat and never a loss. The inbox batch and the offset are committed
 * STORE_SYNCED, because Telegram forgets what the next poll confirms. */
#ifndef JARVIS_STORE_H
#define JARVIS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "state/store_types.h"

struct store;

/* The backend settings say: SQLite under state_dir, or PostgreSQL at dsn
 * (the schema created or migrated). NULL with a one-line reason in error
 * (never the DSN's password) and which kind of failure in *failure. */
struct store *store_open_settings(const struct store_settings *settings, char *error,
                                  size_t error_size, enum store_open_failure *failure);
/* SQLite: creates state_dir (0700) if missing. NULL with a one-line reason in error. */
struct store *store_open(const char *state_dir, char *error, size_t error_size);
/* store_open, and on failure which kind (the exit code of `jarvis run`). */
struct store *store_open_classified(const char *state_dir, char *error, size_t error_size,
                                    enum store_open_failure *failure);
void store_close(struct store *store);
/* 0 while the database is unreachable (PostgreSQL down): callers wait
 * instead of polling or sending. SQLite is always available. */
int store_available(struct store *store);
/* 1 when state_dir already holds the database; readers such as `jarvis
 * status` check first so that looking never creates anything. */
int store_exists(const char *state_dir);

/* Fencing for a host that polls on a shared database (host_lease.h):
 * from now on every pipeline commit (the inbox batch with the offset, a
 * handled commit with its outbox rows, an outbox or sent mark, a crash
 * count) checks in its own transaction that the row of jarvis_lease for
 * key still has this generation, and fails otherwise; the store then
 * refuses every call for good (no reconnect) and store_fenced says 1.
 * Plugin key-value writes outside a handled commit are not fenced. No
 * effect on SQLite, whose file one machine's lock guards. */
void store_fence(struct store *store, int64_t key, int64_t generation);
/* 1 once a fenced commit was refused: a newer holder took the lease.
 * Safe on any thread, never waits. */
int store_fenced(struct store *store);

/* A transaction: what runs between begin and commit on this thread is one
 * commit (other threads wait for it). 0, or -1 (logged). A failed commit is
 * rolled back. Not nested. */
int store_begin(struct store *store, enum store_sync sync);
int store_commit(struct store *store);
void store_rollback(struct store *store);
/* 1 while writes fail (disk full, I/O error), with since when, how many
 * failed and SQLite's word for the first; 0 while they work. */
int store_write_failing(struct store *store, int64_t *since_ms, long *failures, char *reason,
                        size_t reason_size);

/* Committed (STORE_UNSYNCED) when they return 0, or part of the caller's
 * transaction. -1 on failure, logged. */
int store_set(struct store *store, const char *space, const char *key, const void *value,
              size_t value_length);
/* 0 and a malloc'd NUL-terminated copy in *value; 1 when absent; -1 on error. */
int store_get(struct store *store, const char *space, const char *key, char **value,
              size_t *value_length);
/* 0 deleted, 1 absent, -1 error. */
int store_delete(struct store *store, const char *space, const char *key);
/* Deletes every key k of space with from_key <= k < to_key (byte order) in
 * one statement, so one commit and one fsync however many keys go. Returns
 * how many were deleted, or -1 on error (logged). */
long store_delete_range(struct store *store, const char *space, const char *from_key,
                        const char *to_key);
/* Visits keys starting with prefix in byte order until visit returns non-zero.
 * Returns 0, or -1 on error. */
int store_list(struct store *store, const char *space, const char *prefix,
               int (*visit)(const char *key, const void *value, size_t value_length,
                            void *user_data),
               void *user_data);

#endif
