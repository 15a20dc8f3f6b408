/* The postgres backend's one connection: connecting with keepalives and a
 * statement timeout, preparing the statements once per session, running
 * them with binary parameters and results, and noticing when the server
 * goes away (one log line) and comes back (one more), reconnecting with
 * backoff in between. Only store_postgres*.c include this. */
#ifndef JARVIS_STORE_POSTGRES_CONNECTION_H
#define JARVIS_STORE_POSTGRES_CONNECTION_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "base/backoff.h"
#include "state/store_postgres_sql.h"

struct pg_store {
    PGconn *connection;
    char *password;         /* the DSN's, masked in every message (NULL: none) */
    char place[192];        /* host:port/database, safe to log */
    int down;               /* the connection is lost; calls fail until it is back */
    int transaction_broken; /* lost inside a transaction: only commit/rollback end it */
    int in_transaction;
    int transaction_failed; /* a statement failed: the commit must not claim success */
    int64_t down_since_ms;
    int64_t next_attempt_ms;
    struct backoff backoff;
    char synced_level[24]; /* synchronous_commit of a STORE_SYNCED commit */
    unsigned long sent_records;
    char owner[320];         /* store_settings.owner; "" when every row is ours */
    int64_t claim_ms;        /* how long a renewal keeps our rows ours */
    int64_t call_timeout_ms; /* how long a call waits for the server (pg_call.h) */
    /* store_fence: pipeline commits check the lease row's generation */
    int fencing;
    int64_t fence_key, fence_generation;
    _Atomic int fenced; /* a check failed: every call refused from now on */
};

/* Connects to dsn (the schema migrated); every call then waits at most
 * call_timeout_ms (0: 20 s) for the server before the store counts it as
 * gone. NULL with a one-line, redacted reason. */
struct pg_store *pg_store_connect(const char *dsn, int64_t call_timeout_ms, char *error,
                                  size_t error_size);
void pg_store_close(struct pg_store *store);
/* 1 when statements can run now; while down, tries to reconnect once the
 * backoff delay has passed (never inside a broken transaction). */
int pg_store_ready(struct pg_store *store);
/* Runs a prepared statement (values in binary format, lengths in bytes);
 * the result (its rows in binary format) or NULL on failure, logged as
 * "what" unless the failure is the connection's (logged once, as down). */
PGresult *pg_store_run(struct pg_store *store, enum pg_statement statement,
                       const char *const *values, const int *lengths, const char *what);
/* Runs plain SQL (BEGIN, COMMIT, ROLLBACK). 0 or -1 (logged like pg_store_run). */
int pg_store_exec(struct pg_store *store, const char *sql, const char *what);
/* One statement outside a transaction whose SQL checks the fence itself
 * (unprepared: the lease table exists only where a lock is taken); values
 * in binary format. Like pg_store_run, and a failed check fences the store. */
PGresult *pg_store_run_fenced(struct pg_store *store, const char *sql, int count,
                              const char *const *values, const int *lengths, const char *what);
/* COMMIT after checking, in the same transaction, that the lease row still
 * has the fence's generation; a failed check rolls back and fences the
 * store for good (one log line). 0 or -1. */
int pg_store_commit_fenced(struct pg_store *store);

/* Binary format of int8 parameters and results. */
void pg_int8(int64_t value, char out[8]);
int64_t pg_result_int8(const PGresult *result, int row, int column);
int pg_result_int4(const PGresult *result, int row, int column);
/* How many rows an INSERT/UPDATE/DELETE touched. */
long pg_result_changed(PGresult *result);

#endif
