/* The values the store's front (store.c) and its backends (store_sqlite*.c,
 * store_postgres*.c) pass each other: durability levels, the pipeline's
 * rows, how to open. Types only, so that no backend needs store.h. */
#ifndef JARVIS_STORE_TYPES_H
#define JARVIS_STORE_TYPES_H

#include <stddef.h>
#include <stdint.h>

enum store_sync {
    STORE_UNSYNCED, /* survives a process death; a power loss may undo it */
    STORE_SYNCED    /* fsync'd before the commit returns */
};

enum store_open_failure {
    STORE_OPEN_SETUP,   /* state_dir missing, not a directory, out of memory */
    STORE_OPEN_UNUSABLE /* the database: damaged, unreadable, unwritable or (postgres)
                         * unreachable; left as it was, error holds a recovery hint */
};

enum store_backend_kind { STORE_BACKEND_SQLITE, STORE_BACKEND_POSTGRES };

/* [state] backend and dsn, and [bot] state_dir (the SQLite file's place). */
struct store_settings {
    enum store_backend_kind backend;
    const char *state_dir;
    const char *dsn; /* postgres: a libpq conninfo or URI, may hold a password */
    /* postgres: how long a call may wait for the server before it counts
     * as gone (0: 20 s); a polling host derives
     * it from [state] lease_s, so that a hung server cannot hold it longer */
    int64_t call_timeout_ms;
    /* postgres, webhook hosts sharing the database: this host's name on
     * the inbox and outbox rows it takes, and how long its claim on them
     * lasts unrenewed (store_claims_renew). NULL or "": every row is ours
     * (SQLite; a polling holder, alone by the database lock). */
    const char *owner;
    int64_t claim_ms;
    /* sqlite: sent marks go to the sent journal (sent_journal.h). Only the
     * process holding the instance lock may say 1: the journal has one
     * writer, and folding it writes the database. */
    int sent_journal;
};

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

typedef int (*store_kv_visit)(const char *key, const void *value, size_t value_length,
                              void *user_data);
typedef int (*store_inbox_visit)(const struct inbox_row *row, void *context);
typedef int (*store_outbox_visit)(const struct outbox_row *row, void *context);

#endif
