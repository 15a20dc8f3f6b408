/* The database side of the host lease: the lock connection and its
 * timeouts, the lock key, the jarvis_lease table and the query that says
 * who holds the lock (the standby's and `jarvis status`'s). */
#include "instance/host_lease_db.h"

#include "state/dsn_redact.h"
#include "instance/host_lease_holder.h"
#include "base/clock.h"
#include "base/log.h"
#include "state/pg_call.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONNECT_TIMEOUT_MIN_S 2

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS jarvis_lease ("
                                       " bot_id bigint PRIMARY KEY,"
                                       " hostname text NOT NULL,"
                                       " pid integer NOT NULL,"
                                       " backend_pid integer NOT NULL,"
                                       " since timestamptz NOT NULL,"
                                       " renewed_at timestamptz NOT NULL,"
                                       " generation bigint NOT NULL DEFAULT 0)";

/* A table made before the fence had no generation. Asked first, so that
 * the ALTER (and its exclusive table lock) runs once, not at each connect. */
static const char has_generation_sql[] =
    "SELECT 1 FROM pg_attribute WHERE attrelid = 'jarvis_lease'::regclass"
    " AND attname = 'generation' AND NOT attisdropped";
static const char add_generation_sql[] =
    "ALTER TABLE jarvis_lease ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 0";

/* The advisory lock of pg_advisory_lock(bigint) as pg_locks shows it:
 * the key's high half in classid, its low half in objid, objsubid 1. */
#define LOCK_ROW_FILTER                                                                            \
    "l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"                                     \
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"           \
    " AND l.classid = $2::oid AND l.objid = $3::oid"

static const char holder_with_table_sql[] =
    "SELECT l.pid, r.hostname, r.pid, extract(epoch FROM r.since)::bigint,"
    " (extract(epoch FROM now() - r.renewed_at) * 1000)::bigint"
    " FROM pg_locks l LEFT JOIN jarvis_lease r"
    " ON r.bot_id = $1::bigint AND r.backend_pid = l.pid"
    " WHERE " LOCK_ROW_FILTER;

/* The row is checked again here, in the statement that ends the session:
 * a heartbeat that landed since the caller looked saves the holder. */
static const char end_holder_sql[] =
    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l"
    " LEFT JOIN jarvis_lease r ON r.bot_id = $1::bigint AND r.backend_pid = l.pid"
    " WHERE " LOCK_ROW_FILTER " AND l.pid = $4::integer"
    " AND (r.bot_id IS NULL OR r.renewed_at < now() - $5::bigint * interval '1 millisecond')";

static const char holder_without_table_sql[] =
    "SELECT l.pid, $1::bigint FROM pg_locks l WHERE " LOCK_ROW_FILTER;

/* How long a statement on the lock connection waits for the server: half
 * the lease and a second (lease_db_connect sets it; every host of a
 * process has the same lease_s). The server's statement_timeout ends a
 * slow statement; this ends the wait on a server that hangs (pg_call.h). */
static _Atomic int64_t call_timeout_ms = 5000;
/* the last call on this thread had no answer in time: lease_db_problem
 * says so rather than what the closed socket makes libpq say */
static _Thread_local int last_timed_out;

int64_t lease_db_key(const char *token)
{
    if (token == NULL)
        return 0;
    int64_t id = 0;
    size_t digits = 0;
    for (; token[digits] >= '0' && token[digits] <= '9' && digits < 18; digits++)
        id = id * 10 + (token[digits] - '0');
    return digits > 0 && token[digits] == ':' ? id : 0;
}

/* A message of the server's or libpq's as one line with any password in
 * it masked. */
static void safe_first_line(const char *text, char *out, size_t size)
{
    if (text == NULL || text[0] == '\0')
        text = "unknown error";
    char line[512];
    size_t length = strcspn(text, "\r\n");
    if (length >= sizeof line)
        length = sizeof line - 1;
    memcpy(line, text, length);
    line[length] = '\0';
    dsn_redact_message(line, NULL, out, size);
}

void lease_db_problem(PGconn *connection, const PGresult *result, const char *doing, char *problem,
                      size_t problem_size)
{
    const char *message = result != NULL ? PQresultErrorMessage(result) : NULL;
    if ((message == NULL || message[0] == '\0') && connection != NULL)
        message = PQerrorMessage(connection);
    char safe[512];
    if (result == NULL && last_timed_out)
        snprintf(safe, sizeof safe, "no answer within %lld ms", (long long)call_timeout_ms);
    else
        safe_first_line(message, safe, sizeof safe);
    snprintf(problem, problem_size, "%s: %s", doing, safe);
    log_redact(problem, problem_size); /* the password, registered by lease_db_check_dsn */
}

int lease_db_failed_with(const PGresult *result, const char *sqlstate)
{
    const char *state = result != NULL ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    return state != NULL && strcmp(state, sqlstate) == 0;
}

/* The password may also appear alone (a server echoing a URI, say), so it
 * is registered with the log's masking, not only the whole dsn. */
int lease_db_check_dsn(const char *dsn, char *problem, size_t problem_size)
{
    char *error = NULL;
    PQconninfoOption *options = PQconninfoParse(dsn, &error);
    if (options == NULL) {
        int plain_name = strchr(dsn, '=') == NULL && strstr(dsn, "://") == NULL;
        char safe[512];
        dsn_redact_parse_error(error != NULL ? error : "unreadable", safe, sizeof safe);
        snprintf(problem, problem_size, "[state] dsn cannot be read: %s", safe);
        PQfreemem(error);
        return plain_name ? 0 : -1; /* a bare database name is fine */
    }
    for (PQconninfoOption *option = options; option->keyword != NULL; option++)
        if (strcmp(option->keyword, "password") == 0 && option->val != NULL)
            log_add_secret(option->val);
    PQconninfoFree(options);
    return 0;
}

static PGresult *bounded(PGconn *connection, int sent)
{
    int timed_out = 0;
    PGresult *result =
        sent ? pg_call_wait(connection, monotonic_ms() + call_timeout_ms, &timed_out) : NULL;
    last_timed_out = timed_out;
    if (timed_out) {
        /* the session cannot be used any more: broken, so that callers
         * reconnect as after a lost connection */
        shutdown(PQsocket(connection), SHUT_RDWR);
        PQconsumeInput(connection);
    }
    return result;
}

PGresult *lease_db_exec(PGconn *connection, const char *sql, const char *const *parameters)
{
    int count = 0;
    while (parameters != NULL && parameters[count] != NULL && count < 5)
        count++;
    return bounded(connection,
                   PQsendQueryParams(connection, sql, count, NULL, parameters, NULL, NULL, 0));
}

static PGresult *exec_plain(PGconn *connection, const char *sql)
{
    return bounded(connection, PQsendQuery(connection, sql));
}

static int run_command(PGconn *connection, const char *sql, char *problem, size_t problem_size)
{
    PGresult *result = exec_plain(connection, sql);
    int ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    if (!ok)
        lease_db_problem(connection, result, "database", problem, problem_size);
    PQclear(result);
    return ok ? 0 : -1;
}

/* The server ends a statement at statement_timeout; keepalives and
 * tcp_user_timeout end a call whose peer went silent (a partition, a
 * stopped server) well inside the lease, so the renewal and the standby
 * never hang past it. */
/* libpq prints the server's notices on stderr by default; a warning goes
 * to the log instead (as one redacted line), a notice nowhere. */
static void log_server_warning(void *context, const char *message)
{
    (void)context;
    char safe[512];
    safe_first_line(message, safe, sizeof safe);
    log_warn("database lock: the server says: %s", safe);
}

static int set_session_timeouts(PGconn *connection, int lease_s, int64_t lock_wait_ms,
                                char *problem, size_t problem_size)
{
    PQsetNoticeProcessor(connection, log_server_warning, NULL);
    if (run_command(connection, "SET client_min_messages = warning", problem, problem_size) != 0)
        return -1;
    char sql[160];
    snprintf(sql, sizeof sql, "SET statement_timeout = %lld", (long long)lease_s * 1000 / 2);
    if (run_command(connection, sql, problem, problem_size) != 0)
        return -1;
    snprintf(sql, sizeof sql, "SET lock_timeout = %" PRId64, lock_wait_ms);
    return run_command(connection, sql, problem, problem_size);
}

PGconn *lease_db_connect(const char *dsn, int lease_s, int64_t lock_wait_ms, char *problem,
                         size_t problem_size)
{
    if (lease_db_check_dsn(dsn, problem, problem_size) != 0)
        return NULL;
    char connect_timeout[16], idle[16], user_timeout[24];
    int connect_s = lease_s / 2 > CONNECT_TIMEOUT_MIN_S ? lease_s / 2 : CONNECT_TIMEOUT_MIN_S;
    snprintf(connect_timeout, sizeof connect_timeout, "%d", connect_s);
    snprintf(idle, sizeof idle, "%d", lease_s / 3 > 1 ? lease_s / 3 : 1);
    snprintf(user_timeout, sizeof user_timeout, "%lld", (long long)lease_s * 1000 / 2);
    /* a second past statement_timeout: a slow statement ends on the server */
    call_timeout_ms = (int64_t)lease_s * 1000 / 2 + 1000;
    /* dbname first: expanded from the dsn, the keys after it override it */
    const char *const keywords[] = {"dbname",           "connect_timeout",     "keepalives",
                                    "keepalives_idle",  "keepalives_interval", "keepalives_count",
                                    "tcp_user_timeout", "application_name",    NULL};
    const char *const values[] = {dsn, connect_timeout, "1",           idle, "1",
                                  "3", user_timeout,    "jarvis-lock", NULL};
    PGconn *connection = PQconnectdbParams(keywords, values, 1);
    if (connection == NULL) {
        snprintf(problem, problem_size, "database: out of memory");
        return NULL;
    }
    if (PQstatus(connection) != CONNECTION_OK) {
        const char *host = PQhost(connection), *port = PQport(connection);
        char doing[300];
        snprintf(doing, sizeof doing, "cannot connect to the database at %s:%s/%s",
                 host != NULL && host[0] != '\0' ? host : "localhost",
                 port != NULL && port[0] != '\0' ? port : "5432",
                 PQdb(connection) != NULL ? PQdb(connection) : "");
        lease_db_problem(connection, NULL, doing, problem, problem_size);
        PQfinish(connection);
        return NULL;
    }
    PQsetnonblocking(connection, 1); /* the waiting is bounded() */
    if (set_session_timeouts(connection, lease_s, lock_wait_ms, problem, problem_size) != 0) {
        PQfinish(connection);
        return NULL;
    }
    return connection;
}

static int add_generation(PGconn *connection, char *problem, size_t problem_size)
{
    PGresult *result = exec_plain(connection, has_generation_sql);
    int known = PQresultStatus(result) == PGRES_TUPLES_OK;
    int present = known && PQntuples(result) == 1;
    if (!known)
        lease_db_problem(connection, result, "cannot read the table jarvis_lease", problem,
                         problem_size);
    PQclear(result);
    if (!known)
        return -1;
    if (present)
        return 0;
    return run_command(connection, add_generation_sql, problem, problem_size);
}

/* Two first hosts may create it at the same moment: the loser's CREATE
 * fails on the catalog's unique index and is simply repeated. */
int lease_db_ensure_table(PGconn *connection, char *problem, size_t problem_size)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        PGresult *result = exec_plain(connection, create_table_sql);
        int ok = PQresultStatus(result) == PGRES_COMMAND_OK;
        int raced = lease_db_failed_with(result, "23505") || lease_db_failed_with(result, "42P07");
        if (!ok)
            lease_db_problem(connection, result, "cannot create the table jarvis_lease", problem,
                             problem_size);
        PQclear(result);
        if (ok)
            return add_generation(connection, problem, problem_size);
        if (!raced)
            return -1;
    }
    return -1;
}

