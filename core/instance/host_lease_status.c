/* host_lease_query for `jarvis status`: who holds the database lock, read
 * on a short connection of its own that takes nothing and creates nothing. */
#include "instance/host_lease_status.h"

#include "config/config.h"
#include "instance/host_lease_db.h"

#include <stdio.h>
#include <string.h>

/* status asks once; it waits at most this long for a lock row */
#define STATUS_LEASE_S 4

static int lease_table_exists(PGconn *connection, char *problem, size_t problem_size)
{
    PGresult *result = PQexec(connection, "SELECT to_regclass('jarvis_lease') IS NOT NULL");
    int answer = -1;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1)
        answer = strcmp(PQgetvalue(result, 0, 0), "t") == 0;
    else
        lease_db_problem(connection, result, "cannot read the schema", problem, problem_size);
    PQclear(result);
    return answer;
}

int host_lease_query(const struct config *config, struct host_lease_holder *holder, char *problem,
                     size_t problem_size)
{
    memset(holder, 0, sizeof *holder);
    if (config->state_dsn == NULL || config->state_dsn[0] == '\0') {
        snprintf(problem, problem_size, "[state] dsn is empty");
        return -1;
    }
    PGconn *connection =
        lease_db_connect(config->state_dsn, STATUS_LEASE_S, 0, problem, problem_size);
    if (connection == NULL)
        return -1;
    int with_table = lease_table_exists(connection, problem, problem_size);
    int held = with_table < 0 ? -1
                              : lease_db_holder(connection, lease_db_key(config->token), with_table,
                                                holder, problem, problem_size);
    PQfinish(connection);
    return held;
}
