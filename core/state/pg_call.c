/* pg_call.h: flush what was sent, then poll the socket for the answer
 * with the time left, never past the deadline. */
#include "state/pg_call.h"

#include "base/clock.h"

#include <errno.h>
#include <poll.h>

/* 1 readable or writable as asked, 0 the deadline passed, -1 broken. */
static int wait_socket(PGconn *connection, short events, int64_t deadline_ms)
{
    int socket = PQsocket(connection);
    if (socket < 0)
        return -1;
    for (;;) {
        int64_t left = deadline_ms - monotonic_ms();
        if (left <= 0)
            return 0;
        struct pollfd descriptor = {.fd = socket, .events = events};
        int ready = poll(&descriptor, 1, (int)left);
        if (ready > 0)
            return 1;
        if (ready < 0 && errno != EINTR)
            return -1;
    }
}

PGresult *pg_call_wait(PGconn *connection, int64_t deadline_ms, int *timed_out)
{
    *timed_out = 0;
    if (PQisnonblocking(connection) == 0)
        PQsetnonblocking(connection, 1);
    int flushing;
    while ((flushing = PQflush(connection)) == 1) {
        int ready = wait_socket(connection, POLLOUT | POLLIN, deadline_ms);
        if (ready <= 0) {
            *timed_out = ready == 0;
            return NULL;
        }
        if (!PQconsumeInput(connection))
            return NULL;
    }
    if (flushing < 0)
        return NULL;
    PGresult *kept = NULL;
    for (;;) {
        while (PQisBusy(connection)) {
            int ready = wait_socket(connection, POLLIN, deadline_ms);
            if (ready <= 0 || !PQconsumeInput(connection)) {
                *timed_out = ready == 0;
                PQclear(kept);
                return NULL;
            }
        }
        PGresult *result = PQgetResult(connection);
        if (result == NULL)
            return kept;
        if (kept != NULL && PQresultStatus(kept) == PGRES_FATAL_ERROR) {
            PQclear(result); /* the first failure is the one that explains */
            continue;
        }
        PQclear(kept);
        kept = result;
        if (PQstatus(connection) == CONNECTION_BAD && PQresultStatus(kept) == PGRES_FATAL_ERROR) {
            /* no more results come from a broken connection */
            return kept;
        }
    }
}
