/* The postgres backend's connection. Every wait is bounded: connect_timeout
 * for connecting, TCP keepalives and tcp_user_timeout for a peer that
 * vanished, statement_timeout for a statement the server cannot finish,
 * and the call deadline (pg_call.h) for a server that hangs while its
 * kernel still acknowledges: statements are sent with libpq's
 * asynchronous calls and waited for on the socket. */
#include "state/store_postgres_connection.h"

#include "base/clock.h"
#include "state/dsn_redact.h"
#include "base/log.h"
#include "state/pg_call.h"
#include "state/store_postgres_schema.h"

#include <endian.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECONNECT_INITIAL_MS 500
#define RECONNECT_MAX_MS 10000
#define STATEMENT_TIMEOUT_MS 15000
#define CALL_TIMEOUT_DEFAULT_MS 20000
#define CONNECT_TIMEOUT_MIN_S 2
#define CONNECT_TIMEOUT_MAX_S 5

/* Before the DSN, so that what the DSN says wins (a DBA may tune them).
 * Dead peers are noticed within keepalives_idle + interval * count (16 s)
 * and unacknowledged writes within tcp_user_timeout. */
static const char *const DEFAULT_KEYWORDS[] = {
    "connect_timeout",     "keepalives",       "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "application_name",    "dbname",           NULL};
static const char *const DEFAULT_VALUES[] = {NULL /* from the call deadline */,
                                             "1",
                                             "10",
                                             "2",
                                             "3",
                                             "15000",
                                             "jarvis",
                                             NULL /* the DSN */,
                                             NULL};

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

static int64_t call_deadline(const struct pg_store *store)
{
    return monotonic_ms() + store->call_timeout_ms;
}

/* Plain SQL within the call deadline: its result, or NULL (timed out or
 * broken; *timed_out says which). */
static PGresult *exec_bounded(struct pg_store *store, const char *sql, int *timed_out)
{
    *timed_out = 0;
    if (!PQsendQuery(store->connection, sql))
        return NULL;
    return pg_call_wait(store->connection, call_deadline(store), timed_out);
}

static int exec_ok(struct pg_store *store, const char *sql)
{
    int timed_out;
    PGresult *result = exec_bounded(store, sql, &timed_out);
    ExecStatusType status = PQresultStatus(result);
    PQclear(result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

/* What a synced commit asks for: the server's own level, at least "on"
 * (a server configured for remote_apply keeps it). */
static void read_synced_level(struct pg_store *store)
{
    int timed_out;
    PGresult *result = exec_bounded(store, "SHOW synchronous_commit", &timed_out);
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
    char settings[200];
    /* the server ends a slow statement before the call deadline gives up
     * on the server */
    int64_t statement_ms = store->call_timeout_ms * 3 / 4;
    if (statement_ms > STATEMENT_TIMEOUT_MS)
        statement_ms = STATEMENT_TIMEOUT_MS;
    snprintf(settings, sizeof settings,
             "SET statement_timeout = %lld; SET idle_in_transaction_session_timeout = %d;"
             " SET synchronous_commit = off",
             (long long)statement_ms, 4 * STATEMENT_TIMEOUT_MS);
    if (!exec_ok(store, settings))
        goto failed;
    for (int i = 0; i < PG_STATEMENT_COUNT; i++) {
        const struct pg_statement_text *text = &pg_statement_texts[i];
        int timed_out = 0;
        PGresult *result =
            PQsendPrepare(store->connection, text->name, text->sql, text->parameters, NULL)
                ? pg_call_wait(store->connection, call_deadline(store), &timed_out)
                : NULL;
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

struct pg_store *pg_store_connect(const char *dsn, int64_t call_timeout_ms, char *error,
                                  size_t error_size)
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
    store->call_timeout_ms = call_timeout_ms > 0 ? call_timeout_ms : CALL_TIMEOUT_DEFAULT_MS;
    backoff_init(&store->backoff, RECONNECT_INITIAL_MS, RECONNECT_MAX_MS);
    const char *values[sizeof DEFAULT_VALUES / sizeof DEFAULT_VALUES[0]];
    memcpy(values, DEFAULT_VALUES, sizeof values);
    /* connecting (PQreset too) blocks: connect_timeout bounds it by the
     * call deadline, 2 to 5 s */
    char connect_timeout[24];
    int64_t connect_s = store->call_timeout_ms / 1000;
    if (connect_s < CONNECT_TIMEOUT_MIN_S)
        connect_s = CONNECT_TIMEOUT_MIN_S;
    if (connect_s > CONNECT_TIMEOUT_MAX_S)
        connect_s = CONNECT_TIMEOUT_MAX_S;
    snprintf(connect_timeout, sizeof connect_timeout, "%lld", (long long)connect_s);
    values[0] = connect_timeout;
    values[7] = dsn;
    store->connection = PQconnectdbParams(DEFAULT_KEYWORDS, values, 1);
    if (store->connection == NULL) {
        snprintf(error, error_size, "store: out of memory");
        pg_store_close(store);
        return NULL;
    }
    /* sending never waits for the socket: pg_call_wait does the waiting */
    PQsetnonblocking(store->connection, 1);
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
    if (pg_schema_migrate(store->connection, store->call_timeout_ms, &from, reason,
                          sizeof reason) != 0) {
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
    if (atomic_load(&store->fenced))
        return 0; /* for good: a newer holder's database, not ours to write */
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

/* The fence check of a pipeline commit failed (the division by the
 * count of rows naming our generation is by zero): a newer holder's. */
static int fence_refused(const PGresult *result)
{
    const char *state = result != NULL ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    return state != NULL && strcmp(state, "22012") == 0;
}

static void report_failure(struct pg_store *store, const PGresult *result, int timed_out,
                           const char *what)
{
    char reason[512];
    const char *message = result != NULL ? PQresultErrorMessage(result) : "";
    if (message == NULL || message[0] == '\0')
        message = PQerrorMessage(store->connection);
    if (timed_out)
        snprintf(reason, sizeof reason, "no answer within %lld ms",
                 (long long)store->call_timeout_ms);
    else
        dsn_redact_message(message, store->password, reason, sizeof reason);
    if (store->in_transaction)
        store->transaction_failed = 1;
    if (timed_out) {
        /* the answer may still come: the session is of no more use */
        went_down(store, reason);
    } else if (connection_failed(store, result)) {
        went_down(store, reason);
    } else {
        log_error("store: PostgreSQL at %s: %s: %s", store->place, what, reason);
    }
}

/* Once: every call is refused from now on (pg_store_ready). */
static void note_fenced(struct pg_store *store)
{
    if (atomic_exchange(&store->fenced, 1) == 0)
        log_error("store: PostgreSQL at %s: a commit was refused: the lease row names a "
                  "newer holder (generation past %lld), so this host's writes of the "
                  "pipeline's state end here",
                  store->place, (long long)store->fence_generation);
    if (store->in_transaction)
        store->transaction_failed = 1;
}

PGresult *pg_store_run_fenced(struct pg_store *store, const char *sql, int count,
                              const char *const *values, const int *lengths, const char *what)
{
    if (!pg_store_ready(store))
        return NULL;
    int formats[8];
    for (int i = 0; i < count && i < 8; i++)
        formats[i] = 1;
    int timed_out = 0;
    PGresult *result = NULL;
    if (PQsendQueryParams(store->connection, sql, count, NULL, values, lengths, formats, 1))
        result = pg_call_wait(store->connection, call_deadline(store), &timed_out);
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return result;
    if (fence_refused(result))
        note_fenced(store);
    else
        report_failure(store, result, timed_out, what);
    PQclear(result);
    return NULL;
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
    int timed_out = 0;
    PGresult *result = NULL;
    if (PQsendQueryPrepared(store->connection, text->name, text->parameters, values, lengths,
                            formats, 1))
        result = pg_call_wait(store->connection, call_deadline(store), &timed_out);
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return result;
    report_failure(store, result, timed_out, what);
    PQclear(result);
    return NULL;
}

int pg_store_exec(struct pg_store *store, const char *sql, const char *what)
{
    if (!pg_store_ready(store))
        return -1;
    int timed_out;
    PGresult *result = exec_bounded(store, sql, &timed_out);
    ExecStatusType status = PQresultStatus(result);
    int ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!ok && fence_refused(result)) {
        note_fenced(store);
    } else if (!ok) {
        report_failure(store, result, timed_out, what);
    }
    PQclear(result);
    return ok ? 0 : -1;
}

int pg_store_commit_fenced(struct pg_store *store)
{
    /* One message, so the server runs the check and the COMMIT back to
     * back: the row lock the check takes (FOR SHARE) is held only inside
     * the server, never while this process might be stopped. A new
     * holder's claim of the row waits for it; a claim that came first
     * leaves no row with our generation, the division fails and the
     * transaction with it. */
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT 1 / count(*) FROM (SELECT 1 FROM jarvis_lease WHERE bot_id = %lld"
             " AND generation = %lld FOR SHARE) AS tenure; COMMIT",
             (long long)store->fence_key, (long long)store->fence_generation);
    if (pg_store_exec(store, sql, "commit") == 0)
        return 0;
    /* the check failed before the COMMIT ran: the transaction is still open */
    PGTransactionStatusType open = PQtransactionStatus(store->connection);
    if (!store->down && (open == PQTRANS_INERROR || open == PQTRANS_INTRANS)) {
        int timed_out;
        PQclear(exec_bounded(store, "ROLLBACK", &timed_out));
    }
    return -1;
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
