/* Bounded waits on a libpq connection. A hung PostgreSQL (its processes
 * stopped, a server that accepts and never answers) still has its kernel
 * acknowledge every byte, so TCP keepalives and tcp_user_timeout never
 * fire, and statement_timeout is the server's own: only a deadline kept by
 * the client ends the wait. Callers send with libpq's asynchronous calls
 * (PQsendQuery, PQsendQueryParams, PQsendQueryPrepared) and wait here. */
#ifndef JARVIS_PG_CALL_H
#define JARVIS_PG_CALL_H

#include <libpq-fe.h>
#include <stdint.h>

/* Puts connection in nonblocking mode (so that sending never waits for
 * the socket) and waits for every result of what was sent, until
 * deadline_ms (monotonic): the first failed result, else the last one.
 * NULL when the deadline passed (*timed_out 1) or the connection broke
 * (*timed_out 0, PQerrorMessage says why). After a timeout the
 * connection is in an unknown state: the caller drops or resets it. */
PGresult *pg_call_wait(PGconn *connection, int64_t deadline_ms, int *timed_out);

#endif
