/* What host_lease.c and host_lease_status.c share: the lock's own libpq
 * connection (keepalives and timeouts so that no call hangs past the
 * lease), the bot's lock key, and the lease table and its queries. */
#ifndef JARVIS_HOST_LEASE_DB_H
#define JARVIS_HOST_LEASE_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct host_lease_holder;

/* 0 when libpq can read dsn (its password then masked in every log
 * line), -1 with one line in problem (no part of the dsn in it). */
int lease_db_check_dsn(const char *dsn, char *problem, size_t problem_size);
/* Connects to dsn with TCP keepalives, tcp_user_timeout, connect_timeout
 * and statement_timeout derived from lease_s, and lock_timeout
 * lock_wait_ms (0: none). NULL with one line in problem (the dsn's
 * password registered as a log secret first, never in problem). */
PGconn *lease_db_connect(const char *dsn, int lease_s, int64_t lock_wait_ms, char *problem,
                         size_t problem_size);
/* The advisory lock key: the bot's id, the token's numeric prefix (never
 * its secret part); 0 without a token (console mode). */
int64_t lease_db_key(const char *token);
/* "doing: <first line of the server's or libpq's message>". */
void lease_db_problem(PGconn *connection, const PGresult *result, const char *doing, char *problem,
                      size_t problem_size);
/* 1 when the result failed with this SQLSTATE. */
int lease_db_failed_with(const PGresult *result, const char *sqlstate);
/* CREATE TABLE IF NOT EXISTS jarvis_lease; 0 or -1 with problem. */
int lease_db_ensure_table(PGconn *connection, char *problem, size_t problem_size);
/* Who holds key's lock and what the lease row says of it: 1 held, 0 free,
 * -1 with problem. with_table 0: the table is not read (it may not exist). */
int lease_db_holder(PGconn *connection, int64_t key, int with_table,
                    struct host_lease_holder *holder, char *problem, size_t problem_size);
/* Ends backend_pid's session if it still holds key's lock and its lease
 * row is older than lease_ms (or no row names it): 1 ended, 0 not (it
 * renewed meanwhile, or let go), -1 with problem. */
int lease_db_end_holder(PGconn *connection, int64_t key, int backend_pid, int64_t lease_ms,
                        char *problem, size_t problem_size);
/* A statement with up to 5 text parameters (NULL-terminated array). */
PGresult *lease_db_exec(PGconn *connection, const char *sql, const char *const *parameters);

#endif