static void copy_text(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text != NULL ? text : "");
}

/* key's text and the two halves pg_locks shows it as */
struct key_texts {
    char key[24], high[16], low[16];
};

static void format_key(int64_t key, struct key_texts *texts)
{
    snprintf(texts->key, sizeof texts->key, "%" PRId64, key);
    snprintf(texts->high, sizeof texts->high, "%" PRIu32, (uint32_t)((uint64_t)key >> 32));
    snprintf(texts->low, sizeof texts->low, "%" PRIu32, (uint32_t)((uint64_t)key & 0xffffffffu));
}

int lease_db_end_holder(PGconn *connection, int64_t key, int backend_pid, int64_t lease_ms,
                        char *problem, size_t problem_size)
{
    struct key_texts texts;
    format_key(key, &texts);
    char pid[16], lease[24];
    snprintf(pid, sizeof pid, "%d", backend_pid);
    snprintf(lease, sizeof lease, "%" PRId64, lease_ms);
    const char *const parameters[] = {texts.key, texts.high, texts.low, pid, lease, NULL};
    PGresult *result = lease_db_exec(connection, end_holder_sql, parameters);
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        lease_db_problem(connection, result, "cannot end the stale holder's session", problem,
                         problem_size);
        PQclear(result);
        return -1;
    }
    int ended = PQntuples(result) > 0 && strcmp(PQgetvalue(result, 0, 0), "t") == 0;
    PQclear(result);
    return ended;
}

int lease_db_holder(PGconn *connection, int64_t key, int with_table,
                    struct host_lease_holder *holder, char *problem, size_t problem_size)
{
    memset(holder, 0, sizeof *holder);
    struct key_texts texts;
    format_key(key, &texts);
    const char *const parameters[] = {texts.key, texts.high, texts.low, NULL};
    PGresult *result = lease_db_exec(
        connection, with_table ? holder_with_table_sql : holder_without_table_sql, parameters);
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        lease_db_problem(connection, result, "cannot read who holds the lock", problem,
                         problem_size);
        PQclear(result);
        return -1;
    }
    int held = PQntuples(result) > 0;
    if (held) {
        holder->backend_pid = atoi(PQgetvalue(result, 0, 0));
        if (with_table && !PQgetisnull(result, 0, 1)) {
            holder->named = 1;
            copy_text(holder->hostname, sizeof holder->hostname, PQgetvalue(result, 0, 1));
            holder->pid = atol(PQgetvalue(result, 0, 2));
            holder->since_s = strtoll(PQgetvalue(result, 0, 3), NULL, 10);
            holder->renewed_age_ms = strtoll(PQgetvalue(result, 0, 4), NULL, 10);
        }
    }
    PQclear(result);
    return held;
}
