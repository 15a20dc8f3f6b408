/* Durable state under [bot] state_dir: one SQLite database in WAL mode.
 * Holds the plugins' namespaced key-value data and the core's own keys
 * (namespace "core": the Telegram offset, poll status). Thread-safe. */
#ifndef JARVIS_STORE_H
#define JARVIS_STORE_H

#include <stddef.h>

struct store;

/* Creates state_dir (0700) if missing. NULL with a one-line reason in error. */
struct store *store_open(const char *state_dir, char *error, size_t error_size);
void store_close(struct store *store);
/* 1 when state_dir already holds the database; readers such as `jarvis
 * status` check first so that looking never creates anything. */
int store_exists(const char *state_dir);

/* Durable when they return 0 (synchronous=FULL). -1 on failure, logged. */
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
