/* The postgres backend's connection. libpq blocks, so every wait is
 * bounded: connect_timeout for connecting, TCP keepalives and
 * tcp_user_timeout for a peer that vanished, statement_timeout for a
 * statement the server cannot finish. */
#include "state/store_postgres_connection.h"

#include "base/clock.h"
#include "state/dsn_redact.h"
#include "base/log.h"
#include "state/store_postgres_schema.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECONNECT_INITIAL_MS 500
#define RECONNECT_MAX_MS 10000
#define STATEMENT_TIMEOUT_MS 15000

/* Before the DSN, so that what the DSN says wins (a DBA may tune them).
 * Dead peers are noticed within keepalives_idle + interval * count (16 s)
 * and unacknowledged writes within tcp_user_timeout. */
static const char *const DEFAULT_KEYWORDS[] = {
    "connect_timeout",     "keepalives",       "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "application_name",    "dbname",           NULL};
static const char *const DEFAULT_VALUES[] = {
    "5", "1", "10", "2", "3", "15000", "jarvis", NULL /* the DSN */, NULL};

static char *dsn_password(const char *dsn, char *error, size_t error_size, int *parsed)
{
    char *message = NULL;
    PQconninfoOption *options = PQconninfoParse(dsn, &message);
    *parsed = options != NULL;
    if (options == NULL) {
        char safe[256];
        dsn_redact_parse_error(message != NULL ? message : "out of memory", safe, sizeof safe);
        snprintf(error, error_size, "[state] dsn is not a libpq connection string or URI: %s",
                 safe);
        PQfreemem(message);
        return NULL;
    }
    char *password = NULL;
    for (PQconninfoOption *option = options; option->keyword != NULL; option++)
        if (strcmp(option->keyword, "password") == 0 && option->val != NULL &&
            option->val[0] != '\0')
            password = strdup(option->val);
    PQconninfoFree(options);
    return password;
}

static void describe_place(struct pg_store *store)
{
    const char *host = PQhost(store->connection);
    const char *port = PQport(store->connection);
    const char *database = PQdb(store->connection);
    snprintf(store->place, sizeof store->place, "%s:%s/%s", host && host[0] ? host : "localhost",
             port && port[0] ? port : "5432", database ? database : "");
}

/* The connection's last error as one safe line. */
static void last_error(struct pg_store *store, char *out, size_t size)
{
    dsn_redact_message(PQerrorMessage(store->connection), store->password, out, size);
}

static int exec_ok(PGconn *connection, const char *sql)
{
    PGresult *result = PQexec(connection, sql);
    ExecStatusType status = PQresultStatus(result);
    PQclear(result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

/* What a synced commit asks for: the server's own level, at least "on"
 * (a server configured for remote_apply keeps it). */
static void read_synced_level(struct pg_store *store)
{
    PGresult *result = PQexec(store->connection, "SHOW synchronous_commit");
    const char *level = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1
                            ? PQgetvalue(result, 0, 0)
                            : "on";
    if (strcmp(level, "off") == 0 || strcmp(level, "local") == 0)
        level = "on";
    snprintf(store->synced_level, sizeof store->synced_level, "%s", level);
    PQclear(result);
}

/* Per session: the timeouts, unsynced commits by default (like SQLite's
 * synchronous=NORMAL: see docs/postgres.md), the prepared statements. */
static int set_up_session(struct pg_store *store, char *error, size_t error_size)
{
    read_synced_level(store);
    char settings[160];
    snprintf(settings, sizeof settings,
             "SET statement_timeout = %d; SET idle_in_transaction_session_timeout = %d;"
             " SET synchronous_commit = off",
             STATEMENT_TIMEOUT_MS, 4 * STATEMENT_TIMEOUT_MS);
    if (!exec_ok(store->connection, settings))
        goto failed;
    for (int i = 0; i < PG_STATEMENT_COUNT; i++) {
        const struct pg_statement_text *text = &pg_statement_texts[i];
        PGresult *result =
            PQprepare(store->connection, text->name, text->sql, text->parameters, NULL);
        int ok = PQresultStatus(result) == PGRES_COMMAND_OK;
        PQclear(result);
        if (!ok)
            goto failed;
    }
    return 0;
failed : {
    char reason[512];
    last_error(store, reason, sizeof reason);
    snprintf(error, error_size, "PostgreSQL at %s: cannot set up the session: %s", store->place,
             reason);
    return -1;
}
}

static void ignore_notice(void *context, const char *message)
{
    (void)context;
    (void)message;
}

struct pg_store *pg_store_connect(const char *dsn, char *error, size_t error_size)
{
    int parsed = 0;
    char *password = dsn_password(dsn, error, error_size, &parsed);
    if (!parsed)
        return NULL;
    log_add_secret(password);
    struct pg_store *store = calloc(1, sizeof *store);
    if (store == NULL) {
        free(password);
        snprintf(error, error_size, "store: out of memory");
        return NULL;
    }
    store->password = password;
    backoff_init(&store->backoff, RECONNECT_INITIAL_MS, RECONNECT_MAX_MS);
    const char *values[sizeof DEFAULT_VALUES / sizeof DEFAULT_VALUES[0]];
    memcpy(values, DEFAULT_VALUES, sizeof values);
    values[7] = dsn;
    store->connection = PQconnectdbParams(DEFAULT_KEYWORDS, values, 1);
    if (store->connection == NULL) {
        snprintf(error, error_size, "store: out of memory");
        pg_store_close(store);
        return NULL;
    }
    /* NOTICEs (CREATE TABLE IF NOT EXISTS ... skipping) are not for stderr */
    PQsetNoticeProcessor(store->connection, ignore_notice, NULL);
    describe_place(store);
    char reason[512];
    if (PQstatus(store->connection) != CONNECTION_OK) {
        last_error(store, reason, sizeof reason);
        snprintf(error, error_size, "cannot connect to PostgreSQL at %s: %s", store->place, reason);
        pg_store_close(store);
        return NULL;
    }
    int from = -1;
    if (pg_schema_migrate(store->connection, &from, reason, sizeof reason) != 0) {
        char safe[512];
        dsn_redact_message(reason, store->password, safe, sizeof safe);
        snprintf(error, error_size, "PostgreSQL at %s: %s", store->place, safe);
        pg_store_close(store);
        return NULL;
    }
    if (from != PG_SCHEMA_VERSION)
        log_info("store: PostgreSQL at %s: schema %s version %d", store->place,
                 from == 0 ? "created at" : "migrated to", PG_SCHEMA_VERSION);
    if (set_up_session(store, error, error_size) != 0) {
        pg_store_close(store);
        return NULL;
    }
    return store;
}

void pg_store_close(struct pg_store *store)
{
    if (store == NULL)
        return;
    PQfinish(store->connection);
    free(store->password);
    free(store);
}

/* The server ended the session or cannot be reached: class 08 (connection
 * exception) and 57P (shutdown, crash, starting up) mean that. */
static int connection_failed(struct pg_store *store, const PGresult *result)
{
    if (PQstatus(store->connection) == CONNECTION_BAD)
        return 1;
    const char *state = result != NULL ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    return state != NULL && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0);
}

static void schedule_attempt(struct pg_store *store)
{
    store->next_attempt_ms = monotonic_ms() + backoff_next_delay(&store->backoff);
}

static void went_down(struct pg_store *store, const char *reason)
{
    store->transaction_broken = store->in_transaction;
    if (store->down)
        return;
    store->down = 1;
    store->down_since_ms = monotonic_ms();
    backoff_reset(&store->backoff);
    schedule_attempt(store);
    log_error("store: PostgreSQL at %s is unreachable (%s); polling and sending wait until it "
              "is back, reconnecting with backoff",
              store->place, reason);
}

int pg_store_ready(struct pg_store *store)
{
    if (!store->down)
        return 1;
    if (store->transaction_broken || monotonic_ms() < store->next_attempt_ms)
        return 0;
    PQreset(store->connection);
    char ignored[512];
    if (PQstatus(store->connection) != CONNECTION_OK ||
        set_up_session(store, ignored, sizeof ignored) != 0) {
        schedule_attempt(store);
        return 0;
    }
    store->down = 0;
    log_info("store: PostgreSQL at %s is back after %.1f s", store->place,
             (double)(monotonic_ms() - store->down_since_ms) / 1000.0);
    return 1;
}

static void report_failure(struct pg_store *store, const PGresult *result, const char *what)
{
    char reason[512];
    const char *message = result != NULL ? PQresultErrorMessage(result) : "";
    if (message == NULL || message[0] == '\0')
        message = PQerrorMessage(store->connection);
    dsn_redact_message(message, store->password, reason, sizeof reason);
    if (store->in_transaction)
        store->transaction_failed = 1;
    if (connection_failed(store, result))
        went_down(store, reason);
    else
        log_error("store: PostgreSQL at %s: %s: %s", store->place, what, reason);
}

PGresult *pg_store_run(struct pg_store *store, enum pg_statement statement,
                       const char *const *values, const int *lengths, const char *what)
{
    if (!pg_store_ready(store) || (store->in_transaction && store->transaction_broken)) {
        if (store->in_transaction)
            store->transaction_failed = 1;
        return NULL;
    }
    const struct pg_statement_text *text = &pg_statement_texts[statement];
    int formats[16];
    for (int i = 0; i < text->parameters; i++)
        formats[i] = 1;
    PGresult *result = PQexecPrepared(store->connection, text->name, text->parameters, values,
                                      lengths, formats, 1);
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return result;
    report_failure(store, result, what);
    PQclear(result);
    return NULL;
}

int pg_store_exec(struct pg_store *store, const char *sql, const char *what)
{
    if (!pg_store_ready(store))
        return -1;
    PGresult *result = PQexec(store->connection, sql);
    ExecStatusType status = PQresultStatus(result);
    int ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok)
        report_failure(store, result, what);
    PQclear(result);
    return ok ? 0 : -1;
}

void pg_int8(int64_t value, char out[8])
{
    uint64_t big = htobe64((uint64_t)value);
    memcpy(out, &big, sizeof big);
}

int64_t pg_result_int8(const PGresult *result, int row, int column)
{
    uint64_t big = 0;
    if (PQgetlength(result, row, column) == (int)sizeof big)
        memcpy(&big, PQgetvalue(result, row, column), sizeof big);
    return (int64_t)be64toh(big);
}

int pg_result_int4(const PGresult *result, int row, int column)
{
    uint32_t big = 0;
    if (PQgetlength(result, row, column) == (int)sizeof big)
        memcpy(&big, PQgetvalue(result, row, column), sizeof big);
    return (int)be32toh(big);
}

long pg_result_changed(PGresult *result)
{
    return strtol(PQcmdTuples(result), NULL, 10);
}
