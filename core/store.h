/* Durable state under [bot] state_dir: one SQLite database in WAL mode.
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

struct store;

enum store_sync {
    STORE_UNSYNCED, /* survives a process death; a power loss may undo it */
    STORE_SYNCED    /* fsync'd before the commit returns */
};

/* Creates state_dir (0700) if missing. NULL with a one-line reason in error. */
struct store *store_open(const char *state_dir, char *error, size_t error_size);
enum store_open_failure {
    STORE_OPEN_SETUP,   /* state_dir missing, not a directory, out of memory */
    STORE_OPEN_UNUSABLE /* the database file: damaged, unreadable or unwritable;
                         * left as it was, error holds a recovery hint */
};
/* store_open, and on failure which kind (the exit code of `jarvis run`). */
struct store *store_open_classified(const char *state_dir, char *error, size_t error_size,
                                    enum store_open_failure *failure);
void store_close(struct store *store);
/* 1 when state_dir already holds the database; readers such as `jarvis
 * status` check first so that looking never creates anything. */
int store_exists(const char *state_dir);

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

/* ---- the update pipeline (store_pipeline.c) ---- */

/* An update accepted from the transport and not yet handled. payload is the
 * transport-neutral message (JSON); crashes counts the fatal signals raised
 * while a plugin handled it, crash_plugin names the last such plugin. */
struct inbox_row {
    int64_t update_id;
    int64_t chat_id;
    const char *payload;
    int crashes;
    const char *crash_plugin;
    int64_t arrival; /* the inbox's order */
};

/* One part of a reply waiting to be sent (or whose send was in flight). */
struct outbox_row {
    int64_t id;
    int64_t update_id; /* -1: answers no update (jobs, send_message) */
    int64_t chat_id;
    int64_t thread_id;
    const char *text;
    /* since schema 2: the Bot API method (NULL or "" = sendMessage), its
     * other parameters as a JSON object (NULL or "" = none), a file's bytes
     * for sendPhoto / sendDocument, the host reference of what is sent (0:
     * none) and, for edits, the reference or message id edited (0: none) */
    const char *method;
    const char *options;
    const void *file;
    size_t file_length;
    const char *file_name;
    int64_t reference;
    int64_t target;
};

/* 0 added, 1 an update with that id is already waiting (nothing changed), -1 error.
 * arrival orders the rows for store_inbox_list (the caller's counter). */
int store_inbox_add(struct store *store, int64_t update_id, int64_t chat_id,
                    const char *payload, int64_t arrival);
/* 0, or -1 on error; a missing row is not an error. */
int store_inbox_remove(struct store *store, int64_t update_id);
int store_inbox_count_crash(struct store *store, int64_t update_id, const char *plugin);
/* In arrival order; visit's row is borrowed; non-zero from visit stops. 0 or -1. */
int store_inbox_list(struct store *store, int (*visit)(const struct inbox_row *row, void *context),
                     void *context);
/* At most limit rows of chat_id that arrived after after_arrival, in
 * arrival order (a flooding chat's rows left in the inbox). 0 or -1. */
int store_inbox_list_chat(struct store *store, int64_t chat_id, int64_t after_arrival,
                          size_t limit, int (*visit)(const struct inbox_row *row, void *context),
                          void *context);
/* The new row's id (> 0), or -1 on error. */
int64_t store_outbox_add(struct store *store, int64_t update_id, int64_t chat_id,
                         int64_t thread_id, const char *text);
/* The whole row (its id ignored); the new id or -1. */
int64_t store_outbox_add_row(struct store *store, const struct outbox_row *row);
int store_outbox_remove(struct store *store, int64_t id);
/* What a host reference became once sent: Telegram's chat and message id.
 * Records older than a week are pruned as new ones come. 0 or -1. */
int store_sent_record(struct store *store, int64_t reference, int64_t chat_id,
                      int64_t message_id, int64_t now_ms);
/* 0 and *message_id, 1 unknown (never sent, or pruned), -1 error. */
int store_sent_lookup(struct store *store, int64_t reference, int64_t *message_id);
int store_outbox_list(struct store *store,
                      int (*visit)(const struct outbox_row *row, void *context), void *context);
/* Rows waiting, or -1 on error. */
long store_inbox_count(struct store *store);
long store_outbox_count(struct store *store);

#endif
