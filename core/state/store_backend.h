/* What a state backend provides to the store's front (store.c): one table
 * of functions per backend. The front validates arguments, holds the mutex
 * and the transaction flag; a backend only talks to its database. */
#ifndef JARVIS_STORE_BACKEND_H
#define JARVIS_STORE_BACKEND_H

#include "state/store_types.h"

struct store_backend {
    const char *name;
    /* 1 when a commit is a local write (SQLite): two statements then cost
     * less in one transaction than in two; 0 when each transaction costs
     * round trips of its own (PostgreSQL), so statements go alone. */
    int local_commits;
    /* The backend's connection state, or NULL with a one-line reason. */
    void *(*open)(const struct store_settings *settings, char *error, size_t error_size,
                  enum store_open_failure *failure);
    void (*close)(void *connection);
    int (*begin)(void *connection, enum store_sync sync);
    int (*commit)(void *connection); /* rolls back when it fails */
    void (*rollback)(void *connection);
    /* Group commits (store_group.h): a unit inside the open transaction,
     * refused when the database rolled that transaction back by itself (a
     * full disk may); with savepoint, unit_end keeps its writes or takes
     * them back. NULL for a backend whose commits are not local. */
    int (*unit_begin)(void *connection, int savepoint);
    int (*unit_end)(void *connection, int keep);
    int (*set)(void *connection, const char *space, const char *key, const void *value,
               size_t value_length);
    int (*get)(void *connection, const char *space, const char *key, char **value,
               size_t *value_length);
    int (*remove)(void *connection, const char *space, const char *key);
    long (*remove_range)(void *connection, const char *space, const char *from_key,
                         const char *to_key);
    /* keys from prefix up to upper (excluded; NULL: no upper bound) */
    int (*list)(void *connection, const char *space, const char *prefix, const char *upper,
                store_kv_visit visit, void *user_data);
    int (*inbox_add)(void *connection, int64_t update_id, int64_t chat_id, const char *payload,
                     int64_t arrival);
    int (*inbox_remove)(void *connection, int64_t update_id);
    int (*inbox_count_crash)(void *connection, int64_t update_id, const char *plugin);
    int (*inbox_list)(void *connection, store_inbox_visit visit, void *context);
    /* the rows of update_ids that exist, in the order given: 0, or -1 on error */
    int (*inbox_get)(void *connection, const int64_t *update_ids, size_t count,
                     store_inbox_visit visit, void *context);
    int64_t (*outbox_add)(void *connection, const struct outbox_row *row);
    int (*outbox_remove)(void *connection, int64_t id);
    int (*outbox_list)(void *connection, store_outbox_visit visit, void *context);
    int (*sent_record)(void *connection, int64_t reference, int64_t chat_id, int64_t message_id,
                       int64_t now_ms);
    int (*sent_lookup)(void *connection, int64_t reference, int64_t *message_id);
    long (*inbox_count)(void *connection);
    long (*outbox_count)(void *connection);
    /* Hosts sharing the tables (store_pipeline.h); NULL for a backend that
     * is never shared (SQLite): its rows are all this host's. */
    int (*claims_renew)(void *connection);
    int (*inbox_claim_stale)(void *connection, int64_t first_arrival, size_t limit,
                             store_inbox_visit visit, void *context);
    int (*outbox_claim_stale)(void *connection, store_outbox_visit visit, void *context);
    int (*lock_update)(void *connection, int64_t update_id);
    /* 1 while the database answers; a backend that cannot lose its
     * connection (SQLite) leaves this NULL. */
    int (*available)(void *connection);
    /* 1 while writes fail (disk full, I/O error) with since when, how many
     * and the first reason; NULL for a backend that reports being down
     * through available instead (PostgreSQL). */
    int (*write_failing)(void *connection, int64_t *since_ms, long *failures, char *reason,
                         size_t reason_size);
    /* Fencing (store_fence): NULL for a backend whose database is not
     * shared between hosts (SQLite). fenced is an atomic read. */
    void (*fence)(void *connection, int64_t key, int64_t generation);
    int (*fenced)(void *connection);
    /* A mark of the sent journal (sent_journal.h): removes the outbox row
     * only when id, update, chat and text length all match. NULL for a
     * backend that has no journal (PostgreSQL: its hosts share the
     * outbox, a file on one host is not seen by the next). */
    int (*outbox_remove_sent)(void *connection, int64_t id, int64_t update_id, int64_t chat_id,
                              int64_t text_length);
};

#endif
